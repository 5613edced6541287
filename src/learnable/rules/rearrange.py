"""einops's Rearrange: axes named in a pattern, split, merged and moved.

``Rearrange('b c (h p1) (w p2) -> b (h w) (p1 p2 c)', p1=16, p2=16)`` on a (3, 224, 224)
image cuts it into 16×16 patches: (196, 768). No parameters, no multiply-accumulates. The
pattern's first axis is the batch's and must stay first (shapes here are one example's); a
group on the left is split by the sizes given (at most one of its axes unknown, worked out
by division), a group on the right is the product of its axes, ``1`` is an axis of size 1
and ``...`` stands for the axes between. Sizes are ``sizes`` (the keyword arguments the
layer is made with). As einops.layers.torch.Rearrange and einops.layers.keras.Rearrange.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from math import prod
from typing import Any

from ..errors import ArgumentError, RuleError
from ..expr import Expr, num, product, quotient
from ._args import Arg
from ._base import NO_MACS, Context, Inference, Rule, Shape, ShapeNote
from ._registry import register

_TOKEN = re.compile(r"\(|\)|\.\.\.|[A-Za-z_]\w*|\d+")
Group = tuple[str, ...]  # the axes of one position: ("h", "p1"), ("c",), ("1",), ("...",)


def _pattern(value: Any) -> tuple[list[Group], list[Group]]:
    if not isinstance(value, str) or value.count("->") != 1:
        raise ArgumentError(None, f"must be a pattern such as 'b c h w -> b (c h w)', got {value!r}")
    left, right = (_groups(side.strip()) for side in value.split("->"))
    for side in (left, right):
        names = [a for g in side for a in g if not a.isdigit()]
        if len(names) != len(set(names)):
            raise ArgumentError(None, f"names an axis twice in {value!r}")
    return left, right


def _groups(text: str) -> list[Group]:
    if not re.fullmatch(r"[\w\s().]*", text):
        raise ArgumentError(None, f"has a character einops does not take in {text!r}")
    groups, current = [], None
    for token in _TOKEN.findall(text):
        if token == "(":
            if current is not None:
                raise ArgumentError(None, f"nests parentheses in {text!r}")
            current = []
        elif token == ")":
            if current is None:
                raise ArgumentError(None, f"closes a parenthesis never opened in {text!r}")
            groups.append(tuple(current) or ("1",))
            current = None
        elif current is not None:
            current.append(token)
        else:
            groups.append((token,))
    if current is not None:
        raise ArgumentError(None, f"leaves a parenthesis open in {text!r}")
    return groups


def _sizes(value: Any) -> dict[str, int]:
    if value is None:
        return {}
    if not isinstance(value, Mapping) or not all(isinstance(v, int) and not isinstance(v, bool) and v > 0
                                                  for v in value.values()):
        raise ArgumentError(None, f"must map axis names to positive sizes, e.g. {{'p1': 16}}, got {value!r}")
    return dict(value)


def _rearrange(a: Mapping[str, Any], shapes: Sequence[Shape], ctx: Context) -> Inference:
    left, right = a["pattern"]
    sizes: dict[str, Any] = {k: num(v, k) for k, v in a["sizes"].items()}
    full = ("batch", *shapes[0])
    count = len(full) - (len(left) - 1)  # the axes "..." stands for, on both sides
    left, right = _expand(left, count, "input"), _expand(right, count, "output")
    if len(left) != len(full):
        raise RuleError(f"its pattern's left side has {len(left)} axes, its input {len(full)} (batch included)")
    if left[0] != right[0] or len(left[0]) != 1 or left[0][0].isdigit():
        raise RuleError("the pattern's first axis is the batch's: it must be one name, first on both sides")
    for group, size in zip(left[1:], full[1:]):
        _solve(group, size, sizes)
    missing = [a for g in right[1:] for a in g if not a.isdigit() and a not in sizes]
    if missing:
        raise RuleError(f"the axis {missing[0]!r} of its output is not on its input, and no size was given for it")
    dims = [_size(group, sizes) for group in right[1:]]
    notes = tuple(ShapeNote(f"({' '.join(g)})", d) for g, d in zip(right[1:], dims) if len(g) > 1 and d is not None)
    return Inference(tuple(None if d is None else d.value for d in dims), shape_notes=notes, macs=NO_MACS)


def _expand(groups: list[Group], count: int, side: str) -> list[Group]:
    """``...`` as the ``count`` axes it stands for, named ``...0``, ``...1``."""
    if ("...",) not in groups:
        return groups
    at = groups.index(("...",))
    if count < 0:
        raise RuleError(f"its pattern has more axes on the {side} side than the tensor has")
    return [*groups[:at], *((f"...{i}",) for i in range(count)), *groups[at + 1:]]


def _solve(group: Group, size: int | None, sizes: dict[str, Any]) -> None:
    """The sizes of a group's axes, from the input's size: one unknown by division."""
    unknown = [a for a in group if not a.isdigit() and a not in sizes]
    if len(unknown) > 1:
        raise RuleError(f"cannot split an axis into ({' '.join(group)}): give the size of all but one of them")
    known = [num(int(a)) if a.isdigit() else sizes[a] for a in group if a not in unknown]
    if size is None:
        if unknown:
            sizes[unknown[0]] = None
        return
    if not unknown:
        whole = prod(k.value for k in known) if known else 1
        if whole != size:
            raise RuleError(f"the axis ({' '.join(group)}) is {whole} by the sizes given, but {size} on the input")
        return
    rest = prod(k.value for k in known) if known else 1
    if size % rest:
        raise RuleError(f"cannot split an axis of {size} into ({' '.join(group)}): {size} is not a multiple of {rest}")
    sizes[unknown[0]] = quotient(num(size, "n"), product(*known)) if known else num(size, unknown[0])


def _size(group: Group, sizes: dict[str, Any]) -> Expr | None:
    parts = [num(int(a)) if a.isdigit() else sizes[a] for a in group]
    if any(p is None for p in parts):
        return None
    return parts[0] if len(parts) == 1 else product(*parts)


register(Rule(
    name="Rearrange", family="structure", infer=_rearrange,
    args=(Arg("pattern", _pattern), Arg("sizes", _sizes, None)),
    doc="einops Rearrange(pattern, **sizes): no parameters; splits, merges and moves named axes (the first "
        "is the batch's, and stays first).",
))
