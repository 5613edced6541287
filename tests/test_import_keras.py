"""The Keras importer against Keras itself: real models, built here, never run on data.

Every report is compared with the framework through Keras's public API: each layer's
``count_params()``, ``trainable_weights`` / ``non_trainable_weights`` and output tensor,
the model's totals, and (for the keras.applications models CONVENTIONS.md §3.1 lists) the
totals written there. Rows are found by their path (``outer/inner``), the way a user reads
the report; every printed formula must evaluate to its numbers.
"""

from __future__ import annotations

import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import gc
import math
import re
from typing import Any

import pytest

keras = pytest.importorskip("keras")

from conftest import assert_formulas_hold

import learnable
from learnable import engine
from learnable.errors import SpecError
from learnable.importers import keras_model
from learnable.render import render
from learnable.rules import all_rules

pytestmark = pytest.mark.frameworks
L = keras.layers


def count(model: Any, **options: Any) -> learnable.Report:
    return engine.run(keras_model.to_graph(model, **options))


def size(weights: Any) -> int:
    return sum(math.prod(w.shape) for w in weights)


# ---- the oracle: Keras's own layers, counts and shapes ---------------------------------------


def keras_layers(model: Any, prefix: str = "") -> list[tuple[str, Any]]:
    """(path, layer) of every layer Keras lists, nested Sequential/functional models opened.
    A nested model's own InputLayers are not layers of the outer model."""
    found = []
    for layer in model.layers:
        if isinstance(layer, (keras.Sequential, keras.Function)):
            found += keras_layers(layer, f"{prefix}{layer.name}/")
        elif not (prefix and isinstance(layer, L.InputLayer)):
            found.append((prefix + layer.name, layer))
    return found


def assert_matches_keras(report: learnable.Report, model: Any) -> None:
    """Every Keras layer has its row, with Keras's params, split and output shape; the other
    rows are later calls of a shared layer and keras.ops operations, which own nothing."""
    rows = {row.name: row for row in report.layers}
    for path, layer in keras_layers(model):
        assert path in rows, f"no row for Keras layer {path}; rows: {sorted(rows)}"
        row = rows.pop(path)
        where = f"{path} ({type(layer).__name__})"
        assert row.type == type(layer).__name__, where
        assert row.params == layer.count_params(), f"{where}: {row.params:,} != Keras {layer.count_params():,}"
        assert (row.trainable, row.non_trainable) == (size(layer.trainable_weights), size(layer.non_trainable_weights)), (
            f"{where}: {row.trainable:,}/{row.non_trainable:,} != Keras "
            f"{size(layer.trainable_weights):,}/{size(layer.non_trainable_weights):,}")
        if len(layer._inbound_nodes) == 1:
            keras_shape = tuple(keras.tree.flatten(layer.output)[0].shape[1:])
            assert row.output_shape == keras_shape, f"{where}: {row.output_shape} != Keras {keras_shape}"
        assert_formulas_hold(row)
    for row in rows.values():  # a Sequential does not list its InputLayer
        assert row.params == 0 and (re.search(r" \(\d+\)(/|$)", row.name) or row.type.startswith("ops.")
                                    or row.type == "InputLayer"), row
    assert report.total_params == model.count_params()
    assert report.trainable_params == size(model.trainable_weights)
    assert report.non_trainable_params == size(model.non_trainable_weights)


def test_the_oracle_can_fail():
    """A report of another model does not pass for this one."""
    a = keras.Sequential([keras.Input((4,)), L.Dense(10, name="d")])
    b = keras.Sequential([keras.Input((4,)), L.Dense(11, name="d")])  # same path, another count
    with pytest.raises(AssertionError):
        assert_matches_keras(count(a), b)


# ---- Sequential and functional models ---------------------------------------------------------


