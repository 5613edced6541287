"""Hugging Face model folders: config.json and every shard's safetensors header, reconciled.

The oracle is the saved model's own ``parameters()`` (PyTorch; a tied head once).
"""

from __future__ import annotations

import json

import pytest

import learnable

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
safetensors_torch = pytest.importorskip("safetensors.torch")


def tiny_llama(**fields):
    config = transformers.LlamaConfig(vocab_size=300, hidden_size=64, intermediate_size=96, num_hidden_layers=3,
                                      num_attention_heads=4, num_key_value_heads=2, head_dim=24,
                                      pad_token_id=0, bos_token_id=0, eos_token_id=0, **fields)
    torch.manual_seed(0)
    return transformers.LlamaForCausalLM(config).to(torch.bfloat16)


def params(model) -> int:
    return sum(p.numel() for p in model.parameters())


@pytest.fixture(scope="module")
def sharded(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tiny-llama")
    model = tiny_llama(tie_word_embeddings=True)
    model.save_pretrained(folder, max_shard_size="50KB")
    return folder, model


def test_the_checkpoint_is_sharded_and_tied(sharded):
    folder, model = sharded
    shards = sorted(folder.glob("*.safetensors"))
    assert len(shards) > 2 and (folder / "model.safetensors.index.json").is_file()
    assert model.lm_head.weight is model.model.embed_tokens.weight


@pytest.mark.parametrize("which", ["folder", "config", "index", "shard"])
def test_every_way_of_naming_the_folder_counts_the_model(sharded, which):
    folder, model = sharded
    path = {"folder": folder, "config": folder / "config.json", "index": folder / "model.safetensors.index.json",
            "shard": min(folder.glob("*.safetensors"))}[which]
    report = learnable.count(str(path))
    assert report.total_params == params(model)
    assert any(row.name == "lm_head" for row in report.layers)  # the config's rows, with their arithmetic
    if which != "config":
        assert "they hold the config's" in " ".join(report.notes)


def state(model) -> dict:
    tensors = {name: tensor.detach().clone().contiguous() for name, tensor in model.state_dict().items()}
    tensors.pop("lm_head.weight", None)
    return tensors


def test_buffers_and_a_tied_head_stored_twice_are_set_aside(tmp_path):
    model = tiny_llama(tie_word_embeddings=True)
    model.config.save_pretrained(tmp_path)
    tensors = state(model)
    tensors["lm_head.weight"] = tensors["model.embed_tokens.weight"].clone()  # stored under both names
    for i in range(3):
        tensors[f"model.layers.{i}.self_attn.rotary_emb.inv_freq"] = torch.ones(12)  # old checkpoints saved it
    safetensors_torch.save_file(tensors, tmp_path / "model.safetensors")
    report = learnable.count(str(tmp_path))
    assert report.total_params == params(model)
    notes = " ".join(report.notes)
    assert "3 × '…rotary_emb.inv_freq' (36 values" in notes
    assert f"lm_head.weight is stored though tied to the embeddings: {300 * 64:,} values" in notes


def test_tensors_the_config_does_not_explain_are_counted_and_said(tmp_path):
    model = tiny_llama()
    model.config.save_pretrained(tmp_path)
    tensors = state(model) | {"lm_head.weight": model.lm_head.weight.detach().clone()}
    tensors["model.extra.weight"] = torch.zeros(5, 7)  # nothing in a Llama config makes this
    safetensors_torch.save_file(tensors, tmp_path / "model.safetensors")
    report = learnable.count(str(tmp_path))
    assert report.total_params == params(model) + 5 * 7
    assert f"({5 * 7:+,}); counted from the stored tensors, not the config" in " ".join(report.notes)
    assert any(row.name == "model.extra" for row in report.layers)


def test_a_folder_without_config_is_its_tensors(tmp_path):
    model = tiny_llama()
    safetensors_torch.save_file(state(model) | {"lm_head.weight": model.lm_head.weight.detach().clone()},
                                tmp_path / "model.safetensors")
    assert learnable.count(str(tmp_path)).total_params == params(model)


def test_an_index_naming_a_file_outside_its_folder_is_refused(tmp_path):
    (tmp_path / "model.safetensors.index.json").write_text(json.dumps({"weight_map": {"w": "../elsewhere.safetensors"}}))
    with pytest.raises(learnable.LearnableError, match="not a .safetensors file in its folder"):
        learnable.count(str(tmp_path / "model.safetensors.index.json"))


def test_a_folder_with_nothing_to_count_says_so(tmp_path):
    with pytest.raises(learnable.LearnableError, match="not a Hugging Face model folder"):
        learnable.count(str(tmp_path))


def test_a_folder_with_only_its_config_counts_the_config(tmp_path):
    model = tiny_llama()
    model.config.save_pretrained(tmp_path)
    report = learnable.count(str(tmp_path))
    assert report.total_params == params(model)
