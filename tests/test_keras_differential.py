"""Differential tests against Keras 3: the oracle is Keras itself.

Every network below is written once, as learnable spec items, and built twice: counted by
``learnable.count`` and constructed layer by layer in Keras (torch backend, never compiled,
never run on data). For every layer the parameter count, the trainable / non-trainable
split, the output shape (batch excluded) and each weight's name, shape and trainability
must agree. No expected number is copied from learnable's output.
"""

from __future__ import annotations

import os

os.environ["KERAS_BACKEND"] = "torch"

import math
import random
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

keras = pytest.importorskip("keras")

import learnable
from conftest import assert_formulas_hold, sweep

pytestmark = pytest.mark.frameworks

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"

# Keras merge layers take a list of tensors, even a list of one.
MERGES = frozenset({"Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate"})


# ---- the one helper: same description → learnable and Keras → compare every layer --------


def _split(item: Any) -> tuple[str, tuple[Any, ...], dict[str, Any]]:
    """A spec item (``"Flatten"``, ``{"Dense": 10}``, ``{"Conv2D": {...}}``) → (type, args, kwargs),
    read the way learnable's YAML/JSON reader reads it."""
    if isinstance(item, str):
        return item, (), {}
    ((type_name, value),) = item.items()
    if value is None:
        return type_name, (), {}
    if isinstance(value, Mapping):
        return type_name, (), dict(value)
    if isinstance(value, list):
        return type_name, tuple(value), {}
    return type_name, (value,), {}


def build_keras(inputs: Mapping[str, Sequence[int]], layers: Sequence[Any]) -> tuple[list, list]:
    """Build the spec in Keras. Returns (input layers, layers in source order).

    Raises whatever Keras raises (ValueError for a configuration Keras rejects)."""
    tensors: dict[str, Any] = {}
    input_layers = []
    previous = None
    for name, shape in inputs.items():
        input_layer = keras.layers.InputLayer(shape=tuple(shape), name=name)
        tensors[name] = previous = input_layer.output
        input_layers.append(input_layer)
    built = []
    for item in layers:
        type_name, args, kwargs = _split(item)
        name = kwargs.pop("name", None)
        sources = kwargs.pop("inputs", None)
        trainable = kwargs.pop("trainable", True)
        if name is not None:
            kwargs["name"] = name
        layer = getattr(keras.layers, type_name)(*args, **kwargs)
        layer.trainable = trainable
        if sources is None:
            x = previous
        else:
            sources = [sources] if isinstance(sources, str) else list(sources)
            x = [tensors[s] for s in sources]
            if len(x) == 1 and type_name not in MERGES:
                x = x[0]
        previous = layer(x)
        if name is not None:
            tensors[name] = previous
        built.append(layer)
    return input_layers, built


def _count(w: Any) -> int:
    return math.prod(w.shape)


def compare(
    report: learnable.Report, input_layers: Sequence[Any], layers: Sequence[Any], named: Sequence[bool] | None = None
) -> None:
    """Assert that every learnable row matches its Keras layer (rows and layers in source order)."""
    rows = report.layers
    assert len(rows) == len(input_layers) + len(layers), (
        f"learnable reports {len(rows)} rows, Keras has {len(input_layers)} inputs + {len(layers)} layers"
    )
    for row, layer in zip(rows, input_layers):
        assert row.type == "Input", row
        assert row.name == layer.name
        assert row.output_shape == tuple(layer.output.shape[1:]), (row.name, row.output_shape, layer.output.shape)
        assert (row.params, row.trainable, row.non_trainable) == (0, 0, 0)
        assert row.weights == ()
    named = named or [False] * len(layers)
    for row, layer, check_name in zip(rows[len(input_layers) :], layers, named):
        where = f"{row.name} ({row.type}) vs Keras {layer.name} ({type(layer).__name__})"
        if check_name:
            assert row.name == layer.name, where
        assert row.type == type(layer).__name__, where
        keras_shape = tuple(layer.output.shape[1:])
        assert row.output_shape == keras_shape, f"{where}: output shape {row.output_shape} != Keras {keras_shape}"
        keras_trainable = sum(_count(w) for w in layer.trainable_weights)
        keras_frozen = sum(_count(w) for w in layer.non_trainable_weights)
        assert row.params == layer.count_params(), f"{where}: params {row.params} != Keras {layer.count_params()}"
        assert (row.trainable, row.non_trainable) == (keras_trainable, keras_frozen), (
            f"{where}: trainable/non-trainable {row.trainable}/{row.non_trainable}"
            f" != Keras {keras_trainable}/{keras_frozen}"
        )
        ours = [(w.name, tuple(w.shape), w.size, w.trainable) for w in row.weights]
        theirs = [
            (w.name, tuple(w.shape), _count(w), any(w is t for t in layer.trainable_weights)) for w in layer.weights
        ]
        assert ours == theirs, f"{where}: weights {ours} != Keras {theirs}"
        assert_formulas_hold(row)
    total = sum(layer.count_params() for layer in layers)
    assert report.total_params == total
    assert report.trainable_params == sum(_count(w) for layer in layers for w in layer.trainable_weights)


