"""The columns of every tabular rendering (terminal table, Markdown), defined once."""

from __future__ import annotations

from dataclasses import dataclass

from .._text import shape_text
from ..report import LayerRow


@dataclass(frozen=True, slots=True)
class Column:
    header: str
    numeric: bool = False  # right-aligned


BASIC = (Column("Layer"), Column("Type"), Column("Output shape"), Column("Params", numeric=True))
ARITHMETIC = (Column("Params arithmetic"), Column("Shape arithmetic"))


def columns(explain: bool) -> tuple[Column, ...]:
    return BASIC + ARITHMETIC if explain else BASIC


def cells(row: LayerRow, explain: bool) -> list[str]:
    values = [row.name, row.type, shape_text(row.output_shape), f"{row.params:,}"]
    if explain:  # a layer without weights has nothing to explain about its count
        values += [row.formula if row.params else "", row.shape_formula]
    return values
