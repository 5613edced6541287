"""The core never imports a framework: a spec is counted with them blocked."""

from __future__ import annotations

import subprocess
import sys

from conftest import EXAMPLES

HEAVY = ("torch", "keras", "tensorflow", "onnx", "jax", "matplotlib", "numpy")

SCRIPT = f"""
import sys
for name in {HEAVY!r}:
    sys.modules[name] = None  # any import of these now raises ImportError
import learnable
from learnable.render import render
report = learnable.count({str(EXAMPLES / "simple_cnn.yaml")!r})
assert report.total_params == 1_199_882
for fmt in ("table", "json", "markdown", "csv"):
    render(report, fmt, explain=True)
learnable.count("Input(3, 8, 8) | nn.Conv2d(3, 4, 3) | nn.Flatten() | nn.Linear(144, 2)")
print("ok")
"""


def test_counting_needs_no_framework():
    result = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_import_loads_nothing_heavy():
    check = f"import sys, learnable; print(sorted(m for m in {HEAVY!r} if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == "[]", result.stderr


def test_a_model_file_without_its_framework_names_the_extra(tmp_path):
    (tmp_path / "model.pt").write_bytes(b"PK\x03\x04 not really")
    script = f"""
import sys
sys.modules["torch"] = None
import learnable
try:
    learnable.count({str(tmp_path / "model.pt")!r})
except learnable.LearnableError as err:
    print(err)
"""
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert "pip install 'learnable[torch]'" in result.stdout, result.stderr
