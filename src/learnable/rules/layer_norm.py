"""Normalization over the feature axes: LayerNormalization, RMSNormalization,
UnitNormalization, Normalization (Keras); LayerNorm, RMSNorm (PyTorch). The conventions
and shared helpers are described in ``norm.py``.

Keras axes count the batch as axis 0. LayerNormalization and RMSNormalization sort their
axis list as given, so ``axis=[-1, 1]`` on (10, 512) makes gamma (512, 10), as Keras does;
the preprocessing layer Normalization sorts its kept axes by position instead, so
``axis=[-1, 1]`` on (5, 6, 3) makes mean and variance (5, 3), and adds a 0-d count, all
non-trainable (no weights at all when mean and variance are given as constants).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..errors import RuleError
from ..expr import num
from ._args import Arg, anything, boolean, integer, number, optional
from ._base import POINTWISE, PYTORCH, Context, Inference, Rule, Shape, Weight, per_value_macs, shape_text
from ._registry import register
from .norm import (
    CENTER_SCALE,
    DEVICE_ARGS,
    IGNORED_ARGS,
    KERAS_CONTEXT,
    affine,
    axes_arg,
    dims_arg,
    foreign,
    keras_axes,
    keras_axis,
    sizes_on,
)

# ---- LayerNormalization / LayerNorm, RMSNormalization / RMSNorm ---------------------------


def _trailing(indices: Sequence[int], rank: int) -> bool:
    """torch's LayerNorm and RMSNorm normalize the last axes, in order, and nothing else."""
    return list(indices) == list(range(rank - len(indices), rank))


def _keras_layer_norm(a: Mapping[str, Any], shapes: Sequence[Shape], ctx: Context) -> Inference:
    x, rms = shapes[0], a["rms_scaling"]
    indices = keras_axes(a["axis"], x)
    dims, scale, center = sizes_on(x, indices), a["scale"] or rms, a["center"] and not rms
    why = ("rms_scaling=True divides by the variance" if rms
           else "it normalizes only the last axes, in order" if not _trailing(indices, len(x))
           else "it cannot learn a shift without a scale" if center and not scale else "")
    if not why:  # torch: LayerNorm(dims, elementwise_affine=scale, bias=center)
        return Inference(x, affine(dims, ctx, scale, center), macs=per_value_macs(x))
    note = foreign("Keras", "PyTorch's LayerNorm", why) if ctx.pytorch else ""
    return Inference(x, affine(dims, KERAS_CONTEXT, scale, center), note=note, macs=per_value_macs(x))


register(Rule(
    name="LayerNormalization", family="norm", field=POINTWISE, infer=_keras_layer_norm,
    args=(Arg("axis", axes_arg, -1), Arg("epsilon", number, 1e-3), *CENTER_SCALE, *IGNORED_ARGS,
          Arg("rms_scaling", boolean, False)),
    doc="Keras LayerNormalization: gamma + beta, each shaped like the normalized axes; all trainable.",
))


def _check_trailing(x: Shape, dims: tuple[int, ...]) -> None:
    tail = x[len(x) - len(dims):]
    if len(dims) > len(x) or any(t is not None and t != d for t, d in zip(tail, dims)):
        raise RuleError(f"normalized_shape={shape_text(dims)} must be the last dimensions of its input {shape_text(x)}")


def _torch_layer_norm(a: Mapping[str, Any], shapes: Sequence[Shape], ctx: Context) -> Inference:
    _check_trailing(shapes[0], a["normalized_shape"])
    fit = a["elementwise_affine"]
    dims = tuple(num(d, "d") for d in a["normalized_shape"])
    return Inference(shapes[0], affine(dims, ctx, fit, fit and a["bias"]), macs=per_value_macs(shapes[0]))


register(Rule(
    name="LayerNorm", family="norm", field=POINTWISE, infer=_torch_layer_norm, framework=PYTORCH,
    args=(Arg("normalized_shape", dims_arg), Arg("eps", number, 1e-5), Arg("elementwise_affine", boolean, True),
          Arg("bias", boolean, True), *DEVICE_ARGS),
    doc="PyTorch nn.LayerNorm: weight + bias, each shaped normalized_shape (bias=False drops the bias).",
))


def _keras_rms_norm(a: Mapping[str, Any], shapes: Sequence[Shape], ctx: Context) -> Inference:
    x = shapes[0]
    indices = keras_axes(a["axis"], x)
    dims = sizes_on(x, indices)
    if ctx.pytorch and _trailing(indices, len(x)):
        return Inference(x, (Weight("weight", dims),), macs=per_value_macs(x))
    note = foreign("Keras", "PyTorch's RMSNorm", "it normalizes only the last axes, in order") if ctx.pytorch else ""
    return Inference(x, (Weight("scale", dims),), note=note, macs=per_value_macs(x))


