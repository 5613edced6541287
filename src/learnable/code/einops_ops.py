"""einops as model code uses it: the ``Rearrange`` layer (``einops.layers.torch``,
``einops.layers.keras``) and the ``rearrange``, ``repeat`` and ``reduce`` functions, through
the Rearrange and Reduce rules. ``repeat`` is followed where it broadcasts over the batch
(``repeat(cls_token, '1 1 d -> b 1 d', b=b)``), as ``expand`` is."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..errors import Location, SpecError
from ..rules import lookup
from .arguments import bound_arguments
from .names import KERAS, TORCH
from .ops import is_operand
from .values import BATCH, Layer, Unknown

if TYPE_CHECKING:
    from .reader import Reader


def call(reader: Reader, path: str, args: list[Any], kwargs: dict[str, Any], where: Location) -> Any:
    name = path.rpartition(".")[2]
    if name == "Rearrange" and ".layers." in path:
        return _layer(reader, KERAS if ".keras" in path else TORCH, args, kwargs, where)
    if name in ("rearrange", "repeat", "reduce"):
        x = args[0] if args else kwargs.pop("tensor", None)
        pattern = args[1] if len(args) > 1 else kwargs.pop("pattern", None)
        rest = list(args[2:])
        if isinstance(x, Unknown):
            return x
        if not is_operand(x) or not isinstance(pattern, str):
            return Unknown(f"einops.{name} of values that are not a tensor and a pattern", where)
        return globals()[f"_{name}"](reader, x, pattern, rest, kwargs, where)
    return Unknown(f"einops.{name}(...) is not followed", where)


def _layer(reader: Reader, framework: str, args: list[Any], kwargs: dict[str, Any], where: Location) -> Layer:
    pattern = args[0] if args else kwargs.pop("pattern", None)
    given = {"pattern": pattern, "sizes": {k: reader.require_value(v, f"Rearrange's {k}", where)
                                           for k, v in kwargs.items()}}
    rule = lookup("Rearrange")
    layer = Layer(framework, rule, "Rearrange", (), given, where, bound=bound_arguments(rule, "Rearrange", [], given,
                                                                                        where))
    if framework == KERAS:
        layer.name = reader.keras.names.auto("rearrange")
    return reader.finish(layer)


def _rearrange(reader: Reader, x: Any, pattern: str, rest: list[Any], sizes: dict[str, Any], where: Location) -> Any:
    if not getattr(x, "batched", False):
        return Unknown(f"einops.rearrange of a tensor without a batch axis ('{pattern}')", where)
    unknown = next((v for v in sizes.values() if isinstance(v, Unknown) or v is BATCH), None)
    if unknown is not None:
        return unknown if isinstance(unknown, Unknown) else Unknown("a size that is the batch size", where)
    return reader.ops.apply("Rearrange", [x], {"pattern": pattern, "sizes": sizes}, "rearrange",
                            "einops.rearrange", where)


def _repeat(reader: Reader, x: Any, pattern: str, rest: list[Any], sizes: dict[str, Any], where: Location) -> Any:
    """Only the repeat that broadcasts over a new batch axis: ``'1 1 d -> b 1 d'``."""
    left, _, right = pattern.partition("->")
    before, after = left.split(), right.split()
    if (len(before) == len(after) and after[0] not in before and sizes.get(after[0]) is BATCH
            and before[0] == "1" and before[1:] == after[1:]):
        return reader.ops.broadcast(x, [BATCH, *[-1] * (len(before) - 1)], "einops.repeat", where)
    return Unknown(f"einops.repeat('{pattern}') is followed only where it repeats over the batch", where)


def _reduce(reader: Reader, x: Any, pattern: str, rest: list[Any], sizes: dict[str, Any], where: Location) -> Any:
    """``reduce(x, 'b c h w -> b c', 'mean')``: the axes the right side drops, reduced."""
    reduction = rest[0] if rest else sizes.pop("reduction", "mean")
    left, _, right = pattern.partition("->")
    before, after = left.split(), right.split()
    if any("(" in a or ")" in a for a in (*before, *after)) or [a for a in before if a in after] != after:
        return Unknown(f"einops.reduce('{pattern}') is followed only where it drops axes", where)
    if reduction not in ("mean", "sum", "max", "min", "prod") or not after or after[0] != before[0]:
        raise SpecError(f"einops.reduce('{pattern}', {reduction!r}): the batch axis must stay first, and the "
                        "reduction be mean, sum, max, min or prod", where)
    axes = [i for i, a in enumerate(before) if a not in after]
    return reader.ops.reduce(x, axes if len(axes) > 1 else axes[0], False, reduction, "einops.reduce", where)
