"""LoRA fine-tuning (learnable/lora.py) against PEFT itself.

The oracle is PEFT: ``get_peft_model(model, LoraConfig(...)).get_nb_trainable_parameters()``
on the same model, built by transformers (on the meta device for the large ones) or by
torch, and the published figure of the issue (Qwen2.5-3B, r=16 on q_proj,v_proj:
3,686,400 trainable). learnable counts the model's config.json without torch and the torch
model itself; both must give PEFT's (trainable, total).
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from conftest import assert_formulas_hold

import learnable
from learnable.errors import LearnableError
from learnable.memory import estimate

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
peft = pytest.importorskip("peft")

# Qwen2.5-3B's config.json (huggingface.co/Qwen/Qwen2.5-3B), the fields that shape it.
QWEN25_3B = {"architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2", "hidden_size": 2048,
             "intermediate_size": 11008, "num_attention_heads": 16, "num_hidden_layers": 36,
             "num_key_value_heads": 2, "vocab_size": 151936, "tie_word_embeddings": True,
             "max_position_embeddings": 32768, "rms_norm_eps": 1e-06, "rope_theta": 1000000.0,
             "hidden_act": "silu", "torch_dtype": "bfloat16"}
SMALL_LLAMA = {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 64,
               "intermediate_size": 160, "num_attention_heads": 4, "num_hidden_layers": 3,
               "num_key_value_heads": 2, "vocab_size": 320, "tie_word_embeddings": False}


def _config_file(tmp_path, fields):
    path = tmp_path / "config.json"
    path.write_text(json.dumps(fields))
    return path


def _hf_model(fields, meta=False):
    config = transformers.AutoConfig.for_model(**{k: v for k, v in fields.items() if k != "architectures"})
    with torch.device("meta" if meta else "cpu"):
        return transformers.AutoModelForCausalLM.from_config(config)


def _peft(model, **config):
    """PEFT's (trainable, total) for ``model`` with ``LoraConfig(**config)``."""
    return peft.get_peft_model(model, peft.LoraConfig(**config)).get_nb_trainable_parameters()


def _ours(report):
    return report.trainable_params, report.total_params


def test_qwen25_3b_q_v_r16_is_the_published_figure_and_peft_count(tmp_path):
    lora = {"r": 16, "target_modules": ["q_proj", "v_proj"]}
    report = learnable.count(_config_file(tmp_path, QWEN25_3B), lora=lora)
    # 36 layers × (q: 16×(2,048 + 2,048) + v: 16×(2,048 + 2×128)); the figure.
    assert report.trainable_params == 36 * (16 * (2048 + 2048) + 16 * (2048 + 2 * 128)) == 3_686_400
    assert _ours(report) == _peft(_hf_model(QWEN25_3B, meta=True), **lora)
    assert report.lora["adapted"] == 72 and report.lora["adapter_params"] == 3_686_400
    q = report.layer("layers/layer_1/self_attn/q_proj.lora")
    assert q.formula == "16×(2,048 + 2,048) = 65,536"
    assert report.layer("layers/layer_1/self_attn/q_proj").trainable == 0
    assert_formulas_hold(q)


@pytest.mark.parametrize("config", [
    {"r": 8, "target_modules": "all-linear"},
    {"r": 4, "target_modules": ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]},
    {"r": 8, "target_modules": r"model\.layers\.\d+\.self_attn\.(q|v)_proj"},  # a regex: re.fullmatch on paths
    {"r": 8, "target_modules": ["self_attn.o_proj", "mlp.down_proj"]},  # path suffixes
    {"r": 8, "target_modules": ["q_proj", "embed_tokens"]},  # an Embedding
    {"r": 8, "target_modules": ["q_proj", "v_proj"], "bias": "all"},
    {"r": 8, "target_modules": ["v_proj"], "modules_to_save": ["lm_head"]},
    {"r": 8, "target_modules": ["lm_head"]},
], ids=["all-linear", "every-projection", "regex", "suffix", "embedding", "bias-all", "modules-to-save", "lm-head"])
def test_small_llama_config_and_torch_model_against_peft(tmp_path, config):
    torch.manual_seed(0)
    model = _hf_model(SMALL_LLAMA)
    expected = _peft(_hf_model(SMALL_LLAMA), **config)
    from_config = learnable.count(_config_file(tmp_path, SMALL_LLAMA), lora=config)
    from_model = learnable.count(model, lora=config)
    assert _ours(from_config) == expected
    assert _ours(from_model) == expected
    for row in from_config.layers:
        assert_formulas_hold(row)


