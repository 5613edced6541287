"""Weightless layers that resample, crop or rearrange values: no parameters, only shapes.

Keras (``keras/src/layers/reshaping``, checked by building the layers in Keras 3.15):
  UpSampling{1,2,3}D  out = n·size per spatial axis (UpSampling1D reads (steps, features))
  Cropping{1,2,3}D    out = n − before − after, which must stay ≥ 1
  Resizing, CenterCrop, RandomCrop: (height, width) as given, whatever the input's
  Permute(dims)       1-based over an example's axes; the batch stays first
  RepeatVector(n)     (features,) → (n, features)
PyTorch (torch 2.13, ``nn.Upsample`` → ``F.interpolate``):
  Upsample            out = ``size``, or ⌊n·scale_factor⌋ computed in double precision
                      (so 100×0.29 gives 28, not 29), and must stay ≥ 1
  PixelShuffle(r)     (*, C·r², H, W) → (*, C, H·r, W·r); PixelUnshuffle the reverse
  Unflatten, ChannelShuffle; PyTorch dims count the batch as dim 0.
  Unfold(k)           (C, H, W) → (C·kh·kw, L), L = the number of windows (as a
                      convolution's output positions: ⌊(n + 2p − d·(k − 1) − 1)/s⌋ + 1 each)
  Fold(output_size, k) (C·kh·kw, L) → (C, *output_size), L must be that count of windows
Keras's Lambda holds code, which learnable never runs, so it is refused.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from typing import Any

from .._text import shape_text
from ..errors import ArgumentError, RuleError
from ..expr import Expr, equation, floor_div, minus, num, product, quotient
from ._args import Arg, anything, boolean, choice, int_tuple, integer, optional, positive
from ._base import (
    CHANNELS_LAST,
    DATA_FORMAT,
    NO_MACS,
    WINDOW,
    Context,
    Inference,
    Rule,
    Shape,
    ShapeNote,
    Window,
    axis_names,
    feature_map,
    join_channels,
    known_dims,
    layout_of,
    output_macs,
    spatial_notes,
    split_channels,
)
from ._registry import PYTORCH, register
from ._spatial import sizes_of, window_output
from .merge import torch_dim
from .structure import _keras_pads, identity_rule

# ---- Keras UpSampling -------------------------------------------------------------------


def _keras_upsampling(rank: int, a: Mapping[str, Any], shapes: Sequence[Shape], ctx: Context) -> Inference:
    # UpSampling1D has no data_format: it always repeats axis 1 of (steps, features).
    fmt = CHANNELS_LAST if rank == 1 else layout_of(a, ctx)
    channels, spatial = feature_map(shapes[0], rank, fmt)
    factors = (a["size"],) * rank if rank == 1 else a["size"]
    sizes = tuple(None if n is None else product(num(n, "n"), num(f, "size")) for n, f in zip(spatial, factors))
    out = join_channels(channels, sizes_of(sizes), fmt)
    return Inference(out, shape_notes=spatial_notes(sizes), macs=interpolation_macs(out, a.get("interpolation"), rank))


_INTERPOLATIONS = ("nearest", "bilinear", "bicubic", "lanczos3", "lanczos5", "area")
register(Rule(
    name="UpSampling1D", family="structure", infer=partial(_keras_upsampling, 1), args=(Arg("size", positive, 2),),
    doc="Keras UpSampling1D: no parameters; repeats each step `size` times: steps × size.",
))
register(Rule(
    name="UpSampling2D", family="structure", infer=partial(_keras_upsampling, 2), layout=True,
    args=(Arg("size", int_tuple(2), 2), DATA_FORMAT, Arg("interpolation", choice(*_INTERPOLATIONS), "nearest")),
    doc="Keras UpSampling2D: no parameters; height × size[0], width × size[1], whatever the interpolation.",
))
register(Rule(
    name="UpSampling3D", family="structure", infer=partial(_keras_upsampling, 3), layout=True,
    args=(Arg("size", int_tuple(3), 2), DATA_FORMAT),
    doc="Keras UpSampling3D: no parameters; each spatial axis times its size.",
))

# Input values each output value weighs: 2 per axis interpolated linearly, 4 cubically.
# Nearest copies a value and area averages a window PyTorch sizes itself: not counted here.
_WEIGHED = {"linear": 2, "bilinear": 2, "trilinear": 2, "bicubic": 4}


def interpolation_macs(out: Shape, mode: str | None, rank: int) -> Expr | None:
    """Each output value is a weighted sum of 2 (linear) or 4 (cubic) input values per axis."""
    if mode in (None, "nearest", "nearest-exact"):
        return NO_MACS
    dims = known_dims(out)
    if mode not in _WEIGHED or dims is None:
        return None
    return output_macs(dims, (num(_WEIGHED[mode]),) * rank)


# ---- PyTorch Upsample ---------------------------------------------------------------------

_MODES = {"nearest": None, "nearest-exact": None, "area": None,  # any of 1-3 spatial axes
          "linear": 1, "bilinear": 2, "bicubic": 2, "trilinear": 3}


def _mode(value: Any) -> str:
    # PyTorch compares the mode exactly: 'Bilinear' fails in F.interpolate.
    if not isinstance(value, str):
        raise ArgumentError(None, f"must be a mode name such as 'nearest' or 'bilinear', got {value!r}")
    if value == "lanczos":
        raise ArgumentError(None, "'lanczos' needs antialias=True, which nn.Upsample cannot set (use F.interpolate)")
    if value not in _MODES:
        raise ArgumentError(None, f"must be one of {', '.join(repr(m) for m in _MODES)} (exactly), got {value!r}")
    return value


def _per_axis(convert):
    """One value for every spatial axis, or a list of one per axis (checked against the input)."""

    def values(value: Any) -> Any:
        return tuple(convert(v) for v in value) if isinstance(value, (list, tuple)) else convert(value)

    return values


def _scale(value: Any) -> float | int:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < 2**63:
        raise ArgumentError(None, f"must be a positive number or a list of them, got {value!r}")
    return value


def _upsample(fixed: Mapping[str, Any], a: Mapping[str, Any], shapes: Sequence[Shape], ctx: Context) -> Inference:
    a = {**a, **fixed}
    x = shapes[0]
    if not 2 <= len(x) <= 4:
        raise RuleError(f"expects channels and 1 to 3 spatial axes (batch excluded), got shape {shape_text(x)}")
    channels, spatial = split_channels(x, ctx.data_format)
    _check_upsample(a, len(spatial))
    sizes = tuple(_upsampled(a, i, n) for i, n in enumerate(spatial))
    empty = [f"{label} {equation(s)}" for label, s in zip(axis_names(len(sizes)), sizes) if s and s.value < 1]
    if empty:
        raise RuleError(f"scale_factor {a['scale_factor']} leaves no output: {', '.join(empty)}; use a larger scale")
    out = join_channels(channels, sizes_of(sizes), ctx.data_format)
    return Inference(out, shape_notes=spatial_notes(sizes), macs=interpolation_macs(out, a["mode"], len(spatial)))


def _check_upsample(a: Mapping[str, Any], rank: int) -> None:
    """F.interpolate's own checks, in its order (torch 2.13)."""
    mode, size, scale = a["mode"], a["size"], a["scale_factor"]
    if mode in ("nearest", "nearest-exact", "area") and a["align_corners"] is not None:
        raise RuleError(f"align_corners can only be set with the interpolating modes (linear, bilinear, bicubic, "
                        f"trilinear), not with mode '{mode}'; leave it out")
    if (size is None) == (scale is None):
        raise RuleError("give exactly one of size and scale_factor" + (", not both" if size is not None else ""))
    for what, value in (("size", size), ("scale_factor", scale)):
        if isinstance(value, tuple) and len(value) != rank:
            raise RuleError(f"{what} {value} has {len(value)} values, but the input has {rank} spatial axes")
    if a["recompute_scale_factor"] and size is not None:
        raise RuleError("recompute_scale_factor is not meaningful with an explicit size")
    if _MODES[mode] not in (None, rank):
        raise RuleError(f"mode '{mode}' needs {_MODES[mode]} spatial axes, but the input has {rank}")


