"""A sweep's variants, one row each: the values of its keys and the network's totals
(``learnable sweep``): a table, Markdown, CSV or JSON."""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

from .._text import human, json_visible, visible
from ..errors import one_line
from ..report import SCHEMA_VERSION
from ..sweeping import Variant, describe, value_text
from .formats import csv_cell, markdown_cell, markdown_table
from .plain import table_lines

if TYPE_CHECKING:  # imported when a sweep asks for memory
    from ..memory import MemoryEstimate

FORMATS = ("table", "markdown", "csv", "json")
# (header, JSON and CSV name, the Report property); non-trainable and buffers only when any.
_TOTALS = (("Params", "total_params"), ("Trainable", "trainable_params"),
           ("Non-trainable", "non_trainable_params"), ("Buffers", "total_buffers"))


def render_sweep(keys: Sequence[str], variants: Sequence[Variant], fmt: str = "table",
                 memory: Sequence[MemoryEstimate] | None = None) -> str:
    """``memory``: each variant's memory estimate, for its columns."""
    text = {"table": _table, "markdown": _markdown, "csv": _csv, "json": _json}[fmt](keys, variants, memory)
    return json_visible(text) if fmt == "json" else visible(text)


def _totals(variants: Sequence[Variant]) -> list[tuple[str, str]]:
    return [(header, name) for header, name in _TOTALS
            if name in ("total_params", "trainable_params") or any(getattr(v.report, name) for v in variants)]


def _macs(variant: Variant) -> str:
    """The MACs, marked partial when a layer's cost is not known (its count is left out)."""
    report = variant.report
    return f"{report.total_macs:,}" + (" (partial)" if report.macs_unknown else "")


def _rows(keys: Sequence[str], variants: Sequence[Variant],
          memory: Sequence[MemoryEstimate] | None) -> tuple[list[str], list[bool], list[list[str]]]:
    totals = _totals(variants)
    headers = [*map(one_line, keys), *(header for header, _ in totals), "MACs", *_memory_headers(memory)]
    numeric = [False] * len(keys) + [True] * (len(headers) - len(keys))
    cells = [[*(one_line(value_text(v.values[key])) for key in keys),
              *(f"{getattr(v.report, name):,}" for _, name in totals), _macs(v), *_memory_cells(memory, i)]
             for i, v in enumerate(variants)]
    return headers, numeric, cells


def _memory_headers(memory: Sequence[MemoryEstimate] | None) -> list[str]:
    if not memory:
        return []
    first = memory[0]
    what = f"batch {first.batch:,}, {first.dtype}"
    training = [f"Training ({what}, {first.optimizer})"] if first.optimizer else []
    return [f"Inference ({what})", *training]


def _memory_cells(memory: Sequence[MemoryEstimate] | None, i: int) -> list[str]:
    if not memory:
        return []
    estimate = memory[i]
    partial = " (partial)" if estimate.unknown else ""  # layers of unknown output size left out, as count says
    training = [human(estimate.training_bytes) + partial] if estimate.optimizer else []
    return [human(estimate.inference_bytes) + partial, *training]


def _extremes(variants: Sequence[Variant]) -> list[str]:
    if len(variants) < 2:
        return []
    fewest = min(variants, key=lambda v: v.report.total_params)
    most = max(variants, key=lambda v: v.report.total_params)
    return [f"Fewest params: {fewest.report.total_params:,} ({one_line(describe(fewest.values))})",
            f"Most params: {most.report.total_params:,} ({one_line(describe(most.values))})"]


def _title(variants: Sequence[Variant]) -> str:
    name = variants[0].report.name if variants else None
    count = f"{len(variants):,} variant{'s' * (len(variants) != 1)}"
    return f"{one_line(name)}: {count}" if name else count


def _table(keys: Sequence[str], variants: Sequence[Variant], memory: Sequence[MemoryEstimate] | None) -> str:
    lines = [_title(variants), "", *table_lines(*_rows(keys, variants, memory)), "", *_extremes(variants)]
    return "\n".join(line.rstrip() for line in lines).rstrip("\n") + "\n"


def _markdown(keys: Sequence[str], variants: Sequence[Variant], memory: Sequence[MemoryEstimate] | None) -> str:
    lines = [f"### {markdown_cell(_title(variants))}", "", *markdown_table(*_rows(keys, variants, memory))]
    extremes = _extremes(variants)
    if extremes:
        lines += ["", *(f"{line}  " for line in extremes)]
        lines[-1] = lines[-1].rstrip()
    return "\n".join(lines) + "\n"


def _csv(keys: Sequence[str], variants: Sequence[Variant], memory: Sequence[MemoryEstimate] | None) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    memory_names = ["inference_bytes", "training_bytes"] if memory else []
    writer.writerow(map(csv_cell, [*keys, *(name for _, name in _TOTALS), "total_macs", "macs_unknown", *memory_names]))
    for i, v in enumerate(variants):
        report = v.report
        row = [*(value_text(v.values[key]) for key in keys), *(getattr(report, name) for _, name in _TOTALS),
               report.total_macs, " ".join(report.macs_unknown)]
        if memory:
            estimate = memory[i]
            row += [estimate.inference_bytes, estimate.training_bytes if estimate.optimizer else ""]
        writer.writerow(map(csv_cell, row))
    return out.getvalue()


def _json(keys: Sequence[str], variants: Sequence[Variant], memory: Sequence[MemoryEstimate] | None) -> str:
    data = {
        "schema_version": SCHEMA_VERSION,
        "name": variants[0].report.name if variants else None,
        "keys": list(keys),
        "variants": [{"values": {key: _json_value(value) for key, value in v.values.items()},
                      **{name: getattr(v.report, name) for _, name in _TOTALS},
                      "total_macs": v.report.total_macs, "macs_unknown": list(v.report.macs_unknown),
                      **({"memory": memory[i].to_dict()} if memory else {})}
                     for i, v in enumerate(variants)],
    }
    return json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def _json_value(value: object) -> object:
    """A value as JSON holds it: lists of strings, numbers, true, false and null as they are;
    anything else JSON cannot hold (a date, NaN, a mapping) as the text the table shows."""
    if isinstance(value, (list, tuple)):
        return [_json_value(v) for v in value] if _plain(value) else value_text(value)
    return value if _plain(value) else value_text(value)


def _plain(value: object, depth: int = 0) -> bool:
    if isinstance(value, (list, tuple)):
        return depth < 20 and all(_plain(v, depth + 1) for v in value)
    if isinstance(value, float):
        return math.isfinite(value)
    return value is None or isinstance(value, (str, int))  # (bool is an int)
