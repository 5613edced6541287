"""Sweeps (`learnable.sweep`, `learnable sweep`): every variant against hand arithmetic or
the framework's own model, the grid's order, and each bad key, value and variant refused
with one clear message."""

from __future__ import annotations

import csv
import io
import itertools
import json
import re

import pytest
from conftest import run_cli
from frameworks import assert_totals_match_keras

import learnable
from learnable import sweeping
from learnable.sweeping import MAX_COUNTED, MAX_VARIANTS, VariantError

SEED = "examples/simple_cnn.yaml"


def seed_total(filters: int, units: int) -> int:
    """The second seed's network with conv_2's filters and fc_1's units changed, counted by
    hand: conv_1 (3·3·1 + 1)·32, conv_2 (3·3·32 + 1)·F on 26×26 → 24×24×F, pooled to 12×12×F,
    fc_1 (12·12·F + 1)·U, fc_2 (U + 1)·10."""
    return (3 * 3 * 1 + 1) * 32 + (3 * 3 * 32 + 1) * filters + (12 * 12 * filters + 1) * units + (units + 1) * 10


def totals(source, grid, **options):
    return [(v.values, v.report.total_params) for v in learnable.sweep(source, grid, **options)]


def test_every_variant_of_the_seed_by_hand_first_key_slowest():
    got = totals(SEED, {"conv_2.filters": [16, 32, 64], "fc_1.units": [64, 128]})
    expected = [({"conv_2.filters": f, "fc_1.units": u}, seed_total(f, u)) for f in (16, 32, 64) for u in (64, 128)]
    assert got == expected
    assert seed_total(64, 128) == 1_199_882  # the seed itself, as its tutorial adds it up


def test_positional_arguments_and_a_packed_input_shape_are_replaced_where_written():
    """Conv2D(32, 3) gives its kernel by position, Input(28, 28, 1) its shape as three values."""
    got = totals("Input(28, 28, 1) | Conv2D(32, 3) | Flatten() | Dense(10)",
                 {"input.shape": [(28, 28, 1), [20, 20, 3]], "conv2d.kernel_size": [3, 5], "dense.units": [10, 7]})

    def by_hand(size, channels, k, units):
        side = size - k + 1
        return (k * k * channels + 1) * 32 + (side * side * 32 + 1) * units

    assert [total for _, total in got] == [by_hand(s, c, k, u) for s, c in ((28, 1), (20, 3)) for k in (3, 5)
                                           for u in (10, 7)]


def test_a_first_layer_that_states_its_input_shape_is_found_by_its_name():
    """Keras 2's Conv2D(..., input_shape=...) becomes an input and a layer as the spec is built."""
    got = totals("Conv2D(8, 3, input_shape=(10, 10, 3)) | Flatten() | Dense(2)",
                 {"conv2d.filters": [8, 4], "conv2d.input_shape": [(10, 10, 3), (6, 6, 1)]})
    assert [total for _, total in got] == [(3 * 3 * c + 1) * f + ((s - 2) * (s - 2) * f + 1) * 2
                                           for f in (8, 4) for s, c in ((10, 3), (6, 1))]


def test_automatic_names_block_parameters_and_repeat():
    spec = {
        "input": [8],
        "blocks": {"mlp": {"params": {"width": None}, "layers": [{"Dense": {"units": "$width"}}, "ReLU"]}},
        "layers": [{"Dense": 16}, {"mlp": {"width": 4, "name": "body", "repeat": 2}}, {"Dense": 3}],
    }
    got = totals(spec, {"dense.units": [16, 5], "body.width": [4, 6], "body.repeat": [1, 3], "dense_1.units": [3]})

    def by_hand(first, width, repeat):  # Dense(first) on 8, then `repeat` Dense(width), then Dense(3)
        return (8 + 1) * first + (first + 1) * width + (repeat - 1) * (width + 1) * width + (width + 1) * 3

    assert [total for _, total in got] == [by_hand(f, w, r) for f in (16, 5) for w in (4, 6) for r in (1, 3)]


