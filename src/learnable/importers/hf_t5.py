"""T5's and mT5's config fields → the parameters of hf_t5.yaml's blocks, its inputs and note.

What differs from the decoder-only families: the stacks' sizes (num_layers, and
num_decoder_layers, which defaults to it), d_kv apart from d_model / num_heads, the
feed-forward block named by ``feed_forward_proj`` (``relu``: DenseReluDense; ``gated-gelu``:
the gated one, as transformers' T5Config reads it), and two sequences: the encoder's source
and the decoder's target, each with its relative-position buckets.

The head: transformers 5 builds every T5 tied (T5Config forces ``tie_word_embeddings``) and
unties ``lm_head`` when a checkpoint stores its own, as T5 v1.1, Flan-T5 and mT5 do, whose
configs say ``tie_word_embeddings: false``; so the config's field is followed here, and an
untied head is counted as those checkpoints hold it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..errors import Location, SpecError

_DENSE = {False: "t5_dense_act_dense", True: "t5_dense_gated_act_dense"}


def t5_params(config: Mapping[str, Any], family: Mapping[str, Any], params: dict[str, Any],
              where: Location) -> None:
    """decoder_layers, the feed-forward block and its activation, from the config (the
    family's defaults, as its config class has them, where left out)."""
    decoder = config.get("num_decoder_layers")
    params["decoder_layers"] = params["layers"] if decoder is None else _positive(config, "num_decoder_layers", where)
    proj = config.get("feed_forward_proj")
    gated, act = _feed_forward(family["defaults"]["feed_forward_proj"] if proj is None else proj, where)
    params["dense"], params["act"] = _DENSE[gated], act


def _feed_forward(value: Any, where: Location) -> tuple[bool, str]:
    """(gated, activation) as T5Config reads ``feed_forward_proj``: ``ACT`` or ``gated-ACT``;
    "gated-gelu" is GELU with the tanh approximation (gelu_new), for backward compatibility."""
    parts = value.split("-") if isinstance(value, str) else []
    if not parts or len(parts) > 2 or (len(parts) == 2 and parts[0] != "gated") or not parts[-1]:
        raise SpecError(f"'feed_forward_proj' must be 'ACT' or 'gated-ACT' (as 'relu' or 'gated-gelu'), "
                        f"got {value!r}", where)
    return len(parts) == 2, "gelu_new" if value == "gated-gelu" else parts[-1]


def _positive(config: Mapping[str, Any], field: str, where: Location) -> int:
    value = config.get(field)
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise SpecError(f"'{field}' must be a positive whole number, got {value!r}", where)
    return value


def t5_lengths(input_shape: Any, default: int, where: Location) -> tuple[int, int]:
    """(source, target) tokens: ``[n]`` for both, ``[[source], [target]]`` for each."""
    if input_shape is None:
        return default, default
    shapes = input_shape if input_shape and all(isinstance(s, (list, tuple)) for s in input_shape) \
        else [input_shape]
    lengths = [s[0] if len(s) == 1 and isinstance(s[0], int) and not isinstance(s[0], bool) and s[0] > 0 else None
               for s in shapes if isinstance(s, (list, tuple))]
    if len(shapes) not in (1, 2) or len(lengths) != len(shapes) or None in lengths:
        raise SpecError(f"T5's input is one sequence of token ids, [tokens], for the encoder and the decoder, or "
                        f"[[source tokens], [target tokens]]; got {input_shape!r}", where)
    return lengths[0], lengths[-1]


def t5_inputs(lengths: tuple[int, int], decoder: bool) -> dict[str, list[int]]:
    """The token ids and each query/key pair's relative-position bucket, per stack."""
    source, target = lengths
    inputs = {"input_ids": [source], "relative_position_buckets": [source, source]}
    if decoder:
        inputs.update(decoder_input_ids=[target], decoder_relative_position_buckets=[target, target])
    return inputs


def t5_note(params: Mapping[str, Any], lengths: tuple[int, int]) -> str:
    source, target = lengths
    decoder = "Encoder" not in params["head"]
    tokens = (f"MACs for a source of {source:,} tokens and a target of {target:,} (--input N / input_shape=[n] "
              "for both; --input S --input T / [[S], [T]] for each)") if decoder else \
        f"MACs for {source:,} tokens (--input N / input_shape=[n])"
    head = ""
    if "ForConditionalGeneration" in params["head"]:
        head = (", with lm_head tied to shared (stored once)" if params["tied"] else
                ", with its own lm_head (tie_word_embeddings is false: its checkpoints store one, which transformers "
                "5 keeps untied on loading)")
    ff = "gated " if params["dense"] == _DENSE[True] else ""
    return (f"{tokens}; built as {params['head']}{head}; feed-forward {ff}{params['act']}; the relative position "
            "bias is stored in each stack's first block and used by all of them (one row per stack)")
