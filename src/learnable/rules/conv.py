"""Convolutions: Conv1D/2D/3D (Keras) and Conv1d/2d/3d (PyTorch).

Parameters (both frameworks, CONVENTIONS.md §1):
  kernel  k_1×…×k_n × (C_in / groups) × filters
  bias    filters                        (when use_bias / bias)
Only the kernel size, input channels, filters, groups and bias change the count; strides,
padding and dilation change the output shape alone. This is the seeds' formula
``((kernel h × kernel w × input channels) + 1) × filters`` written as two tensors.
Weights are listed as the convention stores them: Keras ``kernel (*k, C_in/groups,
filters)``, PyTorch ``weight (filters, C_in/groups, *k)``; the same number of elements.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import partial
from typing import Any

from ..errors import RuleError
from ..expr import Expr, num, quotient
from ._args import Arg, anything, boolean, choice, int_tuple, positive
from ._base import (
    CHANNELS_LAST,
    DATA_FORMAT,
    WINDOW,
    Context,
    Inference,
    Rule,
    Shape,
    feature_map,
    join_channels,
    kernel_and_bias,
    known,
    layout_desc,
    layout_of,
    output_macs,
    shape_text,
    spatial_notes,
)
from ._registry import PYTORCH, register
from ._spatial import (
    keras_padding,
    keras_strides_or_dilation,
    positions,
    resolve_padding,
    sizes_of,
    torch_padding,
    window_output,
    windows,
)

_KERNEL_SYMBOLS = {1: ("k",), 2: ("k_h", "k_w"), 3: ("k_d", "k_h", "k_w")}


def convolve(
    rank: int, x: Shape, ctx: Context, data_format: str, *, filters: int, kernel: Sequence[int],
    strides: Sequence[int], padding: Any, dilation: Sequence[int], groups: int, use_bias: bool,
) -> Inference:
    """The shared convolution rule; the Keras and PyTorch forms only translate arguments."""
    channels, spatial = feature_map(x, rank, data_format)
    c_in = known(channels, "number of input channels")
    _check_groups(c_in, filters, groups)
    sizes = window_output(spatial, kernel, strides, dilation, padding, "kernel")
    per_group = quotient(num(c_in, "C_in"), num(groups, "groups"))
    weights = kernel_and_bias(ctx, kernel_dims(kernel), per_group, num(filters, "filters"), use_bias)
    shape = join_channels(filters, sizes_of(sizes), data_format)
    out = positions(sizes)
    # Each output value is a dot product over its window: k_h×k_w×(C_in/groups) MACs.
    macs = None if out is None else output_macs((*out, num(filters, "filters")), (*kernel_dims(kernel), per_group))
    return Inference(shape, weights, spatial_notes(sizes), macs=macs,
                     window=windows(spatial, kernel, strides, dilation, padding))


def kernel_dims(kernel: Sequence[int]) -> tuple[Expr, ...]:
    """A kernel's sizes as named literals (``k_h``, ``k_w``), for every convolution family."""
    return tuple(num(k, s) for k, s in zip(kernel, _KERNEL_SYMBOLS[len(kernel)]))


def _check_groups(c_in: int, filters: int, groups: int) -> None:
    if c_in % groups:
        raise RuleError(f"its {c_in} input channels cannot be split into groups={groups}; groups must divide the input channels")
    if filters % groups:
        raise RuleError(f"its {filters} filters cannot be split into groups={groups}; groups must divide the filters")


# ---- Keras ----------------------------------------------------------------------------


def _keras_conv(rank: int, a: Mapping[str, Any], shapes: Sequence[Shape], ctx: Context) -> Inference:
    strides, dilation = a["strides"], a["dilation_rate"]
    keras_strides_or_dilation(strides, dilation)
    return convolve(
        rank, shapes[0], ctx, layout_of(a, ctx), filters=a["filters"],
        kernel=a["kernel_size"], strides=strides, padding=a["padding"], dilation=dilation,
        groups=a["groups"], use_bias=a["use_bias"],
    )


