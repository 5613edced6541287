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


# ---- SECURITY.md's former "known gaps": each now one line (or a report), kept so ----------------

FORMER_GAPS = {
    "a computed size past 2^63": ("Input(2) | " + " | ".join(["RepeatVector(1000000000) | Flatten()"] * 200),
                                  "the limit is 2^63 − 1"),
    "a conv window beside a None axis": ("Input(3, None, 10) | Conv2d(3, 8, 50)", "larger than its padded input"),
    "a pool window beside a None axis": ("Input(3, None, 10) | MaxPool2d(50)", "larger than its padded input"),
}


@pytest.mark.parametrize("name", sorted(FORMER_GAPS))
def test_former_gaps_end_in_one_line(name):
    source, message = FORMER_GAPS[name]
    result = run("count", source, "--convention", "pytorch", "--data-format", "channels_first")
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and message in result.stderr


@pytest.mark.parametrize("layer, message", [
    ({"Tensors": {"tensors": [["w", [-3, 4], True, False]], "output_shape": [5]}}, "must be an integer ≥ 0, got -3"),
    ({"Tensors": {"tensors": [["w", [3, 4], True, False]], "output_shape": [-5]}}, "must be a positive integer"),
])
def test_a_tensors_layer_refuses_negative_sizes(layer, message):
    with pytest.raises(LearnableError, match=message):
        learnable.count({"input": [4], "layers": [layer]})


def test_adaptive_pooling_to_a_huge_size_is_counted_without_walking_it(tmp_path):
    code = tmp_path / "m.py"
    code.write_text("import torch.nn as nn\nmodel = nn.Sequential(nn.AdaptiveAvgPool2d(2**62))\n")
    result = subprocess.run([sys.executable, "-m", "learnable", "count", str(code), "--input", "3x8x8", "--macs"],
                            capture_output=True, text=True, timeout=20, check=False)
    assert "Traceback" not in result.stderr and result.returncode in (0, 2), result.stderr


def test_upsample_with_a_list_as_its_mode_is_one_line(tmp_path):
    code = tmp_path / "m.py"
    code.write_text("import torch.nn as nn\nmodel = nn.Sequential(nn.Upsample(scale_factor=2, mode=['nearest']))\n")
    result = run("count", str(code), "--input", "3x8x8")
    assert result.returncode == 2 and "argument 'mode' must be a mode name" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
