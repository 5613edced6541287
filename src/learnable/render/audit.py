"""Renderers of an :class:`~learnable.auditing.AuditResult`: the terminal table, Markdown, JSON.

Every claim is one row, ✓ or ✗, beside the computed count, its arithmetic and the verdict
(which says how the row was matched to a layer); claimed totals follow as rows of their
own. Layers with parameters that no claim mentions are listed beneath: not an error.
"""

from __future__ import annotations

import json

from ..auditing import AuditResult, AuditRow, AuditTotal
from ._columns import CONVENTION_TEXT
from .formats import markdown_cell, markdown_table

HEADERS = ("", "Claimed row", "Claimed", "Layer", "Params", "Params arithmetic", "Verdict")
NUMERIC = {"Claimed", "Params"}
WRAPS = {"Params arithmetic", "Verdict"}
# What a claimed total is compared with, in the Layer column.
TOTAL_LAYER = {"total_params": "(all layers)", "trainable_params": "(trainable)",
               "non_trainable_params": "(non-trainable)"}


def mark(ok: bool) -> str:
    return "✓" if ok else "✗"


def _row_cells(row: AuditRow) -> list[str]:
    params = "" if row.params is None else f"{row.params:,}"
    return [mark(row.ok), row.claim, f"{row.claimed:,}", row.layer or "", params, row.formula, row.verdict]


def _total_cells(total: AuditTotal) -> list[str]:
    return [mark(total.ok), total.claim, f"{total.claimed:,}", TOTAL_LAYER[total.kind], f"{total.computed:,}",
            total.formula, total.verdict]


def cells(result: AuditResult) -> list[list[str]]:
    """The table's rows, claimed layers then claimed totals."""
    return [*map(_row_cells, result.rows), *map(_total_cells, result.totals)]


def title(result: AuditResult) -> str:
    claims = result.claims_source or "the claims"
    return f"Audit of {claims} against {result.name or 'the network'}"


def footer(result: AuditResult) -> list[str]:
    lines = []
    if not any(t.kind == "total_params" for t in result.totals):
        lines.append(f"Total params (not claimed): {result.total_params:,}")
    if result.not_claimed:
        lines.append("Not claimed (not an error):")
        lines += [f"  {layer.name} ({layer.type}): {layer.formula}" for layer in result.not_claimed]
    else:
        lines.append("Not claimed: none; every layer with parameters is claimed")
    claims = len(result.rows) + len(result.totals)
    if result.ok:
        lines.append(f"Result: all {claims} claims agree")
    else:
        verb = "disagrees" if result.disagreements == 1 else "disagree"
        lines.append(f"Result: {result.disagreements} of {claims} claims {verb}")
    lines.append(f"Convention: {CONVENTION_TEXT[result.convention]}")
    return lines


def render_table(result: AuditResult) -> str:
    """Plain text at its natural width, like :func:`learnable.render.table.render_text`."""
    from rich import box
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    from .table import plain_text

    table = Table(box=box.SIMPLE_HEAD, title=Text(title(result)), title_justify="left", pad_edge=False)
    for header in HEADERS:
        if header in WRAPS:
            table.add_column(header, overflow="fold")
        else:
            table.add_column(header, justify="right" if header in NUMERIC else "left", no_wrap=True)
    for row in cells(result):
        table.add_row(*(Text(cell) for cell in row))  # Text, never markup: a claim may hold "[...]"
    return plain_text(Group(table, Text("\n".join(footer(result)))))


def render_markdown(result: AuditResult) -> str:
    lines = [f"### {markdown_cell(title(result))}", ""]
    lines += markdown_table(HEADERS, [h in NUMERIC for h in HEADERS], cells(result))
    lines.append("")
    for line in footer(result):
        if line.startswith("  "):
            lines.append(f"- {markdown_cell(line.strip())}")
        else:
            label, _, value = line.partition(":")
            lines.append(f"**{label}:**{markdown_cell(value)}  " if value else f"**{label}:**  ")
    lines[-1] = lines[-1].rstrip()
    return "\n".join(lines) + "\n"


def render_json(result: AuditResult) -> str:
    """The keys are documented on :class:`~learnable.auditing.AuditResult`; counts are exact ints."""
    return json.dumps(result.to_dict(), indent=2, ensure_ascii=False) + "\n"


RENDERERS = {"table": render_table, "markdown": render_markdown, "json": render_json}


def render_audit(result: AuditResult, fmt: str = "table") -> str:
    """``fmt``: "table", "markdown" or "json"."""
    return RENDERERS[fmt](result)
