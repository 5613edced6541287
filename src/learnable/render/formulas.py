"""Counts as formulas (``learnable count SPEC --symbolic``) and a budget's solution
(``learnable solve``): plain text and JSON."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from .._text import json_visible, visible

if TYPE_CHECKING:
    from ..formulas import SymbolicCount
    from ..solving import Solution


def render_symbolic(result: SymbolicCount, fmt: str = "table") -> str:
    if fmt == "json":
        return json_visible(json.dumps(result.to_dict(), indent=2, ensure_ascii=False) + "\n")
    args = ", ".join(result.variables)
    lines = [f"{result.name or 'network'}: counts as polynomials of {args}"]
    lines += [f"  over {axis} (the spec's value: {axis.base:,})" for axis in result.axes]
    if result.fixed:
        lines.append("  the other params as counted: " + ", ".join(f"{k} = {v}" for k, v in result.fixed.items()))
    lines.append("")
    lines.append(f"params({args}) = {result.params}")
    if str(result.trainable) != str(result.params):
        lines.append(f"trainable({args}) = {result.trainable}")
    lines.append(f"macs({args}) = {result.macs}" if result.macs else "macs: not known for every layer")
    lines += ["", *_layer_lines(result), ""]
    grid = "; ".join(f"{a.name} = {', '.join(f'{x:,}' for x in g)}" for a, g in zip(result.axes, result.grid))
    lines.append(f"Exact: fitted through the counts at {grid}, and equal to the count at {result.checked} further "
                 "points across the ranges.")
    return visible("\n".join(lines) + "\n")


def _layer_lines(result: SymbolicCount) -> list[str]:
    rows = [("Layer", "Type", "Params", "MACs")]
    for row in result.layers:
        params = str(row.params)
        if row.per_copy is not None:
            params = f"{row.copies} × ({row.per_copy})"
        kind = row.type if row.layers is None else f"{row.type}, {row.layers} layers"
        rows.append((row.name, kind, params, str(row.macs) if row.macs else "?"))
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    return ["  ".join(cell.ljust(w) for cell, w in zip(r, widths)) + "  " + r[3] for r in rows]


def render_solution(solution: Solution, fmt: str = "table") -> str:
    if fmt == "json":
        return json_visible(json.dumps(solution.to_dict(), indent=2, ensure_ascii=False) + "\n")
    return visible("\n".join(solution.lines()) + "\n")
