"""Parameter: a learnable tensor that is no layer (ViT's class token and position embedding).

Expected counts are hand arithmetic; the differential tests hold the same tensor in a torch
module (nn.Parameter) and a Keras layer (add_weight) and compare every weight and count.
"""

from __future__ import annotations

import pytest
from conftest import assert_formulas_hold

import learnable
from learnable.rules import lookup


def last(source, **options):
    return learnable.count(source, **options).layers[-1]


VIT = """
input: [196, 768]
layers:
  - Parameter: {shape: [1, 1, 768], batch_axis: true, name: cls}
  - Concatenate: {inputs: [cls, input], axis: 1, name: tokens}
  - Parameter: {shape: [1, 197, 768], batch_axis: true, name: pos}
  - Add: {inputs: [tokens, pos], name: embedded}
  - Select: {axis: 1, index: 0, name: class_token}
"""


def test_parameter_is_a_source_that_later_layers_use():
    report = learnable.count(VIT)
    rows = {row.name: row for row in report.layers}
    assert rows["cls"].inputs == () and rows["pos"].inputs == ()  # not the previous layer's output
    assert (rows["cls"].output_shape, rows["cls"].params) == ((1, 768), 1 * 1 * 768)
    assert (rows["pos"].output_shape, rows["pos"].params) == ((197, 768), 1 * 197 * 768)
    assert [w.shape for w in rows["pos"].weights] == [(1, 197, 768)] and rows["pos"].weights[0].name == "weight"
    assert rows["tokens"].output_shape == (1 + 196, 768) and rows["tokens"].inputs == ("cls", "input")
    assert rows["embedded"].output_shape == (197, 768) and rows["class_token"].output_shape == (768,)
    assert report.total_params == report.trainable_params == 768 + 197 * 768
    assert rows["cls"].macs == 0 and rows["cls"].receptive_field is None  # unknown, not a crash
    for row in report.layers:
        assert_formulas_hold(row)


def test_parameter_without_batch_axis_is_the_stored_shape():
    row = last({"layers": [{"Parameter": {"shape": [1, 768]}}]})
    assert (row.output_shape, row.params, row.formula) == ((1, 768), 1 * 768, "1×768 = 768")
    assert last("Parameter(768)").output_shape == (768,)
    # positional sizes form the shape, as in torch.zeros(1, 1, 768)
    assert last("Parameter(1, 1, 768, batch_axis=True)").output_shape == (1, 768)


def test_frozen_parameter_is_non_trainable():
    row = last({"layers": [{"Parameter": {"shape": [4, 5], "trainable": False}}]})
    assert (row.params, row.trainable, row.non_trainable) == (4 * 5, 0, 4 * 5)


def test_only_input_is_the_network_input():
    assert lookup("Input").is_input and not lookup("Parameter").is_input and not lookup("nn.Parameter").is_input
    # A Parameter beside the one input leaves it the network's input: a conv whose field
    # covers the 4×4 input still sees all of it.
    spec = {"input": [4, 4, 3], "layers": [{"Conv2D": [8, 4]}, {"Parameter": {"shape": [1, 1, 8]}},
                                           {"Add": {"inputs": ["conv2d", "parameter"]}}]}
    report = learnable.count(spec)
    assert report.layer("conv2d").sees_whole_input
    assert report.layer("parameter").output_shape == (1, 1, 8) and report.layer("add").output_shape == (1, 1, 8)


def test_parameter_names_say_nothing_of_the_convention():
    torch_spec = "Input(196, 768) | nn.Parameter((1, 1, 768), batch_axis=True, name='cls') | nn.Linear(768, 10)"
    keras_spec = "Input(196, 768) | Parameter((1, 1, 768), batch_axis=True, name='cls') | Dense(10)"
    assert learnable.count(torch_spec).convention == "pytorch"
    assert learnable.count("Input(196, 768) | Parameter((1, 1, 768), batch_axis=True) | Linear(768, 10)"
                           ).convention == "pytorch"
    assert learnable.count(keras_spec).convention == "keras"


@pytest.mark.parametrize("spec, message", [
    ({"layers": [{"Parameter": {"shape": [2, 768], "batch_axis": True}}]}, "must be 1, not 2"),
    ({"layers": [{"Parameter": {"shape": [1], "batch_axis": True}}]}, "leaves no axis"),
    ({"layers": [{"Parameter": {"shape": [None, 768]}}]}, "all known"),
    ({"input": [4], "layers": [{"Parameter": {"shape": [4], "inputs": ["input"]}}]}, "cannot take inputs"),
])
def test_parameter_refusals(spec, message):
    with pytest.raises(learnable.LearnableError, match=message):
        learnable.count(spec)


