"""A layer tied to one tensor of a layer of another type: the Transformer's and GPT's output
projection tied to the token Embedding (Press & Wolf 2017). Counted once, its MACs kept.

Oracles: hand arithmetic, and torch's ``parameters()``, which yields a tied tensor once.
"""

from __future__ import annotations

import re

import pytest
from conftest import assert_formulas_hold

import learnable

V, D, T = 1000, 64, 16  # vocabulary, width, sequence length


def tied(head: str, embedding: str = "Embedding: {input_dim: 1000, output_dim: 64, name: emb}") -> str:
    return f"input: [{T}]\nlayers:\n  - {embedding}\n  - LayerNormalization: {{name: norm}}\n  - {head}\n"


def test_a_dense_head_tied_to_the_embedding_counts_the_table_once_and_keeps_its_macs():
    report = learnable.count(tied("Dense: {units: 1000, shares: emb, name: head}"))
    head = report.layer("head")
    assert head.params == V  # its bias is its own; its kernel is the table
    assert head.macs == T * V * D  # the projection is still computed
    assert "its kernel (64, 1000) is 'emb''s embeddings (1000, 64), transposed" in head.note
    assert "also used by 'head'" in report.layer("emb").note
    assert report.total_params == V * D + 2 * D + V
    assert [w.name for w in head.weights] == ["bias"]
    assert_formulas_hold(head)


def test_a_head_without_bias_is_all_the_table():
    head = learnable.count(tied("Dense: {units: 1000, use_bias: false, shares: emb, name: head}")).layer("head")
    assert (head.params, head.macs) == (0, T * V * D)


def test_pytorch_stores_both_as_vocabulary_by_width():
    spec = tied("Linear: {in_features: 64, out_features: 1000, shares: emb, name: head}",
                "Embedding: {num_embeddings: 1000, embedding_dim: 64, name: emb}").replace(
        "LayerNormalization: {name: norm}", "LayerNorm: 64")
    head = learnable.count(spec).layer("head")
    assert head.params == V and "its weight (1000, 64) is 'emb''s weight (1000, 64) (counted" in head.note


def test_the_same_head_called_again_is_that_head():
    spec = tied("Dense: {units: 1000, shares: emb, name: head}") + "  - Dense: {shares: head, inputs: [emb]}\n"
    report = learnable.count(spec)
    assert report.layers[-1].params == 0 and report.total_params == V * D + 2 * D + V


@pytest.mark.parametrize("head, message", [
    ("Dense: {units: 10, shares: emb}", ("shares a tensor of 'emb', but none of its tensors (kernel (64, 10), bias "
                                         "(10,)) has the shape of one of that layer's (embeddings (1000, 64))")),
    ("Dense: {units: 1000, shares: norm}", "none of its tensors"),
])
def test_a_tie_whose_shapes_differ_is_refused(head, message):
    with pytest.raises(learnable.LearnableError, match=re.escape(message)):
        learnable.count(tied(head))


@pytest.mark.frameworks
@pytest.mark.parametrize("bias", [True, False])
def test_matches_torch_with_the_weight_assigned(bias):
    torch = pytest.importorskip("torch")
    nn = torch.nn

    class LM(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(V, D)
            self.norm = nn.LayerNorm(D)
            self.head = nn.Linear(D, V, bias=bias)
            self.head.weight = self.emb.weight  # tied: parameters() yields it once

        def forward(self, ids):
            return self.head(self.norm(self.emb(ids)))

    model = LM()
    spec = tied(f"Linear: {{in_features: 64, out_features: 1000, bias: {str(bias).lower()}, shares: emb, name: head}}",
                "Embedding: {num_embeddings: 1000, embedding_dim: 64, name: emb}").replace(
        "LayerNormalization: {name: norm}", "LayerNorm: 64")
    report = learnable.count(spec)
    assert report.total_params == sum(p.numel() for p in model.parameters())
    assert report.layers[-1].output_shape == tuple(model(torch.zeros(1, T, dtype=torch.long)).shape[1:])
    assert learnable.count(model, input_shape=(T,), integer_input=True).total_params == report.total_params
