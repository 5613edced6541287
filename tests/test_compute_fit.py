"""MACs per token at a context, training FLOPs, time at a throughput, and what fits.
Oracles: hand arithmetic written as arithmetic (the per-token sum of a tiny config's
projections, MLP, norms, head and attention over C keys; Llama-3-8B's parameters and 6·N·D
for 15T tokens); published training compute (Brown et al. 2020, Table D.1: GPT-3 175B, 174,600M
params on 300B tokens, 3.14E+23 FLOPs; Hoffmann et al. 2022: Chinchilla, 70B on 1.4T tokens
with Gopher's budget of 5.76 × 10^23 FLOPs, counted in its Appendix F's own way); and for what
fits, plugging the answer back into memory.estimate at that batch (or context) and at one more."""

from __future__ import annotations

import json
from fractions import Fraction

import pytest

import learnable
from conftest import evaluate_formula, run_cli
from learnable.accelerators import ACCELERATORS, GIB, accelerator, memory_size
from learnable.compute import Throughput, compute, per_token
from learnable.errors import LearnableError
from learnable.fit import fit
from learnable.memory import estimate

H, I, HEADS, KV, HD, LAYERS, V = 64, 128, 4, 2, 16, 2, 100
TINY = {"model_type": "llama", "hidden_size": H, "intermediate_size": I, "num_attention_heads": HEADS,
        "num_key_value_heads": KV, "head_dim": HD, "num_hidden_layers": LAYERS, "vocab_size": V,
        "tie_word_embeddings": False}
LLAMA3_8B = {"model_type": "llama", "hidden_size": 4096, "intermediate_size": 14336, "num_attention_heads": 32,
             "num_hidden_layers": 32, "num_key_value_heads": 8, "vocab_size": 128256, "tie_word_embeddings": False}


def _count(tmp_path, config: dict, tokens: int = 32):
    folder = tmp_path / f"{config['model_type']}_{tokens}"
    folder.mkdir(exist_ok=True)
    (folder / "config.json").write_text(json.dumps(config))
    return learnable.count(folder / "config.json", input_shape=[tokens])


# per token, for one layer: q, k, v, o; gate, up, down; two RMSNorms (one MAC a value)
LINEAR_LAYER = H * HEADS * HD + 2 * H * KV * HD + HEADS * HD * H + 3 * H * I + 2 * H
LINEAR = LAYERS * LINEAR_LAYER + H + H * V  # the final norm and the head


def test_per_token_at_a_context_is_the_layers_sum_by_hand(tmp_path):
    per = per_token(_count(tmp_path, TINY), context=100)
    attention = LAYERS * HEADS * 100 * (HD + HD)  # q·kᵀ and weights·v over 100 keys, every query head
    assert per.macs.value == LINEAR + attention
    assert (per.linear, per.attention, per.sequence) == (LINEAR, attention, 32)
    assert evaluate_formula(f"{per.macs} = {per.macs.value:,}") == per.macs.value


def test_per_token_does_not_depend_on_the_counted_length(tmp_path):
    at_32, at_48 = (per_token(_count(tmp_path, TINY, n), context=100) for n in (32, 48))
    assert at_32.macs.value == at_48.macs.value


def test_sliding_window_layers_attend_their_window(tmp_path):
    # Gemma 2: every other layer keeps a window (here 8 tokens), the others all of the context.
    config = {**TINY, "model_type": "gemma2", "sliding_window": 8, "tie_word_embeddings": True}
    per = per_token(_count(tmp_path, config), context=20)
    assert per.attention == HEADS * (8 + 20) * (HD + HD)


def test_mixture_of_experts_per_token_is_the_active_path(tmp_path):
    config = {**TINY, "model_type": "mixtral", "num_local_experts": 4, "num_experts_per_tok": 2}
    per = per_token(_count(tmp_path, config), context=10)
    attention_proj = H * HEADS * HD + 2 * H * KV * HD + HEADS * HD * H
    layer = attention_proj + H * 4 + 2 * 3 * H * I + 2 * H  # router over 4 experts, 2 experts' MLPs
    assert per.macs.value == LAYERS * layer + H + H * V + LAYERS * HEADS * 10 * (HD + HD)


def test_a_network_without_a_token_sequence_says_so():
    report = learnable.count("Input(28, 28, 1) | Conv2D(8, 3) | Flatten() | Dense(10)")
    with pytest.raises(LearnableError, match="sequence of token ids"):
        per_token(report)
    result = compute(report, tokens=1000)
    assert result.per_token is None and result.training.per_layer is None
    assert result.training.six_nd.value == 6 * (3 * 3 * 1 * 8 + 8 + 26 * 26 * 8 * 10 + 10) * 1000


