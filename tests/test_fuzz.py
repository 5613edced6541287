"""The fuzz targets: bounded runs in CI (20 s of atheris on specs, 10 s on sweeps and audits,
15 s on pasted code), and every input that ever crashed replayed, with the behaviour each fix
gave written out by hand."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys

import pytest
from conftest import ROOT
from hypothesis import given, settings
from hypothesis import strategies as st

import learnable

FUZZ = ROOT / "fuzz"
sys.path.insert(0, str(FUZZ))
from target import count_text

REGRESSIONS = sorted((FUZZ / "regressions").iterdir())


@pytest.mark.parametrize("path", REGRESSIONS, ids=[p.name for p in REGRESSIONS])
def test_inputs_that_once_crashed_end_in_a_report_or_a_clear_error(path):
    count_text(path.read_bytes())  # raises on anything but a report or a one-line LearnableError


def test_a_nul_in_yaml_is_one_line_naming_its_place():
    # PyYAML's own message spans two lines ("...\n  in "<unicode string>", position 26").
    with pytest.raises(learnable.LearnableError) as caught:
        learnable.count("input: [3]\nlayers: [Flatten]\x00\n")
    assert str(caught.value) == ("line 2, column 18: YAML does not allow the character U+0000 "
                                 "(control characters are not allowed); remove it")


def test_pipes_after_a_vertical_tab_still_separate_layers():
    # "\v" inside a string is a line break to str.splitlines but not to Python's tokenizer:
    # the pipes' rows and the lines they were looked up in disagreed (IndexError).
    report = learnable.count("Input(4) | Dense(2, name='a\vb') | Dense(3)")
    assert [row.params for row in report.layers] == [0, 4 * 2 + 2, 2 * 3 + 3]
    assert report.layers[1].name == "a\vb"


def test_an_error_quoting_a_control_character_stays_on_one_line():
    # A name is the user's text: escaped in the message, so it can neither break the line
    # nor send escape sequences to the terminal.
    spec = {"input": [3], "layers": [{"Dense": {"units": 2, "name": "x\n\x1b[2J"}},
                                     {"Dense": {"units": 2, "name": "x\n\x1b[2J"}}]}
    with pytest.raises(learnable.LearnableError) as caught:
        learnable.count(spec)
    assert str(caught.value) == "layer name 'x\\n\\x1b[2J' is used by more than one layer; names must be unique"


# Characters a string literal may hold raw that str.splitlines, or Unicode, calls line breaks.
BREAKERS = "\v\f\x1c\x1d\x1e\x85\u2028\u2029"
names = st.text(alphabet="ab |,()[]=#" + BREAKERS, max_size=6)


@settings(max_examples=150, deadline=None)
@given(st.integers(1, 6), st.lists(st.tuples(st.integers(1, 5), names), min_size=1, max_size=8),
       st.lists(st.sampled_from([" | ", "\n", "\n| ", ", ", "\r\n", " |\n  "]), min_size=8, max_size=8))
def test_compact_layers_keep_their_names_and_counts_whatever_the_names_hold(features, layers, separators):
    """The compact reader rewrites the text before parsing it (pipes, indentation): names
    holding pipes, brackets and line-break-like characters must come through as written."""
    calls = [f"Dense({units}, name='n{i}{name}')" for i, (units, name) in enumerate(layers)]
    text = f"Input({features})" + "".join(sep + call for sep, call in zip(separators, calls))
    report = learnable.count(text)
    widths = [features] + [units for units, _ in layers]
    assert report.total_params == sum(a * b + b for a, b in zip(widths, widths[1:]))
    assert [row.name for row in report.layers[1:]] == [f"n{i}{name}" for i, (_, name) in enumerate(layers)]


needs_atheris = pytest.mark.skipif(
    importlib.util.find_spec("atheris") is None,
    reason="atheris is not installed (the test extra installs it on Linux x86-64; see fuzz/README.md)")


@needs_atheris
def test_twenty_seconds_of_fuzzing_find_no_crash(tmp_path):
    sys.path.insert(0, str(FUZZ))
    from corpus import write

    write(tmp_path / "corpus")
    assert_fuzzing_finds_no_crash("fuzz_spec.py", tmp_path, seconds=20, timeout=10)


@needs_atheris
def test_ten_seconds_of_fuzzing_sweeps_find_no_crash(tmp_path):
    (tmp_path / "corpus").mkdir()
    # A generous timeout: a fuzzed repeat may ask for a network of 600,000 layers.
    assert_fuzzing_finds_no_crash("fuzz_sweep.py", tmp_path, seconds=10, timeout=120)


@needs_atheris
def test_fifteen_seconds_of_fuzzing_the_code_reader_find_no_crash(tmp_path):
    sys.path.insert(0, str(FUZZ))
    from corpus import write_code

    write_code(tmp_path / "corpus")
    assert_fuzzing_finds_no_crash("fuzz_code.py", tmp_path, seconds=15, timeout=20)


@needs_atheris
def test_ten_seconds_of_fuzzing_audits_find_no_crash(tmp_path):
    sys.path.insert(0, str(FUZZ))
    from corpus import write_audit

    write_audit(tmp_path / "corpus")
    assert_fuzzing_finds_no_crash("fuzz_audit.py", tmp_path, seconds=10, timeout=20)


def assert_fuzzing_finds_no_crash(script: str, tmp_path, seconds: int, timeout: int) -> None:
    # No RSS limit here: libFuzzer reads the peak from getrusage, which a child forked from
    # this pytest process inherits (2 GB and more once the framework tests have run), so it
    # reported an out-of-memory that was pytest's. fuzz/README.md's long runs keep the limit.
    command = [sys.executable, str(FUZZ / script), str(tmp_path / "corpus"), f"-max_total_time={seconds}",
               f"-timeout={timeout}", "-rss_limit_mb=0", f"-artifact_prefix={tmp_path}/"]
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, env=env, check=False)
    crashes = list(tmp_path.glob("crash-*")) + list(tmp_path.glob("timeout-*")) + list(tmp_path.glob("oom-*"))
    assert result.returncode == 0 and not crashes, result.stderr[-4000:]
    assert "Done" in result.stderr  # libFuzzer's closing line: it really ran


def test_a_block_name_filled_from_a_number_is_refused_where_it_is_written():
    # Found by the fuzzer: "name: $filters" with filters = 16 reached the planner as a
    # number (TypeError). A filled-in name is checked as a written one is.
    spec = "input: [4]\nblocks:\n  b:\n    params: {n: ~}\n    layers:\n      - Dense: {units: 2, name: $n}\nlayers:\n  - b: {n: 16}\n"
    with pytest.raises(learnable.LearnableError) as caught:
        learnable.count(spec)
    assert str(caught.value) == "line 6: name must be a non-empty string, got 16"
    ok = spec.replace("name: $n", "name: d$n")  # text around a parameter makes a name
    assert [row.name for row in learnable.count(ok).layers] == ["input", "b/d16"]
