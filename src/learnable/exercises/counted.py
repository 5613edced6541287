"""A generated network counted through the normal spec path, with each layer's inference:
the rules' own expressions, which the worked answers print."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .. import engine
from ..graph import Graph
from ..report import LayerRow, Report
from ..rules import Context, Inference
from ..spec import load
from ..spec.build import build_graph


@dataclass(frozen=True)
class Counted:
    convention: str
    graph: Graph
    report: Report
    inferences: dict[str, Inference]

    def row(self, name: str) -> LayerRow:
        return next(r for r in self.report.layers if r.name == name)

    def inference(self, name: str) -> Inference:
        return self.inferences[name]

    def args(self, name: str) -> dict[str, Any]:
        return dict(next(n for n in self.graph.nodes if n.name == name).args)


def count_spec(spec: dict[str, Any], convention: str) -> Counted:
    """The report (the engine's) and every layer's inference (the rules', on the same shapes)."""
    graph = build_graph(load(spec), None, convention)
    report = engine.run(graph)
    shapes = {r.name: r.output_shape for r in report.layers}
    context = Context(data_format=graph.data_format, convention=graph.convention)
    inferences = {node.name: engine.infer(node, [shapes[i] for i in node.inputs], context)
                  for node in graph.nodes}
    return Counted(convention, graph, report, inferences)
