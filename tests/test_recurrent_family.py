"""Recurrent layers: SimpleRNN/LSTM/GRU, Bidirectional and ConvLSTM (Keras); RNN/LSTM/GRU and
their cells (PyTorch), each counted in both conventions.

Expected values are hand arithmetic (CONVENTIONS.md §1, notes 4-5) or the frameworks
themselves: every differential test builds the layer in Keras or torch and compares each
tensor's name and shape, the counts and the output shape. No number comes from learnable.
"""

from __future__ import annotations

import random
import warnings
from typing import Any

import pytest

import learnable
from conftest import assert_formulas_hold, run_cli, sweep

d, u = 32, 64  # CONVENTIONS.md's example: 32 input features, 64 units


def row(source: Any, convention: str | None = None):
    return learnable.count(source, convention=convention).layers[-1]


def spec(input_shape, item) -> dict:
    return {"input": list(input_shape), "layers": [item]}


# ---- per-layer tables ---------------------------------------------------------------------

# (network, Keras-convention params, PyTorch-convention params, output shape)
TABLE = [
    # Keras: one bias vector; PyTorch: bias_ih and bias_hh
    ("Input(10, 32) | SimpleRNN(64)", d * u + u * u + u, u * d + u * u + 2 * u, (u,)),
    ("Input(10, 32) | SimpleRNN(64, use_bias=False)", d * u + u * u, d * u + u * u, (u,)),
    ("Input(10, 32) | LSTM(64)", 4 * (u * (d + u) + u), 4 * (u * (d + u) + 2 * u), (u,)),
    ("Input(10, 32) | LSTM(64, return_sequences=True)", 24_832, 25_088, (10, u)),
    ("Input(None, 32) | LSTM(64, return_sequences=True)", 24_832, 25_088, (None, u)),
    ("Input(10, 32) | GRU(64)", 3 * (u * (d + u) + 2 * u), 3 * (u * (d + u) + 2 * u), (u,)),
    ("Input(10, 32) | GRU(64)", 18_816, 18_816, (u,)),
    ("Input(10, 32) | GRU(64, reset_after=False)", 3 * (u * (d + u) + u), 18_624, (u,)),
    ("Input(10, 32) | LSTM(64, return_state=True)", 24_832, 25_088, (u,)),
    # Bidirectional: twice the wrapped layer; merge_mode changes only the shape
    ("Input(10, 32) | Bidirectional(LSTM(64))", 2 * 24_832, 2 * 25_088, (2 * u,)),
    ("Input(10, 32) | Bidirectional(LSTM(64))", 49_664, 50_176, (128,)),
    ("Input(10, 32) | Bidirectional(GRU(64), merge_mode='sum')", 37_632, 37_632, (u,)),
    ("Input(10, 32) | Bidirectional(GRU(64, return_sequences=True), merge_mode='ave')", 2 * 18_816, 37_632, (10, u)),
    ("Input(10, 32) | Bidirectional(SimpleRNN(64, return_sequences=True), merge_mode=None)", 2 * 6_208, 2 * 6_272,
     (10, u)),
    # PyTorch stacks: layers ≥ 2 read hidden·dirs (or proj·dirs) features
    ("Input(10, 32) | nn.LSTM(32, 64)", 24_832, 25_088, (10, u)),
    ("Input(10, 32) | nn.LSTM(32, 64, num_layers=2)", 58_368, 4 * (u * (d + u) + 2 * u) + 4 * (u * (u + u) + 2 * u),
     (10, u)),
    ("Input(10, 32) | nn.LSTM(32, 64, num_layers=2, bidirectional=True)", 149_504,
     2 * 4 * (u * (d + u) + 2 * u) + 2 * 4 * (u * (2 * u + u) + 2 * u), (10, 2 * u)),
    ("Input(10, 32) | nn.LSTM(32, 64, proj_size=16)", 13_824, 4 * u * d + 4 * u * 16 + 8 * u + 16 * u, (10, 16)),
    ("Input(10, 32) | nn.LSTM(32, 64, bidirectional=True)", 49_664, 50_176, (10, 128)),
    ("Input(10, 32) | nn.GRU(32, 64, num_layers=3, bias=False)", 67_584,
     3 * u * (d + u) + 2 * 3 * u * (u + u), (10, u)),
    ("Input(10, 32) | nn.RNN(32, 64, 1, 'relu')", 6_208, 6_272, (10, u)),
    ("Input(32) | nn.LSTMCell(32, 64)", 24_832, 25_088, (u,)),
    ("Input(32) | nn.GRUCell(32, 64, bias=False)", 3 * u * (d + u), 3 * u * (d + u), (u,)),
    ("Input(32) | nn.RNNCell(32, 64)", 6_208, 6_272, (u,)),
    # ConvLSTM: k·C_in·4f + k·f·4f + 4f; PyTorch has none
    ("Input(5, 16, 16, 3) | ConvLSTM2D(8, 3)", 3 * 3 * 3 * 32 + 3 * 3 * 8 * 32 + 32, 3_200, (14, 14, 8)),
    ("Input(5, 16, 16, 3) | ConvLSTM2D(8, 3, strides=2, padding='same', return_sequences=True)", 3_200, 3_200,
     (5, 8, 8, 8)),
    ("Input(None, 9, 2) | ConvLSTM1D(4, 3, use_bias=False)", 3 * 2 * 16 + 3 * 4 * 16, 3 * 2 * 16 + 3 * 4 * 16, (7, 4)),
]