def _upsampled(a: Mapping[str, Any], axis: int, n: int | None) -> Expr | None:
    size, scale = a["size"], a["scale_factor"]
    if size is not None:
        return num(size[axis] if isinstance(size, tuple) else size, "size")
    if n is None:
        return None
    return _scaled(n, scale[axis] if isinstance(scale, tuple) else scale)


def _scaled(n: int, scale: float) -> Expr:
    """⌊n·scale⌋ as PyTorch computes it (in double precision), written as exact arithmetic.

    The scale is shown as the simple fraction the user meant (1.5 → 3/2) when that gives
    PyTorch's size; when rounding of the double decides (100 × 0.29 → 28.999... → 28), as
    the exact value of the double, which does."""
    from fractions import Fraction  # (and decimal with it: imported by the layers that scale, not at start-up)

    value = math.floor(float(n) * scale)
    for ratio in (Fraction(scale).limit_denominator(max(10**6, n)), Fraction(scale), Fraction(value, n)):
        if n * ratio.numerator // ratio.denominator == value:
            break
    p, q = ratio.numerator, ratio.denominator
    if q == 1:
        return product(num(n, "n"), num(p, "scale"))
    return floor_div(num(n, "n") if p == 1 else product(num(n, "n"), num(p)), num(q))


_UPSAMPLE_SIZE = (Arg("size", optional(_per_axis(positive)), None),
                  Arg("scale_factor", optional(_per_axis(_scale)), None))