def assert_keras_agrees(
    layers: Sequence[Any],
    input_shape: Sequence[int | None] | None = None,
    *,
    inputs: Mapping[str, Sequence[int | None]] | None = None,
    source: Any = None,
    input_name: str = "input",
    data_format: str | None = None,
) -> learnable.Report:
    """Count ``layers`` with learnable and build them in Keras; assert every layer matches.

    One input (``input_shape``, named "input" as in a spec's ``input:``) or several
    (``inputs``, a spec's ``inputs:``). ``source`` overrides what learnable counts (a file
    path or a compact string holding the same network; a compact ``Input(...)`` is named
    "input_layer", as Keras names it, so pass that as ``input_name``). ``data_format`` is
    the spec's top-level ``data_format:``, and Keras's image_data_format while building."""
    if inputs is None:
        assert input_shape is not None
        inputs = {input_name: list(input_shape)}
        spec: dict[str, Any] = {"input": list(input_shape), "layers": list(layers)}
    else:
        spec = {"inputs": {k: list(v) for k, v in inputs.items()}, "layers": list(layers)}
    if data_format is not None:
        spec["data_format"] = data_format
    report = learnable.count(spec if source is None else source)
    saved = keras.config.image_data_format()
    keras.config.set_image_data_format(data_format or saved)
    try:
        input_layers, built = build_keras(inputs, layers)
    finally:
        keras.config.set_image_data_format(saved)
    named = [isinstance(item, Mapping) and isinstance(_split(item)[2].get("name"), str) for item in layers]
    compare(report, input_layers, built, named)
    return report


def assert_both_reject(
    layers: Sequence[Any],
    input_shape: Sequence[int] | None = None,
    *,
    inputs: Mapping[str, Sequence[int]] | None = None,
    keras_error: type[Exception] | tuple[type[Exception], ...] = ValueError,
) -> None:
    """Keras refuses this network (ValueError unless told), and learnable raises LearnableError."""
    if inputs is None:
        inputs = {"input": list(input_shape)}
        spec: dict[str, Any] = {"input": list(input_shape), "layers": list(layers)}
    else:
        spec = {"inputs": {k: list(v) for k, v in inputs.items()}, "layers": list(layers)}
    with pytest.raises(keras_error):
        build_keras(inputs, layers)
    with pytest.raises(learnable.LearnableError):
        learnable.count(spec)


def check(layers: Sequence[Any], input_shape: Sequence[int]) -> str:
    """Keras decides: if it builds the network, learnable must match it layer by layer;
    if it rejects it with a ValueError, learnable must raise LearnableError."""
    try:
        input_layers, built = build_keras({"input": input_shape}, layers)
    except ValueError as keras_error:
        try:
            report = learnable.count({"input": list(input_shape), "layers": list(layers)})
        except learnable.LearnableError:
            return "rejected"
        pytest.fail(
            f"Keras rejects input {input_shape} + {layers} ({str(keras_error).strip()[:300]}), "
            f"but learnable counts it: {[(r.name, r.output_shape, r.params) for r in report.layers]}"
        )
    try:
        report = learnable.count({"input": list(input_shape), "layers": list(layers)})
    except learnable.LearnableError as err:
        shapes = [tuple(layer.output.shape[1:]) for layer in built]
        pytest.fail(
            f"Keras builds input {input_shape} + {layers} (output shapes {shapes}), but learnable raises: {err}"
        )
    compare(report, input_layers, built)
    return "built"


def test_helper_detects_a_mismatch():
    """The comparison can fail: a learnable count of Dense(10) is not a Keras Dense(11)."""
    report = learnable.count({"input": [4], "layers": [{"Dense": 10}]})
    input_layers, built = build_keras({"input": [4]}, [{"Dense": 11}])
    with pytest.raises(AssertionError):
        compare(report, input_layers, built)
    report = learnable.count({"input": [8, 8, 3], "layers": [{"Conv2D": {"filters": 4, "kernel_size": 3}}]})
    input_layers, built = build_keras(
        {"input": [8, 8, 3]}, [{"Conv2D": {"filters": 4, "kernel_size": 3, "strides": 2}}]
    )
    with pytest.raises(AssertionError):
        compare(report, input_layers, built)


# ---- convolutions ----------------------------------------------------------------------------


def _conv(rank: int, **kwargs: Any) -> dict[str, Any]:
    return {f"Conv{rank}D": kwargs}


