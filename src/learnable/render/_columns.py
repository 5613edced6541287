"""The columns and totals of every tabular rendering (terminal table, Markdown), defined once."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .._text import shape_text
from ..report import LayerRow, Report

CONVENTION_TEXT = {
    "keras": "Keras (every weight counts; non-trainable state such as moving statistics is non-trainable params)",
    "pytorch": "PyTorch (params are module.parameters(); running statistics are buffers, apart)",
}


@dataclass(frozen=True, slots=True)
class Column:
    header: str
    cell: Callable[[LayerRow], str]
    numeric: bool = False  # right-aligned
    wraps: bool = False  # long text that may fold on a narrow terminal


LAYER = Column("Layer", lambda r: r.name)
TYPE = Column("Type", lambda r: r.type)
SHAPE = Column("Output shape", lambda r: shape_text(r.output_shape))
PARAMS = Column("Params", lambda r: f"{r.params:,}", numeric=True)
BUFFERS = Column("Buffers", lambda r: f"{r.buffers:,}", numeric=True)
# A layer without weights has nothing to explain about its count.
PARAMS_ARITHMETIC = Column("Params arithmetic", lambda r: r.formula if r.params else "", wraps=True)
SHAPE_ARITHMETIC = Column("Shape arithmetic", lambda r: r.shape_formula, wraps=True)
BUFFERS_ARITHMETIC = Column("Buffers arithmetic", lambda r: r.buffers_formula, wraps=True)
NOTE = Column("Note", lambda r: r.note, wraps=True)


def columns(report: Report, explain: bool) -> tuple[Column, ...]:
    """The basic columns, a Buffers column when there are any, and with ``explain`` the
    arithmetic (and the conventions' notes, when a layer has one)."""
    buffers = report.total_buffers > 0
    chosen = [LAYER, TYPE, SHAPE, PARAMS] + [BUFFERS] * buffers
    if explain:
        chosen += [PARAMS_ARITHMETIC, SHAPE_ARITHMETIC] + [BUFFERS_ARITHMETIC] * buffers
        chosen += [NOTE] * any(row.note for row in report.layers)
    return tuple(chosen)


def totals(report: Report) -> list[str]:
    lines = [
        f"Total params: {report.total_params:,}",
        f"Trainable params: {report.trainable_params:,}",
        f"Non-trainable params: {report.non_trainable_params:,}",
    ]
    if report.total_buffers:
        lines.append(f"Buffers (not params): {report.total_buffers:,}")
    lines.append(f"Convention: {CONVENTION_TEXT[report.convention]}")
    return lines
