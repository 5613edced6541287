"""The zoo listing: each model with its total, counted now from its spec."""

from __future__ import annotations

import json

from ..api import count
from ..spec import zoo


def zoo_rows() -> list[dict]:
    rows = []
    for name in zoo.names():
        report = count(f"{zoo.PREFIX}{name}")
        rows.append({
            "name": f"{zoo.PREFIX}{name}", "convention": report.convention, "total_params": report.total_params,
            "trainable_params": report.trainable_params, "non_trainable_params": report.non_trainable_params,
            "total_buffers": report.total_buffers, "description": _description(name),
        })
    return rows


def _description(name: str) -> str:
    import yaml

    return (yaml.safe_load(zoo.text(name)) or {}).get("description", "")


def render_zoo(fmt: str = "table") -> str:
    rows = zoo_rows()
    if fmt == "json":
        return json.dumps(rows, indent=2) + "\n"
    header = ["Model", "Params", "Non-trainable", "Buffers", "Convention", "Description"]
    cells = [[r["name"], f"{r['total_params']:,}", f"{r['non_trainable_params']:,}", f"{r['total_buffers']:,}",
              r["convention"], r["description"]] for r in rows]
    if fmt == "markdown":
        lines = ["| " + " | ".join(header) + " |", "|---|---:|---:|---:|---|---|"]
        return "\n".join(lines + ["| " + " | ".join(c) + " |" for c in cells]) + "\n"
    return _table(header, cells)


def _table(header: list[str], cells: list[list[str]]) -> str:
    from rich import box
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    from .table import plain_text

    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    for i, title in enumerate(header):
        table.add_column(title, justify="right" if title in ("Params", "Non-trainable", "Buffers") else "left")
    for row in cells:
        table.add_row(*(Text(c) for c in row))
    return plain_text(Group(table, Text("Count one with: learnable count zoo:NAME [--depth 1]")))
