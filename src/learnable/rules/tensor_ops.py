"""Tensor operations a model's forward()/call() applies outside any layer: Slice, Select,
Reduce, the Constant a forward makes from sizes, and ChannelSlice and ChannelPad on the
channel axis of the data format. No parameters.

Axes count the batch as axis 0, as Keras ``axis`` and PyTorch ``dim`` do (``x[:, 1:5]`` is
``Slice(axis=1, start=1, stop=5)``); negative axes count from the end of the batched rank;
the batch axis itself is refused, since shapes here are one example's.

Slice follows Python's slice with clamping, as torch and NumPy do: ``start``, ``stop`` and
``step`` resolve on the axis's size n as ``slice(start, stop, step).indices(n)`` does, and
the size is ⌈(stop − start)/step⌉. torch refuses a step below 1. On an unknown size, the
slice's own numbers give the size when start and stop count from the same end
(``x[:, :16]``, ``x[:, 2:10]``, ``x[:, -16:]``), taking the axis to be as long as the slice
reaches, as its author does; otherwise the size is unknown. A slice that leaves nothing
is refused (torch would give an empty tensor). The pieces of ``torch.split``/``chunk`` and
``torch.narrow(x, dim, start, length)`` are slices.

Select (``x[:, -1]``, ``torch.select(x, dim, index)``) removes its axis; the index counts
from the end when negative and must lie on the axis.

Reduce (``x.mean(dim=(2, 3))``, ``torch.sum(x, 1)``, ``x.amax(-1)``, ``keras.ops.mean(x,
axis=1)``) drops its axes, or keeps them as size 1 with ``keepdims`` (torch's
``keepdim``). MACs: mean and sum accumulate every input value once, the input's size, as
global average pooling counts them (the mean's one divide per output is not counted,
there either); prod multiplies every input value into its running product, one per input
value too; max and min compare, 0.

Constant is a tensor the code makes from sizes alone (``torch.arange(n)``, ``torch.zeros(1,
1, d)``): a source with its shape, no input, nothing computed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .._text import shape_text
from ..errors import ArgumentError, RuleError
from ..expr import Expr, Num, ceil_div, minus, num, total
from ._args import Arg, anything, boolean, choice, integer, optional, positive, shape
from ._base import (
    DATA_FORMAT,
    NO_MACS,
    POINTWISE,
    WINDOW,
    Context,
    Inference,
    Rule,
    Shape,
    ShapeNote,
    Window,
    join_channels,
    layout_of,
    per_value_macs,
    spatial_notes,
    split_channels,
)
from ._registry import KERAS, PYTORCH, register
from ._spatial import sizes_of
from .merge import torch_dim

# ---- Slice -----------------------------------------------------------------------------------


def _slice(a: Mapping[str, Any], shapes: Sequence[Shape], ctx: Context) -> Inference:
    x, axis = shapes[0], a["axis"]
    i = torch_dim(axis, x, word="axis")
    size = _sliced(x[i], a["start"], a["stop"], a["step"])
    if size is not None and size.value < 1:
        raise RuleError(f"the slice {_written(a)} of axis {axis} (size {_size_text(x[i])}) leaves nothing")
    notes = (ShapeNote(f"axis {axis}", size),) if size is not None and not isinstance(size, Num) else ()
    return Inference((*x[:i], None if size is None else size.value, *x[i + 1:]), shape_notes=notes, macs=NO_MACS)


def _sliced(n: int | None, start: int | None, stop: int | None, step: int) -> Expr | None:
    """The slice's size as arithmetic on its resolved ends, or None when it is unknown."""
    if n is not None:
        first, end, _ = slice(start, stop, step).indices(n)
    else:
        ends = (_from_end(start, first=True), _from_end(stop, first=False))
        if ends == (False, False):  # both count from the start
            first, end = start or 0, stop
        elif ends == (True, True):  # both from the end: as distances from it, the other way round
            first, end = -(stop or 0), -start
        else:
            return None
    if end <= first:
        return num(0)
    length = num(end, "stop") if first == 0 else minus(num(end, "stop"), num(first, "start"))
    return ceil_div(length, num(step, "step"))


def _from_end(bound: int | None, first: bool) -> bool:
    """Does a slice bound count from the axis's end? (None: the start for start, the end for stop.)"""
    return bound < 0 if bound is not None else not first


def _written(a: Mapping[str, Any]) -> str:
    text = ":".join("" if v is None else str(v) for v in (a["start"], a["stop"]))
    return text + (f":{a['step']}" if a["step"] != 1 else "")


