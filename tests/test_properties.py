"""Properties that hold for any network, checked on generated ones (hypothesis)."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import learnable
from conftest import EXAMPLES, assert_formulas_hold
from learnable.render import render

sizes = st.integers(1, 64)
small = st.integers(1, 5)


@st.composite
def conv_layer(draw):
    return {"Conv2D": {
        "filters": draw(st.integers(1, 16)), "kernel_size": [draw(small), draw(small)],
        "strides": draw(st.integers(1, 3)), "padding": draw(st.sampled_from(["valid", "same"])),
        "use_bias": draw(st.booleans()),
    }}


@st.composite
def network(draw):
    """A random conv/pool/dense stack that may or may not fit its input."""
    layers = []
    for _ in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from(["conv", "conv", "pool", "dense"]))
        if kind == "conv":
            layers.append(draw(conv_layer()))
        elif kind == "pool":
            layers.append({"MaxPooling2D": {"pool_size": draw(small), "padding": draw(st.sampled_from(["valid", "same"]))}})
        else:
            layers.append({"Dense": draw(st.integers(1, 32))})
    if draw(st.booleans()):
        layers += ["Flatten", {"Dense": draw(st.integers(1, 10))}]
    return {"input": [draw(sizes), draw(sizes), draw(st.integers(1, 8))], "layers": layers}


def count_or_none(spec):
    try:
        return learnable.count(spec)
    except learnable.LearnableError:
        return None


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(network())
def test_every_formula_evaluates_to_its_number(spec):
    report = count_or_none(spec)
    assume(report is not None)
    for row in report.layers:
        assert_formulas_hold(row)
        assert sum(w.size for w in row.weights if not w.buffer) == row.params
        assert row.params == row.trainable + row.non_trainable >= 0
        assert all(d is None or d >= 1 for d in row.output_shape)
    assert report.total_params == sum(r.params for r in report.layers)


@settings(max_examples=200, deadline=None)
@given(conv_layer(), st.integers(1, 8), sizes, sizes, sizes, sizes)
def test_conv_params_do_not_depend_on_spatial_size(layer, channels, h1, w1, h2, w2):
    one = count_or_none({"input": [h1, w1, channels], "layers": [layer]})
    two = count_or_none({"input": [h2, w2, channels], "layers": [layer]})
    assume(one is not None and two is not None)
    assert one.layers[-1].params == two.layers[-1].params


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 16), small, small, sizes, sizes, st.integers(1, 8))
def test_same_with_stride_1_keeps_spatial_size(filters, kh, kw, h, w, channels):
    spec = {"input": [h, w, channels], "layers": [{"Conv2D": {"filters": filters, "kernel_size": [kh, kw], "padding": "same"}}]}
    assert learnable.count(spec).layers[-1].output_shape == (h, w, filters)


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 64), st.integers(1, 64), sizes, sizes)
def test_1x1_conv_counts_like_dense_over_channels(channels, filters, h, w):
    conv = learnable.count({"input": [h, w, channels], "layers": [{"Conv2D": [filters, 1]}]}).layers[-1]
    dense = learnable.count({"input": [h, w, channels], "layers": [{"Dense": filters}]}).layers[-1]
    assert (conv.params, conv.output_shape) == (dense.params, dense.output_shape) == (channels * filters + filters, (h, w, filters))


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_any_text_ends_in_a_report_or_a_learnable_error(text):
    try:
        learnable.count(text)
    except learnable.LearnableError:
        pass


layer_names = st.sampled_from(["Dense", "Conv2D", "Flatten", "MaxPooling2D", "Add", "Concatenate", "Reshape",
                               "Input", "Conv1d", "Linear", "Dropout", "ZeroPadding2D", "Nope"])
values = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 40) | st.floats(allow_nan=True) | st.text(max_size=5),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=8,
)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.one_of(layer_names, st.dictionaries(layer_names, values, min_size=1, max_size=1)), max_size=5),
       values)
def test_any_structure_ends_in_a_report_or_a_learnable_error(layers, shape):
    try:
        learnable.count({"input": shape, "layers": layers})
    except learnable.LearnableError:
        pass


def test_counts_stay_exact_beyond_2_to_the_63():
    huge = 5 * 10**9
    report = learnable.count({"input": [huge], "layers": [{"Dense": huge}] * 3})
    expected = 3 * (huge * huge + huge)
    assert expected > 2**63
    data = json.loads(render(report, "json"))
    assert data["total_params"] == expected
    assert all(isinstance(row["params"], int) for row in data["layers"])
    assert f",{huge * huge + huge}," in render(report, "csv")
    assert f"{expected:,}" in render(report, "table") and f"{expected:,}" in render(report, "markdown")


def test_seed_formulas_evaluate():
    for path in EXAMPLES.glob("*.yaml"):
        for row in learnable.count(path).layers:
            assert_formulas_hold(row)
