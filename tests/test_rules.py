"""Per-layer tables: expected values written as arithmetic from the frameworks' documented
formulas (CONVENTIONS.md §1-2, each verified there against Keras 3 and torch 2.13)."""

from __future__ import annotations

import pytest

import learnable


def only(source: str):
    """The last layer's row of a compact-form network."""
    return learnable.count(source).layers[-1]


# (compact network, expected output shape, expected params)
KERAS_ROWS = [
    # Dense: d·u + u, on the last axis only
    ("Input(100) | Dense(64)", (64,), 100 * 64 + 64),
    ("Input(100) | Dense(64, use_bias=False)", (64,), 100 * 64),
    ("Input(7, 100) | Dense(64)", (7, 64), 100 * 64 + 64),
    ("Input(5, 5, 32) | Dense(10)", (5, 5, 10), 32 * 10 + 10),
    # Conv: k·(Cin/g)·f + f; valid floor((n − k')/s) + 1; same ceil(n/s)
    ("Input(50, 8) | Conv1D(16, 3)", (48, 16), 3 * 8 * 16 + 16),
    ("Input(50, 8) | Conv1D(16, 3, groups=4)", (48, 16), 3 * (8 // 4) * 16 + 16),
    ("Input(9, 8) | Conv1D(4, 3, strides=2, padding='causal')", (5, 4), 3 * 8 * 4 + 4),
    ("Input(32, 32, 3) | Conv2D(64, 3)", (30, 30, 64), 3 * 3 * 3 * 64 + 64),
    ("Input(32, 32, 3) | Conv2D(64, 3, strides=2, padding='same')", (16, 16, 64), 3 * 3 * 3 * 64 + 64),
    ("Input(32, 32, 3) | Conv2D(64, 3, dilation_rate=2)", ((32 - 5) // 1 + 1,) * 2 + (64,), 3 * 3 * 3 * 64 + 64),
    ("Input(224, 224, 3) | Conv2D(64, 7, strides=2, padding='same')", (112, 112, 64), 7 * 7 * 3 * 64 + 64),
    ("Input(7, 7, 3) | Conv2D(4, 3, strides=2, padding='same')", (4, 4, 4), 3 * 3 * 3 * 4 + 4),
    ("Input(10, 10, 32) | Conv2D(64, (3, 5), use_bias=False)", (8, 6, 64), 3 * 5 * 32 * 64),
    ("Input(10, 10, 32) | Conv2D(64, 3, groups=8)", (8, 8, 64), 3 * 3 * (32 // 8) * 64 + 64),
    ("Input(6, 6, 6, 4) | Conv3D(8, 3)", (4, 4, 4, 8), 27 * 4 * 8 + 8),
    ("Input(6, 6, 6, 4) | Conv3D(8, 3, groups=2, use_bias=False)", (4, 4, 4, 8), 27 * 2 * 8),
    ("Input(3, 32, 32, data_format='channels_first') | Conv2D(64, 3)", (64, 30, 30), 3 * 3 * 3 * 64 + 64),
    # Pooling: strides default to pool_size
    ("Input(10, 10, 4) | MaxPooling2D(3)", (3, 3, 4), 0),
    ("Input(7, 7, 4) | MaxPooling2D(2, padding='same')", (4, 4, 4), 0),
    ("Input(9, 4) | AveragePooling1D(3, strides=2)", ((9 - 3) // 2 + 1, 4), 0),
    ("Input(8, 8, 8, 2) | MaxPooling3D()", (4, 4, 4, 2), 0),
    ("Input(8, 8, 5) | GlobalAveragePooling2D()", (5,), 0),
    ("Input(8, 8, 5) | GlobalMaxPooling2D(keepdims=True)", (1, 1, 5), 0),
    # Structure
    ("Input(4, 4, 3) | Flatten()", (48,), 0),
    ("Input(12) | Reshape((3, -1))", (3, 4), 0),
    ("Input(4, 4, 3) | ZeroPadding2D(((1, 2), (0, 3)))", (7, 7, 3), 0),
    ("Input(4, 3) | ZeroPadding1D(2)", (8, 3), 0),
    ("Input(4, 4, 3) | Dropout(0.5)", (4, 4, 3), 0),
]


@pytest.mark.parametrize("source, shape, params", KERAS_ROWS, ids=[r[0] for r in KERAS_ROWS])
def test_keras_rows(source, shape, params):
    row = only(source)
    assert (row.output_shape, row.params) == (shape, params)
    assert row.trainable == params and row.non_trainable == 0


TORCH_ROWS = [
    # Conv: out = floor((n + 2p − d(k−1) − 1)/s) + 1
    ("Input(8, 50) | nn.Conv1d(8, 16, 3)", (16, 48), 3 * 8 * 16 + 16),
    ("Input(8, 50) | nn.Conv1d(8, 16, 3, groups=4, bias=False)", (16, 48), 3 * (8 // 4) * 16),
    ("Input(3, 224, 224) | nn.Conv2d(3, 64, 3, stride=2, padding=1, dilation=2)", (64, (224 + 2 - 4 - 1) // 2 + 1, 111),
     3 * 3 * 3 * 64 + 64),
    ("Input(32, 9, 9) | nn.Conv2d(32, 64, (3, 5), groups=8, bias=False)", (64, 7, 5), 3 * 5 * (32 // 8) * 64),
    ("Input(3, 8, 8) | nn.Conv2d(3, 8, 4, padding='same')", (8, 8, 8), 4 * 4 * 3 * 8 + 8),
    ("Input(4, 6, 6, 6) | nn.Conv3d(4, 8, 3)", (8, 4, 4, 4), 27 * 4 * 8 + 8),
    # Pooling with ceil_mode: MaxPool2d(2) on 7 → 3, ceil → 4; MaxPool1d(2,2,p=1,ceil) on 5 → 3
    ("Input(1, 7, 7) | nn.MaxPool2d(2)", (1, 3, 3), 0),
    ("Input(1, 7, 7) | nn.MaxPool2d(2, ceil_mode=True)", (1, 4, 4), 0),
    ("Input(1, 5) | nn.MaxPool1d(2, 2, padding=1, ceil_mode=True)", (1, 3), 0),
    ("Input(2, 7, 7) | nn.AdaptiveAvgPool2d((1, None))", (2, 1, 7), 0),
    ("Input(100) | nn.Linear(100, 64)", (64,), 100 * 64 + 64),
    ("Input(2, 3, 4) | nn.Flatten(2)", (2, 12), 0),
    ("Input(1, 4, 4) | nn.ZeroPad2d((1, 2, 3, 4))", (1, 4 + 3 + 4, 4 + 1 + 2), 0),
]


@pytest.mark.parametrize("source, shape, params", TORCH_ROWS, ids=[r[0] for r in TORCH_ROWS])
def test_torch_rows(source, shape, params):
    row = only(source)
    assert (row.output_shape, row.params) == (shape, params)


def test_merges():
    spec = {
        "inputs": {"a": [8, 8, 3], "b": [8, 8, 5], "one": [1, 1, 3]},
        "layers": [
            {"Add": {"inputs": ["a", "one"], "name": "broadcast"}},
            {"Concatenate": {"inputs": ["broadcast", "b"], "name": "channels"}},
            {"Concatenate": {"axis": 1, "inputs": ["a", "a"], "name": "rows"}},
        ],
    }
    report = learnable.count(spec)
    assert report.layer("broadcast").output_shape == (8, 8, 3)
    assert report.layer("channels").output_shape == (8, 8, 3 + 5)
    assert report.layer("rows").output_shape == (16, 8, 3)


def test_trainable_false_moves_weights_to_non_trainable():
    report = learnable.count({"input": [10], "layers": [{"Dense": {"units": 10, "trainable": False}}]})
    row = report.layers[-1]
    assert (row.params, row.trainable, row.non_trainable) == (110, 0, 110)
    assert (report.trainable_params, report.non_trainable_params) == (0, 110)


def test_weight_shapes_follow_keras_layout():
    row = only("Input(10, 10, 32) | Conv2D(64, 3, groups=8)")
    assert [(w.name, w.shape, w.size) for w in row.weights] == [
        ("kernel", (3, 3, 4, 64), 3 * 3 * 4 * 64), ("bias", (64,), 64)]


def test_pytorch_names_choose_channels_first():
    report = learnable.count("Input(3, 32, 32) | nn.Conv2d(3, 16, 3) | nn.MaxPool2d(2)")
    assert report.data_format == "channels_first"
    assert report.layers[-1].output_shape == (16, 15, 15)


def test_pasted_keras_sequential():
    code = '''
import keras
from keras import layers

model = keras.Sequential([
    keras.Input(shape=(28, 28, 1)),
    layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
    layers.MaxPooling2D(pool_size=(2, 2)),
    layers.Flatten(),
    layers.Dropout(0.5),
    layers.Dense(10, activation=keras.activations.softmax, kernel_initializer=keras.initializers.HeNormal()),
], name="mnist")
'''
    report = learnable.count(code)
    assert report.name == "mnist"
    assert [r.params for r in report.layers] == [0, 3 * 3 * 32 + 32, 0, 0, 0, 13 * 13 * 32 * 10 + 10]


def test_keras2_input_shape_and_model_add():
    code = "model.add(Conv2D(8, 3, input_shape=(10, 10, 1)))\nmodel.add(Flatten())\nmodel.add(Dense(2))"
    report = learnable.count(code)
    assert [r.output_shape for r in report.layers] == [(10, 10, 1), (8, 8, 8), (512,), (2,)]


def test_pasted_torch_sequential_with_arithmetic():
    code = "nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(8 * 14 * 14, 10))"
    report = learnable.count("Input(1, 28, 28)\n" + code)
    assert report.layers[-1].params == 8 * 14 * 14 * 10 + 10


@pytest.mark.parametrize("n, k, s, d, padding, pads", [
    # Keras 'same' pads the odd pixel after, and with stride the total depends on n (CONVENTIONS §2.1)
    (6, 3, 2, 1, "same", (0, 1)),
    (7, 3, 2, 1, "same", (1, 1)),
    (224, 3, 2, 1, "same", (0, 1)),
    (224, 7, 2, 1, "same", (2, 3)),
    (6, 4, 1, 1, "same", (1, 2)),  # PyTorch 'same' with an even kernel: [1, 2]
    (9, 3, 1, 2, "causal", (4, 0)),
    (9, 3, 1, 1, "valid", (0, 0)),
    (9, 3, 1, 1, (2, 1), (2, 1)),
])
def test_padding_actually_added(n, k, s, d, padding, pads):
    from learnable.rules._spatial import resolve_padding

    assert resolve_padding(n, k, s, d, padding) == pads