def test_sequential_cnn():
    model = keras.Sequential([
        keras.Input((28, 28, 1)), L.Conv2D(32, 3, activation="relu", name="conv_1"), L.Conv2D(64, 3, name="conv_2"),
        L.BatchNormalization(name="bn"), L.MaxPooling2D(2), L.Flatten(), L.Dropout(0.5), L.Dense(128), L.Dense(10),
    ], name="cnn")
    report = count(model)
    assert_matches_keras(report, model)
    rows = {r.name: r for r in report.layers}
    assert rows["conv_1"].formula == "3×3×1×32 + 32 = 320"
    assert rows["conv_2"].params == 3 * 3 * 32 * 64 + 64
    assert rows["conv_2"].shape_formula == "height, width: 26 − 3 + 1 = 24"
    assert (rows["bn"].trainable, rows["bn"].non_trainable) == (2 * 64, 2 * 64)
    assert report.name == "cnn" and report.convention == "keras"
    assert report.layers[0].type == "InputLayer"


def test_functional_graph_with_branches_and_two_inputs():
    image, extra = keras.Input((16, 16, 3), name="image"), keras.Input((16, 16, 1), name="extra")
    a = L.Conv2D(8, 3, padding="same", name="a")(image)
    b = L.Conv2D(8, 1, name="b")(image)
    x = L.Add(name="sum")([a, b])
    x = L.Concatenate(name="cat")([x, extra])
    x = L.DepthwiseConv2D(3, strides=2, name="dw")(x)
    x = L.GlobalAveragePooling2D(name="gap")(x)
    logits = L.Dense(10, name="head")(x)
    model = keras.Model([image, extra], [logits, x], name="branches")
    report = count(model)
    assert_matches_keras(report, model)
    rows = {r.name: r for r in report.layers}
    assert rows["sum"].inputs == ("a", "b")
    assert rows["cat"].inputs == ("sum", "extra")
    assert rows["cat"].output_shape == (16, 16, 9)
    assert rows["head"].params == 9 * 10 + 10


def test_sequence_model_in_both_conventions():
    tokens = keras.Input((12,), dtype="int32")
    x = L.Embedding(1000, 32, name="embed")(tokens)
    x = L.Bidirectional(L.LSTM(16, return_sequences=True), name="bilstm")(x)
    x = L.MultiHeadAttention(4, 8, name="mha")(x, x)
    x = L.LayerNormalization(name="ln")(x)
    x = L.GRU(8, name="gru")(x)
    model = keras.Model(tokens, L.Dense(2, name="out")(x))
    keras_report, torch_report = count(model), count(model, convention="pytorch")
    assert_matches_keras(keras_report, model)
    assert torch_report.convention == "pytorch"
    rows = {r.name: r for r in torch_report.layers}
    # Keras's LSTM keeps one bias per direction, PyTorch's nn.LSTM two: 2 directions × 4×16 more
    assert rows["bilstm"].params == keras_report.layers[2].params + 2 * 4 * 16
    assert [w.name for w in rows["bilstm"].weights][:2] == ["weight_ih_l0", "weight_hh_l0"]
    assert rows["gru"].params == model.get_layer("gru").count_params()  # reset_after=True: both biases, as PyTorch


# ---- every Keras-form rule, reached through the importer --------------------------------------

