"""Weightless resampling, cropping, rearranging and merging layers, and the activations.

(1) Per-layer tables whose expected shapes are written as arithmetic from the frameworks'
documented rules; (2) differential tests that build each layer in Keras 3 (on a
``keras.Input``, never compiled) and in PyTorch (run forward on zeros, batch 1), compared
row by row with ``tests/frameworks.py``; and a seeded random sweep where the framework
decides: if it builds the layer learnable must match it, if it raises learnable must
raise ``LearnableError``. No expected number is copied from learnable's output.
"""

from __future__ import annotations

import math
import os
import random
from typing import Any

import pytest

import learnable
from conftest import assert_formulas_hold, evaluate_formula

os.environ.setdefault("KERAS_BACKEND", "torch")


def last(source: Any) -> Any:
    return learnable.count(source).layers[-1]


# ---- (1) per-layer tables ------------------------------------------------------------------

KERAS_ROWS = [
    ("Input(8, 3) | UpSampling1D()", (8 * 2, 3)),
    ("Input(8, 3) | UpSampling1D(3)", (8 * 3, 3)),
    ("Input(None, 3) | UpSampling1D(3)", (None, 3)),
    ("Input(5, 7, 3) | UpSampling2D((2, 3))", (5 * 2, 7 * 3, 3)),
    ("Input(5, 7, 3) | UpSampling2D(2, interpolation='bilinear')", (5 * 2, 7 * 2, 3)),
    ("Input(3, 5, 7) | UpSampling2D(2, data_format='channels_first')", (3, 5 * 2, 7 * 2)),
    ("Input(3, 5, 7, data_format='channels_first') | UpSampling2D(3)", (3, 5 * 3, 7 * 3)),
    ("Input(2, 3, 4, 5) | UpSampling3D()", (2 * 2, 3 * 2, 4 * 2, 5)),
    ("Input(2, 3, 4, 5) | UpSampling3D((1, 2, 3))", (2 * 1, 3 * 2, 4 * 3, 5)),
    ("Input(8, 3) | Cropping1D()", (8 - 1 - 1, 3)),
    ("Input(8, 3) | Cropping1D((0, 5))", (8 - 0 - 5, 3)),
    ("Input(8, 9, 3) | Cropping2D()", (8, 9, 3)),
    ("Input(8, 9, 3) | Cropping2D(2)", (8 - 2 - 2, 9 - 2 - 2, 3)),
    ("Input(8, 9, 3) | Cropping2D((1, 3))", (8 - 1 - 1, 9 - 3 - 3, 3)),
    ("Input(8, 9, 3) | Cropping2D(((1, 2), (0, 4)))", (8 - 1 - 2, 9 - 0 - 4, 3)),
    ("Input(3, 8, 9) | Cropping2D(((1, 2), (0, 4)), data_format='channels_first')", (3, 8 - 1 - 2, 9 - 0 - 4)),
    ("Input(4, 5, 6, 2) | Cropping3D()", (4 - 2, 5 - 2, 6 - 2, 2)),
    ("Input(4, 5, 6, 2) | Cropping3D(((0, 1), 2, (3, 0)))", (4 - 0 - 1, 5 - 2 - 2, 6 - 3 - 0, 2)),
    ("Input(2, 3, 4) | Permute((3, 1, 2))", (4, 2, 3)),
    ("Input(2, 3) | Permute((2, 1))", (3, 2)),
    ("Input(7) | RepeatVector(4)", (4, 7)),
    ("Input(4, 4, 3) | Rescaling(1 / 255)", (4, 4, 3)),
    ("Input(4, 4, 3) | Rescaling(scale=2.0, offset=-1.0)", (4, 4, 3)),
    ("Input(10, 3) | Masking()", (10, 3)),
    ("Input(10, 3) | ActivityRegularization(l1=0.01)", (10, 3)),
    ("Input(9, 7, 3) | Resizing(4, 12)", (4, 12, 3)),
    ("Input(3, 9, 7) | CenterCrop(4, 5, data_format='channels_first')", (3, 4, 5)),
    ("Input(9, 7, 3) | RandomCrop(4, 5)", (4, 5, 3)),
]

