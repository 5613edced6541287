"""Machine- and document-oriented renderers: JSON, Markdown, CSV.

Counts are exact integers everywhere: JSON and CSV carry them bare, Markdown with
thousands separators. Nothing is rounded to "1.2M".
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Iterator, Sequence
from json.encoder import encode_basestring
from operator import itemgetter

from .._text import json_visible, output_shape_text, visible_output
from ..errors import one_line
from ..report import LayerRow, Report, field_dict
from ._columns import PARAMS_ONLY, Show, columns, display_rows, receptive_text, totals

CSV_COLUMNS = ("name", "type", "output_shape", "params", "trainable", "non_trainable", "buffers",
               "formula", "shape_formula", "buffers_formula", "note", "block", "macs", "macs_formula",
               "receptive_field", "receptive_formula", "macs_kind")


def render_json(report: Report, *, explain: bool = False, depth: int = 0, show: Show = PARAMS_ONLY) -> str:
    """Every count, formula, MACs and receptive field; with a memory estimate, that too."""
    return "".join(json_chunks(report, show))


_ENCODER = json.JSONEncoder(ensure_ascii=False)  # made once: json.dumps with options makes one a call


def json_chunks(report: Report, show: Show = PARAMS_ONLY) -> Iterator[str]:
    """The JSON text in pieces: ``{``, then a top-level key a line, the layers one a line.
    Readable, written by json's C encoder (an indented dump goes through its pure-Python
    one, 10× slower), and streamed so a 100,000-layer report is never whole in memory.
    Hidden characters in names (U+202E, a lone surrogate) leave as ``\\uXXXX`` escapes."""
    return map(json_visible, _json_pieces(report, show))


def _json_pieces(report: Report, show: Show) -> Iterator[str]:
    data = report.to_dict(layers=False)
    if show.memory is not None:
        data["memory"] = show.memory.to_dict()
    if show.compute is not None:
        data["compute"] = show.compute.to_dict()
    if show.fit is not None:
        data["fit"] = show.fit.to_dict()
    dump = _ENCODER.encode
    yield "{\n"
    for i, (key, value) in enumerate(data.items()):
        yield ",\n" * bool(i) + f"  {dump(key)}: "
        if key == "layers":
            yield from _rows(_layer_objects(report.layers, dump))
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            yield from _rows(map(dump, value))
        else:
            yield dump(value)
    yield "\n}\n"


def _rows(objects: Iterable[str]) -> Iterator[str]:
    first = True
    for text in objects:
        yield ("[\n    " if first else ",\n    ") + text
        first = False
    yield "[]" if first else "\n  ]"


# What differs between rows counted from the same layer on the same input (engine._count):
# where the row is, and what it sees (in _placed_json's order). The rest of a row is encoded
# once per such layer.
_PLACED = ("name", "block", "inputs", "receptive_field", "receptive_formula", "sees_whole_input")
_MARKERS = {key: f"\x00learnable:{key}\x00" for key in _PLACED}
_MARKER_KEYS = {json.dumps(marker, ensure_ascii=False): key for key, marker in _MARKERS.items()}
_MARKER_TEXT = re.compile("(" + "|".join(map(re.escape, _MARKER_KEYS)) + ")")


def _layer_objects(layers: Iterable[LayerRow], dump) -> Iterator[str]:
    """Each row as ``dump(row.to_dict())`` writes it. A deep network repeats its layers: a
    row met a second time becomes a template with its placed values cut out, and the rows
    like it are that template with their own values put in (re-encoding the same weights,
    formulas and shapes was most of a 100,000-layer report's JSON time)."""
    seen: set[tuple] = set()
    templates: dict[tuple, tuple[str, itemgetter] | None] = {}
    for row in layers:
        # Rows from one counted row share its tuples: their identities stand for their values.
        key = (row.type, id(row.output_shape), row.params, row.trainable, row.non_trainable, row.formula,
               row.shape_formula, row.buffers, row.buffers_formula, row.note, id(row.weights), row.macs,
               row.macs_formula, row.macs_kind, row.macs_by_kind)
        if key not in templates:
            if key not in seen:
                seen.add(key)
                yield dump(row.to_dict())
                continue
            templates[key] = _template(row, dump)
        template = templates[key]
        if template is None:
            yield dump(row.to_dict())
        else:
            text, pick = template
            yield text % pick(_placed_json(row, dump))


def _template(row: LayerRow, dump) -> tuple[str, itemgetter] | None:
    """The row's JSON as a %-format, ``%s`` where its placed values go, and what picks them
    from _placed_json in the order they stand; None if another of the row's values is a
    marker's very text (a model file's op type can be any text)."""
    pieces = _MARKER_TEXT.split(dump({**row.to_dict(), **_MARKERS}))
    keys = [_MARKER_KEYS[marker] for marker in pieces[1::2]]
    if sorted(keys) != sorted(_PLACED):
        return None
    text = "%s".join(piece.replace("%", "%%") for piece in pieces[0::2])
    return text, itemgetter(*(_PLACED.index(key) for key in keys))


def _placed_json(row: LayerRow, dump) -> tuple[str, ...]:
    """The placed values as JSON text, in _PLACED's order, strings through json's C escaping."""
    field = row.receptive_field
    return (
        encode_basestring(row.name),
        "null" if row.block is None else encode_basestring(row.block),
        "[" + ", ".join(map(encode_basestring, row.inputs)) + "]",
        "null" if field is None else dump(field_dict(field)),
        encode_basestring(row.receptive_formula),
        "true" if row.sees_whole_input else "false",
    )


@visible_output
def render_csv(report: Report, *, explain: bool = False, depth: int = 0, show: Show = PARAMS_ONLY) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in report.layers:
        shape = output_shape_text(row.output_shape)
        writer.writerow(map(csv_cell, [row.name, row.type, shape, row.params, row.trainable,
                         row.non_trainable, row.buffers, row.formula, row.shape_formula, row.buffers_formula,
                         row.note, row.block or "", "" if row.macs is None else row.macs, row.macs_formula,
                         receptive_text(row.receptive_field), row.receptive_formula, row.macs_kind]))
    return out.getvalue()


# Markdown passes HTML through, so a layer named "<img src=x onerror=...>" would be a tag on
# the page that shows the table, and "![x](https://...)" an image fetched from anywhere: the
# characters that open a tag are written as entities, a link's "](" as "]\\(" ("|" would end
# the cell). "[28, 28, 1]" stays as it is: without "](" it is text.
_MARKDOWN_TEXT = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "|": "\\|"})


