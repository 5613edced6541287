"""PyTorch modules counted through the rules, with shapes from a meta-device trace.

The oracle is torch itself: ``parameters()``, ``buffers()`` and ``requires_grad`` for the
totals, each module's own ``named_parameters()`` for its row (frameworks.py), and a real
forward pass (batch 2, on CPU) for every row's output shape. Models are written here in
plain torch (torchvision is not installed): a ResNet-50 (test_zoo_resnet.py), an LSTM
language model with tied embeddings, a transformer encoder, a frozen backbone, modules
with buffers and with their own parameters, and LLaMA-3-70B's shapes on the meta device.
"""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from collections import OrderedDict
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
from conftest import assert_formulas_hold
from frameworks import assert_row_matches_torch
from reference_models import torchvision_resnet
from torch import nn
from torch.nn import functional as F

import learnable
from learnable.errors import SpecError

pytestmark = pytest.mark.frameworks
TESTS = Path(__file__).resolve().parent


# ---- the oracle -------------------------------------------------------------------------------


def torch_totals(model: nn.Module) -> tuple[int, int, int]:
    """(params, trainable, buffers) as torch counts them (a tied tensor once)."""
    params = list(model.parameters())
    return (sum(p.numel() for p in params), sum(p.numel() for p in params if p.requires_grad),
            sum(b.numel() for b in model.buffers()))


def torch_calls(model: nn.Module, *inputs: torch.Tensor) -> dict[str, list[tuple[int, ...]]]:
    """Each module's output shape at each of its calls in a real forward, batch axis dropped."""
    names = {id(m): n for n, m in model.named_modules()}
    calls: dict[str, list[tuple[int, ...]]] = {}

    def record(module, args, output):
        while isinstance(output, (tuple, list)):
            output = output[0]
        calls.setdefault(names[id(module)], []).append(tuple(output.shape[1:]))

    handles = [m.register_forward_hook(record) for m in model.modules()]
    try:
        with torch.no_grad():
            model(*inputs)
    finally:
        for handle in handles:
            handle.remove()
    return calls


def module_of(name: str) -> tuple[str, int]:
    """A row's module path and which call it is: ``block.proj (call 2)`` → ("block.proj", 1)."""
    match = re.fullmatch(r"(.*) \(call (\d+)\)", name)
    path, call = (match[1], int(match[2]) - 1) if match else (name, 0)
    return ("" if path == "(top level)" else path), call


def assert_matches_torch(report, model: nn.Module, *inputs: torch.Tensor) -> None:
    """Totals, then every row against its module: tensors, counts, output shape, arithmetic."""
    assert (report.total_params, report.trainable_params, report.total_buffers) == torch_totals(model)
    calls, modules = torch_calls(model, *inputs), dict(model.named_modules())
    for row in report.layers:
        path, call = module_of(row.name)
        if row.type in ("Parameter", "Buffer"):  # a container's own tensor, beside its submodules
            buffer = row.type == "Buffer"
            tensor = model.get_buffer(path) if buffer else model.get_parameter(path)
            assert [(w.shape, w.buffer) for w in row.weights] == [(tuple(tensor.shape), buffer)], row.name
            assert (row.params, row.buffers) == ((0, tensor.numel()) if buffer else (tensor.numel(), 0)), row.name
            assert row.output_shape == tuple(tensor.shape), row.name
            assert_formulas_hold(row)
            continue
        module = modules[path]
        if "never called" in row.note:
            assert path not in calls and row.output_shape == (), row.name
            assert row.params == sum(p.numel() for p in module.parameters()), row.name
            continue
        shape = calls[path][call]
        if "shares the weights of" in row.note or "counted there, once" in row.note:
            assert row.output_shape == shape, row.name
        else:
            assert_row_matches_torch(row, module, shape)
        if type(module).__module__.startswith("torch.nn"):  # torch's own modules go through a rule
            assert "counted from its own tensors" not in row.note or "frozen" in row.note, (row.name, row.note)


def rows(report) -> dict[str, object]:
    return {row.name: row for row in report.layers}


# ---- ResNet-50 --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def resnet50():
    return torchvision_resnet("bottleneck", (3, 4, 6, 3))


