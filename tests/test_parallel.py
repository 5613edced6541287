"""Training at scale: memory per GPU under ZeRO / tensor / pipeline parallelism, offload and
recomputation. Oracles, each published and independent of learnable's code:
- the ZeRO paper (Rajbhandari et al. 2020, §1 and Figure 1): Ψ = 7.5B, N_d = 64, K = 12:
  120 GB (DDP) → 31.4 GB (ZeRO-1, P_os) → 16.6 GB (ZeRO-2, P_os+g) → 1.9 GB (ZeRO-3, P_os+g+p);
- DeepSpeed's memory docs (docs/code-docs/source/memory.rst), which print its estimators'
  tables for t5-3b on 1 node of 8 GPUs ("live": 2851M params, 32M largest layer) and for the
  same numbers given by hand ("cold": total_params=2851e6, largest_layer_params=32e6);
  where DeepSpeed itself is installed, its estimator functions too;
- Korthikanti et al. 2022, Table 2 (activations per layer) and §5's claim that selective
  recomputation saves 70% of GPT-3's activation memory and 65% of MT-NLG's."""

from __future__ import annotations

import json

import pytest

import learnable
from conftest import evaluate_formula, run_cli
from learnable.errors import LearnableError
from learnable.memory import estimate

GiB = 2**30
# DeepSpeed's "cold" example: 2,851e6 params, the largest layer 32e6 (an input of 32,000 × 1,000).
COLD = {"layers": [{"Input": {"shape": [32000]}}, {"Dense": {"units": 1000, "use_bias": False}},
                   {"Dense": {"units": 1000, "use_bias": False, "repeat": 2819}}]}
T5_3B = {"architectures": ["T5WithLMHeadModel"], "d_ff": 16384, "d_kv": 128, "d_model": 1024, "model_type": "t5",
         "num_heads": 32, "num_layers": 24, "vocab_size": 32128, "n_positions": 512, "is_encoder_decoder": True}


def _per_gpu(report, **setup):
    dtype = setup.pop("dtype", "fp16")
    return estimate(report, dtype=dtype, optimizer=setup.pop("optimizer", "adam"), parallel=setup)


def _keys(memory, *keys):
    return sum(t.bytes.value for t in memory.per_gpu if t.key in keys)


