"""`learnable explain TYPE` and `learnable compare A B`, as library functions and renderers.

Expected numbers are written as hand arithmetic; the printed arithmetic is re-evaluated by
conftest's independent evaluator.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import EXAMPLES, evaluate_formula, stated_result

import learnable
from learnable.compare import compare_reports
from learnable.errors import LearnableError, RuleError
from learnable.explain import explain
from learnable.render import compare as render_compare
from learnable.render import explain as render_explain
from learnable.rules import all_rules

GOLDEN = Path(__file__).parent / "golden"


def weights(count) -> list[tuple[str, tuple[int, ...], str]]:
    return [(w.name, w.shape, w.kind) for w in count.weights]


# ---- explain ------------------------------------------------------------------------------


def test_conv2d_explained():
    e = explain("Conv2D")
    assert (e.name, e.framework, e.family, e.counterpart) == ("Conv2D", "keras", "conv", "Conv2d")
    assert [(a.name, a.default) for a in e.args[:4]] == [
        ("filters", None), ("kernel_size", None), ("strides", "1"), ("padding", "'valid'")]
    assert e.formula == "k_h×k_w×C_in×filters + filters"
    assert e.example.call == "Conv2D(64, 3)"
    assert e.example.input_shapes == ((32, 32, 3),)
    assert e.example.output_shape == (32 - 3 + 1, 32 - 3 + 1, 64)
    assert e.example.shape_arithmetic == "height, width: 32 − 3 + 1 = 30"
    assert e.own.arithmetic == "3×3×3×64 + 64 = 1,792"
    assert e.own.params == 3 * 3 * 3 * 64 + 64 == 1_792
    assert any("⌈n/s⌉" in line for line in e.shape_formula)
    assert "in the worked example, height, width: n − k + 1" in e.shape_formula
    keras, torch = e.count("keras"), e.count("pytorch")
    assert weights(keras) == [("kernel", (3, 3, 3, 64), "trainable"), ("bias", (64,), "trainable")]
    assert weights(torch) == [("weight", (64, 3, 3, 3), "trainable"), ("bias", (64,), "trainable")]
    assert keras.params == torch.params == 1_792 and not keras.note and not torch.note


def test_conv2d_pytorch_form_explained():
    e = explain("Conv2d")
    assert (e.name, e.framework, e.counterpart) == ("Conv2d", "pytorch", "Conv2D")
    assert [a.name for a in e.args[:3]] == ["in_channels", "out_channels", "kernel_size"]
    assert e.example.call == "Conv2d(3, 64, 3)"
    assert e.example.input_shapes == ((3, 32, 32),) and e.example.data_format == "channels_first"
    assert e.example.output_shape == (64, 30, 30)
    assert e.formula == "filters×C_in×k_h×k_w + filters"  # PyTorch's weight (out, in, k_h, k_w)
    assert e.own.arithmetic == "64×3×3×3 + 64 = 1,792"
    assert any("2p" in line for line in e.shape_formula)


def test_batch_normalization_keras_4c_against_pytorch_2c_and_buffers():
    e = explain("BatchNormalization")
    assert e.counterpart == "BatchNorm2d"
    c = 64
    keras, torch = e.count("keras"), e.count("pytorch")
    assert (keras.params, keras.trainable, keras.non_trainable) == (4 * c, 2 * c, 2 * c)
    assert weights(keras) == [("gamma", (c,), "trainable"), ("beta", (c,), "trainable"),
                              ("moving_mean", (c,), "non-trainable"), ("moving_variance", (c,), "non-trainable")]
    assert (torch.params, torch.non_trainable, torch.buffers) == (2 * c, 0, 2 * c + 1)
    assert torch.buffers_arithmetic == "64 + 64 + 1 = 129"
    assert [w.name for w in torch.weights if w.buffer] == ["running_mean", "running_var", "num_batches_tracked"]
    assert e.formula == "C + C + C + C"
    assert "buffers" in keras.note and keras.note == torch.note
    assert e.shape_formula == ("the input's shape, unchanged",)


def test_lstm_one_bias_against_two():
    e = explain("LSTM")  # the Keras form: LSTM(units)
    assert (e.framework, e.counterpart, e.example.call) == ("keras", "LSTM", "LSTM(64)")
    d, u = 32, 64
    keras, torch = e.count("keras"), e.count("pytorch")
    assert keras.params == 4 * u * (d + u) + 4 * u == 24_832
    assert torch.params == 4 * u * (d + u) + 2 * 4 * u == 25_088
    assert [w.name for w in keras.weights] == ["kernel", "recurrent_kernel", "bias"]
    assert [w.name for w in torch.weights] == ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"]
    assert "two" in keras.note and "256 more" in keras.note
    pytorch_form = explain("nn.LSTM")
    assert (pytorch_form.framework, pytorch_form.example.call) == ("pytorch", "LSTM(32, 64)")
    assert pytorch_form.own.params == 25_088


def test_dense_explained():
    e = explain("Dense")
    assert (e.counterpart, e.example.call, e.example.input_shapes) == ("Linear", "Dense(10)", ((128,),))
    assert e.formula == "inputs×units + units"
    assert e.own.arithmetic == "128×10 + 10 = 1,290"
    assert weights(e.count("pytorch")) == [("weight", (10, 128), "trainable"), ("bias", (10,), "trainable")]
    assert explain("Linear").counterpart == "Dense"


def test_unknown_type_suggests_close_names():
    with pytest.raises(RuleError, match="unknown layer type 'Conv2X'; did you mean .*'Conv2D'"):
        explain("Conv2X")
    with pytest.raises(LearnableError, match="did you mean 'BatchNormalization'"):
        explain("BatchNormalisation")


@pytest.mark.parametrize("rule", all_rules(), ids=lambda r: f"{r.framework}-{r.name}")
def test_every_rule_explains(rule):
    prefix = "nn." if rule.framework == "pytorch" else "layers."
    e = explain(prefix + rule.name)
    assert (e.name, e.framework) == (rule.name, rule.framework)
    assert [a.name for a in e.args] == [a.name for a in rule.args]
    if e.example is None:  # only a rule that refuses every input
        assert e.refusal and not e.counts
    else:
        for count in e.counts:
            assert evaluate_formula(count.arithmetic) == count.params
            assert stated_result(count.arithmetic) in (None, count.params)
            assert sum(w.size for w in count.weights if not w.buffer) == count.params
            if count.buffers:
                assert evaluate_formula(count.buffers_arithmetic) == count.buffers
        if e.example.shape_arithmetic:
            for part in e.example.shape_arithmetic.split("; "):
                assert stated_result(part) in e.example.output_shape
    for render in (render_explain.render_text, render_explain.render_markdown, render_explain.render_json):
        assert e.name in render(e)


def test_a_refused_layer_still_explains():
    e = explain("Lambda")
    assert e.example is None and "never runs" in e.refusal
    assert "No worked example" in render_explain.render_text(e)


def test_explain_json_is_plain_data():
    data = json.loads(render_explain.render_json(explain("BatchNormalization")))
    assert data["counts"]["keras"]["params"] == 256 and data["counts"]["pytorch"]["buffers"] == 129
    assert data["example"]["call"] == "BatchNormalization()"


# ---- compare ------------------------------------------------------------------------------

SEED = EXAMPLES / "simple_cnn.yaml"
KERAS_NET = ("Input(10, 32) | Conv1D(16, 3) | BatchNormalization() | MaxPooling1D(2) "
             "| LSTM(8, return_sequences=True) | Flatten() | Dense(4)")
TORCH_NET = ("Input(32, 10) | Conv1d(32, 16, 3) | BatchNorm1d(16) | ReLU() | MaxPool1d(2) "
             "| Permute((2, 1)) | nn.LSTM(16, 8, batch_first=True) | Flatten() | Linear(32, 4)")


def seed_variant() -> learnable.Report:
    """The seed with fc_2 changed from Dense(10) to Dense(5)."""
    text = SEED.read_text(encoding="utf-8").replace("units: 10,", "units: 5,")
    return learnable.count(text)


def test_compare_one_layer_changed():
    comparison = compare_reports(learnable.count(SEED), seed_variant())
    assert all(row.matched_by == "name" for row in comparison.rows)
    assert [row.a.name for row in comparison.differing] == ["fc_2"]
    fc_2 = comparison.differing[0]
    assert (fc_2.a.params, fc_2.b.params) == (128 * 10 + 10, 128 * 5 + 5)
    assert not fc_2.convention  # the same convention: a difference of the model
    assert comparison.a.total_params == 1_199_882
    assert comparison.b.total_params == 1_199_882 - 1_290 + 645
    assert comparison.params_difference == -645
    table = render_compare.render_table(comparison)
    marked = [line.split()[0] for line in table.splitlines() if "≠" in line]
    assert marked == ["fc_2"]
    assert "A (keras): 1,199,882 params" in table and "B (keras): 1,199,237 params" in table
    assert "-645 params; 1 of 7 layers differ" in table


def test_compare_keras_against_its_pytorch_twin():
    keras, torch = learnable.count(KERAS_NET), learnable.count(TORCH_NET)
    assert (keras.convention, torch.convention) == ("keras", "pytorch")
    comparison = compare_reports(keras, torch, labels=("keras.yaml", "torch.yaml"))
    by_type = {row.a.type: row for row in comparison.rows if row.a is not None}
    bn, lstm = by_type["BatchNormalization"], by_type["LSTM"]
    assert bn.b.type == "BatchNorm1d" and bn.matched_by == "order"
    assert (bn.a.params, bn.b.params, bn.b.buffers) == (4 * 16, 2 * 16, 2 * 16 + 1)
    assert bn.differs and bn.convention and "buffers" in bn.convention_note
    assert (lstm.a.params, lstm.b.params) == (4 * 8 * (16 + 8) + 4 * 8, 4 * 8 * (16 + 8) + 2 * 4 * 8)
    assert lstm.convention and "two" in lstm.convention_note
    for same in ("Conv1D", "Dense", "MaxPooling1D"):
        assert not by_type[same].differs, same
    assert by_type["MaxPooling1D"].b.type == "MaxPool1d"
    only_b = [row.b.type for row in comparison.rows if row.a is None]
    assert only_b == ["ReLU", "Permute"]
    assert {row.a.type for row in comparison.differing} == {"BatchNormalization", "LSTM"}
    table = render_compare.render_table(comparison)
    assert "convention: Keras keeps moving_mean" in table and "only in torch.yaml" in table
    markdown = render_compare.render_markdown(comparison)
    assert markdown.startswith("### keras.yaml vs torch.yaml") and "| ≠ |" in markdown


def test_one_model_in_two_conventions_explains_like_comparison():
    keras, torch = (learnable.count(KERAS_NET, convention=c) for c in ("keras", "pytorch"))
    comparison = compare_reports(keras, torch)
    single = learnable.compare_conventions(KERAS_NET)
    assert [r.convention_note for r in comparison.rows if r.differs] == [p.note for p in single.rows if p.differs]


def test_compare_renamed_layers_matches_by_order():
    renamed = learnable.count("Input(28, 28, 1) | Conv2D(32, 3, name='c1') | Conv2D(64, 3, name='c2') "
                              "| MaxPooling2D(2, name='p') | Flatten(name='f') | Dense(128, name='d1') "
                              "| Dense(10, name='d2')")
    comparison = compare_reports(learnable.count(SEED), renamed)
    pairs = [(row.a.name, row.b.name, row.matched_by) for row in comparison.rows]
    assert pairs == [("input", "input_layer", "order"), ("conv_1", "c1", "order"), ("conv_2", "c2", "order"),
                     ("max_pool", "p", "order"), ("flatten", "f", "order"), ("fc_1", "d1", "order"),
                     ("fc_2", "d2", "order")]
    assert not comparison.differing and comparison.params_difference == 0


def test_compare_json():
    data = json.loads(render_compare.render_json(compare_reports(learnable.count(SEED), seed_variant())))
    assert data["a"]["total_params"] == 1_199_882 and data["params_difference"] == -645
    assert [row["a"]["name"] for row in data["layers"] if row["differs"]] == ["fc_2"]


# ---- golden files -------------------------------------------------------------------------

GOLDEN_CASES = {
    "explain.conv2d.txt": lambda: render_explain.render_text(explain("Conv2D")),
    "explain.conv2d.md": lambda: render_explain.render_markdown(explain("Conv2D")),
    "compare.twins.txt": lambda: render_compare.render_table(
        compare_reports(learnable.count(KERAS_NET), learnable.count(TORCH_NET), labels=("keras", "torch"))),
}


@pytest.mark.parametrize("golden", GOLDEN_CASES, ids=list(GOLDEN_CASES))
def test_rendering_matches_golden(golden, request):
    text = GOLDEN_CASES[golden]()
    path = GOLDEN / golden
    if request.config.getoption("--update-golden"):
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")