CONV_CASES = [
    # Conv1D
    ([50, 8], [_conv(1, filters=16, kernel_size=3)]),
    ([50, 8], [_conv(1, filters=16, kernel_size=3, groups=4)]),
    ([50, 8], [_conv(1, filters=16, kernel_size=5, strides=3)]),
    ([50, 8], [_conv(1, filters=16, kernel_size=3, dilation_rate=4, use_bias=False)]),
    ([7, 3], [_conv(1, filters=4, kernel_size=3, strides=2, padding="same")]),
    ([9, 3], [_conv(1, filters=4, kernel_size=4, strides=2, padding="same")]),
    ([9, 3], [_conv(1, filters=4, kernel_size=3, strides=2, padding="causal")]),
    ([10, 3], [_conv(1, filters=4, kernel_size=3, dilation_rate=2, padding="causal")]),
    ([6, 20], [_conv(1, filters=4, kernel_size=3, strides=2, padding="same", data_format="channels_first")]),
    ([6, 20], [_conv(1, filters=6, kernel_size=3, padding="causal", groups=3, data_format="channels_first")]),
    # Conv2D
    ([32, 32, 3], [_conv(2, filters=64, kernel_size=3)]),
    ([32, 32, 3], [_conv(2, filters=64, kernel_size=3, strides=2, padding="same")]),
    ([32, 32, 3], [_conv(2, filters=64, kernel_size=3, dilation_rate=2)]),
    ([32, 32, 3], [_conv(2, filters=64, kernel_size=[3, 5], use_bias=False)]),
    ([32, 32, 32], [_conv(2, filters=64, kernel_size=3, groups=8)]),
    ([224, 224, 3], [_conv(2, filters=8, kernel_size=7, strides=2, padding="same")]),
    ([224, 224, 3], [_conv(2, filters=8, kernel_size=3, strides=2, padding="same")]),
    ([224, 224, 3], [_conv(2, filters=8, kernel_size=7, strides=2)]),
    ([7, 9, 2], [_conv(2, filters=4, kernel_size=3, strides=2, padding="same")]),
    ([7, 9, 2], [_conv(2, filters=4, kernel_size=[2, 4], strides=[2, 3], padding="same")]),
    ([7, 9, 2], [_conv(2, filters=4, kernel_size=[2, 4], strides=[2, 3])]),
    ([11, 13, 4], [_conv(2, filters=4, kernel_size=3, dilation_rate=[1, 3])]),
    ([3, 11, 13], [_conv(2, filters=8, kernel_size=3, strides=2, data_format="channels_first")]),
    (
        [4, 9, 7],
        [
            _conv(
                2,
                filters=8,
                kernel_size=[3, 2],
                strides=2,
                padding="same",
                groups=2,
                use_bias=False,
                data_format="channels_first",
            )
        ],
    ),
    ([3, 3, 1], [_conv(2, filters=8, kernel_size=3)]),  # output 1×1, the smallest Keras allows
    ([3, 3, 1], [_conv(2, filters=8, kernel_size=5, padding="same")]),
    # Conv3D
    ([8, 8, 8, 4], [_conv(3, filters=8, kernel_size=3)]),
    ([8, 8, 8, 4], [_conv(3, filters=8, kernel_size=3, groups=2, use_bias=False)]),
    ([9, 7, 8, 4], [_conv(3, filters=8, kernel_size=3, strides=2, padding="same")]),
    ([9, 7, 8, 4], [_conv(3, filters=8, kernel_size=[1, 3, 2], strides=[1, 2, 3])]),
    ([9, 9, 9, 2], [_conv(3, filters=4, kernel_size=2, dilation_rate=[3, 2, 1])]),
    (
        [4, 9, 7, 8],
        [_conv(3, filters=6, kernel_size=3, strides=2, padding="same", groups=2, data_format="channels_first")],
    ),
]


@pytest.mark.parametrize(("input_shape", "layers"), CONV_CASES, ids=lambda v: str(v))
def test_convolutions(input_shape, layers):
    assert_keras_agrees(layers, input_shape)


def test_conv_stack_with_dense_head():
    assert_keras_agrees(
        [
            _conv(2, filters=8, kernel_size=3, strides=2, padding="same"),
            _conv(2, filters=16, kernel_size=3, groups=4),
            _conv(2, filters=16, kernel_size=3, dilation_rate=2, padding="same", use_bias=False),
            "Flatten",
            {"Dense": 10},
        ],
        [29, 31, 3],
    )


