"""Normalization: BatchNormalization, LayerNormalization, GroupNormalization,
RMSNormalization, UnitNormalization, Normalization (Keras); BatchNorm, InstanceNorm,
LayerNorm, GroupNorm, RMSNorm (PyTorch). Each keeps its input's shape.

What each convention lists (CONVENTIONS.md §1, checked against keras 3.15 and torch 2.13):
  Keras    gamma (scale), beta (center) trainable; BatchNormalization adds moving_mean and
           moving_variance as non-trainable weights (renorm=True: also moving_stddev,
           renorm_mean, renorm_stddev), so a BN row is 4C.
  PyTorch  weight (affine), bias (affine and bias=True) are parameters; running_mean,
           running_var and the 0-d num_batches_tracked (track_running_stats) are buffers,
           never parameters, so BatchNorm2d(C) is 2C params + 2C + 1 buffers.
A layer written in one framework's names and counted in the other convention lists the
tensors of its exact equivalent; where there is none (Keras center=True with scale=False,
renorm, LayerNormalization over axes that are not the trailing ones, ...) the row says so
and the layer is counted as its own framework counts it.
Keras axes count the batch as axis 0. LayerNormalization and RMSNormalization sort their
axis list as given, so ``axis=[-1, 1]`` on (10, 512) makes gamma (512, 10), as Keras does;
the preprocessing layer Normalization sorts its kept axes by position instead, so
``axis=[-1, 1]`` on (5, 6, 3) makes mean and variance (5, 3), and adds a 0-d count, all
non-trainable (no weights at all when mean and variance are given as constants).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import partial
from typing import Any

from ..errors import ArgumentError, RuleError
from ..expr import Expr, num
from ._args import Arg, anything, boolean, integer, positive
from ._base import (
    CHANNELS_LAST,
    KERAS,
    PYTORCH,
    Context,
    Inference,
    Rule,
    Shape,
    Weight,
    known,
    layout_desc,
    shape_text,
    split_channels,
)
from ._registry import register
from .merge import example_axis

# ---- converters -------------------------------------------------------------------------


def number(value: Any) -> float:
    """epsilon, momentum, init: never part of a count, but a typo should still be caught."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ArgumentError(None, f"must be a number, got {value!r}")
    return value


def _optional_number(value: Any) -> float | None:
    return None if value is None else number(value)


def _axes(value: Any) -> int | tuple[int, ...]:
    """A Keras axis, or a non-empty list of them."""
    if isinstance(value, (list, tuple)):
        if not value:
            raise ArgumentError(None, "must name at least one axis, got an empty list")
        return tuple(integer(v) for v in value)
    return integer(value)


def _dims(value: Any) -> tuple[int, ...]:
    """PyTorch's normalized_shape: an int or a list of positive sizes."""
    values = value if isinstance(value, (list, tuple)) else [value]
    if not values:
        raise ArgumentError(None, "must have at least one dimension, got an empty list")
    return tuple(positive(v) for v in values)


def _groups(value: Any) -> int:
    if integer(value) == -1 or value >= 1:
        return value
    raise ArgumentError(None, f"must be a positive integer (or -1 for instance normalization), got {value}")


# ---- helpers shared by the family ---------------------------------------------------------

KERAS_CONTEXT = Context(convention=KERAS)
PYTORCH_CONTEXT = Context(convention=PYTORCH)


def affine(dims: tuple[Expr, ...], ctx: Context, scale: bool, center: bool) -> tuple[Weight, ...]:
    """The learned scale and shift: Keras ``gamma``/``beta``, PyTorch ``weight``/``bias``."""
    names = ("weight", "bias") if ctx.pytorch else ("gamma", "beta")
    return tuple(Weight(name, dims) for name, on in zip(names, (scale, center)) if on)


def statistics(c: Expr, ctx: Context) -> tuple[Weight, ...]:
    """Running statistics: non-trainable weights in Keras, buffers in PyTorch."""
    if ctx.pytorch:
        return (Weight("running_mean", (c,), False, True), Weight("running_var", (c,), False, True),
                Weight("num_batches_tracked", (), False, True))
    return Weight("moving_mean", (c,), False), Weight("moving_variance", (c,), False)


def foreign(own: str, other: str, why: str) -> str:
    return f"{other} has no exact equivalent ({why}); counted as {own} counts it"


def batch_norm_note(c: int) -> str:
    return (f"Keras keeps moving_mean and moving_variance as non-trainable weights (2×{c:,}), counted in "
            f"its params; PyTorch keeps running_mean, running_var and num_batches_tracked as buffers "
            f"(2×{c:,} + 1), which are not parameters")


def keras_axis(axis: int, x: Shape) -> int:
    """A Keras axis (batch = 0) as an index into an example's shape."""
    index = example_axis(axis, len(x))
    if index < 0:
        raise RuleError(f"axis={axis} is the batch axis; normalize an axis of the example (1 to {len(x)}, or negative)")
    return index


