"""The KV cache and the weights as stored. Oracles: the key and value tensors a real
transformers model hands its attention while it adds the last token of a context (small
random models on CPU: Llama with grouped-query attention and with an explicit head_dim,
Mistral's sliding window, Gemma 2's alternating local and global layers); DeepSeek's MLA
latent by the DeepSeek-V2 paper's arithmetic ((d_c + d_h^R) per token per layer, Table 1;
transformers' own cache holds the decompressed keys and values instead); a 70B Llama's
320 KiB per token by hand; GGUF storage by gguf-py's GGML_QUANT_SIZES and its reader."""

from __future__ import annotations

import json

import pytest

import learnable
from conftest import evaluate_formula, run_cli
from learnable.errors import LearnableError
from learnable.memory import estimate

LLAMA_70B = {"model_type": "llama", "hidden_size": 8192, "intermediate_size": 28672, "num_attention_heads": 64,
             "num_hidden_layers": 80, "num_key_value_heads": 8, "vocab_size": 128256, "tie_word_embeddings": False}


def _config(tmp_path, config: dict):
    folder = tmp_path / config["model_type"]
    folder.mkdir(exist_ok=True)
    (folder / "config.json").write_text(json.dumps(config))
    return folder / "config.json"


def _term(memory, key: str):
    return next(t for t in memory.inference if t.key == key)


def test_llama_70b_kv_cache_by_hand(tmp_path):
    memory = estimate(learnable.count(_config(tmp_path, LLAMA_70B)), dtype="bf16", context=8192)
    kv = _term(memory, "kv_cache")
    assert kv.bytes.value == 2 * 80 * 8 * 128 * 8192 * 1 * 2  # k and v × layers × kv heads × head dim × tokens × bytes
    assert str(kv.bytes) == "2×80×8×128×8,192×1×2"
    assert memory.kv_per_token.bytes.value == 320 * 1024  # 2×80×8×128×2: the 320 KiB per token often quoted
    assert _term(memory, "weights").bytes.value == 70_553_706_496 * 2
    assert evaluate_formula(f"{kv.bytes} = {kv.bytes.value:,}") == kv.bytes.value
    data = memory.to_dict()
    assert [t["key"] for t in data["inference"]] == ["weights", "kv_cache", "activations"]
    assert data["kv_cache_per_token"]["bytes"] == 327_680


def test_mla_caches_its_latent_not_per_head_keys(tmp_path):
    # DeepSeek-V3 (config.json): kv_lora_rank 512, qk_rope_head_dim 64, 61 layers; DeepSeek-V2
    # paper, Table 1: MLA caches (d_c + d_h^R) = 512 + 64 elements per token per layer.
    config = {"model_type": "deepseek_v3", "vocab_size": 129280, "hidden_size": 7168, "intermediate_size": 18432,
              "moe_intermediate_size": 2048, "num_hidden_layers": 61, "num_attention_heads": 128,
              "num_key_value_heads": 128, "n_routed_experts": 256, "n_shared_experts": 1, "num_experts_per_tok": 8,
              "first_k_dense_replace": 3, "q_lora_rank": 1536, "kv_lora_rank": 512, "qk_rope_head_dim": 64,
              "qk_nope_head_dim": 128, "v_head_dim": 128}
    memory = estimate(learnable.count(_config(tmp_path, config)), dtype="bf16", context=4096, batch=2)
    kv = _term(memory, "kv_cache")
    assert kv.bytes.value == (512 + 64) * 61 * 4096 * 2 * 2
    assert str(kv.bytes) == "1×61×1×(512 + 64)×4,096×2×2"


def test_a_source_that_declares_no_cache_says_so_not_zero():
    memory = estimate(learnable.count("examples/simple_cnn.yaml"), context=100)
    assert not any(t.key == "kv_cache" for t in memory.inference)
    assert any("KV cache at 100 tokens not known" in n for n in memory.notes)
    for bad in ({"context": 0}, {"context": True}, {"context": 10, "kv_dtype": "int4"}):
        with pytest.raises(LearnableError):
            estimate(learnable.count("examples/simple_cnn.yaml"), **bad)


