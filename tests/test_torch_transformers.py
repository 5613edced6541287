"""Hugging Face transformers' own module classes through the PyTorch importer's rules
(importers/_torch_hf.py): the 20 most used families, built small on the meta device, count
as PyTorch's parameters() and buffers() count them, and no row is left to raw tensors."""

from __future__ import annotations

import warnings

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from conftest import assert_formulas_hold

import learnable
from learnable.importers.torch_module import to_graph

pytestmark = pytest.mark.frameworks

SMALL = {"vocab_size": 128, "hidden_size": 64, "intermediate_size": 96, "num_hidden_layers": 2,
         "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 16, "max_position_embeddings": 64,
         "pad_token_id": 0, "bos_token_id": 1, "eos_token_id": 2}
MOE = {"num_experts_per_tok": 2, "moe_intermediate_size": 32}
# model_type → fields beside SMALL (None: a field the family's config refuses)
FAMILIES = {
    "llama": {}, "mistral": {}, "mixtral": {"num_local_experts": 4, "num_experts_per_tok": 2},
    "qwen2": {}, "qwen2_moe": {"num_experts": 4, "shared_expert_intermediate_size": 48, **MOE},
    "qwen3": {}, "qwen3_moe": {"num_experts": 4, **MOE}, "gemma": {}, "gemma2": {}, "gemma3_text": {},
    "phi3": {}, "gpt2": {"n_embd": 64, "n_layer": 2, "n_head": 4, "n_positions": 64}, "gpt_neox": {},
    "falcon": {"head_dim": None}, "bert": {}, "roberta": {},
    "t5": {"d_model": 64, "d_ff": 96, "num_layers": 2, "num_heads": 4, "d_kv": 16},
    "deepseek_v3": {"n_routed_experts": 4, "n_shared_experts": 1, "first_k_dense_replace": 1, "q_lora_rank": 32,
                    "kv_lora_rank": 16, "qk_rope_head_dim": 8, "qk_nope_head_dim": 8, "v_head_dim": 16,
                    "n_group": 2, "topk_group": 1, **MOE},
    "olmo": {}, "starcoder2": {},
}


def build(model_type: str, **fields):
    fields = {k: v for k, v in {**SMALL, **FAMILIES.get(model_type, {}), **fields}.items() if v is not None}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        config = transformers.AutoConfig.for_model(model_type, **fields)
        with torch.device("meta"):
            for auto in (transformers.AutoModelForCausalLM, transformers.AutoModel):
                try:
                    return auto.from_config(config)
                except ValueError:  # no causal-LM head for this family (T5)
                    continue
    raise AssertionError(f"transformers cannot build {model_type}")


def torch_counts(model) -> tuple[int, int, int]:
    """(parameters, trainable, buffers) as PyTorch counts them: each tensor once."""
    params = {id(p): p for p in model.parameters()}.values()
    buffers = {id(b): b for b in model.buffers()}.values()
    return (sum(p.numel() for p in params), sum(p.numel() for p in params if p.requires_grad),
            sum(b.numel() for b in buffers))


@pytest.mark.parametrize("model_type", sorted(FAMILIES))
def test_families_count_as_torch_with_no_row_left_to_raw_tensors(model_type):
    model = build(model_type)
    report = learnable.count(model)
    assert (report.total_params, report.trainable_params, report.total_buffers) == torch_counts(model)
    tensors = {n.name: n.display_type for n in to_graph(model).nodes if n.rule.name == "Tensors"}
    assert tensors == {}, tensors
    if model_type in ("bert", "roberta"):  # the embeddings' own index buffers, a Buffer row each
        embeddings = model.bert.embeddings if model_type == "bert" else model.roberta.embeddings
        prefix = "bert" if model_type == "bert" else "roberta"
        own = {(r.name, r.type, r.params, r.buffers) for r in report.layers if r.type == "Buffer"}
        assert own == {(f"{prefix}.embeddings.{name}", "Buffer", 0, getattr(embeddings, name).numel())
                       for name in ("position_ids", "token_type_ids")}
    for row in report.layers:
        assert_formulas_hold(row)


