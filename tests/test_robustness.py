"""Inputs found by adversarial testing: each ends in a report or one clear error, never a
traceback, a hang or a crash."""

from __future__ import annotations

import subprocess
import time

import pytest

import learnable
from conftest import learnable_command, run_cli


def error_of(source) -> str:
    with pytest.raises(learnable.LearnableError) as caught:
        learnable.count(source)
    return str(caught.value)


BOMB = "input: [3]\na: &a [1,1,1,1,1,1,1,1,1]\n" + "".join(
    f"{x}: &{x} [{', '.join(['*' + p] * 9)}]\n" for p, x in zip("abcdefgh", "bcdefghi")
) + "layers: [Flatten]\n"

YAML_CASES = {
    "recursive alias": ("input: [3]\nx: &a [*a]\nlayers: [Flatten]\n", "alias refers to a block that contains it"),
    "recursive layers": ("input: [3]\nlayers: &a [*a]\n", "alias refers to a block that contains it"),
    "alias bomb": (BOMB, "expands to more than 2,000,000 nodes"),
    "deep flow nesting": ("input: [3]\ndescription: " + "[" * 40_000 + "]" * 40_000 + "\nlayers: [Flatten]\n",
                          "nested more than 500 levels deep"),
    "deep layer item": ("input: [3]\nlayers:\n  - " + "[" * 2_000 + "]" * 2_000 + "\n", "nested more than 500 levels"),
    "unhashable key": ("input: [3]\nlayers: [Flatten]\n? [a]\n: 3\n", "found unhashable key"),
    "5,000-digit number": ("input: [" + "9" * 5_000 + "]\nlayers: [Flatten]\n", "too long to be a size"),
}


@pytest.mark.parametrize("case", YAML_CASES, ids=list(YAML_CASES))
def test_hostile_yaml_is_refused_quickly(case):
    text, fragment = YAML_CASES[case]
    start = time.perf_counter()
    assert fragment in error_of(text)
    assert time.perf_counter() - start < 5


def test_shared_blocks_through_aliases_still_count():
    report = learnable.count("input: [3]\nlayers: [&d {Dense: 4}, *d]\n")
    assert [row.params for row in report.layers] == [0, 3 * 4 + 4, 4 * 4 + 4]


def test_long_pipe_chain():
    layers = 20_000
    report = learnable.count("Input(8) | " + " | ".join(["Dense(8)"] * layers))
    assert report.total_params == layers * (8 * 8 + 8)


@pytest.mark.parametrize("source, fragment", [
    ("Input(8) | Dense(" + "+".join(["1"] * 2_000) + ")", "nested too deeply"),
    ("Input(8) | Dense(" + "[" * 3_000 + "]" * 3_000 + ")", "too many nested parentheses"),
    ('{"input": ' + "[" * 5_000 + "]" * 5_000 + ', "layers": []}', "nested"),
    ("Input(" + "9" * 30 + ") | Flatten()", "must be at most 9,223,372,036,854,775,807"),
    ("Input(" + ", ".join(["2"] * 65) + ")", "from 1 to 64 dimensions"),
])
def test_absurd_sizes_and_nesting(source, fragment):
    assert fragment in error_of(source)


def test_json_file_nested_too_deeply(tmp_path):
    (tmp_path / "deep.json").write_text('{"input": [3], "layers": ' + "[" * 100_000 + "]" * 100_000 + "}")
    result = run_cli("count", "deep.json", cwd=tmp_path)
    assert result.returncode == 2 and "nested too deeply" in result.stderr


@pytest.mark.parametrize("name", ["[/x]", "[red]x[/red]", "out[i]", "[bold]hidden"])
def test_names_are_shown_as_written(name):
    report = learnable.count({"name": name, "input": [3], "layers": [{"Dense": {"units": 2, "name": name}}]})
    table = str(report)
    assert table.count(name) == 2  # the title and the row


def test_non_utf8_stdin_is_one_clear_error():
    result = subprocess.run([learnable_command(), "count", "-"], input=b"Input(3) | Dense(\xff)", capture_output=True)
    assert result.returncode == 2
    assert b"<stdin>: is not UTF-8 text (byte 17)" in result.stderr


@pytest.mark.parametrize("source", ["\ufeffInput(3) | Dense(2)", '\ufeff{"input": [3], "layers": [{"Dense": 2}]}'])
def test_byte_order_mark_in_a_string(source):
    assert learnable.count(source).total_params == 3 * 2 + 2


@pytest.mark.parametrize("source", ["{input: [3], layers: [{Dense: 2}]}", '"input": [3]\n"layers": [{"Dense": 2}]'])
def test_yaml_flow_and_quoted_keys_are_specs(source):
    assert learnable.count(source).total_params == 3 * 2 + 2


@pytest.mark.parametrize("path, fragment", [
    ("model.keras", "model.keras: no such file"),  # read by the Keras file reader, once it exists
    ("model.pb", "model.pb: is a .pb model file, a format learnable does not read; it reads .onnx"),
    ("weights.safetensors", "weights.safetensors: no such file"),
    ("examples/simple_cnn", "examples/simple_cnn: no such file"),
])
def test_paths_that_are_not_specs(path, fragment):
    assert fragment in error_of(path)


def test_yaml_call_item_errors_point_at_the_item(tmp_path):
    (tmp_path / "m.yaml").write_text('input: [3]\nlayers:\n  - Flatten\n  - "Dense(3, name=5)"\n')
    result = run_cli("count", "m.yaml", cwd=tmp_path)
    assert result.returncode == 2 and "m.yaml:4" in result.stderr and "name must be a non-empty string" in result.stderr


def test_markdown_cells_stay_on_one_line():
    from learnable.render import render

    report = learnable.count({"input": [3], "layers": [{"Dense": {"units": 2, "name": "two\nlines"}}]})
    # the line break shown escaped, as in the table and in error messages: one line, and the real name
    assert "| two\\nlines | Dense |" in render(report, "markdown")