@pytest.mark.frameworks
@pytest.mark.parametrize("stored, batch_axis", [((1, 1, 768), True), ((1, 197, 768), True), ((64, 10), False)])
def test_parameter_matches_torch_and_keras(stored, batch_axis):
    torch = pytest.importorskip("torch")
    keras = pytest.importorskip("keras")
    from frameworks import assert_row_matches_keras, assert_row_matches_torch

    holder = torch.nn.Module()
    holder.weight = torch.nn.Parameter(torch.zeros(stored))
    used = holder.weight.expand(2, *stored[1:]) if batch_axis else holder.weight  # as forward() uses it
    spec = {"layers": [{"Parameter": {"shape": list(stored), "batch_axis": batch_axis}}]}
    output = tuple(used.shape[1:]) if batch_axis else tuple(used.shape)
    assert_row_matches_torch(last(spec, convention="pytorch"), holder, output)

    class Holder(keras.layers.Layer):
        def build(self, input_shape):
            self.weight = self.add_weight(shape=stored, name="weight")

    layer = Holder()
    layer.build(None)
    assert_row_matches_keras(last(spec, convention="keras"), layer, output)


@pytest.mark.frameworks
def test_vit_embedding_shapes_match_torch():
    torch = pytest.importorskip("torch")
    x = torch.zeros(2, 196, 768)
    cls, pos = torch.zeros(1, 1, 768), torch.zeros(1, 197, 768)
    tokens = torch.cat([cls.expand(2, -1, -1), x], dim=1) + pos
    rows = {row.name: row for row in learnable.count(VIT).layers}
    assert rows["embedded"].output_shape == tuple(tokens.shape[1:])
    assert rows["class_token"].output_shape == tuple(tokens[:, 0].shape[1:])


VIT_TINY = """
name: vit-tiny
input: [3, 32, 32]
data_format: channels_first
layers:
  - Conv2d: {in_channels: 3, out_channels: 64, kernel_size: 8, stride: 8, name: patches}
  - Rearrange: {pattern: "b c h w -> b (h w) c", name: tokens}
  - Parameter: {shape: [1, 1, 64], batch_axis: true, name: cls}
  - Concatenate: {inputs: [cls, tokens], axis: 1, name: with_cls}
  - Parameter: {shape: [1, 17, 64], batch_axis: true, name: pos}
  - Add: {inputs: [with_cls, pos]}
  - TransformerEncoderLayer: {d_model: 64, nhead: 4, dim_feedforward: 256, batch_first: true, repeat: 2}
  - LayerNorm: 64
  - Select: {axis: 1, index: 0}
  - Linear: [64, 10]
"""


@pytest.mark.frameworks
def test_a_vit_spec_matches_a_plain_torch_vit():
    """The class token concatenated and the position embedding added, end to end, against a
    ViT written in plain torch (Dosovitskiy et al. 2021's layout, small sizes)."""
    torch = pytest.importorskip("torch")
    nn = torch.nn

    class ViT(nn.Module):
        def __init__(self, d=64, patch=8, tokens=16, depth=2, heads=4, classes=10):
            super().__init__()
            self.patches = nn.Conv2d(3, d, patch, stride=patch)
            self.cls = nn.Parameter(torch.zeros(1, 1, d))
            self.pos = nn.Parameter(torch.zeros(1, tokens + 1, d))
            layer = nn.TransformerEncoderLayer(d, heads, 4 * d, batch_first=True)
            self.encoder = nn.TransformerEncoder(layer, depth, enable_nested_tensor=False)
            self.norm = nn.LayerNorm(d)
            self.head = nn.Linear(d, classes)

        def forward(self, x):
            x = self.patches(x).flatten(2).transpose(1, 2)
            x = torch.cat([self.cls.expand(x.shape[0], -1, -1), x], dim=1) + self.pos
            return self.head(self.norm(self.encoder(x))[:, 0])

    model = ViT()
    report = learnable.count(VIT_TINY)
    assert report.total_params == sum(p.numel() for p in model.parameters())
    assert report.layers[-1].output_shape == tuple(model(torch.zeros(2, 3, 32, 32)).shape[1:])
    assert report.layer("with_cls").output_shape == (1 + 16, 64)
