"""Depthwise and separable convolutions (Keras): DepthwiseConv1D/2D, SeparableConv1D/2D.

Parameters (CONVENTIONS.md §1), with C input channels and dm the depth multiplier:
  DepthwiseConv  kernel (*k, C, dm) + bias (C·dm)
  SeparableConv  depthwise_kernel (*k, C, dm), no depthwise bias
                 + pointwise_kernel (1.., C·dm, filters) + bias (filters)
PyTorch has neither class. A depthwise convolution is exactly ``nn.Conv2d(C, C·dm, k,
groups=C)`` (weight (C·dm, 1, *k)); a separable one is usually written as two modules, that
depthwise conv with ``bias=False`` and a pointwise ``nn.Conv2d(C·dm, filters, 1)``, so the
PyTorch convention lists their tensors as ``depthwise.weight``, ``pointwise.weight`` and
``pointwise.bias``. Output sizes are a convolution's (valid/same); unlike Conv, Keras builds
these with strides and dilation both above 1.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import partial
from typing import Any

from ..expr import Expr, num, product, total
from ._args import Arg, anything, boolean, int_tuple, positive
from ._base import (
    DATA_FORMAT,
    WINDOW,
    Context,
    Inference,
    Rule,
    Shape,
    Weight,
    feature_map,
    join_channels,
    known,
    layout_of,
    output_macs,
    spatial_notes,
    split_channels,
)
from ._registry import register
from ._spatial import keras_padding, positions, sizes_of, window_output, windows
from .conv import kernel_dims


def _depth(c_in: int, dm: int) -> Expr:
    """C·dm, the depthwise output channels; just C when the multiplier is 1."""
    return num(c_in, "C_in") if dm == 1 else product(num(c_in, "C_in"), num(dm, "depth_multiplier"))


def depthwise_kernel(ctx: Context, kernel: Sequence[int], c_in: int, dm: int, name: str) -> Weight:
    """Keras ``(*k, C, dm)``; PyTorch's grouped Conv ``(C·dm, 1, *k)``: one filter per channel."""
    if ctx.pytorch:
        return Weight(name, (_depth(c_in, dm), num(1), *kernel_dims(kernel)))
    return Weight(name, (*kernel_dims(kernel), num(c_in, "C_in"), num(dm, "depth_multiplier")))


def _torch_conv(rank: int, *args: Any) -> str:
    """``nn.Conv2d(16, 32, (3, 3), groups=16)``, as a note names the equivalent module."""
    return f"nn.Conv{rank}d({', '.join(str(a) for a in args)})"


def _feature_map(rank: int, a: Mapping[str, Any], shapes: Sequence[Shape], ctx: Context):
    """(data format, input channels, output sizes) shared by both layer types."""
    fmt = layout_of(a, ctx)
    channels, spatial = feature_map(shapes[0], rank, fmt)
    c_in = known(channels, "number of input channels")
    sizes = window_output(spatial, a["kernel_size"], a["strides"], a["dilation_rate"], a["padding"], "kernel")
    return fmt, c_in, sizes


# ---- DepthwiseConv1D / 2D -------------------------------------------------------------


def _depthwise(rank: int, a: Mapping[str, Any], shapes: Sequence[Shape], ctx: Context) -> Inference:
    fmt, c_in, sizes = _feature_map(rank, a, shapes, ctx)
    dm, kernel = a["depth_multiplier"], a["kernel_size"]
    weights = (depthwise_kernel(ctx, kernel, c_in, dm, "weight" if ctx.pytorch else "kernel"),)
    if a["use_bias"]:
        weights += (Weight("bias", (_depth(c_in, dm),)),)
    note = ""
    if ctx.pytorch:
        module = _torch_conv(rank, c_in, c_in * dm, tuple(kernel), f"groups={c_in}", f"bias={a['use_bias']}")
        note = f"PyTorch has no depthwise class; these are the tensors of its equivalent {module}"
    shape = join_channels(c_in * dm, sizes_of(sizes), fmt)
    macs = _depthwise_macs(sizes, c_in, dm, kernel)
    return Inference(shape, weights, spatial_notes(sizes), note, macs=macs, window=_windows(a, shapes, fmt))


def _depthwise_macs(sizes, c_in: int, dm: int, kernel: Sequence[int]) -> Expr | None:
    """Each of the C·dm outputs per position sees one channel's window: ``(n×n×C·dm)×(k×k)``."""
    out = positions(sizes)
    return None if out is None else output_macs((*out, _depth(c_in, dm)), kernel_dims(kernel))


