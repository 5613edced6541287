"""Renderers: each reads a :class:`~learnable.report.Report` and returns text.

None of them computes anything; they all show the same report data.
"""

from __future__ import annotations

from collections.abc import Callable

from ..report import Report

FORMATS = ("table", "json", "markdown", "csv")


def renderer(fmt: str) -> Callable[..., str]:
    if fmt == "table":
        from .table import render_text

        return render_text
    from . import formats

    return {"json": formats.render_json, "markdown": formats.render_markdown, "csv": formats.render_csv}[fmt]


def render(report: Report, fmt: str = "table", *, explain: bool = False) -> str:
    return renderer(fmt)(report, explain=explain)
