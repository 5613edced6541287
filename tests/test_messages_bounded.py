"""Integer options are bounded before any arithmetic (issue 19): a --batch of thousands of digits
is one line naming the bound, not Python's advice to call sys.set_int_max_str_digits()."""

from __future__ import annotations

import subprocess
import sys

import pytest

import learnable
from learnable.errors import LearnableError
from learnable.memory import MAX_BATCH, estimate

SPEC = "examples/simple_cnn.yaml"


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "learnable", *args], capture_output=True, text=True,
                          timeout=60, check=False)


@pytest.mark.parametrize("value", ["9" * 5000, "9" * 4000, str(10**9 + 1), "0", "-3", "１２"],
                         ids=["5000 digits", "4000 digits", "1e9+1", "0", "-3", "fullwidth"])
def test_a_batch_out_of_bounds_is_one_short_line(value):
    result = run("count", SPEC, "--memory", "--batch", value)
    assert result.returncode == 2 and result.stdout == ""
    line = result.stderr.strip().splitlines()[-1]
    assert "must be a whole number from 1 to 1,000,000,000" in line and len(line) < 200, line
    assert "set_int_max_str_digits" not in result.stderr and "Traceback" not in result.stderr


def test_a_depth_of_thousands_of_digits_is_one_short_line():
    result = run("count", SPEC, "--depth", "9" * 5000)
    line = result.stderr.strip().splitlines()[-1]
    assert result.returncode == 2 and "must be a whole number from 0 to" in line and len(line) < 200


def test_the_largest_batch_is_counted():
    result = run("count", SPEC, "--memory", "--batch", str(MAX_BATCH), "--format", "json")
    assert result.returncode == 0 and '"batch": 1000000000' in result.stdout


@pytest.mark.parametrize("batch", [10**5000, 10**10, 0, True, "8"], ids=["5001 digits", "1e10", "0", "True", "text"])
def test_the_estimate_refuses_a_batch_out_of_bounds_in_one_line(batch):
    report = learnable.count(SPEC)
    with pytest.raises(LearnableError, match="batch must be a whole number from 1 to 1,000,000,000") as err:
        estimate(report, batch=batch)
    assert len(str(err.value)) < 120  # a 5,000-digit batch is not repeated (repr raised past 4,300 digits)
