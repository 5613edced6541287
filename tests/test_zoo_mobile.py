"""The mobile zoo specs, zoo:mobilenet_v2 and zoo:efficientnet_b0, against keras.applications,
and the Keras Normalization (preprocessing) layer that EfficientNet starts with.

The models are compared to the parameter: totals, the trainable split, the sorted per-layer
counts, and, stronger, the multiset of (layer type, output shape, tensors) over every layer,
so a missing zero-parameter layer (a padding, a Reshape, a Multiply) is caught too. Residual
sums make Keras's layer order differ from the spec's, hence multisets. Expected numbers are
CONVENTIONS.md §3.1, hand arithmetic, or Keras itself; none is read from learnable's output.
"""

from __future__ import annotations

import math
import os
from collections import Counter

import pytest
from conftest import assert_formulas_hold, run_cli

import learnable

os.environ.setdefault("KERAS_BACKEND", "torch")

# zoo name → (keras.applications model, total params, non-trainable params); CONVENTIONS.md §3.1
PUBLISHED = {
    "mobilenet_v2": ("MobileNetV2", 3_538_984, 34_112),  # BN moving stats 2 × 17,056
    "efficientnet_b0": ("EfficientNetB0", 5_330_571, 42_023),  # BN 2 × 21,008 + Normalization 3 + 3 + 1
}


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_totals_and_printed_arithmetic(name):
    _, total, frozen = PUBLISHED[name]
    report = learnable.count(f"zoo:{name}")
    assert report.convention == "keras"
    assert (report.total_params, report.trainable_params, report.non_trainable_params, report.total_buffers) == (
        total, total - frozen, frozen, 0)
    for row in report.layers:
        assert_formulas_hold(row)


def test_a_shown_spec_counts_the_same(tmp_path):
    shown = run_cli("zoo", "--show", "efficientnet_b0")
    assert shown.returncode == 0 and shown.stdout.startswith("# EfficientNet-B0")
    (tmp_path / "mine.yaml").write_text(shown.stdout)
    assert learnable.count(tmp_path / "mine.yaml").total_params == PUBLISHED["efficientnet_b0"][1]


def test_block_subtotals_add_up():
    report = learnable.count("zoo:mobilenet_v2")
    top = [b for b in report.blocks if b.parent is None]
    outside = sum(row.params for row in report.layers if row.block is None)
    assert outside + sum(b.params for b in top) == report.total_params
    # MobileNetV2's seventeen inverted residual blocks: the first (no expansion) and sixteen more
    assert len(top) == 17


def test_pytorch_convention_counts_normalization_as_keras_does():
    keras, torch = learnable.count("zoo:efficientnet_b0"), learnable.count("zoo:efficientnet_b0", convention="pytorch")
    norm = torch.layer("normalization")
    assert (norm.params, norm.trainable, norm.buffers) == (7, 0, 0)
    assert "no exact equivalent" in norm.note and "torch.nn has no Normalization" in norm.note
    bn_layers = sum(row.type == "BatchNormalization" for row in keras.layers)
    # torch: BN moving stats become buffers (+1 num_batches_tracked each); Normalization stays a param
    assert torch.total_params == keras.trainable_params + 7
    assert torch.total_buffers == keras.non_trainable_params - 7 + bn_layers


# ---- against keras.applications -------------------------------------------------------------


@pytest.fixture(scope="module", params=sorted(PUBLISHED))
def pair(request):
    keras = pytest.importorskip("keras")
    name = request.param
    return name, learnable.count(f"zoo:{name}"), getattr(keras.applications, PUBLISHED[name][0])(weights=None)


def keras_layer(layer) -> tuple:
    kind = "Input" if type(layer).__name__ == "InputLayer" else type(layer).__name__
    tensors = tuple((w.name, tuple(w.shape), w.trainable) for w in layer.weights)
    return kind, tuple(layer.output.shape[1:]), tensors


def learnable_layer(row) -> tuple:
    return row.type, tuple(row.output_shape), tuple((w.name, tuple(w.shape), w.trainable) for w in row.weights)


@pytest.mark.frameworks
def test_counts_match_keras_applications(pair):
    name, report, model = pair
    trainable = sum(math.prod(w.shape) for w in model.trainable_weights)
    frozen = sum(math.prod(w.shape) for w in model.non_trainable_weights)
    assert (model.count_params(), frozen) == PUBLISHED[name][1:]  # the reference itself
    assert (report.total_params, report.trainable_params, report.non_trainable_params) == (
        model.count_params(), trainable, frozen)
    ours = sorted(row.params for row in report.layers if row.params)
    theirs = sorted(layer.count_params() for layer in model.layers if layer.count_params())
    assert ours == theirs
    assert report.layers[-1].output_shape == tuple(model.output.shape[1:])


@pytest.mark.frameworks
def test_every_layer_matches_keras_as_a_multiset(pair):
    _, report, model = pair
    ours = Counter(learnable_layer(row) for row in report.layers)
    theirs = Counter(keras_layer(layer) for layer in model.layers)
    assert ours - theirs == Counter() and theirs - ours == Counter()


# ---- the Normalization layer ---------------------------------------------------------------


def row(source: str, convention: str | None = None):
    return learnable.count(source, convention=convention).layers[-1]