def test_resnet50_counts_and_shapes_as_torch(resnet50):
    report = learnable.count(resnet50, input_shape=(3, 224, 224))
    assert (report.total_params, report.total_buffers) == (25_557_032, 53_173)
    assert report.convention == "pytorch"
    assert_matches_torch(report, resnet50, torch.zeros(2, 3, 224, 224))
    table = rows(report)
    assert table["layer1.0.conv2"].formula == "64×64×3×3 = 36,864"
    assert table["layer4.2.bn3"].output_shape == (2048, 7, 7)
    assert table["layer1.0.relu (call 3)"].output_shape == (256, 56, 56)  # relu runs three times a block
    blocks = {b.name: b for b in report.blocks}
    assert (blocks["layer1"].type, blocks["layer1.0"].type, blocks["layer1.0"].parent) == (
        "Sequential", "Bottleneck", "layer1")
    for name, child in resnet50.named_children():  # each block's subtotal is its module's
        if name in blocks:
            assert (blocks[name].params, blocks[name].buffers) == (
                sum(p.numel() for p in child.parameters()), sum(b.numel() for b in child.buffers()))


def test_resnet50_in_the_keras_convention(resnet50):
    """Running mean and variance become non-trainable params; num_batches_tracked has no
    Keras counterpart (53 of them)."""
    report = learnable.count(resnet50, input_shape=(3, 224, 224), convention="keras")
    assert (report.total_params, report.non_trainable_params) == (25_557_032 + 53_120, 53_120)


def test_resnet50_is_neither_moved_nor_changed(resnet50):
    before = [(n, p.data_ptr(), p.device, p.requires_grad) for n, p in resnet50.named_parameters()]
    resnet50.train()
    learnable.count(resnet50, input_shape=(3, 64, 64))
    assert [(n, p.data_ptr(), p.device, p.requires_grad) for n, p in resnet50.named_parameters()] == before
    assert all(m.training for m in resnet50.modules())  # the trace ran in eval mode, then restored it
    assert not any(m._forward_hooks or m._forward_pre_hooks for m in resnet50.modules())
    assert resnet50.bn1.num_batches_tracked.item() == 0
    resnet50.eval()


def test_without_input_shape_counts_and_formulas_still_come_from_the_rules(resnet50):
    report = learnable.count(resnet50)
    assert (report.total_params, report.total_buffers) == (25_557_032, 53_173)
    table = rows(report)
    assert (table["conv1"].type, table["conv1"].output_shape) == ("Conv2d", (64, None, None))
    assert (table["fc"].formula, table["fc"].output_shape) == ("1,000×2,048 + 1,000 = 2,049,000", (1000,))
    assert not any("counted from its own tensors" in row.note for row in report.layers)
    for row in report.layers:
        assert_formulas_hold(row)


# ---- language models --------------------------------------------------------------------------


class LSTMLanguageModel(nn.Module):
    def __init__(self, vocab: int = 1000, dim: int = 64, bias: bool = True):
        super().__init__()
        self.embed = nn.Embedding(vocab, dim)
        self.lstm = nn.LSTM(dim, dim, num_layers=2, batch_first=True)
        self.drop = nn.Dropout(0.1)
        self.head = nn.Linear(dim, vocab, bias=bias)
        self.head.weight = self.embed.weight  # tied, as in Press & Wolf (2017)

    def forward(self, ids):
        out, _ = self.lstm(self.drop(self.embed(ids)))
        return self.head(self.drop(out))


def test_tied_head_shares_the_embedding():
    model = LSTMLanguageModel(bias=False)
    report = learnable.count(model, input_shape=(12,))
    assert_matches_torch(report, model, torch.zeros(2, 12, dtype=torch.long))
    table = rows(report)
    assert (table["head"].params, table["head"].output_shape) == (0, (12, 1000))
    assert "shares the weights of 'embed'" in table["head"].note
    assert "also used by 'head'" in table["embed"].note
    assert table["lstm"].formula.endswith(f"= {4 * 64 * (64 + 64 + 2) * 2:,}")
    assert table["drop (call 2)"].note == ""  # a module without weights called again shares nothing


