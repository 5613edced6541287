"""Normalization: BatchNormalization, GroupNormalization (Keras); BatchNorm, InstanceNorm,
GroupNorm (PyTorch); LocalResponseNorm (AlexNet's, no weights); and the helpers the family shares (the feature-axis normalizations
are in ``layer_norm.py``). Each keeps its input's shape.

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

MACs: one multiply-accumulate per value, the normalization folded into a scale and a
shift as at inference (BatchNorm's statistics are constants then; the statistics that
LayerNorm, GroupNorm and InstanceNorm compute per example are not counted).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import partial
from typing import Any

from .._text import with_article
from ..errors import ArgumentError, RuleError
from ..expr import Expr, num, total
from ._args import Arg, anything, boolean, integer, non_negative, number, optional, positive
from ._base import (
    CHANNELS_LAST,
    KERAS,
    POINTWISE,
    PYTORCH,
    Context,
    Inference,
    Rule,
    Shape,
    Weight,
    known,
    layout_desc,
    output_macs,
    per_value_macs,
    shape_text,
    split_channels,
)
from ._registry import register
from .merge import example_axis

# ---- converters -------------------------------------------------------------------------




def axes_arg(value: Any) -> int | tuple[int, ...]:
    """A Keras axis, or a non-empty list of them."""
    if isinstance(value, (list, tuple)):
        if not value:
            raise ArgumentError(None, "must name at least one axis, got an empty list")
        return tuple(integer(v) for v in value)
    return integer(value)


def dims_arg(value: Any) -> tuple[int, ...]:
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
        raise RuleError(f"expects {with_article(wanted)} input ({layouts}, batch excluded), got shape {shape_text(x)}")
    return x[0] if len(x) == 1 else split_channels(x, ctx.data_format)[0]


def check_features(x: Shape, ctx: Context, channels: int | None, expected: int, arg: str) -> None:
    if channels is None or channels == expected:
        return
    hint = ""
    if len(x) > 1 and ctx.data_format == CHANNELS_LAST and x[0] == expected:
        hint = ("; PyTorch tensors are channels-first: set 'data_format: channels_first' in the spec "
                "(or --data-format channels_first)")
    raise RuleError(f"{arg}={expected} but its input {shape_text(x)} has {channels} channels{hint}")


IGNORED_ARGS = tuple(Arg(n, anything, None) for n in (
    "beta_initializer", "gamma_initializer", "beta_regularizer", "gamma_regularizer",
    "beta_constraint", "gamma_constraint"))
CENTER_SCALE = (Arg("center", boolean, True), Arg("scale", boolean, True))
DEVICE_ARGS = (Arg("device", anything, None), Arg("dtype", anything, None))


# ---- BatchNormalization / BatchNorm ------------------------------------------------------


def _keras_batch_norm(a: Mapping[str, Any], shapes: Sequence[Shape], ctx: Context) -> Inference:
    x = shapes[0]
    c = known(x[keras_axis(a["axis"], x)], f"size on axis {a['axis']}")
    dims, scale, center = (num(c, "C"),), a["scale"], a["center"]
    why = "renorm=True" if a["renorm"] else "center=True with scale=False" if center and not scale else ""
    if not why:  # torch: BatchNorm(C, affine=scale, bias=center)
        weights = affine(dims, ctx, scale, center) + statistics(dims[0], ctx)
        return Inference(x, weights, note=batch_norm_note(c), macs=per_value_macs(x))
    extra = tuple(Weight(n, dims, False) for n in ("moving_stddev", "renorm_mean", "renorm_stddev") if a["renorm"])
    weights = affine(dims, KERAS_CONTEXT, scale, center) + statistics(dims[0], KERAS_CONTEXT) + extra
    why += "; the moving statistics stay non-trainable weights"
    note = foreign("Keras", "PyTorch's BatchNorm", why) if ctx.pytorch else ""
    return Inference(x, weights, note=note, macs=per_value_macs(x))


register(Rule(
    name="BatchNormalization", family="norm", field=POINTWISE, infer=_keras_batch_norm,
    args=(Arg("axis", integer, -1), Arg("momentum", number, 0.99), Arg("epsilon", number, 1e-3), *CENTER_SCALE,
          *IGNORED_ARGS[:2], Arg("moving_mean_initializer", anything, None),
          Arg("moving_variance_initializer", anything, None),
          *IGNORED_ARGS[2:], Arg("renorm", boolean, False), Arg("renorm_clipping", anything, None),
          Arg("renorm_momentum", number, 0.99), Arg("synchronized", boolean, False)),
    doc="Keras BatchNormalization: gamma (C) + beta (C) trainable, moving_mean (C) + moving_variance (C) "
        "non-trainable = 4C (renorm adds 3C non-trainable).",
))


def _torch_norm_args(affine_default: bool, track_default: bool) -> tuple[Arg, ...]:
    return (Arg("num_features", positive), Arg("eps", number, 1e-5), Arg("momentum", optional(number), 0.1),
            Arg("affine", boolean, affine_default), Arg("track_running_stats", boolean, track_default),
            *DEVICE_ARGS, Arg("bias", boolean, True))


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
        return Inference(x, weights, note=foreign("PyTorch", "Keras", why), macs=per_value_macs(x))
    stats = statistics(dims[0], ctx) if track else ()
    weights = affine(dims, ctx, fit, fit and a["bias"]) + stats
    return Inference(x, weights, note=batch_norm_note(c) if track else "", macs=per_value_macs(x))


for _rank in (1, 2, 3):
    register(Rule(
        name=f"BatchNorm{_rank}d", family="norm", field=POINTWISE, infer=partial(_torch_batch_norm, _rank),
        framework=PYTORCH,
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
        return Inference(x, weights, note=note, macs=per_value_macs(x))
    note = ("Keras has no InstanceNorm; GroupNormalization(groups=-1"
            f"{'' if fit else ', center=False, scale=False'}) is the same computation and is counted here")
    return Inference(x, affine(dims, ctx, fit, bias), note=note, macs=per_value_macs(x))


for _rank in (1, 2, 3):
    register(Rule(
        name=f"InstanceNorm{_rank}d", family="norm", field=POINTWISE, infer=partial(_instance_norm, _rank),
        framework=PYTORCH,
        layout=True, args=_torch_norm_args(False, False),
        doc=f"PyTorch nn.InstanceNorm{_rank}d: by default affine=False and track_running_stats=False, so 0; "
            "weight (C) + bias (C) when affine, and BatchNorm's buffers when tracking.",
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
        return Inference(x, affine(dims, ctx, scale, center), macs=per_value_macs(x))
    note = foreign("Keras", "PyTorch's GroupNorm", "it cannot learn a shift without a scale") if ctx.pytorch else ""
    return Inference(x, affine(dims, KERAS_CONTEXT, scale, center), note=note, macs=per_value_macs(x))


register(Rule(
    name="GroupNormalization", family="norm", field=POINTWISE, infer=_keras_group_norm,
    args=(Arg("groups", _groups, 32), Arg("axis", integer, -1), Arg("epsilon", number, 1e-3), *CENTER_SCALE,
          *IGNORED_ARGS),
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
    return Inference(x, affine((num(c, "C"),), ctx, fit, fit and a["bias"]), macs=per_value_macs(x))


register(Rule(
    name="GroupNorm", family="norm", field=POINTWISE, infer=_torch_group_norm, framework=PYTORCH, layout=True,
    args=(Arg("num_groups", positive), Arg("num_channels", positive), Arg("eps", number, 1e-5),
          Arg("affine", boolean, True), *DEVICE_ARGS, Arg("bias", boolean, True)),
    doc="PyTorch nn.GroupNorm: weight (C) + bias (C) when affine, whatever num_groups is; no buffers.",
))


# ---- LocalResponseNorm (AlexNet, GoogLeNet) ----------------------------------------------
#
# b_c = a_c · (k + α/n · Σ a_c'²)^(−β), the sum over the n = size channels around c (zeros
# beyond the edges, as torch pads them). No weights in either framework. MACs, per value:
# the n multiply-accumulates of the windowed sum of squares, plus 1 for a_c times its
# normaliser; the power and the α/n scaling are the elementwise nonlinearity, which rules
# do not count (as activations are not).


def _lrn(window: int, x: Shape) -> Inference:
    if len(x) < 2:
        raise RuleError(f"expects an input of channels and at least one more axis (batch excluded), got shape "
                        f"{shape_text(x)}")
    dims = None if None in x else tuple(num(d) for d in x)
    macs = None if dims is None else output_macs(dims, (total(num(window, "size"), num(1)),))
    return Inference(x, macs=macs)


def _torch_lrn(a: Mapping[str, Any], shapes: Sequence[Shape], ctx: Context) -> Inference:
    return _lrn(a["size"], shapes[0])


def _keras_lrn(a: Mapping[str, Any], shapes: Sequence[Shape], ctx: Context) -> Inference:
    return _lrn(2 * a["depth_radius"] + 1, shapes[0])


register(Rule(
    name="LocalResponseNorm", family="norm", field=POINTWISE, infer=_torch_lrn, framework=PYTORCH,
    args=(Arg("size", positive), Arg("alpha", number, 1e-4), Arg("beta", number, 0.75), Arg("k", number, 1.0)),
    doc="PyTorch nn.LocalResponseNorm(size): no parameters; the output has the input's shape. Each value is "
        "divided by (k + α/size · the sum of squares over the size channels around it)^β. MACs: size + 1 per "
        "value (the windowed sum of squares, then the value times its normaliser; the power is not counted).",
))
register(Rule(
    name="LocalResponseNormalization", family="norm", field=POINTWISE, infer=_keras_lrn,
    args=(Arg("depth_radius", non_negative, 5), Arg("bias", number, 1.0), Arg("alpha", number, 1.0),
          Arg("beta", number, 0.5)),
    doc="TensorFlow's tf.nn.local_response_normalization (Keras 3 has no such layer; Keras code wraps the TF "
        "op in a Lambda): no parameters; the window is 2·depth_radius + 1 channels (depth_radius ≥ 0, as TensorFlow checks), on the last axis. MACs: "
        "window + 1 per value, as PyTorch's LocalResponseNorm.",
))