TORCH_ROWS = [
    # nn.Upsample: size, or ⌊n·scale⌋ (F.interpolate)
    ("Input(3, 8, 8) | nn.Upsample(scale_factor=2)", (3, 8 * 2, 8 * 2)),
    ("Input(3, 8, 8) | nn.Upsample(scale_factor=1.5, mode='bilinear')", (3, 8 * 3 // 2, 8 * 3 // 2)),
    ("Input(3, 7, 7) | nn.Upsample(scale_factor=0.5)", (3, 7 // 2, 7 // 2)),
    ("Input(3, 7, 5) | nn.Upsample(scale_factor=(2, 3))", (3, 7 * 2, 5 * 3)),
    ("Input(3, 7, 5) | nn.Upsample(size=(4, 9))", (3, 4, 9)),
    ("Input(3, 7, 5) | nn.Upsample(11, mode='nearest-exact')", (3, 11, 11)),
    ("Input(3, 10) | nn.Upsample(scale_factor=0.7, mode='linear')", (3, 10 * 7 // 10)),
    # 100 × 0.29 = 28.999999999999996 in double precision: PyTorch gives 28, not 29
    ("Input(3, 100) | nn.Upsample(scale_factor=0.29)", (3, 28)),
    ("Input(2, 4, 5, 6) | nn.Upsample(scale_factor=2, mode='trilinear', align_corners=True)", (2, 8, 10, 12)),
    ("Input(2, 9, 9) | nn.Upsample(scale_factor=0.5, mode='area')", (2, 9 // 2, 9 // 2)),
    ("Input(4, 8, 8) | nn.UpsamplingNearest2d(scale_factor=2)", (4, 8 * 2, 8 * 2)),
    ("Input(4, 8) | nn.UpsamplingNearest2d(size=5)", (4, 5)),  # no rank check: 1-D works too
    ("Input(4, 8, 6) | nn.UpsamplingBilinear2d(scale_factor=3)", (4, 8 * 3, 6 * 3)),
    # rearranging
    ("Input(8, 3, 5) | nn.PixelShuffle(2)", (8 // (2 * 2), 3 * 2, 5 * 2)),
    ("Input(7, 27, 2, 3) | nn.PixelShuffle(3)", (7, 27 // (3 * 3), 2 * 3, 3 * 3)),
    ("Input(2, 6, 4) | nn.PixelUnshuffle(2)", (2 * 2 * 2, 6 // 2, 4 // 2)),
    ("Input(6, 5, 5) | nn.ChannelShuffle(3)", (6, 5, 5)),
    ("Input(12, 5) | nn.Unflatten(1, (3, -1))", (3, 12 // 3, 5)),
    # windows: (C·kh·kw, L), L = ((32 − 4)/4 + 1)² = 64
    ("Input(3, 32, 32) | nn.Unfold(4, stride=4)", (3 * 4 * 4, 8 * 8)),
    ("Input(48, 64) | nn.Fold((16, 16), 2, stride=2)", (48 // (2 * 2), 16, 16)),
    ("Input(5, 12) | nn.Unflatten(-1, (2, 2, 3))", (5, 2, 2, 3)),
    ("Input(5, 12) | nn.Unflatten(2, [12])", (5, 12)),
    # activations that change or check the shape
    ("Input(4, 6) | nn.GLU()", (4, 6 // 2)),
    ("Input(4, 6) | nn.GLU(1)", (4 // 2, 6)),
    ("Input(4, 6) | nn.GLU(-2)", (4 // 2, 6)),
    ("Input(3, 4, 5) | nn.Softmax2d()", (3, 4, 5)),
    ("Input(3, 4) | nn.Hardtanh(min_value=-2.0)", (3, 4)),
    ("Input(3, 4) | nn.Threshold(0.1, 20.0)", (3, 4)),
]


@pytest.mark.parametrize("source, shape", KERAS_ROWS + TORCH_ROWS, ids=[r[0] for r in KERAS_ROWS + TORCH_ROWS])
def test_rows(source, shape):
    row = last(source)
    assert row.output_shape == shape
    assert (row.params, row.trainable, row.non_trainable, row.buffers, row.weights) == (0, 0, 0, 0, ())
    assert_formulas_hold(row)


@pytest.mark.parametrize("source, axis_formula", [
    ("Input(8, 3) | UpSampling1D(3)", "steps: 8×3 = 24"),
    ("Input(8, 9, 3) | Cropping2D(((1, 2), (0, 4)))", "height: 8 − 1 − 2 = 5; width: 9 − 4 = 5"),
    ("Input(3, 7, 7) | nn.Upsample(scale_factor=0.5)", "height, width: ⌊7/2⌋ = 3"),
    ("Input(3, 8, 8) | nn.Upsample(scale_factor=1.5)", "height, width: ⌊(8×3)/2⌋ = 12"),
    ("Input(8, 3, 5) | nn.PixelShuffle(2)", "channels: (8/(2×2)) = 2; height: 3×2 = 6; width: 5×2 = 10"),
    ("Input(12, 5) | nn.Unflatten(1, (3, -1))", "dim 1: (12/3) = 4"),
    ("Input(4, 6) | nn.GLU()", "dim -1: (6/2) = 3"),
])
def test_shape_arithmetic_is_shown(source, axis_formula):
    assert last(source).shape_formula == axis_formula


def test_the_double_precision_scale_still_evaluates_to_its_size():
    row = last("Input(3, 100) | nn.Upsample(scale_factor=0.29)")
    assert evaluate_formula(row.shape_formula) == 28 == math.floor(100 * 0.29)


def test_upsample_sizes_follow_double_precision():
    """⌊n·s⌋ in floats (F.interpolate's arithmetic) for scales that are not exact binary fractions."""
    for scale in (0.29, 0.7, 1 / 3, 0.1, 2.2, 0.57, 1.15, 3.3, 0.9):
        for n in range(1, 130):
            expected = math.floor(float(n) * scale)
            source = f"Input(1, {n}) | nn.Upsample(scale_factor={scale!r})"
            if expected < 1:
                with pytest.raises(learnable.LearnableError, match="leaves no output"):
                    last(source)
                continue
            row = last(source)
            assert row.output_shape == (1, expected), (n, scale)
            assert_formulas_hold(row)


def test_dot_rows():
    def dot(a, b, axes):
        spec = {"inputs": {"a": a, "b": b}, "layers": [{"Dot": {"axes": axes, "inputs": ["a", "b"]}}]}
        return last(spec).output_shape

    assert dot([5], [5], 1) == (1,)  # nothing left: Keras gives (1,)
    assert dot([3, 4], [5, 4], 2) == (3, 5)
    assert dot([3, 4], [4, 5], [2, 1]) == (3, 5)
    assert dot([3, 4], [4, 5], [-1, -2]) == (3, 5)
    assert dot([2, 3, 4], [2, 4, 5], [3, 2]) == (2, 3, 2, 5)  # not batched over axis 1
    assert dot([4], [4, 5], [1, 1]) == (5,)
    assert dot([3, 4], [3, 4], -5) == (4, 4)  # Keras wraps a negative int: -5 mod 3 (rank with batch) = 1


def test_torch_distance_rows():
    def merged(layer, a, b):
        return last({"inputs": {"a": a, "b": b}, "layers": [{layer: {"inputs": ["a", "b"]}}]}).output_shape

    assert merged("CosineSimilarity", [3, 4], [3, 4]) == (4,)
    assert merged("CosineSimilarity", [3, 4], [1, 4]) == (4,)
    assert merged("PairwiseDistance", [3, 4], [3, 4]) == (3,)


REJECTED = [
    ("Input(8, 3) | Cropping1D((4, 4))", "leaves nothing"),
    ("Input(8, 9, 3) | Cropping2D((1, 5))", "leaves nothing"),
    ("Input(8, 9, 3) | Cropping2D(-1)", "cropping"),
    ("Input(8, 9, 3) | UpSampling1D()", "2-D"),
    ("Input(8, 9, 3) | UpSampling2D(0)", "size"),
    ("Input(2, 3, 4) | Permute((1, 2))", "orders 2 axes"),
    ("Input(2, 3, 4) | Permute((0, 1, 2))", "permutation"),
    ("Input(2, 3) | RepeatVector(3)", "1-D"),
    ("Input(4) | Lambda(lambda x: x * 2)", "replace it with the layer it stands for (a Reshape, say) or drop it"),
    ("Input(4) | Lambda(lambda x: x[:, :2], output_shape=(2,))", "never runs"),
    ("Input(3, 8) | nn.Upsample()", "exactly one of size and scale_factor"),
    ("Input(3, 8) | nn.Upsample(4, 2)", "exactly one of size and scale_factor"),
    ("Input(3, 8) | nn.Upsample(scale_factor=2, mode='bilinear')", "needs 2 spatial axes"),
    ("Input(3, 8) | nn.Upsample(scale_factor=2, mode='Bilinear')", "exactly"),
    ("Input(3, 8) | nn.Upsample(scale_factor=2, mode='lanczos')", "antialias"),
    ("Input(3, 8) | nn.Upsample(scale_factor=2, align_corners=False)", "align_corners"),
    ("Input(3, 8) | nn.Upsample(4, recompute_scale_factor=True)", "recompute_scale_factor"),
    ("Input(3, 8, 8) | nn.Upsample(size=(4, 4, 4))", "3 values"),
    ("Input(3, 8) | nn.Upsample(scale_factor=0.1)", "leaves no output"),
    ("Input(8) | nn.Upsample(scale_factor=2)", "1 to 3 spatial axes"),
    ("Input(6, 3, 3) | nn.PixelShuffle(2)", "not divisible"),
    ("Input(8, 3) | nn.PixelShuffle(2)", "channels, height and width"),
    ("Input(2, 5, 4) | nn.PixelUnshuffle(2)", "height 5"),
    ("Input(5, 4) | nn.ChannelShuffle(2)", "not divisible"),
    ("Input(12) | nn.Unflatten(1, (5, -1))", "multiply up"),
    ("Input(12) | nn.Unflatten(0, (1, 12))", "batch"),
    ("Input(12) | nn.Unflatten(1, (-1, -1))", "one may be -1"),
    ("Input(4, 5) | nn.GLU()", "even"),
    ("Input(4, 6) | nn.GLU(0)", "batch"),
    ("Input(4, 6) | nn.GLU(3)", "out of range"),
    ("Input(3) | nn.Softmax2d()", "(channels, height, width)"),
    ("Input(3) | nn.Threshold(0.1)", "value"),
]


@pytest.mark.parametrize("source, message", REJECTED, ids=[r[0] for r in REJECTED])
def test_rejected(source, message):
    with pytest.raises(learnable.LearnableError) as info:
        learnable.count(source)
    assert message in str(info.value)


def test_dot_rejects_the_batch_axis_and_unequal_sizes():
    for a, b, axes, message in (([3, 4], [3, 4], 0, "batch"), ([4], [4], -2, "batch"),
                                ([3, 4], [3, 5], -1, "differ"), ([3, 4], [3, 4], [1, 3], "out of range")):
        spec = {"inputs": {"a": a, "b": b}, "layers": [{"Dot": {"axes": axes, "inputs": ["a", "b"]}}]}
        with pytest.raises(learnable.LearnableError, match=message):
            learnable.count(spec)


@pytest.mark.parametrize("convention", ["keras", "pytorch"])
def test_no_weights_in_either_convention(convention):
    for source, shape in KERAS_ROWS + TORCH_ROWS:
        report = learnable.count(source, convention=convention)
        assert report.layers[-1].output_shape == shape, source
        assert (report.total_params, report.total_buffers, report.layers[-1].weights) == (0, 0, ()), source


# ---- (2) differential tests: the framework is the oracle -------------------------------------


def spec_for(inputs: list, layer: str, kwargs: dict) -> dict:
    """One layer on one input, or on several named inputs (a merge)."""
    if len(inputs) == 1:
        return {"input": list(inputs[0]), "layers": [{layer: dict(kwargs)}]}
    names = [f"x{i}" for i in range(len(inputs))]
    return {"inputs": {n: list(s) for n, s in zip(names, inputs)}, "layers": [{layer: {**kwargs, "inputs": names}}]}


def keras_built(inputs: list, layer_name: str, kwargs: dict) -> tuple[Any, tuple]:
    """The layer built on keras.Input(s): (layer, output shape without batch). Raises what Keras raises."""
    keras = pytest.importorskip("keras")
    tensors = [keras.Input(shape=tuple(s)) for s in inputs]
    layer = getattr(keras.layers, layer_name)(**kwargs)
    out = layer(tensors if len(tensors) > 1 else tensors[0])
    if layer_name == "Dot":  # Dot builds symbolically over the batch axis and fails only when run
        np = pytest.importorskip("numpy")
        layer([np.zeros((1, *s), "float32") for s in inputs])
    return layer, tuple(out.shape[1:])


def torch_built(inputs: list, module_name: str, kwargs: dict) -> tuple[Any, tuple]:
    """The module run forward on zeros (batch 1): (module, output shape without batch)."""
    torch = pytest.importorskip("torch")
    module = getattr(torch.nn, module_name)(**{k: tuple(v) if isinstance(v, list) else v for k, v in kwargs.items()})
    with torch.no_grad():
        out = module(*(torch.zeros(1, *s) for s in inputs))
    return module, tuple(out.shape[1:])


def check(framework: str, inputs: list, name: str, kwargs: dict) -> str:
    """The framework decides: if it builds the layer, learnable's row must match it; if it
    raises, learnable must raise LearnableError."""
    from frameworks import assert_row_matches_keras, assert_row_matches_torch

    spec = spec_for(inputs, name if framework == "keras" else f"nn.{name}", kwargs)
    try:
        built, shape = (keras_built if framework == "keras" else torch_built)(inputs, name, kwargs)
    except Exception as framework_error:  # ValueError, TypeError, IndexError, RuntimeError, ...
        try:
            report = learnable.count(spec)
        except learnable.LearnableError:
            return "rejected"
        pytest.fail(f"{framework} rejects {inputs} + {name}({kwargs}) ({framework_error!s:.200}), "
                    f"but learnable gives {report.layers[-1].output_shape}")
    if 0 in shape:  # PyTorch's area mode pools to an empty tensor; learnable refuses an empty output
        with pytest.raises(learnable.LearnableError, match="leaves no output"):
            learnable.count(spec)
        return "rejected"
    try:
        report = learnable.count(spec)
    except learnable.LearnableError as err:
        pytest.fail(f"{framework} builds {inputs} + {name}({kwargs}) (output {shape}), but learnable raises: {err}")
    (assert_row_matches_keras if framework == "keras" else assert_row_matches_torch)(report.layers[-1], built, shape)
    return "built"


KERAS_CASES = [
    ([[8, 3]], "UpSampling1D", {}), ([[None, 3]], "UpSampling1D", {"size": 4}),
    ([[5, 7, 3]], "UpSampling2D", {"size": [2, 3]}), ([[5, 7, 3]], "UpSampling2D", {"interpolation": "bicubic"}),
    ([[3, 5, 7]], "UpSampling2D", {"size": 3, "data_format": "channels_first"}),
    ([[2, 3, 4, 5]], "UpSampling3D", {"size": [1, 2, 3]}),
    ([[5, 2, 3, 4]], "UpSampling3D", {"data_format": "channels_first"}),
    ([[8, 3]], "Cropping1D", {}), ([[8, 3]], "Cropping1D", {"cropping": [0, 5]}),
    ([[8, 3]], "Cropping1D", {"cropping": 4}),
    ([[8, 9, 3]], "Cropping2D", {"cropping": [[1, 2], [0, 4]]}), ([[8, 9, 3]], "Cropping2D", {"cropping": [1, 3]}),
    ([[3, 8, 9]], "Cropping2D", {"cropping": 2, "data_format": "channels_first"}),
    ([[None, 9, 3]], "Cropping2D", {"cropping": 2}), ([[4, 5, 6, 2]], "Cropping3D", {}),
    ([[2, 4, 5, 6]], "Cropping3D", {"cropping": [[0, 1], 2, [3, 0]], "data_format": "channels_first"}),
    ([[2, 3, 4]], "Permute", {"dims": [3, 1, 2]}), ([[2, None]], "Permute", {"dims": [2, 1]}),
    ([[7]], "RepeatVector", {"n": 4}), ([[4, 4, 3]], "Rescaling", {"scale": 0.5, "offset": 1.0}),
    ([[10, 3]], "Masking", {"mask_value": -1.0}), ([[10, 3]], "ActivityRegularization", {"l1": 0.1, "l2": 0.2}),
    ([[5], [5]], "Dot", {"axes": 1}), ([[3, 4], [5, 4]], "Dot", {"axes": 2}),
    ([[3, 4], [4, 5]], "Dot", {"axes": [2, 1], "normalize": True}), ([[3, 4], [4, 5]], "Dot", {"axes": [-1, -2]}),
    ([[2, 3, 4], [2, 4, 5]], "Dot", {"axes": [3, 2]}), ([[2, 3, 4], [4]], "Dot", {"axes": [3, 1]}),
    ([[4], [4, 5]], "Dot", {"axes": [1, 1]}), ([[3, 4], [3, 4]], "Dot", {"axes": -5}),
    ([[3, 4], [3, 4]], "Dot", {"axes": 0}), ([[4], [4]], "Dot", {"axes": -2}), ([[3, 4], [3, 5]], "Dot", {"axes": -1}),
    ([[8, 8, 3]], "Cropping2D", {"cropping": [4, 0]}), ([[2, 3]], "RepeatVector", {"n": 2}),
    ([[2, 3, 4]], "Permute", {"dims": [2, 1]}), ([[8, 3]], "UpSampling2D", {}),
    ([[9, 7, 3]], "Resizing", {"height": 4, "width": 12, "interpolation": "nearest"}),
    ([[3, 9, 7]], "Resizing", {"height": 4, "width": 5, "data_format": "channels_first"}),
    ([[9, 7, 3]], "CenterCrop", {"height": 4, "width": 5}), ([[3, 4, 3]], "CenterCrop", {"height": 8, "width": 6}),
    ([[9, 7, 3]], "RandomCrop", {"height": 4, "width": 5, "seed": 1}),
    ([[4]], "ReLU", {"max_value": 6.0}), ([[4]], "LeakyReLU", {"negative_slope": 0.1}), ([[4]], "ELU", {}),
    ([[4, 5]], "Softmax", {"axis": 1}), ([[4]], "Activation", {"activation": "gelu"}),
]


@pytest.mark.frameworks
@pytest.mark.parametrize("inputs, name, kwargs", KERAS_CASES, ids=lambda v: str(v))
def test_keras_cases(inputs, name, kwargs):
    check("keras", inputs, name, kwargs)


TORCH_CASES = [
    ([[3, 8, 8]], "Upsample", {"scale_factor": 2}), ([[3, 100]], "Upsample", {"scale_factor": 0.29}),
    ([[3, 10]], "Upsample", {"scale_factor": 0.7, "mode": "linear", "align_corners": True}),
    ([[3, 7, 5]], "Upsample", {"scale_factor": [2, 1.5], "mode": "bicubic"}),
    ([[3, 7, 5]], "Upsample", {"size": [4, 9], "mode": "bilinear"}),
    ([[2, 9, 9]], "Upsample", {"scale_factor": 0.5, "mode": "area"}),
    ([[2, 4, 5, 6]], "Upsample", {"size": 3, "mode": "trilinear"}),
    ([[2, 4, 5]], "Upsample", {"scale_factor": 2.5, "mode": "nearest-exact", "recompute_scale_factor": True}),
    ([[3, 8]], "Upsample", {"scale_factor": 0.1}), ([[3, 8]], "Upsample", {"scale_factor": 2, "mode": "lanczos"}),
    ([[3, 8]], "Upsample", {"size": 4, "recompute_scale_factor": True}), ([[3, 8]], "Upsample", {}),
    ([[3, 1, 3]], "Upsample", {"scale_factor": 0.25, "mode": "area"}),  # PyTorch gives an empty (3, 0, 0)
    ([[4, 8, 8]], "UpsamplingNearest2d", {"scale_factor": 2}), ([[4, 8]], "UpsamplingNearest2d", {"size": 5}),
    ([[4, 8, 6]], "UpsamplingBilinear2d", {"scale_factor": 3}), ([[4, 8]], "UpsamplingBilinear2d", {"size": 3}),
    ([[8, 3, 5]], "PixelShuffle", {"upscale_factor": 2}), ([[7, 27, 2, 3]], "PixelShuffle", {"upscale_factor": 3}),
    ([[6, 3, 3]], "PixelShuffle", {"upscale_factor": 2}), ([[2, 6, 4]], "PixelUnshuffle", {"downscale_factor": 2}),
    ([[2, 5, 4]], "PixelUnshuffle", {"downscale_factor": 2}), ([[6, 5, 5]], "ChannelShuffle", {"groups": 3}),
    ([[5, 4]], "ChannelShuffle", {"groups": 2}), ([[12, 5]], "Unflatten", {"dim": 1, "unflattened_size": [3, -1]}),
    ([[5, 12]], "Unflatten", {"dim": -1, "unflattened_size": [2, 2, 3]}),
    ([[12]], "Unflatten", {"dim": 1, "unflattened_size": [5, -1]}),
    ([[4, 6]], "GLU", {}), ([[4, 6]], "GLU", {"dim": 1}),
    ([[4, 5]], "GLU", {}), ([[4, 6]], "GLU", {"dim": 3}), ([[3, 4, 5]], "Softmax2d", {}), ([[3, 4]], "Softmax2d", {}),
    ([[3]], "Softmax2d", {}), ([[3, 4, 5, 6]], "Softmax2d", {}),
    ([[3, 4], [3, 4]], "CosineSimilarity", {}), ([[3, 4], [1, 4]], "CosineSimilarity", {"dim": -1}),
    ([[4], [4]], "CosineSimilarity", {}), ([[3, 4], [5, 4]], "CosineSimilarity", {}),
    ([[3, 4], [3, 4]], "PairwiseDistance", {}), ([[3, 4], [3, 4]], "PairwiseDistance", {"keepdim": True}),
    ([[4], [4]], "PairwiseDistance", {}), ([[3, 4], [3, 1]], "PairwiseDistance", {}),
    ([[3, 4]], "Hardtanh", {"min_value": -2.0}), ([[3, 4]], "Threshold", {"threshold": 0.1, "value": 2.0}),
    ([[3, 4]], "Hardswish", {}), ([[3, 4]], "Softmax", {"dim": 1}), ([[3, 4]], "RReLU", {"lower": 0.1}),
    ([[3, 8, 8]], "ReflectionPad2d", {"padding": 4}), ([[3, 8, 9]], "ReflectionPad2d", {"padding": (1, 2, 3, 0)}),
    ([[3, 8]], "ReflectionPad1d", {"padding": (2, 3)}), ([[2, 4, 5, 6]], "ReflectionPad3d", {"padding": 1}),
    ([[3, 8, 9]], "ReplicationPad2d", {"padding": (0, 2, 1, 1)}), ([[3, 8]], "ReplicationPad1d", {"padding": 2}),
    ([[2, 4, 5, 6]], "ReplicationPad3d", {"padding": (1, 0, 2, 0, 0, 3)}),
    ([[3, 8, 9]], "ConstantPad2d", {"padding": (1, 2, 3, 4), "value": 0.5}),
    ([[3, 8]], "ConstantPad1d", {"padding": -2, "value": 1.0}),  # a negative amount crops, as ZeroPad's
    ([[2, 4, 5, 6]], "ConstantPad3d", {"padding": 2, "value": 3.0}),
    ([[3, 8, 9]], "CircularPad2d", {"padding": (1, 2, 3, 0)}), ([[3, 8]], "CircularPad1d", {"padding": 3}),
    ([[3, 4, 4]], "ReflectionPad2d", {"padding": 4}),  # PyTorch refuses reflecting more than size − 1
    ([[3, 4, 4]], "ReflectionPad2d", {"padding": 3}), ([[2, 3]], "CircularPad1d", {"padding": 3}),
    ([[2, 3]], "CircularPad1d", {"padding": 4}),
    ([[3, 32, 32]], "Unfold", {"kernel_size": 4, "stride": 4}),
    ([[5, 17, 11]], "Unfold", {"kernel_size": (3, 2), "dilation": (2, 1), "padding": (1, 2), "stride": (2, 3)}),
    ([[2, 3, 3]], "Unfold", {"kernel_size": 4}),  # (a rank-2 example PyTorch would read as unbatched)
    ([[48, 64]], "Fold", {"output_size": (16, 16), "kernel_size": 2, "stride": 2}),
    ([[12, 30]], "Fold", {"output_size": (7, 8), "kernel_size": (2, 3), "padding": 1, "stride": (2, 1)}),
    ([[10, 64]], "Fold", {"output_size": (16, 16), "kernel_size": 2, "stride": 2}),
    ([[48, 63]], "Fold", {"output_size": (16, 16), "kernel_size": 2, "stride": 2}),
]


@pytest.mark.frameworks
@pytest.mark.filterwarnings("ignore:keyword argument `min_value` is deprecated:FutureWarning")
@pytest.mark.parametrize("inputs, name, kwargs", TORCH_CASES, ids=lambda v: str(v))
def test_torch_cases(inputs, name, kwargs):
    check("torch", inputs, name, kwargs)


@pytest.mark.frameworks
def test_the_comparison_can_fail():
    from frameworks import assert_row_matches_keras, assert_row_matches_torch

    row = last("Input(5, 7, 3) | UpSampling2D(2)")
    layer, shape = keras_built([[5, 7, 3]], "UpSampling2D", {"size": 3})
    with pytest.raises(AssertionError):
        assert_row_matches_keras(row, layer, shape)
    row = last("Input(3, 8) | nn.Upsample(scale_factor=2)")
    module, shape = torch_built([[3, 8]], "Upsample", {"scale_factor": 3})
    with pytest.raises(AssertionError):
        assert_row_matches_torch(row, module, shape)


@pytest.mark.frameworks
def test_deliberate_refusals_where_a_framework_reads_the_batch_axis_as_data():
    """Keras's CenterCrop takes a 2-D example as an unbatched image whose height is the batch
    axis; PyTorch's Unflatten splits the batch axis itself. learnable refuses both."""
    _, shape = keras_built([[9, 7]], "CenterCrop", {"height": 4, "width": 5})
    assert shape == (5, 7)  # the width 5 landed on axis 1: Keras set the batch axis to height 4
    with pytest.raises(learnable.LearnableError, match="3-D input"):
        last("Input(9, 7) | CenterCrop(4, 5)")
    _, shape = torch_built([[12]], "Unflatten", {"dim": 0, "unflattened_size": [1, 1]})
    assert shape == (1, 12)
    with pytest.raises(learnable.LearnableError, match="batch axis"):
        last("Input(12) | nn.Unflatten(0, (1, 1))")


@pytest.mark.frameworks
def test_keras_top_level_channels_first():
    from frameworks import assert_row_matches_keras

    keras = pytest.importorskip("keras")
    saved = keras.config.image_data_format()
    keras.config.set_image_data_format("channels_first")
    try:
        for name, kwargs in (("UpSampling2D", {"size": [2, 3]}), ("Cropping2D", {"cropping": [[1, 0], [2, 1]]})):
            layer, shape = keras_built([[3, 6, 7]], name, kwargs)
            spec = {**spec_for([[3, 6, 7]], name, kwargs), "data_format": "channels_first"}
            assert_row_matches_keras(last(spec), layer, shape)
    finally:
        keras.config.set_image_data_format(saved)


# ---- (2b) the seeded random sweep ------------------------------------------------------------


def _dims(rng: random.Random, rank: int, low: int = 1, high: int = 7, unknown: float = 0.0) -> list:
    return [None if rng.random() < unknown else rng.randint(low, high) for _ in range(rank)]


def _keras_resampling(rng: random.Random) -> tuple[list, str, dict]:
    kind, rank = rng.choice(["UpSampling", "Cropping"]), rng.randint(1, 3)
    in_rank = rank + 1 if rng.random() < 0.9 else rng.choice([rank, rank + 2])
    kwargs: dict[str, Any] = {}
    if kind == "UpSampling":
        kwargs["size"] = rng.randint(1, 3) if rank == 1 or rng.random() < 0.5 else _dims(rng, rank, 1, 3)
    else:
        pick = rng.random()
        kwargs["cropping"] = (rng.randint(0, 3) if pick < 0.3 else _dims(rng, 2, 0, 3) if rank == 1 else
                              _dims(rng, rank, 0, 3) if pick < 0.6 else [_dims(rng, 2, 0, 3) for _ in range(rank)])
    if rank > 1 and rng.random() < 0.6:
        kwargs["data_format"] = rng.choice(["channels_last", "channels_first"])
    return [_dims(rng, in_rank, unknown=0.1)], f"{kind}{rank}D", kwargs


def _keras_rearranging(rng: random.Random) -> tuple[list, str, dict]:
    kind = rng.choice(["Permute", "RepeatVector", "Dot", "Dot"])
    if kind == "Permute":
        rank = rng.randint(1, 4)
        dims = list(range(1, rank + 1 + rng.choice([0, 0, 0, 0, 1, -1])))
        rng.shuffle(dims)
        return [_dims(rng, rank, unknown=0.1)], kind, {"dims": dims}
    if kind == "RepeatVector":
        return [_dims(rng, rng.choice([1, 1, 1, 2]))], kind, {"n": rng.randint(1, 5)}
    shapes = [_dims(rng, rng.randint(1, 3), 2, 3) for _ in range(2)]  # sizes 2-3: the summed axes often agree
    axes = rng.randint(-4, 4) if rng.random() < 0.5 else [rng.randint(-4, 4), rng.randint(-4, 4)]
    return shapes, kind, {"axes": axes}


def _torch_upsampling(rng: random.Random) -> tuple[list, str, dict]:
    name = rng.choice(["Upsample", "Upsample", "Upsample", "UpsamplingNearest2d", "UpsamplingBilinear2d"])
    rank = rng.choice([1, 2, 3, 3, 2, 1, 0])
    scales = [2, 3, 0.5, 1.5, 2.5, 0.29, 0.7, 0.25, 1.0, 0.3333333333333333, 1.1]
    kwargs: dict[str, Any] = {}
    given = rng.random()
    if given < 0.5 or given > 0.97:
        kwargs["scale_factor"] = rng.choice(scales) if rng.random() < 0.7 else [rng.choice(scales) for _ in range(rank)]
    if 0.45 < given:
        kwargs["size"] = rng.randint(1, 9) if rng.random() < 0.6 else _dims(rng, rank + (rng.random() < 0.1), 1, 9)
    if name == "Upsample":
        kwargs["mode"] = rng.choice(["nearest", "nearest-exact", "area", "linear", "bilinear", "bicubic", "trilinear"])
        if rng.random() < 0.3:
            kwargs["align_corners"] = rng.choice([True, False])
        if rng.random() < 0.2:
            kwargs["recompute_scale_factor"] = rng.choice([True, False])
    return [[rng.randint(1, 3), *_dims(rng, rank, 1, 12)]], name, kwargs


def _torch_rearranging(rng: random.Random) -> tuple[list, str, dict]:
    name = rng.choice(["PixelShuffle", "PixelUnshuffle", "ChannelShuffle", "Unflatten", "GLU", "Softmax2d"])
    if name in ("PixelShuffle", "PixelUnshuffle"):
        r = rng.randint(1, 3)
        # a rank-2 example would make PyTorch read the batch axis as the channels
        shape = _dims(rng, rng.choice([1, 3, 3, 4]), 1, 6)
        if len(shape) >= 3 and rng.random() < 0.6:
            shape[-3] *= r * r if name == "PixelShuffle" else 1
            shape[-2:] = [n * r for n in shape[-2:]] if name == "PixelUnshuffle" else shape[-2:]
        key = "upscale_factor" if name == "PixelShuffle" else "downscale_factor"
        return [shape], name, {key: r}
    rank = rng.randint(1, 4)
    shape = _dims(rng, rank, 1, 8)
    if name == "ChannelShuffle":
        return [shape], name, {"groups": rng.randint(1, 4)}
    if name == "Softmax2d":
        return [shape], name, {}
    # dims of an example: 1..rank or −rank..−1 (dim 0, the batch, is learnable's deliberate refusal)
    dim = rng.choice([*range(1, rank + 1), *range(-rank, 0)] + [rank + 1] * (rng.random() < 0.1))
    if name == "GLU":
        return [shape], name, {"dim": dim}
    size = shape[dim - 1 if dim > 0 else dim] if abs(dim) <= rank else 6
    factor = rng.choice([d for d in range(1, size + 1) if size % d == 0])
    sizes = rng.choice([[factor, size // factor], [factor, -1], [-1, size // factor], [size], [factor, size]])
    return [shape], name, {"dim": dim, "unflattened_size": sizes}


SWEEPS = {
    "keras-resampling": ("keras", _keras_resampling), "keras-rearranging": ("keras", _keras_rearranging),
    "torch-upsampling": ("torch", _torch_upsampling), "torch-rearranging": ("torch", _torch_rearranging),
}


@pytest.mark.frameworks
@pytest.mark.parametrize("sweep", list(SWEEPS))
def test_random_sweep(sweep):
    """50 seeded configurations per sweep (200 in all); each sweep must both build and reject."""
    framework, generate = SWEEPS[sweep]
    outcomes = []
    for seed in range(50):
        rng = random.Random(f"{sweep}-{seed}")
        inputs, name, kwargs = generate(rng)
        outcomes.append(check(framework, inputs, name, kwargs))
    assert {"built", "rejected"} <= set(outcomes), outcomes


# ---- signatures: positional values bind as in the framework ----------------------------------

KERAS_NAMES = ["UpSampling1D", "UpSampling2D", "UpSampling3D", "Cropping1D", "Cropping2D", "Cropping3D", "Permute",
               "RepeatVector", "Rescaling", "ActivityRegularization", "Masking", "Dot", "Resizing", "CenterCrop",
               "RandomCrop", "Activation", "ReLU", "LeakyReLU", "ELU", "Softmax"]
TORCH_NAMES = ["Upsample", "UpsamplingNearest2d", "UpsamplingBilinear2d", "Unflatten", "PixelShuffle",
               "PixelUnshuffle", "ChannelShuffle", "CosineSimilarity", "PairwiseDistance"]


def _parameters(cls: Any) -> list[str]:
    import inspect

    skip = {"self", "kwargs", "args", "device", "dtype", "name"}
    return [p for p in inspect.signature(cls.__init__).parameters if p not in skip]


def _rule_args(name: str, framework: str) -> list[str]:
    from learnable.rules import lookup

    rule = lookup(name if framework == "keras" else f"nn.{name}")
    assert rule.framework == framework, name
    return [a.name for a in rule.args]


@pytest.mark.frameworks
@pytest.mark.parametrize("name", KERAS_NAMES)
def test_keras_signatures(name):
    keras = pytest.importorskip("keras")
    expected = _parameters(getattr(keras.layers, name))
    extra = {"LeakyReLU": ["alpha"]}.get(name, [])  # Keras 2's spelling, still taken through **kwargs
    assert _rule_args(name, "keras") == expected + extra


@pytest.mark.frameworks
@pytest.mark.parametrize("name", TORCH_NAMES)
def test_torch_signatures(name):
    torch = pytest.importorskip("torch")
    assert _rule_args(name, "pytorch") == _parameters(getattr(torch.nn, name))


@pytest.mark.frameworks
@pytest.mark.filterwarnings("ignore:Implicit dimension choice:UserWarning")
def test_every_weightless_torch_activation_is_known_with_its_signature():
    """Every module of torch.nn.modules.activation that owns no parameters has a rule with
    torch's own signature, and counts like torch on a (3, 4) input."""
    torch = pytest.importorskip("torch")
    from torch.nn.modules import activation

    required = {"Threshold": {"threshold": 0.1, "value": 2.0}}
    for name in activation.__all__:
        cls = getattr(activation, name)
        try:
            module = cls(**required.get(name, {}))
        except TypeError:  # MultiheadAttention needs sizes, and owns weights
            continue
        if any(True for _ in module.parameters()):  # PReLU: a family with weights
            continue
        assert _rule_args(name, "pytorch") == _parameters(cls), name
        check("torch", [[3, 4]], name, required.get(name, {}))