# One Keras layer each (a call as written in Keras code, and its input shapes), with
# arguments away from the defaults where the config has to be read right.
LAYER_CASES = [
    ("Add()", [[4, 6], [4, 6]]), ("Subtract()", [[4, 6], [4, 6]]), ("Multiply()", [[4, 6], [1, 6]]),
    ("Average()", [[6], [6], [6]]), ("Maximum()", [[6], [6]]), ("Minimum()", [[6], [6]]),
    ("Concatenate(axis=1)", [[4, 6], [3, 6]]), ("Dot(axes=(2, 2), normalize=True)", [[4, 6], [5, 6]]),
    ("Flatten()", [[4, 5, 3]]), ("Reshape((15, -1))", [[4, 5, 3]]),
    ("ZeroPadding1D((1, 2))", [[10, 3]]), ("ZeroPadding2D(((1, 2), (0, 3)))", [[5, 5, 3]]),
    ("ZeroPadding3D(1)", [[4, 4, 4, 2]]),
    ("Dropout(0.3, noise_shape=(None, 1, 4))", [[5, 4]]), ("GaussianDropout(0.1)", [[6]]),
    ("AlphaDropout(0.1)", [[6]]), ("SpatialDropout1D(0.2)", [[5, 4]]), ("SpatialDropout2D(0.2)", [[5, 5, 3]]),
    ("SpatialDropout3D(0.2)", [[4, 4, 4, 2]]), ("GaussianNoise(0.1)", [[6]]), ("Identity()", [[6]]),
    ("Activation('gelu')", [[6]]), ("ReLU(max_value=6.0)", [[6]]), ("LeakyReLU(negative_slope=0.2)", [[6]]),
    ("ELU()", [[6]]), ("Softmax(axis=1)", [[4, 6]]),
    ("MultiHeadAttention(2, 4, value_dim=3, output_shape=5)", [[6, 8], [7, 10]]),
    ("MultiHeadAttention(3, 4, use_bias=False)", [[6, 8], [7, 10], [7, 9]]),
    ("MultiHeadAttention(2, 4, attention_axes=(1, 2))", [[3, 4, 8], [3, 4, 8]]),
    ("Attention(use_scale=True, score_mode='concat')", [[5, 8], [6, 8]]), ("AdditiveAttention()", [[5, 8], [6, 8]]),
    ("Conv1D(8, 3, padding='causal', dilation_rate=2)", [[20, 4]]),
    ("Conv2D(8, (3, 5), strides=2, padding='same', groups=2)", [[9, 11, 4]]),
    ("Conv3D(4, 2, data_format='channels_first')", [[2, 6, 6, 6]]),
    ("Conv1DTranspose(4, 3, strides=2)", [[10, 3]]),
    ("Conv2DTranspose(6, 3, strides=2, padding='same', output_padding=1)", [[7, 7, 3]]),
    ("Conv3DTranspose(2, 2, strides=2, use_bias=False)", [[3, 3, 3, 2]]),
    ("Dense(7, use_bias=False)", [[3, 5]]), ("Dense(6, lora_rank=2)", [[5]]),
    ("BatchNormalization(center=False)", [[6, 6, 4]]), ("BatchNormalization(axis=1)", [[4, 6, 6]]),
    ("GroupNormalization(groups=2, scale=False)", [[5, 5, 4]]),
    ("Embedding(50, 8, mask_zero=True)", [[7]]),
    ("LayerNormalization(axis=[1, 2])", [[4, 5]]), ("LayerNormalization(rms_scaling=True)", [[6]]),
    ("RMSNormalization()", [[4, 6]]), ("Normalization()", [[5, 3]]), ("UnitNormalization()", [[5]]),
    ("MaxPooling1D(3, strides=2, padding='same')", [[11, 4]]), ("GlobalMaxPooling1D(keepdims=True)", [[10, 3]]),
    ("AveragePooling1D(2)", [[10, 3]]), ("GlobalAveragePooling1D()", [[10, 3]]),
    ("MaxPooling2D()", [[7, 7, 3]]), ("GlobalMaxPooling2D()", [[7, 7, 3]]),
    ("AveragePooling2D((2, 3))", [[7, 7, 3]]), ("GlobalAveragePooling2D(data_format='channels_first')", [[3, 7, 7]]),
    ("MaxPooling3D()", [[4, 4, 4, 2]]), ("GlobalMaxPooling3D()", [[4, 4, 4, 2]]),
    ("AveragePooling3D(2, padding='same')", [[5, 4, 4, 2]]), ("GlobalAveragePooling3D()", [[4, 4, 4, 2]]),
    ("PReLU(shared_axes=[1, 2])", [[5, 5, 3]]),
    ("SimpleRNN(5, return_sequences=True)", [[7, 3]]), ("LSTM(4, use_bias=False)", [[7, 3]]),
    ("GRU(4, reset_after=False)", [[7, 3]]), ("GRU(4)", [[None, 3]]),
    ("Bidirectional(LSTM(4, return_sequences=True), merge_mode='sum')", [[7, 3]]),
    ("Bidirectional(GRU(3), backward_layer=GRU(3, go_backwards=True))", [[7, 3]]),
    ("TimeDistributed(Dense(5))", [[7, 3]]), ("TimeDistributed(Conv1D(4, 3, padding='same'))", [[6, 9, 2]]),
    ("ConvLSTM1D(3, 3)", [[5, 8, 2]]), ("ConvLSTM2D(2, 3, padding='same', return_sequences=True)", [[4, 6, 6, 2]]),
    ("ConvLSTM3D(2, 2)", [[3, 4, 4, 4, 1]]),
    ("UpSampling1D(3)", [[4, 2]]), ("UpSampling2D((2, 3), interpolation='bilinear')", [[4, 4, 2]]),
    ("UpSampling3D(2)", [[2, 2, 2, 1]]),
    ("Cropping1D((1, 2))", [[8, 3]]), ("Cropping2D(((1, 0), (2, 1)))", [[8, 8, 3]]), ("Cropping3D(1)", [[4, 4, 4, 1]]),
    ("Resizing(10, 12)", [[8, 8, 3]]), ("CenterCrop(4, 5)", [[8, 8, 3]]), ("RandomCrop(4, 5)", [[8, 8, 3]]),
    ("Permute((2, 1))", [[4, 5]]), ("RepeatVector(3)", [[5]]),
    ("Rescaling(1 / 255)", [[4, 4, 3]]), ("ActivityRegularization(l1=0.01)", [[5]]), ("Masking()", [[5, 3]]),
    ("DepthwiseConv1D(3, depth_multiplier=2)", [[10, 4]]), ("SeparableConv1D(6, 3, depth_multiplier=2)", [[10, 4]]),
    ("DepthwiseConv2D(3, strides=2, padding='same', use_bias=False)", [[9, 9, 4]]),
    ("SeparableConv2D(8, 3, dilation_rate=2)", [[11, 11, 3]]),
    # random augmentation: no weights (a SeedGenerator state Keras does not count)
    ("RandomFlip('horizontal')", [[8, 9, 3]]), ("RandomRotation(0.1)", [[8, 9, 3]]), ("RandomZoom(0.1)", [[8, 9, 3]]),
    ("RandomTranslation(0.1, 0.2)", [[8, 9, 3]]), ("RandomContrast(0.2)", [[8, 9, 3]]),
    ("RandomBrightness(0.2)", [[8, 9, 3]]), ("RandomShear(0.1)", [[8, 9, 3]]), ("RandomPerspective()", [[8, 9, 3]]),
    ("RandomElasticTransform()", [[8, 9, 3]]), ("RandomErasing()", [[8, 9, 3]]), ("RandomGaussianBlur()", [[8, 9, 3]]),
    ("RandomInvert()", [[8, 9, 3]]), ("RandomPosterization(4)", [[8, 9, 3]]), ("RandomSharpness(0.5)", [[8, 9, 3]]),
    ("RandomGrayscale()", [[8, 9, 3]]), ("RandomHue(0.5)", [[8, 9, 3]]), ("RandomSaturation(0.5)", [[8, 9, 3]]),
    ("RandomColorDegeneration(0.5)", [[8, 9, 3]]), ("RandomColorJitter(hue_factor=0.2)", [[8, 9, 3]]),
]
# Rules for the operations a model's call() applies outside any layer (a learnable tensor,
# slicing, keras.ops.mean, a @ b, ...): they have no Keras layer to import them from.
_NOT_LAYERS = {"Parameter", "Slice", "Select", "Reduce", "MatMul", "Divide", "Elementwise", "Constant",
               "Rearrange",  # operations (and einops's layer), no Keras layers
               "ChannelSlice", "ChannelPad",  # x[..., [4, 5, 0]], a padded shortcut: operations too
               "LocalResponseNormalization"}  # TensorFlow's op: Keras 3 has no such layer