@pytest.mark.parametrize("kept", [MAX_COUNTED, 0])  # 0: what is counted is dropped before each variant
def test_each_variant_is_the_report_of_its_spec_counted_alone(kept, monkeypatch):
    """Variants share the layers they have in common; each must still be exactly what its
    own spec gives, whatever was counted before it, in either data format."""
    monkeypatch.setattr(sweeping, "MAX_COUNTED", kept)
    spec = {"input": [3, 12, 12], "layers": [{"Conv2D": {"filters": 4, "kernel_size": 3, "name": "conv"}}, "Flatten",
                                             {"Dense": 2}]}
    grid = {"input.data_format": ["channels_first", "channels_last", "channels_first"], "conv.kernel_size": [3, 1]}
    variants = list(learnable.sweep(spec, grid))
    for variant in variants:
        alone = {**spec, "data_format": variant.values["input.data_format"],
                 "layers": [{"Conv2D": {"filters": 4, "kernel_size": variant.values["conv.kernel_size"],
                                        "name": "conv"}}, "Flatten", {"Dense": 2}]}
        assert variant.report.to_dict() == learnable.count(alone).to_dict()
    # channels first, 3×3: (3·3·3 + 1)·4 = 112, then 4×10×10 → (400 + 1)·2; channels last reads 12 channels
    assert variants[0].report.total_params == 112 + 802
    assert variants[2].report.total_params == (3 * 3 * 12 + 1) * 4 + (1 * 10 * 4 + 1) * 2


def test_the_variants_are_counted_when_asked_for_and_the_keys_checked_at_once():
    with pytest.raises(learnable.LearnableError, match="conv_9"):
        learnable.sweep(SEED, {"conv_9.filters": [1]})  # no iteration: the key is checked at the call
    variants = learnable.sweep(SEED, {"conv_1.kernel_size": [3, 99]})
    assert next(variants).report.total_params == seed_total(64, 128)
    with pytest.raises(VariantError, match=r"the variant conv_1.kernel_size=99: Conv2D 'conv_1'.*larger than") as err:
        next(variants)
    assert err.value.values == {"conv_1.kernel_size": 99}


@pytest.mark.parametrize("grid, message", [
    ({}, "at least one LAYER.ARGUMENT"),
    ({"conv_2": [1]}, "write LAYER.ARGUMENT"),
    ({"conv_2.": [1]}, "write LAYER.ARGUMENT"),
    ({"conv_2.inputs": [["conv_1"]]}, "places the layer in the network"),
    ({"conv2.filters": [1]}, "no top-level layer or block use is named 'conv2'; did you mean 'conv_2'"),
    ({"conv_2.filters": 16}, "give a list of values"),
    ({"conv_2.filters": "16"}, "give a list of values"),
    ({"conv_2.filters": []}, "the list of values is empty"),
    ({"fc_1.units": list(range(1000)), "fc_2.units": list(range(1000))}, f"at most {MAX_VARIANTS:,}"),
])
def test_bad_keys_and_values_are_refused_before_counting(grid, message):
    with pytest.raises(learnable.LearnableError, match=message):
        learnable.sweep(SEED, grid)


def test_two_names_of_one_argument_and_a_copy_of_a_repeated_layer_are_refused():
    with pytest.raises(learnable.LearnableError, match="name the same argument"):
        learnable.sweep("Input(4) | Dense(2)", {"input_layer.shape": [[4]], "input.shape": [[5]]})
    with pytest.raises(learnable.LearnableError, match="named 'enc_1'"):  # its copies are one spec entry
        learnable.sweep({"input": [4], "layers": [{"Dense": {"units": 4, "name": "enc", "repeat": 2}}]},
                        {"enc_1.units": [2]})
    got = totals({"input": [4], "layers": [{"Dense": {"units": 4, "name": "enc", "repeat": 2}}]}, {"enc.units": [4]})
    assert got[0][1] == 2 * (4 + 1) * 4