def test_tied_weights_count_once_in_the_keras_convention_too():
    for bias in (False, True):
        model = LSTMLanguageModel(bias=bias)
        report = learnable.count(model, input_shape=(12,), convention="keras")
        assert report.total_params == torch_totals(model)[0]
        assert "embed.weight" in rows(report)["head"].note  # Keras stores the head's kernel transposed


def test_tied_weight_with_an_untied_bias_counts_the_bias_alone():
    model = LSTMLanguageModel(bias=True)
    report = learnable.count(model, input_shape=(12,))
    assert_matches_torch(report, model, torch.zeros(2, 12, dtype=torch.long))
    head = rows(report)["head"]
    assert ([w.name for w in head.weights], head.params) == (["bias"], 1000)
    assert "its weight (1000, 64) is 'embed''s weight (1000, 64)" in head.note
    assert (head.type, head.macs) == ("Linear", 12 * 1000 * 64)  # still the Linear rule: its MACs are known


class Encoder(nn.Module):
    """Token and learned position embeddings, nn.TransformerEncoder, a classifier."""

    def __init__(self, vocab=500, length=16, dim=32, heads=4, layers=2, classes=3):
        super().__init__()
        self.tokens = nn.Embedding(vocab, dim)
        self.positions = nn.Parameter(torch.zeros(1, length, dim))
        layer = nn.TransformerEncoderLayer(dim, heads, 4 * dim, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, layers, norm=nn.LayerNorm(dim), enable_nested_tensor=False)
        self.classify = nn.Linear(dim, classes)

    def forward(self, ids):
        return self.classify(self.encoder(self.tokens(ids) + self.positions).mean(1))


def test_transformer_encoder_is_taken_whole():
    model = Encoder()
    report = learnable.count(model, input_shape=(16,))
    assert_matches_torch(report, model, torch.zeros(2, 16, dtype=torch.long))
    table = rows(report)
    assert (table["encoder"].type, table["encoder"].output_shape) == ("TransformerEncoder", (16, 32))
    e, f = 32, 128
    assert table["encoder"].params == 2 * (4 * e * e + 4 * e + 2 * e * f + f + e + 4 * e) + 2 * e
    assert (table["positions"].type, table["positions"].params) == ("Parameter", 16 * 32)
    assert not any(name.startswith("encoder.") for name in table)  # its parts are inside its rule


class SequenceFirst(nn.Module):
    """batch_first=False: the batch is axis 1 of what the LSTM and the attention receive."""

    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(8, 16, bidirectional=True)
        self.attention = nn.MultiheadAttention(32, 4)
        self.encoder = nn.TransformerEncoderLayer(32, 4, 64)

    def forward(self, x):  # (batch, length, 8)
        x, _ = self.lstm(x.transpose(0, 1))
        x, _ = self.attention(x, x, x, need_weights=False)
        return self.encoder(x).transpose(0, 1)


def test_sequence_modules_with_the_batch_on_axis_1():
    model = SequenceFirst()
    report = learnable.count(model, input_shape=(10, 8))
    assert (report.total_params,) == torch_totals(model)[:1]
    table = rows(report)
    assert [table[n].output_shape for n in ("lstm", "attention", "encoder")] == [(10, 32)] * 3
    for name in ("lstm", "attention", "encoder"):
        assert_row_matches_torch(table[name], getattr(model, name), (10, 32))


def test_several_inputs():
    attention = nn.MultiheadAttention(16, 4, kdim=8, vdim=12, batch_first=True)
    report = learnable.count(attention, input_shape=[(5, 16), (7, 8), (7, 12)])
    row = report.layers[0]
    assert (row.type, row.output_shape) == ("MultiheadAttention", (5, 16))
    assert_row_matches_torch(row, attention, (5, 16))


def test_without_input_shape_every_model_counts_as_torch():
    models = [LSTMLanguageModel(), Encoder(), SequenceFirst(), Custom(), small_cnn(),
              Llama(vocab=100, dim=64, layers=2, heads=8, kv_heads=2, hidden=96),
              nn.Transformer(16, 4, 2, 2, 32, batch_first=True), nn.TransformerDecoder(nn.TransformerDecoderLayer(16, 4, 32), 2)]
    for model in models:
        report = learnable.count(model)
        assert (report.total_params, report.trainable_params, report.total_buffers) == torch_totals(model)
        modules = dict(model.named_modules())
        for row in report.layers:
            assert_formulas_hold(row)
            if row.type in ("Parameter", "Buffer"):  # a container's own tensor: no module of its own
                assert "counted from its own tensors" not in row.note, (type(model).__name__, row.name)
                continue
            module = modules[module_of(row.name)[0]]
            if type(module).__module__.startswith("torch.nn") and row.params:  # through its rule
                assert "counted from its own tensors" not in row.note, (type(model).__name__, row.name)


