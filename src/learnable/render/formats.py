"""Machine- and document-oriented renderers: JSON, Markdown, CSV.

Counts are exact integers everywhere: JSON and CSV carry them bare, Markdown with
thousands separators. Nothing is rounded to "1.2M".
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator

from .._text import shape_text
from ..errors import one_line
from ..report import Report
from ._columns import PARAMS_ONLY, Show, columns, display_rows, receptive_text, totals

CSV_COLUMNS = ("name", "type", "output_shape", "params", "trainable", "non_trainable", "buffers",
               "formula", "shape_formula", "buffers_formula", "note", "block", "macs", "macs_formula",
               "receptive_field", "receptive_formula")


def render_json(report: Report, *, explain: bool = False, depth: int = 0, show: Show = PARAMS_ONLY) -> str:
    """Every count, formula, MACs and receptive field; with a memory estimate, that too."""
    return "".join(json_chunks(report, show))


_ENCODER = json.JSONEncoder(ensure_ascii=False)  # made once: json.dumps with options makes one a call


def json_chunks(report: Report, show: Show = PARAMS_ONLY) -> Iterator[str]:
    """The JSON text in pieces: ``{``, then a top-level key a line, the layers one a line.
    Readable, written by json's C encoder (an indented dump goes through its pure-Python
    one, 10× slower), and streamed so a 100,000-layer report is never whole in memory."""
    data = report.to_dict(layers=False)
    if show.memory is not None:
        data["memory"] = show.memory.to_dict()
    dump = _ENCODER.encode
    yield "{\n"
    for i, (key, value) in enumerate(data.items()):
        yield ",\n" * bool(i) + f"  {dump(key)}: "
        items = (layer.to_dict() for layer in report.layers) if key == "layers" else value
        if key == "layers" or (isinstance(value, list) and value and all(isinstance(v, dict) for v in value)):
            yield from _rows(items, dump)
        else:
            yield dump(value)
    yield "\n}\n"


def _rows(items: Iterable[dict], dump) -> Iterator[str]:
    first = True
    for item in items:
        yield ("[\n    " if first else ",\n    ") + dump(item)
        first = False
    yield "[]" if first else "\n  ]"


def render_csv(report: Report, *, explain: bool = False, depth: int = 0, show: Show = PARAMS_ONLY) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in report.layers:
        writer.writerow([row.name, row.type, shape_text(row.output_shape), row.params, row.trainable,
                         row.non_trainable, row.buffers, row.formula, row.shape_formula, row.buffers_formula,
                         row.note, row.block or "", "" if row.macs is None else row.macs, row.macs_formula,
                         receptive_text(row.receptive_field), row.receptive_formula])
    return out.getvalue()


def _cell(text: str) -> str:
    return " ".join(text.split("\n")).replace("|", "\\|")


def render_markdown(report: Report, *, explain: bool = False, depth: int = 0, show: Show = PARAMS_ONLY) -> str:
    chosen = columns(report, explain, show)
    lines = [f"### {_cell(one_line(report.name))}", ""] if report.name else []
    lines.append("| " + " | ".join(c.header for c in chosen) + " |")
    lines.append("|" + "|".join("---:" if c.numeric else "---" for c in chosen) + "|")
    rows = display_rows(report, depth, show.memory)
    lines += ["| " + " | ".join(_cell(c.cell(row)) for c in chosen) + " |" for row in rows]
    lines.append("")
    lines += [f"**{label}:**{value}  " for label, value in (line.split(":", 1) for line in totals(report, show))]
    lines[-1] = lines[-1].rstrip()
    return "\n".join(lines) + "\n"
