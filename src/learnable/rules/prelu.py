"""PReLU: an activation that learns its negative slopes.

  Keras    alpha shaped like the input (batch excluded), with each of ``shared_axes``
           (1-based: the batch is axis 0) set to 1 so one slope serves that whole axis:
           on (32, 32, 16) alpha is 32×32×16 = 16,384, and 1×1×16 with shared_axes=[1, 2].
  PyTorch  weight (num_parameters,): one slope (the default) or one per channel (dim 1).
So PyTorch's two forms are Keras's with every axis shared, or every axis but the channels;
any other Keras alpha has no PyTorch equivalent and is then counted as Keras counts it.
The channel axis is the last in a channels-last network, the first in a channels-first one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..errors import ArgumentError
from ..expr import num
from ._args import Arg, anything, integer, number, positive
from ._base import CHANNELS_FIRST, NO_MACS, POINTWISE, Context, Inference, Rule, Shape, Weight, known, shape_text
from ._registry import PYTORCH, register
from .norm import check_features, foreign, torch_channels


def _shared_axes(value: Any) -> tuple[int, ...] | None:
    if value is None:
        return None
    return tuple(integer(v) for v in value) if isinstance(value, (list, tuple)) else (integer(value),)


def _alpha_shape(x: Shape, shared: tuple[int, ...]) -> tuple[int, ...]:
    for axis in shared:
        if not 1 <= axis <= len(x):
            # Keras would index its list with axis - 1, so 0 and negatives pick an unintended axis.
            raise ArgumentError("shared_axes", f"must list axes from 1 to {len(x)} (the batch is axis 0), got {axis}")
    return tuple(1 if i + 1 in shared else known(d, f"size on axis {i + 1} (or share that axis)")
                 for i, d in enumerate(x))


def _channel_index(x: Shape, ctx: Context) -> int:
    return 0 if ctx.data_format == CHANNELS_FIRST else len(x) - 1


def _keras(a: Mapping[str, Any], shapes: Sequence[Shape], ctx: Context) -> Inference:
    x = shapes[0]
    alpha = _alpha_shape(x, a["shared_axes"] or ())
    keras_weight = Weight("alpha", tuple(num(d) for d in alpha))
    if not ctx.pytorch:
        return Inference(x, (keras_weight,), macs=NO_MACS)
    c = _channel_index(x, ctx)
    if all(d == 1 for d in alpha):  # torch: PReLU()
        return Inference(x, (Weight("weight", (num(1),)),), macs=NO_MACS)
    if all(d == 1 for i, d in enumerate(alpha) if i != c):  # torch: PReLU(C)
        return Inference(x, (Weight("weight", (num(alpha[c], "C"),)),), macs=NO_MACS)
    why = (f"its PReLU learns one slope or one per channel, not alpha {shape_text(alpha)}; "
           "share every axis but the channels to match")
    return Inference(x, (keras_weight,), note=foreign("Keras", "PyTorch", why), macs=NO_MACS)


register(Rule(
    name="PReLU", family="prelu", infer=_keras, field=POINTWISE,
    args=(Arg("alpha_initializer", anything, None), Arg("alpha_regularizer", anything, None),
          Arg("alpha_constraint", anything, None), Arg("shared_axes", _shared_axes, None)),
    doc="Keras PReLU: alpha shaped like the input, 1 on each shared axis.",
))


def _torch(a: Mapping[str, Any], shapes: Sequence[Shape], ctx: Context) -> Inference:
    x, n = shapes[0], a["num_parameters"]
    if n > 1:  # one slope works on any input; several must match the channels
        check_features(x, ctx, torch_channels(x, ctx), n, "num_parameters")
    if ctx.pytorch:
        return Inference(x, (Weight("weight", (num(n, "num_parameters"),)),), macs=NO_MACS)
    # Keras's equivalent: PReLU sharing every axis (one slope) or every axis but the channels.
    c = _channel_index(x, ctx)
    alpha = tuple(num(n, "num_parameters") if i == c and n > 1 else num(1) for i in range(len(x)))
    return Inference(x, (Weight("alpha", alpha),), macs=NO_MACS)


register(Rule(
    name="PReLU", family="prelu", infer=_torch, framework=PYTORCH, layout=True, field=POINTWISE,
    args=(Arg("num_parameters", positive, 1), Arg("init", number, 0.25), Arg("device", anything, None),
          Arg("dtype", anything, None)),
    doc="PyTorch nn.PReLU: weight (num_parameters), one slope or one per channel.",
))