_FLAG = optional(boolean)
register(Rule(
    name="Upsample", family="structure", framework=PYTORCH, layout=True, infer=partial(_upsample, {}),
    args=(*_UPSAMPLE_SIZE, Arg("mode", _mode, "nearest"), Arg("align_corners", _FLAG, None),
          Arg("recompute_scale_factor", _FLAG, None)),
    doc="PyTorch nn.Upsample: no parameters; each spatial axis becomes `size`, or ⌊n·scale_factor⌋.",
))
for _name, _fixed in (("UpsamplingNearest2d", {"mode": "nearest", "align_corners": None}),
                      ("UpsamplingBilinear2d", {"mode": "bilinear", "align_corners": True})):
    register(Rule(
        name=_name, family="structure", framework=PYTORCH, layout=True, args=_UPSAMPLE_SIZE,
        infer=partial(_upsample, {**_fixed, "recompute_scale_factor": None}),
        doc=f"PyTorch nn.{_name}: no parameters; nn.Upsample with mode '{_fixed['mode']}'.",
    ))

# ---- Keras Cropping -----------------------------------------------------------------------


def _cropping(rank: int, a: Mapping[str, Any], shapes: Sequence[Shape], ctx: Context) -> Inference:
    fmt = CHANNELS_LAST if rank == 1 else layout_of(a, ctx)  # Cropping1D has no data_format
    channels, spatial = feature_map(shapes[0], rank, fmt)
    sizes = tuple(None if n is None else _cropped(n, crop) for n, crop in zip(spatial, a["cropping"]))
    for label, n, crop, size in zip(axis_names(rank), spatial, a["cropping"], sizes):
        if size is not None and size.value < 1:
            raise RuleError(f"cropping {crop[0]} + {crop[1]} from the {label} ({n}) leaves nothing; "
                            f"crop fewer than {n} in all")
    window = tuple(Window(1, 1, 1, -before) for before, _ in a["cropping"])  # shifts the positions
    return Inference(join_channels(channels, sizes_of(sizes), fmt), shape_notes=spatial_notes(sizes),
                     macs=NO_MACS, window=window)


def _cropped(n: int, crop: tuple[int, int]) -> Expr:
    size: Expr = num(n, "n")
    for c in crop:
        size = minus(size, num(c, "crop")) if c else size
    return size


for _rank, _default in ((1, (1, 1)), (2, ((0, 0), (0, 0))), (3, ((1, 1),) * 3)):
    register(Rule(
        name=f"Cropping{_rank}D", family="structure", infer=partial(_cropping, _rank), layout=_rank > 1,
        field=WINDOW,
        # Keras takes the same forms as ZeroPadding: an int, or (before, after) per axis.
        args=(Arg("cropping", _keras_pads(_rank), _default), *((DATA_FORMAT,) if _rank > 1 else ())),
        doc=f"Keras Cropping{_rank}D: no parameters; each spatial axis loses its before + after amounts.",
    ))


