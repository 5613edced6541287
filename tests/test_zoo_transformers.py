"""The BERT-base and GPT-2 small zoo specs against the same networks built in torch.

Hugging Face transformers is not installed, so the reference models below follow its
layouts (models/bert/modeling_bert.py: BertEmbeddings, BertEncoder, BertPooler;
models/gpt2/modeling_gpt2.py: wte, wpe, drop, h, ln_f) in plain torch, each transformer
layer an nn.TransformerEncoderLayer, as in the specs. That such a layer holds the
parameters of HF's BertLayer and GPT2Block, as the specs' comments say, is checked against
those two written out as HF writes them (GPT-2's Conv1D stores its weight (in, out)).
Everything is built on the meta device: counting needs no memory.
"""

from __future__ import annotations

import re

import pytest
from conftest import assert_formulas_hold, evaluate_formula

import learnable
from learnable.spec import zoo

# zoo name → the published total (Hugging Face's model.num_parameters(); see each spec's header)
PUBLISHED = {"bert_base": 109_482_240, "gpt2_small": 124_439_808}
E, HEADS, FF, LAYERS = 768, 12, 3072, 12
LAYER = 7_087_872  # one BertLayer, GPT2Block or nn.TransformerEncoderLayer(768, 12, 3072)


def comment_checks(name: str) -> dict[str, tuple[int, int]]:
    """The header's "#   label: arithmetic = result" lines: label → (evaluated, stated)."""
    found = {}
    for line in zoo.text(name).splitlines():
        match = re.match(r"#\s+([\w ,]+):\s+([^=]+)=\s*([\d,]+)", line)
        if match:
            label, arithmetic, stated = match.groups()
            found[label] = (evaluate_formula(arithmetic), int(stated.replace(",", "")))
    return found


def hf_path(name: str) -> str:
    """A row's name as HF's module path: encoder/layer_1 → encoder.layer.0, h_12 → h.11."""
    return re.sub(r"_(\d+)$", lambda m: f".{int(m.group(1)) - 1}", name).replace("/", ".")


def weighted(report) -> dict[str, int]:
    """Each row with parameters, under its HF module path."""
    return {hf_path(row.name): row.params for row in report.layers if row.params}


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_published_totals_and_printed_arithmetic(name):
    report = learnable.count(f"zoo:{name}")
    assert report.convention == "pytorch"
    assert (report.total_params, report.trainable_params, report.non_trainable_params, report.total_buffers) == (
        PUBLISHED[name], PUBLISHED[name], 0, 0)
    for row in report.layers:
        assert_formulas_hold(row)


def test_bert_header_arithmetic_is_the_count():
    checks = comment_checks("bert_base")
    assert set(checks) == {"embeddings", "one layer", "encoder", "pooler", "total"}
    assert all(evaluated == stated for evaluated, stated in checks.values()), checks
    report = learnable.count("zoo:bert_base")
    blocks = {block.name: block.params for block in report.blocks}
    assert blocks == {part: checks[part][1] for part in ("embeddings", "encoder", "pooler")}
    assert {report.layer(f"encoder/layer_{i}").params for i in range(1, 13)} == {checks["one layer"][1]} == {LAYER}
    assert report.layer("pooler/dense").params == checks["pooler"][1] == 590_592
    assert report.layers[-1].output_shape == (E,)  # BertPooler: the first token's vector
    assert checks["total"][1] == PUBLISHED["bert_base"] == 23_837_184 + LAYERS * LAYER + 590_592


def test_gpt2_header_arithmetic_is_the_count():
    checks = comment_checks("gpt2_small")
    assert set(checks) == {"wte, wpe", "one block", "h", "ln_f", "total"}
    assert all(evaluated == stated for evaluated, stated in checks.values()), checks
    rows = weighted(learnable.count("zoo:gpt2_small"))
    assert rows["wte"] + rows["wpe"] == checks["wte, wpe"][1]
    assert {rows[f"h.{i}"] for i in range(12)} == {checks["one block"][1]} == {LAYER}
    assert sum(rows[f"h.{i}"] for i in range(12)) == checks["h"][1]
    assert rows["ln_f"] == checks["ln_f"][1] == 1_536
    assert checks["total"][1] == PUBLISHED["gpt2_small"] == 39_383_808 + LAYERS * LAYER + 1_536


