"""Two models side by side, layer by layer (``learnable compare A B``).

Layers are matched by name; the weighted layers left over are matched by their order among
weighted layers, and the weightless ones left over by their order among layers of the same
kind (MaxPooling2D with MaxPool2d). What stays unmatched is a row of one model only.

A row differs when its params, non-trainable params or buffers differ (a missing layer
counts as zero). When the two reports are counted in different conventions and the rows
are the same layer (the same type or its other-framework counterpart, on inputs and outputs
of the same sizes), the difference is one of convention, and the rows' notes explain it,
as in the one-model :mod:`learnable.comparison`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from .comparison import RowPair
from .errors import LearnableError
from .report import SCHEMA_VERSION, LayerRow, Report

NAME, ORDER = "name", "order"


@dataclass(frozen=True, slots=True)
class LayerMatch:
    """One row: a layer of A and its match in B; either is None when the other model lacks it."""

    a: LayerRow | None
    b: LayerRow | None
    matched_by: str = ""  # "name", "order", or "" for a layer of one model only
    convention_note: str = ""  # why the conventions count this layer differently

    @property
    def differs(self) -> bool:
        return _counts(self.a) != _counts(self.b)

    @property
    def convention(self) -> bool:
        """Is the difference one of convention (explained by ``convention_note``)?"""
        return bool(self.convention_note)

    def to_dict(self) -> dict[str, Any]:
        def side(row: LayerRow | None) -> dict[str, Any] | None:
            if row is None:
                return None
            return {"name": row.name, "type": row.type, "output_shape": list(row.output_shape), "params": row.params,
                    "trainable": row.trainable, "non_trainable": row.non_trainable, "buffers": row.buffers,
                    "formula": row.formula}

        return {"a": side(self.a), "b": side(self.b), "matched_by": self.matched_by, "differs": self.differs,
                "convention": self.convention, "note": self.convention_note}


def explain_difference(match: LayerMatch, labels: tuple[str, str]) -> str:
    """Why a row is marked ≠, in a sentence: one model lacks the layer, the conventions count
    it differently, one side has no bias, or the two are different layers (their tensors)."""
    (la, lb), a, b = labels, match.a, match.b
    if a is None or b is None:
        row, here, other = (a, la, lb) if b is None else (b, lb, la)
        folded = f" ({other} has no {row.type} here: folded into the layer before, or left out)"
        return f"only in {here}{folded if match.differs and _is_norm(row.type) else ''}"
    if not match.differs:
        return ""
    if match.convention:
        return "convention: " + match.convention_note
    text = _tensors_difference(a, b, la, lb)
    return f"paired by order; {text}" if match.matched_by == ORDER and text.startswith("different") else text


def _is_norm(type_name: str) -> bool:
    from .rules import lookup

    try:
        return lookup(type_name.split("(")[0].strip()).family == "norm"
    except LearnableError:
        return False


def _tensors_difference(a: LayerRow, b: LayerRow, la: str, lb: str) -> str:
    params_a, params_b = ([w for w in row.weights if not w.buffer] for row in (a, b))
    bias_a, bias_b = (sum(w.size for w in ws if "bias" in w.name) for ws in (params_a, params_b))
    core_a, core_b = (sum(w.size for w in ws if "bias" not in w.name) for ws in (params_a, params_b))
    if params_a and params_b and core_a == core_b and bias_a != bias_b and 0 in (bias_a, bias_b):
        has, lacks, size = (la, lb, bias_a) if bias_a else (lb, la, bias_b)
        return f"{lacks} has no bias ({has}'s: {size:,}); the rest agrees"
    if a.params == b.params and a.non_trainable != b.non_trainable:
        return f"trainable: {a.trainable:,} in {la}, {b.trainable:,} in {lb} (frozen differently)"
    if a.params == b.params and a.buffers != b.buffers:
        return f"buffers: {a.buffers:,} in {la}, {b.buffers:,} in {lb}"
    if params_a and params_b:
        return f"different tensors: {la} {_tensors_text(params_a)}; {lb} {_tensors_text(params_b)}"
    return f"{a.params:,} params in {la}, {b.params:,} in {lb}"


def _tensors_text(weights) -> str:
    return ", ".join(f"{w.name} {'×'.join(map(str, w.shape)) or 'scalar'}" for w in weights)


def _counts(row: LayerRow | None) -> tuple[int, int, int]:
    return (0, 0, 0) if row is None else (row.params, row.non_trainable, row.buffers)


@dataclass(frozen=True)
class ModelComparison:
    a: Report
    b: Report
    rows: tuple[LayerMatch, ...]
    labels: tuple[str, str] = ("A", "B")  # how headers and totals name the two models

    @property
    def differing(self) -> tuple[LayerMatch, ...]:
        return tuple(row for row in self.rows if row.differs)

    @property
    def params_difference(self) -> int:
        """B's total params less A's."""
        return self.b.total_params - self.a.total_params

    def to_dict(self) -> dict[str, Any]:
        def totals(report: Report, label: str) -> dict[str, Any]:
            return {"label": label, "name": report.name, "convention": report.convention,
                    "total_params": report.total_params, "trainable_params": report.trainable_params,
                    "non_trainable_params": report.non_trainable_params, "total_buffers": report.total_buffers}

        return {"schema_version": SCHEMA_VERSION, "a": totals(self.a, self.labels[0]),
                "b": totals(self.b, self.labels[1]), "params_difference": self.params_difference,
                "differing_layers": len(self.differing), "layers": [row.to_dict() for row in self.rows]}


def compare_reports(a: Report, b: Report, *, labels: tuple[str, str] | None = None) -> ModelComparison:
    """A and B side by side, layer by layer. ``labels`` name the two models in headers and
    totals (default: the reports' names when they have two different ones, else A and B)."""
    if labels is None:
        labels = (a.name, b.name) if a.name and b.name and a.name != b.name else ("A", "B")
    pairs = _match(a.layers, b.layers)
    rows = tuple(_row(a, b, i, j, how) for i, j, how in _in_order(pairs, len(a.layers), len(b.layers)))
    return ModelComparison(a, b, rows, labels)


# ---- matching -----------------------------------------------------------------------------


def _match(a: Sequence[LayerRow], b: Sequence[LayerRow]) -> dict[int, tuple[int, str]]:
    """A's index → (B's index, how they were matched)."""
    b_by_name = {row.name: j for j, row in enumerate(b)}
    pairs = {i: (b_by_name[row.name], NAME) for i, row in enumerate(a) if row.name in b_by_name}
    taken = {j for j, _ in pairs.values()}
    rest_a = [i for i in range(len(a)) if i not in pairs]
    rest_b = [j for j in range(len(b)) if j not in taken]
    def weighted(rows: Sequence[LayerRow], i: int) -> bool:
        return rows[i].params > 0 or rows[i].buffers > 0

    for i, j in zip([i for i in rest_a if weighted(a, i)], [j for j in rest_b if weighted(b, j)]):
        pairs[i] = (j, ORDER)
    taken = {j for j, _ in pairs.values()}
    for kind in dict.fromkeys(_kind(a[i].type) for i in rest_a if i not in pairs):
        left = [i for i in rest_a if i not in pairs and _kind(a[i].type) == kind]
        right = [j for j in rest_b if j not in taken and _kind(b[j].type) == kind and not weighted(b, j)]
        pairs.update((i, (j, ORDER)) for i, j in zip(left, right))
    return pairs


def _in_order(pairs: dict[int, tuple[int, str]], n_a: int, n_b: int) -> list[tuple[int | None, int | None, str]]:
    """A's layers in order, each of B's unmatched layers placed after B's layer before it."""
    matched_b = {j for j, _ in pairs.values()}
    done: set[int] = set()
    out: list[tuple[int | None, int | None, str]] = []

    def b_only_before(limit: int) -> None:
        for j in range(limit):
            if j not in matched_b and j not in done:
                done.add(j)
                out.append((None, j, ""))

    for i in range(n_a):
        if i in pairs:
            j, how = pairs[i]
            b_only_before(j)
            out.append((i, j, how))
        else:
            out.append((i, None, ""))
    b_only_before(n_b)
    return out


@lru_cache(maxsize=256)
def _kind(type_name: str) -> frozenset[str]:
    """The names a layer type goes by in either framework: {"batchnormalization", "batchnorm2d"}."""
    from .explain import counterpart
    from .rules import lookup

    base = type_name.split("(")[0].strip()
    try:
        rule = lookup(base)
    except LearnableError:
        return frozenset({base.lower()})
    other = counterpart(rule)
    return frozenset(r.name.lower() for r in (rule, other) if r is not None)


def same_kind(type_a: str, type_b: str) -> bool:
    return bool(_kind(type_a) & _kind(type_b))


# ---- one row ------------------------------------------------------------------------------


def _row(a: Report, b: Report, i: int | None, j: int | None, how: str) -> LayerMatch:
    left = a.layers[i] if i is not None else None
    right = b.layers[j] if j is not None else None
    match = LayerMatch(left, right, how)
    if left is None or right is None or not match.differs or a.convention == b.convention:
        return match
    if not same_kind(left.type, right.type) or not _same_sizes(a, left, b, right):
        return match
    return LayerMatch(left, right, how, RowPair(left, right).note)


def _same_sizes(a: Report, left: LayerRow, b: Report, right: LayerRow) -> bool:
    """The same inputs and output, whatever the layout (channels first or last)."""
    def sizes(report: Report, row: LayerRow) -> list[list[int]]:
        shapes = [row.output_shape, *(_output_of(report, name) for name in row.inputs)]
        return [sorted(-1 if d is None else d for d in shape) for shape in shapes]

    return sizes(a, left) == sizes(b, right)


def _output_of(report: Report, name: str) -> tuple[int | None, ...]:
    try:
        return report.layer(name).output_shape
    except KeyError:  # an input of the graph that is not a row
        return ()