def _resized(a: Mapping[str, Any], shapes: Sequence[Shape], ctx: Context) -> Inference:
    fmt = layout_of(a, ctx)
    channels, _ = feature_map(shapes[0], 2, fmt)
    out = join_channels(channels, (a["height"], a["width"]), fmt)
    # Resizing interpolates; the crops copy (CenterCrop resizes only an input smaller than its crop).
    return Inference(out, macs=interpolation_macs(out, a.get("interpolation", "nearest"), 2))


# Keras's image preprocessing layers set the size outright: (height, width), smaller or larger.
_SIZE = (Arg("height", positive), Arg("width", positive))
register(Rule(
    name="Resizing", family="structure", infer=_resized, layout=True,
    args=(*_SIZE, Arg("interpolation", choice(*_INTERPOLATIONS), "bilinear"),
          *(Arg(n, boolean, False) for n in ("crop_to_aspect_ratio", "pad_to_aspect_ratio")),
          Arg("fill_mode", anything, "constant"), Arg("fill_value", anything, 0.0), Arg("antialias", boolean, False),
          DATA_FORMAT),
    doc="Keras Resizing: no parameters; the image becomes height × width.",
))
register(Rule(
    name="CenterCrop", family="structure", infer=_resized, layout=True, args=(*_SIZE, DATA_FORMAT),
    doc="Keras CenterCrop: no parameters; the image becomes height × width (resized up when it is smaller).",
))
register(Rule(
    name="RandomCrop", family="structure", infer=_resized, layout=True,
    args=(*_SIZE, Arg("seed", anything, None), DATA_FORMAT),
    doc="Keras RandomCrop: no parameters; the image becomes height × width.",
))

# ---- Keras Permute, RepeatVector and shape-keeping layers --------------------------------


def _permutation(value: Any) -> tuple[int, ...]:
    dims = tuple(integer(d) for d in value) if isinstance(value, (list, tuple)) else ()
    if not dims or sorted(dims) != list(range(1, len(dims) + 1)):
        raise ArgumentError(None, f"must be a permutation of 1, 2, ... (1-based axes of an example; the batch "
                                  f"stays first), got {value!r}")
    return dims


def _permute(a: Mapping[str, Any], shapes: Sequence[Shape], ctx: Context) -> Inference:
    x, dims = shapes[0], a["dims"]
    if len(dims) != len(x):
        raise RuleError(f"dims {dims} orders {len(dims)} axes, but its input has {len(x)} (batch excluded)")
    return Inference(tuple(x[d - 1] for d in dims), macs=NO_MACS)


def _repeat_vector(a: Mapping[str, Any], shapes: Sequence[Shape], ctx: Context) -> Inference:
    x = shapes[0]
    if len(x) != 1:
        raise RuleError(f"expects a 1-D input (features, batch excluded), got shape {shape_text(x)}; "
                        "use Flatten first")
    return Inference((a["n"], x[0]), macs=NO_MACS)


def _lambda(a: Mapping[str, Any], shapes: Sequence[Shape], ctx: Context) -> Inference:
    raise RuleError("is Python code, which learnable never runs, so its output shape is unknown; "
                    "replace it with the layer it stands for (a Reshape, say) or drop it from the spec")


register(Rule(
    name="Permute", family="structure", infer=_permute, args=(Arg("dims", _permutation),),
    doc="Keras Permute: no parameters; reorders an example's axes (dims are 1-based; the batch stays first).",
))
register(Rule(
    name="RepeatVector", family="structure", infer=_repeat_vector, args=(Arg("n", positive),),
    doc="Keras RepeatVector: no parameters; (features,) → (n, features).",
))
register(Rule(
    name="Lambda", family="structure", infer=_lambda, args=(), any_args=True,
    doc="Keras Lambda: refused; it runs code, which learnable never does. Replace it with a Reshape or drop it.",
))
identity_rule("Rescaling", Arg("scale", anything), Arg("offset", anything, 0.0), scales=True)
identity_rule("ActivityRegularization", Arg("l1", anything, 0.0), Arg("l2", anything, 0.0))
identity_rule("Masking", Arg("mask_value", anything, 0.0))