def _windows(a: Mapping[str, Any], shapes: Sequence[Shape], fmt: str):
    _, spatial = split_channels(shapes[0], fmt)
    return windows(spatial, a["kernel_size"], a["strides"], a["dilation_rate"], a["padding"])


def _depthwise_args(rank: int) -> tuple[Arg, ...]:
    return (
        Arg("kernel_size", int_tuple(rank)),
        Arg("strides", int_tuple(rank), 1),
        Arg("padding", keras_padding("valid", "same"), "valid"),
        Arg("depth_multiplier", positive, 1),
        DATA_FORMAT,
        Arg("dilation_rate", int_tuple(rank), 1),
        Arg("activation", anything, None),
        Arg("use_bias", boolean, True),
    )


# ---- SeparableConv1D / 2D -------------------------------------------------------------


def _separable(rank: int, a: Mapping[str, Any], shapes: Sequence[Shape], ctx: Context) -> Inference:
    fmt, c_in, sizes = _feature_map(rank, a, shapes, ctx)
    dm, kernel, filters = a["depth_multiplier"], a["kernel_size"], a["filters"]
    ones, depth, out = (num(1),) * rank, _depth(c_in, dm), num(filters, "filters")
    if ctx.pytorch:
        weights = (depthwise_kernel(ctx, kernel, c_in, dm, "depthwise.weight"),
                   Weight("pointwise.weight", (out, depth, *ones)))
        bias_name = "pointwise.bias"
    else:
        weights = (depthwise_kernel(ctx, kernel, c_in, dm, "depthwise_kernel"),
                   Weight("pointwise_kernel", (*ones, depth, out)))
        bias_name = "bias"
    if a["use_bias"]:
        weights += (Weight(bias_name, (out,)),)
    note = _separable_note(rank, c_in, dm, kernel, filters, a["use_bias"]) if ctx.pytorch else ""
    depthwise, out_positions = _depthwise_macs(sizes, c_in, dm, kernel), positions(sizes)
    # Then a 1×1 convolution: each of the filters per position sums over the C·dm channels.
    macs = None if depthwise is None else total(depthwise, output_macs((*out_positions, out), (depth,)))
    return Inference(join_channels(filters, sizes_of(sizes), fmt), weights, spatial_notes(sizes), note, macs=macs,
                     window=_windows(a, shapes, fmt))


def _separable_note(rank: int, c_in: int, dm: int, kernel: Sequence[int], filters: int, use_bias: bool) -> str:
    depthwise = _torch_conv(rank, c_in, c_in * dm, tuple(kernel), f"groups={c_in}", "bias=False")
    pointwise = _torch_conv(rank, c_in * dm, filters, 1, f"bias={use_bias}")
    return (f"PyTorch has no separable convolution module; it is written as two, depthwise = {depthwise} and "
            f"pointwise = {pointwise}, whose tensors these are (left at PyTorch's default bias=True, the depthwise "
            f"conv would add {c_in * dm:,} parameters that Keras does not have)")


def _separable_args(rank: int) -> tuple[Arg, ...]:
    return (
        Arg("filters", positive),
        Arg("kernel_size", int_tuple(rank)),
        Arg("strides", int_tuple(rank), 1),
        Arg("padding", keras_padding("valid", "same"), "valid"),
        DATA_FORMAT,
        Arg("dilation_rate", int_tuple(rank), 1),
        Arg("depth_multiplier", positive, 1),
        Arg("activation", anything, None),
        Arg("use_bias", boolean, True),
    )


for _rank in (1, 2):
    register(Rule(
        name=f"DepthwiseConv{_rank}D", family="conv", args=_depthwise_args(_rank),
        infer=partial(_depthwise, _rank), layout=True, field=WINDOW,
        doc=f"Keras DepthwiseConv{_rank}D: kernel (k × C_in × depth_multiplier) + bias (C_in·depth_multiplier); "
            f"in PyTorch, nn.Conv{_rank}d(C_in, C_in·depth_multiplier, k, groups=C_in).",
    ))
    register(Rule(
        name=f"SeparableConv{_rank}D", family="conv", args=_separable_args(_rank),
        infer=partial(_separable, _rank), layout=True, field=WINDOW, aliases=(f"SeparableConvolution{_rank}D",),
        doc=f"Keras SeparableConv{_rank}D: depthwise_kernel (k × C_in × depth_multiplier, no bias) + "
            "pointwise_kernel (1 × C_in·depth_multiplier × filters) + bias (filters); in PyTorch, a depthwise "
            f"and a pointwise nn.Conv{_rank}d.",
    ))
