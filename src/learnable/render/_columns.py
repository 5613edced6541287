"""The columns and totals of every tabular rendering (terminal table, Markdown), defined once."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .._text import shape_text
from ..report import LayerRow, Report

CONVENTION_TEXT = {
    "keras": "Keras (every weight counts; non-trainable state such as moving statistics is non-trainable params)",
    "pytorch": "PyTorch (params are module.parameters(); running statistics are buffers, apart)",
}


@dataclass(frozen=True, slots=True)
class Column:
    header: str
    cell: Callable[[Any], str]  # of a LayerRow or a DisplayRow
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


@dataclass(frozen=True, slots=True)
class DisplayRow:
    """A line of a tabular rendering: a layer, or a block use with its subtotal."""

    name: str
    type: str
    output_shape: tuple[int | None, ...]
    params: int
    buffers: int = 0
    formula: str = ""
    shape_formula: str = ""
    buffers_formula: str = ""
    note: str = ""


def display_rows(report: Report, depth: int = 0) -> list[DisplayRow]:
    """The rows to show: blocks nested deeper than ``depth`` collapse into one row with
    their subtotal; the others open, their layers indented beneath them like a tree."""
    blocks = {b.name: b for b in report.blocks}
    shown: set[str] = set()
    rows: list[DisplayRow] = []
    for layer in report.layers:
        chain = _ancestors(layer.block, blocks)
        for level, name in enumerate(chain):
            if name not in shown:
                shown.add(name)
                rows.append(_block_row(blocks[name], level))
            if level >= depth:
                break  # inside a collapsed block
        else:
            rows.append(_layer_row(layer, len(chain)))
    return rows


def _ancestors(block: str | None, blocks: dict) -> list[str]:
    chain = []
    while block is not None:
        chain.append(block)
        block = blocks[block].parent
    return chain[::-1]


def _indent(path: str, parent: str | None, level: int) -> str:
    """The name within its parent, indented: ``conv2d`` for ``stage/conv2d`` in ``stage``,
    ``conv1`` for PyTorch's ``layer1.0.conv1`` in ``layer1.0``."""
    if parent and path.startswith(parent) and path[len(parent):len(parent) + 1] in ("/", "."):
        path = path[len(parent) + 1:]
    return "  " * level + path


def _block_row(block, level: int) -> DisplayRow:
    return DisplayRow(_indent(block.name, block.parent, level), f"{block.type} (block)", block.output_shape,
                      block.params, block.buffers)


def _layer_row(layer: LayerRow, level: int) -> DisplayRow:
    return DisplayRow(_indent(layer.name, layer.block, level), layer.type, layer.output_shape,
                      layer.params, layer.buffers, layer.formula, layer.shape_formula, layer.buffers_formula,
                      layer.note)
