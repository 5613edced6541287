"""The two counting conventions: which one applies, how weights are listed, side by side."""

from __future__ import annotations

import json

import learnable
from conftest import EXAMPLES, run_cli

TORCH_NET = "Input(3, 8, 8) | nn.Conv2d(3, 16, 3) | nn.ReLU() | nn.Flatten() | nn.Linear(16 * 6 * 6, 10)"


def test_default_convention_follows_the_names():
    assert learnable.count(EXAMPLES / "simple_cnn.yaml").convention == "keras"
    assert learnable.count(TORCH_NET).convention == "pytorch"
    # A Keras layer that owns weights makes a mixed network Keras's.
    assert learnable.count("Input(3, 8, 8) | nn.Conv2d(3, 4, 3) | Flatten() | Dense(2)").convention == "keras"


def test_convention_can_be_stated():
    spec = {"input": [4], "convention": "pytorch", "layers": [{"Dense": 2}]}
    assert learnable.count(spec).convention == "pytorch"
    assert learnable.count(spec, convention="keras").convention == "keras"


def test_weights_are_listed_as_each_framework_stores_them():
    keras = learnable.count(TORCH_NET, convention="keras").layers[1]
    torch = learnable.count(TORCH_NET).layers[1]
    assert [(w.name, w.shape) for w in keras.weights] == [("kernel", (3, 3, 3, 16)), ("bias", (16,))]
    assert [(w.name, w.shape) for w in torch.weights] == [("weight", (16, 3, 3, 3)), ("bias", (16,))]
    assert keras.params == torch.params == 3 * 3 * 3 * 16 + 16
    assert torch.formula == "16×3×3×3 + 16 = 448"


def test_both_side_by_side():
    comparison = learnable.compare_conventions(EXAMPLES / "simple_cnn.yaml")
    assert [pair.differs for pair in comparison.rows] == [False] * 7
    assert comparison.keras.total_params == comparison.pytorch.total_params == 1_199_882
    result = run_cli("count", str(EXAMPLES / "simple_cnn.yaml"), "--convention", "both", "-f", "json")
    data = json.loads(result.stdout)
    assert data["convention"] == "both" and data["keras"]["total_params"] == data["pytorch"]["total_params"]
    assert {"keras_params", "pytorch_params", "pytorch_buffers", "differs", "note"} <= set(data["layers"][1])
    table = run_cli("count", str(EXAMPLES / "simple_cnn.yaml"), "--convention", "both")
    assert table.returncode == 0 and "PyTorch buffers" in table.stdout


def test_bad_convention():
    result = run_cli("count", str(EXAMPLES / "simple_cnn.yaml"), "--convention", "tf")
    assert result.returncode == 2
    spec = {"input": [4], "convention": "tf", "layers": ["Flatten"]}
    try:
        learnable.count(spec)
    except learnable.LearnableError as err:
        assert "'convention:' must be keras or pytorch" in str(err)
    else:
        raise AssertionError("accepted convention: tf")


def test_calls_in_ignored_arguments_are_not_layers():
    report = learnable.count("Input(4) | Dense(3, kernel_initializer=keras.initializers.HeNormal(seed=1))")
    assert report.total_params == 4 * 3 + 3


def test_embedding_input_dim_is_its_vocabulary_not_a_shape():
    report = learnable.count("Input(10) | Embedding(input_dim=1000, output_dim=64)")
    assert report.total_params == 1000 * 64


def test_keras_lora_dense_freezes_the_kernel():
    row = learnable.count("Input(7) | Dense(5, lora_rank=2)").layers[-1]
    assert (row.params, row.trainable, row.non_trainable) == (7 * 5 + 5 + 7 * 2 + 2 * 5, 5 + 7 * 2 + 2 * 5, 7 * 5)


def test_both_explains_batch_norm_lstm_and_prelu():
    network = "Input(10, 16) | LSTM(32, return_sequences=True) | BatchNormalization() | PReLU() | Flatten() | Dense(2)"
    pairs = {pair.keras.type: pair for pair in learnable.compare_conventions(network).rows}
    lstm, bn, prelu = pairs["LSTM"], pairs["BatchNormalization"], pairs["PReLU"]
    # LSTM: Keras 4[u(d + u) + u], PyTorch 4[h(d + h) + 2h]
    assert (lstm.keras.params, lstm.pytorch.params) == (4 * (32 * (16 + 32) + 32), 4 * (32 * (16 + 32) + 2 * 32))
    assert lstm.differs and "two" in lstm.note
    # BatchNormalization: Keras 4C (2C non-trainable); PyTorch 2C + buffers 2C + 1
    assert (bn.keras.params, bn.keras.non_trainable, bn.pytorch.params, bn.pytorch.buffers) == (4 * 32, 2 * 32, 2 * 32, 2 * 32 + 1)
    assert bn.differs and "buffers" in bn.note
    # PReLU: Keras learns one slope per element (10×32); PyTorch's module cannot, and says so
    assert prelu.keras.params == 10 * 32 and "one slope or one per channel" in prelu.note


def test_plain_operations_do_not_make_a_pytorch_spec_keras():
    spec = {"inputs": {"a": [4], "b": [4]}, "layers": [
        {"Embedding": {"num_embeddings": 10, "embedding_dim": 8, "inputs": ["a"], "name": "x"}},
        {"Embedding": {"num_embeddings": 10, "embedding_dim": 8, "inputs": ["b"], "name": "y"}},
        {"Add": {"inputs": ["x", "y"]}},
        {"Linear": [8, 2]},
    ]}
    report = learnable.count(spec)
    assert report.convention == "pytorch"
    assert report.total_params == 2 * (10 * 8) + (8 * 2 + 2)
