"""Receptive fields: the recurrence by hand on the seed, and a brute-force check: the input
pixels whose gradient reaches one output unit of a real PyTorch network (all weights 1, so
nothing cancels) are exactly the field learnable computes, for every output unit."""

from __future__ import annotations

from fractions import Fraction

import pytest

import learnable
from learnable.receptive import WHOLE


def test_seed_fields_by_hand():
    report = learnable.count("examples/simple_cnn.yaml")
    field = {row.name: row.receptive_field for row in report.layers}
    # r = r_in + (k − 1)·j_in, j = j_in·s: 1 → 3 → 5 → pool 2/2: 6, jump 2
    assert (field["conv_1"].size, field["conv_1"].jump, field["conv_1"].start) == ((3, 3), (1, 1), (1, 1))
    assert field["conv_2"].size == (5, 5) and field["conv_2"].start == (2, 2)
    assert field["max_pool"].size == (6, 6) and field["max_pool"].jump == (2, 2)
    assert field["max_pool"].start == (Fraction(5, 2),) * 2  # centre of pixels 0..5
    assert field["flatten"] == WHOLE and field["fc_2"] == WHOLE
    assert report.layer("conv_2").receptive_formula == "height, width: 3 + (3 − 1)×1 = 5"
    assert report.layer("fc_1").sees_whole_input and not report.layer("conv_2").sees_whole_input


def test_same_padding_with_stride_shifts_the_start():
    # Keras 'same' with stride 2 on 8 pixels pads max((4 − 1)·2 + 3 − 8, 0) = 1 in all: 0 before, 1 after.
    row = learnable.count("Input(8, 8, 1) | Conv2D(1, 3, strides=2, padding='same')").layers[-1]
    assert row.receptive_field.start == (1, 1) and row.receptive_field.jump == (2, 2)
    padded = learnable.count("Input(9, 9, 1) | Conv2D(1, 3, strides=2, padding='same')").layers[-1]
    assert padded.receptive_field.start == (0, 0)  # 9 pixels: 1 zero before, 1 after


def test_unknown_after_upsampling_and_reshape():
    report = learnable.count("Input(8, 8, 1) | UpSampling2D(2) | Conv2D(1, 3)")
    assert report.layers[-1].receptive_field is None
    report = learnable.count("Input(8, 8, 1) | Reshape((4, 16, 1)) | Conv2D(1, 3)")
    assert report.layers[-1].receptive_field is None


def test_branches_see_the_union_of_their_fields():
    spec = {"layers": [{"Input": {"shape": [16, 16, 1], "name": "x"}},
                       {"Conv2D": {"filters": 1, "kernel_size": 5, "padding": "same", "name": "wide", "inputs": ["x"]}},
                       {"Conv2D": {"filters": 1, "kernel_size": 1, "name": "narrow", "inputs": ["x"]}},
                       {"Add": {"inputs": ["wide", "narrow"]}}]}
    assert learnable.count(spec).layers[-1].receptive_field.size == (5, 5)


torch = pytest.importorskip("torch")


NETWORKS = [
    ("nn.Conv2d(1, 1, 3, padding=1) | nn.Conv2d(1, 1, 3, stride=2) | nn.AvgPool2d(2) | "
     "nn.Conv2d(1, 1, 3, dilation=2)", 40),
    ("nn.ZeroPad2d(2) | nn.Conv2d(1, 1, 5, stride=3) | nn.AvgPool2d(3, stride=1, padding=1) | "
     "nn.Conv2d(1, 1, (3, 1), stride=(1, 2))", 31),
]


def _torch_network(text: str):
    from torch import nn

    namespace = {"nn": nn}
    return nn.Sequential(*(eval(part.strip(), namespace) for part in text.split("|")))  # our own test text


@pytest.mark.frameworks
@pytest.mark.parametrize(("text", "size"), NETWORKS)
def test_fields_match_brute_force_gradients(text, size):
    field = learnable.count(f"Input(1, {size}, {size}) | {text}", data_format="channels_first").layers[-1]
    field = field.receptive_field
    module = _torch_network(text)
    for p in module.parameters():
        torch.nn.init.ones_(p) if p.dim() > 1 else torch.nn.init.zeros_(p)
    x = torch.ones(1, 1, size, size, requires_grad=True)
    out = module(x)
    for i in range(out.shape[2]):
        for j in range(out.shape[3]):
            (grad,) = torch.autograd.grad(out[0, 0, i, j], x, retain_graph=True)
            seen = grad[0, 0].nonzero()
            for axis, index in enumerate((i, j)):
                centre = field.start[axis] + index * field.jump[axis]
                low, high = centre - Fraction(field.size[axis] - 1, 2), centre + Fraction(field.size[axis] - 1, 2)
                expected = (max(0, int(low)), min(size - 1, int(high)))  # clipped to the image
                assert (int(seen[:, axis].min()), int(seen[:, axis].max())) == expected, (i, j, axis)


def test_attention_sees_the_whole_sequence():
    report = learnable.count("Input(10, 16) | Conv1D(16, 3) | MultiHeadAttention(2, 8) | Dense(4)")
    fields = [row.receptive_field for row in report.layers]
    assert fields[1].size == (3,) and fields[2] == WHOLE and fields[3] == WHOLE
