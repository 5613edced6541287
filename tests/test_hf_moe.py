"""Mixtures of experts from config.json, without torch: total and active parameters.

Oracles: PyTorch's ``parameters()`` and ``named_buffers()`` of the model transformers builds
from the same config on the meta device (random small configs of each family); for the
active parameters, the routed experts' tensors as PyTorch names them (``*.experts.*``),
of which a token uses top_k / experts, with everything else; and hand arithmetic from the
config's fields for Mixtral-8x7B and DeepSeek-V3, whose published sizes they reproduce.
"""

from __future__ import annotations

import json
import random

import pytest
from conftest import assert_formulas_hold

import learnable

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

FAMILIES = ("mixtral", "qwen2_moe", "qwen3_moe", "deepseek_v2", "deepseek_v3")


def meta_model(config):
    with torch.device("meta"):
        return transformers.AutoModelForCausalLM.from_config(config)


def random_config(family: str, rng: random.Random):
    kv_heads = rng.choice([1, 2])
    heads = kv_heads * rng.choice([1, 2, 4])
    layers = rng.randrange(1, 6)
    experts = rng.randrange(2, 9)
    fields = {"vocab_size": rng.randrange(50, 300), "hidden_size": heads * rng.choice([4, 8, 12]),
              "intermediate_size": rng.randrange(8, 100), "num_hidden_layers": layers, "num_attention_heads": heads,
              "num_key_value_heads": kv_heads, "num_experts_per_tok": rng.randrange(1, experts + 1),
              "tie_word_embeddings": rng.random() < 0.5, "pad_token_id": 0, "bos_token_id": 0, "eos_token_id": 0}
    if family == "mixtral":
        fields.update(num_local_experts=experts, head_dim=rng.choice([None, 8, 12]))
    elif family.startswith("qwen"):
        fields.update(num_experts=experts, moe_intermediate_size=rng.randrange(4, 60),
                      decoder_sparse_step=rng.randrange(1, 3),
                      mlp_only_layers=sorted(rng.sample(range(layers), rng.randrange(0, layers + 1))),
                      head_dim=rng.choice([8, 12]))
        if family == "qwen2_moe":
            fields.update(shared_expert_intermediate_size=rng.randrange(4, 60), qkv_bias=rng.random() < 0.5)
        else:
            fields.update(attention_bias=rng.random() < 0.5)
    else:
        fields.update(n_routed_experts=experts, moe_intermediate_size=rng.randrange(4, 60),
                      n_shared_experts=rng.randrange(1, 3), first_k_dense_replace=rng.randrange(0, layers + 1),
                      q_lora_rank=rng.choice([None, rng.randrange(4, 40)]), kv_lora_rank=rng.randrange(4, 40),
                      qk_nope_head_dim=rng.choice([4, 8]), qk_rope_head_dim=rng.choice([2, 4]),
                      v_head_dim=rng.choice([4, 12]), attention_bias=rng.random() < 0.5)
        if family == "deepseek_v2":
            fields.update(mlp_bias=rng.random() < 0.5)
        else:
            fields.update(n_group=1, topk_group=1)  # the router's groups must divide the experts
    return transformers.AutoConfig.for_model(family, **fields)


def top_k_and_experts(config) -> tuple[int, int]:
    experts = getattr(config, "n_routed_experts", None) or getattr(config, "num_local_experts", None) \
        or config.num_experts
    return config.num_experts_per_tok, experts


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("seed", range(6))
def test_config_counts_as_transformers_builds_it(family, seed, tmp_path):
    config = random_config(family, random.Random(f"{family}-{seed}"))
    config.save_pretrained(tmp_path)
    report = learnable.count(tmp_path / "config.json", input_shape=[3])
    model = meta_model(config)
    fields = json.loads((tmp_path / "config.json").read_text())
    assert report.total_params == sum(p.numel() for p in model.parameters()), fields
    buffers = sum(b.numel() for name, b in model.named_buffers() if "rotary_emb" not in name)  # rope's inv_freq
    assert report.total_buffers == buffers, fields  # DeepSeek-V3's e_score_correction_bias, per MoE layer
    # A token goes through top_k of the experts' stacked tensors, and all of everything else.
    top_k, experts = top_k_and_experts(config)
    routed = sum(p.numel() for name, p in model.named_parameters() if ".experts." in name)
    assert routed % experts == 0
    assert report.active_params == report.total_params - routed + routed // experts * top_k, fields
    assert report.to_dict()["active_params"] == report.active_params
    for row in report.layers:
        assert_formulas_hold(row)