def keras_axes(axis: int | tuple[int, ...], x: Shape) -> list[int]:
    """Keras sorts an axis list as written (negative values first) before it reads the sizes."""
    indices = [keras_axis(a, x) for a in (sorted(axis) if isinstance(axis, tuple) else [axis])]
    if len(set(indices)) < len(indices):
        raise RuleError(f"axis={list(axis)} names the same axis twice")
    return indices


def sizes_on(x: Shape, indices: Sequence[int]) -> tuple[Expr, ...]:
    return tuple(num(known(x[i], f"size on axis {i + 1}"), "d") for i in indices)


def torch_channels(x: Shape, ctx: Context, spatial_ranks: Sequence[int] | None = None) -> int | None:
    """The channels a PyTorch module reads (dim 1 with the batch; the last axis in a
    channels-last network), after checking the input's rank against the module's."""
    if not x or (spatial_ranks and len(x) - 1 not in spatial_ranks):
        wanted = " or ".join(f"{r + 1}-D" for r in spatial_ranks or (0,))
        layouts = " or ".join("channels" if r == 0 else layout_desc(r, ctx.data_format) for r in spatial_ranks or (0,))
        raise RuleError(f"expects a {wanted} input ({layouts}, batch excluded), got shape {shape_text(x)}")
    return x[0] if len(x) == 1 else split_channels(x, ctx.data_format)[0]


def check_features(x: Shape, ctx: Context, channels: int | None, expected: int, arg: str) -> None:
    if channels is None or channels == expected:
        return
    hint = ""
    if len(x) > 1 and ctx.data_format == CHANNELS_LAST and x[0] == expected:
        hint = ("; PyTorch tensors are channels-first: set 'data_format: channels_first' in the spec "
                "(or --data-format channels_first)")
    raise RuleError(f"{arg}={expected} but its input {shape_text(x)} has {channels} channels{hint}")


_IGNORED = tuple(Arg(n, anything, None) for n in (
    "beta_initializer", "gamma_initializer", "beta_regularizer", "gamma_regularizer",
    "beta_constraint", "gamma_constraint"))
_CENTER_SCALE = (Arg("center", boolean, True), Arg("scale", boolean, True))
_DEVICE = (Arg("device", anything, None), Arg("dtype", anything, None))


# ---- BatchNormalization / BatchNorm ------------------------------------------------------


def _keras_batch_norm(a: Mapping[str, Any], shapes: Sequence[Shape], ctx: Context) -> Inference:
    x = shapes[0]
    c = known(x[keras_axis(a["axis"], x)], f"size on axis {a['axis']}")
    dims, scale, center = (num(c, "C"),), a["scale"], a["center"]
    why = "renorm=True" if a["renorm"] else "center=True with scale=False" if center and not scale else ""
    if not why:  # torch: BatchNorm(C, affine=scale, bias=center)
        return Inference(x, affine(dims, ctx, scale, center) + statistics(dims[0], ctx), note=batch_norm_note(c))
    extra = tuple(Weight(n, dims, False) for n in ("moving_stddev", "renorm_mean", "renorm_stddev") if a["renorm"])
    weights = affine(dims, KERAS_CONTEXT, scale, center) + statistics(dims[0], KERAS_CONTEXT) + extra
    why += "; the moving statistics stay non-trainable weights"
    return Inference(x, weights, note=foreign("Keras", "PyTorch's BatchNorm", why) if ctx.pytorch else "")


register(Rule(
    name="BatchNormalization", family="norm", infer=_keras_batch_norm,
    args=(Arg("axis", integer, -1), Arg("momentum", number, 0.99), Arg("epsilon", number, 1e-3), *_CENTER_SCALE,
          *_IGNORED[:2], Arg("moving_mean_initializer", anything, None),
          Arg("moving_variance_initializer", anything, None),
          *_IGNORED[2:], Arg("renorm", boolean, False), Arg("renorm_clipping", anything, None),
          Arg("renorm_momentum", number, 0.99), Arg("synchronized", boolean, False)),
    doc="Keras BatchNormalization: gamma (C) + beta (C) trainable, moving_mean (C) + moving_variance (C) "
        "non-trainable = 4C (renorm adds 3C non-trainable).",
))


def _torch_norm_args(affine_default: bool, track_default: bool) -> tuple[Arg, ...]:
    return (Arg("num_features", positive), Arg("eps", number, 1e-5), Arg("momentum", _optional_number, 0.1),
            Arg("affine", boolean, affine_default), Arg("track_running_stats", boolean, track_default),
            *_DEVICE, Arg("bias", boolean, True))