_LIST_INPUT = {"Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate", "Dot", "Attention",
               "AdditiveAttention"}


def one_layer_model(code: str, shapes: list) -> tuple[Any, Any]:
    layer = eval(code, vars(L))  # a literal from the table above
    kind = type(layer).__name__
    inputs = [keras.Input(tuple(s), dtype="int32" if kind == "Embedding" else "float32") for s in shapes]
    if kind in _LIST_INPUT:
        output = layer(inputs)
    else:
        output = layer(*inputs)  # MultiHeadAttention(query, value[, key])
    return keras.Model(inputs, output), layer


@pytest.mark.filterwarnings("ignore:You passed `rms_scaling=True`")
def test_the_cases_cover_every_keras_rule():
    """Each Keras-form rule is reached from a real Keras layer (Input through InputLayer;
    Lambda's rule is for specs: an imported Lambda is counted from its tensors; the
    operations of _NOT_LAYERS are no layers)."""
    covered = {type(eval(code, vars(L))).__name__ for code, _ in LAYER_CASES} | {"Input", "Lambda"} | _NOT_LAYERS
    keras_rules = {r.name for r in all_rules() if r.framework == "keras"}
    assert keras_rules <= covered, sorted(keras_rules - covered)


@pytest.mark.filterwarnings("ignore:You passed `rms_scaling=True`")
@pytest.mark.parametrize(("code", "shapes"), LAYER_CASES, ids=[c for c, _ in LAYER_CASES])
def test_each_keras_layer_through_its_rule(code, shapes):
    model, layer = one_layer_model(code, shapes)
    graph = keras_model.to_graph(model)
    assert graph.nodes[-1].rule.name == type(layer).__name__  # its own rule, not counted from tensors
    assert_matches_keras(engine.run(graph), model)
    torch_row = count(model, convention="pytorch").layers[-1]
    assert_formulas_hold(torch_row)
    assert torch_row.output_shape == tuple(layer.output.shape[1:])