@pytest.mark.parametrize(
    ("input_shape", "layers"),
    [
        ([8, 8, 3], [_conv(2, filters=8, kernel_size=5, strides=1), _conv(2, filters=8, kernel_size=5)]),
        ([3, 3, 1], [_conv(2, filters=8, kernel_size=4)]),
        ([10, 10, 3], [_conv(2, filters=8, kernel_size=3, strides=2, dilation_rate=2)]),
        ([10, 10, 6], [_conv(2, filters=8, kernel_size=3, groups=4)]),
        ([10, 10, 8], [_conv(2, filters=6, kernel_size=3, groups=4)]),
        ([10, 10, 3], [_conv(2, filters=8, kernel_size=3, padding="causal")]),
        ([1, 1, 4], [{"MaxPooling2D": {"pool_size": 2}}]),
        ([5, 5, 4], [{"AveragePooling2D": {"pool_size": 3, "strides": 2}}, {"AveragePooling2D": {"pool_size": 3}}]),
        ([9, 4], [{"Conv1D": {"filters": 4, "kernel_size": 4, "dilation_rate": 3}}]),
        ([4, 4], [{"Reshape": {"target_shape": [5, -1]}}]),
        ([4, 4], [{"Reshape": {"target_shape": [5, 3]}}]),
        # Keras ZeroPadding1D takes an int or one (left, right) pair, not a list of pairs.
        ([10, 3], [{"ZeroPadding1D": {"padding": [[1, 4]]}}]),
    ],
    ids=lambda v: str(v),
)
def test_configurations_both_reject(input_shape, layers):
    assert_both_reject(layers, input_shape)


def test_average_pooling_needs_a_pool_size():
    """keras 3.15 AveragePooling has no default pool_size (a TypeError, not a ValueError)."""
    assert_both_reject([{"AveragePooling2D": {}}], [4, 4, 2], keras_error=TypeError)


@pytest.mark.parametrize(
    "layers",
    [
        [
            {"Conv2D": {"filters": 4, "kernel_size": 3, "name": "a"}},
            {"Conv2D": {"filters": 4, "kernel_size": 5, "name": "b", "inputs": ["input"]}},
            {"Concatenate": {"inputs": ["a", "b"]}},
        ],
        [
            {"Conv2D": {"filters": 4, "kernel_size": 3, "name": "a"}},
            {"Conv2D": {"filters": 6, "kernel_size": 3, "name": "b", "inputs": ["input"]}},
            {"Add": {"inputs": ["a", "b"]}},
        ],
        [
            {"Conv2D": {"filters": 4, "kernel_size": 3, "name": "a"}},
            {"Conv2D": {"filters": 6, "kernel_size": 3, "name": "b", "inputs": ["input"]}},
            {"Concatenate": {"axis": 1, "inputs": ["a", "b"]}},
        ],
    ],
    ids=["concatenate-spatial-mismatch", "add-channel-mismatch", "concatenate-axis1-channel-mismatch"],
)
def test_merges_both_reject(layers):
    assert_both_reject(layers, [9, 9, 3])


# ---- pooling -------------------------------------------------------------------------------


POOL_CASES = [
    ([10, 4], [{"MaxPooling1D": {}}]),
    ([11, 4], [{"MaxPooling1D": {"pool_size": 3, "strides": 2}}]),
    ([11, 4], [{"AveragePooling1D": {"pool_size": 3, "strides": 2, "padding": "same"}}]),
    ([11, 4], [{"AveragePooling1D": {"pool_size": 2}}]),
    ([4, 11], [{"MaxPooling1D": {"pool_size": 2, "padding": "same", "data_format": "channels_first"}}]),
    ([10, 10, 3], [{"MaxPooling2D": {"pool_size": 3}}]),
    ([7, 7, 3], [{"MaxPooling2D": {"pool_size": 2}}]),
    ([7, 7, 3], [{"MaxPooling2D": {"pool_size": 2, "padding": "same"}}]),
    ([7, 9, 3], [{"MaxPooling2D": {"pool_size": [2, 3], "strides": [1, 2]}}]),
    ([7, 9, 3], [{"AveragePooling2D": {"pool_size": 3, "strides": 2, "padding": "same"}}]),
    ([7, 9, 3], [{"AveragePooling2D": {"pool_size": [3, 2]}}]),
    ([3, 9, 7], [{"AveragePooling2D": {"pool_size": 2, "data_format": "channels_first"}}]),
    ([1, 1, 4], [{"MaxPooling2D": {"pool_size": 2, "padding": "same"}}]),
    ([6, 7, 8, 2], [{"MaxPooling3D": {"pool_size": 2}}]),
    ([6, 7, 8, 2], [{"MaxPooling3D": {"pool_size": [3, 2, 2], "strides": 2, "padding": "same"}}]),
    ([6, 7, 8, 2], [{"AveragePooling3D": {"pool_size": 3, "strides": [1, 2, 3]}}]),
    ([2, 6, 7, 8], [{"AveragePooling3D": {"pool_size": 2, "padding": "same", "data_format": "channels_first"}}]),
]


@pytest.mark.parametrize(("input_shape", "layers"), POOL_CASES, ids=lambda v: str(v))
def test_pooling(input_shape, layers):
    assert_keras_agrees(layers, input_shape)


