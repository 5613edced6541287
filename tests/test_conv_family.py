"""The rest of the convolution family: transposed, depthwise and separable convolutions.

Expected values are hand arithmetic (tables) or the frameworks themselves (differential
tests and a seeded random sweep); no number is copied from learnable's output. The
framework sections skip without Keras / torch.
"""

from __future__ import annotations

import os
import random
from typing import Any

import pytest

os.environ["KERAS_BACKEND"] = "torch"  # before Keras is imported (the fixtures import it)

import learnable
from conftest import assert_formulas_hold, sweep
from frameworks import assert_row_matches_keras, assert_row_matches_torch  # import no framework themselves


def row(input_shape, item, convention=None):
    """The last layer's row of ``Input(input_shape) | item``."""
    return learnable.count({"input": list(input_shape), "layers": [item]}, convention=convention).layers[-1]


def tensors(r) -> list[tuple[str, tuple[int, ...]]]:
    return [(w.name, w.shape) for w in r.weights]


# ---- per-layer tables: expected values are hand arithmetic -----------------------------

# (input, layer, params, Keras tensors, PyTorch tensors, output shape)
TABLE = [
    ((9, 9, 16), "DepthwiseConv2D(3)", 3 * 3 * 16 * 1 + 16,
     [("kernel", (3, 3, 16, 1)), ("bias", (16,))], [("weight", (16, 1, 3, 3)), ("bias", (16,))], (7, 7, 16)),
    ((9, 9, 16), "DepthwiseConv2D(3, depth_multiplier=2)", 3 * 3 * 16 * 2 + 16 * 2,
     [("kernel", (3, 3, 16, 2)), ("bias", (32,))], [("weight", (32, 1, 3, 3)), ("bias", (32,))], (7, 7, 32)),
    ((9, 9, 16), "DepthwiseConv2D(3, use_bias=False)", 3 * 3 * 16,
     [("kernel", (3, 3, 16, 1))], [("weight", (16, 1, 3, 3))], (7, 7, 16)),
    ((10, 8), "DepthwiseConv1D(5, depth_multiplier=3)", 5 * 8 * 3 + 8 * 3,
     [("kernel", (5, 8, 3)), ("bias", (24,))], [("weight", (24, 1, 5)), ("bias", (24,))], (6, 24)),
    ((9, 9, 16), "SeparableConv2D(64, 3)", 3 * 3 * 16 + 16 * 64 + 64,
     [("depthwise_kernel", (3, 3, 16, 1)), ("pointwise_kernel", (1, 1, 16, 64)), ("bias", (64,))],
     [("depthwise.weight", (16, 1, 3, 3)), ("pointwise.weight", (64, 16, 1, 1)), ("pointwise.bias", (64,))],
     (7, 7, 64)),
    ((9, 9, 16), "SeparableConv2D(64, 3, depth_multiplier=2, use_bias=False)", 3 * 3 * 16 * 2 + 32 * 64,
     [("depthwise_kernel", (3, 3, 16, 2)), ("pointwise_kernel", (1, 1, 32, 64))],
     [("depthwise.weight", (32, 1, 3, 3)), ("pointwise.weight", (64, 32, 1, 1))], (7, 7, 64)),
    ((9, 16), "SeparableConv1D(64, 3)", 3 * 16 + 16 * 64 + 64,
     [("depthwise_kernel", (3, 16, 1)), ("pointwise_kernel", (1, 16, 64)), ("bias", (64,))],
     [("depthwise.weight", (16, 1, 3)), ("pointwise.weight", (64, 16, 1)), ("pointwise.bias", (64,))], (7, 64)),
    ((8, 8, 32), "Conv2DTranspose(16, 3, strides=2)", 3 * 3 * 16 * 32 + 16,
     [("kernel", (3, 3, 16, 32)), ("bias", (16,))], [("weight", (32, 16, 3, 3)), ("bias", (16,))],
     ((8 - 1) * 2 + 3,) * 2 + (16,)),
    ((5, 32), "Conv1DTranspose(16, 3, use_bias=False)", 3 * 16 * 32,
     [("kernel", (3, 16, 32))], [("weight", (32, 16, 3))], (5 - 1 + 3, 16)),
    ((2, 2, 2, 32), "Conv3DTranspose(16, 3)", 3 * 3 * 3 * 16 * 32 + 16,
     [("kernel", (3, 3, 3, 16, 32)), ("bias", (16,))], [("weight", (32, 16, 3, 3, 3)), ("bias", (16,))],
     (2 - 1 + 3,) * 3 + (16,)),
    # Keras 'valid' pads the output to (n − 1)·s + max(k, s): a 1×1 kernel with stride 2 on 8 → 16.
    ((8, 8, 4), "Conv2DTranspose(2, 1, strides=2)", 1 * 1 * 2 * 4 + 2,
     [("kernel", (1, 1, 2, 4)), ("bias", (2,))], [("weight", (4, 2, 1, 1)), ("bias", (2,))], (16, 16, 2)),
    ((3, 8, 8), "nn.ConvTranspose2d(3, 6, 1, stride=2)", 3 * 6 * 1 * 1 + 6,
     [("kernel", (1, 1, 6, 3)), ("bias", (6,))], [("weight", (3, 6, 1, 1)), ("bias", (6,))], (6, 15, 15)),
    ((32, 8, 8), "nn.ConvTranspose2d(32, 16, 3, stride=2)", 32 * 16 * 3 * 3 + 16,
     [("kernel", (3, 3, 16, 32)), ("bias", (16,))], [("weight", (32, 16, 3, 3)), ("bias", (16,))], (16, 17, 17)),
    # Keras cannot group a transposed convolution: both conventions list PyTorch's tensors.
    ((32, 8, 8), "nn.ConvTranspose2d(32, 16, 3, stride=2, groups=4)", 32 * (16 // 4) * 3 * 3 + 16,
     [("weight", (32, 4, 3, 3)), ("bias", (16,))], [("weight", (32, 4, 3, 3)), ("bias", (16,))], (16, 17, 17)),
]


@pytest.mark.parametrize("input_shape, layer, params, keras_tensors, torch_tensors, output_shape", TABLE)
def test_table(input_shape, layer, params, keras_tensors, torch_tensors, output_shape):
    source = f"Input{tuple(input_shape)} | {layer}"
    for convention, expected in (("keras", keras_tensors), ("pytorch", torch_tensors)):
        r = learnable.count(source, convention=convention).layers[-1]
        assert (r.params, r.trainable, r.buffers) == (params, params, 0), (convention, r)
        assert tensors(r) == expected, convention
        assert r.output_shape == output_shape, convention
        assert_formulas_hold(r)


# (input, layer, output shape): Keras's and PyTorch's transposed output sizes by hand.
SHAPES = [
    ((8, 3), "Conv1DTranspose(2, 3, strides=2, padding='same')", (8 * 2, 2)),
    ((8, 3), "Conv1DTranspose(2, 3, padding='same')", (8, 2)),
    ((8, 3), "Conv1DTranspose(2, 4, strides=3, padding='same', output_padding=2)", ((8 - 1) * 3 + 4 % 2 + 2, 2)),
    ((8, 3), "Conv1DTranspose(2, 5, strides=3, output_padding=1)", ((8 - 1) * 3 + 5 + 1, 2)),
    ((8, 3), "Conv1DTranspose(2, 3, dilation_rate=2)", (8 - 1 + 2 * (3 - 1) + 1, 2)),
    ((8, 3), "Conv1DTranspose(2, 2, strides=3)", ((8 - 1) * 3 + max(2, 3), 2)),
    # Conv3DTranspose alone takes data_format before output_padding.
    ((4, 4, 4, 3), "Conv3DTranspose(2, 3, 2, 'valid', None, 1)", ((4 - 1) * 2 + 3 + 1,) * 3 + (2,)),
    ((4, 4, 3), "Conv2DTranspose(2, 3, 2, 'valid', 1)", ((4 - 1) * 2 + 3 + 1,) * 2 + (2,)),
    ((3, 5, 5), "Conv2DTranspose(2, (3, 1), strides=(2, 1), data_format='channels_first')", (2, (5 - 1) * 2 + 3, 5)),
    ((3, 8), "nn.ConvTranspose1d(3, 2, 3, stride=2, padding=1, output_padding=1)", (2, (8 - 1) * 2 - 2 * 1 + 3 + 1)),
    ((3, 8), "nn.ConvTranspose1d(3, 2, 3, dilation=3, output_padding=2)", (2, 8 - 1 + 3 * (3 - 1) + 2 + 1)),
    ((3, 8), "nn.ConvTranspose1d(3, 2, 3, padding=2)", (2, 8 - 1 - 2 * 2 + 3)),
    ((None, 6, 3), "Conv2DTranspose(2, 3, strides=2)", (None, (6 - 1) * 2 + 3, 2)),
    ((None, 6, 3), "SeparableConv2D(2, 3, strides=2, dilation_rate=2)", (None, (6 - 5) // 2 + 1, 2)),
    ((9, 9, 4), "DepthwiseConv2D(3, strides=2, padding='same', depth_multiplier=3)", (5, 5, 12)),
]


@pytest.mark.parametrize("input_shape, layer, output_shape", SHAPES)
def test_output_shapes(input_shape, layer, output_shape):
    r = row(input_shape, layer)  # a compact-form call is a spec item as it is
    assert r.output_shape == output_shape
    assert_formulas_hold(r)


def test_shape_arithmetic_is_shown():
    assert row((8, 8, 4), "Conv2DTranspose(2, 1, strides=2)").shape_formula == "height, width: (8 − 1)×2 + 2 = 16"
    assert row((8, 4), "Conv1DTranspose(2, 3, strides=2, padding='same')").shape_formula == "steps: 8×2 = 16"
    torch_row = row((4, 8), "nn.ConvTranspose1d(4, 2, 3, stride=2, padding=1, output_padding=1)")
    assert torch_row.shape_formula == "steps: (8 − 1)×2 − 2×1 + 3 + 1 = 16"


REJECTED = [
    ((8, 8, 4), "Conv2DTranspose(16, 3, groups=2)"),  # Keras has no groups argument
    ((8, 8, 4), "Conv2DTranspose(16, 3, strides=2, output_padding=2)"),  # op ≥ strides
    ((8, 8, 4), "Conv2DTranspose(16, 3, output_padding=1)"),
    ((8, 8, 4), "Conv2DTranspose(16, 3, strides=2, dilation_rate=2)"),
    ((8, 4), "Conv1DTranspose(16, 3, padding='causal')"),
    ((1, 4), "Conv1DTranspose(16, 2, padding='same', output_padding=0)"),  # Keras: an empty output
    ((8, 4), "DepthwiseConv1D(3, padding='causal')"),
    ((2, 2, 4), "DepthwiseConv2D(3)"),
    ((2, 2, 4), "SeparableConv2D(8, 3)"),
    ((8, 8, 4), "DepthwiseConv2D(3, depth_multiplier=0)"),
    ((8, 8, None), "SeparableConv2D(8, 3)"),
    ((4, 8, 8), "nn.ConvTranspose2d(4, 8, 3, padding='same')"),
    ((4, 8, 8), "nn.ConvTranspose2d(4, 8, 3, padding_mode='reflect')"),
    ((4, 8, 8), "nn.ConvTranspose2d(4, 6, 3, groups=4)"),
    ((4, 8, 8), "nn.ConvTranspose2d(4, 8, 3, output_padding=1)"),
    ((4, 8, 8), "nn.ConvTranspose2d(5, 8, 3)"),
    ((4, 2, 2), "nn.ConvTranspose2d(4, 8, 1, padding=1)"),
]


@pytest.mark.parametrize("input_shape, layer", REJECTED)
def test_rejected(input_shape, layer):
    with pytest.raises(learnable.LearnableError):
        row(input_shape, layer)


def test_keras_groups_points_to_pytorch():
    with pytest.raises(learnable.LearnableError, match=r"nn\.ConvTranspose2d\(.*groups="):
        row((8, 8, 4), "Conv2DTranspose(16, 3, groups=2)")


def test_notes_say_what_pytorch_writes():
    separable = row((9, 9, 16), "SeparableConv2D(64, 3)", convention="pytorch")
    assert "nn.Conv2d(16, 16, (3, 3), groups=16, bias=False)" in separable.note
    assert "nn.Conv2d(16, 64, 1, bias=True)" in separable.note
    depthwise = row((9, 9, 16), "DepthwiseConv2D(3, depth_multiplier=2)", convention="pytorch")
    assert "nn.Conv2d(16, 32, (3, 3), groups=16" in depthwise.note
    grouped = row((8, 4, 4), "nn.ConvTranspose2d(8, 4, 3, groups=2)", convention="keras")
    assert "no groups argument" in grouped.note
    comparison = learnable.compare_conventions("Input(9, 9, 16) | SeparableConv2D(64, 3) | Conv2DTranspose(8, 3)")
    assert not any(pair.differs for pair in comparison.rows)


# ---- differential tests: the frameworks are the oracle ----------------------------------


@pytest.fixture(scope="module")
def keras():
    return pytest.importorskip("keras")


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


def _built(keras, layer, input_shape):
    """Build the layer on a keras.Input (never compiled): (layer, output shape without batch)."""
    layer(keras.Input(tuple(input_shape)))
    return layer, tuple(layer.output.shape[1:])


def _rank(type_name: str) -> int:
    return int(type_name[4]) if type_name.startswith("Conv") else int(type_name[-2])


def torch_equivalent(torch, type_name: str, kw: dict, c_in: int):
    """The PyTorch module(s) for a Keras-named layer, built with the arguments that give
    Keras's output shape where PyTorch can; returns (module, reproduces_shape)."""
    nn, rank = torch.nn, _rank(type_name)
    conv, k = getattr(nn, f"Conv{rank}d"), kw["kernel_size"]
    geometry = {"stride": kw.get("strides", 1), "dilation": kw.get("dilation_rate", 1)}
    same = kw.get("padding", "valid") == "same"
    if type_name.startswith("Conv"):
        return _transposed(torch, rank, kw, c_in), not same
    if type_name.startswith("Depthwise"):
        dm = kw.get("depth_multiplier", 1)
        return conv(c_in, c_in * dm, k, groups=c_in, bias=kw.get("use_bias", True), **geometry), not same

    class Separable(nn.Module):
        def __init__(self):
            super().__init__()
            depth = c_in * kw.get("depth_multiplier", 1)
            self.depthwise = conv(c_in, depth, k, groups=c_in, bias=False, **geometry)
            self.pointwise = conv(depth, kw["filters"], 1, bias=kw.get("use_bias", True))

        def forward(self, x):
            return self.pointwise(self.depthwise(x))

    return Separable(), not same


def _transposed(torch, rank: int, kw: dict, c_in: int):
    """nn.ConvTranspose with the output padding Keras's 'valid' uses: op, else max(k', s) − k'."""
    axes = lambda v: tuple(v) if isinstance(v, (list, tuple)) else (v,) * rank  # noqa: E731
    k, s, d = axes(kw["kernel_size"]), axes(kw.get("strides", 1)), axes(kw.get("dilation_rate", 1))
    op = kw.get("output_padding")
    op = axes(op) if op is not None else tuple(max(di * (ki - 1) + 1, si) - (di * (ki - 1) + 1)
                                               for ki, si, di in zip(k, s, d))
    cls = getattr(torch.nn, f"ConvTranspose{rank}d")
    return cls(c_in, kw["filters"], k, stride=s, output_padding=op, dilation=d, bias=kw.get("use_bias", True))


def torch_forward(torch, module, input_shape) -> tuple[int, ...]:
    with torch.no_grad():
        return tuple(module(torch.zeros(1, *input_shape)).shape[1:])


def to_layout(shape_cf: tuple, data_format: str) -> tuple:
    return shape_cf if data_format == "channels_first" else (*shape_cf[1:], shape_cf[0])


KERAS_CASES = [
    ("Conv2DTranspose", {"filters": 16, "kernel_size": 3, "strides": 2}, (8, 8, 32)),
    ("Conv2DTranspose", {"filters": 2, "kernel_size": 1, "strides": 2}, (8, 8, 4)),
    ("Conv1DTranspose", {"filters": 16, "kernel_size": 3, "use_bias": False}, (5, 32)),
    ("Conv3DTranspose", {"filters": 16, "kernel_size": 3}, (2, 2, 2, 32)),
    ("Conv2DTranspose", {"filters": 4, "kernel_size": [4, 3], "strides": [3, 2], "padding": "same",
                         "output_padding": [2, 0]}, (3, 5, 6)),
    ("Conv2DTranspose", {"filters": 4, "kernel_size": 3, "padding": "same", "dilation_rate": 2,
                         "data_format": "channels_first"}, (6, 5, 5)),
    ("DepthwiseConv2D", {"kernel_size": 3}, (9, 9, 16)),
    ("DepthwiseConv2D", {"kernel_size": 3, "depth_multiplier": 2}, (9, 9, 16)),
    ("DepthwiseConv2D", {"kernel_size": 3, "use_bias": False}, (9, 9, 16)),
    ("DepthwiseConv1D", {"kernel_size": 5, "depth_multiplier": 3}, (10, 8)),
    ("DepthwiseConv2D", {"kernel_size": 3, "strides": 2, "dilation_rate": 2}, (9, 9, 4)),
    ("SeparableConv2D", {"filters": 64, "kernel_size": 3}, (9, 9, 16)),
    ("SeparableConv2D", {"filters": 64, "kernel_size": 3, "depth_multiplier": 2, "use_bias": False}, (9, 9, 16)),
    ("SeparableConv1D", {"filters": 64, "kernel_size": 3}, (9, 16)),
    ("SeparableConv2D", {"filters": 8, "kernel_size": 3, "depth_multiplier": 2, "data_format": "channels_first"},
     (16, 9, 9)),
]


@pytest.mark.frameworks
@pytest.mark.parametrize("type_name, kwargs, input_shape", KERAS_CASES)
def test_keras_layers(keras, type_name, kwargs, input_shape):
    layer, shape = _built(keras, getattr(keras.layers, type_name)(**kwargs), input_shape)
    assert_row_matches_keras(row(input_shape, {type_name: kwargs}, convention="keras"), layer, shape)


@pytest.mark.frameworks
@pytest.mark.parametrize("type_name, kwargs, input_shape", KERAS_CASES)
def test_keras_layers_in_the_pytorch_convention(torch, type_name, kwargs, input_shape):
    assert_torch_equivalent(torch, type_name, kwargs, input_shape)


TORCH_CASES = [
    ("ConvTranspose2d", {"in_channels": 32, "out_channels": 16, "kernel_size": 3, "stride": 2}, (32, 8, 8)),
    ("ConvTranspose2d", {"in_channels": 32, "out_channels": 16, "kernel_size": 3, "stride": 2, "groups": 4},
     (32, 8, 8)),
    ("ConvTranspose2d", {"in_channels": 4, "out_channels": 2, "kernel_size": 1, "stride": 2}, (4, 8, 8)),
    ("ConvTranspose1d", {"in_channels": 32, "out_channels": 16, "kernel_size": 3, "bias": False}, (32, 5)),
    ("ConvTranspose3d", {"in_channels": 32, "out_channels": 16, "kernel_size": 3}, (32, 2, 2, 2)),
    ("ConvTranspose2d", {"in_channels": 6, "out_channels": 9, "kernel_size": [3, 2], "stride": [2, 3],
                         "padding": [1, 0], "output_padding": [1, 2], "groups": 3, "dilation": [1, 2]}, (6, 4, 5)),
]


@pytest.mark.frameworks
@pytest.mark.parametrize("type_name, kwargs, input_shape", TORCH_CASES)
def test_torch_layers(torch, type_name, kwargs, input_shape):
    module = getattr(torch.nn, type_name)(**{k: tuple(v) if isinstance(v, list) else v for k, v in kwargs.items()})
    assert_row_matches_torch(row(input_shape, {f"nn.{type_name}": kwargs}), module,
                             torch_forward(torch, module, input_shape))


@pytest.mark.frameworks
def test_torch_layer_counted_as_keras(keras, torch):
    """nn.ConvTranspose2d without padding in the Keras convention is Conv2DTranspose with that output padding."""
    r = row((4, 5, 5), {"nn.ConvTranspose2d": {"in_channels": 4, "out_channels": 6, "kernel_size": 3,
                                               "stride": 2, "output_padding": 1}}, convention="keras")
    layer, shape = _built(keras, keras.layers.Conv2DTranspose(6, 3, strides=2, output_padding=1,
                                                              data_format="channels_first"), (4, 5, 5))
    assert_row_matches_keras(r, layer, shape)


def assert_torch_equivalent(torch, type_name: str, kwargs: dict, input_shape) -> None:
    """A Keras-named layer counted in the PyTorch convention against its PyTorch module(s)."""
    fmt = kwargs.get("data_format", "channels_last")
    c_in = input_shape[0] if fmt == "channels_first" else input_shape[-1]
    module, reproduces = torch_equivalent(torch, type_name, kwargs, c_in)
    r = row(input_shape, {type_name: kwargs}, convention="pytorch")
    shape = None
    if reproduces:
        spatial = input_shape[1:] if fmt == "channels_first" else input_shape[:-1]
        shape = to_layout(torch_forward(torch, module, (c_in, *spatial)), fmt)
    assert_row_matches_torch(r, module, shape)


# ---- a seeded random sweep: the framework decides what is valid --------------------------


def _per_axis(rng: random.Random, rank: int, low: int, high: int) -> Any:
    return rng.randint(low, high) if rng.random() < 0.5 else [rng.randint(low, high) for _ in range(rank)]


def random_keras_layer(rng: random.Random) -> tuple[str, dict, tuple]:
    kind = rng.choice(["Conv{}DTranspose", "Conv{}DTranspose", "DepthwiseConv{}D", "SeparableConv{}D"])
    rank = rng.choice((1, 2, 3) if "Transpose" in kind else (1, 2))
    kw: dict[str, Any] = {
        "kernel_size": _per_axis(rng, rank, 1, 4), "padding": rng.choice(["valid", "same"]),
        "use_bias": rng.random() < 0.7, "data_format": rng.choice(["channels_last", "channels_first"]),
    }
    if rng.random() < 0.6:
        kw["strides"] = _per_axis(rng, rank, 1, 3)
    if rng.random() < 0.35:  # sometimes with strides > 1: Keras refuses that for Conv*Transpose only
        kw["dilation_rate"] = _per_axis(rng, rank, 1, 2)
    if "Transpose" in kind:
        kw["filters"] = rng.randint(1, 6)
        if rng.random() < 0.5:
            kw["output_padding"] = _per_axis(rng, rank, 0, 2)
    else:
        kw["depth_multiplier"] = rng.randint(1, 3)
        if kind.startswith("Separable"):
            kw["filters"] = rng.randint(1, 6)
    spatial = [rng.randint(1, 7 if rank < 3 else 4) for _ in range(rank)]
    c_in = rng.randint(1, 5)
    shape = (c_in, *spatial) if kw["data_format"] == "channels_first" else (*spatial, c_in)
    return kind.format(rank), kw, shape


def random_torch_layer(rng: random.Random) -> tuple[str, dict, tuple]:
    rank = rng.choice((1, 2, 3))
    groups = rng.choice((1, 1, 2, 3))
    kw: dict[str, Any] = {
        "in_channels": groups * rng.randint(1, 3), "out_channels": groups * rng.randint(1, 3),
        "kernel_size": _per_axis(rng, rank, 1, 4), "stride": _per_axis(rng, rank, 1, 3),
        "padding": _per_axis(rng, rank, 0, 2), "output_padding": _per_axis(rng, rank, 0, rng.choice((1, 2))),
        "groups": groups, "bias": rng.random() < 0.7, "dilation": _per_axis(rng, rank, 1, 2),
    }
    if rng.random() < 0.1:
        kw["out_channels"] += 1  # not divisible by groups (unless groups is 1)
    if rng.random() < 0.05:
        kw["padding"] = "same"
    if rng.random() < 0.05:
        kw["padding_mode"] = "reflect"
    spatial = [rng.randint(1, 6 if rank < 3 else 3) for _ in range(rank)]
    return f"ConvTranspose{rank}d", kw, (kw["in_channels"], *spatial)


KERAS_SWEEP = [random_keras_layer(random.Random(f"keras-{i}")) for i in sweep(120)]
TORCH_SWEEP = [random_torch_layer(random.Random(f"torch-{i}")) for i in sweep(90)]


def must_reject(spec_item: Any, input_shape, why: str, convention: str) -> None:
    try:
        r = row(input_shape, spec_item, convention=convention)
    except learnable.LearnableError:
        return
    pytest.fail(f"the framework rejects {spec_item} on {input_shape} ({why}), but learnable gives {r}")


@pytest.mark.frameworks
@pytest.mark.parametrize("type_name, kwargs, input_shape", KERAS_SWEEP)
def test_keras_sweep(keras, type_name, kwargs, input_shape):
    try:
        layer, shape = _built(keras, getattr(keras.layers, type_name)(**kwargs), input_shape)
    except ValueError as err:
        return must_reject({type_name: kwargs}, input_shape, str(err)[:200], "keras")
    if 0 in shape:  # Keras returns an empty tensor; learnable refuses it on purpose
        return must_reject({type_name: kwargs}, input_shape, f"empty output {shape}", "keras")
    assert_row_matches_keras(row(input_shape, {type_name: kwargs}, convention="keras"), layer, shape)


@pytest.mark.frameworks
@pytest.mark.parametrize("type_name, kwargs, input_shape", TORCH_SWEEP)
def test_torch_sweep(torch, type_name, kwargs, input_shape):
    item = {f"nn.{type_name}": kwargs}
    try:
        module = getattr(torch.nn, type_name)(**{k: tuple(v) if isinstance(v, list) else v for k, v in kwargs.items()})
        shape = torch_forward(torch, module, input_shape)
    except (ValueError, RuntimeError, TypeError) as err:
        return must_reject(item, input_shape, str(err)[:200], "pytorch")
    if 0 in shape:  # grouped ones return an empty tensor where ungrouped ones raise; learnable refuses both
        return must_reject(item, input_shape, f"empty output {shape}", "pytorch")
    assert_row_matches_torch(row(input_shape, item), module, shape)


@pytest.mark.frameworks
@pytest.mark.parametrize("type_name, kwargs, input_shape", KERAS_SWEEP[:60])
def test_keras_sweep_in_the_pytorch_convention(torch, type_name, kwargs, input_shape):
    """Keras-named layers that learnable accepts, counted as PyTorch, against their equivalents."""
    try:
        row(input_shape, {type_name: kwargs}, convention="pytorch")
    except learnable.LearnableError:
        return  # whether Keras refuses it too is test_keras_sweep's business
    assert_torch_equivalent(torch, type_name, kwargs, input_shape)
