"""Hugging Face ``config.json`` → the Graph of the model it describes, without torch.

A family is data: ``FAMILIES`` says which block of ``hf_decoder.yaml`` makes one decoder
layer and how the config's fields fill in the blocks' parameters (with the defaults of
transformers' ``<Family>Config`` where a field may be left out); a mixture of experts also
names its dense layer, its expert fields and which layers are sparse (``hf_moe.py``), and its
routed experts carry ``active: "top_k of experts"`` for the active parameters; ``LAYOUTS`` are the
top-level layers (embeddings, the stack, the final norm, the head). The rules count the
spec this makes, as they count any spec, so every row has its arithmetic and MACs.

Any other ``model_type`` is built by transformers itself on the meta device (no weights,
no download) and imported as a PyTorch model, when transformers is installed; otherwise
one line names the extra to install. The config is JSON, read within a size limit and
never executed (``trust_remote_code`` is never set: a config naming its own code is
refused by transformers, and said so).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

from ..errors import Location, SpecError
from ..graph import Graph
from .hf_moe import REQUIRED, moe_params, runs, sparse_layers
from .hf_window import layer_windows

MAX_CONFIG_BYTES = 16 * 1024 * 1024
DEFAULT_TOKENS = 2048  # one sequence's length for MACs and shapes, when input_shape does not say

# model_type → the decoder layer's block, the top-level layout, and how the config fills the
# blocks' parameters: a field's name (read with the default of transformers' config class) or
# a fixed value. Sources: transformers 5 models/<family>/modeling_<family>.py, configuration_*.py.
_LLAMA = {"layout": "decoder", "layer": "llama_layer", "qkv_bias": ("attention_bias", False),
          "o_bias": ("attention_bias", False), "mlp_bias": ("mlp_bias", False), "qk_norm": 0, "tie": False}
# DeepSeek's multi-head latent attention (hf_decoder.yaml mla_attn): its fields and defaults.
_MLA = {"q_rank": ("q_lora_rank", 1536), "kv_rank": ("kv_lora_rank", 512), "nope": ("qk_nope_head_dim", 128),
        "rope": ("qk_rope_head_dim", 64), "v_dim": ("v_head_dim", 128)}
# Sliding windows (hf_window.py): the field's class default, its switch, which layers use it.
_ALL = {"default": None, "layers": "all"}
_QWEN = {"default": 4096, "use": "use_sliding_window", "layers": "from_max"}
FAMILIES: dict[str, dict[str, Any]] = {
    "llama": _LLAMA,
    "mistral": {**_LLAMA, "qkv_bias": False, "o_bias": False, "mlp_bias": False,
                "window": {"default": 4096, "layers": "all"}},
    "qwen2": {**_LLAMA, "qkv_bias": True, "o_bias": False, "mlp_bias": False, "window": _QWEN},  # q, k, v biased
    "qwen3": {**_LLAMA, "mlp_bias": False, "qk_norm": 1, "window": _QWEN},
    "gemma": {**_LLAMA, "layer": "gemma_layer", "mlp_bias": False, "tie": True, "head_dim": 256, "kv_heads": 16},
    "gemma2": {**_LLAMA, "layer": "gemma2_layer", "mlp_bias": False, "tie": True, "head_dim": 256, "kv_heads": 4,
               "window": {"default": 4096, "layers": ("every", None, 2)}},
    "gemma3_text": {**_LLAMA, "layer": "gemma2_layer", "mlp_bias": False, "qk_norm": 1, "tie": True,
                    "head_dim": 256, "kv_heads": 4,
                    "window": {"default": 4096, "layers": ("every", "sliding_window_pattern", 6)}},
    "phi3": {**_LLAMA, "layer": "phi3_layer", "qkv_bias": False, "o_bias": False, "mlp_bias": False, "window": _ALL},
    "gpt2": {"layout": "gpt2", "tie": True},
    # Mixtures of experts (hf_moe.py reads "moe" and "sparse"): the mixture's fields with
    # transformers' defaults, and which layers hold it (the others are "dense_layer").
    "mixtral": {**_LLAMA, "layer": "moe_layer", "qkv_bias": False, "o_bias": False, "mlp_bias": False,
                "sparse": "all", "window": _ALL, "moe": {"experts": (("num_local_experts", "num_experts"), 8),
                                         "top_k": ("num_experts_per_tok", 2),
                                         "moe_intermediate": ("intermediate_size", 14336)}},
    "qwen2_moe": {**_LLAMA, "layer": "shared_moe_layer", "dense_layer": "llama_layer", "qkv_bias": ("qkv_bias", True),
                  "o_bias": False, "mlp_bias": False, "sparse": "step",
                  "window": {**_QWEN, "layers": "odd_below_max"},
                  "moe": {"experts": (("num_experts", "num_local_experts"), 60), "top_k": ("num_experts_per_tok", 4),
                          "moe_intermediate": ("moe_intermediate_size", 1408),
                          "shared_intermediate": ("shared_expert_intermediate_size", 5632)}},
    "qwen3_moe": {**_LLAMA, "layer": "moe_layer", "dense_layer": "llama_layer", "mlp_bias": False, "qk_norm": 1,
                  "sparse": "step", "window": {**_QWEN, "layers": "all"},
                  "moe": {"experts": (("num_experts", "num_local_experts"), 128), "top_k": ("num_experts_per_tok", 8),
                          "moe_intermediate": ("moe_intermediate_size", 768)}},
    "deepseek_v2": {**_LLAMA, "layer": "mla_moe_layer", "dense_layer": "mla_dense_layer", "sparse": "first_k",
                    "first_k": 0, "moe": {**_MLA, "experts": (("n_routed_experts", "num_experts"), 64),
                                          "top_k": ("num_experts_per_tok", REQUIRED),
                                          "moe_intermediate": ("moe_intermediate_size", 1407),
                                          "shared_experts": ("n_shared_experts", 2)}},
    "deepseek_v3": {**_LLAMA, "layer": "mla_moe_layer", "dense_layer": "mla_dense_layer", "mlp_bias": False,
                    "sparse": "first_k", "first_k": 3, "correction_bias": True,
                    "moe": {**_MLA, "experts": (("n_routed_experts", "num_local_experts"), 256),
                            "top_k": ("num_experts_per_tok", 8), "moe_intermediate": ("moe_intermediate_size", 2048),
                            "shared_experts": ("n_shared_experts", 1)}},
}
# The config's field for each parameter the layouts use (GPT-2 has its own names).
_FIELDS = {
    "decoder": {"vocab": "vocab_size", "hidden": "hidden_size", "layers": "num_hidden_layers",
                "heads": "num_attention_heads", "intermediate": "intermediate_size"},
    "gpt2": {"vocab": "vocab_size", "hidden": "n_embd", "layers": "n_layer", "heads": "n_head",
             "positions": "n_positions"},
}
_HEAD = {"Linear": {"in_features": "$hidden", "out_features": "$vocab", "bias": False, "name": "lm_head"}}
LAYOUTS = {
    "decoder": [
        {"Embedding": {"num_embeddings": "$vocab", "embedding_dim": "$hidden", "name": "embed_tokens"}},
        {"decoder_layers": {"name": "layers"}},  # one block holding the stack, as transformers' model.layers
        {"RMSNorm": {"normalized_shape": "$hidden", "name": "norm"}},
        _HEAD,
    ],
    # GPT-2's block (ln_1, c_attn, c_proj, ln_2, c_fc, c_proj) holds what nn.TransformerEncoderLayer
    # with norm_first holds (see zoo gpt2_small.yaml); its causal mask attn.bias is no parameter.
    "gpt2": [
        {"nn.Embedding": {"num_embeddings": "$vocab", "embedding_dim": "$hidden", "name": "wte",
                          "inputs": ["input_ids"]}},
        {"nn.Embedding": {"num_embeddings": "$positions", "embedding_dim": "$hidden", "name": "wpe",
                          "inputs": ["position_ids"]}},
        {"Add": {"inputs": ["wte", "wpe"]}},
        {"TransformerEncoderLayer": {"d_model": "$hidden", "nhead": "$heads", "dim_feedforward": "$intermediate",
                                     "activation": "gelu", "norm_first": True, "repeat": "$layers", "name": "h",
                                     "kv_cache": {"heads": "$heads", "head_dim": "$hidden // $heads",
                                                  "query_heads": "$heads", "hidden": "$hidden"}}},
        {"LayerNorm": {"normalized_shape": "$hidden", "name": "ln_f"}},
        _HEAD,
    ],
}
_EMBEDDING = {"decoder": "embed_tokens", "gpt2": "wte"}


def read_config(path: Path) -> dict[str, Any]:
    where = Location(str(path))
    try:
        with path.open("rb") as file:
            data = file.read(MAX_CONFIG_BYTES + 1)
    except OSError as err:
        raise SpecError(f"cannot be read: {err.strerror or err}", where) from None
    if len(data) > MAX_CONFIG_BYTES:
        raise SpecError(f"is larger than {MAX_CONFIG_BYTES:,} bytes; not a model's config.json", where)
    try:
        config = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise SpecError("is not JSON; a Hugging Face config.json is", where) from None
    if not isinstance(config, dict):
        raise SpecError("is not a JSON object; a Hugging Face config.json is", where)
    return config


def is_hf_config(config: Mapping[str, Any]) -> bool:
    return "model_type" in config or "architectures" in config


def config_graph(config: Mapping[str, Any], source: str, input_shape: Any = None) -> Graph:
    """The model a config describes: natively for the families above, else through transformers."""
    where = Location(source)
    model_type = config.get("model_type")
    if not isinstance(model_type, str):
        raise SpecError("has no 'model_type'; a Hugging Face config.json names its model's family there", where)
    family = FAMILIES.get(model_type)
    if family is None:
        from .hf_transformers import transformers_graph

        return transformers_graph(dict(config), source, input_shape)
    params = family_params(config, family, where)
    tokens = _tokens(input_shape, params, where)
    return _build(family, params, tokens, _model_name(config, source, model_type), source)


def family_params(config: Mapping[str, Any], family: Mapping[str, Any], where: Location) -> dict[str, Any]:
    """The blocks' parameters from the config's fields (the family's defaults where left out)."""
    layout = family["layout"]
    params = {name: _whole(config, field, where) for name, field in _FIELDS[layout].items()}
    if layout == "gpt2":
        inner = config.get("n_inner")
        params["intermediate"] = 4 * params["hidden"] if inner is None else _whole(config, "n_inner", where)
    else:
        params["layer"] = family["layer"]
        heads = params["heads"]
        params["kv_heads"] = _field(config, "num_key_value_heads", family.get("kv_heads", heads), where)
        params["head_dim"] = _field(config, "head_dim", family.get("head_dim", params["hidden"] // heads), where)
        for name in ("qkv_bias", "o_bias", "mlp_bias"):
            value = family[name]
            params[name] = bool(config.get(value[0], value[1])) if isinstance(value, tuple) else value
        params["qk_norm"] = family["qk_norm"]
        _check_groups(params, where)
        if "moe" in family:
            params.update(moe_params(config, family, where), correction_bias=family.get("correction_bias", False))
        _layer_stack(config, family, params, where)
    params["tied"] = bool(config.get("tie_word_embeddings", family["tie"]))
    return params


def _layer_stack(config: Mapping[str, Any], family: Mapping[str, Any], params: dict[str, Any],
                 where: Location) -> None:
    """Each decoder layer's block (a mixture's dense and sparse layers) and sliding window:
    one block repeated when they are all alike, else runs of (block, window, count)."""
    layers = params["layers"]
    windows = layer_windows(config, family, layers, where)
    params["window"] = windows[0]
    blocks = [family["layer"]] * layers
    if "moe" in family:
        dense = family.get("dense_layer", family["layer"])
        blocks = [family["layer"] if s else dense for s in sparse_layers(config, family, layers, where)]
    if "moe" in family or len(set(windows)) > 1:
        params["stack"] = runs(list(zip(blocks, windows)))


def _whole(config: Mapping[str, Any], field: str, where: Location) -> int:
    value = config.get(field)
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        shown = "nothing" if value is None else repr(value)
        raise SpecError(f"'{field}' must be a positive whole number, got {shown}", where)
    return value


def _field(config: Mapping[str, Any], field: str, default: int, where: Location) -> int:
    """An optional size: absent or null takes the default (as transformers' modeling code does)."""
    return default if config.get(field) is None else _whole(config, field, where)


def _check_groups(params: Mapping[str, Any], where: Location) -> None:
    if params["heads"] % params["kv_heads"]:
        raise SpecError(f"'num_attention_heads' ({params['heads']}) must be a multiple of 'num_key_value_heads' "
                        f"({params['kv_heads']}): each key/value head serves a group of query heads", where)


def _tokens(input_shape: Any, params: Mapping[str, Any], where: Location) -> int:
    if input_shape is None:
        return min(DEFAULT_TOKENS, params.get("positions", DEFAULT_TOKENS))
    shape = input_shape[0] if isinstance(input_shape, list) and input_shape and isinstance(input_shape[0], (list, tuple)) \
        else input_shape
    if not isinstance(shape, (list, tuple)) or len(shape) != 1 or not isinstance(shape[0], int) or shape[0] < 1:
        raise SpecError(f"a language model's input is one sequence of token ids, [tokens]; got {input_shape!r}",
                        where)
    return shape[0]


def _build(family: Mapping[str, Any], params: dict[str, Any], tokens: int, name: str, source: str) -> Graph:
    from dataclasses import replace

    from ..spec.build import build_graph
    from ..spec.document import spec_from_mapping

    layout = family["layout"]
    data = dict(_blocks())
    if layout == "decoder":
        data["blocks"] = {**data["blocks"], "decoder_layers": {"layers": _stack(params)}}
    data["name"] = name
    data["params"] = {k: v for k, v in params.items() if k not in ("layer", "tied", "stack")}
    inputs = {"input_ids": [tokens]}
    if layout == "gpt2":
        inputs["position_ids"] = [tokens]
    data["inputs"] = inputs
    data["layers"] = _layers(layout, params)
    graph = build_graph(spec_from_mapping(data, source), None, None)
    tied = "the head lm_head is tied to the token embeddings (stored once)" if params["tied"] else \
        "the head lm_head has its own weights (tie_word_embeddings is false)"
    routed = (f"; a mixture of experts: each token goes through {params['top_k']} of {params['experts']} routed "
              "experts, so active params and MACs take that share of them") if "moe" in family else ""
    note = (f"{source}: counted from the config (model_type '{family_name(family)}'); MACs for one sequence of "
            f"{tokens:,} tokens (input_shape=[n] / --input n to change); {tied}{routed}")
    return replace(graph, notes=(*graph.notes, note))


def _stack(params: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The decoder layers: one block repeated, or runs of a mixture's dense and sparse layers
    (named by their block: mla_dense_layer, mla_moe_layer, mla_moe_layer_1, ...)."""
    if "stack" not in params:
        return [{params["layer"]: {"repeat": "$layers", "name": "layer"}}]
    return [{block: {"repeat": count, "window": window}} for (block, window), count in params["stack"]]


def _model_name(config: Mapping[str, Any], source: str, model_type: str) -> str:
    named = config.get("_name_or_path")
    folder = Path(source).parent.name
    return named if isinstance(named, str) and named else folder or model_type


def family_name(family: Mapping[str, Any]) -> str:
    return next(name for name, entry in FAMILIES.items() if entry is family)


def _layers(layout: str, params: Mapping[str, Any]) -> list[dict[str, Any]]:
    layers = []
    for item in LAYOUTS[layout]:
        (kind, args), = item.items()
        args = dict(args)
        if args.get("name") == "lm_head" and params["tied"]:
            args["shares"] = _EMBEDDING[layout]
        layers.append({kind: args})
    return layers


@cache
def _blocks() -> Mapping[str, Any]:
    """hf_decoder.yaml's blocks, parsed once."""
    from ..spec._yaml import load_yaml

    path = Path(__file__).with_name("hf_decoder.yaml")
    data, _ = load_yaml(path.read_text(encoding="utf-8"), str(path))
    return {key: data[key] for key in ("convention", "blocks")}