# (network, params, [(weight, shape)]): hand arithmetic; every weight is non-trainable
NORMALIZATION = [
    ("Input(224, 224, 3) | Normalization()", 3 + 3 + 1, [("mean", (3,)), ("variance", (3,)), ("count", ())]),
    ("Input(224, 224, 3) | Normalization(axis=3)", 7, [("mean", (3,)), ("variance", (3,)), ("count", ())]),
    ("Input(5, 6, 3) | Normalization(axis=1)", 5 + 5 + 1, [("mean", (5,)), ("variance", (5,)), ("count", ())]),
    ("Input(5, 6, 3) | Normalization(axis=[1, 2])", 30 + 30 + 1,
     [("mean", (5, 6)), ("variance", (5, 6)), ("count", ())]),
    # the kept axes in the input's order, whatever order they are written in
    ("Input(5, 6, 3) | Normalization(axis=[-1, 1])", 15 + 15 + 1,
     [("mean", (5, 3)), ("variance", (5, 3)), ("count", ())]),
    ("Input(7) | Normalization(axis=None)", 1 + 1 + 1, [("mean", ()), ("variance", ()), ("count", ())]),
    ("Input(7) | Normalization(invert=True)", 15, [("mean", (7,)), ("variance", (7,)), ("count", ())]),
    ("Input(7) | Normalization(mean=[0, 1, 2, 3, 4, 5, 6], variance=[1, 1, 1, 1, 1, 1, 1])", 0, []),
    ("Input(7) | Normalization(mean=2.0, variance=3.0)", 0, []),
]


@pytest.mark.parametrize("source, params, weights", NORMALIZATION, ids=[n[0] for n in NORMALIZATION])
def test_normalization_rows(source, params, weights):
    for convention in ("keras", "pytorch"):
        r = row(source, convention)
        assert (r.params, r.trainable, r.non_trainable, r.buffers) == (params, 0, params, 0)
        assert [(w.name, w.shape) for w in r.weights] == weights
        assert not any(w.trainable or w.buffer for w in r.weights)
        assert_formulas_hold(r)
        assert r.output_shape == learnable.count(source).layers[0].output_shape
    keras, torch = row(source, "keras"), row(source, "pytorch")
    if weights:
        assert keras.note == "" and "PyTorch has no exact equivalent" in torch.note
    else:
        assert "Keras creates no weights" in keras.note and keras.note == torch.note


BAD_NORMALIZATION = [
    ("Input(7) | Normalization(axis=0)", "batch axis"),
    ("Input(7) | Normalization(axis=2)", "out of range"),
    ("Input(5, 6, 3) | Normalization(axis=[1, -3])", "same axis twice"),
    ("Input(None, 3) | Normalization(axis=1)", "unknown"),
    ("Input(7) | Normalization(mean=2.0)", "both mean and variance"),
    ("Input(7) | Normalization(mean=[1, 2], variance=[1, 2, 3])", "same shape"),
    ("Input(7) | Normalization(mean=[[1]], variance=[[1]])", "rank 2"),
]


@pytest.mark.parametrize("source, message", BAD_NORMALIZATION, ids=[b[0] for b in BAD_NORMALIZATION])
def test_bad_normalization_raises_a_learnable_error(source, message):
    with pytest.raises(learnable.LearnableError) as caught:
        learnable.count(source)
    assert message in str(caught.value)


# Keras's own Normalization, built on a keras.Input: (input shape, keyword arguments)
KERAS_NORMALIZATION = [
    ((224, 224, 3), {}), ((224, 224, 3), {"axis": 3}), ((5, 6, 3), {"axis": 1}), ((5, 6, 3), {"axis": -2}),
    ((5, 6, 3), {"axis": [1, 2]}), ((5, 6, 3), {"axis": [-1, 1]}), ((5, 6, 3), {"axis": [3, 1, 2]}),
    ((5, 6, 3), {"axis": None}), ((7,), {"invert": True}), ((4, 9), {"axis": [-2]}),
    ((7,), {"mean": [0.0] * 7, "variance": [1.0] * 7}), ((5, 3), {"mean": 0.5, "variance": 2.0}),
]


@pytest.mark.frameworks
@pytest.mark.parametrize("shape, kwargs", KERAS_NORMALIZATION, ids=[f"{s} {k}" for s, k in KERAS_NORMALIZATION])
def test_normalization_matches_keras(shape, kwargs):
    keras = pytest.importorskip("keras")
    from frameworks import assert_row_matches_keras

    layer = keras.layers.Normalization(**kwargs)
    layer(keras.Input(shape))
    args = ", ".join(f"{k}={v!r}" for k, v in kwargs.items())
    r = row(f"Input{shape} | Normalization({args})", "keras")
    assert_row_matches_keras(r, layer, tuple(layer.output.shape[1:]))


@pytest.mark.frameworks
@pytest.mark.parametrize("shape, kwargs", [((7,), {"axis": 0}), ((5, 6, 3), {"axis": [1, -3]}),
                                           ((None, 3), {"axis": 1}), ((7,), {"mean": 2.0})])
def test_normalization_refuses_what_keras_refuses(shape, kwargs):
    keras = pytest.importorskip("keras")
    with pytest.raises(Exception):  # noqa: B017 - Keras raises ValueError or a backend error
        keras.layers.Normalization(**kwargs)(keras.Input(shape))
    args = ", ".join(f"{k}={v!r}" for k, v in kwargs.items())
    with pytest.raises(learnable.LearnableError):
        learnable.count(f"Input{shape} | Normalization({args})")