def test_all_linear_leaves_out_the_head_as_peft_does(tmp_path):
    report = learnable.count(_config_file(tmp_path, SMALL_LLAMA), lora={"r": 8, "target_modules": "all-linear"})
    adapted = [row.name for row in report.layers if row.type == "LoRA"]
    assert len(adapted) == 3 * 7 and "lm_head.lora" not in adapted
    # Llama's seven projections, r × (in + out), by hand: q,o 64→64; k,v 64→32; gate,up 64→160; down 160→64.
    per_layer = 8 * ((64 + 64) * 2 + (64 + 32) * 2 + (64 + 160) * 3)
    assert report.trainable_params == 3 * per_layer


def test_bias_lora_only_and_a_qwen_layer_with_biases(tmp_path):
    small_qwen = {**SMALL_LLAMA, "architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2"}
    config = {"r": 4, "target_modules": ["q_proj", "o_proj"], "bias": "lora_only"}
    report = learnable.count(_config_file(tmp_path, small_qwen), lora=config)
    assert _ours(report) == _peft(_hf_model(small_qwen), **config)
    # q_proj has a bias in Qwen2 (64 values), o_proj none: 3 layers × (adapters + q's bias).
    assert report.trainable_params == 3 * (4 * (64 + 64) * 2 + 64)


class _Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 16, 3, padding=1)
        self.grouped = torch.nn.Conv2d(16, 32, 3, groups=4)
        self.embed = torch.nn.Embedding(50, 12)
        self.fc = torch.nn.Linear(32 * 6 * 6, 10)

    def forward(self, x):
        return self.fc(torch.flatten(self.grouped(self.conv(x)), 1))


@pytest.mark.parametrize("targets", [["conv"], ["grouped"], ["conv", "fc"], ["embed"]])
def test_conv_and_embedding_of_a_torch_module_against_peft(targets):
    config = {"r": 4, "target_modules": targets}
    report = learnable.count(_Net(), input_shape=[3, 8, 8], lora=config)
    assert _ours(report) == _peft(_Net(), **config)


def test_conv_adapter_shapes_are_peft_tensors():
    peft_model = peft.get_peft_model(_Net(), peft.LoraConfig(r=4, target_modules=["grouped"]))
    theirs = {n: tuple(p.shape) for n, p in peft_model.named_parameters() if p.requires_grad}
    row = learnable.count(_Net(), input_shape=[3, 8, 8], lora={"r": 4, "target_modules": ["grouped"]}).layer(
        "grouped.lora")
    assert [w.shape for w in row.weights] == [theirs["base_model.model.grouped.lora_A.default.weight"],
                                                theirs["base_model.model.grouped.lora_B.default.weight"]]


def test_training_memory_follows_the_adapters():
    torch.manual_seed(0)
    config = {"r": 8, "target_modules": ["q_proj", "v_proj"]}
    peft_model = peft.get_peft_model(_hf_model(SMALL_LLAMA), peft.LoraConfig(**config))
    trained = [p for p in peft_model.parameters() if p.requires_grad]
    report = learnable.count(_hf_model(SMALL_LLAMA), lora=config)
    terms = {t.label.split(" (")[0]: t.bytes.value for t in estimate(report, optimizer="adamw").training}
    assert terms["gradients"] == sum(p.numel() for p in trained) * 4  # fp32 gradient per trainable value
    assert terms["adamw state"] == 2 * sum(p.numel() for p in trained) * 4
    assert terms["adamw step"] == len(trained) * 4  # one 0-d float32 step per trainable tensor