# ---- nested, shared, frozen, custom ------------------------------------------------------------


def test_nested_models_become_blocks():
    inner_in = keras.Input((3,))
    inner = keras.Model(inner_in, L.Dense(2, name="d2")(inner_in), name="inner_f")
    seq = keras.Sequential([keras.Input((4,)), L.Dense(3, name="d3"), L.BatchNormalization(name="bn"), inner],
                           name="seq")
    x = keras.Input((4,), name="x")
    model = keras.Model(x, L.Dense(1, name="top")(seq(x)), name="outer")
    report = count(model)
    assert_matches_keras(report, model)
    assert [r.name for r in report.layers] == ["x", "seq/d3", "seq/bn", "seq/inner_f/d2", "top"]
    blocks = {b.name: b for b in report.blocks}
    assert (blocks["seq"].type, blocks["seq"].parent, blocks["seq"].params) == ("Sequential", None, seq.count_params())
    assert (blocks["seq/inner_f"].type, blocks["seq/inner_f"].parent) == ("Functional", "seq")
    assert blocks["seq/inner_f"].params == inner.count_params() == 3 * 2 + 2
    assert blocks["seq"].output_shape == (2,)
    assert {r.name: r.inputs for r in report.layers}["seq/inner_f/d2"] == ("seq/bn",)
    opened = render(report, depth=2)
    assert "Sequential (block)" in opened and "d2" in opened


def test_shared_layer_called_twice_counts_once():
    x = keras.Input((8,))
    shared = L.Dense(8, name="shared")
    y = L.Dense(2, name="out")(shared(shared(x)))
    model = keras.Model(x, y)
    report = count(model)
    assert_matches_keras(report, model)
    first, second = report.layers[1], report.layers[2]
    assert (first.name, first.params) == ("shared", 8 * 8 + 8)
    assert (second.name, second.params, second.inputs) == ("shared (2)", 0, ("shared",))
    assert "shares the weights of 'shared'" in second.note and "'shared (2)'" in first.note
    assert second.output_shape == tuple(shared._inbound_nodes[1].output_tensors[0].shape[1:])
    assert report.layers[3].inputs == ("shared (2)",)