def rows(report, type_name: str) -> list:
    return [row for row in report.layers if row.type == type_name]


def test_gpt2_conv1d_is_a_linear_stored_in_by_out():
    model = build("gpt2")
    report = learnable.count(model)
    c_attn = next(r for r in report.layers if r.name == "transformer.h.0.attn.c_attn")
    module = model.transformer.h[0].attn.c_attn
    assert tuple(module.weight.shape) == (64, 3 * 64)  # transformers stores it (in, out)
    assert (c_attn.type, c_attn.formula, c_attn.macs) == ("Conv1D", "64×192 + 192 = 12,480", 192 * 64)
    assert c_attn.params == sum(p.numel() for p in module.parameters())


def test_moe_experts_and_router_arithmetic():
    model = build("mixtral")
    report = learnable.count(model)
    experts, router = rows(report, "MixtralExperts")[0], rows(report, "MixtralTopKRouter")[0]
    e, h, i, k = 4, 64, 96, 2
    assert experts.params == e * (2 * i * h + h * i) == sum(p.numel() for p in model.model.layers[0].mlp.experts.parameters())
    assert experts.formula == "4×(2×96×64 + 64×96) = 73,728"
    assert experts.macs == k * (2 * i * h + i * h)  # per token: the top-k experts the config names
    assert (router.params, router.macs) == (e * h, e * h)


def test_deepseek_router_keeps_its_correction_bias_as_a_buffer():
    model = build("deepseek_v3")
    router = rows(learnable.count(model), "DeepseekV3TopkRouter")[0]
    gate = model.model.layers[1].mlp.gate
    assert (router.params, router.buffers) == (gate.weight.numel(), gate.e_score_correction_bias.numel()) == (4 * 64, 4)


def test_gemma_scaled_embedding_and_its_tied_head():
    model = build("gemma")
    report = learnable.count(model, input_shape=(8,))
    embed = next(r for r in report.layers if r.name == "model.embed_tokens")
    head = next(r for r in report.layers if r.name == "lm_head")
    assert (embed.type, embed.params, embed.buffers, embed.macs) == ("GemmaTextScaledWordEmbedding", 128 * 64, 1, 8 * 64)
    assert (head.params, head.macs, head.output_shape) == (0, 8 * 64 * 128, (8, 128))
    assert "is 'model.embed_tokens''s weight" in head.note


@pytest.mark.parametrize("model_type", ["llama", "qwen3", "gemma3_text", "falcon", "gpt_neox", "olmo", "starcoder2"])
def test_traced_rows_agree_with_the_forward(model_type):
    """With a trace every rule's output shape is checked against the forward's (a difference
    would fall back to the tensors): none does."""
    model = build(model_type)
    report = learnable.count(model, input_shape=(8,))
    assert (report.total_params, report.trainable_params, report.total_buffers) == torch_counts(model)
    assert not [r.name for r in report.layers if "counted from its own tensors" in r.note and "never called" not in r.note]
    rotary = next(r for r in report.layers if r.type.endswith("RotaryEmbedding"))
    assert rotary.params == 0 and rotary.output_shape[0] == 8


def test_mixtral_8x7b_published_total():
    """Mistral AI's Mixtral-8x7B (config.json on the Hub): 46,702,792,704 parameters."""
    model = build("mixtral", vocab_size=32000, hidden_size=4096, intermediate_size=14336, num_hidden_layers=32,
                  num_attention_heads=32, num_key_value_heads=8, head_dim=128, num_local_experts=8,
                  max_position_embeddings=32768, tie_word_embeddings=False)
    report = learnable.count(model)
    assert report.total_params == torch_counts(model)[0] == 46_702_792_704
    assert not [r for r in report.layers if "counted from its own tensors" in r.note]