def test_qlora_memory_base_at_4_bits_adapters_in_bf16(tmp_path):
    report = learnable.count(_config_file(tmp_path, QWEN25_3B), lora={"r": 16, "target_modules": ["q_proj", "v_proj"]})
    terms = [(t.label, t.bytes.value) for t in estimate(report, dtype="int4", optimizer="adamw").training]
    linear = 36 * (2048 * 2048 + 2 * 256 * 2048 + 2048 * 2048 + 3 * 2048 * 11008)  # q, k, v, o, gate, up, down
    assert terms[0][1] == linear // 2  # two 4-bit values a byte
    assert terms[1][1] == (3_085_938_688 - linear + 3_686_400) * 2  # the rest, adapters too, in bf16
    assert terms[2][1] == 3_686_400 * 2 and terms[3][1] == 3_686_400 * 4 and terms[4][1] == 2 * 3_686_400 * 4


def test_errors_name_the_problem(tmp_path):
    path = _config_file(tmp_path, SMALL_LLAMA)
    with pytest.raises(LearnableError, match="match no layer.*q_proj"):
        learnable.count(path, lora={"r": 8, "target_modules": ["query"]})
    with pytest.raises(LearnableError, match="RMSNorm.*LoRA adapts Linear"):
        learnable.count(path, lora={"r": 8, "target_modules": ["input_layernorm"]})
    with pytest.raises(LearnableError, match="r \\(the rank\\)"):
        learnable.count(path, lora={"r": 0, "target_modules": ["q_proj"]})
    with pytest.raises(LearnableError, match="training in int4"):
        estimate(learnable.count(path), dtype="int4", optimizer="adam")


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "learnable", *args], capture_output=True, text=True, check=False)


def test_cli_lora_json_and_errors(tmp_path):
    path = str(_config_file(tmp_path, QWEN25_3B))
    done = _cli("count", path, "--lora", "16", "--lora-targets", "q_proj,v_proj", "--format", "json",
                "--dtype", "int4", "--optimizer", "adamw")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["trainable_params"] == 3_686_400
    assert data["lora"]["target_modules"] == ["q_proj", "v_proj"]
    assert data["memory"]["training"][2]["bytes"] == 3_686_400 * 2
    regex = _cli("count", path, "--lora", "16", "--lora-targets", r".*\.(q|v)_proj", "--format", "json")
    assert json.loads(regex.stdout)["trainable_params"] == 3_686_400
    for args in (["--lora-targets", "q_proj"], ["--lora", "8"], ["--lora", "8", "--lora-targets", "nothing"]):
        done = _cli("count", path, *args)
        assert done.returncode == 2 and "Traceback" not in done.stderr and done.stderr.count("\n") == 1, done.stderr


def test_an_adapters_output_is_not_kept_to_the_end():
    # Four Linear(64, 64) on 64 inputs: without LoRA the peak holds an input and an output,
    # (64 + 64) × 4 bytes. With rank-4 adapters on the first three (all-linear leaves the last,
    # the output head, out), an adapter's 4 values join that peak while its layer's output is
    # made, and are added into it at once: (64 + 64 + 4) × 4, not + 3 × 4 for all three.
    from learnable.memory import estimate

    spec = "Input(64) | Linear(64, 64) | Linear(64, 64) | Linear(64, 64) | Linear(64, 64)"
    plain = learnable.count(spec)
    adapted = learnable.count(spec, lora={"r": 4, "target_modules": "all-linear"})

    def peak(report):
        return next(t.bytes.value for t in estimate(report).inference if t.key == "activations")

    assert peak(plain) == (64 + 64) * 4
    assert peak(adapted) == (64 + 64 + 4) * 4
