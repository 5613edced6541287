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
from .hf_layouts import AUTO_MODEL, EMBEDDING, FIELDS, HEADS, LAYOUTS, TIED_HEADS
from .hf_moe import REQUIRED, moe_params, runs, sparse_layers
from .hf_t5 import t5_inputs, t5_lengths, t5_note, t5_params
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
    # BERT and RoBERTa: an encoder whose head follows the config's architecture (hf_layouts.HEADS);
    # a BERT made a decoder with cross-attention is left to transformers ("refer").
    "bert": {"layout": "encoder", "tie": True, "refer": ("add_cross_attention", "is_decoder")},
    "roberta": {"layout": "encoder", "tie": True, "refer": ("add_cross_attention", "is_decoder")},
    # GPT-NeoX: which layer follows use_parallel_residual; q, k, v and the output dense are
    # biased unless attention_bias is false; the MLP always is.
    "gpt_neox": {"layout": "neox", "layer": ("use_parallel_residual", True, {True: "neox_layer",
                                                                             False: "neox_sequential_layer"}),
                 "qkv_bias": ("attention_bias", True), "o_bias": ("attention_bias", True), "tie": False},
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
    # T5 (v1.0, v1.1, Flan-T5) and mT5 (hf_t5.py, hf_t5.yaml): the same layout, the defaults of
    # T5Config and MT5Config; the head is tied unless tie_word_embeddings says false (hf_t5.py).
    "t5": {"layout": "t5", "tie": True, "defaults": {
        "vocab_size": 32128, "d_model": 512, "d_kv": 64, "d_ff": 2048, "num_layers": 6, "num_heads": 8,
        "relative_attention_num_buckets": 32, "feed_forward_proj": "relu"}},
    "mt5": {"layout": "t5", "tie": True, "defaults": {
        "vocab_size": 250112, "d_model": 512, "d_kv": 64, "d_ff": 1024, "num_layers": 8, "num_heads": 6,
        "relative_attention_num_buckets": 32, "feed_forward_proj": "gated-gelu"}},
}


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
    architecture = _architecture(config, model_type)
    why = _not_native(config, family, model_type, architecture)
    if why is not None:
        from .hf_transformers import transformers_graph

        return transformers_graph(dict(config), source, input_shape, architecture if model_type in HEADS else None,
                                  why)
    params = family_params(config, family, where)
    params["head"] = architecture
    input_shape = _positional(input_shape)
    default = min(DEFAULT_TOKENS, params.get("positions", DEFAULT_TOKENS))
    tokens = t5_lengths(input_shape, default, where) if family["layout"] == "t5" else _tokens(input_shape, params, where)
    return _build(family, params, tokens, _model_name(config, source, model_type), source)


def _positional(input_shape: Any) -> Any:
    """Several inputs as the CLI gives them (``--input 7 --input 4``: input specs as text) →
    their shapes in order, as a config's counts take them (T5's source and target)."""
    if isinstance(input_shape, list) and input_shape and all(isinstance(s, str) for s in input_shape):
        from ..inputs import input_specs, plain

        return [list(shape) for shape in plain(input_specs(input_shape))[0]]
    return input_shape


def native_config_graph(config: Mapping[str, Any], source: str, input_shape: Any = None) -> Graph:
    """The model a config describes, for the families learnable lays out itself only: the
    calculator's server reads a pasted config.json so, never building a model in transformers."""
    model_type = config.get("model_type")
    if isinstance(model_type, str):
        why = _not_native(config, FAMILIES.get(model_type), model_type, _architecture(config, model_type))
        if why is not None:
            raise SpecError(f"{why}; here only the families learnable lays out are counted ({', '.join(FAMILIES)}): "
                            "run `learnable count config.json` with transformers installed for the others",
                            Location(source))
    return config_graph(config, source, input_shape)


def _not_native(config: Mapping[str, Any], family: Mapping[str, Any] | None, model_type: str,
                architecture: str | None) -> str | None:
    """Why learnable's spec cannot count this config (transformers can), or None."""
    if family is None:
        return f"model_type '{model_type}' has no spec in learnable"
    refer = [field for field in family.get("refer", ()) if config.get(field)]
    if refer:
        return f"'{refer[0]}' is set, which learnable's {model_type} spec does not lay out"
    if model_type in HEADS and architecture not in HEADS[model_type]:
        return f"the architecture {architecture!r} has no spec in learnable (it has {', '.join(HEADS[model_type])})"
    return None


def _architecture(config: Mapping[str, Any], model_type: str) -> str | None:
    """The class the config names (``architectures[0]``), or AutoModel's for the families
    whose head follows it; None for the causal language models, counted with their head."""
    named = config.get("architectures")
    if isinstance(named, list) and named and isinstance(named[0], str):
        return named[0]
    return AUTO_MODEL.get(model_type)


