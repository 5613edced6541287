"""BERT, RoBERTa and GPT-NeoX from config.json, without torch, checked against transformers.

The oracle is PyTorch's ``parameters()`` of the class transformers builds for the config's
``architectures[0]`` (AutoModel's when it names none) on the meta device, over random small
configs saved with save_pretrained; and published sizes of real configs, each also
meta-built here so the oracle and the figure are seen to agree.
"""

from __future__ import annotations

import json
import random

import pytest
from conftest import assert_formulas_hold

import learnable

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

ARCHITECTURES = {"bert": (None, "BertModel", "BertForMaskedLM"),
                 "roberta": (None, "RobertaModel", "RobertaForMaskedLM"),
                 "gpt_neox": (None, "GPTNeoXForCausalLM")}


def meta_params(config) -> int:
    names = getattr(config, "architectures", None)
    with torch.device("meta"):
        if names:
            model = getattr(transformers, names[0])(config)
        elif config.model_type == "gpt_neox":
            model = transformers.AutoModelForCausalLM.from_config(config)
        else:
            model = transformers.AutoModel.from_config(config)
    return sum(p.numel() for p in model.parameters())  # a tied tensor once


def random_config(family: str, rng: random.Random):
    heads = rng.choice([1, 2, 4])
    fields = {"vocab_size": rng.randrange(50, 400), "hidden_size": heads * rng.choice([4, 8, 12]),
              "num_attention_heads": heads, "num_hidden_layers": rng.randrange(1, 4),
              "intermediate_size": rng.randrange(8, 200), "tie_word_embeddings": rng.random() < 0.5,
              "pad_token_id": 0, "bos_token_id": 0, "eos_token_id": 0}
    if family == "gpt_neox":
        fields.update(use_parallel_residual=rng.random() < 0.5, attention_bias=rng.random() < 0.5,
                      max_position_embeddings=64)
    else:
        fields.update(max_position_embeddings=rng.choice([16, 40, 514]), type_vocab_size=rng.randrange(1, 4))
    config = transformers.AutoConfig.for_model(family, **fields)
    architecture = rng.choice(ARCHITECTURES[family])
    if architecture:
        config.architectures = [architecture]
    return config


@pytest.mark.parametrize("family", list(ARCHITECTURES))
@pytest.mark.parametrize("seed", range(8))
def test_config_counts_as_transformers_builds_it(family, seed, tmp_path):
    config = random_config(family, random.Random(f"{family}-{seed}"))
    config.save_pretrained(tmp_path)
    report = learnable.count(tmp_path / "config.json", input_shape=[5])
    assert report.total_params == meta_params(config), json.loads((tmp_path / "config.json").read_text())
    assert "counted from the config" in " ".join(report.notes)
    for row in report.layers:
        assert_formulas_hold(row)


def test_each_bert_head_is_its_architectures(tmp_path):
    config = transformers.BertConfig(vocab_size=100, hidden_size=16, num_attention_heads=2, num_hidden_layers=1,
                                     intermediate_size=32, max_position_embeddings=20, type_vocab_size=2)
    config.save_pretrained(tmp_path)
    rows = {row.name: row for row in learnable.count(tmp_path / "config.json").layers}
    assert rows["pooler"].params == 16 * 16 + 16  # BertModel: the pooler, no LM head
    assert "decoder" not in rows
    config.architectures = ["BertForMaskedLM"]
    config.save_pretrained(tmp_path)
    rows = {row.name: row for row in learnable.count(tmp_path / "config.json").layers}
    assert "pooler" not in rows
    assert rows["decoder"].params == 100  # its weight is the word embeddings'; its bias is its own
    assert rows["transform_LayerNorm"].params == 2 * 16


def test_an_architecture_without_a_spec_goes_through_transformers(tmp_path):
    config = transformers.BertConfig(vocab_size=100, hidden_size=16, num_attention_heads=2, num_hidden_layers=1,
                                     intermediate_size=32, num_labels=3,
                                     architectures=["BertForSequenceClassification"])
    config.save_pretrained(tmp_path)
    report = learnable.count(tmp_path / "config.json")
    assert report.total_params == meta_params(config)
    assert "'BertForSequenceClassification' has no spec in learnable" in " ".join(report.notes)


def test_a_bert_with_cross_attention_goes_through_transformers(tmp_path):
    config = transformers.BertConfig(vocab_size=100, hidden_size=16, num_attention_heads=2, num_hidden_layers=1,
                                     intermediate_size=32, is_decoder=True, add_cross_attention=True)
    config.save_pretrained(tmp_path)
    report = learnable.count(tmp_path / "config.json")
    assert report.total_params == meta_params(config)
    assert "built by transformers" in " ".join(report.notes)


def test_heads_must_divide_hidden(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "bert", "vocab_size": 10, "hidden_size": 10,
                                                      "num_attention_heads": 3, "num_hidden_layers": 1,
                                                      "intermediate_size": 8}))
    with pytest.raises(learnable.LearnableError, match="multiple of 'num_attention_heads'"):
        learnable.count(tmp_path / "config.json")


# Published sizes, from the models' real config.json files (the fields that change the count).
BERT_BASE = {"model_type": "bert", "vocab_size": 30522, "hidden_size": 768, "num_hidden_layers": 12,
             "num_attention_heads": 12, "intermediate_size": 3072, "max_position_embeddings": 512,
             "type_vocab_size": 2}
ROBERTA_BASE = {"model_type": "roberta", "vocab_size": 50265, "hidden_size": 768, "num_hidden_layers": 12,
                "num_attention_heads": 12, "intermediate_size": 3072, "max_position_embeddings": 514,
                "type_vocab_size": 1, "pad_token_id": 1}
PYTHIA_160M = {"model_type": "gpt_neox", "architectures": ["GPTNeoXForCausalLM"], "vocab_size": 50304,
               "hidden_size": 768, "num_hidden_layers": 12, "num_attention_heads": 12, "intermediate_size": 3072,
               "max_position_embeddings": 2048, "rotary_pct": 0.25, "use_parallel_residual": True,
               "tie_word_embeddings": False}
PUBLISHED = [
    (BERT_BASE, 109_482_240),  # google-bert/bert-base-uncased as BertModel: "110M"; the Hub's safetensors count
    (ROBERTA_BASE, 124_645_632),  # FacebookAI/roberta-base as RobertaModel: "125M"
    (PYTHIA_160M, 162_322_944),  # EleutherAI/pythia-160m: "160M" (embed_out untied); the Hub's safetensors count
]


@pytest.mark.parametrize(("fields", "published"), PUBLISHED)
def test_published_sizes(fields, published, tmp_path):
    config = transformers.AutoConfig.for_model(**fields)
    assert meta_params(config) == published  # the oracle agrees with the published figure
    (tmp_path / "config.json").write_text(json.dumps(fields))
    assert learnable.count(tmp_path / "config.json").total_params == published