def test_llama3_8b_training_flops_and_time_by_hand(tmp_path):
    report = _count(tmp_path, LLAMA3_8B, 2048)
    n = 2 * 128256 * 4096 + 32 * (2 * 4096 * 4096 + 2 * 4096 * 1024 + 3 * 4096 * 14336 + 2 * 4096) + 4096
    assert n == 8_030_261_248  # Meta's Llama-3-8B: 8.03B
    h100 = accelerator("h100")
    result = compute(report, context=8192, tokens=15 * 10**12, throughput=Throughput(h100.bf16, gpus=1024))
    train = result.training
    assert train.six_nd.value == 6 * 8_030_261_248 * 15 * 10**12
    assert train.six_nd_non_embedding.value == 6 * (n - 128256 * 4096) * 15 * 10**12
    per = 7_504_924_672 + 32 * 32 * 8192 * (128 + 128)  # the non-embedding params + attention at 8,192
    assert result.per_token.macs.value == per
    assert train.per_layer.value == 3 * 2 * per * 15 * 10**12
    seconds = 6 * 8_030_261_248 * 15e12 / (1024 * 989.5e12 * 0.4)
    assert train.throughput.seconds(train.six_nd.value) == pytest.approx(seconds, rel=1e-12)


def _dense(params_half: int):
    return learnable.count(f"Input(1) | Dense({params_half})")  # 2 × params_half params (kernel + bias)


def test_gpt3_training_compute_as_published():
    # Brown et al. 2020, Table D.1: GPT-3 175B, 174,600M parameters, 300B tokens, 3.14E+23 FLOPs.
    train = compute(_dense(87_300_000_000), tokens=300 * 10**9).training
    assert train.params == 174_600_000_000
    assert f"{train.six_nd.value:.2e}" == "3.14e+23"


def test_chinchilla_training_compute():
    # Hoffmann et al. 2022: Chinchilla, 70B parameters on 1.4T tokens, trained with Gopher's
    # compute budget, 5.76 × 10^23 FLOPs (their FLOP count, Appendix F, not 6·N·D: 2% apart).
    six_nd = compute(_dense(35_000_000_000), tokens=1_400_000_000_000).training.six_nd.value
    assert six_nd == 6 * 70 * 10**9 * 14 * 10**11 == 588 * 10**21
    assert abs(six_nd - 5.76e23) / 5.76e23 < 0.021


def test_accelerator_table_is_half_the_sparse_datasheet_figures():
    # NVIDIA prints peaks with 2:4 sparsity; dense is half: H100 SXM BF16 1,979*, FP8 3,958*;
    # H100 PCIe 1,513*, 3,026*; L4 242*, 485*. AMD's MI300X dense BF16 is 1,307.4 TFLOPS.
    tera = 10**12
    assert ACCELERATORS["h100-sxm"].bf16 * 2 == 1979 * tera and ACCELERATORS["h100-sxm"].fp8 * 2 == 3958 * tera
    assert ACCELERATORS["h100-pcie"].bf16 * 2 == 1513 * tera and ACCELERATORS["h100-pcie"].fp8 * 2 == 3026 * tera
    assert ACCELERATORS["l4"].bf16 * 2 == 242 * tera and ACCELERATORS["l4"].fp8 * 2 == 485 * tera
    assert ACCELERATORS["mi300x"].bf16 == 1_307_400_000_000_000
    assert accelerator("H100").memory == 80 * 2**30 and accelerator("a100").fp8 is None
    with pytest.raises(LearnableError, match="no fp8"):
        accelerator("a100-40gb").peak("fp8")
    with pytest.raises(LearnableError, match="did you mean"):
        accelerator("h10")


def test_memory_sizes():
    assert memory_size("80GiB") == 80 * 2**30 and memory_size("24GB") == 24 * 10**9
    assert memory_size("1.5GiB") == 3 * 2**29 and memory_size("512 MiB") == 512 * 2**20
    with pytest.raises(LearnableError):
        memory_size("lots")


def _inference_bytes(report, batch: int, context: int) -> int:
    return estimate(report, dtype="bf16", batch=batch, context=context).inference_bytes


def test_largest_inference_batch_plugs_back(tmp_path):
    report = _count(tmp_path, TINY)
    weights = (2 * V * H + LAYERS * (H * HEADS * HD + 2 * H * KV * HD + HEADS * HD * H + 3 * H * I + 2 * H) + H) * 2
    kv = 2 * LAYERS * KV * HD * 256 * 2  # keys and values × layers × kv heads × head dim × tokens × bf16
    activations = estimate(report, dtype="bf16").inference[-1].bytes.value
    memory = weights + 7 * (kv + activations) + 1000  # room for 7 and a little
    result = fit(report, memory, dtype="bf16", context=256).inference
    assert (result.fixed_bytes, result.per_example_bytes) == (weights, kv + activations)
    assert result.max_batch == 7
    assert _inference_bytes(report, 7, 256) <= memory < _inference_bytes(report, 8, 256)
    assert result.largest()[0] == "kv_cache"
    assert evaluate_formula(f"{result.batch_formula} = 7") == 7