GLOBAL_CASES = [
    (input_shape, [{f"Global{kind}Pooling{rank}D": dict(keepdims=keepdims, **fmt)}])
    for rank, input_shape, fmt in (
        (1, [10, 4], {}),
        (2, [6, 7, 4], {}),
        (3, [5, 6, 7, 4], {}),
        (1, [4, 10], {"data_format": "channels_first"}),
        (2, [4, 6, 7], {"data_format": "channels_first"}),
        (3, [4, 5, 6, 7], {"data_format": "channels_first"}),
    )
    for kind in ("Average", "Max")
    for keepdims in (False, True)
]


@pytest.mark.parametrize(("input_shape", "layers"), GLOBAL_CASES, ids=lambda v: str(v))
def test_global_pooling(input_shape, layers):
    assert_keras_agrees(layers, input_shape)


# ---- dense, structure, activations ----------------------------------------------------------


@pytest.mark.parametrize(
    ("input_shape", "layers"),
    [
        ([100], [{"Dense": 64}]),
        ([100], [{"Dense": {"units": 64, "use_bias": False}}]),
        ([7, 100], [{"Dense": 64}]),
        ([5, 6, 16], [{"Dense": {"units": 8, "activation": "relu"}}]),
        ([5, 6, 16], [{"Dense": 8}, {"Dense": {"units": 3, "use_bias": False}}]),
        ([5, 6, 16], ["Flatten", {"Dense": 8}]),
        ([4, 5], ["Flatten"]),
        ([4, 4, 4], [{"Reshape": {"target_shape": [-1, 8]}}]),
        ([4, 4, 4], [{"Reshape": {"target_shape": [2, -1]}}, {"Dense": 3}]),
        ([64], [{"Reshape": {"target_shape": [4, 4, 4]}}, {"Conv2D": {"filters": 2, "kernel_size": 2}}]),
        ([12, 5], [{"Reshape": {"target_shape": [3, -1, 5]}}]),
    ],
    ids=lambda v: str(v),
)
def test_dense_flatten_reshape(input_shape, layers):
    assert_keras_agrees(layers, input_shape)


@pytest.mark.parametrize(
    ("input_shape", "layers"),
    [
        ([10, 3], [{"ZeroPadding1D": {}}]),
        ([10, 3], [{"ZeroPadding1D": {"padding": 3}}]),
        ([10, 3], [{"ZeroPadding1D": {"padding": [1, 4]}}]),
        ([6, 7, 3], [{"ZeroPadding2D": {"padding": 2}}]),
        ([6, 7, 3], [{"ZeroPadding2D": {"padding": [1, 2]}}]),
        ([6, 7, 3], [{"ZeroPadding2D": {"padding": [[1, 2], [3, 4]]}}]),
        ([3, 6, 7], [{"ZeroPadding2D": {"padding": [[1, 0], [0, 2]], "data_format": "channels_first"}}]),
        ([4, 5, 6, 2], [{"ZeroPadding3D": {}}]),
        ([4, 5, 6, 2], [{"ZeroPadding3D": {"padding": [1, 2, 3]}}]),
        ([4, 5, 6, 2], [{"ZeroPadding3D": {"padding": [[1, 0], [0, 2], [3, 1]]}}]),
        ([2, 4, 5, 6], [{"ZeroPadding3D": {"padding": [[1, 0], [0, 2], [3, 1]], "data_format": "channels_first"}}]),
        (
            [224, 224, 3],
            [{"ZeroPadding2D": {"padding": [[3, 3], [3, 3]]}}, _conv(2, filters=8, kernel_size=7, strides=2)],
        ),
    ],
    ids=lambda v: str(v),
)
def test_zero_padding(input_shape, layers):
    assert_keras_agrees(layers, input_shape)


def test_elementwise_layers():
    assert_keras_agrees(
        [
            {"Dense": 16},
            {"Dropout": 0.5},
            {"Activation": "relu"},
            "ReLU",
            {"ReLU": {"max_value": 6}},
            {"LeakyReLU": {"negative_slope": 0.2}},
            {"Dropout": {"rate": 0.1}},
            {"Softmax": {"axis": -1}},
            "Softmax",
            {"Dense": 4},
        ],
        [5, 12],
    )


def test_compact_string_form():
    source = "Input(28, 28, 1) | Conv2D(32, 3, activation='relu') | MaxPooling2D(2) | Flatten() | Dense(10)"
    layers = [
        {"Conv2D": {"filters": 32, "kernel_size": 3, "activation": "relu"}},
        {"MaxPooling2D": {"pool_size": 2}},
        "Flatten",
        {"Dense": 10},
    ]
    assert_keras_agrees(layers, [28, 28, 1], source=source, input_name="input_layer")


