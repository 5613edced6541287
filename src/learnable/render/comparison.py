"""Renderers for ``--convention both``: the two conventions side by side."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Collection, Sequence

from .._text import json_output, output_shape_text, shape_text, visible_output
from ..comparison import Comparison, RowPair
from .formats import csv_cell, markdown_cell

HEADERS = ("Layer", "Type", "Output shape", "Keras params", "Keras non-trainable", "PyTorch params",
           "PyTorch buffers", "Differs", "Note")
NUMERIC = {"Keras params", "Keras non-trainable", "PyTorch params", "PyTorch buffers"}


def _cells(pair: RowPair) -> list[str]:
    k, p = pair.keras, pair.pytorch
    return [k.name, k.type, output_shape_text(k.output_shape), f"{k.params:,}", f"{k.non_trainable:,}",
            f"{p.params:,}", f"{p.buffers:,}", "≠" if pair.differs else "", pair.note]


def _totals(comparison: Comparison) -> list[str]:
    k, p = comparison.keras, comparison.pytorch
    # A PyTorch-only layer counted as PyTorch counts it keeps its buffers in the Keras report too.
    keras_buffers = f" + {k.total_buffers:,} buffers" if k.total_buffers else ""
    return [
        f"Keras: {k.total_params:,} params ({k.trainable_params:,} trainable, {k.non_trainable_params:,} "
        f"non-trainable){keras_buffers}",
        f"PyTorch: {p.total_params:,} params ({p.trainable_params:,} trainable) + {p.total_buffers:,} buffers",
    ]


@visible_output
def render_table(comparison: Comparison, *, explain: bool = False) -> str:
    return side_by_side_table(comparison.name, HEADERS, NUMERIC, [_cells(p) for p in comparison.rows],
                              _totals(comparison))


@visible_output
def render_markdown(comparison: Comparison, *, explain: bool = False) -> str:
    return side_by_side_markdown(comparison.name, HEADERS, NUMERIC, [_cells(p) for p in comparison.rows],
                                 _totals(comparison))


# ---- shared with render/compare.py (two models side by side) ------------------------------



def _folds(header: str) -> bool:
    """Long text (notes, arithmetic, names) may fold on a narrow terminal; numbers never wrap."""
    return header in ("Note", "Layer", "Type") or header.endswith("arithmetic")


def side_by_side_table(title: str | None, headers: Sequence[str], numeric: Collection[str],
                       rows: Sequence[Sequence[str]], totals: Sequence[str], *, width: int | None = None) -> str:
    """A rich table at its natural width, or at most ``width`` columns, plain text, then the
    totals lines."""
    from rich import box
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    from .table import plain_text

    table = Table(box=box.SIMPLE_HEAD, title=Text(title) if title else None, title_justify="left", pad_edge=False)
    for header in headers:
        table.add_column(header, justify="right" if header in numeric else "left",
                         overflow="fold" if _folds(header) else "ellipsis", no_wrap=not _folds(header))
    for cells in rows:
        table.add_row(*(Text(cell) for cell in cells))
    return plain_text(Group(table, Text("\n".join(totals))), width=width)


def side_by_side_markdown(title: str | None, headers: Sequence[str], numeric: Collection[str],
                          rows: Sequence[Sequence[str]], totals: Sequence[str]) -> str:
    lines = [f"### {markdown_cell(title)}", ""] if title else []
    lines.append("| " + " | ".join(map(markdown_cell, headers)) + " |")  # compare's hold the models' labels
    lines.append("|" + "|".join("---:" if h in numeric else "---" for h in headers) + "|")
    for cells in rows:
        lines.append("| " + " | ".join(map(markdown_cell, cells)) + " |")
    return "\n".join([*lines, "", *(f"{markdown_cell(line)}  " for line in totals)]).rstrip() + "\n"


@json_output
def render_json(comparison: Comparison, *, explain: bool = False) -> str:
    return json.dumps(comparison.to_dict(), indent=2, ensure_ascii=False) + "\n"


@visible_output
def render_csv(comparison: Comparison, *, explain: bool = False) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    rows = [pair.to_dict() for pair in comparison.rows]
    fields = list(rows[0]) if rows else []
    writer.writerow(fields)
    for data in rows:
        writer.writerow(map(csv_cell, [shape_text(data[f]) if f == "output_shape" else data[f] for f in fields]))
    return out.getvalue()