@pytest.mark.parametrize("source, keras_params, torch_params, shape", TABLE)
def test_table(source, keras_params, torch_params, shape):
    for convention, params in (("keras", keras_params), ("pytorch", torch_params)):
        r = row(source, convention)
        assert (r.params, r.output_shape) == (params, shape), (convention, r.params, r.output_shape)
        assert r.trainable == params and r.buffers == 0
        assert_formulas_hold(r)


@pytest.mark.parametrize("source, keras_weights, torch_weights", [
    ("Input(10, 32) | LSTM(64)", [("kernel", (d, 4 * u)), ("recurrent_kernel", (u, 4 * u)), ("bias", (4 * u,))],
     [("weight_ih_l0", (4 * u, d)), ("weight_hh_l0", (4 * u, u)), ("bias_ih_l0", (4 * u,)), ("bias_hh_l0", (4 * u,))]),
    ("Input(10, 32) | GRU(64)", [("kernel", (d, 3 * u)), ("recurrent_kernel", (u, 3 * u)), ("bias", (2, 3 * u))],
     [("weight_ih_l0", (3 * u, d)), ("weight_hh_l0", (3 * u, u)), ("bias_ih_l0", (3 * u,)), ("bias_hh_l0", (3 * u,))]),
    ("Input(10, 32) | nn.LSTM(32, 64, proj_size=16)",
     [("weight_ih_l0", (4 * u, d)), ("weight_hh_l0", (4 * u, 16)), ("bias_ih_l0", (4 * u,)), ("bias_hh_l0", (4 * u,)),
      ("weight_hr_l0", (16, u))], None),
    ("Input(10, 32) | Bidirectional(SimpleRNN(64, use_bias=False))",
     [("kernel", (d, u)), ("recurrent_kernel", (u, u))] * 2,
     [("weight_ih_l0", (u, d)), ("weight_hh_l0", (u, u)), ("weight_ih_l0_reverse", (u, d)),
      ("weight_hh_l0_reverse", (u, u))]),
])
def test_weights_as_each_framework_stores_them(source, keras_weights, torch_weights):
    assert [(w.name, w.shape) for w in row(source, "keras").weights] == keras_weights
    assert [(w.name, w.shape) for w in row(source, "pytorch").weights] == (torch_weights or keras_weights)


@pytest.mark.parametrize("source, differs, fragments", [
    ("Input(10, 32) | LSTM(64)", True, ["one bias vector", "256 more"]),
    ("Input(10, 32) | SimpleRNN(64)", True, ["nn.RNN keeps two", "64 more"]),
    ("Input(10, 32) | Bidirectional(LSTM(64))", True, ["per direction, 512 in all"]),
    ("Input(10, 32) | nn.LSTM(32, 64)", True, ["one bias vector"]),
    ("Input(32) | nn.LSTMCell(32, 64)", True, ["LSTMCell keeps one bias vector"]),
    ("Input(10, 32) | GRU(64)", False, []),
    ("Input(10, 32) | LSTM(64, use_bias=False)", False, []),
])
def test_notes_where_the_conventions_count_apart(source, differs, fragments):
    pair = learnable.compare_conventions(source).rows[-1]
    assert pair.differs is differs
    for note in (pair.keras.note, pair.pytorch.note):  # stated in both conventions
        assert all(f in note for f in fragments), note
        assert bool(note) is differs