def test_an_unnamed_repeated_layer_is_known_by_its_first_copy():
    """dense, dense_1, dense_2 are one entry `Dense: {units: 8, repeat: 3}`; the next is dense_3."""
    spec = {"input": [4], "layers": [{"Dense": {"units": 8, "repeat": 3}}, {"Dense": 2}]}
    got = totals(spec, {"dense.repeat": [1, 2], "dense_3.units": [2, 5]})
    assert [total for _, total in got] == [(4 + 1) * 8 + (r - 1) * (8 + 1) * 8 + (8 + 1) * u
                                           for r in (1, 2) for u in (2, 5)]
    with pytest.raises(learnable.LearnableError, match="named 'dense_1'; did you mean"):
        learnable.sweep(spec, {"dense_1.units": [2]})


def test_keys_values_and_arguments_are_checked_before_anything_is_counted():
    with pytest.raises(learnable.LearnableError, match="'unit' is not an argument of the Dense 'fc_1'; did you mean "
                                                       "'units'"):
        learnable.sweep(SEED, {"fc_1.unit": [1]})
    with pytest.raises(learnable.LearnableError, match="'filter' is not an argument of the block use 'conv4'"):
        learnable.sweep("zoo:resnet50", {"conv4.filter": [1]})
    with pytest.raises(learnable.LearnableError, match="the input's shape is the first layer's input_shape: vary "
                                                       "'dense.input_shape'"):
        learnable.sweep("Dense(10, input_shape=(4,)) | Dense(3)", {"input.shape": [[4]]})
    for endless in (range(10**12), itertools.count()):  # refused at once, not materialized
        with pytest.raises(learnable.LearnableError, match=f"more than {MAX_VARIANTS:,} values"):
            learnable.sweep(SEED, {"fc_1.units": endless})
    with pytest.raises(learnable.LearnableError, match="got '5'"):
        learnable.sweep(SEED, {"fc_1.units": "5"})


def test_values_no_spec_could_hold_fail_as_learnable_errors():
    itself = [28]
    itself.append(itself)
    for value in (itself, 10**5000):
        with pytest.raises(learnable.LearnableError, match="the variant"):
            list(learnable.sweep(SEED, {"input.shape" if value is itself else "fc_1.units": [value]}))


def test_numpy_integers_are_integers():
    np = pytest.importorskip("numpy")
    got = totals(SEED, {"conv_2.filters": np.arange(16, 65, 48), "fc_1.units": [np.int32(64)]})
    assert [total for _, total in got] == [seed_total(16, 64), seed_total(64, 64)]


def test_a_report_and_its_rows_hash_by_their_values():
    assert hash(learnable.count(SEED)) == hash(learnable.count(SEED))
    assert len({row for row in learnable.count(SEED).layers}) == 7


def test_a_framework_model_has_no_spec_to_sweep():
    nn = pytest.importorskip("torch.nn")
    with pytest.raises(learnable.LearnableError, match="sweep a spec"):
        learnable.sweep(nn.Linear(2, 3), {"x.units": [1]})
    with pytest.raises(learnable.LearnableError, match="convention must be"):
        learnable.sweep(SEED, {"fc_1.units": [1]}, convention="jax")


# ---- against Keras ----------------------------------------------------------------------------


@pytest.mark.frameworks
def test_resnet101_is_resnet50_with_23_blocks_in_conv4_as_keras_builds_it():
    keras = pytest.importorskip("keras")
    resnet50, resnet101 = (v.report for v in learnable.sweep("zoo:resnet50", {"conv4.blocks": [6, 23]}))
    assert_totals_match_keras(resnet101, keras.applications.ResNet101(weights=None))
    assert resnet50.total_params == 25_636_712  # keras.applications.ResNet50(weights=None)


@pytest.mark.frameworks
def test_seed_variants_match_keras():
    keras = pytest.importorskip("keras")
    from keras import layers

    for variant in learnable.sweep(SEED, {"conv_1.kernel_size": [3, 5], "fc_1.units": [32, 128]}):
        k, units = variant.values["conv_1.kernel_size"], variant.values["fc_1.units"]
        model = keras.Sequential([
            keras.Input((28, 28, 1)), layers.Conv2D(32, k), layers.Conv2D(64, 3), layers.MaxPooling2D(2),
            layers.Flatten(), layers.Dense(units), layers.Dense(10)])
        assert_totals_match_keras(variant.report, model)


