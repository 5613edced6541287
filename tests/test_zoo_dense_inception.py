"""The DenseNet-121 and Inception-v3 zoo specs against keras.applications, to the parameter.

Both networks branch and concatenate, so Keras's layer order is not the spec's: the
per-layer counts are compared as sorted lists (and, stronger, each layer's weights).
"""

from __future__ import annotations


import pytest
from conftest import assert_formulas_hold

import learnable
from frameworks import assert_totals_match_keras

# zoo name → (keras.applications function, total, non-trainable); CONVENTIONS.md §3.1
MODELS = {
    "densenet121": ("DenseNet121", 8_062_504, 83_648),
    "inception_v3": ("InceptionV3", 23_851_784, 34_432),
}


@pytest.mark.parametrize("name", sorted(MODELS))
def test_totals_and_printed_arithmetic(name):
    _, total, frozen = MODELS[name]
    report = learnable.count(f"zoo:{name}")
    assert (report.total_params, report.trainable_params, report.non_trainable_params) == (
        total, total - frozen, frozen)
    for row in report.layers:
        assert_formulas_hold(row)


@pytest.fixture(scope="module", params=sorted(MODELS))
def pair(request):
    keras = pytest.importorskip("keras")
    model = getattr(keras.applications, MODELS[request.param][0])(weights=None)
    return learnable.count(f"zoo:{request.param}"), model


@pytest.mark.frameworks
def test_counts_match_keras_applications(pair):
    report, model = pair
    assert_totals_match_keras(report, model)


@pytest.mark.frameworks
def test_layers_match_keras_applications(pair):
    report, model = pair
    ours = sorted(row.params for row in report.layers if row.params)
    theirs = sorted(layer.count_params() for layer in model.layers if layer.count_params())
    assert ours == theirs
    # each weighted layer's tensors: (name, shape, trainable), as a multiset of layers
    ours = sorted(tuple((w.name, tuple(w.shape), w.trainable) for w in row.weights)
                  for row in report.layers if row.params)
    theirs = sorted(tuple((w.name, tuple(w.shape), w.trainable) for w in layer.weights)
                    for layer in model.layers if layer.count_params())
    assert ours == theirs


@pytest.mark.frameworks
def test_output_shape_matches_keras_applications(pair):
    report, model = pair
    assert report.layers[-1].output_shape == tuple(model.output.shape[1:])
