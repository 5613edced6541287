"""Pooling: no parameters, only shapes.

Keras MaxPooling/AveragePooling{1,2,3}D: ``strides`` defaults to ``pool_size``; valid
gives floor((n − k)/s) + 1 (≥ 1), same gives ceil(n/s). Keras 3 gives MaxPooling a default
pool_size of 2 but AveragePooling none (CONVENTIONS.md §2.1).
PyTorch MaxPool/AvgPool{1,2,3}d: explicit padding, dilation (max only) and ceil_mode.
Global pooling keeps the channels; adaptive pooling (PyTorch) sets the spatial size.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import partial
from typing import Any

from .._text import dims_text
from ..errors import ArgumentError, RuleError
from ._args import REQUIRED, Arg, anything, boolean, int_tuple, optional, positive
from ._base import (
    DATA_FORMAT,
    Context,
    Inference,
    Rule,
    Shape,
    feature_map,
    join_channels,
    layout_of,
    spatial_notes,
)
from ._registry import PYTORCH, register
from ._spatial import check_torch_pool_padding, keras_padding, sizes_of, torch_padding, window_output


def _keras_pool(rank: int, a: Mapping[str, Any], shapes: Sequence[Shape], ctx: Context) -> Inference:
    fmt = layout_of(a, ctx)
    channels, spatial = feature_map(shapes[0], rank, fmt)
    window = a["pool_size"]
    strides = a["strides"] or window
    sizes = window_output(spatial, window, strides, (1,) * rank, a["padding"], "pool window")
    return Inference(join_channels(channels, sizes_of(sizes), fmt), shape_notes=spatial_notes(sizes))


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
    sizes = window_output(
        spatial, window, a["stride"] or window, dilation, padding, "pool window", ceil_mode=a["ceil_mode"]
    )
    return Inference(join_channels(channels, sizes_of(sizes), ctx.data_format), shape_notes=spatial_notes(sizes))


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


def _global(rank: int, a: Mapping[str, Any], shapes: Sequence[Shape], ctx: Context) -> Inference:
    fmt = layout_of(a, ctx)
    channels, _ = feature_map(shapes[0], rank, fmt)
    if a["keepdims"]:
        return Inference(join_channels(channels, (1,) * rank, fmt))
    return Inference((channels,))


def _adaptive(rank: int, a: Mapping[str, Any], shapes: Sequence[Shape], ctx: Context) -> Inference:
    channels, spatial = feature_map(shapes[0], rank, ctx.data_format)
    out = tuple(n if s is None else s for n, s in zip(spatial, a["output_size"]))
    return Inference(join_channels(channels, out, ctx.data_format))


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
            name=f"{keras_name}{rank}D", family="pooling", infer=partial(_keras_pool, rank),
            args=_keras_args(rank, default_pool), layout=True, aliases=(f"{torch_name}{rank}D",),
            doc=f"Keras {keras_name}{rank}D: no parameters; a {kind} over each window.",
        ))
        register(Rule(
            name=f"{torch_name}{rank}d", family="pooling", infer=partial(_torch_pool, rank, kind),
            args=_torch_args(rank, dilation=kind == "max"), framework=PYTORCH, layout=True,
            doc=f"PyTorch nn.{torch_name}{rank}d: no parameters.",
        ))
        register(Rule(
            name=f"Global{keras_name.replace('Pooling', '')}Pooling{rank}D", family="pooling",
            infer=partial(_global, rank), layout=True,
            args=(DATA_FORMAT, Arg("keepdims", boolean, False)),
            aliases=(f"Global{torch_name}{rank}D",),
            doc=f"Keras global {kind} pooling: no parameters; one value per channel.",
        ))
        register(Rule(
            name=f"Adaptive{torch_name}{rank}d", family="pooling", infer=partial(_adaptive, rank),
            args=(Arg("output_size", _output_size(rank)),
                  *((Arg("return_indices", boolean, False),) if kind == "max" else ())),
            framework=PYTORCH, layout=True,
            doc=f"PyTorch nn.Adaptive{torch_name}{rank}d: no parameters; a fixed output size.",
        ))


for _rank in (1, 2, 3):
    _register_family(_rank)