register(Rule(
    name="RMSNormalization", family="norm", field=POINTWISE, infer=_keras_rms_norm,
    args=(Arg("axis", axes_arg, -1), Arg("epsilon", number, 1e-6)),
    doc="Keras RMSNormalization: scale, shaped like the normalized axes (no shift).",
))


def _torch_rms_norm(a: Mapping[str, Any], shapes: Sequence[Shape], ctx: Context) -> Inference:
    _check_trailing(shapes[0], a["normalized_shape"])
    dims = tuple(num(d, "d") for d in a["normalized_shape"])
    if a["elementwise_affine"]:
        weight = Weight("weight" if ctx.pytorch else "scale", dims)
        return Inference(shapes[0], (weight,), macs=per_value_macs(shapes[0]))
    note = "" if ctx.pytorch else foreign("PyTorch", "Keras", "its RMSNormalization always learns a scale")
    return Inference(shapes[0], note=note, macs=per_value_macs(shapes[0]))


register(Rule(
    name="RMSNorm", family="norm", field=POINTWISE, infer=_torch_rms_norm, framework=PYTORCH,
    args=(Arg("normalized_shape", dims_arg), Arg("eps", optional(number), None),
          Arg("elementwise_affine", boolean, True),
          *DEVICE_ARGS),
    doc="PyTorch nn.RMSNorm: weight shaped normalized_shape (none with elementwise_affine=False).",
))


# ---- Normalization (Keras preprocessing) --------------------------------------------------


def _kept_axes(value: Any) -> tuple[int, ...]:
    """Normalization's axis: the axes that keep their own statistics (None: none, one overall)."""
    if value is None:
        return ()
    return axes_arg(value) if isinstance(value, (list, tuple)) else (integer(value),)


def _constant_shape(value: Any, what: str) -> tuple[int, ...]:
    """The shape of a constant mean or variance: a number or a rectangular nested list."""
    if isinstance(value, (list, tuple)):
        shapes = {_constant_shape(v, what) for v in value}
        if len(shapes) > 1:
            raise RuleError(f"{what} must be a number or a rectangular list of numbers, got {value!r}")
        return (len(value), *(shapes.pop() if shapes else ()))
    number(value)
    return ()


def _keras_normalization(a: Mapping[str, Any], shapes: Sequence[Shape], ctx: Context) -> Inference:
    x, mean, variance = shapes[0], a["mean"], a["variance"]
    indices = sorted(keras_axis(axis, x) for axis in a["axis"])  # Keras sorts the kept axes by position
    if len(set(indices)) < len(indices):
        raise RuleError(f"axis={list(a['axis'])} names the same axis twice")
    dims = sizes_on(x, indices)
    if (mean is None) != (variance is None):
        raise RuleError(f"give both mean and variance, or neither (got mean={mean!r}, variance={variance!r})")
    if mean is not None:
        rank = _constant_shape(mean, "mean")
        if rank != _constant_shape(variance, "variance"):
            raise RuleError(f"mean and variance must have the same shape, got {list(rank)} and "
                            f"{list(_constant_shape(variance, 'variance'))}")
        if len(rank) > len(indices):
            raise RuleError(f"mean has rank {len(rank)}, more than the number of axes kept ({len(indices)})")
        return Inference(x, note="mean and variance are given as constants, so Keras creates no weights "
                                 "(and torch.nn has no Normalization layer)", macs=per_value_macs(x))
    weights = (Weight("mean", dims, False), Weight("variance", dims, False), Weight("count", (), False))
    why = "torch.nn has no Normalization layer; Keras keeps mean, variance and count as non-trainable weights"
    return Inference(x, weights, note=foreign("Keras", "PyTorch", why) if ctx.pytorch else "", macs=per_value_macs(x))


register(Rule(
    name="Normalization", family="norm", field=POINTWISE, infer=_keras_normalization,
    args=(Arg("axis", _kept_axes, -1), Arg("mean", anything, None), Arg("variance", anything, None),
          Arg("invert", boolean, False)),
    doc="Keras Normalization (preprocessing): mean + variance, shaped like the kept axes, and a 0-d count; "
        "all non-trainable, and none when mean and variance are given as constants.",
))


# ---- UnitNormalization --------------------------------------------------------------------


def _unit_norm(a: Mapping[str, Any], shapes: Sequence[Shape], ctx: Context) -> Inference:
    keras_axes(a["axis"], shapes[0])
    why = "torch.nn has no UnitNormalization module; torch.nn.functional.normalize owns no tensors"
    note = foreign("Keras", "PyTorch", why) if ctx.pytorch else ""
    return Inference(shapes[0], note=note, macs=per_value_macs(shapes[0]))


register(Rule(
    name="UnitNormalization", family="norm", field=POINTWISE, infer=_unit_norm, args=(Arg("axis", axes_arg, -1),),
    doc="Keras UnitNormalization: no parameters; scales to unit L2 norm along the axis.",
))