@pytest.mark.parametrize("source, convention, fragment", [
    ("Input(10, 32) | GRU(64, reset_after=False)", "pytorch", "no equivalent of reset_after=False"),
    ("Input(10, 32) | SimpleRNN(64, activation='sigmoid')", "pytorch", "no equivalent of activation 'sigmoid'"),
    ("Input(10, 32) | SimpleRNN(64, activation=None)", "pytorch", "activation 'linear'"),
    ("Input(10, 32) | LSTM(64, recurrent_activation='hard_sigmoid')", "pytorch", "recurrent_activation 'hard_sigmoid'"),
    ("Input(10, 32) | LSTM(4, activation=keras.activations.relu)", "pytorch", "activation 'relu'"),
    ("Input(10, 9, 4) | Bidirectional(ConvLSTM1D(4, 3))", "pytorch", "no single module"),
    ("Input(5, 8, 8, 3) | ConvLSTM2D(8, 3)", "pytorch", "no ConvLSTM"),
    ("Input(10, 32) | nn.LSTM(32, 64, num_layers=3)", "keras", "stack of 3 LSTM layers"),
    ("Input(10, 32) | nn.LSTM(32, 64, proj_size=8)", "keras", "no projection (proj_size)"),
    ("Input(10, 32) | LSTM(64, return_state=True)", "keras", "final states h and c, of shape (64,)"),
    ("Input(10, 32) | GRU(64, return_sequences=True, return_state=True)", "keras", "final state h, of shape (64,)"),
    ("Input(10, 32) | Bidirectional(LSTM(64), merge_mode=None)", "keras", "the forward one"),
])
def test_notes_on_what_a_framework_lacks(source, convention, fragment):
    assert fragment in row(source, convention).note


def test_both_conventions_side_by_side_on_the_command_line():
    result = run_cli("count", "Input(10, 32) | LSTM(64)", "--convention", "both", "-f", "json")
    assert result.returncode == 0, result.stderr
    assert '"keras_params": 24832' in result.stdout and '"pytorch_params": 25088' in result.stdout


def test_spec_forms_of_a_wrapped_layer():
    yaml_form = {"input": [10, 32], "layers": [{"Bidirectional": {"layer": {"LSTM": 64}}}]}
    nested_keywords = spec([10, 32], {"Bidirectional": {"layer": {"LSTM": {"units": 64, "return_sequences": True}},
                                                         "merge_mode": "mul"}})
    assert row(yaml_form).params == row("Input(10, 32) | Bidirectional(LSTM(64))").params == 2 * 24_832
    assert row(nested_keywords).output_shape == (10, 64)
    backward = spec([10, 32], {"Bidirectional": {"layer": {"LSTM": 64},
                                                 "backward_layer": {"GRU": {"units": 8, "go_backwards": True}}}})
    assert (row(backward).params, row(backward).output_shape) == (24_832 + 3 * (8 * (32 + 8) + 2 * 8), (64 + 8,))


@pytest.mark.parametrize("source", [
    "Input(10, 32) | Bidirectional(LSTM(64), backward_layer=LSTM(64, go_backwards=True))",
    "Input(10, 32) | Bidirectional(LSTM(64, name='encoder'))",
])
def test_compact_forms_of_nested_layers(source):
    assert row(source).params == 2 * 24_832


