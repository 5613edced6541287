"""The mixture-of-experts part of a Hugging Face config: which fields, and which layers.

A family's ``moe`` entry in ``hf_config.FAMILIES`` maps each parameter of the blocks in
``hf_decoder.yaml`` to the config's field for it (a tuple of names where checkpoints spell
it more than one way) and the default of transformers' config class; ``sparse`` says which
decoder layers hold the mixture (transformers 5, ``<Family>DecoderLayer.__init__``):

- ``all``: every layer (Mixtral);
- ``step``: layer i unless i is in ``mlp_only_layers``, and only when (i + 1) is a multiple
  of ``decoder_sparse_step`` (Qwen2-MoE, Qwen3-MoE);
- ``first_k``: from layer ``first_k_dense_replace`` on (DeepSeek-V2/V3).

The others are the family's ``dense_layer`` with an MLP of ``intermediate_size``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..errors import Location, SpecError

REQUIRED = object()  # no default: the config must say


def moe_params(config: Mapping[str, Any], family: Mapping[str, Any], where: Location) -> dict[str, Any]:
    """The mixture's block parameters from the config (booleans as they are, sizes checked)."""
    params: dict[str, Any] = {}
    for name, (fields, default) in family["moe"].items():
        fields = (fields,) if isinstance(fields, str) else fields
        given = next((f for f in fields if config.get(f) is not None), None)
        if name == "q_rank" and given is None and fields[0] in config:  # null: no q bottleneck
            params[name] = None
            continue
        if given is None and default is REQUIRED:
            raise SpecError(f"'{fields[0]}' is not given; a mixture of experts' config says how many experts "
                            "each token is routed to there", where)
        value = default if given is None else config[given]
        if isinstance(default, bool):
            params[name] = bool(value)
        else:
            params[name] = _positive(value, given or fields[0], where)
    if params["top_k"] > params["experts"]:
        raise SpecError(f"routes each token to {params['top_k']} experts (num_experts_per_tok) but has only "
                        f"{params['experts']}", where)
    _mla(params)
    return params


def _positive(value: Any, field: str, where: Location) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise SpecError(f"'{field}' must be a positive whole number, got {value!r}", where)
    return value


def _mla(params: dict[str, Any]) -> None:
    """MLA's q path: through the q_lora_rank bottleneck, or one q_proj when it is null."""
    if "q_rank" in params:
        lora = params["q_rank"] is not None
        params.update(q_lora=int(lora), q_plain=int(not lora), q_rank=params["q_rank"] or 1)


def sparse_layers(config: Mapping[str, Any], family: Mapping[str, Any], layers: int, where: Location) -> list[bool]:
    """For each decoder layer, whether it holds the mixture (else a dense MLP)."""
    how = family["sparse"]
    if how == "all":
        return [True] * layers
    if how == "first_k":
        first = config.get("first_k_dense_replace", family["first_k"])
        first = 0 if first is None else _whole(first, "first_k_dense_replace", where)
        return [i >= first for i in range(layers)]
    step = config.get("decoder_sparse_step", 1)
    step = _positive(step, "decoder_sparse_step", where)
    dense = config.get("mlp_only_layers") or []
    if not isinstance(dense, list) or not all(isinstance(i, int) and not isinstance(i, bool) for i in dense):
        raise SpecError(f"'mlp_only_layers' must be a list of layer numbers, got {dense!r}", where)
    return [i not in dense and (i + 1) % step == 0 for i in range(layers)]


def _whole(value: Any, field: str, where: Location) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise SpecError(f"'{field}' must be a whole number, got {value!r}", where)
    return value


def runs(layers: list[Any]) -> list[tuple[Any, int]]:
    """The stack as runs of one kind of layer: [(kind, how many in a row), ...]."""
    out: list[tuple[Any, int]] = []
    for block in layers:
        if out and out[-1][0] == block:
            out[-1] = (block, out[-1][1] + 1)
        else:
            out.append((block, 1))
    return out