# mistralai/Mixtral-8x7B-v0.1 config.json (the fields that change the count)
MIXTRAL_8X7B = {"model_type": "mixtral", "vocab_size": 32000, "hidden_size": 4096, "intermediate_size": 14336,
                "num_hidden_layers": 32, "num_attention_heads": 32, "num_key_value_heads": 8,
                "num_local_experts": 8, "num_experts_per_tok": 2, "tie_word_embeddings": False,
                "max_position_embeddings": 32768}
# deepseek-ai/DeepSeek-V3 config.json
DEEPSEEK_V3 = {"model_type": "deepseek_v3", "vocab_size": 129280, "hidden_size": 7168, "intermediate_size": 18432,
               "moe_intermediate_size": 2048, "num_hidden_layers": 61, "num_attention_heads": 128,
               "num_key_value_heads": 128, "n_shared_experts": 1, "n_routed_experts": 256, "kv_lora_rank": 512,
               "q_lora_rank": 1536, "qk_rope_head_dim": 64, "v_head_dim": 128, "qk_nope_head_dim": 128,
               "num_experts_per_tok": 8, "first_k_dense_replace": 3, "n_group": 8, "topk_group": 4,
               "tie_word_embeddings": False, "num_nextn_predict_layers": 1}


def test_mixtral_8x7b(tmp_path):
    h, i, layers, vocab = 4096, 14336, 32, 32000
    attention = h * 32 * 128 + 2 * h * 8 * 128 + 32 * 128 * h  # q, k and v (8 key/value heads), o
    per_layer = attention + 2 * h + 8 * h  # two RMSNorms, the router (8 experts × hidden)
    rest = 2 * vocab * h + layers * per_layer + h  # embeddings, head, layers, final norm
    expert = 3 * h * i  # gate, up and down
    total = rest + layers * 8 * expert
    active = rest + layers * 2 * expert  # 2 of 8 experts per token
    assert total == 46_702_792_704  # published: Mixtral-8x7B, 46.7B (model card; safetensors metadata)
    assert active == 12_879_925_248  # "12.9B active parameters" (Mistral AI, Mixtral of experts, 2023)
    assert sum(p.numel() for p in meta_model(transformers.AutoConfig.for_model(**MIXTRAL_8X7B)).parameters()) \
        == total
    (tmp_path / "config.json").write_text(json.dumps(MIXTRAL_8X7B))
    report = learnable.count(tmp_path / "config.json")
    assert (report.total_params, report.active_params) == (total, active)
    assert f"Active params per token: {active:,} (2 of 8 routed experts)" in str(report)


