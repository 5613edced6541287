"""Machine- and document-oriented renderers: JSON, Markdown, CSV.

Counts are exact integers everywhere: JSON and CSV carry them bare, Markdown with
thousands separators. Nothing is rounded to "1.2M".
"""

from __future__ import annotations

import csv
import io
import json

from ..report import Report
from .._text import shape_text

CSV_COLUMNS = ("name", "type", "output_shape", "params", "trainable", "non_trainable", "formula", "shape_formula")


def render_json(report: Report, *, explain: bool = False) -> str:
    return json.dumps(report.to_dict(), indent=2, ensure_ascii=False) + "\n"


def render_csv(report: Report, *, explain: bool = False) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in report.layers:
        writer.writerow([row.name, row.type, shape_text(row.output_shape), row.params,
                         row.trainable, row.non_trainable, row.formula, row.shape_formula])
    return out.getvalue()


def _cell(text: str) -> str:
    return " ".join(text.split("\n")).replace("|", "\\|")


def render_markdown(report: Report, *, explain: bool = False) -> str:
    header = ["Layer", "Type", "Output shape", "Params"] + (["Params arithmetic", "Shape arithmetic"] if explain else [])
    align = ["---", "---", "---", "---:"] + (["---", "---"] if explain else [])
    lines = [f"### {report.name}", ""] if report.name else []
    lines += ["| " + " | ".join(header) + " |", "|" + "|".join(align) + "|"]
    for row in report.layers:
        cells = [row.name, row.type, shape_text(row.output_shape), f"{row.params:,}"]
        if explain:
            cells += [row.formula if row.params else "", row.shape_formula]
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    lines += [
        "",
        f"**Total params:** {report.total_params:,}  ",
        f"**Trainable params:** {report.trainable_params:,}  ",
        f"**Non-trainable params:** {report.non_trainable_params:,}",
    ]
    return "\n".join(lines) + "\n"
