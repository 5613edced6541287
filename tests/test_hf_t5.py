"""T5 and mT5 from config.json, without torch, checked against transformers.

The oracle is PyTorch's ``parameters()`` of the class transformers builds for the config's
``architectures[0]`` (AutoModel's when it names none), over random small configs saved with
save_pretrained: on the meta device, or, for an untied LM head (T5 v1.1, Flan-T5, mT5),
loaded with from_pretrained from a small checkpoint that stores its own lm_head, since
transformers 5 builds every T5 tied and unties the head only when loading such a
checkpoint. Published sizes are meta-built here too; MACs and the KV cache are checked
against arithmetic written out.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys

import pytest
from conftest import assert_formulas_hold, run_cli

import learnable
from learnable.memory import estimate

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

ARCHITECTURES = {"t5": (None, "T5Model", "T5ForConditionalGeneration", "T5EncoderModel"),
                 "mt5": (None, "MT5Model", "MT5ForConditionalGeneration", "MT5EncoderModel")}


def meta_params(config) -> int:
    names = getattr(config, "architectures", None)
    with torch.device("meta"):
        model = getattr(transformers, names[0])(config) if names else transformers.AutoModel.from_config(config)
    return sum(p.numel() for p in model.parameters())  # a tied tensor once


def loaded_params(config, folder) -> int:
    """What transformers loads from a checkpoint that stores its own lm_head, as T5 v1.1 and
    Flan-T5 do: it unties the head whose weights differ from shared's."""
    model = getattr(transformers, config.architectures[0])(config)
    model.lm_head.weight = torch.nn.Parameter(torch.randn_like(model.lm_head.weight))
    model.save_pretrained(folder / "checkpoint")
    loaded = getattr(transformers, config.architectures[0]).from_pretrained(folder / "checkpoint")
    return sum(p.numel() for p in loaded.parameters())


def random_config(family: str, rng: random.Random):
    fields = {"vocab_size": rng.randrange(50, 300), "d_model": rng.choice([8, 12, 16]),
              "d_kv": rng.choice([3, 4, 8]),  # heads × d_kv need not be d_model
              "num_heads": rng.choice([1, 2, 3]), "d_ff": rng.randrange(8, 64),
              "num_layers": rng.randrange(1, 4), "num_decoder_layers": rng.choice([None, 1, 2, 3]),
              "relative_attention_num_buckets": rng.choice([8, 32]),
              "feed_forward_proj": rng.choice(["relu", "gated-gelu", "gated-silu", "gelu"]),
              "pad_token_id": 0, "eos_token_id": 1, "decoder_start_token_id": 0}
    config = transformers.AutoConfig.for_model(family, **fields)
    architecture = rng.choice(ARCHITECTURES[family])
    if architecture:
        config.architectures = [architecture]
    return config, rng.random() < 0.5


@pytest.mark.parametrize("family", list(ARCHITECTURES))
@pytest.mark.parametrize("seed", range(8))
def test_config_counts_as_transformers_builds_it(family, seed, tmp_path):
    config, tied = random_config(family, random.Random(f"{family}-{seed}"))
    config.save_pretrained(tmp_path)
    written = json.loads((tmp_path / "config.json").read_text())
    written["tie_word_embeddings"] = tied  # transformers 5 always writes true; the Hub's v1.1 configs say false
    (tmp_path / "config.json").write_text(json.dumps(written))
    head = "ForConditionalGeneration" in (config.architectures or [""])[0]
    expected = loaded_params(config, tmp_path) if head and not tied else meta_params(config)
    report = learnable.count(tmp_path / "config.json", input_shape=[5])
    assert report.total_params == expected, written
    assert "counted from the config" in " ".join(report.notes)
    for row in report.layers:
        assert_formulas_hold(row)


def test_the_loading_oracle_unties_the_head(tmp_path):
    """The oracle above, seen to work: an untied checkpoint loads with one more vocab × d_model."""
    config = transformers.T5Config(vocab_size=50, d_model=8, d_kv=3, d_ff=10, num_layers=1, num_heads=2,
                                   architectures=["T5ForConditionalGeneration"])
    assert loaded_params(config, tmp_path) == meta_params(config) + 50 * 8


def _rows(tmp_path, fields, **options):
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "t5", **fields}))
    report = learnable.count(tmp_path / "config.json", **options)
    return report, {row.name: row for row in report.layers}


SMALL = {"vocab_size": 100, "d_model": 16, "d_kv": 4, "num_heads": 3, "d_ff": 40, "num_layers": 2,
         "num_decoder_layers": 3, "relative_attention_num_buckets": 8,
         "architectures": ["T5ForConditionalGeneration"]}


def test_relative_bias_once_per_stack_and_inner_dim_is_heads_times_d_kv(tmp_path):
    _, rows = _rows(tmp_path, SMALL)
    biases = [row for name, row in rows.items() if name.endswith("relative_attention_bias")]
    assert [row.params for row in biases] == [8 * 3, 8 * 3]  # buckets × heads, encoder and decoder
    assert rows["encoder/block_1/SelfAttention/q"].params == 16 * 3 * 4  # d_model × heads·d_kv, no bias
    assert rows["decoder/block_3/EncDecAttention/o"].params == 3 * 4 * 16
    assert rows["decoder/block_3/ff/DenseReluDense/wi"].params == 16 * 40