def test_shared_nested_model_and_frozen_nested_model():
    """A siamese encoder used on two inputs, and a frozen head."""
    e_in = keras.Input((6,))
    encoder = keras.Model(e_in, L.Dense(4, name="enc_d")(L.BatchNormalization(name="enc_bn")(e_in)), name="encoder")
    a, b = keras.Input((6,), name="a"), keras.Input((6,), name="b")
    head = keras.Sequential([L.Dense(3), L.Dense(1)], name="head")
    head.trainable = False
    out = head(L.Concatenate(name="cat")([encoder(a), encoder(b)]))
    model = keras.Model([a, b], out)
    report = count(model)
    assert_matches_keras(report, model)
    rows = {r.name: r for r in report.layers}
    assert rows["encoder (2)/enc_d"].params == 0 and rows["encoder (2)/enc_d"].inputs == ("encoder (2)/enc_bn",)
    assert rows["encoder (2)/enc_bn"].inputs == ("b",)
    assert rows["cat"].inputs == ("encoder/enc_d", "encoder (2)/enc_d")
    blocks = {b.name: b for b in report.blocks}
    assert (blocks["head"].trainable, blocks["head"].non_trainable) == (0, head.count_params())
    assert report.non_trainable_params == head.count_params() + 2 * 6  # + the encoder's moving statistics


def test_frozen_layer():
    model = keras.Sequential([keras.Input((5,)), L.Dense(4, name="frozen"), L.BatchNormalization(name="bn"),
                              L.Dense(2, name="free")])
    model.get_layer("frozen").trainable = False
    model.get_layer("bn").trainable = False
    report = count(model)
    assert_matches_keras(report, model)
    assert report.trainable_params == 4 * 2 + 2
    assert report.non_trainable_params == 5 * 4 + 4 + 4 * 4


class Scale(L.Layer):
    """A user's layer with a weight of its own and a Dense inside."""

    def build(self, shape):
        self.scale = self.add_weight(shape=(shape[-1],), name="scale")
        self.frozen = self.add_weight(shape=(2, 2), name="frozen", trainable=False)
        self.proj = L.Dense(3, name="proj")
        self.proj.build(shape)

    def call(self, x):
        return self.proj(x * self.scale)


def test_custom_layer_counted_from_its_tensors():
    x = keras.Input((5, 4))
    scale = Scale(name="scale_layer")
    model = keras.Model(x, [scale(x), scale(x)])
    report = count(model)
    assert_matches_keras(report, model)
    row = report.layers[1]
    assert row.type == "Scale" and "no rule" in row.note
    assert [(w.name, w.shape, w.trainable) for w in row.weights] == [
        ("scale", (4,), True), ("frozen", (2, 2), False), ("proj/kernel", (4, 3), True), ("proj/bias", (3,), True)]
    assert (row.params, row.non_trainable, row.output_shape) == (4 + 4 + 4 * 3 + 3, 4, (5, 3))
    assert report.layers[2].params == 0 and report.layers[2].name == "scale_layer (2)"


def test_subclass_of_a_keras_layer_is_not_taken_for_it():
    """A user's subclass of Dense may change anything: it is counted from its tensors."""

    class BiasedDense(L.Dense):
        def build(self, shape):
            super().build(shape)
            self.extra = self.add_weight(shape=(self.units,), name="extra")

    x = keras.Input((3,))
    model = keras.Model(x, BiasedDense(2, name="bd")(x))
    report = count(model)
    assert_matches_keras(report, model)
    assert report.layers[1].type == "BiasedDense" and report.layers[1].params == 3 * 2 + 2 + 2


def test_keras_ops_lambda_time_distributed_and_quantized_layers():
    x = keras.Input((5, 4))
    y = L.TimeDistributed(L.Dense(2), name="td")(x)
    y = keras.ops.relu(keras.ops.add(y, y)) + 1
    y = L.Lambda(lambda t: t * 2, name="double")(y)
    y = L.Dense(3, name="q")(L.Flatten()(y))
    model = keras.Model(x, y)
    model.get_layer("q").quantize("int8")
    report = count(model)
    assert_matches_keras(report, model)
    rows = {r.name: r for r in report.layers}
    assert rows["td"].params == 4 * 2 + 2 and rows["td"].type == "TimeDistributed"
    assert rows["double"].output_shape == (5, 2) and "Lambda" in rows["double"].note
    assert "quantized (int8)" in rows["q"].note
    assert {r.type for r in report.layers if r.type.startswith("ops.")} == {"ops.Add", "ops.Relu"}


