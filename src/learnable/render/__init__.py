"""Renderers: each reads a :class:`~learnable.report.Report` and returns text.

None of them computes anything; they all show the same report data, and the tabular ones
share one definition of their columns (:mod:`._columns`).
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module

from ..errors import LearnableError
from ..report import Report
from ._columns import PARAMS_ONLY, Show

# format → (module, function); modules are imported only when their format is asked for.
_RENDERERS = {
    "table": ("plain", "render_plain"),  # the text table; rich draws it only on a terminal
    "json": ("formats", "render_json"),
    "markdown": ("formats", "render_markdown"),
    "csv": ("formats", "render_csv"),
    "latex": ("latex", "render_latex"),
    "html": ("html", "render_html"),
}
FORMATS = tuple(_RENDERERS)
# The same formats for two conventions side by side (--convention both).
_COMPARISON_RENDERERS = {fmt: ("comparison", f"render_{'table' if fmt == 'table' else fmt}")
                         for fmt in ("table", "json", "markdown", "csv")}


def renderer(fmt: str, *, comparison: bool = False) -> Callable[..., str]:
    if comparison and fmt not in _COMPARISON_RENDERERS:
        raise LearnableError(f"--convention both has no {fmt} output; use one of "
                             f"{', '.join(_COMPARISON_RENDERERS)}, or count with --convention keras or pytorch")
    module, function = (_COMPARISON_RENDERERS if comparison else _RENDERERS)[fmt]
    return getattr(import_module(f".{module}", __name__), function)


def render(report: Report | Comparison, fmt: str = "table", *, explain: bool = False, depth: int = 0,
           show: Show = PARAMS_ONLY) -> str:
    """``depth``: how many levels of blocks to open in a table (0: each block one row);
    ``show``: MACs, receptive fields and a memory estimate besides the parameters."""
    if not isinstance(report, Report):  # a Comparison (comparison.py is imported only for one)
        return renderer(fmt, comparison=True)(report, explain=explain)
    return renderer(fmt)(report, explain=explain, depth=depth, show=show)