def test_gated_feed_forward_and_unknown_projection(tmp_path):
    _, rows = _rows(tmp_path, {**SMALL, "feed_forward_proj": "gated-gelu"})
    assert rows["encoder/block_1/ff/DenseReluDense/wi_0"].params == 16 * 40
    assert rows["encoder/block_1/ff/DenseReluDense/wi_1"].params == 16 * 40
    assert "encoder/block_1/ff/DenseReluDense/wi" not in rows
    with pytest.raises(learnable.LearnableError, match="'feed_forward_proj' must be 'ACT' or 'gated-ACT'"):
        _rows(tmp_path, {**SMALL, "feed_forward_proj": "gelu-relu"})


def test_macs_for_a_source_and_a_target(tmp_path):
    d, inner, ff, vocab, enc, dec, s, t = 768, 12 * 64, 2048, 32128, 12, 12, 100, 20
    report, _ = _rows(tmp_path, {**FLAN_T5_BASE}, input_shape=[[s], [t]])
    expected = (enc * s * (4 * d * inner + 3 * d * ff)  # encoder: q, k, v, o; wi_0, wi_1, wo
                + enc * 2 * s * s * inner  # q·kᵀ and weights·v
                + dec * t * (4 * d * inner + 2 * d * inner + 3 * d * ff)  # self q,k,v,o; cross q,o; ff
                + dec * 2 * s * d * inner  # cross k, v over the source
                + dec * 2 * t * t * inner + dec * 2 * t * s * inner  # self and cross attention
                + t * d * vocab  # lm_head
                + ((2 * enc + 1) * s + (3 * dec + 1) * t) * d)  # each T5LayerNorm's weight, per token
    assert report.total_macs == expected
    assert "a source of 100 tokens and a target of 20" in " ".join(report.notes)


def test_cli_takes_a_source_and_a_target_length(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "t5", **SMALL}))
    result = run_cli("count", str(tmp_path / "config.json"), "--input", "7", "--input", "4", "--format", "json")
    assert result.returncode == 0, result.stderr
    rows = {row["name"]: row for row in json.loads(result.stdout)["layers"]}
    assert rows["lm_head"]["macs"] == 4 * 16 * 100  # target tokens × d_model × vocab
    assert rows["encoder/block_1/SelfAttention/q"]["macs"] == 7 * 16 * 12  # source tokens × d_model × heads·d_kv
    bad = run_cli("count", str(tmp_path / "config.json"), "--input", "3x4")
    assert bad.returncode == 2
    assert "[[source tokens], [target tokens]]; got" in bad.stderr and "Traceback" not in bad.stderr


def test_the_decoder_self_attention_declares_the_kv_cache(tmp_path):
    report, _ = _rows(tmp_path, SMALL)
    memory = estimate(report, dtype="fp32", context=10)
    assert memory.kv_per_token.bytes.value == 2 * 3 * 3 * 4 * 4  # k and v × decoder layers × heads × d_kv × bytes


# Published sizes, from the models' real config.json files (the fields that change the count).
T5_SMALL = {"architectures": ["T5ForConditionalGeneration"], "vocab_size": 32128, "d_model": 512, "d_kv": 64,
            "d_ff": 2048, "num_layers": 6, "num_heads": 8, "n_positions": 512}
FLAN_T5_BASE = {"architectures": ["T5ForConditionalGeneration"], "vocab_size": 32128, "d_model": 768, "d_kv": 64,
                "d_ff": 2048, "num_layers": 12, "num_decoder_layers": 12, "num_heads": 12,
                "feed_forward_proj": "gated-gelu", "tie_word_embeddings": False}


def test_t5_small(tmp_path):
    # google-t5/t5-small: "60M" (Raffel et al. 2020, table 14), the Hub's safetensors count
    assert meta_params(transformers.T5Config(**T5_SMALL)) == 60_506_624
    assert _rows(tmp_path, T5_SMALL)[0].total_params == 60_506_624


def test_flan_t5_base(tmp_path):
    # google/flan-t5-base: "248M" on the Hub; its checkpoint stores lm_head apart from shared,
    # which transformers keeps untied on loading (as test_the_loading_oracle_unties_the_head shows)
    config = transformers.T5Config(**FLAN_T5_BASE)
    with torch.device("meta"):
        model = transformers.T5ForConditionalGeneration(config)
        model.lm_head.weight = torch.nn.Parameter(torch.empty_like(model.lm_head.weight))
    assert sum(p.numel() for p in model.parameters()) == 247_577_856
    assert _rows(tmp_path, FLAN_T5_BASE)[0].total_params == 247_577_856


NO_FRAMEWORKS = """
import sys
for name in ("torch", "transformers", "safetensors", "numpy"):
    sys.modules[name] = None  # any import of these now raises ImportError
import learnable
print(learnable.count(sys.argv[1]).total_params)
"""


def test_t5_counts_without_torch_or_transformers(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "t5", **T5_SMALL}))
    result = subprocess.run([sys.executable, "-c", NO_FRAMEWORKS, str(tmp_path / "config.json")], check=False,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert int(result.stdout) == 60_506_624