# ---- the command ------------------------------------------------------------------------------


def test_command_table_rows_in_grid_order_and_the_extremes():
    result = run_cli("sweep", SEED, "--vary", "conv_2.filters=16,64", "--vary", "fc_1.units=64,128")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "simple-cnn: 4 variants"
    assert lines[2].split() == ["conv_2.filters", "fc_1.units", "Params", "Trainable", "MACs"]
    rows = [line.split() for line in lines[4:8]]
    assert [(r[0], r[1], r[2]) for r in rows] == [
        (str(f), str(u), f"{seed_total(f, u):,}") for f in (16, 64) for u in (64, 128)]
    assert f"Most params: {seed_total(64, 128):,} (conv_2.filters=64, fc_1.units=128)" in result.stdout


def test_command_json_csv_and_markdown_carry_the_same_numbers():
    grid = ("--vary", "input.shape=[28,28,1],[32,32,1]", "--vary", "fc_1.units=8")
    data = json.loads(run_cli("sweep", SEED, *grid, "-f", "json").stdout)
    assert data["keys"] == ["input.shape", "fc_1.units"]
    assert [v["values"] for v in data["variants"]] == [{"input.shape": [28, 28, 1], "fc_1.units": 8},
                                                        {"input.shape": [32, 32, 1], "fc_1.units": 8}]
    # 32×32 input: 30 → 28 after the convolutions, 14×14×64 after pooling
    assert [v["total_params"] for v in data["variants"]] == [
        seed_total(64, 8), seed_total(64, 8) + (14 * 14 - 12 * 12) * 64 * 8]
    rows = list(csv.DictReader(io.StringIO(run_cli("sweep", SEED, *grid, "-f", "csv").stdout)))
    assert [int(r["total_params"]) for r in rows] == [v["total_params"] for v in data["variants"]]
    assert rows[0]["input.shape"] == "[28, 28, 1]"
    markdown = run_cli("sweep", SEED, *grid, "-f", "markdown").stdout
    assert f"| [28, 28, 1] | 8 | {seed_total(64, 8):,} |" in markdown


def test_the_command_offers_the_renderers_formats():
    from learnable.cli import SWEEP_FORMATS
    from learnable.render.sweep import FORMATS

    assert SWEEP_FORMATS == FORMATS


def test_command_memory_of_each_variant_by_hand():
    """The seed's inference memory at batch 32 in fp32: its weights, 4 bytes each, and the
    peak of two live activations, conv_1's 26×26×32 and conv_2's 24×24×64 (fc_1 is not in it)."""
    peak = 32 * (26 * 26 * 32 + 24 * 24 * 64) * 4
    result = run_cli("sweep", SEED, "--vary", "fc_1.units=64,128", "--memory", "--batch", "32", "--optimizer", "adam",
                     "-f", "csv")
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [int(r["inference_bytes"]) for r in rows] == [seed_total(64, u) * 4 + peak for u in (64, 128)]
    assert all(int(r["training_bytes"]) > int(r["inference_bytes"]) for r in rows)
    table = run_cli("sweep", SEED, "--vary", "fc_1.units=64", "--batch", "32").stdout
    assert "Inference (batch 32, fp32)" in table and "Training" not in table
    data = json.loads(run_cli("sweep", SEED, "--vary", "fc_1.units=64", "--memory", "-f", "json").stdout)
    assert data["variants"][0]["memory"]["inference_bytes"] == seed_total(64, 64) * 4 + peak // 32


