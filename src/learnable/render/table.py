"""The terminal table (rich), in the spirit of Keras's ``model.summary()``.

Piped or captured output is laid out at the table's natural width, so nothing wraps in a
file or a test; an interactive terminal gets its own width and colours.
"""

from __future__ import annotations

import io
from typing import IO

from rich import box
from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from .._text import visible, visible_output
from ..errors import one_line
from ..report import Report
from ._columns import PARAMS_ONLY, Show, columns, display_rows, totals


def build_table(report: Report, *, explain: bool = False, depth: int = 0, show: Show = PARAMS_ONLY) -> Table:
    # Every cell is a Text, never markup: a layer named "[red]" is shown as it is.
    title = Text(one_line(report.name)) if report.name else None
    table = Table(box=box.SIMPLE_HEAD, title=title, title_justify="left", pad_edge=False)
    chosen = columns(report, explain, show)
    for column in chosen:
        if column.wraps:  # the long cells fold on a narrow terminal; the rest never do
            table.add_column(column.header, overflow="fold")
        else:
            table.add_column(column.header, justify="right" if column.numeric else "left", no_wrap=True)
    for row in display_rows(report, depth, show.memory):
        table.add_row(*(Text(visible(column.cell(row))) for column in chosen))
    return table


def _totals(report: Report, show: Show) -> Text:
    return Text("\n".join(totals(report, show)))


def print_report(report: Report, *, explain: bool = False, depth: int = 0, file: IO[str] | None = None,
                 show: Show = PARAMS_ONLY) -> None:
    """Print to a terminal (its width, colours) or to a pipe (natural width, plain)."""
    group = Group(build_table(report, explain=explain, depth=depth, show=show), _totals(report, show))
    console = Console(file=file, highlight=False)
    if console.is_terminal:
        console.print(group)
    else:
        console.file.write(plain_text(group))


@visible_output
def render_text(report: Report, *, explain: bool = False, depth: int = 0, show: Show = PARAMS_ONLY) -> str:
    """The table as plain text at its natural width (``str(report)``)."""
    return plain_text(Group(build_table(report, explain=explain, depth=depth, show=show), _totals(report, show)))


def plain_text(group: Group, *, width: int | None = None) -> str:
    """No colour, no trailing blanks: stable in files, pipes and tests. At its natural width
    (no wrapping), or at most ``width`` columns where the columns that fold may wrap."""
    natural = _natural_width(group)
    console = Console(file=io.StringIO(), highlight=False, width=min(natural, width or natural), color_system=None)
    with console.capture() as capture:
        console.print(group)
    lines = [line.rstrip() for line in capture.get().splitlines()]
    while lines and not lines[0]:
        lines.pop(0)
    return "\n".join(lines) + "\n"


def _natural_width(group: Group) -> int:
    wide = Console(width=10_000, file=io.StringIO())
    return max(40, wide.measure(group).maximum)