def _keras_args(rank: int) -> tuple[Arg, ...]:
    paddings = ("valid", "same", "causal") if rank == 1 else ("valid", "same")
    return (
        Arg("filters", positive),
        Arg("kernel_size", int_tuple(rank)),
        Arg("strides", int_tuple(rank), 1),
        Arg("padding", keras_padding(*paddings), "valid"),
        DATA_FORMAT,
        Arg("dilation_rate", int_tuple(rank), 1),
        Arg("groups", positive, 1),
        Arg("activation", anything, None),
        Arg("use_bias", boolean, True),
    )


for _rank in (1, 2, 3):
    register(Rule(
        name=f"Conv{_rank}D", family="conv", args=_keras_args(_rank),
        infer=partial(_keras_conv, _rank), layout=True, field=WINDOW,
        aliases=(f"Convolution{_rank}D",),
        doc=f"Keras Conv{_rank}D: kernel (k × C_in/groups × filters) + bias (filters).",
    ))


# ---- PyTorch --------------------------------------------------------------------------


def _torch_conv(rank: int, a: Mapping[str, Any], shapes: Sequence[Shape], ctx: Context) -> Inference:
    padding, stride = a["padding"], a["stride"]
    if padding == "same" and max(stride) > 1:
        raise RuleError("padding='same' is not supported for strided convolutions (PyTorch); give the padding as a number")
    check_in_channels(rank, shapes[0], ctx, a["in_channels"], "in_channels")
    _check_padding_mode(a["padding_mode"], padding, a, feature_map(shapes[0], rank, ctx.data_format)[1])
    return convolve(
        rank, shapes[0], ctx, ctx.data_format, filters=a["out_channels"], kernel=a["kernel_size"],
        strides=stride, padding=padding, dilation=a["dilation"], groups=a["groups"],
        use_bias=a["bias"],
    )


def _check_padding_mode(mode: str, padding: Any, a: Mapping[str, Any], spatial: Shape) -> None:
    """Reflect padding must be smaller than the input; circular may wrap around at most once."""
    if mode not in ("reflect", "circular"):
        return
    for axis, n in enumerate(spatial):
        if n is None:
            continue
        pads = resolve_padding(n, a["kernel_size"][axis], a["stride"][axis], a["dilation"][axis],
                               padding if isinstance(padding, str) else padding[axis])
        if max(pads) >= n + (mode == "circular"):
            need = "smaller than" if mode == "reflect" else "at most"
            raise RuleError(f"padding {max(pads)} with padding_mode='{mode}' must be {need} the input size {n}")


def check_in_channels(rank: int, x: Shape, ctx: Context, expected: int, arg: str) -> None:
    """PyTorch modules name their input channels; say so when the input disagrees."""
    channels, _ = feature_map(x, rank, ctx.data_format)
    if channels is not None and channels != expected:
        hint = ""
        if ctx.data_format == CHANNELS_LAST:
            hint = ("; PyTorch tensors are channels-first: set 'data_format: channels_first' in the "
                    "spec (or --data-format channels_first)")
        elif x[-1] == expected:
            hint = f"; the input looks channels-last: PyTorch wants it as {shape_text((x[-1], *x[:-1]))}"
        raise RuleError(
            f"{arg}={expected} but its input has {channels} channels "
            f"(shape {shape_text(x)} read as {layout_desc(rank, ctx.data_format)}){hint}"
        )


def _torch_args(rank: int) -> tuple[Arg, ...]:
    return (
        Arg("in_channels", positive),
        Arg("out_channels", positive),
        Arg("kernel_size", int_tuple(rank)),
        Arg("stride", int_tuple(rank, broadcast=True), 1),
        Arg("padding", torch_padding(rank), 0),
        Arg("dilation", int_tuple(rank, broadcast=True), 1),
        Arg("groups", positive, 1),
        Arg("bias", boolean, True),
        Arg("padding_mode", choice("zeros", "reflect", "replicate", "circular"), "zeros"),
    )


for _rank in (1, 2, 3):
    register(Rule(
        name=f"Conv{_rank}d", family="conv", args=_torch_args(_rank),
        infer=partial(_torch_conv, _rank), framework=PYTORCH, layout=True, field=WINDOW,
        doc=f"PyTorch nn.Conv{_rank}d: weight (out_channels × in_channels/groups × k) + bias (out_channels).",
    ))