@pytest.mark.parametrize("source, fragment", [
    ("Input(10, 32) | LSTM(32, 64)", "write nn.LSTM"),
    ("Input(10, 32, 3) | LSTM(3)", "expects a 2-D input (timesteps, features"),
    ("Input(10, None) | GRU(3)", "known number of features"),
    ("Input(10, 32) | LSTM(0)", "must be a positive integer"),
    ("Input(10, 32) | nn.LSTM(16, 64)", "input_size=16 but its input (10, 32) has 32 features"),
    ("Input(10, 32) | nn.LSTM(32, 64, proj_size=64)", "proj_size=64 must be smaller than hidden_size=64"),
    ("Input(10, 32) | nn.GRU(32, 64, proj_size=4)", "'proj_size' is not an argument"),
    ("Input(10, 32) | nn.RNN(32, 64, nonlinearity='sigmoid')", "must be one of 'tanh' or 'relu'"),
    ("Input(10, 32) | nn.LSTM(32, 64, num_layers=100000)", "more than the 10,000 layers"),
    ("Input(10, 32) | nn.LSTM(32, 64, dropout=1.5)", "from 0 to 1"),
    ("Input(10, 32) | nn.LSTMCell(32, 64)", "expects a 1-D input"),
    ("Input(10, 32) | Bidirectional(Dense(4))", "must be a Keras recurrent layer"),
    ("Input(10, 32) | Bidirectional(nn.LSTM(32, 4))", "bidirectional=True"),
    ("Input(10, 32) | Bidirectional(LSTM(4, go_backwards=True))", "different go_backwards"),
    ("Input(10, 32) | Bidirectional(LSTM(4), merge_mode='max')", "must be one of"),
    ("Input(5, 8, 8) | ConvLSTM2D(4, 3)", "expects a 4-D input (timesteps, height, width, channels"),
    ("Input(5, None, 8, 3) | ConvLSTM2D(4, 3)", "known spatial sizes"),
    ("Input(5, 3, 3, 3) | ConvLSTM2D(4, 5)", "kernel 5×5 is larger than its input 3×3"),
    ("Input(5, 9, 9, 3) | ConvLSTM2D(4, 3, strides=2, dilation_rate=2)", "not supported by Keras"),
])
def test_errors(source, fragment):
    with pytest.raises(learnable.LearnableError) as caught:
        learnable.count(source)
    assert fragment in str(caught.value)


@pytest.mark.parametrize("backward, fragment", [
    ({"LSTM": {"units": 4}}, "different go_backwards"),
    ({"LSTM": {"units": 4, "go_backwards": True, "return_sequences": True}}, "same return_sequences"),
])
def test_errors_of_a_backward_layer(backward, fragment):
    with pytest.raises(learnable.LearnableError, match=fragment):
        learnable.count(spec([10, 32], {"Bidirectional": {"layer": {"LSTM": 4}, "backward_layer": backward}}))


@pytest.mark.parametrize("layer, params", [("LSTM(5)", 4 * (5 * (12 + 5) + 5)),
                                           ("nn.GRU(12, 5)", 3 * (5 * (12 + 5) + 2 * 5))])
def test_params_do_not_depend_on_sequence_length(layer, params):
    assert {row(f"Input({n}, 12) | {layer}").params for n in ("None", 1, 7, 300)} == {params}


# ---- differential: Keras and torch decide ---------------------------------------------------

TORCH_OF = {"SimpleRNN": "RNN", "LSTM": "LSTM", "GRU": "GRU"}
KERAS_OF = {v: k for k, v in TORCH_OF.items()}


def frameworks():
    """(keras, torch, helpers), or a skip when either framework is missing."""
    import frameworks as helpers  # sets KERAS_BACKEND=torch before Keras is imported

    return pytest.importorskip("keras"), pytest.importorskip("torch"), helpers


def only_item(item: dict) -> tuple[str, dict]:
    ((name, args),) = item.items()
    return name, dict(args)


def keras_layer(keras, item: dict):
    name, args = only_item(item)
    for key in ("layer", "backward_layer"):
        if args.get(key):
            args[key] = keras_layer(keras, args[key])
    if name != "Bidirectional":  # shapes only: skip the slow orthogonal (QR) initialisation
        args.update(kernel_initializer="zeros", recurrent_initializer="zeros")
    return getattr(keras.layers, name)(**args)


def keras_output(keras, layer, input_shape, eager: bool = False) -> tuple:
    """The layer built on a keras.Input, or run on zeros (``eager``: Keras's symbolic shape of
    a Bidirectional whose backward layer has other units is wrong; the tensors are not)."""
    if eager:
        y = layer(keras.ops.zeros((1, *input_shape)))
    else:
        y = layer(keras.Input(tuple(input_shape)))
    y = y[0] if isinstance(y, (list, tuple)) else y
    return tuple(y.shape[1:])


def torch_output(torch, module, input_shape) -> tuple:
    """Run on zeros with batch 1 where batch_first puts it; the shape without the batch."""
    batch_first = getattr(module, "batch_first", True)
    x = torch.zeros(1, *input_shape) if batch_first else torch.zeros(input_shape[0], 1, *input_shape[1:])
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # LSTM projections warn that oneDNN lacks them
        y = module(x)
    y = y[0] if isinstance(y, tuple) else y  # (output, h_n, ...) / LSTMCell's (h, c)
    return tuple(y.shape[1:]) if batch_first else (y.shape[0], *y.shape[2:])