def test_command_json_holds_what_json_cannot_as_text_and_markdown_escapes_headers(tmp_path):
    data = json.loads(run_cli("sweep", SEED, "--vary", "fc_1.activation={2020-01-01: x},.nan", "-f", "json").stdout)
    assert [v["values"]["fc_1.activation"] for v in data["variants"]] == ["{datetime.date(2020, 1, 1): 'x'}", "nan"]
    (tmp_path / "piped.yaml").write_text("input: [4]\nlayers:\n  - Dense: {units: 2, name: 'a|b'}\n")
    markdown = run_cli("sweep", str(tmp_path / "piped.yaml"), "--vary", "a|b.units=3", "-f", "markdown").stdout
    assert "| a\\|b.units | Params |" in markdown and "| 3 | 15 |" in markdown


@pytest.mark.parametrize("arguments, message", [
    (("--vary", "conv_2.filters"), "write LAYER.ARGUMENT=VALUES"),
    (("--vary", "conv_2.filters=16,]]"), r"--vary conv_2.filters:1:5: YAML syntax error"),  # the user's column
    (("--vary", "conv_2.filters=16", "--vary", "conv_2.filters=32"), "--vary conv_2.filters is given twice"),
    (("--vary", "conv_2.filtres=16"), "'filtres' is not an argument of the Conv2D 'conv_2'; did you mean 'filters'"),
    (("--vary", "conv_2.filters=abc"), "the variant conv_2.filters=abc: .*must be an integer"),
    (("--vary", "fc_1.repeat=-1"), "repeat must be a whole number from 0"),
    (("models.py:Net", "--vary", "fc.units=1"), "a model defined in Python has none to change"),
])
def test_command_bad_input_one_line_exit_2(arguments, message):
    result = run_cli("sweep", *arguments) if arguments[0] != "--vary" else run_cli("sweep", SEED, *arguments)
    assert result.returncode == 2
    assert result.stdout == ""
    assert len(result.stderr.splitlines()) == 1 and "Traceback" not in result.stderr
    assert re.search(message, result.stderr), result.stderr


# ---- paired sweeps (--zip): the i-th values of every key together ---------------------------

PAIR = {"input": [8], "layers": [{"Dense": {"units": 4, "name": "h"}}, {"Dense": {"units": 2, "name": "o"}}]}


def test_a_paired_sweep_is_one_row_per_position_not_the_grid():
    widths, outputs = [4, 16, 64, 256], [2, 3, 5, 7]
    variants = list(learnable.sweep(PAIR, {"h.units": widths, "o.units": outputs}, paired=True))
    assert len(variants) == 4  # not 4 × 4
    assert [v.values for v in variants] == [{"h.units": a, "o.units": b} for a, b in zip(widths, outputs)]
    assert [v.report.total_params for v in variants] == [8 * a + a + a * b + b for a, b in zip(widths, outputs)]


def test_a_paired_sweep_with_unequal_lists_is_refused():
    with pytest.raises(learnable.LearnableError, match="each needs as many values: h.units has 4, o.units has 3"):
        list(learnable.sweep(PAIR, {"h.units": [1, 2, 3, 4], "o.units": [1, 2, 3]}, paired=True))


def test_zip_on_the_command_line_resnet_50_101_152():
    # torchvision's published totals (ResNet*_Weights meta num_params; CONVENTIONS.md §3.2)
    result = run_cli("sweep", "zoo:resnet50_torch", "--zip", "--vary", "layer2.blocks=4,4,8",
                     "--vary", "layer3.blocks=6,23,36", "-f", "csv")
    assert result.returncode == 0, result.stderr
    rows = result.stdout.strip().splitlines()[1:]
    assert [row.split(",")[:3] for row in rows] == [["4", "6", "25557032"], ["4", "23", "44549160"],
                                                    ["8", "36", "60192808"]]


def test_zip_with_unequal_lists_is_one_line_and_exit_2():
    result = run_cli("sweep", SEED, "--zip", "--vary", "conv_2.filters=16,32", "--vary", "fc_1.units=8")
    assert result.returncode == 2 and result.stdout == "" and "Traceback" not in result.stderr
    assert result.stderr.strip().endswith("each needs as many values: conv_2.filters has 2, fc_1.units has 1")
