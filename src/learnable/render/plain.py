"""The table as plain text, for pipes, files and ``str(report)``: the same layout rich
draws at its natural width (tests/test_plain.py holds the two equal), without measuring
and rendering every cell through rich, which takes seconds on a 10,000-layer network and
whose import alone costs a fresh command more than the count does.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

from .._text import visible, visible_output
from ..errors import one_line
from ..report import Report
from ._columns import PARAMS_ONLY, Show, columns, display_rows, totals

_GAP = "   "  # a cell's right padding, the box's blank rule, the next cell's left padding


@visible_output
def render_plain(report: Report, *, explain: bool = False, depth: int = 0, show: Show = PARAMS_ONLY) -> str:
    chosen = columns(report, explain, show)
    cells = [[visible(column.cell(row)) for column in chosen] for row in display_rows(report, depth, show.memory)]
    lines = [one_line(report.name), ""] if report.name else []
    lines += table_lines([c.header for c in chosen], [c.numeric for c in chosen], cells)
    lines += ["", *totals(report, show)]
    return "\n".join(line.rstrip() for line in lines) + "\n"


def table_lines(headers: Sequence[str], numeric: Sequence[bool], cells: Sequence[Sequence[str]]) -> list[str]:
    """A header, its rule and the rows, each column as wide as its widest cell, numbers
    aligned right (the lines keep their trailing blanks)."""
    widths = [max([width(header)] + [width(line[i]) for line in cells]) for i, header in enumerate(headers)]
    rule = " " + "─" * (sum(widths) + len(_GAP) * (len(widths) - 1))
    return [_line(headers, numeric, widths), rule, *(_line(line, numeric, widths) for line in cells)]


def _line(cells: Sequence[str], numeric: Sequence[bool], widths: Sequence[int]) -> str:
    return " " + _GAP.join(_pad(cell, size, right) for cell, right, size in zip(cells, numeric, widths))


def _pad(cell: str, size: int, right: bool) -> str:
    fill = " " * (size - width(cell))
    return fill + cell if right else cell + fill


def width(text: str) -> int:
    """Terminal cells: wide (East Asian) characters take two, combining marks none."""
    if text.isascii():
        return len(text)
    return sum(0 if unicodedata.combining(c) else 2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)