def test_keras_aliases():
    assert_keras_agrees(
        [
            {"Convolution2D": {"filters": 4, "kernel_size": 3}},
            {"MaxPool2D": {"pool_size": 2}},
            {"AvgPool2D": {"pool_size": 2, "padding": "same"}},
            {"GlobalAvgPool2D": {"keepdims": True}},
            {"Reshape": [[4]]},
            {"Dense": 2},
        ],
        [13, 13, 3],
    )


@pytest.mark.parametrize(
    ("input_shape", "layers"),
    [
        ([None, 16], [_conv(1, filters=8, kernel_size=3), {"MaxPooling1D": {}}, {"Dense": 4}]),
        (
            [None, 16],
            [_conv(1, filters=8, kernel_size=3, strides=2, padding="same"), {"GlobalMaxPooling1D": {}}, {"Dense": 4}],
        ),
        ([None, 16], [_conv(1, filters=8, kernel_size=3, padding="causal"), "Flatten"]),
        ([None, None, 3], [_conv(2, filters=4, kernel_size=3, strides=2), {"GlobalAveragePooling2D": {}}]),
        ([None, 12, 3], [_conv(2, filters=4, kernel_size=3), {"ZeroPadding2D": {"padding": 1}}]),
    ],
    ids=lambda v: str(v),
)
def test_unknown_dimensions(input_shape, layers):
    assert_keras_agrees(layers, input_shape)


def test_top_level_channels_first():
    assert_keras_agrees(
        [
            _conv(2, filters=8, kernel_size=3, strides=2, padding="same"),
            {"MaxPooling2D": {"pool_size": 2, "padding": "same"}},
            {"ZeroPadding2D": {"padding": [[1, 0], [2, 3]]}},
            _conv(2, filters=4, kernel_size=[2, 3], groups=4),
            {"GlobalAveragePooling2D": {"keepdims": True}},
            "Flatten",
            {"Dense": 5},
        ],
        [4, 17, 15],
        data_format="channels_first",
    )


# ---- graphs ----------------------------------------------------------------------------------


def test_branching_graph_with_add_and_concatenate():
    layers = [
        {"Conv2D": {"filters": 16, "kernel_size": 3, "padding": "same", "name": "stem"}},
        {"Conv2D": {"filters": 16, "kernel_size": 1, "name": "left", "inputs": ["stem"]}},
        {
            "Conv2D": {
                "filters": 16,
                "kernel_size": 3,
                "padding": "same",
                "use_bias": False,
                "name": "right",
                "inputs": ["stem"],
            }
        },
        {"Add": {"name": "sum", "inputs": ["left", "right", "stem"]}},
        {"GlobalAveragePooling2D": {"keepdims": True, "name": "squeeze", "inputs": ["sum"]}},
        {"Dense": {"units": 16, "name": "excite", "inputs": ["squeeze"]}},
        # Add with a broadcast 1: (1, 1, 16) + (12, 12, 16)
        {"Add": {"name": "broadcast_add", "inputs": ["excite", "sum"]}},
        {"Concatenate": {"name": "channels", "inputs": ["broadcast_add", "left"]}},
        # Concatenate along a non-last axis: the height
        {"Concatenate": {"axis": 1, "name": "rows", "inputs": ["channels", "channels"]}},
        {"Concatenate": {"axis": -2, "name": "cols", "inputs": ["rows", "rows"]}},
        {"MaxPooling2D": {"pool_size": 2, "name": "pool", "inputs": ["cols"]}},
        {"Flatten": {"name": "flat"}},
        {"Dense": {"units": 10, "name": "head"}},
    ]
    assert_keras_agrees(layers, [12, 12, 3])


def test_two_named_inputs():
    layers = [
        {
            "Conv2D": {
                "filters": 8,
                "kernel_size": 3,
                "strides": 2,
                "padding": "same",
                "name": "img_conv",
                "inputs": ["image"],
            }
        },
        {"GlobalMaxPooling2D": {"name": "img_vec", "inputs": ["img_conv"]}},
        {"Dense": {"units": 8, "name": "meta_vec", "inputs": ["meta"]}},
        {"Concatenate": {"name": "joined", "inputs": ["img_vec", "meta_vec"]}},
        {"Dense": {"units": 3, "name": "out", "inputs": ["joined"]}},
        {"Concatenate": {"axis": 1, "name": "stack", "inputs": ["meta", "meta"]}},
    ]
    assert_keras_agrees(layers, inputs={"image": [15, 15, 3], "meta": [5]})