def torch_equivalent(torch, item: dict, features: int):
    """The torch module that holds a Keras layer's tensors, or None where torch has none."""
    name, a = only_item(item)
    bidirectional = name == "Bidirectional"
    if bidirectional:
        backward = a.get("backward_layer")
        name, a = only_item(a["layer"])
        if backward and backward != {name: {**a, "go_backwards": True}}:
            return None
    act, rec = a.get("activation", "tanh"), a.get("recurrent_activation", "sigmoid")
    if name not in TORCH_OF or not a.get("reset_after", True):
        return None
    if (act not in ("tanh", "relu")) if name == "SimpleRNN" else ((act, rec) != ("tanh", "sigmoid")):
        return None
    kwargs = {"input_size": features, "hidden_size": a["units"], "bias": a.get("use_bias", True),
              "bidirectional": bidirectional, "batch_first": True}
    return getattr(torch.nn, TORCH_OF[name])(**kwargs, **({"nonlinearity": act} if name == "SimpleRNN" else {}))


def keras_equivalent(keras, item: dict):
    """The Keras layer that holds a one-layer torch module's tensors (a cell: Keras's cell)."""
    name, a = only_item(item)
    name = name.removeprefix("nn.")
    kind = KERAS_OF[name.removesuffix("Cell")]
    kwargs = {"units": a["hidden_size"], "use_bias": a.get("bias", True)}
    if kind == "SimpleRNN":
        kwargs["activation"] = a.get("nonlinearity", "tanh")
    if name.endswith("Cell"):
        cell = getattr(keras.layers, kind + "Cell")(**kwargs)
        cell.build((None, a["input_size"]))
        return cell
    layer = getattr(keras.layers, kind)(return_sequences=True, **kwargs)
    return keras.layers.Bidirectional(layer) if a.get("bidirectional") else layer


def check_keras_item(item: dict, input_shape: list, eager: bool = False) -> None:
    """Keras convention against Keras; PyTorch convention against the torch equivalent, or
    against Keras again with a note where torch has none."""
    keras, torch, helpers = frameworks()
    layer = keras_layer(keras, item)
    shape = keras_output(keras, layer, input_shape, eager)
    helpers.assert_row_matches_keras(row(spec(input_shape, item), "keras"), layer, shape)
    as_torch = row(spec(input_shape, item), "pytorch")
    module = torch_equivalent(torch, item, input_shape[-1])
    if module is None:
        helpers.assert_row_matches_keras(as_torch, layer, shape)
        assert "PyTorch has no" in as_torch.note
        return
    helpers.assert_row_matches_torch(as_torch, module, shape)
    ran = torch_output(torch, module, [input_shape[0] or 3, input_shape[1]])
    merge = item.get("Bidirectional", {}).get("merge_mode", "concat")
    if merge == "concat":  # the same features per step; Keras's other merges fold the directions
        assert shape[-1] == ran[-1], (shape, ran)


def check_torch_item(item: dict, input_shape: list) -> None:
    """PyTorch convention against torch; Keras convention against the Keras equivalent, or
    against torch again with a note where Keras has none (stacks, projections)."""
    keras, torch, helpers = frameworks()
    name, a = only_item(item)
    module = getattr(torch.nn, name.removeprefix("nn."))(**a)
    shape = torch_output(torch, module, input_shape)
    helpers.assert_row_matches_torch(row(spec(input_shape, item), "pytorch"), module, shape)
    as_keras = row(spec(input_shape, item), "keras")
    if a.get("num_layers", 1) > 1 or a.get("proj_size", 0):
        helpers.assert_row_matches_torch(as_keras, module, shape)
        assert "Keras has no" in as_keras.note
        return
    layer = keras_equivalent(keras, item)
    if not name.endswith("Cell"):
        assert keras_output(keras, layer, input_shape) == shape
    helpers.assert_row_matches_keras(as_keras, layer, shape)