_BN_SPATIAL = {1: (0, 1), 2: (2,), 3: (3,)}  # BatchNorm1d takes (N, C) or (N, C, L)


def _torch_batch_norm(rank: int, a: Mapping[str, Any], shapes: Sequence[Shape], ctx: Context) -> Inference:
    x, c, fit, track = shapes[0], a["num_features"], a["affine"], a["track_running_stats"]
    channels = torch_channels(x, ctx, _BN_SPATIAL[rank])
    if fit or track:  # without per-channel tensors torch never compares num_features with the input
        check_features(x, ctx, channels, c, "num_features")
    dims = (num(c, "C"),)
    if not track and not ctx.pytorch:
        why = "its BatchNormalization always keeps moving statistics; here track_running_stats=False"
        weights = affine(dims, PYTORCH_CONTEXT, fit, fit and a["bias"])
        return Inference(x, weights, note=foreign("PyTorch", "Keras", why))
    stats = statistics(dims[0], ctx) if track else ()
    return Inference(x, affine(dims, ctx, fit, fit and a["bias"]) + stats, note=batch_norm_note(c) if track else "")


for _rank in (1, 2, 3):
    register(Rule(
        name=f"BatchNorm{_rank}d", family="norm", infer=partial(_torch_batch_norm, _rank), framework=PYTORCH,
        layout=True, args=_torch_norm_args(True, True),
        doc=f"PyTorch nn.BatchNorm{_rank}d: parameters weight (C) + bias (C) when affine; buffers running_mean (C), "
            "running_var (C), num_batches_tracked (1) when track_running_stats.",
    ))


# ---- InstanceNorm (PyTorch only) ---------------------------------------------------------


def _instance_norm(rank: int, a: Mapping[str, Any], shapes: Sequence[Shape], ctx: Context) -> Inference:
    x, c, fit, track = shapes[0], a["num_features"], a["affine"], a["track_running_stats"]
    channels = torch_channels(x, ctx, (rank,))
    if fit or track:  # torch only warns about a mismatch when the layer owns no per-channel tensor
        check_features(x, ctx, channels, c, "num_features")
    dims, bias = (num(c, "C"),), fit and a["bias"]
    if ctx.pytorch or track:
        weights = affine(dims, PYTORCH_CONTEXT, fit, bias) + (statistics(dims[0], PYTORCH_CONTEXT) if track else ())
        why = "it has no InstanceNorm; GroupNormalization(groups=-1) keeps no running statistics"
        note = "" if ctx.pytorch else foreign("PyTorch", "Keras", why)
        return Inference(x, weights, note=note)
    note = ("Keras has no InstanceNorm; GroupNormalization(groups=-1"
            f"{'' if fit else ', center=False, scale=False'}) is the same computation and is counted here")
    return Inference(x, affine(dims, ctx, fit, bias), note=note)


for _rank in (1, 2, 3):
    register(Rule(
        name=f"InstanceNorm{_rank}d", family="norm", infer=partial(_instance_norm, _rank), framework=PYTORCH,
        layout=True, args=_torch_norm_args(False, False),
        doc=f"PyTorch nn.InstanceNorm{_rank}d: by default affine=False and track_running_stats=False, so 0; "
            "weight (C) + bias (C) when affine, and BatchNorm's buffers when tracking.",
    ))


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
        return Inference(x, affine(dims, ctx, scale, center))
    note = foreign("Keras", "PyTorch's LayerNorm", why) if ctx.pytorch else ""
    return Inference(x, affine(dims, KERAS_CONTEXT, scale, center), note=note)