def test_cli_shows_each_term_with_its_arithmetic(tmp_path):
    out = run_cli("count", str(_config(tmp_path, LLAMA_70B)), "--memory", "--context", "8192", "--dtype", "bf16")
    assert out.returncode == 0, out.stderr
    assert f"2×80×8×128×8,192×1×2 = {2 * 80 * 8 * 128 * 8192 * 2:,} B" in out.stdout
    assert "KV cache per token of context" in out.stdout and "2×80×8×128×2 = 327,680 B" in out.stdout
    data = json.loads(run_cli("count", str(_config(tmp_path, LLAMA_70B)), "--context", "1024", "--kv-dtype", "fp8",
                              "--format", "json").stdout)
    kv = next(t for t in data["memory"]["inference"] if t["key"] == "kv_cache")
    assert kv["bytes"] == 2 * 80 * 8 * 128 * 1024 * 1 and data["memory"]["kv_dtype"] == "fp8"


# ---- against transformers' cache ------------------------------------------------------------

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

SMALL = {"vocab_size": 97, "hidden_size": 64, "intermediate_size": 96, "num_hidden_layers": 4,
         "num_attention_heads": 8, "num_key_value_heads": 2}
KINDS = {
    "llama GQA": {"model_type": "llama"},
    "llama MQA, explicit head_dim": {"model_type": "llama", "num_key_value_heads": 1, "head_dim": 24},
    "mistral sliding window": {"model_type": "mistral", "sliding_window": 5},
    "gemma2 local/global": {"model_type": "gemma2", "sliding_window": 5, "head_dim": 16},
    "qwen2 windows from max_window_layers": {"model_type": "qwen2", "use_sliding_window": True,
                                             "sliding_window": 4, "max_window_layers": 2},
}


def _cache_while_adding_the_last_token(config: dict, context: int, batch: int) -> int:
    """Bytes of the keys and values every attention layer attends over as the context's last
    token is added (prefill context − 1 tokens, then one step), from the cache layers' update."""
    hf = transformers.AutoConfig.for_model(**config)
    model = transformers.AutoModelForCausalLM.from_config(hf).eval()
    ids = torch.randint(0, config["vocab_size"], (batch, context))
    seen: list[int] = []
    with torch.no_grad():
        past = model(ids[:, :-1], use_cache=True).past_key_values
        for layer in past.layers:
            update = layer.update

            def record(*args, _update=update, **kwargs):
                keys, values = _update(*args, **kwargs)
                seen.append(keys.nbytes + values.nbytes)
                return keys, values
            layer.update = record
        model(ids[:, -1:], past_key_values=past, use_cache=True)
    return sum(seen)


@pytest.mark.frameworks
@pytest.mark.parametrize("kind", KINDS)
def test_kv_cache_equals_what_transformers_attends_over(tmp_path, kind):
    config = {**SMALL, **KINDS[kind]}
    context, batch = 9, 2
    real = _cache_while_adding_the_last_token(config, context, batch)
    memory = estimate(learnable.count(_config(tmp_path, config)), dtype="fp32", context=context, batch=batch)
    assert _term(memory, "kv_cache").bytes.value == real


# ---- weights as a GGUF file stores them ------------------------------------------------------

def test_gguf_weights_as_stored_by_ggml_block_sizes(tmp_path):
    gguf = pytest.importorskip("gguf")
    from test_gguf import llama_tensors, write_gguf

    path = tmp_path / "tiny.Q4_K_M.gguf"
    write_gguf(path, llama_tensors())
    reader = gguf.GGUFReader(str(path))
    expected = sum(int(t.n_elements) // gguf.GGML_QUANT_SIZES[t.tensor_type][0]
                   * gguf.GGML_QUANT_SIZES[t.tensor_type][1] for t in reader.tensors)
    assert expected == sum(int(t.n_bytes) for t in reader.tensors)  # the reader's own byte counts agree
    memory = estimate(learnable.count(str(path)))
    weights = _term(memory, "weights")
    assert memory.dtype == "as stored" and weights.bytes.value == expected
    assert "Q4_K 4.5 bits/weight" in weights.label and "Q6_K 6.562 bits/weight" in weights.label
    assert evaluate_formula(f"{weights.bytes} = {weights.bytes.value:,}") == expected
    chosen = estimate(learnable.count(str(path)), dtype="fp16")
    assert _term(chosen, "weights").bytes.value == learnable.count(str(path)).total_params * 2