# ---- frozen, buffers, the user's own modules ----------------------------------------------------


def small_cnn() -> nn.Sequential:
    backbone = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(),
                             nn.Conv2d(8, 16, 3, stride=2), nn.BatchNorm2d(16), nn.ReLU(), nn.AdaptiveAvgPool2d(1))
    return nn.Sequential(OrderedDict(backbone=backbone, flatten=nn.Flatten(), head=nn.Linear(16, 10)))


def test_frozen_backbone_is_non_trainable():
    model = small_cnn().eval()
    model.backbone.requires_grad_(False)
    model.head.weight.requires_grad_(False)  # frozen weight, trainable bias: counted from its tensors
    report = learnable.count(model, input_shape=(3, 16, 16))
    assert_matches_torch(report, model, torch.zeros(2, 3, 16, 16))
    head = rows(report)["head"]
    assert (head.trainable, head.non_trainable) == (10, 160) and "frozen" in head.note
    keras = learnable.count(model, input_shape=(3, 16, 16), convention="keras")
    frozen = sum(p.numel() for p in model.parameters() if not p.requires_grad)
    assert keras.non_trainable_params == frozen + 2 * (8 + 16)  # and the moving statistics


class Standardize(nn.Module):
    """A leaf of the user's own that holds only buffers."""

    def __init__(self, channels):
        super().__init__()
        self.register_buffer("mean", torch.zeros(channels, 1, 1))
        self.register_buffer("std", torch.ones(channels, 1, 1))
        self.register_buffer("calls", torch.zeros((), dtype=torch.long), persistent=False)

    def forward(self, x):
        return (x - self.mean) / self.std


def test_buffers_are_buffers():
    model = nn.Sequential(Standardize(3), small_cnn())
    report = learnable.count(model, input_shape=(3, 16, 16))
    assert_matches_torch(report, model, torch.zeros(2, 3, 16, 16))
    row = rows(report)["0"]
    assert (row.type, row.params, row.buffers, row.output_shape) == ("Standardize", 0, 7, (3, 16, 16))
    assert "no rule" in row.note
    assert report.total_buffers == 7 + (2 * 8 + 1) + (2 * 16 + 1)  # and BatchNorm's statistics


class Stem(nn.Module):  # a container that owns a tensor beside its submodule
    def __init__(self):
        super().__init__()
        self.shift = nn.Parameter(torch.zeros(16))
        self.proj = nn.Linear(16, 16)

    def forward(self, x):
        return self.proj(x) + self.shift


class Gate(nn.Module):  # a leaf of the user's own
    def __init__(self):
        super().__init__()
        self.alpha = nn.Parameter(torch.ones(16))

    def forward(self, x):
        return x * torch.sigmoid(self.alpha)


class Custom(nn.Module):
    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(torch.ones(16))
        self.stem, self.gate = Stem(), Gate()
        self.shared = nn.Linear(16, 16)
        self.unused = nn.Linear(16, 3)
        self.out = nn.Linear(16, 4)

    def forward(self, x):
        return self.out(self.shared(self.gate(self.shared(self.stem(x)))) * self.scale)


def test_own_parameters_and_a_module_called_twice():
    model = Custom()
    report = learnable.count(model, input_shape=(16,))
    assert [r.name for r in report.layers] == [
        "scale", "stem.shift", "stem.proj", "shared", "gate", "shared (call 2)", "unused", "out"]  # call order
    assert_matches_torch(report, model, torch.zeros(2, 16))
    table = rows(report)
    assert (table["unused"].params, table["unused"].output_shape) == (51, ()) and "never called" in table["unused"].note
    assert (table["shared (call 2)"].params, table["shared"].params) == (0, 16 * 16 + 16)
    assert "shares the weights of 'shared'" in table["shared (call 2)"].note
    assert (table["gate"].type, table["gate"].params) == ("Gate", 16)
    assert (table["scale"].type, table["scale"].params, table["scale"].block) == ("Parameter", 16, None)
    assert (table["stem.shift"].type, table["stem.shift"].params, table["stem.shift"].block) == ("Parameter", 16, "stem")
    assert {b.name: b.params for b in report.blocks} == {"stem": 16 + 16 * 16 + 16}