# ---- PyTorch Unflatten, PixelShuffle, PixelUnshuffle, ChannelShuffle ---------------------


def _unflattened_size(value: Any) -> tuple[int, ...]:
    sizes = tuple(integer(d) for d in value) if isinstance(value, (list, tuple)) else ()
    if not sizes or any(d != -1 and d < 1 for d in sizes) or sizes.count(-1) > 1:
        raise ArgumentError(None, f"must be a non-empty list of positive sizes (one may be -1), got {value!r}")
    return sizes


def _unflatten(a: Mapping[str, Any], shapes: Sequence[Shape], ctx: Context) -> Inference:
    x, sizes = shapes[0], a["unflattened_size"]
    i = torch_dim(a["dim"], x)
    n, rest = x[i], math.prod(d for d in sizes if d != -1)
    if n is None or -1 not in sizes:
        if n is not None and n != rest:
            raise RuleError(f"unflattened_size {sizes} multiplies up to {rest}, not to the size {n} of dim {a['dim']}")
        return Inference((*x[:i], *(None if d == -1 else d for d in sizes), *x[i + 1:]), macs=NO_MACS)
    if n % rest:
        raise RuleError(f"unflattened_size {sizes} does not multiply up to the size {n} of dim {a['dim']}: "
                        f"{n} is not a multiple of {rest}")
    inferred = quotient(num(n, "n"), num(rest))
    out = (*x[:i], *(inferred.value if d == -1 else d for d in sizes), *x[i + 1:])
    return Inference(out, shape_notes=(ShapeNote(f"dim {a['dim']}", inferred),) if rest > 1 else (), macs=NO_MACS)


def _pixel_shuffle(up: bool, a: Mapping[str, Any], shapes: Sequence[Shape], ctx: Context) -> Inference:
    x, r = shapes[0], a["upscale_factor" if up else "downscale_factor"]
    if len(x) < 3:
        raise RuleError(f"expects channels, height and width (batch excluded), got shape {shape_text(x)}")
    channels, spatial = split_channels(x[-3:], ctx.data_format)  # leading axes pass through, as in PyTorch
    _check_shuffle(up, r, channels, spatial)
    square = product(num(r, "r"), num(r, "r"))
    if up:
        c = _known(channels, lambda n: quotient(num(n, "C"), square))
        sizes = tuple(_known(n, lambda n: product(num(n, "n"), num(r, "r"))) for n in spatial)
    else:
        c = _known(channels, lambda n: product(num(n, "C"), square))
        sizes = tuple(_known(n, lambda n: quotient(num(n, "n"), num(r, "r"))) for n in spatial)
    out = join_channels(sizes_of((c,))[0], sizes_of(sizes), ctx.data_format)
    if r == 1:  # nothing moves; "6/(1×1)" would explain nothing
        return Inference((*x[:-3], *out), macs=NO_MACS)
    notes = (ShapeNote("channels", c),) if c is not None else ()
    return Inference((*x[:-3], *out), shape_notes=notes + spatial_notes(sizes), macs=NO_MACS)


def _check_shuffle(up: bool, r: int, channels: int | None, spatial: Shape) -> None:
    if up and channels is not None and channels % (r * r):
        raise RuleError(f"its {channels} channels are not divisible by upscale_factor² = {r}×{r} = {r * r}")
    for label, n in zip(("height", "width"), spatial):
        if not up and n is not None and n % r:
            raise RuleError(f"its {label} {n} is not divisible by downscale_factor {r}")


def _known(n: int | None, size: Callable[[int], Expr]) -> Expr | None:
    return None if n is None else size(n)


def _channel_shuffle(a: Mapping[str, Any], shapes: Sequence[Shape], ctx: Context) -> Inference:
    x, groups = shapes[0], a["groups"]
    if len(x) < 2:
        raise RuleError(f"expects channels and at least one more axis (batch excluded), got shape {shape_text(x)}")
    channels, _ = split_channels(x, ctx.data_format)
    if channels is not None and channels % groups:
        raise RuleError(f"its {channels} channels are not divisible by groups={groups}")
    return Inference(x, macs=NO_MACS)


