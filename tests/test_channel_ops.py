"""ChannelSlice and ChannelPad: LeNet-5's partial connections and ResNet's option-A shortcut.

Expected shapes are hand arithmetic or torch's own tensor ops on the same input (slicing,
index_select, F.pad); both layers own nothing and compute nothing.
"""

from __future__ import annotations

import random

import pytest
from conftest import assert_formulas_hold

import learnable


def last(source, **options):
    return learnable.count(source, **options).layers[-1]


@pytest.mark.parametrize("source, expected", [
    ("Input(14, 14, 6) | ChannelSlice(0, 3)", (14, 14, 3 - 0)),
    ("Input(14, 14, 6) | ChannelSlice(1, None, 2)", (14, 14, (6 - 1 + 1) // 2)),
    ("Input(14, 14, 6) | ChannelSlice(-2)", (14, 14, 2)),
    ("Input(14, 14, 6) | ChannelSlice(channels=[4, 5, 0])", (14, 14, 3)),  # LeNet-5 C3's wrap-around
    ("Input(14, 14, None) | ChannelSlice(channels=[0, 1])", (14, 14, 2)),
    ("Input(6, 14, 14) | nn.Conv2d(6, 6, 1) | ChannelSlice(2, 6)", (6 - 2, 14, 14)),  # channels first
    ("Input(32, 32, 16) | ChannelPad(8, strides=2)", (32 // 2, 32 // 2, 16 + 8 + 8)),
    ("Input(33, 33, 16) | ChannelPad([0, 16], strides=2)", ((33 + 1) // 2, (33 + 1) // 2, 16 + 16)),
    ("Input(16, 32, 32) | nn.Conv2d(16, 16, 1) | ChannelPad(8, strides=2)", (16 + 8 + 8, 32 // 2, 32 // 2)),
    ("Input(10, 16) | ChannelPad(2)", (10, 16 + 2 + 2)),
])
def test_rows(source, expected):
    row = last(source)
    assert (row.output_shape, row.params, row.macs) == (expected, 0, 0)
    assert_formulas_hold(row)


def test_channel_pad_shows_its_arithmetic():
    row = last("Input(32, 32, 16) | ChannelPad(8, strides=2)")
    assert row.shape_formula == "channels: 16 + 8 + 8 = 32; height, width: ⌈32/2⌉ = 16"


@pytest.mark.parametrize("source, message", [
    ("Input(14, 14, 6) | ChannelSlice(channels=[6])", "channel 6 is out of range for 6 channels; use an index from -6 to 5"),
    ("Input(14, 14, 6) | ChannelSlice(4, 2)", "the slice 4:2 of 6 channels leaves nothing"),
    ("Input(14, 14, 6) | ChannelSlice(0, 2, channels=[1])", "give either channels: [indices] or start/stop/step"),
    ("Input(14, 14, 6) | ChannelSlice(channels=[])", "must be a non-empty list of channel indices"),
    ("Input(6) | ChannelSlice(0, 1)", "expects channels and at least one spatial axis"),
    ("Input(8, 8, 4) | ChannelPad(-1)", "pad"),
    ("Input(8, 8, 4) | ChannelPad([1, 2, 3])", "must be an integer or a (before, after) pair"),
])
def test_refusals(source, message):
    with pytest.raises(learnable.LearnableError) as caught:
        learnable.count(source)
    assert message in str(caught.value)


def test_names_say_nothing_of_the_convention():
    assert learnable.count("Input(6, 14, 14) | nn.Conv2d(6, 6, 1) | ChannelSlice(0, 3)").convention == "pytorch"
    assert learnable.count("Input(14, 14, 6) | Conv2D(6, 1) | ChannelSlice(0, 3)").convention == "keras"


@pytest.mark.frameworks
def test_shapes_match_torch_ops():
    torch = pytest.importorskip("torch")
    functional = torch.nn.functional
    rng = random.Random(7)
    for _ in range(40):
        c, h, w = rng.randint(1, 12), rng.randint(1, 9), rng.randint(1, 9)
        x = torch.zeros(2, c, h, w)
        start, stop, step = rng.randint(-c, c - 1), rng.choice([None, rng.randint(-c, c)]), rng.randint(1, 3)
        picked = [rng.randint(-c, c - 1) for _ in range(rng.randint(1, 6))]
        before, after, s = rng.randint(0, 5), rng.randint(0, 5), rng.randint(1, 3)
        cases = [(f"ChannelSlice(channels={picked})", x[:, picked]),
                 (f"ChannelPad([{before}, {after}], strides={s})",
                  functional.pad(x[:, :, ::s, ::s], (0, 0, 0, 0, before, after)))]
        if x[:, start:stop:step].shape[1]:  # (an empty slice is refused: checked above)
            cases.append((f"ChannelSlice({start}, {stop}, {step})", x[:, start:stop:step]))
        for layer, expected in cases:
            first = learnable.count(f"Input({c}, {h}, {w}) | {layer}", data_format="channels_first").layers[-1]
            assert first.output_shape == tuple(expected.shape[1:]), layer
            lst = learnable.count(f"Input({h}, {w}, {c}) | {layer}").layers[-1]  # channels last: moved
            assert lst.output_shape == tuple(expected.movedim(1, -1).shape[1:]), layer


@pytest.mark.frameworks
def test_option_a_shortcut_block_matches_torch():
    """A CIFAR ResNet basic block that halves the size and doubles the channels, its shortcut
    option A (He et al. 2016, §4.2): no parameters on the shortcut."""
    torch = pytest.importorskip("torch")
    nn, functional = torch.nn, torch.nn.functional

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.Conv2d(16, 32, 3, 2, 1, bias=False)
            self.bn_a = nn.BatchNorm2d(32)
            self.b = nn.Conv2d(32, 32, 3, 1, 1, bias=False)
            self.bn_b = nn.BatchNorm2d(32)

        def forward(self, x):
            y = self.bn_b(self.b(torch.relu(self.bn_a(self.a(x)))))
            return torch.relu(y + functional.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, 8, 8)))

    spec = """
input: [16, 32, 32]
data_format: channels_first
layers:
  - Conv2d: {in_channels: 16, out_channels: 32, kernel_size: 3, stride: 2, padding: 1, bias: false}
  - BatchNorm2d: 32
  - ReLU
  - Conv2d: {in_channels: 32, out_channels: 32, kernel_size: 3, padding: 1, bias: false}
  - BatchNorm2d: {num_features: 32, name: main}
  - ChannelPad: {pad: 8, strides: 2, inputs: [input], name: shortcut}
  - Add: {inputs: [main, shortcut]}
  - ReLU
"""
    block = Block()
    report = learnable.count(spec)
    assert report.total_params == sum(p.numel() for p in block.parameters())
    assert report.layers[-1].output_shape == tuple(block(torch.zeros(1, 16, 32, 32)).shape[1:])
