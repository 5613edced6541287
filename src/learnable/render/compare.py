"""Renderers for ``learnable compare A B``: two models side by side (table, Markdown, JSON),
laid out as ``--convention both`` lays out one model in two conventions."""

from __future__ import annotations

import json
import re
import textwrap
from dataclasses import replace

from .._text import json_output, output_shape_text, visible_output
from ..compare import LayerMatch, ModelComparison, explain_difference
from ..report import LayerRow, Report
from .comparison import side_by_side_markdown, side_by_side_table

BOTH = " ↔ "  # between A's value and B's where they differ


def _headers(comparison: ModelComparison, explain: bool) -> tuple[tuple[str, ...], set[str]]:
    """Layer, type, each model's params, ≠ and the note; with ``explain`` also the output
    shapes, the non-trainable and buffer columns where any row has some, and the arithmetic."""
    a, b = comparison.labels
    numeric = [f"{a} params", f"{b} params"]
    if not explain:
        return ("Layer", "Type", *numeric, "Differs", "Note"), set(numeric)
    rows = [r for m in comparison.rows for r in (m.a, m.b) if r is not None]
    if any(r.non_trainable for r in rows):
        numeric += [f"{a} non-trainable", f"{b} non-trainable"]
    if any(r.buffers for r in rows):
        numeric += [f"{a} buffers", f"{b} buffers"]
    arithmetic = [f"{a} arithmetic", f"{b} arithmetic"]
    return ("Layer", "Type", "Output shape", *numeric, "Differs", *arithmetic, "Note"), set(numeric)


def _either(a: str | None, b: str | None) -> str:
    """One value when both sides agree, ``a ↔ b`` when they do not, ``a ↔ —`` for a missing side."""
    if a == b:
        return a or ""
    return f"{a or '—'}{BOTH}{b or '—'}"


def _number(row: LayerRow | None, field: str) -> str:
    return "—" if row is None else f"{getattr(row, field):,}"


def _cells(match: LayerMatch, headers: tuple[str, ...], labels: tuple[str, str]) -> list[str]:
    a, b = match.a, match.b
    by_header = {
        "Layer": _either(a and a.name, b and b.name),
        "Type": _either(a and a.type, b and b.type),
        "Output shape": _either(a and output_shape_text(a.output_shape), b and output_shape_text(b.output_shape)),
        "Differs": "≠" if match.differs else "",
        "Note": explain_difference(match, labels),
    }
    for row, label in ((a, labels[0]), (b, labels[1])):
        by_header[f"{label} params"] = _number(row, "params")
        by_header[f"{label} non-trainable"] = _number(row, "non_trainable")
        by_header[f"{label} buffers"] = _number(row, "buffers")
        by_header[f"{label} arithmetic"] = row.formula if row is not None and row.params else ""
    return [by_header[h] for h in headers]


def _totals(comparison: ModelComparison) -> list[str]:
    def line(label: str, report: Report) -> str:
        buffers = f" + {report.total_buffers:,} buffers" if report.total_buffers else ""
        return (f"{label} ({report.convention}): {report.total_params:,} params ({report.trainable_params:,} "
                f"trainable, {report.non_trainable_params:,} non-trainable){buffers}")

    (la, lb), diff = comparison.labels, comparison.params_difference
    differing = len(comparison.differing)
    return [
        line(la, comparison.a), line(lb, comparison.b),
        f"Difference ({lb} − {la}): {diff:+,} params; {differing} of {len(comparison.rows)} layers differ",
    ]


def _title(comparison: ModelComparison) -> str:
    return f"{comparison.labels[0]} vs {comparison.labels[1]}"


@visible_output
def render_table(comparison: ModelComparison, *, explain: bool = False, width: int | None = None) -> str:
    """The table, within ``width`` columns when given (a terminal's): long model labels become
    A and B in the columns, names and notes wrap, and a convention's note is a legend line
    under the table, once for all the rows it explains alike (ResNet-50 against torchvision's:
    53 BatchNormalization rows, one line)."""
    if width is None:
        headers, numeric = _headers(comparison, explain)
        rows = [_cells(m, headers, comparison.labels) for m in comparison.rows]
        return side_by_side_table(_title(comparison), headers, numeric, rows, _totals(comparison))
    labels = comparison.labels
    if max(map(len, labels)) > SHORT_LABEL:
        labels = ("A", "B")
    headers, numeric = _headers(replace(comparison, labels=labels), explain)
    rows = [_cells(m, headers, labels) for m in comparison.rows]
    at, legend = headers.index("Note"), {}
    for cells in rows:
        if cells[at].startswith("convention: "):
            key = re.sub(r"\d[\d,]*", "#", cells[at])  # the same note for layers of other sizes
            number = legend.setdefault(key, (len(legend) + 1, cells[at]))[0]
            cells[at] = f"convention [{number}]"
    title = (_title(comparison) if labels == comparison.labels
             else f"A: {comparison.labels[0]}, B: {comparison.labels[1]}")
    lines = [*_totals(comparison), *_legend(legend.values(), width)]
    return side_by_side_table(title, headers, numeric, rows, lines, width=width)


SHORT_LABEL = 12  # a model's label longer than this is A or B in the table's columns


def _legend(notes, width: int) -> list[str]:
    if not notes:
        return []
    lines = ["", "Notes (numbers from the first such row):"]
    for number, note in notes:
        label = f"[{number}] "
        lines += textwrap.wrap(note, max(40, width - 1), initial_indent=label, subsequent_indent=" " * len(label))
    return lines


@visible_output
def render_markdown(comparison: ModelComparison, *, explain: bool = False) -> str:
    headers, numeric = _headers(comparison, explain)
    rows = [_cells(m, headers, comparison.labels) for m in comparison.rows]
    return side_by_side_markdown(_title(comparison), headers, numeric, rows, _totals(comparison))


@json_output
def render_json(comparison: ModelComparison, *, explain: bool = False) -> str:
    return json.dumps(comparison.to_dict(), indent=2, ensure_ascii=False) + "\n"