def _unfold(a: Mapping[str, Any], shapes: Sequence[Shape], ctx: Context) -> Inference:
    x = shapes[0]
    if len(x) != 3:
        raise RuleError(f"expects (channels, height, width), batch excluded, got shape {shape_text(x)}")
    k = a["kernel_size"]
    blocks = _blocks(x[1:], a)
    channels = None if x[0] is None else product(num(x[0], "C"), num(k[0], "kh"), num(k[1], "kw"))
    notes = tuple(ShapeNote(label, e) for label, e in (("channels", channels), ("blocks", blocks)) if e is not None)
    return Inference((_value(channels), _value(blocks)), shape_notes=notes, macs=NO_MACS)


def _fold(a: Mapping[str, Any], shapes: Sequence[Shape], ctx: Context) -> Inference:
    x, k = shapes[0], a["kernel_size"]
    if len(x) != 2:
        raise RuleError(f"expects (channels × kernel positions, blocks), batch excluded, got shape {shape_text(x)}")
    window = k[0] * k[1]
    if x[0] is not None and x[0] % window:
        raise RuleError(f"its {x[0]} channels are not divisible by the kernel's {k[0]}×{k[1]} = {window} positions")
    blocks = _blocks(a["output_size"], a)
    if x[1] is not None and blocks is not None and x[1] != blocks.value:
        raise RuleError(f"its {x[1]} blocks are not the {blocks} = {blocks.value} windows that output_size "
                        f"{shape_text(a['output_size'])} holds")
    channels = None if x[0] is None else quotient(num(x[0], "C·kh·kw"), product(num(k[0], "kh"), num(k[1], "kw")))
    notes = (ShapeNote("channels", channels),) if channels is not None else ()
    return Inference((_value(channels), *a["output_size"]), shape_notes=notes, macs=NO_MACS)


def _blocks(spatial: Shape, a: Mapping[str, Any]) -> Expr | None:
    """How many windows fit: a convolution's output positions, multiplied."""
    pads = tuple((p, p) for p in a["padding"])
    sizes = window_output(spatial, a["kernel_size"], a["stride"], a["dilation"], pads, "kernel")
    return None if any(n is None for n in sizes) else product(*sizes)


def _value(e: Expr | None) -> int | None:
    return None if e is None else e.value


_WINDOW_ARGS = (Arg("kernel_size", int_tuple(2)), Arg("dilation", int_tuple(2), 1),
                Arg("padding", int_tuple(2, 0), 0), Arg("stride", int_tuple(2), 1))
register(Rule(
    name="Unfold", family="structure", framework=PYTORCH, infer=_unfold, args=_WINDOW_ARGS,
    doc="PyTorch nn.Unfold: no parameters; (C, H, W) → (C·kh·kw, L), L the number of kernel windows.",
))
register(Rule(
    name="Fold", family="structure", framework=PYTORCH, infer=_fold,
    args=(Arg("output_size", int_tuple(2)), *_WINDOW_ARGS),
    doc="PyTorch nn.Fold: no parameters; (C·kh·kw, L) → (C, *output_size), summing overlapping windows.",
))
register(Rule(
    name="Unflatten", family="structure", framework=PYTORCH, infer=_unflatten,
    args=(Arg("dim", integer), Arg("unflattened_size", _unflattened_size)),
    doc="PyTorch nn.Unflatten: no parameters; splits dim (the batch is dim 0) into unflattened_size.",
))
register(Rule(
    name="PixelShuffle", family="structure", framework=PYTORCH, layout=True, infer=partial(_pixel_shuffle, True),
    args=(Arg("upscale_factor", positive),),
    doc="PyTorch nn.PixelShuffle: no parameters; (C·r², H, W) → (C, H·r, W·r).",
))
register(Rule(
    name="PixelUnshuffle", family="structure", framework=PYTORCH, layout=True, infer=partial(_pixel_shuffle, False),
    args=(Arg("downscale_factor", positive),),
    doc="PyTorch nn.PixelUnshuffle: no parameters; (C, H·r, W·r) → (C·r², H, W).",
))
register(Rule(
    name="ChannelShuffle", family="structure", framework=PYTORCH, layout=True, infer=_channel_shuffle,
    args=(Arg("groups", positive),),
    doc="PyTorch nn.ChannelShuffle: no parameters; the input's shape (channels divisible by groups).",
))