def _size_text(n: int | None) -> str:
    return "unknown" if n is None else str(n)


register(Rule(
    name="Slice", family="structure", infer=_slice, field=POINTWISE,
    args=(Arg("axis", integer), Arg("start", optional(integer), None), Arg("stop", optional(integer), None),
          Arg("step", positive, 1)),
    doc="x[:, start:stop:step] on one axis (the batch is axis 0), torch.narrow, a piece of torch.split/chunk: "
        "no parameters; the axis keeps ⌈(stop − start)/step⌉ values, with Python's clamping.",
))

# ---- Select ----------------------------------------------------------------------------------


def _select(a: Mapping[str, Any], shapes: Sequence[Shape], ctx: Context) -> Inference:
    x, axis, index = shapes[0], a["axis"], a["index"]
    i = torch_dim(axis, x, word="axis")
    n = x[i]
    if n is not None and not -n <= index < n:
        raise RuleError(f"index {index} is out of range for axis {axis} of size {n}; use an index from "
                        f"{-n} to {n - 1}")
    return Inference((*x[:i], *x[i + 1:]), macs=NO_MACS)


register(Rule(
    name="Select", family="structure", infer=_select, field=POINTWISE,
    args=(Arg("axis", integer), Arg("index", integer)),
    doc="x[:, index] on one axis (the batch is axis 0), torch.select: no parameters; removes that axis. "
        "A negative index counts from the end.",
))

# ---- Reduce ----------------------------------------------------------------------------------

_OPS = ("mean", "sum", "max", "min", "prod")


def _axes(value: Any) -> tuple[int, ...]:
    axes = tuple(integer(v) for v in value) if isinstance(value, (list, tuple)) else (integer(value),)
    if not axes:
        raise ArgumentError(None, "must name at least one axis (an empty list would reduce the batch too)")
    return axes


def _reduce(a: Mapping[str, Any], shapes: Sequence[Shape], ctx: Context) -> Inference:
    x = shapes[0]
    reduced = [torch_dim(axis, x, word="axis") for axis in a["axis"]]
    if len(set(reduced)) < len(reduced):
        raise RuleError(f"axis {list(a['axis'])} names the same axis twice (of an input of rank {len(x)} "
                        "plus batch); name each once")
    if a["keepdims"]:
        out = tuple(1 if i in reduced else d for i, d in enumerate(x))
    else:
        out = tuple(d for i, d in enumerate(x) if i not in reduced)
    macs = NO_MACS if a["op"] in ("max", "min") else per_value_macs(x)
    return Inference(out, macs=macs)


register(Rule(
    name="Reduce", family="structure", infer=_reduce, field=POINTWISE,
    args=(Arg("axis", _axes), Arg("keepdims", boolean, False), Arg("op", choice(*_OPS), "mean")),
    doc="x.mean(dim), torch.sum(x, dim), x.amax(dim), keras.ops.mean(x, axis) over one or more axes (the batch is "
        "axis 0): no parameters; drops them, or keeps them as size 1 with keepdims. MACs: the input's size for "
        "mean, sum and prod; 0 for max and min.",
))


# ---- Constant -------------------------------------------------------------------------------


def _shape_or_scalar(value: Any) -> tuple[int, ...]:
    """A tensor's sizes, all known; () for a scalar."""
    if isinstance(value, (list, tuple)) and not value:
        return ()
    dims = shape(value)
    if None in dims:
        raise ArgumentError(None, f"must be the tensor's sizes, all known, got {value!r}")
    return dims


def _constant(a: Mapping[str, Any], shapes: Sequence[Shape], ctx: Context) -> Inference:
    return Inference(a["shape"], macs=NO_MACS, note=f"made by {a['made_by']}" if a["made_by"] else "")


register(Rule(
    name="Constant", family="structure", infer=_constant, arity=(0, 0),
    args=(Arg("shape", _shape_or_scalar), Arg("made_by", anything, "")),
    doc="A tensor the network makes from sizes alone (torch.arange(n), torch.zeros(1, 1, d)): one example's "
        "shape; no parameters, no input, no multiply-accumulates.",
))


# ---- ChannelSlice and ChannelPad --------------------------------------------------------------
#
# Layers on the channel axis, wherever the data format puts it (last, or first after the batch):
# LeNet-5's C3 feeds each map a few of S2's (x[:, 0:3], x[:, [4, 5, 0]]), and ResNet's option-A
# shortcut (He et al. 2016, CIFAR) subsamples and pads channels with zeros,
# F.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, p, p)), where option B has a 1×1 convolution.