def family_params(config: Mapping[str, Any], family: Mapping[str, Any], where: Location) -> dict[str, Any]:
    """The blocks' parameters from the config's fields (the family's defaults where left out)."""
    layout = family["layout"]
    defaults = family.get("defaults", {})
    params = {name: _field(config, field, defaults[field], where) if field in defaults
              else _whole(config, field, where) if isinstance(field, str) else _field(config, *field, where)
              for name, field in FIELDS[layout].items()}
    _bounded_depth(params, FIELDS[layout]["layers"], where)
    if layout == "t5":
        t5_params(config, family, params, where)
    elif layout == "gpt2":
        inner = config.get("n_inner")
        params["intermediate"] = 4 * params["hidden"] if inner is None else _whole(config, "n_inner", where)
    elif layout in ("encoder", "neox"):
        params["head_dim"] = _head_dim(params, where)
        if layout == "neox":
            field, default, blocks = family["layer"]
            params["layer"] = blocks[bool(config.get(field, default))]
            params.update({name: bool(config.get(*family[name])) for name in ("qkv_bias", "o_bias")})
    else:
        _decoder_params(config, family, params, where)
    params["tied"] = bool(config.get("tie_word_embeddings", family["tie"]))
    return params


def _decoder_params(config: Mapping[str, Any], family: Mapping[str, Any], params: dict[str, Any],
                    where: Location) -> None:
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


def _head_dim(params: Mapping[str, Any], where: Location) -> int:
    """hidden / heads, which these families require to be whole (transformers refuses the rest)."""
    if params["hidden"] % params["heads"]:
        raise SpecError(f"'hidden_size' ({params['hidden']}) must be a multiple of 'num_attention_heads' "
                        f"({params['heads']}): each head takes an equal share of it", where)
    return params["hidden"] // params["heads"]


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


MAX_LAYERS = 100_000  # a spec's repeat: limit; the layer stack is one block repeated


def _bounded_depth(params: Mapping[str, Any], field: Any, where: Location) -> None:
    """Before a list per layer is built (windows, dense or sparse): 2,000,000,000 layers held
    23 GB before any limit applied."""
    if params["layers"] > MAX_LAYERS:
        name = field if isinstance(field, str) else field[0]
        raise SpecError(f"'{name}' is {params['layers']:,}; learnable reads at most {MAX_LAYERS:,} layers "
                        "(a spec's repeat: limit)", where)


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


# The block a layout's stack is written into, and the inputs besides input_ids it takes.
_STACKS = {"decoder": "decoder_layers", "neox": "neox_layers"}
_INPUTS = {"gpt2": ("position_ids",), "encoder": ("position_ids", "token_type_ids")}


def _build(family: Mapping[str, Any], params: dict[str, Any], tokens: Any, name: str, source: str) -> Graph:
    from dataclasses import replace

    from ..spec.build import build_graph
    from ..spec.document import spec_from_mapping

    layout = family["layout"]
    data = dict(_blocks())
    if layout in _STACKS:
        data["blocks"] = {**data["blocks"], _STACKS[layout]: {"layers": _stack(params)}}
    if layout == "t5":  # the feed-forward block the config names (hf_t5.py)
        data["blocks"] = {**data["blocks"], "t5_dense": data["blocks"][params["dense"]]}
        data["inputs"] = t5_inputs(tokens, "Encoder" not in params["head"])
    else:
        data["inputs"] = {input_name: [tokens] for input_name in ("input_ids", *_INPUTS.get(layout, ()))}
    data["name"] = name
    data["params"] = {k: v for k, v in params.items() if k not in ("layer", "tied", "stack", "head", "dense")}
    data["layers"] = _layers(layout, params)
    graph = build_graph(spec_from_mapping(data, source), None, None)
    what = t5_note(params, tokens) if layout == "t5" else \
        f"MACs for one sequence of {tokens:,} tokens (input_shape=[n] / --input n to change); {_head_note(family, params)}"
    note = f"{source}: counted from the config (model_type '{family_name(family)}'); {what}"
    return replace(graph, notes=(*graph.notes, note))


def _head_note(family: Mapping[str, Any], params: Mapping[str, Any]) -> str:
    model_type = family_name(family)
    if model_type in HEADS:
        head = "with the masked-LM head 'decoder'" if "ForMaskedLM" in params["head"] else "with the pooler"
        tied = ", tied to the word embeddings (stored once)" if "ForMaskedLM" in params["head"] and params["tied"] \
            else ""
        return f"built as {params['head']}, {head}{tied}"
    tied = "the head lm_head is tied to the token embeddings (stored once)" if params["tied"] else \
        "the head lm_head has its own weights (tie_word_embeddings is false)"
    routed = (f"; a mixture of experts: each token goes through {params['top_k']} of {params['experts']} routed "
              "experts, so active params and MACs take that share of them") if "moe" in family else ""
    return tied + routed


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
    """The layout's top level, then the architecture's head where it has one (hf_layouts.HEADS)."""
    head = next((heads[params["head"]] for heads in HEADS.values() if params.get("head") in heads), ())
    layers = []
    for item in (*LAYOUTS[layout], *head):
        (kind, args), = item.items()
        args = dict(args)
        if args.pop("untied_only", False) and params["tied"]:
            continue
        if args.get("name") in TIED_HEADS and params["tied"]:
            args["shares"] = EMBEDDING[layout]
        layers.append({kind: args})
    return layers


@cache
def _blocks() -> Mapping[str, Any]:
    """hf_decoder.yaml's, hf_encoder.yaml's and hf_t5.yaml's blocks, parsed once (the
    encoders use the decoders' attention block)."""
    from ..spec._yaml import load_yaml

    blocks: dict[str, Any] = {}
    for file in ("hf_decoder.yaml", "hf_encoder.yaml", "hf_t5.yaml"):
        path = Path(__file__).with_name(file)
        data, _ = load_yaml(path.read_text(encoding="utf-8"), str(path))
        blocks.update(data["blocks"])
    return {"convention": data["convention"], "blocks": blocks}