def test_zero_paper_figure_1():
    """Ψ = 7.5B on N_d = 64 GPUs, mixed-precision Adam (K = 12): the paper's 120 / 31.4 / 16.6 / 1.9 GB."""
    report = learnable.count({"layers": [{"Input": {"shape": [2500]}},
                                         {"Dense": {"units": 2500, "use_bias": False, "repeat": 1200}}]})
    psi = 7_500_000_000
    assert report.total_params == psi
    states = ("weights", "gradients", "master_weights", "optimizer_state")
    expected = {0: (2 + 2 + 12) * psi, 1: 2 * psi + 2 * psi + 12 * psi // 64,
                2: 2 * psi + (2 + 12) * psi // 64, 3: (2 + 2 + 12) * psi // 64}
    paper_gb = {0: 120, 1: 31.4, 2: 16.6, 3: 1.9}
    for zero in range(4):
        memory = _per_gpu(report, gpus=64, zero=zero)
        assert _keys(memory, *states) == expected[zero]
        assert round(_keys(memory, *states) / 1e9, 1) == paper_gb[zero]
    # ZeRO-3 also gathers one layer whole while it runs: 2 bytes of weights and 2 of gradients.
    assert _keys(_per_gpu(report, gpus=64, zero=3), "gathered_layer") == 4 * 2500 * 2500


def _deepspeed(memory) -> tuple[float, float]:
    gpu, cpu = (next(t.bytes.value for t in memory.deepspeed if t.key == k) for k in ("deepspeed_gpu", "deepspeed_cpu"))
    return round(cpu / GiB, 2), round(gpu / GiB, 2)


def test_deepspeed_cold_tables():
    """memory.rst's *_all_cold tables (per CPU, per GPU), zero_init on, 8 GPUs on 1 node."""
    report = learnable.count(COLD)
    assert report.total_params == 2851 * 10**6
    assert _deepspeed(_per_gpu(report, gpus=8, zero=3, offload="params")) == (71.69, 0.12)
    assert _deepspeed(_per_gpu(report, gpus=8, zero=3, offload="optimizer")) == (63.72, 0.78)
    assert _deepspeed(_per_gpu(report, gpus=8, zero=3)) == (1.43, 6.09)
    assert _deepspeed(_per_gpu(report, gpus=8, zero=2, offload="optimizer")) == (127.45, 5.31)
    # Without offload the docs print 15.93 GB, DeepSpeed's formula before PR #5099 (2024),
    # 4Ψ + 16Ψ/N; its estimator now gives 2Ψ + 18Ψ/N (16-bit and fp32 gradients partitioned).
    cpu, gpu = _deepspeed(_per_gpu(report, gpus=8, zero=2))
    assert cpu == 127.45 and gpu == round((2 * 2851e6 + 18 * 2851e6 / 8) / GiB, 2) == 11.28
    assert round((4 * report.total_params + 16 * report.total_params / 8) / GiB, 2) == 15.93


def test_own_terms_match_deepspeed_where_their_accounting_agrees():
    """Offloaded, both keep the 16-bit weights on the GPU (ZeRO-2: 2Ψ; ZeRO-3: 2Ψ/N, plus the
    gathered layer's 4 bytes a parameter): the docs' 5.31, 0.78 and 0.12 GB."""
    report = learnable.count(COLD)
    assert round(_per_gpu(report, gpus=8, zero=2, offload="optimizer").per_gpu_bytes / GiB, 2) == 5.31
    assert round(_per_gpu(report, gpus=8, zero=3, offload="optimizer").per_gpu_bytes / GiB, 2) == 0.78
    assert round(_per_gpu(report, gpus=8, zero=3, offload="params").per_gpu_bytes / GiB, 2) == 0.12
    offloaded = _per_gpu(report, gpus=8, zero=2, offload="optimizer")
    assert {t.key for t in offloaded.cpu} == {"gradients", "master_weights", "optimizer_state"}
    # Without offload ours is the ZeRO paper's 2Ψ + 14Ψ/N; DeepSpeed adds 4 bytes of fp32 gradients.
    assert _per_gpu(report, gpus=8, zero=2).per_gpu_bytes == 2 * 2851 * 10**6 + 14 * 2851 * 10**6 // 8


@pytest.mark.frameworks
def test_deepspeed_live_t5_3b(tmp_path):
    """memory.rst's *_all_live tables for t5-3b (AutoModel.from_pretrained("t5-3b")), from its config."""
    pytest.importorskip("transformers")
    (tmp_path / "config.json").write_text(json.dumps(T5_3B))
    report = learnable.count(tmp_path / "config.json")
    assert _deepspeed(_per_gpu(report, gpus=8, zero=3)) == (1.47, 6.10)
    assert _deepspeed(_per_gpu(report, gpus=8, zero=3, offload="params")) == (71.71, 0.12)
    assert _deepspeed(_per_gpu(report, gpus=8, zero=3, offload="optimizer")) == (63.74, 0.79)
    assert _deepspeed(_per_gpu(report, gpus=8, zero=2, offload="optimizer")) == (127.48, 5.31)
    psi = report.total_params
    assert round((4 * psi + 16 * psi / 8) / GiB, 2) == 15.93  # the docs' ZeRO-2 figure, before PR #5099


def test_deepspeed_estimator_functions_where_installed():
    stage3 = pytest.importorskip("deepspeed.runtime.zero.stage3")
    stage2 = pytest.importorskip("deepspeed.runtime.zero.stage_1_and_2")
    report = learnable.count(COLD)
    psi, largest = report.total_params, 32 * 10**6
    for offload in (None, "optimizer"):
        cpu, gpu = stage2.estimate_zero2_model_states_mem_needs(psi, 8, 1, cpu_offload=bool(offload))
        ours = _per_gpu(report, gpus=8, zero=2, offload=offload).deepspeed
        assert [t.bytes.value for t in ours] == [gpu, cpu]
    for offload, flags in ((None, (False, False)), ("optimizer", (True, False)), ("params", (True, True))):
        cpu, gpu, _ = stage3.estimate_zero3_model_states_mem_needs(psi, largest, 8, 1, *flags, zero_init=True)
        ours = _per_gpu(report, gpus=8, zero=3, offload=offload).deepspeed
        assert [t.bytes.value for t in ours] == [gpu, cpu]


def _gpt(tmp_path, h: int, a: int, layers: int):
    config = {"model_type": "gpt2", "n_embd": h, "n_head": a, "n_layer": layers, "n_positions": 2048,
              "vocab_size": 51200}
    (tmp_path / "config.json").write_text(json.dumps(config))
    return learnable.count(tmp_path / "config.json")


def _activations(report, **setup):
    memory = _per_gpu(report, dtype="bf16", gpus=setup.get("tp", 1), seq=2048, **setup)
    term = next(t for t in memory.per_gpu if t.key == "activations")
    assert evaluate_formula(f"{term.bytes} = {term.bytes.value:,}") == term.bytes.value
    return term.bytes.value


def test_korthikanti_table_2_gpt3(tmp_path):
    """GPT-3 175B (h 12,288, a 96, 96 layers, s 2,048), micro-batch 1: Table 2's rows."""
    report = _gpt(tmp_path, 12288, 96, 96)
    s, b, h, a, L, t = 2048, 1, 12288, 96, 96, 8
    sbh = s * b * h
    # §4.1: attention 11sbh + 5as²b, MLP 19sbh, two layer norms 4sbh.
    assert _activations(report) == L * (11 * sbh + 5 * a * s * s * b + 19 * sbh + 4 * sbh)
    assert _activations(report, tp=t) == L * (10 * sbh + 24 * sbh // t + 5 * a * s * s * b // t)
    assert _activations(report, tp=t, sequence_parallel=True) == L * (34 * sbh + 5 * a * s * s * b) // t
    assert _activations(report, tp=t, recompute="selective") == L * (10 * sbh + 24 * sbh // t)
    assert _activations(report, tp=t, recompute="selective", sequence_parallel=True) == L * 34 * sbh // t
    assert _activations(report, recompute="full") == L * 2 * sbh
    # §5: selective recomputation cuts GPT-3's activation memory by 70%.
    saved = 1 - _activations(report, recompute="selective") / _activations(report)
    assert round(saved, 2) == 0.70


def test_korthikanti_mt_nlg_saving(tmp_path):
    """MT-NLG 530B (h 20,480, a 128, 105 layers, s 2,048): 65% saved by selective recomputation (§5)."""
    report = _gpt(tmp_path, 20480, 128, 105)
    saved = 1 - _activations(report, recompute="selective") / _activations(report)
    assert round(saved, 2) == 0.65


def test_pipeline_and_tensor_split_the_model_states(tmp_path):
    report = _gpt(tmp_path, 1024, 16, 8)
    psi = report.total_params
    memory = _per_gpu(report, dtype="bf16", gpus=32, tp=4, pp=2, zero=1)  # N_d = 32/(4×2) = 4
    assert memory.parallel.dp == 4
    assert _keys(memory, "weights") == 2 * -(-psi // 8)
    assert _keys(memory, "optimizer_state") == 2 * 4 * -(-psi // 32)


def test_fp32_and_lora_train_only_what_is_trainable(tmp_path):
    report = learnable.count(COLD)
    plain = _per_gpu(report, dtype="fp32", gpus=4, zero=2)
    psi = report.total_params
    assert [(t.key, t.bytes.value) for t in plain.per_gpu] == [
        ("weights", 4 * psi), ("gradients", 4 * psi // 4), ("optimizer_state", 2 * 4 * psi // 4)]
    config = {"model_type": "llama", "hidden_size": 256, "intermediate_size": 512, "num_attention_heads": 4,
              "num_hidden_layers": 2, "num_key_value_heads": 2, "vocab_size": 1000}
    (tmp_path / "config.json").write_text(json.dumps(config))
    lora = learnable.count(tmp_path / "config.json", lora={"r": 8, "target_modules": ["q_proj", "v_proj"]})
    memory = _per_gpu(lora, dtype="bf16", gpus=2, zero=2)
    assert _keys(memory, "gradients") == 2 * -(-lora.trainable_params // 2)
    assert _keys(memory, "weights") == 2 * lora.total_params


def test_activations_unknown_without_declared_dims_is_a_note():
    memory = _per_gpu(learnable.count(COLD), gpus=2, seq=512)
    assert "activations" not in {t.key for t in memory.per_gpu}
    assert any("not known" in note for note in memory.notes)


def test_bad_setups_are_one_line_errors():
    report = learnable.count(COLD)
    for bad in ({"gpus": 6, "tp": 4}, {"zero": 4}, {"offload": "params", "zero": 2}, {"offload": "disk"},
                {"recompute": "some"}, {"gpus": 0}, {"gpus": True}, {"seq": 1.5}, {"nodes": 2}):
        with pytest.raises(LearnableError):
            _per_gpu(report, **bad)
    with pytest.raises(LearnableError, match="optimizer"):
        estimate(report, parallel={"gpus": 2})


def test_cli_per_gpu_json_and_errors(tmp_path):
    report = tmp_path / "config.json"
    report.write_text(json.dumps({"model_type": "llama", "hidden_size": 256, "intermediate_size": 512,
                                  "num_attention_heads": 4, "num_hidden_layers": 2, "num_key_value_heads": 2,
                                  "vocab_size": 1000}))
    out = run_cli("count", str(report), "--dtype", "bf16", "--optimizer", "adamw", "--gpus", "8", "--zero", "3",
                  "--seq", "512", "--recompute", "full", "--format", "json")
    assert out.returncode == 0, out.stderr
    memory = json.loads(out.stdout)["memory"]
    assert [t["key"] for t in memory["per_gpu"]] == ["weights", "gradients", "master_weights", "optimizer_state",
                                                       "gathered_layer", "activations"]
    assert memory["per_gpu_bytes"] == sum(t["bytes"] for t in memory["per_gpu"])
    assert memory["parallel"]["dp"] == 8 and [t["key"] for t in memory["deepspeed"]] == ["deepspeed_gpu",
                                                                                         "deepspeed_cpu"]
    activations = memory["per_gpu"][-1]
    assert activations["bytes"] == 2 * 2 * 512 * 1 * 256  # L × 2sbh
    table = run_cli("count", str(report), "--dtype", "bf16", "--optimizer", "adamw", "--gpus", "8", "--zero", "2")
    assert "Per GPU:" in table.stdout and "DeepSpeed's estimate per GPU" in table.stdout
    for args in (("--gpus", "8"), ("--optimizer", "adam", "--gpus", "6", "--tp", "4"),
                 ("--optimizer", "adam", "--zero", "2", "--offload", "params")):
        result = run_cli("count", str(report), *args)
        assert result.returncode == 2 and "Traceback" not in result.stderr and result.stderr.count("\n") == 1
