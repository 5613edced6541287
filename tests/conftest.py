"""Shared test helpers: the installed command, and an independent formula evaluator."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"


def learnable_command() -> str:
    """The console script as a user runs it: beside this Python, else on PATH."""
    beside = Path(sys.executable).with_name("learnable")
    found = str(beside) if beside.exists() else shutil.which("learnable")
    if not found:
        pytest.fail("the `learnable` command is not installed; run the README's test set-up")
    return found


def run_cli(*args: str, stdin: str | None = None, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1"}
    return subprocess.run(
        [learnable_command(), *args], input=stdin, capture_output=True, text=True, cwd=cwd, env=env, timeout=60
    )


def evaluate_formula(formula: str) -> int:
    """Evaluate the left side of "3×3×32×64 + 64 = 18,496" with integer arithmetic only.

    Written independently of learnable's expression code: it reads the text a user reads.
    """
    left = formula.split("=")[0].replace(",", "").replace("×", "*").replace("/", "//")
    tree = ast.parse(left.strip(), mode="eval")
    allowed = (ast.Expression, ast.BinOp, ast.Constant, ast.Add, ast.Mult, ast.FloorDiv)
    for node in ast.walk(tree):
        assert isinstance(node, allowed), f"unexpected {type(node).__name__} in formula {formula!r}"
    for node in ast.walk(tree):  # every division shown must be exact
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.FloorDiv):
            num, den = (eval(compile(ast.Expression(n), "<f>", "eval")) for n in (node.left, node.right))
            assert num % den == 0, f"inexact division in {formula!r}"
    return eval(compile(tree, "<formula>", "eval"))


def stated_result(formula: str) -> int | None:
    """The number after "=" in a formula, or None for a bare literal such as "64"."""
    if "=" not in formula:
        return None
    return int(formula.split("=")[1].strip().replace(",", ""))
