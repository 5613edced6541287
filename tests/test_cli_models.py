"""The CLI on real models: a model in the user's own Python file, model files."""

from __future__ import annotations

import json

import pytest

from conftest import run_cli

pytestmark = pytest.mark.frameworks

MODELS_PY = '''
import torch
from torch import nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3)
        self.head = nn.Linear(8 * 30 * 30, 10)

    def forward(self, x):
        return self.head(torch.flatten(self.conv(x), 1))


def build():
    return nn.Sequential(nn.Linear(4, 2))
'''


def test_a_model_in_a_python_file(tmp_path):
    pytest.importorskip("torch")
    (tmp_path / "models.py").write_text(MODELS_PY)
    result = run_cli("count", "models.py:Net", "--input", "3x32x32", "-f", "json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["total_params"] == (3 * 3 * 3 * 8 + 8) + (8 * 30 * 30 * 10 + 10)
    assert data["layers"][-1]["output_shape"] == [10]
    built = run_cli("count", "models.py:build", cwd=tmp_path)
    assert built.returncode == 0 and "Total params: 10" in built.stdout


@pytest.mark.parametrize("reference, message", [
    ("nowhere.py:Net", "no such file"),
    ("models.py:Nope", "defines no 'Nope'"),
])
def test_bad_references(tmp_path, reference, message):
    pytest.importorskip("torch")
    (tmp_path / "models.py").write_text(MODELS_PY)
    result = run_cli("count", reference, cwd=tmp_path)
    assert result.returncode == 2 and message in result.stderr


def test_bad_input_shape(tmp_path):
    pytest.importorskip("torch")
    (tmp_path / "models.py").write_text(MODELS_PY)
    result = run_cli("count", "models.py:Net", "--input", "3xbig", cwd=tmp_path)
    assert result.returncode == 2 and "--input must be sizes" in result.stderr
    wrong = run_cli("count", "models.py:Net", "--input", "5x32x32", cwd=tmp_path)
    assert wrong.returncode == 2 and "Traceback" not in wrong.stderr and "forward failed" in wrong.stderr
