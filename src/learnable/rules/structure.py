"""Layers that move or reshape data and own no weights: Input, Flatten, Reshape,
ZeroPadding, Dropout and noise layers.

Flatten multiplies the dimensions out (the seeds' 20×20×3 filters → 1,200 inputs). With an
unknown dimension the flat size is unknown too, as in Keras; a Dense after it then fails
with a message that says why.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import partial
from math import prod
from typing import Any

from .._text import dims_text
from ..errors import ArgumentError, RuleError
from ..expr import Expr, Num, minus, num, product, total
from ._args import Arg, anything, choice, fraction, integer, shape
from ._base import (
    DATA_FORMAT,
    GLOBAL,
    NO_MACS,
    POINTWISE,
    WINDOW,
    Context,
    Inference,
    Rule,
    Shape,
    ShapeNote,
    Window,
    feature_map,
    join_channels,
    layout_of,
    per_value_macs,
    shape_text,
    spatial_notes,
)
from ._registry import PYTORCH, register
from ._spatial import sizes_of


def _input(a: Mapping[str, Any], shapes: Sequence[Shape], ctx: Context) -> Inference:
    return Inference(a["shape"], macs=NO_MACS)


register(Rule(
    name="Input", family="structure", infer=_input, arity=(0, 0), packs_positional=True, is_input=True,
    args=(Arg("shape", shape), DATA_FORMAT), aliases=("InputLayer",),
    doc="The network's input: one example's shape, batch excluded; data_format states the "
        "layout of the whole network. No parameters.",
))


def flat_size(x: Shape) -> int | None:
    return None if any(d is None for d in x) else prod(x)


def flattened(dims: Shape) -> tuple[int | None, tuple[ShapeNote, ...]]:
    """The product of ``dims`` (None if any is unknown), with its arithmetic when it took any."""
    if len(dims) < 2 or any(d is None for d in dims):
        return flat_size(dims), ()
    expr = product(*dims)
    return expr.value, (ShapeNote("", expr),)


def _flatten(a: Mapping[str, Any], shapes: Sequence[Shape], ctx: Context) -> Inference:
    size, notes = flattened(shapes[0])
    return Inference((size,), shape_notes=notes, macs=NO_MACS)


def _torch_flatten(a: Mapping[str, Any], shapes: Sequence[Shape], ctx: Context) -> Inference:
    x = shapes[0]
    rank = len(x) + 1  # PyTorch dims count the batch axis
    start, end = (d + rank if d < 0 else d for d in (a["start_dim"], a["end_dim"]))
    if start == 0:
        raise RuleError("flattening the batch axis (start_dim=0) is not supported: shapes here exclude the batch")
    if not 1 <= start <= end < rank:
        raise RuleError(f"start_dim={a['start_dim']}, end_dim={a['end_dim']} do not fit an input of shape {shape_text(x)} (plus batch)")
    merged, notes = flattened(x[start - 1:end])
    return Inference((*x[: start - 1], merged, *x[end:]), shape_notes=notes, macs=NO_MACS)


register(Rule(
    name="Flatten", family="structure", infer=_flatten, args=(DATA_FORMAT,), field=GLOBAL,
    doc="Flatten: no parameters; the output size is the product of the input's dimensions.",
))
register(Rule(
    name="Flatten", family="structure", infer=_torch_flatten, framework=PYTORCH, field=GLOBAL,
    args=(Arg("start_dim", integer, 1), Arg("end_dim", integer, -1)),
    doc="PyTorch nn.Flatten: no parameters; merges dims start_dim..end_dim (batch is dim 0).",
))


def _reshape(a: Mapping[str, Any], shapes: Sequence[Shape], ctx: Context) -> Inference:
    target = a["target_shape"]
    size = flat_size(shapes[0])
    if target.count(-1) > 1:
        raise RuleError(f"target_shape {shape_text(target)} has more than one -1")
    if -1 in target:
        rest = prod(d for d in target if d != -1)
        if size is None:
            return Inference(tuple(None if d == -1 else d for d in target), macs=NO_MACS)
        if size % rest:
            raise RuleError(f"cannot reshape {shape_text(shapes[0])} ({size:,} values) to {shape_text(target)}: {size:,} is not a multiple of {rest:,}")
        return Inference(tuple(size // rest if d == -1 else d for d in target), macs=NO_MACS)
    if size is not None and prod(target) != size:
        raise RuleError(f"cannot reshape {shape_text(shapes[0])} ({size:,} values) to {shape_text(target)} ({prod(target):,} values)")
    return Inference(tuple(target), macs=NO_MACS)


def _target_shape(value: Any) -> tuple[int, ...]:
    dims = value if isinstance(value, (list, tuple)) else [value]
    if not dims or not all(integer(d) == -1 or integer(d) >= 1 for d in dims):
        raise ArgumentError(None, f"must be a list of positive sizes (one may be -1), got {value!r}")
    return tuple(dims)


register(Rule(
    name="Reshape", family="structure", infer=_reshape, args=(Arg("target_shape", _target_shape),),
    doc="Reshape: no parameters; the number of values must not change.",
))


def _zero_padding(rank: int, a: Mapping[str, Any], shapes: Sequence[Shape], ctx: Context) -> Inference:
    fmt = layout_of(a, ctx)
    channels, spatial = feature_map(shapes[0], rank, fmt)
    sizes = tuple(None if n is None else _padded(n, pads) for n, pads in zip(spatial, a["padding"]))
    if any(s is not None and s.value < 1 for s in sizes):
        raise RuleError(f"cropping {a['padding']} leaves nothing of its input {dims_text(spatial)}")
    # Padding (or, negative, cropping) is a window of one pixel that shifts the positions.
    window = tuple(Window(1, 1, 1, before) for before, _ in a["padding"])
    return Inference(join_channels(channels, sizes_of(sizes), fmt), shape_notes=spatial_notes(sizes),
                     macs=NO_MACS, window=window)


# How far each padding can reach into its input: a reflection repeats no edge (so less than
# the size), a circular one wraps around at most once (torch.nn.functional.pad).
_REACH = {"Reflection": (1, "less than"), "Circular": (0, "at most")}


def _padding(rank: int, kind: str, a: Mapping[str, Any], shapes: Sequence[Shape], ctx: Context) -> Inference:
    margin, words = _REACH.get(kind, (None, ""))
    if margin is not None:
        _, spatial = feature_map(shapes[0], rank, layout_of(a, ctx))
        for n, pads in zip(spatial, a["padding"]):
            if n is not None and max(pads) > n - margin:
                raise RuleError(f"{kind.lower()} padding of {max(pads)} must be {words} the input's size {n}")
    return _zero_padding(rank, a, shapes, ctx)


def _padded(n: int, pads: tuple[int, int]) -> Expr:
    """``28 + 1 + 1``; a negative amount (PyTorch cropping) is subtracted."""
    size: Expr = num(n, "n")
    for p in pads:
        if p:
            size = total(size, num(p, "p")) if p > 0 else minus(size, num(-p, "p"))
    return size


def _keras_pads(rank: int):
    """Keras: an int, one int per axis, or a (before, after) pair per axis; ZeroPadding1D
    takes its single axis's pair flat, ``(1, 4)``."""

    def convert(value: Any) -> tuple[tuple[int, int], ...]:
        if not isinstance(value, (list, tuple)):
            return ((integer(value, 0),) * 2,) * rank
        if rank == 1:
            if len(value) != 2 or any(isinstance(v, (list, tuple)) for v in value):
                raise ArgumentError(None, f"must be an integer or a (before, after) pair of integers, got {value!r}")
            value = [value]
        if len(value) != rank:
            raise ArgumentError(None, f"must have {rank} entries, got {value!r}")
        pairs = [v if isinstance(v, (list, tuple)) else (v, v) for v in value]
        if any(len(p) != 2 for p in pairs):
            raise ArgumentError(None, f"entries must be integers or (before, after) pairs, got {value!r}")
        return tuple((integer(b, 0), integer(e, 0)) for b, e in pairs)

    return convert


