"""Keras's random image augmentation layers that keep their input's shape: no parameters.

RandomFlip, RandomRotation, RandomZoom, RandomTranslation, RandomContrast, RandomBrightness
and every other Keras 3.15 ``Random*`` layer but RandomCrop (resample.py: it sets the size),
each with its arguments in the order of its ``__init__``. Checked by building each in Keras
3.15 on (32, 32, 3): ``count_params()`` is 0 and ``weights``, ``trainable_weights`` and
``non_trainable_weights`` are empty. Each keeps a SeedGenerator whose state, a (2,) int
variable, is in ``layer.variables`` but is not a weight: Keras counts it nowhere (nor does
a Model's ``count_params()``), so neither does learnable.

They take one image, (height, width, channels) in the layer's data format, batch excluded;
Keras reads a 3-D tensor as one unbatched image, so a 2-D example would make its batch the
height, and learnable refuses it (as it does for CenterCrop). The colour layers need the
channels they convert: RandomHue and RandomSaturation (and RandomColorJitter given
saturation_factor or hue_factor) three, RandomColorDegeneration three, RandomGrayscale one
or three.

MACs: 0. In inference (``training=False``, as ``Model.predict`` calls them) each passes its
input through unchanged, as Dropout does; the random transforms run only in training.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import partial
from typing import Any

from ..errors import RuleError
from ._args import REQUIRED, Arg, anything
from ._base import DATA_FORMAT, NO_MACS, POINTWISE, Context, Inference, Rule, Shape, feature_map, layout_of
from ._registry import register

_RANGE = ("value_range", (0, 255))
_FILL = (("fill_mode", "reflect"), ("interpolation", "bilinear"), ("seed", None), ("fill_value", 0.0))
# Name → (argument, default) in the order of Keras 3.15's __init__; "data_format" is DATA_FORMAT.
_SIGNATURES: dict[str, tuple[tuple[str, Any], ...]] = {
    "RandomBrightness": (("factor", REQUIRED), _RANGE, ("seed", None)),
    "RandomColorDegeneration": (("factor", REQUIRED), _RANGE, ("data_format", None), ("seed", None)),
    "RandomColorJitter": (_RANGE, ("brightness_factor", None), ("contrast_factor", None),
                          ("saturation_factor", None), ("hue_factor", None), ("seed", None), ("data_format", None)),
    "RandomContrast": (("factor", REQUIRED), _RANGE, ("seed", None)),
    "RandomElasticTransform": (("factor", 1.0), ("scale", 1.0), ("interpolation", "bilinear"),
                               ("fill_mode", "reflect"), ("fill_value", 0.0), _RANGE, ("seed", None),
                               ("data_format", None)),
    "RandomErasing": (("factor", 1.0), ("scale", (0.02, 0.33)), ("fill_value", None), _RANGE, ("seed", None),
                      ("data_format", None)),
    "RandomFlip": (("mode", "horizontal_and_vertical"), ("seed", None), ("data_format", None)),
    "RandomGaussianBlur": (("factor", 1.0), ("kernel_size", 3), ("sigma", 1.0), _RANGE, ("data_format", None),
                           ("seed", None)),
    "RandomGrayscale": (("factor", 0.5), ("data_format", None), ("seed", None)),
    "RandomHue": (("factor", REQUIRED), _RANGE, ("data_format", None), ("seed", None)),
    "RandomInvert": (("factor", 1.0), _RANGE, ("seed", None), ("data_format", None)),
    "RandomPerspective": (("factor", 1.0), ("scale", 1.0), ("interpolation", "bilinear"), ("fill_value", 0.0),
                          ("seed", None), ("data_format", None)),
    "RandomPosterization": (("factor", REQUIRED), _RANGE, ("data_format", None), ("seed", None)),
    "RandomRotation": (("factor", REQUIRED), *_FILL, ("data_format", None)),
    "RandomSaturation": (("factor", REQUIRED), _RANGE, ("data_format", None), ("seed", None)),
    "RandomSharpness": (("factor", REQUIRED), _RANGE, ("data_format", None), ("seed", None)),
    "RandomShear": (("x_factor", 0.0), ("y_factor", 0.0), ("interpolation", "bilinear"), ("fill_mode", "reflect"),
                    ("fill_value", 0.0), ("data_format", None), ("seed", None)),
    "RandomTranslation": (("height_factor", REQUIRED), ("width_factor", REQUIRED), *_FILL, ("data_format", None)),
    "RandomZoom": (("height_factor", REQUIRED), ("width_factor", None), *_FILL, ("data_format", None)),
}

# The channel counts the colour layers convert (Keras: "expected 3 (RGB) or 1 (Grayscale)").
_RGB = {"RandomHue": (3,), "RandomSaturation": (3,), "RandomColorDegeneration": (3,), "RandomGrayscale": (1, 3)}


def _channels_needed(name: str, a: Mapping[str, Any]) -> tuple[int, ...] | None:
    if name == "RandomColorJitter" and (a["saturation_factor"] is not None or a["hue_factor"] is not None):
        return (3,)
    return _RGB.get(name)


def _augment(name: str, a: Mapping[str, Any], shapes: Sequence[Shape], ctx: Context) -> Inference:
    x = shapes[0]
    channels, _ = feature_map(x, 2, layout_of(a, ctx))
    needed = _channels_needed(name, a)
    if needed and channels is not None and channels not in needed:
        wanted = " or ".join(map(str, needed))
        raise RuleError(f"converts colours, so it needs {wanted} channels, but its input has {channels}")
    return Inference(x, macs=NO_MACS)


def _args(signature: tuple[tuple[str, Any], ...]) -> tuple[Arg, ...]:
    return tuple(DATA_FORMAT if arg == "data_format" else Arg(arg, anything, default) for arg, default in signature)


for _name, _signature in _SIGNATURES.items():
    register(Rule(
        name=_name, family="structure", infer=partial(_augment, _name), args=_args(_signature), field=POINTWISE,
        layout=any(arg == "data_format" for arg, _ in _signature),
        doc=f"Keras {_name}: no parameters (its SeedGenerator state is not a weight); the input's shape, one image "
            "(height, width, channels) in its data format; in inference it passes its input through, no MACs.",
    ))
