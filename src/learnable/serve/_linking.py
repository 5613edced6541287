"""What the page needs to link its table, graph and editor, and to explain a layer.

For each layer of the graph: where it stands in the text the page sent (the YAML layer's
line; the compact form's call, line and column; model code's construction call), the name
of its rule, and its count in both conventions (the graph counted once more in the other
one, as ``learnable compare`` does); for each rule used, what ``learnable explain`` says of
it. Nothing here changes a count: it only reads the graph and the reports.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from .. import engine
from ..comparison import RowPair
from ..errors import LearnableError
from ..graph import Graph
from ..report import Report
from ..rules import KERAS, PYTORCH

MAX_LINKED_LAYERS = 2_000  # past this the page draws no graph; a second count is not worth it


def linking(graph: Graph, report: Report) -> dict[str, Any]:
    """``{"layer_links": {name: {"line", "column", "rule"}}, "conventions": {name: row},
    "explanations": {rule: text}}``; empty past MAX_LINKED_LAYERS layers."""
    if len(graph.nodes) > MAX_LINKED_LAYERS:
        return {"layer_links": {}, "conventions": {}, "explanations": {}}
    links = {node.name: _link(node) for node in graph.nodes}
    rules = {node.rule.name: node.rule for node in graph.nodes}
    return {"layer_links": links, "conventions": _both_conventions(graph, report),
            "explanations": {name: _explanation(name) for name in rules}}


def _link(node) -> dict[str, Any]:
    # a location with a source names another file (a zoo model's): no line of this text
    place = node.location if node.location is not None and node.location.source is None else None
    return {"line": place.line if place else None, "column": place.column if place else None,
            "rule": node.rule.name}


def _both_conventions(graph: Graph, report: Report) -> dict[str, dict[str, Any]]:
    """Each layer's row as Keras and as PyTorch count it (LoRA's adapters, not in the graph,
    are left out). The report's own convention is reused, the other counted."""
    other = PYTORCH if report.convention == KERAS else KERAS
    again = engine.run(replace(graph, convention=other))
    reports = {report.convention: report, other: again}
    by_name = {row.name: row for row in reports[PYTORCH].layers}
    rows = {}
    for keras_row in reports[KERAS].layers:
        if keras_row.name in by_name:
            pair = RowPair(keras_row, by_name[keras_row.name])
            rows[keras_row.name] = {**pair.to_dict(), "keras_formula": pair.keras.formula,
                                    "pytorch_formula": pair.pytorch.formula,
                                    "pytorch_buffers_formula": pair.pytorch.buffers_formula}
    return rows


def _explanation(rule_name: str) -> dict[str, str] | None:
    """What ``learnable explain RULE`` opens with: its heading, what it is, its formula in
    symbols and its worked example; None for a rule explain cannot show."""
    from ..explain import explain
    from ..render.explain import example_lines, heading

    try:
        e = explain(rule_name)
    except LearnableError:
        return None
    return {"heading": heading(e), "doc": e.doc, "formula": e.formula, "example": "\n".join(example_lines(e))}