def test_sequence_graph_concatenate_on_time_axis():
    layers = [
        {"Conv1D": {"filters": 6, "kernel_size": 3, "padding": "causal", "name": "a", "inputs": ["x"]}},
        {"Conv1D": {"filters": 6, "kernel_size": 5, "strides": 2, "name": "b", "inputs": ["x"]}},
        {"Concatenate": {"axis": 1, "name": "time", "inputs": ["a", "b"]}},
        {"Dense": {"units": 4, "name": "proj"}},
        {"Add": {"name": "plus", "inputs": ["proj", "proj"]}},
    ]
    assert_keras_agrees(layers, inputs={"x": [21, 4]})


@pytest.mark.parametrize(
    ("inputs", "merge"),
    [
        ({"a": [1, 8, 16], "b": [8, 1, 16]}, "Add"),
        ({"a": [16], "b": [8, 8, 16]}, "Add"),
        ({"a": [8, 8, 16], "b": [16]}, "Add"),
        ({"a": [1, 16], "b": [8, 8, 16]}, "Multiply"),
        ({"a": [8, 16], "b": [8, 16], "c": [8, 1]}, "Average"),
        ({"a": [8, 16], "b": [8, 1]}, "Subtract"),
        ({"a": [8, 16], "b": [1, 16]}, "Maximum"),
        ({"a": [None, 16], "b": [8, 16]}, "Add"),
        ({"a": [None, 16], "b": [8, 16]}, "Minimum"),
    ],
    ids=lambda v: str(v),
)
def test_elementwise_merge_broadcasting(inputs, merge):
    assert_keras_agrees([{merge: {"name": "merged", "inputs": list(inputs)}}], inputs=inputs)


@pytest.mark.parametrize("axis", [1, -1])
def test_concatenate_with_an_unknown_size(axis):
    """Keras: a None on any axis of any input makes that axis of the output None."""
    assert_keras_agrees(
        [{"Concatenate": {"axis": axis, "name": "joined", "inputs": ["a", "b"]}}],
        inputs={"a": [None, 16], "b": [8, 16]},
    )


def test_concatenate_unknown_size_then_dense_head():
    """Where the difference changes a count: Keras cannot build a Dense on the flattened
    concatenation of (None, 16) and (8, 16), because its size is unknown."""
    assert_both_reject(
        [{"Concatenate": {"name": "joined", "inputs": ["a", "b"]}}, "Flatten", {"Dense": 4}],
        inputs={"a": [None, 16], "b": [8, 16]},
    )


@pytest.mark.parametrize("axis", [0, -3])
def test_concatenate_along_the_batch_axis(axis):
    """Keras builds a concatenation along the batch axis (axis 0, or -3 for rank-2 examples);
    each example keeps its shape."""
    assert_keras_agrees(
        [{"Concatenate": {"axis": axis, "name": "joined", "inputs": ["a", "b"]}}], inputs={"a": [8, 16], "b": [8, 16]}
    )


@pytest.mark.parametrize("merge", ["Concatenate", "Add", "Average"])
def test_merge_of_a_single_input(merge):
    """Keras merges a list of one tensor, ``Concatenate()([a])``: the input passes through."""
    assert_keras_agrees([{merge: {"name": "merged", "inputs": ["a"]}}], inputs={"a": [6, 4]})


@pytest.mark.parametrize(
    ("inputs", "layers"),
    [
        ({"a": [8, 16], "b": [8, 16]}, [{"Concatenate": {"axis": 3, "inputs": ["a", "b"]}}]),
        ({"a": [5, None]}, [{"Dense": {"units": 3, "inputs": ["a"]}}]),
        ({"a": [None, 3]}, ["Flatten", {"Dense": 3}]),
    ],
    ids=lambda v: str(v),
)
def test_graphs_both_reject(inputs, layers):
    assert_both_reject(layers, inputs=inputs, keras_error=(ValueError, IndexError))


# ---- seeds and freezing ------------------------------------------------------------------------


def _seed(name: str) -> tuple[list[int], list[Any]]:
    import yaml

    data = yaml.safe_load((EXAMPLES / name).read_text())
    return data["input"], data["layers"]


@pytest.mark.parametrize("name", ["deeplizard.yaml", "simple_cnn.yaml"])
def test_seed_networks(name):
    input_shape, layers = _seed(name)
    report = assert_keras_agrees(layers, input_shape, source=str(EXAMPLES / name))
    _, built = build_keras({"input": input_shape}, layers)
    assert report.total_params == sum(layer.count_params() for layer in built)


def test_seed_compact_text_matches_the_yaml_network():
    input_shape, layers = _seed("simple_cnn.yaml")
    unnamed = [{t: {k: v for k, v in kw.items() if k != "name"}} for t, _, kw in map(_split, layers)]
    assert_keras_agrees(unnamed, input_shape, source=str(EXAMPLES / "simple_cnn.txt"), input_name="input_layer")


