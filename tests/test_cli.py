"""The installed command, run as a user runs it."""

from __future__ import annotations

import csv
import io
import json

import learnable
from conftest import EXAMPLES, evaluate_formula, run_cli

SEED = str(EXAMPLES / "simple_cnn.yaml")
CONTRACT_LAYER_KEYS = {"name", "type", "output_shape", "params", "trainable", "non_trainable", "formula"}


def test_json_contract():
    result = run_cli("count", SEED, "--format", "json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert {"name", "layers", "total_params", "trainable_params", "non_trainable_params"} <= set(data)
    assert data["name"] == "simple-cnn"
    assert data["total_params"] == 1_199_882 and data["non_trainable_params"] == 0
    for layer in data["layers"]:
        assert CONTRACT_LAYER_KEYS <= set(layer)
        assert type(layer["params"]) is int
        assert evaluate_formula(layer["formula"]) == layer["params"]
    conv_2 = next(layer for layer in data["layers"] if layer["name"] == "conv_2")
    assert conv_2["output_shape"] == [24, 24, 64] and conv_2["params"] == (3 * 3 * 32 + 1) * 64


def test_json_equals_api_to_dict():
    result = run_cli("count", SEED, "-f", "json")
    assert json.loads(result.stdout) == learnable.count(SEED).to_dict()


def test_csv():
    result = run_cli("count", SEED, "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [int(r["params"]) for r in rows] == [0, 320, 18_496, 0, 0, 1_179_776, 1_290]
    assert rows[2]["output_shape"] == "(24, 24, 64)"
    assert rows[4]["shape_formula"] == "12×12×64 = 9,216"


def test_markdown_table():
    result = run_cli("count", SEED, "--format", "markdown", "--explain")
    lines = result.stdout.splitlines()
    assert "| conv_2 | Conv2D | (24, 24, 64) | 18,496 | 3×3×32×64 + 64 = 18,496 | height, width: 26 − 3 + 1 = 24 |" in lines
    assert "**Total params:** 1,199,882  " in lines


def test_explain_adds_the_arithmetic_columns():
    plain, explained = run_cli("count", SEED), run_cli("count", SEED, "--explain")
    assert plain.returncode == explained.returncode == 0
    for header in ("Params arithmetic", "Shape arithmetic", "3×3×32×64 + 64 = 18,496"):
        assert header not in plain.stdout and header in explained.stdout
    assert "18,496" in plain.stdout
    assert all(line == line.rstrip() for line in plain.stdout.splitlines())


def test_compact_string_argument():
    result = run_cli("count", "Input(28, 28, 1) | Conv2D(32, 3, activation='relu') | Conv2D(64, 3) | "
                     "MaxPooling2D(2) | Flatten() | Dense(128) | Dense(10)")
    assert result.returncode == 0, result.stderr
    assert "Total params: 1,199,882" in result.stdout


def test_stdin():
    yaml_text = (EXAMPLES / "deeplizard.yaml").read_text()
    result = run_cli("count", "-", stdin=yaml_text)
    assert result.returncode == 0, result.stderr
    assert "Total params: 2,515" in result.stdout


def test_data_format_flag():
    result = run_cli("count", "Input(3, 32, 32) | Conv2D(8, 3)", "--data-format", "channels_first", "-f", "json")
    assert json.loads(result.stdout)["layers"][-1]["output_shape"] == [8, 30, 30]


def test_version_and_help():
    assert run_cli("--version").stdout.startswith("learnable ")
    result = run_cli("count", "--help")
    assert result.returncode == 0 and "--explain" in result.stdout


def test_usage_error_exits_2():
    result = run_cli("count", SEED, "--format", "xml")
    assert result.returncode == 2 and "invalid choice" in result.stderr


def test_readme_json_example_has_exactly_the_real_keys():
    import re

    from conftest import ROOT

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    example = json.loads(re.search(r"```json\n(.*?)```", readme, re.S).group(1))
    real = learnable.count(SEED).to_dict()
    conv_2 = next(layer for layer in real["layers"] if layer["name"] == "conv_2")
    assert set(example) == set(real)
    assert example["layers"][0] == conv_2  # every key and value of the row shown


def test_both_refuses_options_of_one_report():
    for option in ("--explain", "--depth=1"):
        result = run_cli("count", SEED, "--convention", "both", option)
        assert result.returncode == 2 and "count with --convention keras or pytorch" in result.stderr
    assert run_cli("count", SEED, "--depth", "-1").returncode == 2


def test_readme_sample_is_the_real_output():
    from conftest import ROOT

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    command = "$ learnable count examples/simple_cnn.yaml --explain\n"
    sample = readme.split(command, 1)[1].split("```", 1)[0]
    assert sample == run_cli("count", SEED, "--explain").stdout