# ---- the same networks in torch -------------------------------------------------------------


def bert_base():
    """BertModel(BertConfig()): embeddings, encoder.layer.0-11, pooler."""
    import torch
    from torch import nn

    class Embeddings(nn.Module):
        def __init__(self):
            super().__init__()
            self.word_embeddings = nn.Embedding(30522, E, padding_idx=0)
            self.position_embeddings = nn.Embedding(512, E)
            self.token_type_embeddings = nn.Embedding(2, E)
            self.LayerNorm = nn.LayerNorm(E, eps=1e-12)
            self.dropout = nn.Dropout(0.1)
            # HF's default ids, kept as buffers; the spec takes them as inputs instead
            self.register_buffer("position_ids", torch.arange(512).expand((1, -1)), persistent=False)
            self.register_buffer("token_type_ids", torch.zeros(1, 512, dtype=torch.long), persistent=False)

        def forward(self, input_ids, position_ids, token_type_ids):
            summed = (self.word_embeddings(input_ids) + self.position_embeddings(position_ids)
                      + self.token_type_embeddings(token_type_ids))
            return self.dropout(self.LayerNorm(summed))

    class Encoder(nn.Module):
        def __init__(self):
            super().__init__()
            self.layer = nn.ModuleList(
                nn.TransformerEncoderLayer(E, HEADS, FF, activation="gelu", layer_norm_eps=1e-12, batch_first=True)
                for _ in range(LAYERS))

        def forward(self, x):
            for layer in self.layer:
                x = layer(x)
            return x

    class Pooler(nn.Module):
        def __init__(self):
            super().__init__()
            self.dense = nn.Linear(E, E)
            self.activation = nn.Tanh()

        def forward(self, hidden_states):
            return self.activation(self.dense(hidden_states[:, 0]))

    class Bert(nn.Module):
        def __init__(self):
            super().__init__()
            self.embeddings, self.encoder, self.pooler = Embeddings(), Encoder(), Pooler()

        def forward(self, input_ids, position_ids, token_type_ids):
            return self.pooler(self.encoder(self.embeddings(input_ids, position_ids, token_type_ids)))

    return Bert()


def gpt2_small():
    """GPT2Model(GPT2Config()): wte, wpe, drop, h.0-11, ln_f."""
    from torch import nn

    class GPT2(nn.Module):
        def __init__(self):
            super().__init__()
            self.wte = nn.Embedding(50257, E)
            self.wpe = nn.Embedding(1024, E)
            self.drop = nn.Dropout(0.1)
            self.h = nn.ModuleList(
                nn.TransformerEncoderLayer(E, HEADS, FF, activation="gelu", norm_first=True, batch_first=True)
                for _ in range(LAYERS))
            self.ln_f = nn.LayerNorm(E)

        def forward(self, input_ids, position_ids):
            x = self.drop(self.wte(input_ids) + self.wpe(position_ids))
            for block in self.h:
                x = block(x)
            return self.ln_f(x)

    return GPT2()


# zoo name → (builder, the inputs' length, buffers HF keeps that the spec takes as inputs)
REFERENCES = {"bert_base": (bert_base, 128, 2 * 512), "gpt2_small": (gpt2_small, 1024, 0)}


def rows(module):
    """The modules a spec row stands for: each leaf, and each nn.TransformerEncoderLayer whole."""
    from torch import nn

    for name, child in module.named_children():
        if isinstance(child, nn.TransformerEncoderLayer) or not list(child.children()):
            yield name, child
        else:
            yield from ((f"{name}.{inner}", m) for inner, m in rows(child))


@pytest.fixture(scope="module", params=sorted(REFERENCES))
def pair(request):
    torch = pytest.importorskip("torch")
    with torch.device("meta"):
        module = REFERENCES[request.param][0]()
    return request.param, learnable.count(f"zoo:{request.param}"), module


@pytest.mark.frameworks
def test_totals_match_torch(pair):
    name, report, module = pair
    params = sum(p.numel() for p in module.parameters())
    buffers = sum(b.numel() for b in module.buffers())
    assert params == report.total_params == PUBLISHED[name]
    assert buffers - REFERENCES[name][2] == report.total_buffers == 0