def _torch_pads(rank: int):
    """PyTorch ZeroPad: an int, or (left, right[, top, bottom[, front, back]]): last axis first."""

    def convert(value: Any) -> tuple[tuple[int, int], ...]:
        if not isinstance(value, (list, tuple)):
            return ((integer(value),) * 2,) * rank  # negative amounts crop, as in PyTorch
        if len(value) != 2 * rank:
            raise ArgumentError(None, f"must be an integer or {2 * rank} integers, got {value!r}")
        flat = [integer(v) for v in value]  # negative amounts crop, as in PyTorch
        pairs = [(flat[i], flat[i + 1]) for i in range(0, 2 * rank, 2)]
        return tuple(reversed(pairs))

    return convert


for _rank in (1, 2, 3):
    register(Rule(
        name=f"ZeroPadding{_rank}D", family="structure", infer=partial(_zero_padding, _rank), layout=True,
        field=WINDOW,
        args=(Arg("padding", _keras_pads(_rank), 1), DATA_FORMAT),
        doc=f"Keras ZeroPadding{_rank}D: no parameters; adds zeros around each spatial axis.",
    ))
    register(Rule(
        name=f"ZeroPad{_rank}d", family="structure", infer=partial(_zero_padding, _rank), layout=True,
        field=WINDOW,
        args=(Arg("padding", _torch_pads(_rank)),), framework=PYTORCH,
        doc=f"PyTorch nn.ZeroPad{_rank}d: no parameters; padding is given last axis first.",
    ))
    # The other paddings differ from ZeroPad only in the values they pad with, not in shapes.
    for _kind, _extra in (("Reflection", ()), ("Replication", ()), ("Circular", ()),
                          ("Constant", (Arg("value", anything),))):
        register(Rule(
            name=f"{_kind}Pad{_rank}d", family="structure", infer=partial(_padding, _rank, _kind), layout=True,
            field=WINDOW, args=(Arg("padding", _torch_pads(_rank)), *_extra), framework=PYTORCH,
            doc=f"PyTorch nn.{_kind}Pad{_rank}d: no parameters; pads as ZeroPad{_rank}d does, with "
                f"{'a constant value' if _kind == 'Constant' else _kind.lower() + ' values'} (last axis first).",
        ))