KERAS_CASES = [
    ({"SimpleRNN": {"units": 64}}, [10, 32]),
    ({"SimpleRNN": {"units": 5, "activation": "relu", "return_sequences": True}}, [None, 3]),
    ({"SimpleRNN": {"units": 5, "activation": "sigmoid", "use_bias": False}}, [4, 3]),
    ({"LSTM": {"units": 64}}, [10, 32]),
    ({"LSTM": {"units": 7, "return_sequences": True, "return_state": True}}, [None, 5]),
    ({"LSTM": {"units": 7, "recurrent_activation": "hard_sigmoid"}}, [6, 5]),
    ({"GRU": {"units": 64}}, [10, 32]),
    ({"GRU": {"units": 64, "reset_after": False}}, [10, 32]),
    ({"GRU": {"units": 6, "use_bias": False, "go_backwards": True, "unroll": True}}, [4, 2]),
    ({"Bidirectional": {"layer": {"LSTM": {"units": 64}}}}, [10, 32]),
    ({"Bidirectional": {"layer": {"GRU": {"units": 64}}, "merge_mode": "sum"}}, [10, 32]),
    ({"Bidirectional": {"layer": {"GRU": {"units": 4, "return_sequences": True, "return_state": True}},
                        "merge_mode": None}}, [None, 3]),
    ({"Bidirectional": {"layer": {"LSTM": {"units": 4}},
                        "backward_layer": {"LSTM": {"units": 4, "go_backwards": True}}}}, [5, 3]),
    ({"ConvLSTM2D": {"filters": 8, "kernel_size": 3}}, [5, 16, 16, 3]),
    ({"ConvLSTM2D": {"filters": 4, "kernel_size": [3, 2], "strides": 2, "padding": "same",
                     "return_sequences": True}}, [None, 9, 8, 3]),
    ({"ConvLSTM2D": {"filters": 3, "kernel_size": 3, "data_format": "channels_first"}}, [4, 2, 9, 9]),
    ({"ConvLSTM1D": {"filters": 3, "kernel_size": 3, "dilation_rate": 2, "return_state": True}}, [4, 9, 2]),
    ({"ConvLSTM3D": {"filters": 2, "kernel_size": 2, "use_bias": False}}, [3, 4, 5, 6, 2]),
    ({"Bidirectional": {"layer": {"ConvLSTM2D": {"filters": 4, "kernel_size": 3}}}}, [5, 8, 8, 3]),
    ({"Bidirectional": {"layer": {"ConvLSTM2D": {"filters": 4, "kernel_size": 3, "data_format": "channels_first"}}}},
     [5, 3, 8, 8]),
]


@pytest.mark.frameworks
@pytest.mark.parametrize("item, input_shape", KERAS_CASES)
def test_keras_layers(item, input_shape):
    check_keras_item(item, input_shape)


@pytest.mark.frameworks
@pytest.mark.parametrize("backward", [{"LSTM": {"units": 6, "go_backwards": True}},
                                      {"GRU": {"units": 3, "go_backwards": True, "reset_after": False}}])
def test_bidirectional_with_another_backward_layer(backward):
    item = {"Bidirectional": {"layer": {"LSTM": {"units": 4}}, "backward_layer": backward}}
    check_keras_item(item, [5, 3], eager=True)


TORCH_CASES = [
    ({"nn.RNN": {"input_size": 32, "hidden_size": 64}}, [10, 32]),
    ({"nn.RNN": {"input_size": 3, "hidden_size": 5, "nonlinearity": "relu", "bidirectional": True}}, [4, 3]),
    ({"nn.LSTM": {"input_size": 32, "hidden_size": 64}}, [10, 32]),
    ({"nn.LSTM": {"input_size": 32, "hidden_size": 64, "num_layers": 2}}, [10, 32]),
    ({"nn.LSTM": {"input_size": 32, "hidden_size": 64, "num_layers": 2, "bidirectional": True}}, [10, 32]),
    ({"nn.LSTM": {"input_size": 32, "hidden_size": 64, "proj_size": 16}}, [10, 32]),
    ({"nn.LSTM": {"input_size": 5, "hidden_size": 8, "num_layers": 3, "bidirectional": True, "proj_size": 3,
                  "batch_first": True, "bias": False, "dropout": 0.5}}, [4, 5]),
    ({"nn.GRU": {"input_size": 32, "hidden_size": 64, "num_layers": 3, "bias": False}}, [10, 32]),
    ({"nn.GRU": {"input_size": 3, "hidden_size": 4, "bidirectional": True, "batch_first": True}}, [6, 3]),
    ({"nn.RNNCell": {"input_size": 3, "hidden_size": 4, "nonlinearity": "relu"}}, [3]),
    ({"nn.LSTMCell": {"input_size": 32, "hidden_size": 64}}, [32]),
    ({"nn.GRUCell": {"input_size": 3, "hidden_size": 4, "bias": False}}, [3]),
]


