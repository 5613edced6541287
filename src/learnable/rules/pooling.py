"""Pooling: no parameters, only shapes.

Keras MaxPooling/AveragePooling{1,2,3}D: ``strides`` defaults to ``pool_size``; valid
gives floor((n − k)/s) + 1 (≥ 1), same gives ceil(n/s). Keras 3 gives MaxPooling a default
pool_size of 2 but AveragePooling none (CONVENTIONS.md §2.1).
PyTorch MaxPool/AvgPool{1,2,3}d: explicit padding, dilation (max only) and ceil_mode.
Global pooling keeps the channels; adaptive pooling (PyTorch) sets the spatial size.

MACs: max pooling compares (none); average pooling accumulates every value of a window
into its output, padding included: output values × window (docs/compute.md).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import partial
from typing import Any

from .._text import dims_text, with_article
from ..errors import ArgumentError, RuleError
from math import gcd

from ..expr import Expr, num, product
from ._args import REQUIRED, Arg, anything, boolean, int_tuple, optional, positive
from ._base import (
    DATA_FORMAT,
    GLOBAL,
    NO_MACS,
    WINDOW,
    Context,
    Inference,
    Rule,
    Shape,
    Window,
    feature_map,
    join_channels,
    known_dims,
    layout_of,
    output_macs,
    per_value_macs,
    spatial_notes,
)
from ._registry import PYTORCH, register
from ._spatial import check_torch_pool_padding, keras_padding, sizes_of, torch_padding, window_output, windows


def _keras_pool(rank: int, kind: str, a: Mapping[str, Any], shapes: Sequence[Shape], ctx: Context) -> Inference:
    fmt = layout_of(a, ctx)
    channels, spatial = feature_map(shapes[0], rank, fmt)
    window = a["pool_size"]
    strides = a["strides"] or window
    sizes = window_output(spatial, window, strides, (1,) * rank, a["padding"], "pool window")
    out = join_channels(channels, sizes_of(sizes), fmt)
    return Inference(out, shape_notes=spatial_notes(sizes), macs=_pool_macs(kind, out, window),
                     window=windows(spatial, window, strides, (1,) * rank, a["padding"]))


def _pool_macs(kind: str, out: Shape, window: Sequence[int]) -> Expr | None:
    if kind == "max":
        return NO_MACS
    dims = known_dims(out)
    return None if dims is None else output_macs(dims, tuple(num(k) for k in window))


def _keras_args(rank: int, default_pool: Any) -> tuple[Arg, ...]:
    return (
        Arg("pool_size", int_tuple(rank), default_pool),
        Arg("strides", optional(int_tuple(rank)), None),
        Arg("padding", keras_padding("valid", "same"), "valid"),
        DATA_FORMAT,
    )


def _torch_pool(rank: int, kind: str, a: Mapping[str, Any], shapes: Sequence[Shape], ctx: Context) -> Inference:
    channels, spatial = feature_map(shapes[0], rank, ctx.data_format)
    padding = a["padding"]
    if isinstance(padding, str):
        raise RuleError(f"padding must be a number for PyTorch pooling, got '{padding}'")
    window, dilation = a["kernel_size"], a.get("dilation", (1,) * rank)
    check_torch_pool_padding(window, padding)
    if rank == 3 and kind == "average" and any(n is not None and n < k for n, k in zip(spatial, window)):
        # avg_pool3d alone checks the unpadded input against the kernel (torch 2.13).
        raise RuleError(f"its input {dims_text(spatial)} is smaller than the kernel {dims_text(window)}; "
                        "PyTorch's AvgPool3d refuses this even when padding would make it fit")
    strides = a["stride"] or window
    sizes = window_output(spatial, window, strides, dilation, padding, "pool window", ceil_mode=a["ceil_mode"])
    out = join_channels(channels, sizes_of(sizes), ctx.data_format)
    return Inference(out, shape_notes=spatial_notes(sizes), macs=_pool_macs(kind, out, window),
                     window=windows(spatial, window, strides, dilation, padding))


def _torch_args(rank: int, *, dilation: bool) -> tuple[Arg, ...]:
    head = (
        Arg("kernel_size", int_tuple(rank)),
        Arg("stride", optional(int_tuple(rank, broadcast=True)), None),
        Arg("padding", torch_padding(rank), 0),
    )
    if dilation:  # MaxPool(kernel_size, stride, padding, dilation, return_indices, ceil_mode)
        return (*head, Arg("dilation", int_tuple(rank, broadcast=True), 1), Arg("return_indices", boolean, False),
                Arg("ceil_mode", boolean, False))
    # AvgPool(kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override)
    return (*head, Arg("ceil_mode", boolean, False), Arg("count_include_pad", boolean, True),
            Arg("divisor_override", anything, None))


def _global(rank: int, kind: str, a: Mapping[str, Any], shapes: Sequence[Shape], ctx: Context) -> Inference:
    fmt = layout_of(a, ctx)
    channels, _ = feature_map(shapes[0], rank, fmt)
    # An average accumulates every input value once: the input's size.
    macs = NO_MACS if kind == "max" else per_value_macs(shapes[0])
    if a["keepdims"]:
        return Inference(join_channels(channels, (1,) * rank, fmt), macs=macs)
    return Inference((channels,), macs=macs)


def _adaptive(rank: int, kind: str, a: Mapping[str, Any], shapes: Sequence[Shape], ctx: Context) -> Inference:
    channels, spatial = feature_map(shapes[0], rank, ctx.data_format)
    out = tuple(n if s is None else s for n, s in zip(spatial, a["output_size"]))
    macs = NO_MACS if kind == "max" else _adaptive_macs(channels, spatial, out)
    return Inference(join_channels(channels, out, ctx.data_format), macs=macs, window=_adaptive_windows(spatial, out))


def _adaptive_macs(channels: int | None, spatial: Shape, out: Shape) -> Expr | None:
    """Output i of an axis n → m averages inputs ⌊i·n/m⌋ to ⌈(i+1)·n/m⌉ (PyTorch's
    adaptive windows): channels × the total window length along each axis, which is
    Σ_i (⌈(i+1)·n/m⌉ − ⌊i·n/m⌋) = n + m − gcd(n, m) (the windows overlap by one input at
    each boundary that falls inside an input; tests/test_compute.py checks it by summing)."""
    if channels is None or any(n is None for n in spatial):
        return None
    return product(num(channels), *(num(n + m - gcd(n, m)) for n, m in zip(spatial, out)))


def _adaptive_windows(spatial: Shape, out: Shape) -> tuple[Window, ...] | None:
    """Equal windows when each output size divides its input's; otherwise they vary."""
    if any(n is None or n % m for n, m in zip(spatial, out)):
        return None
    return tuple(Window(n // m, n // m) for n, m in zip(spatial, out))


def _output_size(rank: int):
    """PyTorch adaptive pooling: one size, or one per axis where None keeps the input's."""

    def convert(value: Any) -> tuple[int | None, ...]:
        sizes = value if isinstance(value, (list, tuple)) else (value,) * rank
        if len(sizes) != rank:
            raise ArgumentError(None, f"must have {rank} values, got {value!r}")
        return tuple(None if s is None else positive(s) for s in sizes)

    return convert


def _register_family(rank: int) -> None:
    for kind, keras_name, torch_name, default_pool in (
        ("max", "MaxPooling", "MaxPool", 2),
        ("average", "AveragePooling", "AvgPool", REQUIRED),
    ):
        register(Rule(
            name=f"{keras_name}{rank}D", family="pooling", infer=partial(_keras_pool, rank, kind), field=WINDOW,
            args=_keras_args(rank, default_pool), layout=True, aliases=(f"{torch_name}{rank}D",),
            doc=f"Keras {keras_name}{rank}D: no parameters; {with_article(kind)} over each window.",
        ))
        register(Rule(
            name=f"{torch_name}{rank}d", family="pooling", infer=partial(_torch_pool, rank, kind), field=WINDOW,
            args=_torch_args(rank, dilation=kind == "max"), framework=PYTORCH, layout=True,
            doc=f"PyTorch nn.{torch_name}{rank}d: no parameters.",
        ))
        register(Rule(
            name=f"Global{keras_name.replace('Pooling', '')}Pooling{rank}D", family="pooling",
            infer=partial(_global, rank, kind), layout=True, field=GLOBAL,
            args=(DATA_FORMAT, Arg("keepdims", boolean, False)),
            aliases=(f"Global{torch_name}{rank}D",),
            doc=f"Keras global {kind} pooling: no parameters; one value per channel.",
        ))
        register(Rule(
            name=f"Adaptive{torch_name}{rank}d", family="pooling", infer=partial(_adaptive, rank, kind), field=WINDOW,
            args=(Arg("output_size", _output_size(rank)),
                  *((Arg("return_indices", boolean, False),) if kind == "max" else ())),
            framework=PYTORCH, layout=True,
            doc=f"PyTorch nn.Adaptive{torch_name}{rank}d: no parameters; a fixed output size.",
        ))


for _rank in (1, 2, 3):
    _register_family(_rank)
