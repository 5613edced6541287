"""Mixture of experts: the router and the routed experts, as transformers 5 stores them.

``Experts`` is every routed expert's SwiGLU MLP stacked into two tensors, as transformers'
``MixtralExperts`` / ``Qwen3MoeExperts`` / ``DeepseekV3Experts`` hold them: ``gate_up_proj``
(experts × 2·intermediate × hidden) and ``down_proj`` (experts × hidden × intermediate), no
biases. Its MACs are those of every expert on every token, ``tokens × experts × (2·I·H +
H·I)``; a token goes through only top-k of them, which the graph says with the layer's
``active: "k of E"`` (the engine takes k/E of its parameters and MACs as the active path).

``Router`` is the gate choosing them: ``weight`` (experts × hidden), a Linear without bias
(``MixtralTopKRouter``, ``Qwen2MoeTopKRouter``, ``DeepseekV2TopkRouter``); DeepSeek-V3's
router also keeps ``e_score_correction_bias`` (experts), a buffer (nn.Buffer) that only
biases the choice, never a parameter. MACs: one dot product over hidden per expert score.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..errors import RuleError
from ..expr import num, product, total
from ._args import Arg, boolean, positive
from ._base import POINTWISE, Context, Inference, Rule, Shape, Weight, known_dims, output_macs, shape_text
from ._kinds import FULLY_CONNECTED
from ._registry import PYTORCH, register


def _tokens(x: Shape, hidden: int) -> Shape:
    if not x or x[-1] not in (None, hidden):
        raise RuleError(f"hidden_size={hidden} but its input {shape_text(x)} has "
                        f"{x[-1] if x else 'no'} features on its last axis")
    return x[:-1]


def _experts(a: Mapping[str, Any], shapes: Sequence[Shape], ctx: Context) -> Inference:
    e, h, i = num(a["num_experts"], "experts"), num(a["hidden_size"], "hidden"), num(a["intermediate_size"], "I")
    positions = _tokens(shapes[0], h.value)
    weights = (Weight("gate_up_proj", (e, product(num(2), i), h)), Weight("down_proj", (e, h, i)))
    dims = known_dims(positions)
    # every expert's gate, up and down projections for each token: 2·I·H + H·I multiply-adds
    macs = None if dims is None else output_macs((*dims, e), (total(product(num(2), i, h), product(h, i)),))
    return Inference((*positions, h.value), weights, macs=macs)


def _router(a: Mapping[str, Any], shapes: Sequence[Shape], ctx: Context) -> Inference:
    e, h = num(a["num_experts"], "experts"), num(a["hidden_size"], "hidden")
    positions = _tokens(shapes[0], h.value)
    weights = (Weight("weight", (e, h)),)
    if a["correction_bias"]:
        weights += (Weight("e_score_correction_bias", (e,), trainable=False, buffer=True),)
    dims = known_dims(positions)
    macs = None if dims is None else output_macs((*dims, e), (h,))
    return Inference((*positions, e.value), weights, macs=macs)


register(Rule(
    name="Experts", family="dense", infer=_experts, framework=PYTORCH, field=POINTWISE, kind=FULLY_CONNECTED,
    args=(Arg("num_experts", positive), Arg("hidden_size", positive), Arg("intermediate_size", positive)),
    doc="Routed experts stacked (transformers' *Experts): gate_up_proj (experts × 2·I × hidden) + down_proj "
        "(experts × hidden × I), no biases; MACs of every expert on every token, of which active: 'k of E' "
        "keeps the k a token is routed to.",
))
register(Rule(
    name="Router", family="dense", infer=_router, framework=PYTORCH, field=POINTWISE, kind=FULLY_CONNECTED,
    args=(Arg("hidden_size", positive), Arg("num_experts", positive), Arg("correction_bias", boolean, False)),
    doc="A mixture of experts' gate (transformers' *TopKRouter): weight (experts × hidden), no bias; with "
        "correction_bias, DeepSeek-V3's e_score_correction_bias (experts), a buffer, not a parameter.",
))