def _channel_list(value: Any) -> tuple[int, ...] | None:
    if value is None:
        return None
    channels = tuple(integer(v) for v in value) if isinstance(value, (list, tuple)) else ()
    if not channels:
        raise ArgumentError(None, f"must be a non-empty list of channel indices, got {value!r}")
    return channels


def _picked(channels: tuple[int, ...], n: int | None) -> Expr:
    if n is not None:
        bad = [c for c in channels if not -n <= c < n]
        if bad:
            raise RuleError(f"channel {bad[0]} is out of range for {n} channels; use an index from {-n} to {n - 1}")
    return num(len(channels))


def _channel_slice(a: Mapping[str, Any], shapes: Sequence[Shape], ctx: Context) -> Inference:
    fmt = layout_of(a, ctx)
    n, rest = split_channels(_feature_map(shapes[0]), fmt)
    if a["channels"] is not None:
        if (a["start"], a["stop"], a["step"]) != (None, None, 1):
            raise RuleError("give either channels: [indices] or start/stop/step, not both")
        size = _picked(a["channels"], n)
    else:
        size = _sliced(n, a["start"], a["stop"], a["step"])
        if size is not None and size.value < 1:
            raise RuleError(f"the slice {_written(a)} of {_size_text(n)} channels leaves nothing")
    notes = (ShapeNote("channels", size),) if size is not None and not isinstance(size, Num) else ()
    return Inference(join_channels(None if size is None else size.value, rest, fmt), shape_notes=notes,
                     macs=NO_MACS)


def _feature_map(x: Shape) -> Shape:
    if len(x) < 2:
        raise RuleError(f"expects channels and at least one spatial axis (batch excluded), got shape {shape_text(x)}")
    return x


# Each is registered under both frameworks' names, as Parameter is: a ChannelSlice says nothing of
# whose names a spec uses, and in a PyTorch spec it reads channels first, as its convolutions do.
for _framework in (KERAS, PYTORCH):
    register(Rule(
        name="ChannelSlice", family="structure", infer=_channel_slice, field=POINTWISE, layout=True,
        framework=_framework,
        args=(Arg("start", optional(integer), None), Arg("stop", optional(integer), None), Arg("step", positive, 1),
              Arg("channels", _channel_list, None), DATA_FORMAT),
        doc="Some of the input's channels, on the channel axis of the data format: start:stop:step as Python "
            "slices (x[:, 0:3] channels first), or a list of indices in that order (x[:, [4, 5, 0]], "
            "torch.index_select). No parameters; the positions are kept.",
    ))


def _pads(value: Any) -> tuple[int, int]:
    pair = tuple(value) if isinstance(value, (list, tuple)) else (value, value)
    if len(pair) != 2:
        raise ArgumentError(None, f"must be an integer or a (before, after) pair, got {value!r}")
    return integer(pair[0], 0), integer(pair[1], 0)


def _channel_pad(a: Mapping[str, Any], shapes: Sequence[Shape], ctx: Context) -> Inference:
    fmt = layout_of(a, ctx)
    n, spatial = split_channels(_feature_map(shapes[0]), fmt)
    before, after = a["pad"]
    channels = None if n is None else total(num(n, "C"), *(num(p, "p") for p in (before, after) if p))
    stride = a["strides"]
    sizes = tuple(None if d is None else ceil_div(num(d, "n"), num(stride, "s")) for d in spatial)
    notes = ((ShapeNote("channels", channels),) if channels is not None and not isinstance(channels, Num) else ())
    out = join_channels(None if channels is None else channels.value, sizes_of(sizes), fmt)
    return Inference(out, shape_notes=notes + spatial_notes(sizes), macs=NO_MACS,
                     window=tuple(Window(1, stride) for _ in spatial))


for _framework in (KERAS, PYTORCH):
    register(Rule(
        name="ChannelPad", family="structure", infer=_channel_pad, field=WINDOW, layout=True, framework=_framework,
        args=(Arg("pad", _pads), Arg("strides", positive, 1), DATA_FORMAT),
        doc="Zeros added on the channel axis, pad channels before and after (or a (before, after) pair), after "
            "keeping every strides-th position of each spatial axis (⌈n/strides⌉): ResNet's option-A shortcut, "
            "F.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, p, p)). No parameters, no multiply-accumulates.",
    ))