def _flat_pads(value: Any) -> tuple[int, ...]:
    amounts = value if isinstance(value, (list, tuple)) else None
    if not amounts or len(amounts) % 2:
        raise ArgumentError(None, f"must be (left, right[, top, bottom, ...]): pairs of integers, got {value!r}")
    return tuple(integer(v) for v in amounts)  # negative amounts crop, as in PyTorch


_MODES = {"constant": "Constant", "reflect": "Reflection", "replicate": "Replication", "circular": "Circular"}


def _pad(a: Mapping[str, Any], shapes: Sequence[Shape], ctx: Context) -> Inference:
    """F.pad: the last len(pad)/2 axes, last axis first, whatever the tensor's rank."""
    x, flat = shapes[0], a["pad"]
    pairs = tuple(reversed([(flat[i], flat[i + 1]) for i in range(0, len(flat), 2)]))
    if len(pairs) > len(x):
        raise RuleError(f"pads {len(pairs)} axes of an example of {len(x)} (batch excluded): it would pad the batch")
    margin, words = _REACH.get(_MODES[a["mode"]], (None, ""))
    first = len(x) - len(pairs)
    if a["mode"] != "constant" and (first > 1 or len(pairs) > 3):  # PyTorch pads 1-3 axes of an image-like tensor
        raise RuleError(f"{a['mode']} padding of {len(pairs)} axes needs an example of {len(pairs)} or "
                        f"{len(pairs) + 1} axes (batch excluded), got shape {shape_text(x)}")
    sizes = []
    for n, pads in zip(x[first:], pairs):
        if margin is not None and n is not None and max(pads) > n - margin:
            raise RuleError(f"{a['mode']} padding of {max(pads)} must be {words} the input's size {n}")
        sizes.append(None if n is None else _padded(n, pads))
    if any(s is not None and s.value < 1 for s in sizes):
        raise RuleError(f"cropping {flat} leaves nothing of its input {shape_text(x)}")
    notes = tuple(ShapeNote(f"dim {first + i + 1}", size) for i, size in enumerate(sizes)  # (the batch is dim 0)
                  if size is not None and not isinstance(size, Num))
    return Inference((*x[:first], *sizes_of(tuple(sizes))), shape_notes=notes, macs=NO_MACS)


register(Rule(
    name="Pad", family="structure", infer=_pad, framework=PYTORCH,
    args=(Arg("pad", _flat_pads), Arg("mode", choice(*_MODES), "constant"), Arg("value", anything, None)),
    doc="PyTorch F.pad: no parameters; pads the last len(pad)/2 axes (last axis first), any rank; "
        "a negative amount crops.",
))


def _same_shape(a: Mapping[str, Any], shapes: Sequence[Shape], ctx: Context) -> Inference:
    return Inference(shapes[0], macs=NO_MACS)


def _scale_shift(a: Mapping[str, Any], shapes: Sequence[Shape], ctx: Context) -> Inference:
    return Inference(shapes[0], macs=per_value_macs(shapes[0]))


def identity_rule(name: str, *args: Arg, framework: str = "keras", family: str = "structure", doc: str = "",
                  scales: bool = False) -> Rule:
    """A layer that keeps its input's shape and owns no weights; ``scales``: it computes
    ``x·scale + offset``, one multiply-accumulate per value (Rescaling)."""
    return register(Rule(
        name=name, family=family, infer=_scale_shift if scales else _same_shape, args=args, framework=framework,
        field=POINTWISE,
        doc=doc or f"{name}: no parameters; the output has the input's shape.",
    ))


_SEED = Arg("seed", anything, None)
for _name in ("Dropout", "GaussianDropout", "AlphaDropout"):
    identity_rule(_name, Arg("rate", fraction), Arg("noise_shape", anything, None), _SEED)
identity_rule("SpatialDropout1D", Arg("rate", fraction), _SEED)
identity_rule("SpatialDropout2D", Arg("rate", fraction), DATA_FORMAT, _SEED)
identity_rule("SpatialDropout3D", Arg("rate", fraction), DATA_FORMAT, _SEED)
identity_rule("GaussianNoise", Arg("stddev", anything), _SEED)
identity_rule("Identity")
for _name in ("Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout", "FeatureAlphaDropout"):
    identity_rule(_name, Arg("p", fraction, 0.5), Arg("inplace", anything, False), framework=PYTORCH)
register(Rule(
    name="Identity", family="structure", infer=_same_shape, framework=PYTORCH, args=(), field=POINTWISE,
    any_args=True, doc="PyTorch nn.Identity: no parameters; takes and ignores any arguments.",
))