@pytest.mark.frameworks
@pytest.mark.parametrize("item, input_shape", TORCH_CASES)
def test_torch_modules(item, input_shape):
    check_torch_item(item, input_shape)


# ---- a seeded random sweep ------------------------------------------------------------------


def random_keras_item(rng: random.Random) -> tuple[dict, list, bool]:
    """(item, input shape, eager): a Keras SimpleRNN/LSTM/GRU, often wrapped in Bidirectional."""
    kind = rng.choice(list(TORCH_OF))
    a: dict[str, Any] = {"units": rng.randint(1, 24)}
    for key, odds, value in (("use_bias", .25, False), ("return_sequences", .5, True), ("return_state", .2, True)):
        if rng.random() < odds:
            a[key] = value
    if kind == "GRU" and rng.random() < .3:
        a["reset_after"] = False
    if kind == "SimpleRNN" and rng.random() < .35:
        a["activation"] = rng.choice(["relu", "sigmoid", None])
    if kind != "SimpleRNN" and rng.random() < .1:
        a["recurrent_activation"] = "hard_sigmoid"
    shape, item = [rng.choice([None, rng.randint(1, 6)]), rng.randint(1, 12)], {kind: a}
    if rng.random() > .45:
        return item, shape, False
    wrapper = {"layer": item, "merge_mode": rng.choice(["concat", "sum", "mul", "ave", None])}
    if rng.random() < .3:  # another backward layer; other units only where concat can join them
        units = rng.randint(1, 24) if wrapper["merge_mode"] == "concat" else a["units"]
        wrapper["backward_layer"] = {kind: {**a, "units": units, "go_backwards": True}}
        return {"Bidirectional": wrapper}, [rng.randint(1, 6), shape[1]], True
    return {"Bidirectional": wrapper}, shape, False


def random_torch_item(rng: random.Random) -> tuple[dict, list]:
    """(item, input shape): a torch RNN/LSTM/GRU module or cell."""
    name = rng.choice(["RNN", "LSTM", "GRU"]) + ("Cell" if rng.random() < .2 else "")
    features, hidden = rng.randint(1, 12), rng.randint(1, 20)
    a: dict[str, Any] = {"input_size": features, "hidden_size": hidden}
    if rng.random() < .25:
        a["bias"] = False
    if name.startswith("RNN") and rng.random() < .4:
        a["nonlinearity"] = "relu"
    if name.endswith("Cell"):
        return {"nn." + name: a}, [features]
    for key, odds, value in (("num_layers", .5, rng.randint(2, 3)), ("bidirectional", .4, True),
                             ("batch_first", .4, True)):
        if rng.random() < odds:
            a[key] = value
    if name == "LSTM" and hidden > 1 and rng.random() < .35:
        a["proj_size"] = rng.randint(1, hidden - 1)
    if a.get("num_layers", 1) > 1 and rng.random() < .3:
        a["dropout"] = 0.25
    return {"nn." + name: a}, [rng.randint(1, 6), features]


@pytest.mark.frameworks
@pytest.mark.parametrize("seed", sweep(90))
def test_random_keras_layers(seed):
    check_keras_item(*random_keras_item(random.Random(seed)))


@pytest.mark.frameworks
@pytest.mark.parametrize("seed", sweep(90))
def test_random_torch_modules(seed):
    check_torch_item(*random_torch_item(random.Random(seed)))


def test_the_sweep_reaches_every_branch():
    keras_items = [random_keras_item(random.Random(s)) for s in range(90)]
    torch_items = [only_item(random_torch_item(random.Random(s))[0]) for s in range(90)]
    wrapped = [i["Bidirectional"] for i, _, _ in keras_items if "Bidirectional" in i]
    assert {w["merge_mode"] for w in wrapped} == {"concat", "sum", "mul", "ave", None}
    assert sum("backward_layer" in w for w in wrapped) >= 3
    assert sum(shape[0] is None for _, shape, _ in keras_items) >= 10
    assert any(a.get("reset_after") is False for i, _, _ in keras_items for a in i.values())
    assert {n for n, _ in torch_items} >= {"nn.RNN", "nn.LSTM", "nn.GRU", "nn.RNNCell", "nn.LSTMCell", "nn.GRUCell"}
    assert sum(a.get("proj_size", 0) > 0 for _, a in torch_items) >= 3
    assert sum(a.get("num_layers", 1) > 1 and a.get("bidirectional", False) for _, a in torch_items) >= 3


