"""Keras TimeDistributed: one layer applied to every step of a sequence.

``TimeDistributed(Dense(16))`` on (steps, features) is the Dense on (features,) at each of
the steps, with one set of weights: its parameters are the wrapped layer's, its output is
(steps, *the wrapped layer's output), and its MACs the wrapped layer's times the steps
(keras.src.layers.rnn.time_distributed), of the wrapped layer's kind. The wrapped layer sees an example without the
steps axis, in the network's data format.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from ..errors import RuleError
from ..expr import num, product
from ._args import Arg, nested_layer
from ._base import Context, Inference, Rule, Shape
from ._kinds import own_split, scaled
from ._registry import register


def _time_distributed(a: Mapping[str, Any], shapes: Sequence[Shape], ctx: Context) -> Inference:
    inner, x = a["layer"], shapes[0]
    if len(x) < 2:
        raise RuleError(f"needs a time axis first: an input of (steps, ...), got {len(x)} axis")
    steps, step = x[0], tuple(x[1:])
    try:
        each = inner.rule.infer(inner.args, [step], ctx)
    except RuleError as err:
        raise RuleError(f"its {inner.rule.name} on each step {step}: {err}") from None
    weights = tuple(replace(w, trainable=w.trainable and inner.trainable) for w in each.weights)
    if each.macs is None or steps is None:
        return Inference((steps, *each.output_shape), weights, each.shape_notes, each.note)
    factor = num(steps, "steps")
    macs = each.macs if steps == 1 else product(factor, each.macs)
    # The wrapped layer's kind of work: a TimeDistributed(Dense) is fully connected.
    parts = own_split(inner.rule, each)
    return Inference((steps, *each.output_shape), weights, each.shape_notes, each.note, macs=macs,
                     macs_split=parts if steps == 1 else scaled(factor, parts))


register(Rule(
    name="TimeDistributed", family="wrapper", infer=_time_distributed, args=(Arg("layer", nested_layer),),
    doc="Keras TimeDistributed(layer): the wrapped layer's weights once, applied to every step of the first "
        "axis; MACs are the wrapped layer's times the steps.",
))