# ---- building, refusing ------------------------------------------------------------------------


def test_unbuilt_sequential_needs_an_input_shape():
    model = keras.Sequential([L.Dense(4), L.Dense(2)])
    with pytest.raises(SpecError, match="not built.*pass input_shape"):
        keras_model.to_graph(model)
    copy = keras.models.clone_model(model)
    report = count(copy, input_shape=(7,))
    assert not model.built  # the clone was built, not the user's model
    assert_matches_keras(report, copy)
    assert report.layers[0].output_shape == (7,) and report.total_params == 7 * 4 + 4 + 4 * 2 + 2
    count(model, input_shape=(7,))
    assert model.built  # as the docstring says: an unbuilt model is built in place


def test_input_shape_of_a_built_model_must_agree():
    model = keras.Sequential([keras.Input((4,)), L.Dense(2)])
    assert count(model, input_shape=(4,)).total_params == 4 * 2 + 2
    with pytest.raises(SpecError, match=r"already built, for input \(4,\), not \(5,\)"):
        keras_model.to_graph(model, input_shape=(5,))
    with pytest.raises(SpecError, match="input_shape must be a positive integer, got 0"):
        keras_model.to_graph(keras.Sequential([L.Dense(2)]), input_shape=(0,))


def test_what_is_not_a_graph_model_is_refused_clearly():
    class Sub(keras.Model):
        def __init__(self):
            super().__init__()
            self.dense = L.Dense(3)

        def call(self, x):
            return self.dense(x)

    sub = Sub()
    sub(keras.ops.zeros((1, 2)))
    with pytest.raises(SpecError, match="subclassed Model"):
        keras_model.to_graph(sub)
    with pytest.raises(SpecError, match="not a model"):
        keras_model.to_graph(L.Dense(3))
    x = keras.Input((2,))
    nested = keras.Model(x, L.Dense(1, name="after")(sub(x)))  # inside a functional model: counted from its tensors
    report = count(nested)
    assert_matches_keras(report, nested)
    assert report.layers[1].type == "Sub" and report.layers[1].params == 2 * 3 + 3


def test_a_rule_that_disagrees_with_keras_is_caught(monkeypatch):
    """The importer checks each rule against Keras: a wrong count or a wrong shape is an
    AssertionError naming both, never a quiet number."""
    x = keras.Input((8, 8, 3))
    model = keras.Model(x, L.Dense(5, name="d")(L.Conv2D(4, 3, name="c")(x)))
    read = keras_model._arguments

    def no_bias(rule, layer):
        return {**read(rule, layer), "use_bias": False} if layer.name == "d" else read(rule, layer)

    monkeypatch.setattr(keras_model, "_arguments", no_bias)
    with pytest.raises(AssertionError, match=r"Dense 'd'.*counts 20 params.*Keras 25"):
        keras_model.to_graph(model)

    def strided(rule, layer):
        return {**read(rule, layer), "strides": 2} if layer.name == "c" else read(rule, layer)

    monkeypatch.setattr(keras_model, "_arguments", strided)
    with pytest.raises(AssertionError, match=r"output shape \(3, 3, 4\), Keras \(6, 6, 4\)"):
        keras_model.to_graph(model)


def test_learnable_count_takes_a_keras_model():
    model = keras.Sequential([keras.Input((4,)), L.Dense(3)])
    report = learnable.count(model)
    assert (report.total_params, report.layers[-1].type) == (4 * 3 + 3, "Dense")
    assert learnable.count(model, convention="pytorch").convention == "pytorch"


# ---- keras.applications ------------------------------------------------------------------------

