"""The top level of each Hugging Face layout: which config fields fill it, and its layers.

``hf_config.FAMILIES`` names a layout per ``model_type``; here each layout says which config
field gives each top-level parameter (``FIELDS``: a name, or (name, default) where
transformers' config class has one), its layers around the stack of blocks (``LAYOUTS``),
and, for the families whose heads differ by architecture, the layers each named
architecture adds (``HEADS``: what transformers builds for ``architectures[0]``; AutoModel's
class when the config names none). Sources: transformers 5 models/<family>/modeling_*.py.
"""

from __future__ import annotations

from typing import Any

FIELDS: dict[str, dict[str, Any]] = {
    "decoder": {"vocab": "vocab_size", "hidden": "hidden_size", "layers": "num_hidden_layers",
                "heads": "num_attention_heads", "intermediate": "intermediate_size"},
    "gpt2": {"vocab": "vocab_size", "hidden": "n_embd", "layers": "n_layer", "heads": "n_head",
             "positions": "n_positions"},
    "encoder": {"vocab": "vocab_size", "hidden": "hidden_size", "layers": "num_hidden_layers",
                "heads": "num_attention_heads", "intermediate": "intermediate_size",
                "positions": ("max_position_embeddings", 512), "type_vocab": ("type_vocab_size", 2)},
    "neox": {"vocab": "vocab_size", "hidden": "hidden_size", "layers": "num_hidden_layers",
             "heads": "num_attention_heads", "intermediate": "intermediate_size"},
    # T5's sizes take their family's defaults (hf_config.FAMILIES "defaults"); n_positions,
    # which older configs give (512, T5's pretraining length), only caps the default length.
    "t5": {"vocab": "vocab_size", "hidden": "d_model", "d_kv": "d_kv", "ff": "d_ff", "layers": "num_layers",
           "heads": "num_heads", "buckets": "relative_attention_num_buckets", "positions": ("n_positions", 512)},
}
_HEAD = {"Linear": {"in_features": "$hidden", "out_features": "$vocab", "bias": False, "name": "lm_head"}}
LAYOUTS: dict[str, list[dict[str, Any]]] = {
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
    # BERT and RoBERTa (BertEmbeddings, BertEncoder): word + position + token type, LayerNorm,
    # then the post-norm layers (hf_encoder.yaml); the head follows the architecture (HEADS).
    "encoder": [
        {"Embedding": {"num_embeddings": "$vocab", "embedding_dim": "$hidden", "name": "word_embeddings",
                       "inputs": ["input_ids"]}},
        {"Embedding": {"num_embeddings": "$positions", "embedding_dim": "$hidden", "name": "position_embeddings",
                       "inputs": ["position_ids"]}},
        {"Embedding": {"num_embeddings": "$type_vocab", "embedding_dim": "$hidden", "name": "token_type_embeddings",
                       "inputs": ["token_type_ids"]}},
        {"Add": {"inputs": ["word_embeddings", "position_embeddings", "token_type_embeddings"], "name": "embeddings"}},
        {"LayerNorm": {"normalized_shape": "$hidden", "name": "embeddings_LayerNorm"}},
        {"bert_layer": {"repeat": "$layers", "name": "layer"}},
    ],
    # GPT-NeoX (Pythia, GPT-NeoX-20B): embed_in, the layers, final_layer_norm, an untied head
    # by default (transformers 5 names embed_out lm_head).
    "neox": [
        {"Embedding": {"num_embeddings": "$vocab", "embedding_dim": "$hidden", "name": "embed_in"}},
        {"neox_layers": {"name": "layers"}},
        {"LayerNorm": {"normalized_shape": "$hidden", "name": "final_layer_norm"}},
        _HEAD,
    ],
    # T5 and mT5 (hf_t5.yaml): the shared embedding and the encoder; the decoder and the head
    # follow the architecture (HEADS), T5EncoderModel having neither.
    "t5": [
        {"Embedding": {"num_embeddings": "$vocab", "embedding_dim": "$hidden", "name": "shared",
                       "inputs": ["input_ids"]}},
        {"t5_encoder": {"name": "encoder", "inputs": ["shared", "relative_position_buckets"]}},
    ],
}
# The Embedding a tied head shares its weight with, per layout.
EMBEDDING = {"decoder": "embed_tokens", "gpt2": "wte", "encoder": "word_embeddings", "neox": "embed_in",
             "t5": "shared"}

# BertPooler: the first token's state through dense + tanh. BertOnlyMLMHead / RobertaLMHead:
# dense + GELU + LayerNorm, then a decoder to the vocabulary tied to the word embeddings (its
# weight counted there) with its own bias. Untied, transformers 5 ties neither the weight nor
# the bias: the head's `bias` parameter (which the tie makes decoder.bias) is then one more,
# unused by forward() but a parameter all the same ("untied_only").
_POOLER = [{"Select": {"axis": 1, "index": 0, "name": "first_token", "inputs": ["layer"]}},
           {"Linear": {"in_features": "$hidden", "out_features": "$hidden", "name": "pooler"}},
           {"Tanh": {"name": "pooler_activation"}}]
_MLM = [{"Linear": {"in_features": "$hidden", "out_features": "$hidden", "name": "transform_dense",
                    "inputs": ["layer"]}},
        {"GELU": {"name": "transform_act_fn"}},
        {"LayerNorm": {"normalized_shape": "$hidden", "name": "transform_LayerNorm"}},
        {"Linear": {"in_features": "$hidden", "out_features": "$vocab", "bias": True, "name": "decoder"}},
        {"Parameter": {"shape": ["$vocab"], "name": "bias", "untied_only": True}}]
# T5's decoder looks its target up in the same `shared` table (decoder.embed_tokens is
# shared.weight) and reads the encoder's output; the LM head follows it.
_T5_DECODER = [{"Embedding": {"shares": "shared", "name": "decoder_embed_tokens", "inputs": ["decoder_input_ids"]}},
               {"t5_decoder": {"name": "decoder", "inputs": ["decoder_embed_tokens",
                                                             "decoder_relative_position_buckets", "encoder"]}}]
_T5_LM = [*_T5_DECODER, {"Linear": {**_HEAD["Linear"], "inputs": ["decoder"]}}]
HEADS: dict[str, dict[str, list[dict[str, Any]]]] = {
    "bert": {"BertModel": _POOLER, "BertForMaskedLM": _MLM},
    "roberta": {"RobertaModel": _POOLER, "RobertaForMaskedLM": _MLM},
    "t5": {"T5Model": _T5_DECODER, "T5ForConditionalGeneration": _T5_LM, "T5EncoderModel": []},
    "mt5": {"MT5Model": _T5_DECODER, "MT5ForConditionalGeneration": _T5_LM, "MT5EncoderModel": []},
}
# The class AutoModel builds when the config names no architecture.
AUTO_MODEL = {"bert": "BertModel", "roberta": "RobertaModel", "t5": "T5Model", "mt5": "MT5Model"}
# The head a tied embedding is shared with, where it is not lm_head.
TIED_HEADS = ("lm_head", "decoder")
