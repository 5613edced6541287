"""Hugging Face config.json counted without torch, checked against transformers itself.

The oracle is PyTorch's ``parameters()`` of the model transformers builds from the same
config on the meta device (tied weights once), over random small configs of each family
(sizes, GQA ratios, head_dim apart from hidden / heads, tying, biases), and published sizes
of real configs. The configs reach learnable as transformers writes them (save_pretrained),
so fields it leaves out for being defaults are read as transformers reads them.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys

import pytest
from conftest import assert_formulas_hold

import learnable

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

FAMILIES = ("llama", "mistral", "qwen2", "qwen3", "gemma", "gemma2", "gemma3_text", "phi3", "gpt2")


def meta_params(config) -> int:
    with torch.device("meta"):
        model = transformers.AutoModelForCausalLM.from_config(config)
    return sum(p.numel() for p in model.parameters())  # parameters() yields a tied tensor once


def random_config(family: str, rng: random.Random):
    kv_heads = rng.choice([1, 2, 4])
    heads = kv_heads * rng.choice([1, 2, 3])
    head_dim = rng.choice([8, 16, 24])
    fields = {"vocab_size": rng.randrange(50, 400), "tie_word_embeddings": rng.random() < 0.5,
              "pad_token_id": 0, "bos_token_id": 0, "eos_token_id": 0}  # within the small vocabulary
    if family == "gpt2":
        hidden = heads * head_dim  # GPT-2 has no head_dim apart from n_embd / n_head
        fields.update(n_embd=hidden, n_head=heads, n_layer=rng.randrange(1, 4), n_positions=rng.choice([16, 64]),
                      n_inner=rng.choice([None, rng.randrange(8, 200)]))
        return transformers.AutoConfig.for_model(family, **fields)
    # head_dim given apart from hidden / heads, or not (some config classes want heads to divide hidden)
    hidden = heads * rng.choice([head_dim, 4, 8, 12, 16])
    fields.update(hidden_size=hidden, intermediate_size=rng.randrange(8, 300), num_hidden_layers=rng.randrange(1, 4),
                  num_attention_heads=heads, num_key_value_heads=kv_heads, head_dim=head_dim,
                  attention_bias=rng.random() < 0.5, mlp_bias=rng.random() < 0.5)
    return transformers.AutoConfig.for_model(family, **fields)


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("seed", range(5))
def test_config_counts_as_transformers_builds_it(family, seed, tmp_path):
    config = random_config(family, random.Random(f"{family}-{seed}"))
    config.save_pretrained(tmp_path)
    report = learnable.count(tmp_path / "config.json")
    assert report.total_params == meta_params(config), json.loads((tmp_path / "config.json").read_text())
    assert "counted from the config" in " ".join(report.notes)


def test_every_row_explains_itself(tmp_path):
    config = random_config("qwen3", random.Random(1))
    config.save_pretrained(tmp_path)
    report = learnable.count(tmp_path / "config.json", input_shape=[32])
    assert report.layers[0].output_shape == (32,)
    norms = [row for row in report.layers if row.name.endswith("q_norm")]
    assert norms and all(row.params == config.head_dim for row in norms)  # Qwen3 normalizes q per head
    linear = [row for row in report.layers if row.type == "Linear"]
    assert all(row.formula and row.macs for row in linear)
    scores = [row for row in report.layers if row.name.endswith("scores")]
    # q·kᵀ: heads × tokens × tokens dot products of head_dim values each
    assert scores[0].macs == config.num_attention_heads * 32 * 32 * config.head_dim
    for row in report.layers:
        assert_formulas_hold(row)  # every rendered formula evaluates to its row's number


# Published sizes, from the models' real config.json files (fields that change the count).
LLAMA_3_8B = {"model_type": "llama", "vocab_size": 128256, "hidden_size": 4096, "intermediate_size": 14336,
              "num_hidden_layers": 32, "num_attention_heads": 32, "num_key_value_heads": 8,
              "tie_word_embeddings": False, "max_position_embeddings": 8192, "rope_theta": 500000.0}
LLAMA_32_1B = {"model_type": "llama", "vocab_size": 128256, "hidden_size": 2048, "intermediate_size": 8192,
               "num_hidden_layers": 16, "num_attention_heads": 32, "num_key_value_heads": 8, "head_dim": 64,
               "tie_word_embeddings": True, "max_position_embeddings": 131072}
MISTRAL_7B = {"model_type": "mistral", "vocab_size": 32000, "hidden_size": 4096, "intermediate_size": 14336,
              "num_hidden_layers": 32, "num_attention_heads": 32, "num_key_value_heads": 8,
              "tie_word_embeddings": False, "max_position_embeddings": 32768, "sliding_window": 4096}
PUBLISHED = [
    (LLAMA_3_8B, 8_030_261_248),  # meta-llama/Meta-Llama-3-8B: "8B"; model card and safetensors metadata
    (LLAMA_32_1B, 1_235_814_400),  # meta-llama/Llama-3.2-1B, tied embeddings: "1.23B"
    (MISTRAL_7B, 7_241_732_096),  # mistralai/Mistral-7B-v0.1: "7.24B"
]


@pytest.mark.parametrize(("fields", "published"), PUBLISHED)
def test_published_sizes(fields, published, tmp_path):
    config = transformers.AutoConfig.for_model(**fields)
    assert meta_params(config) == published  # the oracle agrees with the published figure
    (tmp_path / "config.json").write_text(json.dumps(fields))
    assert learnable.count(tmp_path / "config.json").total_params == published


def test_a_family_without_a_spec_goes_through_transformers(tmp_path):
    config = transformers.AutoConfig.for_model("opt", hidden_size=32, num_attention_heads=4, ffn_dim=64,
                                               num_hidden_layers=2, vocab_size=100, word_embed_proj_dim=32)
    config.save_pretrained(tmp_path)
    report = learnable.count(tmp_path / "config.json")
    assert report.total_params == meta_params(config)
    assert "built by transformers" in " ".join(report.notes)


def test_a_spec_named_config_json_is_still_a_spec(tmp_path):
    spec = {"input": [4], "layers": [{"Dense": {"units": 3}}]}
    (tmp_path / "config.json").write_text(json.dumps(spec))
    assert learnable.count(tmp_path / "config.json").total_params == 4 * 3 + 3


def test_bad_config_is_one_line(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({**LLAMA_3_8B, "num_key_value_heads": 5}))
    with pytest.raises(learnable.LearnableError, match="multiple of 'num_key_value_heads'"):
        learnable.count(tmp_path / "config.json")
    (tmp_path / "config.json").write_text(json.dumps({**LLAMA_3_8B, "hidden_size": "4096"}))
    with pytest.raises(learnable.LearnableError, match="'hidden_size' must be a positive whole number"):
        learnable.count(tmp_path / "config.json")


NO_FRAMEWORKS = """
import sys
for name in ("torch", "transformers", "safetensors", "numpy"):
    sys.modules[name] = None  # any import of these now raises ImportError
import learnable
print(learnable.count(sys.argv[1]).total_params)
try:
    learnable.count(sys.argv[2])
except learnable.LearnableError as err:
    print(err)
"""


def test_config_counts_without_torch_or_transformers(tmp_path):
    (tmp_path / "llama").mkdir()
    (tmp_path / "llama" / "config.json").write_text(json.dumps(LLAMA_3_8B))
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "config.json").write_text(json.dumps({"model_type": "opt"}))
    result = subprocess.run([sys.executable, "-c", NO_FRAMEWORKS, str(tmp_path / "llama" / "config.json"),
                             str(tmp_path / "other" / "config.json")], check=False, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    total, error = result.stdout.strip().splitlines()
    assert int(total) == 8_030_261_248
    assert "model_type 'opt'" in error and "pip install 'learnable[hf]'" in error