# CONVENTIONS.md §3.1: (total, trainable, non-trainable), each model built and counted there.
DOCUMENTED = {
    "VGG16": (138_357_544, 138_357_544, 0),
    "VGG19": (143_667_240, 143_667_240, 0),
    "ResNet50": (25_636_712, 25_583_592, 53_120),
    "ResNet50V2": (25_613_800, 25_568_360, 45_440),
    "MobileNet": (4_253_864, 4_231_976, 21_888),
    "MobileNetV2": (3_538_984, 3_504_872, 34_112),
    "DenseNet121": (8_062_504, 7_978_856, 83_648),
    "InceptionV3": (23_851_784, 23_817_352, 34_432),
    "Xception": (22_910_480, 22_855_952, 54_528),
    "EfficientNetB0": (5_330_571, 5_288_548, 42_023),
}
# Every other application keras 3.15 builds offline with weights=None (NASNetMobile is
# refused on the torch backend and skips), each in a few seconds.
APPLICATIONS = [*DOCUMENTED, "ResNet101", "ResNet152", "ResNet101V2", "ResNet152V2", "DenseNet169", "DenseNet201",
                "InceptionResNetV2", "MobileNetV3Small", "MobileNetV3Large", "NASNetMobile", "NASNetLarge",
                *(f"EfficientNetB{i}" for i in range(1, 8)), *(f"EfficientNetV2{s}" for s in
                                                            ("B0", "B1", "B2", "B3", "S", "M", "L")),
                "ConvNeXtTiny", "ConvNeXtSmall", "ConvNeXtBase", "ConvNeXtLarge", "ConvNeXtXLarge"]


@pytest.fixture(scope="module", params=APPLICATIONS)
def application(request):
    """Each application built once for this module, then released before the next. Built on
    the meta device: the graph, shapes and weights' shapes are Keras's own, but no weight is
    allocated or initialized (ten times faster; counting never reads a value)."""
    try:
        with keras.device("meta"):
            model = getattr(keras.applications, request.param)(weights=None)
    except ValueError as err:
        if "not available with the torch backend" in str(err):
            pytest.skip(f"{request.param}: {err}")
        raise
    yield request.param, model
    del model
    gc.collect()


def test_application_matches_keras_layer_by_layer(application):
    name, model = application
    report = count(model)
    assert_matches_keras(report, model)
    if name in DOCUMENTED:
        assert (report.total_params, report.trainable_params, report.non_trainable_params) == DOCUMENTED[name]


def test_application_in_the_pytorch_convention(application):
    """Layer by layer, every Keras weight is a PyTorch parameter or buffer, and a BatchNorm
    counted as nn.BatchNorm2d adds num_batches_tracked (one with scale=False has no PyTorch
    equivalent and stays as Keras counts it); the trainable weights are the same."""
    _, model = application
    keras_report, torch_report = count(model), count(model, convention="pytorch")
    for k, t in zip(keras_report.layers, torch_report.layers, strict=True):
        tracked = int(k.type == "BatchNormalization" and t.buffers > 0)
        assert (t.params + t.buffers, t.trainable) == (k.params + tracked, k.trainable), (k, t)
        assert_formulas_hold(t)


def test_application_without_its_top_and_unknown_image_size():
    model = keras.applications.ResNet50(weights=None, include_top=False, input_shape=(None, None, 3), pooling="avg")
    report = count(model)
    assert_matches_keras(report, model)
    assert report.layers[1].output_shape == (None, None, 3)  # conv1_pad
    assert report.layers[-1].output_shape == (2048,)


def test_time_distributed_wraps_any_layer_as_keras_builds_it():
    x = keras.Input((5, 16, 16, 3))
    y = L.TimeDistributed(L.Conv2D(8, 3, strides=2), name="frames")(x)
    y = L.TimeDistributed(L.Flatten(), name="flat")(y)
    frozen = L.Dense(4)
    frozen.trainable = False
    y = L.TimeDistributed(frozen, name="head")(y)
    model = keras.Model(x, y)
    report = count(model)
    assert_matches_keras(report, model)  # every row's count, trainable split and shape against Keras's
    rows = {r.name: r for r in report.layers}
    assert rows["frames"].output_shape == (5, 7, 7, 8) and rows["frames"].params == 3 * 3 * 3 * 8 + 8
    assert rows["frames"].macs == 5 * (7 * 7 * 8) * (3 * 3 * 3)
    assert (rows["head"].trainable, rows["head"].non_trainable) == (0, 7 * 7 * 8 * 4 + 4)
