"""Mixture of experts, as Hugging Face transformers 5 stores it: Experts and Router.

- **Experts** holds every expert's feed-forward at once, as 3-D tensors stacked over the
  experts (transformers' ``MixtralExperts``, ``Qwen3MoeExperts``, ``DeepseekV3Experts``...,
  integrations/moe.py): ``gate_up_proj`` (E, 2·I, H), the gate and up projections
  concatenated, and ``down_proj`` (E, H, I), each expert a Linear stored (out, in). Without
  a gate it has ``up_proj`` (E, I, H); ``transposed`` stores each (in, out) (GPT-OSS);
  ``bias`` adds ``*_bias`` (E, out). Parameters: E × one expert's.
- **MACs** are those of every expert on every token, ``tokens × E × (2·I·H + I·H)``; a token
  goes through top-k of them, which the graph says with the layer's ``active: "k of E"``
  (a spec's argument; the PyTorch importer sets it from the module's ``top_k`` or its
  config's ``num_experts_per_tok``): the engine then takes k/E of its parameters and MACs
  as the active path, which is what runs per token.
- **Router** (``*TopKRouter``, ``*Router``, ``*Gate``) scores each token against every
  expert: a Linear H → E, ``weight`` (E, H), with a bias when it has one, and DeepSeek-V3's
  ``e_score_correction_bias`` (E), which only shifts the choice of experts: a buffer where
  transformers keeps it as one. MACs: E × H per token (the softmax and top-k are not MACs).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..errors import RuleError
from ..expr import num, product, total
from ._args import Arg, boolean, positive
from ._base import POINTWISE, Context, Inference, Rule, Shape, Weight, known_dims, shape_text
from ._kinds import FULLY_CONNECTED
from ._registry import PYTORCH, register


def _features(x: Shape, size: int, name: str) -> None:
    if not x:
        raise RuleError("needs an input with at least one axis (tokens, hidden)")
    if x[-1] is not None and x[-1] != size:
        raise RuleError(f"{name}={size} but its input {shape_text(x)} has {x[-1]} features on its last axis")


def _stored(transposed: bool, experts: Any, out: Any, inputs: Any) -> tuple:
    return (experts, inputs, out) if transposed else (experts, out, inputs)


def _experts(a: Mapping[str, Any], shapes: Sequence[Shape], ctx: Context) -> Inference:
    x = shapes[0]
    _features(x, a["hidden_size"], "hidden_size")
    e, h, i = num(a["num_experts"], "E"), num(a["hidden_size"], "H"), num(a["intermediate_size"], "I")
    ups, up_name = ((num(2), i), "gate_up_proj") if a["gated"] else ((i,), "up_proj")  # gate and up: 2·I outputs
    up = product(*ups)
    flip = a["transposed"]
    weights = [Weight(up_name, _stored(flip, e, up, h)), Weight("down_proj", _stored(flip, e, h, i))]
    if a["bias"]:
        weights[1:1] = [Weight(f"{up_name}_bias", (e, up))]
        weights.append(Weight("down_proj_bias", (e, h)))
    one = total(product(*ups, h), *([up] if a["bias"] else []), product(h, i), *([h] if a["bias"] else []))
    tokens = known_dims(x[:-1])
    # every expert's gate and up, then down projection, on every token
    macs = None if tokens is None else product(*tokens, e, total(product(*ups, h), product(i, h)))
    return Inference(x, tuple(weights), count=product(e, one), macs=macs)


register(Rule(
    name="Experts", family="dense", infer=_experts, framework=PYTORCH, field=POINTWISE, arity=(1, 3),
    kind=FULLY_CONNECTED,
    args=(Arg("num_experts", positive), Arg("hidden_size", positive), Arg("intermediate_size", positive),
          Arg("gated", boolean, True), Arg("bias", boolean, False), Arg("transposed", boolean, False)),
    doc="Hugging Face's fused MoE experts: gate_up_proj (E × 2I × H) + down_proj (E × H × I), i.e. "
        "E × (2I×H + H×I) (up_proj (E × I × H) when not gated; biases (E × out) with bias); "
        "MACs: every expert on every token, tokens × E × (2I×H + I×H); with active: 'k of E', k/E of both "
        "is the active path.",
))


def _router(a: Mapping[str, Any], shapes: Sequence[Shape], ctx: Context) -> Inference:
    x = shapes[0]
    _features(x, a["hidden_size"], "hidden_size")
    e, h = num(a["num_experts"], "E"), num(a["hidden_size"], "H")
    weights = [Weight("weight", (e, h))]
    if a["bias"]:
        weights.append(Weight("bias", (e,)))
    if a["correction_bias"]:
        weights.append(Weight("e_score_correction_bias", (e,), trainable=False, buffer=True))
    tokens = known_dims(x[:-1])
    macs = None if tokens is None else product(*tokens, e, h)
    return Inference((*x[:-1], a["num_experts"]), tuple(weights), macs=macs)


register(Rule(
    name="Router", family="dense", infer=_router, framework=PYTORCH, field=POINTWISE, arity=(1, 1),
    kind=FULLY_CONNECTED,
    args=(Arg("num_experts", positive), Arg("hidden_size", positive), Arg("bias", boolean, False),
          Arg("correction_bias", boolean, False)),
    doc="A MoE router (Hugging Face's *TopKRouter): weight (E × H), + bias (E) with bias; "
        "correction_bias: DeepSeek-V3's e_score_correction_bias (E), a buffer. Output: one score per expert.",
))