class SwishLinear(nn.Linear):  # runs Linear's forward: the Linear rule, under its own name
    pass


class ScaledLinear(nn.Linear):  # its own forward on Linear's tensors (as FalconLinear): the Linear rule, said
    def forward(self, x):
        return 2 * F.linear(x, self.weight, self.bias)


class HalfLinear(nn.Linear):  # its own forward changes the shape: the rule cannot stand for it
    def forward(self, x):
        return F.linear(x, self.weight, self.bias)[..., : self.out_features // 2]


class ShiftedLinear(nn.Linear):  # a tensor of its own beside Linear's: counted from its tensors
    def __init__(self, *args):
        super().__init__(*args)
        self.shift = nn.Parameter(torch.zeros(self.out_features))

    def forward(self, x):
        return F.linear(x, self.weight, self.bias) + self.shift


def test_subclasses_of_torch_modules():
    model = nn.Sequential(SwishLinear(4, 5), ScaledLinear(5, 6), HalfLinear(6, 8), ShiftedLinear(4, 3))
    report = learnable.count(model, input_shape=(4,))
    assert report.total_params == sum(p.numel() for p in model.parameters()) == 25 + 36 + 56 + 18
    first, second, third, fourth = report.layers
    assert (first.type, first.formula, first.note) == ("SwishLinear", "5×4 + 5 = 25", "")
    assert (second.type, second.formula, second.macs) == ("ScaledLinear", "6×5 + 6 = 36", 6 * 5)
    assert "its own forward, on nn.Linear's tensors: counted by the Linear rule" in second.note
    assert (third.type, third.params, third.macs) == ("HalfLinear", 8 * 6 + 8, None)
    assert "its forward gave (4,) on input (6,), the Linear rule (8,): counted from its own tensors" in third.note
    assert (fourth.type, fourth.params, fourth.macs) == ("ShiftedLinear", 3 * 4 + 3 + 3, None)
    assert "its tensors are not those the Linear rule lists" in fourth.note


def test_every_rule_mapped_module_row_matches_a_real_forward():
    """One model holding many torch layers: each row's tensors and shape against torch."""
    model = nn.Sequential(
        nn.Conv1d(4, 6, 3, padding=1), nn.GroupNorm(2, 6), nn.PReLU(6), nn.ConvTranspose1d(6, 4, 3, stride=2),
        nn.InstanceNorm1d(4, affine=True, track_running_stats=True), nn.AvgPool1d(3, 2, 1, ceil_mode=True),
        nn.Unflatten(1, (2, 2)), nn.Conv2d(2, 6, 3, padding="same", groups=2), nn.ZeroPad2d((1, 0, 2, 0)),
        nn.PixelShuffle(1), nn.MaxPool2d(2, ceil_mode=True), nn.Upsample(scale_factor=2), nn.Flatten(2),
        nn.LayerNorm(56, bias=False), nn.GELU(), nn.RMSNorm(56), nn.GRU(56, 8, batch_first=True, bias=False),
    )
    report = learnable.count(model, input_shape=(4, 11))
    assert_matches_torch(report, model, torch.zeros(2, 4, 11))


# ---- errors -------------------------------------------------------------------------------------


@pytest.mark.parametrize("shape, message", [
    ((3, 0, 8), "input_shape must be one example's shape"),
    ("3x0x8", "input_shape must be sizes such as 3x224x224"),
    ((3, 8.5), "input_shape must be one example's shape"),
    ((4, 8, 8), ("its forward failed on the meta device with input (1, 4, 8, 8) float32 (as input), "
                 "in backbone.0 (Conv2d, given (1, 4, 8, 8)): RuntimeError: ")),
])
def test_bad_input_is_one_clear_error(shape, message):
    with pytest.raises(SpecError, match=re.escape(message)) as caught:
        learnable.count(small_cnn(), input_shape=shape)
    assert str(caught.value).startswith("Sequential: ") and "\n" not in str(caught.value)


class DataDependent(nn.Module):  # reads a value (.item()), as Hugging Face's mask code does
    def __init__(self):
        super().__init__()
        self.proj = nn.Linear(4, 6)

    def forward(self, x):
        return self.proj(x)[..., : int((x != 0).sum().item()) + 2]


def test_a_forward_that_needs_real_values_runs_on_zeros_or_is_one_clear_error():
    model = DataDependent()  # its tensors are real: run itself on zeros, a batch of one
    report = learnable.count(model, input_shape=(4,))
    assert_matches_torch(report, model, torch.zeros(2, 4))
    with torch.device("meta"):  # no values to read: the error says so, and the remedy
        model = DataDependent()
    with pytest.raises(SpecError, match=re.escape(
            "DataDependent: its forward failed on the meta device with input (1, 4) float32 (as x): RuntimeError: "
            "Tensor.item() cannot be called on meta tensors; it reads tensor values, which a model built on the "
            "meta device has none of: build it on the CPU to trace it")) as caught:
        learnable.count(model, input_shape=(4,))
    assert "\n" not in str(caught.value)


def test_what_a_rule_refuses_is_still_counted_and_said():
    model = nn.Sequential(nn.Linear(4, 6), nn.Flatten(0))  # flattens the batch too: rows exclude it
    report = learnable.count(model, input_shape=(3, 4))
    assert report.total_params == 30
    assert "the Flatten rule cannot take its input (3, 6)" in report.layers[1].note


def test_a_rule_that_disagrees_with_torch_is_a_bug(monkeypatch):
    from dataclasses import replace

    from learnable.importers import torch_module

    real = torch_module._mapping

    def wrong_linear(module):
        mapping = real(module)
        if mapping is None or mapping.rule.name != "Linear":
            return mapping
        infer = mapping.rule.infer
        wrong = replace(mapping.rule, infer=lambda a, s, c: replace(infer(a, s, c), output_shape=(99,)))
        return torch_module._Mapping(wrong, mapping.kwargs)

    monkeypatch.setattr(torch_module, "_mapping", wrong_linear)
    with pytest.raises(AssertionError, match=r"Linear rule disagrees with torch on head: .* gives \(99,\), "
                                             r"torch's forward gave \(10,\)"):
        learnable.count(small_cnn(), input_shape=(3, 16, 16))


# ---- LLaMA-3-70B on the meta device -------------------------------------------------------------


class Attention(nn.Module):
    def __init__(self, dim: int, heads: int, kv_heads: int):
        super().__init__()
        self.heads, self.kv_heads, self.head_dim = heads, kv_heads, dim // heads
        self.q_proj = nn.Linear(dim, dim, bias=False)
        self.k_proj = nn.Linear(dim, kv_heads * self.head_dim, bias=False)
        self.v_proj = nn.Linear(dim, kv_heads * self.head_dim, bias=False)
        self.o_proj = nn.Linear(dim, dim, bias=False)

    def forward(self, x):
        b, t, _ = x.shape
        q = self.q_proj(x).view(b, t, self.heads, self.head_dim).transpose(1, 2)
        k = self.k_proj(x).view(b, t, self.kv_heads, self.head_dim).transpose(1, 2)
        v = self.v_proj(x).view(b, t, self.kv_heads, self.head_dim).transpose(1, 2)
        groups = self.heads // self.kv_heads  # grouped-query attention: each k/v head serves several
        k, v = k.repeat_interleave(groups, 1), v.repeat_interleave(groups, 1)
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        return self.o_proj(y.transpose(1, 2).reshape(b, t, -1))


class FeedForward(nn.Module):
    def __init__(self, dim: int, hidden: int):
        super().__init__()
        self.gate_proj = nn.Linear(dim, hidden, bias=False)
        self.up_proj = nn.Linear(dim, hidden, bias=False)
        self.down_proj = nn.Linear(hidden, dim, bias=False)

    def forward(self, x):
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class DecoderLayer(nn.Module):
    def __init__(self, dim: int, heads: int, kv_heads: int, hidden: int):
        super().__init__()
        self.input_layernorm = nn.RMSNorm(dim, eps=1e-5)
        self.self_attn = Attention(dim, heads, kv_heads)
        self.post_attention_layernorm = nn.RMSNorm(dim, eps=1e-5)
        self.mlp = FeedForward(dim, hidden)

    def forward(self, x):
        x = x + self.self_attn(self.input_layernorm(x))
        return x + self.mlp(self.post_attention_layernorm(x))


class Llama(nn.Module):
    """LLaMA-3's architecture (Meta's model.py, Hugging Face's names), rotary embedding left
    out: it has no parameters and changes no shape."""

    def __init__(self, vocab=128_256, dim=8192, layers=80, heads=64, kv_heads=8, hidden=28_672):
        super().__init__()
        self.embed_tokens = nn.Embedding(vocab, dim)
        self.layers = nn.ModuleList(DecoderLayer(dim, heads, kv_heads, hidden) for _ in range(layers))
        self.norm = nn.RMSNorm(dim, eps=1e-5)
        self.lm_head = nn.Linear(dim, vocab, bias=False)  # untied in LLaMA-3-70B

    def forward(self, ids):
        x = self.embed_tokens(ids)
        for layer in self.layers:
            x = layer(x)
        return self.lm_head(self.norm(x))


def test_small_llama_rows_match_a_real_forward():
    model = Llama(vocab=100, dim=64, layers=2, heads=8, kv_heads=2, hidden=96)
    report = learnable.count(model, input_shape=(10,))
    assert_matches_torch(report, model, torch.zeros(2, 10, dtype=torch.long))
    assert rows(report)["layers.1.self_attn.k_proj"].output_shape == (10, 16)


LLAMA_70B = textwrap.dedent("""
    import json, sys, time
    sys.path.insert(0, {tests!r})
    import torch, learnable
    from test_import_torch import Llama

    def status_mb(key):  # this process image's own (ru_maxrss can carry a forking parent's peak)
        with open("/proc/self/status") as f:
            return next(int(line.split()[1]) for line in f if line.startswith(key)) / 1024

    before = status_mb("VmHWM:")
    start = time.perf_counter()
    with torch.device("meta"):
        model = Llama()
    report = learnable.count(model, input_shape=(2048,))
    seconds = time.perf_counter() - start
    table = {{row.name: row for row in report.layers}}
    print(json.dumps({{
        "seconds": seconds, "params": report.total_params, "trainable": report.trainable_params,
        "rss_growth_mb": status_mb("VmHWM:") - before,
        "peak_rss_mb": status_mb("VmHWM:"),
        "all_meta": all(t.is_meta for t in [*model.parameters(), *model.buffers()]),
        "torch_params": sum(p.numel() for p in model.parameters()),
        "k_proj": [table["layers.79.self_attn.k_proj"].formula, table["layers.79.self_attn.k_proj"].output_shape],
        "logits": table["lm_head"].output_shape, "rows": len(report.layers),
    }}))
""")


def test_llama3_70b_counts_exactly_without_weight_memory():
    """80 layers, hidden 8192, 64 heads, 8 KV heads, FFN 28672 (gate/up/down), RMSNorm, vocab
    128256, untied head: 70,553,706,496 parameters, 282 GB in float32. Counted in a fresh
    process so its peak RSS speaks for this count alone."""
    result = subprocess.run([sys.executable, "-c", LLAMA_70B.format(tests=str(TESTS))],
                            check=False, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    import json

    found = json.loads(result.stdout.strip().splitlines()[-1])
    assert found["params"] == found["trainable"] == found["torch_params"] == 70_553_706_496
    assert found["k_proj"] == ["1,024×8,192 = 8,388,608", [2048, 1024]]
    assert found["logits"] == [2048, 128_256] and found["rows"] == 2 + 80 * 9 + 1
    assert found["all_meta"]  # the model's tensors are still meta: nothing was materialized
    # (its time is for the benchmark script, not a test: a loaded machine would fail it)
    # one layer's weights alone would be 3.4 GB; building and counting all 80 grows RSS far less
    assert found["rss_growth_mb"] < 300 and found["peak_rss_mb"] < 1024, found
