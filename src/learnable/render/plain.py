"""The table as plain text, for pipes, files and ``str(report)``: the same layout rich
draws at its natural width (tests/test_plain.py holds the two equal), without measuring
and rendering every cell through rich, which takes seconds on a 10,000-layer network and
whose import alone costs a fresh command more than the count does.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

from ..errors import one_line
from ..report import Report
from ._columns import PARAMS_ONLY, Column, Show, columns, display_rows, totals

_GAP = "   "  # a cell's right padding, the box's blank rule, the next cell's left padding


def render_plain(report: Report, *, explain: bool = False, depth: int = 0, show: Show = PARAMS_ONLY) -> str:
    chosen = columns(report, explain, show)
    cells = [[column.cell(row) for column in chosen] for row in display_rows(report, depth, show.memory)]
    widths = [max([width(c.header)] + [width(line[i]) for line in cells]) for i, c in enumerate(chosen)]
    lines = [one_line(report.name), ""] if report.name else []
    lines.append(_line([c.header for c in chosen], chosen, widths))
    lines.append(" " + "─" * (sum(widths) + len(_GAP) * (len(widths) - 1)))
    lines += [_line(line, chosen, widths) for line in cells]
    lines += ["", *totals(report, show)]
    return "\n".join(line.rstrip() for line in lines) + "\n"


def _line(cells: Sequence[str], chosen: Sequence[Column], widths: Sequence[int]) -> str:
    return " " + _GAP.join(
        _pad(cell, size, column.numeric) for cell, column, size in zip(cells, chosen, widths)
    )


def _pad(cell: str, size: int, right: bool) -> str:
    fill = " " * (size - width(cell))
    return fill + cell if right else cell + fill


def width(text: str) -> int:
    """Terminal cells: wide (East Asian) characters take two, combining marks none."""
    if text.isascii():
        return len(text)
    return sum(0 if unicodedata.combining(c) else 2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)
