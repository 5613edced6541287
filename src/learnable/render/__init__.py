"""Renderers: each reads a :class:`~learnable.report.Report` and returns text.

None of them computes anything; they all show the same report data, and the tabular ones
share one definition of their columns (:mod:`._columns`).
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module

from ..report import Report

# format → (module, function); modules are imported only when their format is asked for.
_RENDERERS = {
    "table": ("table", "render_text"),
    "json": ("formats", "render_json"),
    "markdown": ("formats", "render_markdown"),
    "csv": ("formats", "render_csv"),
}
FORMATS = tuple(_RENDERERS)


def renderer(fmt: str) -> Callable[..., str]:
    module, function = _RENDERERS[fmt]
    return getattr(import_module(f".{module}", __name__), function)


def render(report: Report, fmt: str = "table", *, explain: bool = False) -> str:
    return renderer(fmt)(report, explain=explain)
