"""One claimed quantity against what learnable computed: the verdict and the rule behind it.

Parameters are compared at the precision printed (:mod:`.quantities`). Compute claims are
compared in every convention a table may mean, and the verdict says which one it matches:
multiply-adds of convolutions and fully connected layers, as papers count them (He et al.
2016's "FLOPs", MobileNet's "mult-adds"); MACs of every layer; the convolutions' alone (a
figure that leaves the classifier out); and, under a FLOPs header, twice the first two (a multiply and an add counted apart). An output size agrees in either
data format, with or without its batch axis, or as its spatial size alone (papers print
``56×56``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from .._text import shape_text
from ..report import LayerRow
from ..rules._kinds import CONVOLUTION
from .quantities import Claimed, unit_hint


def check_count(claimed: Claimed, computed: int, layer: LayerRow | None = None) -> tuple[bool, str]:
    ok, rule = claimed.agrees(computed)
    if ok:
        return True, rule
    if claimed.step is None:
        hint = _dropped_weight(claimed.exact, layer) or unit_hint(claimed.exact or 0, computed)
        return False, difference(claimed.exact or 0, computed) + hint
    return False, f"claimed {claimed.written}; {rule}"


def difference(claimed: int, computed: int) -> str:
    gap = abs(computed - claimed)
    side = "short of" if claimed < computed else "more than"
    return f"claimed {claimed:,}, {gap:,} {side} the computed {computed:,}"


def _dropped_weight(claimed: int | None, layer: LayerRow | None) -> str:
    """The commonest slip in a published table: one tensor (usually the bias) left out."""
    for weight in layer.weights if layer is not None else ():
        if not weight.buffer and layer.params - weight.size == claimed:
            return f" (the count without its {weight.name}, {weight.size:,})"
    return ""


def macs_conventions(layers: Sequence[LayerRow], flops: bool) -> list[tuple[str, int]]:
    """What a compute claim may mean, each with its value over ``layers``: papers' convention first."""
    every = sum(layer.macs or 0 for layer in layers)
    paper = sum(layer.paper_macs or 0 for layer in layers)
    convolutions = sum(m for layer in layers for kind, m in layer.macs_by_kind if kind == CONVOLUTION)
    found = [("multiply-adds of convolutions and fully connected layers", paper), ("MACs of every layer", every),
             ("multiply-adds of convolutions only", convolutions)]
    if flops:
        found += [("FLOPs = 2 × multiply-adds of convolutions and fully connected layers", 2 * paper),
                  ("FLOPs = 2 × MACs of every layer", 2 * every)]
    return found


def check_macs(claimed: Claimed, layers: Sequence[LayerRow], flops: bool) -> tuple[bool, int, str, str]:
    """(ok, the computed value shown, its convention, the verdict). Of the conventions that
    agree, one that agrees rounded is preferred to one that agrees only truncated."""
    conventions = _distinct(macs_conventions(layers, flops))
    unknown = [layer.name for layer in layers if layer.macs is None]
    partial = f"; the MACs of {len(unknown)} layers are not known ({', '.join(unknown[:3])})" if unknown else ""
    agreeing = [(name, value, rule) for name, value in conventions for ok, rule in [claimed.agrees(value)] if ok]
    if agreeing:
        name, value, rule = min(agreeing, key=lambda found: "truncated" in found[2])
        others = "".join(f"; {other} ({v:,}) agree too" for other, v, _ in agreeing if other != name)
        return True, value, name, f"agrees as {name}" + (f": {rule}" if rule else "") + others + partial
    tried = "; ".join(f"{name} {claimed.shown(value)}" for name, value in conventions)
    return False, conventions[0][1], conventions[0][0], f"claimed {claimed.written}; computed {tried}{partial}"


def _distinct(conventions: list[tuple[str, int]]) -> list[tuple[str, int]]:
    """One name per value: ``A (= B)`` where two conventions give the same number."""
    names: dict[int, list[str]] = {}
    for name, value in conventions:
        names.setdefault(value, []).append(name)
    return [(f"{group[0]}" + "".join(f" (= {n})" for n in group[1:]), value) for value, group in names.items()]


def check_shape(text: str, shape: tuple[int | None, ...] | None) -> tuple[bool, str]:
    """Whether a printed output size (``(None, 26, 26, 32)``, ``[-1, 64, 112, 112]``,
    ``56×56``, ``7 x 7 x 512``) is this shape."""
    if shape is None:
        return False, "no output shape to compare with"
    dims = _dims(text)
    if not dims:
        return False, f"'{text}' is not an output size"
    computed = tuple(shape)
    for form, candidate in _forms(computed):
        if dims == candidate or dims[1:] == candidate and dims[0] in (None, -1, 1):
            return True, f"as {form}" if form else ""
    return False, f"claimed {text}, computed {shape_text(computed)}"


def _dims(text: str) -> tuple[int | None, ...]:
    tokens = re.findall(r"None|-?\d+|\?", text.replace(",", " "))
    return tuple(None if t in ("None", "?") else int(t) for t in tokens)


def _forms(shape: tuple[int | None, ...]) -> list[tuple[str, tuple[int | None, ...]]]:
    """The shape as it may be printed: as it is, channels moved to the other end, spatial only."""
    forms: list[tuple[str, tuple[int | None, ...]]] = [("", shape)]
    if len(shape) >= 2:
        forms += [("channels first", (shape[-1], *shape[:-1])), ("channels last", (*shape[1:], shape[0])),
                  ("its spatial size", shape[:-1]), ("its spatial size", shape[1:])]
    return forms
