"""Shared test helpers: the installed command, and an independent formula evaluator."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

# Keras 3 runs on PyTorch here: no TensorFlow is installed. Set before any test imports keras.
os.environ.setdefault("KERAS_BACKEND", "torch")

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"


def sweep(n: int) -> range:
    """Seeds for a randomized sweep: n in CI; LEARNABLE_SWEEP=20 runs twenty times as many."""
    return range(n * max(1, int(os.environ.get("LEARNABLE_SWEEP", "1"))))


def pytest_addoption(parser):
    parser.addoption("--update-golden", action="store_true",
                     help="rewrite tests/golden/* from the current output (review the diff before committing)")


def learnable_command() -> str:
    """The console script as a user runs it: beside this Python, else on PATH."""
    beside = Path(sys.executable).with_name("learnable")
    found = str(beside) if beside.exists() else shutil.which("learnable")
    if not found:
        pytest.fail("the `learnable` command is not installed; run the README's test set-up")
    return found


def run_cli(*args: str, stdin: str | None = None, cwd: Path = ROOT, columns: int = 200) -> subprocess.CompletedProcess:
    env = {**os.environ, "COLUMNS": str(columns), "NO_COLOR": "1"}
    return subprocess.run(
        [learnable_command(), *args], input=stdin, capture_output=True, text=True, cwd=cwd, env=env, timeout=60
    )


def evaluate_formula(formula: str) -> int:
    """Evaluate the left side of "3×3×32×64 + 64 = 18,496" or "⌊(24 − 2)/2⌋ + 1 = 12".

    Written independently of learnable's expression code: a small parser of the text a
    user reads, with exact integer arithmetic. A parenthesised ``(a/b)`` must divide exactly.
    """
    text = formula.split("=")[0].replace(",", "").replace(" ", "")
    if ":" in text:
        text = text.split(":", 1)[1]
    value, rest = _sum(text)
    assert rest == "", f"cannot read {rest!r} in {formula!r}"
    return value


def _sum(text: str) -> tuple[int, str]:
    value, text = _product(text)
    while text[:1] in ("+", "−"):
        op, (right, text) = text[0], _product(text[1:])
        value = value + right if op == "+" else value - right
    return value, text


def _product(text: str) -> tuple[int, str]:
    value, text = _atom(text)
    while text[:1] == "×":
        right, text = _atom(text[1:])
        value *= right
    return value, text


def _atom(text: str) -> tuple[int, str]:
    closing = {"(": ")", "⌊": "⌋", "⌈": "⌉"}
    if text[:1] in closing:
        opener = text[0]
        top, text = _sum(text[1:])
        if text[:1] == "/":
            bottom, text = _sum(text[1:])
            if opener == "(":
                assert top % bottom == 0, f"inexact division {top}/{bottom}"
            top = -(-top // bottom) if opener == "⌈" else top // bottom
        assert text[:1] == closing[opener], f"expected {closing[opener]!r} at {text!r}"
        return top, text[1:]
    digits = len(text) - len(text.lstrip("0123456789"))
    assert digits, f"expected a number at {text!r}"
    return int(text[:digits]), text[digits:]


def stated_result(formula: str) -> int | None:
    """The number after "=" in a formula, or None for a bare literal such as "64"."""
    if "=" not in formula:
        return None
    return int(formula.split("=")[1].strip().replace(",", ""))


def assert_formulas_hold(row) -> None:
    """A row's printed arithmetic evaluates to its numbers: the params formula to params,
    the buffers formula to buffers, each "axis: arithmetic = n" of the shape formula to n,
    and n is in the output shape."""
    assert evaluate_formula(row.formula) == row.params, (row.name, row.formula)
    assert stated_result(row.formula) in (None, row.params), (row.name, row.formula)
    if row.buffers_formula:
        assert evaluate_formula(row.buffers_formula) == row.buffers, (row.name, row.buffers_formula)
    for part in filter(None, row.shape_formula.split("; ")):
        stated = stated_result(part)
        assert evaluate_formula(part) == stated, (row.name, part)
        assert stated in row.output_shape, (row.name, part, row.output_shape)