def test_deepseek_v3(tmp_path):
    """Built on the meta device (its experts are two stacked tensors a layer: quick); the
    multi-token-prediction layer (num_nextn_predict_layers) is not built by transformers and
    not counted, as the published 671B leaves its 14B out."""
    h, heads, vocab, layers, dense = 7168, 128, 129280, 61, 3
    q = h * 1536 + 1536 + 1536 * heads * (128 + 64)  # q_a_proj, q_a_layernorm, q_b_proj
    kv = h * (512 + 64) + 512 + 512 * heads * (128 + 128)  # kv_a_proj_with_mqa, kv_a_layernorm, kv_b_proj
    attention = q + kv + heads * 128 * h + 2 * h  # o_proj, and the layer's two RMSNorms
    expert = 3 * h * 2048
    moe_rest = 256 * h + expert  # the router and the one shared expert
    rest = 2 * vocab * h + h + layers * attention + dense * 3 * h * 18432 + (layers - dense) * moe_rest
    total = rest + (layers - dense) * 256 * expert
    active = rest + (layers - dense) * 8 * expert  # 8 of 256 routed experts per token
    assert round(total / 1e9) == 671 and round(active / 1e9) == 38  # published: 671B total, "37B activated"
    model = meta_model(transformers.AutoConfig.for_model(**DEEPSEEK_V3))
    assert sum(p.numel() for p in model.parameters()) == total == 671_026_404_352
    (tmp_path / "config.json").write_text(json.dumps(DEEPSEEK_V3))
    report = learnable.count(tmp_path / "config.json")
    assert (report.total_params, report.active_params) == (total, active)
    assert report.total_buffers == (layers - dense) * 256  # e_score_correction_bias: buffers, not parameters
    blocks = [b for b in report.blocks if b.type == "mla_moe_layer"]
    assert len(blocks) == layers - dense and blocks[0].active_params == attention + moe_rest + 8 * expert


def test_active_macs_are_the_routed_path(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({**MIXTRAL_8X7B, "num_hidden_layers": 1}))
    report = learnable.count(tmp_path / "config.json", input_shape=[5])
    experts = report.layer("layers/moe_layer/mlp/experts")
    assert experts.macs == 5 * 2 * 3 * 4096 * 14336  # 5 tokens, each through 2 experts' three projections
    assert experts.active == "2 of 8" and experts.active_params == 2 * 3 * 4096 * 14336
    assert experts.params == 8 * 3 * 4096 * 14336
    row = report.to_dict()["layers"][[r.name for r in report.layers].index(experts.name)]
    assert row["active_params"] == experts.active_params and row["active"] == "2 of 8"


def test_a_spec_marks_a_layer_active(tmp_path):
    spec = {"inputs": {"x": [4, 6]}, "layers": [
        {"Experts": {"num_experts": 3, "hidden_size": 6, "intermediate_size": 5, "active": "1 of 3"}}]}
    (tmp_path / "moe.yaml").write_text(json.dumps(spec))
    report = learnable.count(tmp_path / "moe.yaml")
    assert report.total_params == 3 * (2 * 5 * 6 + 6 * 5)
    assert report.active_params == 2 * 5 * 6 + 6 * 5
    spec["layers"][0]["Experts"]["active"] = "4 of 3"
    (tmp_path / "moe.yaml").write_text(json.dumps(spec))
    with pytest.raises(learnable.LearnableError, match="'k of n' with 0 < k ≤ n"):
        learnable.count(tmp_path / "moe.yaml")
    spec["layers"][0] = {"Linear": {"in_features": 6, "out_features": 5, "active": "1 of 3"}}
    (tmp_path / "moe.yaml").write_text(json.dumps(spec))
    with pytest.raises(learnable.LearnableError, match="do not split into 3 equal parts"):
        learnable.count(tmp_path / "moe.yaml")


def test_a_dense_model_has_as_many_active_params_as_params(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({**MIXTRAL_8X7B, "model_type": "mistral"}))
    report = learnable.count(tmp_path / "config.json")
    assert report.active_params == report.total_params and "Active params" not in str(report)


def test_deepseek_v2_needs_its_top_k(tmp_path):
    fields = {**DEEPSEEK_V3, "model_type": "deepseek_v2"}
    del fields["num_experts_per_tok"]
    (tmp_path / "config.json").write_text(json.dumps(fields))
    with pytest.raises(learnable.LearnableError, match="'num_experts_per_tok' is not given"):
        learnable.count(tmp_path / "config.json")
