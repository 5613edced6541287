"""Renderers of an :class:`~learnable.auditing.AuditResult`: the terminal table, Markdown, JSON.

Every claim is one row, ✓ or ✗, beside the computed count, its arithmetic and the verdict
(which says how the row was matched to a layer); claimed totals follow as rows of their
own. Layers with parameters that no claim mentions are listed beneath: not an error.
"""

from __future__ import annotations

import json

from .._text import json_output, visible_output
from ..auditing import AuditResult, AuditRow, AuditTotal
from ._columns import CONVENTION_TEXT
from .formats import markdown_cell, markdown_table

HEADERS = ("", "Claimed row", "Claimed", "Layer", "Params", "Params arithmetic", "Verdict")
# When the table claims more than parameters (FLOPs, output sizes), each row says what it claims.
HEADERS_BY_QUANTITY = ("", "Claimed row", "Claims", "Claimed", "Layer", "Computed", "Arithmetic", "Verdict")
NUMERIC = {"Claimed", "Params", "Computed"}
WRAPS = {"Params arithmetic", "Arithmetic", "Verdict"}
QUANTITY = {"params": "params", "trainable": "trainable", "non_trainable": "non-trainable", "macs": "compute",
            "output_shape": "output"}
# What a claimed total is compared with, in the Layer column.
TOTAL_LAYER = {"total_params": "(all layers)", "trainable_params": "(trainable)",
               "non_trainable_params": "(non-trainable)", "total_macs": "(all layers)"}
TOTAL_QUANTITY = {"total_params": "params", "trainable_params": "trainable", "non_trainable_params": "non-trainable",
                  "total_macs": "compute"}
_MAX_NOT_CLAIMED = 12  # a longer list is cut, with the count of the rest
MAX_ROWS_SHOWN = 2_000  # a longer audit shows its disagreements only: a table of 100,000 ✓ helps no one


def mark(ok: bool) -> str:
    return "✓" if ok else "✗"


def by_quantity(result: AuditResult) -> bool:
    """Whether the table claims anything but parameters (then each row says what it claims)."""
    return any(r.quantity != "params" for r in result.rows) or any(t.kind == "total_macs" for t in result.totals)


def headers(result: AuditResult) -> tuple[str, ...]:
    return HEADERS_BY_QUANTITY if by_quantity(result) else HEADERS


def _claimed(text: str, value: int | None) -> str:
    """As printed, unless it is a whole count written without separators (18494 → 18,494)."""
    plain = text.replace(",", "")
    return f"{value:,}" if value is not None and plain.isdecimal() and int(plain) == value else text


def _number(value: int | str | None) -> str:
    return "" if value is None else f"{value:,}" if isinstance(value, int) else value


def _row_cells(row: AuditRow, quantities: bool) -> list[str]:
    cells = [mark(row.ok), row.claim, _claimed(row.claimed_text, row.claimed), row.layer or "",
             _number(row.computed), row.formula, row.verdict]
    return cells[:2] + [QUANTITY[row.quantity]] + cells[2:] if quantities else cells


def _total_cells(total: AuditTotal, quantities: bool) -> list[str]:
    cells = [mark(total.ok), total.claim, _claimed(total.claimed_text, total.claimed),
             TOTAL_LAYER[total.kind], f"{total.computed:,}", total.formula, total.verdict]
    return cells[:2] + [TOTAL_QUANTITY[total.kind]] + cells[2:] if quantities else cells


def shown_rows(result: AuditResult) -> tuple[AuditRow, ...]:
    """Every row, or in a long audit only those that disagree (JSON keeps them all)."""
    if len(result.rows) <= MAX_ROWS_SHOWN:
        return result.rows
    return tuple(r for r in result.rows if not r.ok)


def cells(result: AuditResult) -> list[list[str]]:
    """The table's rows, claimed layers then claimed totals."""
    quantities = by_quantity(result)
    return [*(_row_cells(r, quantities) for r in shown_rows(result)),
            *(_total_cells(t, quantities) for t in result.totals)]