@pytest.mark.frameworks
def test_each_layer_matches_torch(pair):
    _, report, module = pair
    theirs = {name: sum(p.numel() for p in m.parameters()) for name, m in rows(module)}
    theirs = {name: n for name, n in theirs.items() if n}
    assert sorted(weighted(report).values()) == sorted(theirs.values())
    assert weighted(report) == theirs  # and under the same names
    # each row's tensors, as PyTorch names and shapes them
    ours = {hf_path(row.name): [(w.name, tuple(w.shape)) for w in row.weights] for row in report.layers if row.params}
    assert ours == {name: [(n, tuple(p.shape)) for n, p in m.named_parameters()]
                    for name, m in rows(module) if name in theirs}


@pytest.mark.frameworks
def test_bert_blocks_are_hf_submodules():
    torch = pytest.importorskip("torch")
    with torch.device("meta"):
        module = bert_base()
    report = learnable.count("zoo:bert_base")
    assert {block.name: block.params for block in report.blocks} == {
        part: sum(p.numel() for p in getattr(module, part).parameters()) for part in ("embeddings", "encoder", "pooler")}


@pytest.mark.frameworks
def test_output_shape_matches_torch(pair):
    torch = pytest.importorskip("torch")
    name, report, module = pair
    inputs = sum(row.type == "Input" for row in report.layers)  # ids, positions (and token types)
    ids = [torch.zeros(1, REFERENCES[name][1], dtype=torch.long, device="meta") for _ in range(inputs)]
    assert tuple(module(*ids).shape[1:]) == report.layers[-1].output_shape


# ---- nn.TransformerEncoderLayer holds a BertLayer's and a GPT2Block's parameters -------------


@pytest.mark.frameworks
def test_encoder_layer_has_the_parameters_of_hf_bert_layer_and_gpt2_block():
    torch = pytest.importorskip("torch")
    from torch import nn

    class Conv1D(nn.Module):  # transformers.pytorch_utils.Conv1D: a Linear stored (in, out)
        def __init__(self, nf, nx):
            super().__init__()
            self.weight, self.bias = nn.Parameter(torch.empty(nx, nf)), nn.Parameter(torch.zeros(nf))

    def tree(**parts):
        return nn.ModuleDict(parts)

    with torch.device("meta"):
        bert_layer = tree(  # BertLayer: attention (self, output), intermediate, output
            attention=tree(self=tree(query=nn.Linear(E, E), key=nn.Linear(E, E), value=nn.Linear(E, E)),
                           output=tree(dense=nn.Linear(E, E), LayerNorm=nn.LayerNorm(E, eps=1e-12))),
            intermediate=tree(dense=nn.Linear(E, FF)),
            output=tree(dense=nn.Linear(FF, E), LayerNorm=nn.LayerNorm(E, eps=1e-12)))
        gpt2_block = tree(  # GPT2Block: ln_1, attn, ln_2, mlp
            ln_1=nn.LayerNorm(E), attn=tree(c_attn=Conv1D(3 * E, E), c_proj=Conv1D(E, E)),
            ln_2=nn.LayerNorm(E), mlp=tree(c_fc=Conv1D(FF, E), c_proj=Conv1D(E, FF)))
        post_norm = nn.TransformerEncoderLayer(E, HEADS, FF, activation="gelu", layer_norm_eps=1e-12)
        pre_norm = nn.TransformerEncoderLayer(E, HEADS, FF, activation="gelu", norm_first=True)

    def sizes(module, unpack=False):
        """Sorted tensor sizes; unpack splits in_proj into the separate q, k and v BERT keeps."""
        return sorted(s for n, p in module.named_parameters()
                      for s in ([p.numel() // 3] * 3 if unpack and "in_proj" in n else [p.numel()]))

    assert sizes(bert_layer) == sizes(post_norm, unpack=True)
    # GPT-2 packs q, k, v as PyTorch does; its Conv1D weights are the Linear ones transposed
    assert sizes(gpt2_block) == sizes(pre_norm)
    shapes = sorted(tuple(sorted(p.shape)) for p in gpt2_block.parameters())
    assert shapes == sorted(tuple(sorted(p.shape)) for p in pre_norm.parameters())
    counted = learnable.count(f"Input(128, {E}) | nn.TransformerEncoderLayer({E}, {HEADS}, {FF})").total_params
    assert sum(sizes(bert_layer)) == sum(sizes(gpt2_block)) == counted == LAYER
