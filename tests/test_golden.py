"""Rendered output, byte for byte, against reviewed golden files in tests/golden/.

Rewrite them only on purpose: ``pytest tests/test_golden.py --update-golden``, then read
the diff. The numbers in them are the seeds' (checked against hand arithmetic in
test_seeds.py); these tests guard the layout.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import learnable
from conftest import EXAMPLES
from learnable.render import render

GOLDEN = Path(__file__).parent / "golden"

CASES = {
    "simple_cnn.table.txt": ("simple_cnn.yaml", "table", False),
    "simple_cnn.explain.txt": ("simple_cnn.yaml", "table", True),
    "simple_cnn.explain.md": ("simple_cnn.yaml", "markdown", True),
    "simple_cnn.csv": ("simple_cnn.yaml", "csv", False),
    "deeplizard.explain.txt": ("deeplizard.yaml", "table", True),
}


@pytest.mark.parametrize("golden", CASES, ids=list(CASES))
def test_rendering_matches_golden(golden, request):
    example, fmt, explain = CASES[golden]
    text = render(learnable.count(EXAMPLES / example), fmt, explain=explain)
    path = GOLDEN / golden
    if request.config.getoption("--update-golden"):
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")