@pytest.mark.parametrize(
    ("input_shape", "layers"),
    [
        ([10], [{"Dense": {"units": 10, "trainable": False}}]),
        ([10], [{"Dense": {"units": 10, "trainable": False, "use_bias": False}}, {"Dense": 3}]),
        (
            [12, 12, 3],
            [
                {"Conv2D": {"filters": 8, "kernel_size": 3, "trainable": False}},
                {"Conv2D": {"filters": 8, "kernel_size": 3, "groups": 2}},
                {"MaxPooling2D": {"trainable": False}},
                "Flatten",
                {"Dense": {"units": 4, "trainable": False}},
                {"Dense": {"units": 2, "trainable": True}},
            ],
        ),
    ],
    ids=lambda v: str(v),
)
def test_trainable_false(input_shape, layers):
    report = assert_keras_agrees(layers, input_shape)
    assert report.non_trainable_params > 0


# ---- random sequential stacks ------------------------------------------------------------------


def _ints(rng: random.Random, rank: int, low: int, high: int) -> Any:
    """An int, or one per axis."""
    if rank > 1 and rng.random() < 0.35:
        return [rng.randint(low, high) for _ in range(rank)]
    return rng.randint(low, high)


def _as_list(value: Any, rank: int) -> list[int]:
    return list(value) if isinstance(value, list) else [value] * rank


def random_stack(seed: int) -> tuple[list[int], list[Any]]:
    rng = random.Random(seed)
    rank = rng.choice((1, 1, 2, 2, 2, 3))
    fmt = "channels_first" if rng.random() < 0.2 else "channels_last"
    size_max = {1: 40, 2: 24, 3: 10}[rank]
    spatial = [rng.randint(1, size_max) for _ in range(rank)]
    channels = rng.choice((1, 2, 3, 4, 6, 8))
    input_shape = [channels, *spatial] if fmt == "channels_first" else [*spatial, channels]
    extra = {"data_format": fmt} if fmt == "channels_first" or rng.random() < 0.2 else {}
    layers: list[Any] = []
    for _ in range(rng.randint(1, 3)):
        kind = rng.choice(("conv", "conv", "conv", "max", "avg"))
        if kind == "conv":
            strides = _ints(rng, rank, 1, 3) if rng.random() < 0.5 else 1
            strided = max(_as_list(strides, rank)) > 1
            dilation = 1 if strided or rng.random() < 0.6 else _ints(rng, rank, 1, 3)
            paddings = ("valid", "same", "causal") if rank == 1 else ("valid", "same")
            # Mostly valid groups (dividing the channels and the filters), sometimes not.
            if rng.random() < 0.85:
                groups = rng.choice([g for g in (1, 1, 1, 2, 3, 4) if channels % g == 0])
                filters = groups * rng.randint(1, 4)
            else:
                groups, filters = rng.choice((2, 3, 4)), rng.choice((1, 2, 4, 6, 8, 12))
            channels = filters
            args = {
                "filters": filters,
                "kernel_size": _ints(rng, rank, 1, 5),
                "strides": strides,
                "padding": rng.choice(paddings),
                "dilation_rate": dilation,
                "groups": groups,
                "use_bias": rng.random() < 0.8,
                **extra,
            }
            layers.append({f"Conv{rank}D": args})
        else:
            args = {"pool_size": _ints(rng, rank, 1, 4), "padding": rng.choice(("valid", "same")), **extra}
            if rng.random() < 0.5:
                args["strides"] = _ints(rng, rank, 1, 3)
            layers.append({f"{'Max' if kind == 'max' else 'Average'}Pooling{rank}D": args})
    tail = rng.choice(("none", "flatten", "global", "dense"))
    if tail == "flatten":
        layers += [{"Flatten": dict(extra)}, {"Dense": rng.randint(1, 10)}]
    elif tail == "global":
        kind = rng.choice(("Average", "Max"))
        layers += [
            {f"Global{kind}Pooling{rank}D": {"keepdims": rng.random() < 0.3, **extra}},
            {"Dense": {"units": rng.randint(1, 10), "use_bias": rng.random() < 0.8}},
        ]
    elif tail == "dense":
        layers.append({"Dense": rng.randint(1, 10)})
    return input_shape, layers


RANDOM_SEEDS = sweep(150)


@pytest.mark.parametrize("seed", RANDOM_SEEDS)
def test_random_sequential_stacks(seed):
    input_shape, layers = random_stack(seed)
    check(layers, input_shape)


def test_random_stacks_exercise_both_outcomes():
    """The generator is not degenerate: most stacks build, and some are rejected by Keras."""
    outcomes = {"built": 0, "rejected": 0}
    for seed in RANDOM_SEEDS:
        input_shape, layers = random_stack(seed)
        try:
            build_keras({"input": input_shape}, layers)
            outcomes["built"] += 1
        except ValueError:
            outcomes["rejected"] += 1
    assert outcomes["built"] >= 75, outcomes
    assert outcomes["rejected"] >= 5, outcomes