def test_largest_context_plugs_back(tmp_path):
    report = _count(tmp_path, TINY)
    memory = 3 * GIB // 1000
    result = fit(report, memory, dtype="bf16", context=256, batch=2).inference
    c = result.max_context
    per_token = 2 * LAYERS * KV * HD * 2
    fixed, act = result.fixed_bytes, estimate(report, dtype="bf16").inference[-1].bytes.value
    assert c == (memory - fixed - 2 * act) // 2 // per_token
    assert _inference_bytes(report, 2, c) <= memory < _inference_bytes(report, 2, c + 1)


def test_largest_context_with_windows_plugs_back(tmp_path):
    report = _count(tmp_path, {**TINY, "model_type": "gemma2", "sliding_window": 64, "tie_word_embeddings": True})
    fixed = estimate(report, dtype="bf16", context=1).inference
    base = sum(t.bytes.value for t in fixed if t.key != "kv_cache")
    layer = 2 * KV * HD * 2  # one layer's bytes per token
    # room for the windowed layer's 64 tokens and the global layer's 1,000
    memory = base + 64 * layer + 1000 * layer + layer // 2
    c = fit(report, memory, dtype="bf16", context=128).inference.max_context
    assert c == 1000
    assert _inference_bytes(report, 1, c) <= memory < _inference_bytes(report, 1, c + 1)
    everywhere = {**TINY, "model_type": "mistral", "sliding_window": 64}
    windowed = fit(_count(tmp_path, everywhere), 10**9, dtype="bf16", context=128).inference
    assert windowed.context_unbounded and windowed.max_context is None


def test_training_batch_plugs_back(tmp_path):
    report = _count(tmp_path, TINY)
    params = report.total_params
    one = estimate(report, dtype="bf16", optimizer="adamw")
    activations = one.training[-1].bytes.value
    step = sum(1 for row in report.layers for w in row.weights if w.trainable) * 4
    fixed = params * (2 + 2 + 4 + 8) + step  # bf16 weights and gradients, fp32 master and Adam's two states
    memory = fixed + 3 * activations + 5
    result = fit(report, memory, dtype="bf16", optimizer="adamw").training
    assert result.fixed_bytes == fixed and result.max_batch == 3
    trained = [estimate(report, dtype="bf16", optimizer="adamw", batch=b).training_bytes for b in (3, 4)]
    assert trained[0] <= memory < trained[1]
    assert fit(report, fixed - 1, dtype="bf16", optimizer="adamw").training.max_batch == 0


def test_cli_json_and_footer(tmp_path):
    folder = tmp_path / "tiny"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps(TINY))
    args = [str(folder / "config.json"), "--input", "32", "--context", "100", "--dtype", "bf16", "--tokens", "1e9",
            "--gpu", "h100", "--gpus", "8", "--mfu", "0.5", "--optimizer", "adamw"]
    done = run_cli("count", *args, "--format", "json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    per = LINEAR + LAYERS * HEADS * 100 * (HD + HD)
    assert data["compute"]["per_token"]["macs"] == per
    assert data["compute"]["training"]["per_layer"]["flops"] == 6 * per * 10**9
    assert data["compute"]["training"]["throughput"]["flops"] == 8 * 989.5e12 * 0.5
    assert data["fit"]["memory_bytes"] == 80 * 2**30 and data["fit"]["inference"]["max_batch"] > 0
    # a tiny model at its largest batch: the activations outgrow everything else
    assert data["fit"]["training"]["largest_term"]["key"] == "activations"
    text = run_cli("count", *args).stdout
    assert "MACs per token at context 100" in text and "largest batch ⌊" in text and "6·N·D" in text


@pytest.mark.parametrize("args, message", [
    (["--gpu", "h10"], "did you mean"),
    (["--mfu", "0.5"], "need a throughput"),
    (["--gpu", "a100", "--dtype", "fp8", "--tokens", "1e9"], "no fp8"),
    (["--gpu-memory", "lots"], "memory size"),
])
def test_cli_errors_are_one_line(args, message):
    done = run_cli("count", "Input(16) | Dense(4)", *args)
    assert done.returncode == 2 and message in done.stderr and done.stderr.count("\n") == 1


def test_cli_refuses_bad_numbers():
    assert run_cli("count", "Input(16) | Dense(4)", "--tokens", "1.5").returncode == 2
    assert run_cli("count", "Input(16) | Dense(4)", "--mfu", "1.5").returncode == 2


def test_throughput_mfu_is_exact():
    assert Throughput(10**15, Fraction(1, 2), 4).flops == 2 * 10**15