register(Rule(
    name="LayerNormalization", family="norm", infer=_keras_layer_norm,
    args=(Arg("axis", _axes, -1), Arg("epsilon", number, 1e-3), *_CENTER_SCALE, *_IGNORED,
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
    return Inference(shapes[0], affine(dims, ctx, fit, fit and a["bias"]))


register(Rule(
    name="LayerNorm", family="norm", infer=_torch_layer_norm, framework=PYTORCH,
    args=(Arg("normalized_shape", _dims), Arg("eps", number, 1e-5), Arg("elementwise_affine", boolean, True),
          Arg("bias", boolean, True), *_DEVICE),
    doc="PyTorch nn.LayerNorm: weight + bias, each shaped normalized_shape (bias=False drops the bias).",
))


def _keras_rms_norm(a: Mapping[str, Any], shapes: Sequence[Shape], ctx: Context) -> Inference:
    x = shapes[0]
    indices = keras_axes(a["axis"], x)
    dims = sizes_on(x, indices)
    if ctx.pytorch and _trailing(indices, len(x)):
        return Inference(x, (Weight("weight", dims),))
    note = foreign("Keras", "PyTorch's RMSNorm", "it normalizes only the last axes, in order") if ctx.pytorch else ""
    return Inference(x, (Weight("scale", dims),), note=note)


register(Rule(
    name="RMSNormalization", family="norm", infer=_keras_rms_norm,
    args=(Arg("axis", _axes, -1), Arg("epsilon", number, 1e-6)),
    doc="Keras RMSNormalization: scale, shaped like the normalized axes (no shift).",
))


def _torch_rms_norm(a: Mapping[str, Any], shapes: Sequence[Shape], ctx: Context) -> Inference:
    _check_trailing(shapes[0], a["normalized_shape"])
    dims = tuple(num(d, "d") for d in a["normalized_shape"])
    if a["elementwise_affine"]:
        return Inference(shapes[0], (Weight("weight" if ctx.pytorch else "scale", dims),))
    note = "" if ctx.pytorch else foreign("PyTorch", "Keras", "its RMSNormalization always learns a scale")
    return Inference(shapes[0], note=note)


register(Rule(
    name="RMSNorm", family="norm", infer=_torch_rms_norm, framework=PYTORCH,
    args=(Arg("normalized_shape", _dims), Arg("eps", _optional_number, None), Arg("elementwise_affine", boolean, True),
          *_DEVICE),
    doc="PyTorch nn.RMSNorm: weight shaped normalized_shape (none with elementwise_affine=False).",
))


# ---- GroupNormalization / GroupNorm -------------------------------------------------------


def _check_groups(channels: int, groups: int, what: str) -> None:
    if groups > channels or channels % groups:
        raise RuleError(f"{what}={groups} must divide its {channels} channels")


def _keras_group_norm(a: Mapping[str, Any], shapes: Sequence[Shape], ctx: Context) -> Inference:
    x = shapes[0]
    c = known(x[keras_axis(a["axis"], x)], f"size on axis {a['axis']}")
    _check_groups(c, c if a["groups"] == -1 else a["groups"], "groups")
    dims, scale, center = (num(c, "C"),), a["scale"], a["center"]
    if not center or scale:  # torch: GroupNorm(groups, C, affine=scale, bias=center)
        return Inference(x, affine(dims, ctx, scale, center))
    note = foreign("Keras", "PyTorch's GroupNorm", "it cannot learn a shift without a scale") if ctx.pytorch else ""
    return Inference(x, affine(dims, KERAS_CONTEXT, scale, center), note=note)


register(Rule(
    name="GroupNormalization", family="norm", infer=_keras_group_norm,
    args=(Arg("groups", _groups, 32), Arg("axis", integer, -1), Arg("epsilon", number, 1e-3), *_CENTER_SCALE,
          *_IGNORED),
    doc="Keras GroupNormalization: gamma (C) + beta (C) whatever groups is; no moving statistics.",
))


def _torch_group_norm(a: Mapping[str, Any], shapes: Sequence[Shape], ctx: Context) -> Inference:
    x, groups, c, fit = shapes[0], a["num_groups"], a["num_channels"], a["affine"]
    _check_groups(c, groups, "num_groups")
    channels = torch_channels(x, ctx)
    if channels is not None:
        _check_groups(channels, groups, "num_groups")
    if fit:  # torch compares num_channels with the input only through the affine tensors
        check_features(x, ctx, channels, c, "num_channels")
    return Inference(x, affine((num(c, "C"),), ctx, fit, fit and a["bias"]))


register(Rule(
    name="GroupNorm", family="norm", infer=_torch_group_norm, framework=PYTORCH, layout=True,
    args=(Arg("num_groups", positive), Arg("num_channels", positive), Arg("eps", number, 1e-5),
          Arg("affine", boolean, True), *_DEVICE, Arg("bias", boolean, True)),
    doc="PyTorch nn.GroupNorm: weight (C) + bias (C) when affine, whatever num_groups is; no buffers.",
))


# ---- Normalization (Keras preprocessing) --------------------------------------------------


def _kept_axes(value: Any) -> tuple[int, ...]:
    """Normalization's axis: the axes that keep their own statistics (None: none, one overall)."""
    if value is None:
        return ()
    return _axes(value) if isinstance(value, (list, tuple)) else (integer(value),)


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
                                 "(and torch.nn has no Normalization layer)")
    weights = (Weight("mean", dims, False), Weight("variance", dims, False), Weight("count", (), False))
    why = "torch.nn has no Normalization layer; Keras keeps mean, variance and count as non-trainable weights"
    return Inference(x, weights, note=foreign("Keras", "PyTorch", why) if ctx.pytorch else "")


register(Rule(
    name="Normalization", family="norm", infer=_keras_normalization,
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
    return Inference(shapes[0], note=note)


register(Rule(
    name="UnitNormalization", family="norm", infer=_unit_norm, args=(Arg("axis", _axes, -1),),
    doc="Keras UnitNormalization: no parameters; scales to unit L2 norm along the axis.",
))
