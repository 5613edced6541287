"""The plain-text table (pipes, files, str(report)) is exactly what rich draws at its
natural width, on every zoo model and with every option: the fast writer cannot drift
from the terminal's table."""

from __future__ import annotations

import pytest

import learnable
from learnable.memory import estimate
from learnable.render._columns import Show
from learnable.render.plain import render_plain
from learnable.render.table import render_text
from learnable.spec import zoo

SOURCES = ["examples/simple_cnn.yaml", *(f"zoo:{name}" for name in zoo.names()),
           {"name": "名前 ü", "layers": [{"Input": [4]}, {"Dense": {"units": 3, "name": "密集層é"}}]}]


@pytest.mark.parametrize("source", SOURCES, ids=str)
def test_plain_table_equals_rich(source):
    report = learnable.count(source)
    full = Show(macs=True, receptive_field=True, memory=estimate(report, batch=4, optimizer="adam"))
    for explain, depth, show in ((False, 0, Show()), (True, 1, full), (True, 3, Show(macs=True))):
        assert render_plain(report, explain=explain, depth=depth, show=show) == \
            render_text(report, explain=explain, depth=depth, show=show)