def title(result: AuditResult) -> str:
    claims = result.claims_source or "the claims"
    return f"Audit of {claims} against {result.name or 'the network'}"


def footer(result: AuditResult) -> list[str]:
    lines = []
    if not any(t.kind == "total_params" for t in result.totals):
        lines.append(f"Total params (not claimed): {result.total_params:,}")
    lines += _not_claimed(result)
    if result.containers:
        lines.append(f"Container rows: {len(result.containers):,}, claiming no count (the layers inside are rows)")
    if result.other_networks:
        lines.append("Rows about other networks (not checked): " + ", ".join(result.other_networks))
    if result.ignored_columns:
        lines.append("Columns not read: " + ", ".join(f"'{c}'" for c in result.ignored_columns))
    claims = len(result.rows) + len(result.totals)
    hidden = len(result.rows) - len(shown_rows(result))
    if hidden:
        lines.append(f"Rows that agree: {hidden:,}, not listed (--format json lists every claim)")
    if result.ok:
        lines.append(f"Result: all {claims} claims agree" if claims > 1 else "Result: the claim agrees")
    else:
        verb = "disagrees" if result.disagreements == 1 else "disagree"
        lines.append(f"Result: {result.disagreements} of {claims} claims {verb}")
    lines.append(f"Convention: {CONVENTION_TEXT[result.convention]}")
    return lines


def _not_claimed(result: AuditResult) -> list[str]:
    layers = result.not_claimed
    if not layers:
        return ["Not claimed: none; every layer with parameters is claimed"]
    if not result.rows:  # a table of totals only: one line, not a list of every layer
        return [f"Layers: none claimed one by one ({len(layers):,} with parameters)"]
    lines = ["Not claimed (not an error):"]
    lines += [f"  {layer.name} ({layer.type}): {layer.formula}" for layer in layers[:_MAX_NOT_CLAIMED]]
    if len(layers) > _MAX_NOT_CLAIMED:
        lines.append(f"  … and {len(layers) - _MAX_NOT_CLAIMED:,} more")
    return lines


@visible_output
def render_table(result: AuditResult) -> str:
    """Plain text at its natural width, like :func:`learnable.render.table.render_text`."""
    from rich import box
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    from .table import plain_text

    table = Table(box=box.SIMPLE_HEAD, title=Text(title(result)), title_justify="left", pad_edge=False)
    for header in headers(result):
        if header in WRAPS:
            table.add_column(header, overflow="fold")
        else:
            table.add_column(header, justify="right" if header in NUMERIC else "left", no_wrap=True)
    for row in cells(result):
        table.add_row(*(Text(cell) for cell in row))  # Text, never markup: a claim may hold "[...]"
    return plain_text(Group(table, Text("\n".join(footer(result)))))


@visible_output
def render_markdown(result: AuditResult) -> str:
    lines = [f"### {markdown_cell(title(result))}", ""]
    columns = headers(result)
    lines += markdown_table(columns, [h in NUMERIC for h in columns], cells(result))
    lines.append("")
    for line in footer(result):
        if line.startswith("  "):
            lines.append(f"- {markdown_cell(line.strip())}")
        else:
            label, _, value = line.partition(":")
            lines.append(f"**{label}:**{markdown_cell(value)}  " if value else f"**{label}:**  ")
    lines[-1] = lines[-1].rstrip()
    return "\n".join(lines) + "\n"


@json_output
def render_json(result: AuditResult) -> str:
    """The keys are documented on :class:`~learnable.auditing.AuditResult`; counts are exact ints."""
    return json.dumps(result.to_dict(), indent=2, ensure_ascii=False) + "\n"


RENDERERS = {"table": render_table, "markdown": render_markdown, "json": render_json}


def render_audit(result: AuditResult, fmt: str = "table") -> str:
    """``fmt``: "table", "markdown" or "json"."""
    return RENDERERS[fmt](result)