# ---- what the frameworks refuse, learnable refuses ---------------------------------------------


@pytest.mark.frameworks
@pytest.mark.parametrize("item, input_shape", [
    ({"LSTM": {"units": 4}}, [5, None]),
    ({"GRU": {"units": 4}}, [5, 3, 2]),
    ({"Bidirectional": {"layer": {"LSTM": {"units": 4, "go_backwards": True}}}}, [5, 3]),
    ({"Bidirectional": {"layer": {"LSTM": {"units": 4}}, "backward_layer": {"LSTM": {"units": 4}}}}, [5, 3]),
    ({"Bidirectional": {"layer": {"LSTM": {"units": 4}},
                        "backward_layer": {"LSTM": {"units": 4, "go_backwards": True, "return_state": True}}}}, [5, 3]),
    ({"ConvLSTM2D": {"filters": 3, "kernel_size": 3, "strides": 2, "dilation_rate": 2}}, [4, 9, 9, 3]),
    ({"ConvLSTM2D": {"filters": 3, "kernel_size": 5}}, [4, 3, 3, 3]),
    ({"ConvLSTM2D": {"filters": 3, "kernel_size": 3}}, [4, None, 6, 2]),
])
def test_keras_and_learnable_both_refuse(item, input_shape):
    keras, _, _ = frameworks()
    with pytest.raises(ValueError):
        keras_output(keras, keras_layer(keras, item), input_shape)
    with pytest.raises(learnable.LearnableError):
        learnable.count(spec(input_shape, item))


@pytest.mark.frameworks
def test_merging_outputs_of_two_widths_fails_in_keras_too():
    keras, _, _ = frameworks()
    item = {"Bidirectional": {"layer": {"LSTM": {"units": 4}}, "merge_mode": "sum",
                              "backward_layer": {"LSTM": {"units": 6, "go_backwards": True}}}}
    with pytest.raises(RuntimeError, match="must match"):  # only on real tensors: the symbolic shape passes
        keras_output(keras, keras_layer(keras, item), [5, 3], eager=True)
    with pytest.raises(learnable.LearnableError, match="one shape"):
        learnable.count(spec([5, 3], item))


@pytest.mark.frameworks
@pytest.mark.parametrize("item, input_shape", [
    ({"nn.LSTM": {"input_size": 3, "hidden_size": 4, "proj_size": 4}}, [5, 3]),
    ({"nn.GRU": {"input_size": 3, "hidden_size": 4, "proj_size": 2}}, [5, 3]),
    ({"nn.RNN": {"input_size": 3, "hidden_size": 4, "nonlinearity": "sigmoid"}}, [5, 3]),
    ({"nn.LSTM": {"input_size": 3, "hidden_size": 4}}, [5, 4]),
    ({"nn.GRUCell": {"input_size": 3, "hidden_size": 4}}, [2]),
    ({"nn.LSTM": {"input_size": 3, "hidden_size": 4, "dropout": 1.5}}, [5, 3]),
])
def test_torch_and_learnable_both_refuse(item, input_shape):
    _, torch, _ = frameworks()
    name, a = only_item(item)
    with pytest.raises((ValueError, RuntimeError, TypeError)):
        torch_output(torch, getattr(torch.nn, name.removeprefix("nn."))(**a), input_shape)
    with pytest.raises(learnable.LearnableError):
        learnable.count(spec(input_shape, item))


@pytest.mark.frameworks
def test_the_comparisons_can_fail():
    keras, torch, helpers = frameworks()
    lstm = row(spec([10, 32], {"LSTM": {"units": 64}}), "keras")
    gru = keras_layer(keras, {"GRU": {"units": 64}})
    with pytest.raises(AssertionError):
        helpers.assert_row_matches_keras(lstm, gru, keras_output(keras, gru, [10, 32]))
    lstm_layer = keras_layer(keras, {"LSTM": {"units": 64, "return_sequences": True}})
    with pytest.raises(AssertionError):  # right weights, wrong output shape
        helpers.assert_row_matches_keras(lstm, lstm_layer, keras_output(keras, lstm_layer, [10, 32]))
    as_torch = row(spec([10, 32], {"LSTM": {"units": 64}}), "pytorch")
    with pytest.raises(AssertionError):  # Keras's one bias is not torch's two
        helpers.assert_row_matches_torch(as_torch, torch.nn.LSTM(32, 64, bias=False))