def markdown_cell(text: str) -> str:
    """``text`` as Markdown that shows it as it is, on one line."""
    return " ".join(text.split("\n")).translate(_MARKDOWN_TEXT).replace("](", "]\\(")


# OWASP's advice against CSV injection: a spreadsheet reads a cell that starts with one of
# these as a formula (=cmd|' /C calc'!A0), so a text cell that does starts with a quote. A
# number is written as it is: "-1" is a value, not a formula.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?\d+(\.\d+)?([eE][+-]?\d+)?")


def csv_cell(value: object) -> object:
    """``value`` as a CSV cell a spreadsheet shows as text and never runs."""
    if isinstance(value, str) and value.startswith(_FORMULA_START) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


def markdown_table(headers: Sequence[str], numeric: Sequence[bool], cells: Iterable[Sequence[str]]) -> list[str]:
    """A Markdown table's lines, numbers aligned right."""
    return ["| " + " | ".join(map(markdown_cell, headers)) + " |",
            "|" + "|".join("---:" if right else "---" for right in numeric) + "|",
            *("| " + " | ".join(map(markdown_cell, line)) + " |" for line in cells)]


@visible_output
def render_markdown(report: Report, *, explain: bool = False, depth: int = 0, show: Show = PARAMS_ONLY) -> str:
    chosen = columns(report, explain, show)
    lines = [f"### {markdown_cell(one_line(report.name))}", ""] if report.name else []
    rows = display_rows(report, depth, show.memory)
    lines += markdown_table([c.header for c in chosen], [c.numeric for c in chosen],
                            ([c.cell(row) for c in chosen] for row in rows))
    lines.append("")
    lines += [f"**{label}:**{value}  " for label, value in (line.split(":", 1) for line in totals(report, show))]
    lines[-1] = lines[-1].rstrip()
    return "\n".join(lines) + "\n"
