"""Counts as formulas of a spec's ``params:``: ``learnable.symbolic(spec, ["width"])``.

The total, trainable and MACs, and each layer's parameters and MACs, as exact polynomials
(rational coefficients) in the named parameters, fitted on the engine's own counts and
checked at many further points (_polyfit.py says why and how). A layer that a repeat count
(``repeat: $depth``) makes exist some number of times is one row: its copies' sum, the
number of its layers, and one copy's formula where every copy is the same.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from . import engine
from ._polyfit import MAX_VARIABLES, Axis, Fit, SymbolicError, fit, parse_range
from .errors import LearnableError
from .polynomial import Polynomial
from .rules._args import suggest
from .spec.build import build_graph
from .spec.vary import PARAMS, vary

DEFAULT_HI = 64  # a range's default end, or twice the spec's value when larger


class Sampler:
    """The spec counted with its ``params:`` set to a point's values; each point once."""

    def __init__(self, source: Any, names: Sequence[str], ranges: Mapping[str, str] | None = None,
                 values: Mapping[str, Any] | None = None, data_format: str | None = None,
                 convention: str | None = None):
        from .sweeping import _spec

        self.spec = _spec(source)
        self.fixed = [(PARAMS, name, value) for name, value in (values or {}).items()]
        for name in (values or {}):
            self._check_name(name)
        self.axes = tuple(self._axis(name, (ranges or {}).get(name), values or {}) for name in names)
        if not self.axes or len(self.axes) > MAX_VARIABLES:
            raise SymbolicError(f"name 1 to {MAX_VARIABLES} of the spec's params: as the variables, got {len(self.axes)}")
        if len({a.name for a in self.axes}) < len(self.axes):
            raise SymbolicError("a variable is named twice")
        self.data_format, self.convention = data_format, convention
        self._seen: dict[tuple[int, ...], tuple] = {}
        self._counted: dict = {}  # the engine's cache of layers counted, shared by the points

    def _check_name(self, name: str) -> None:
        if name not in self.spec.params:
            if not self.spec.params:
                raise SymbolicError(f"'{name}': the spec has no params: (write params: {{{name}: 64}} at its top "
                                    f"and use ${name} in its layers)")
            raise SymbolicError(f"'{name}' is not one of the spec's params: ({', '.join(self.spec.params)})"
                                f"{suggest(name, list(self.spec.params))}")

    def _axis(self, name: str, text: str | None, values: Mapping[str, Any]) -> Axis:
        self._check_name(name)
        base = values.get(name, self.spec.params[name])
        if isinstance(base, bool) or not isinstance(base, int):
            raise SymbolicError(f"params.{name} is {base!r}: a variable of a formula must be a whole number")
        lo, hi, step = parse_range(text, name) if text else (1, max(DEFAULT_HI, 2 * base), 1)
        return Axis(name, lo, hi, step, base)

    def report(self, point: tuple[int, ...]):
        """(graph, report) at the point: the axes' values, the other params as fixed."""
        if point not in self._seen:
            changes = [*self.fixed, *((PARAMS, a.name, v) for a, v in zip(self.axes, point))]
            try:
                graph = build_graph(vary(self.spec, changes), self.data_format, self.convention)
                self._seen[point] = graph, engine.run(graph, self._counted)
            except LearnableError as err:
                where = ", ".join(f"{a.name} = {v:,}" for a, v in zip(self.axes, point))
                raise SymbolicError(f"at {where} the spec cannot be counted ({err}); give ranges where it can, "
                                    f"NAME=LO..HI[:STEP] (e.g. {self.axes[0].name}=8..256:8)") from None
        return self._seen[point]

    @property
    def base(self) -> tuple[int, ...]:
        return tuple(axis.base for axis in self.axes)


def _group(node) -> tuple:
    """The spec entry a layer comes from: its top-level position and its line (a block's
    layer, its line in the block): a repeat's copies share it."""
    location = node.location
    return (node.index, location and location.line, location and location.column)


def measure_layers(graph, report) -> dict:
    """Every quantity a formula is fitted for, at one point: the totals, and per group of
    layers from one spec entry its size and sums, and each of its layers in order."""
    groups = {node.name: _group(node) for node in graph.nodes}
    values: dict = {("total", "params"): report.total_params, ("total", "trainable"): report.trainable_params}
    if not report.macs_unknown:
        values["total", "macs"] = report.total_macs
    members: dict = {}
    for row in report.layers:
        members.setdefault(groups.get(row.name, (None, None, None)), []).append(row)
    for g, rows in members.items():
        values["count", g] = len(rows)
        values["sum", "params", g] = sum(row.params for row in rows)
        if all(row.macs is not None for row in rows):
            values["sum", "macs", g] = sum(row.macs for row in rows)
        for i, row in enumerate(rows):
            values["row", "params", g, i] = row.params
            if row.macs is not None:
                values["row", "macs", g, i] = row.macs
    return values


@dataclass(frozen=True)
class LayerFormula:
    """One layer's formulas; or, for a layer a repeat count makes exist ``layers`` times,
    the sum over its copies (and ``per_copy``, when every copy counts the same)."""

    name: str
    type: str
    params: Polynomial
    macs: Polynomial | None = None
    layers: Polynomial | None = None  # how many layers the row stands for, when that varies
    per_copy: Polynomial | None = None  # params of one copy, when params = copies × it
    copies: str | None = None  # the variable that counts the copies

    def to_dict(self) -> dict:
        return {"name": self.name, "type": self.type, "params": self.params.to_dict(),
                "macs": self.macs and self.macs.to_dict(), "repeated": self.layers is not None,
                "layers": self.layers and self.layers.to_dict(), "copies": self.copies,
                "per_copy": self.per_copy and self.per_copy.to_dict()}


@dataclass(frozen=True)
class SymbolicCount:
    """A spec's counts as polynomials of its ``params:`` named in ``variables``."""

    name: str | None
    axes: tuple[Axis, ...]
    params: Polynomial
    trainable: Polynomial
    macs: Polynomial | None  # None: some layer's MACs are not known
    layers: tuple[LayerFormula, ...]
    fixed: dict[str, Any] = field(default_factory=dict)  # the other params, as counted
    grid: tuple[tuple[int, ...], ...] = ()
    checked: int = 0

    @property
    def variables(self) -> tuple[str, ...]:
        return tuple(axis.name for axis in self.axes)

    def to_dict(self) -> dict:
        return {"name": self.name, "variables": list(self.variables),
                "ranges": {a.name: {"lo": a.lo, "hi": a.hi, "step": a.step, "spec_value": a.base} for a in self.axes},
                "fixed": self.fixed, "params": self.params.to_dict(), "trainable": self.trainable.to_dict(),
                "macs": self.macs and self.macs.to_dict(), "layers": [row.to_dict() for row in self.layers],
                "fitted_at": [list(points) for points in self.grid], "checked_points": self.checked}

    def __str__(self) -> str:
        from .render.formulas import render_symbolic

        return render_symbolic(self)


def symbolic(source: Any, variables: Sequence[str] | str, *, ranges: Mapping[str, str] | None = None,
             values: Mapping[str, Any] | None = None, data_format: str | None = None,
             convention: str | None = None) -> SymbolicCount:
    """The counts of a spec as polynomials of its ``params:`` named in ``variables``
    (``["width", "depth"]`` or ``"width,depth"``), each over ``ranges[name]`` (``"1..64"``,
    ``"64..4096:64"``; default 1 to max(64, twice the spec's value)); ``values`` sets other
    params. Raises SymbolicError (a LearnableError) when a count is not a polynomial there,
    with a point that shows it."""
    names = [n.strip() for n in variables.split(",")] if isinstance(variables, str) else list(variables)
    sampler = Sampler(source, names, ranges, values, data_format, convention)
    measured = lambda point: measure_layers(*sampler.report(point))
    result = fit(measured, sampler.axes, _describer(sampler))
    other = {k: v for k, v in {**sampler.spec.params, **(values or {})}.items() if k not in names}
    return _assembled(sampler, result, other)


def _describer(sampler: Sampler):
    def describe(key: tuple) -> str:
        if key[0] == "total":
            return f"the network's {key[1]}"
        name = _names(sampler, key[-2] if key[0] == "row" else key[-1])
        if key[0] == "row":
            return f"the {key[1]} of {name[key[3]][0] if key[3] < len(name) else 'a layer'}"
        return f"the number of layers from {name[0][0]}" if key[0] == "count" else f"the {key[1]} of {name[0][0]}"
    return describe


def _names(sampler: Sampler, g: tuple) -> list[tuple[str, str]]:
    """(name, type) of a group's layers at the spec's values, else where it has layers."""
    for graph, report in [sampler.report(sampler.base), *sampler._seen.values()]:
        groups = {node.name: _group(node) for node in graph.nodes}
        rows = [(row.name, row.type) for row in report.layers if groups.get(row.name, (None,) * 3) == g]
        if rows:
            return rows
    return [("?", "?")]


def _assembled(sampler: Sampler, result: Fit, fixed: dict) -> SymbolicCount:
    polys = result.polynomials
    layers: list[LayerFormula] = []
    repeated: dict[Any, list[tuple]] = {}  # a top-level entry's groups whose layers come and go
    # In the spec's order: a group absent at the first points fitted is met late.
    for g in sorted((key[1] for key in polys if key[0] == "count"), key=lambda g: g[0] or 0):
        if not polys["count", g].is_constant:
            repeated.setdefault(g[0], []).append(g)
            if len(repeated[g[0]]) == 1:
                layers.append(("repeated", g[0]))  # its place in the order
            continue
        for i, (name, kind) in enumerate(_names(sampler, g)):
            if ("row", "params", g, i) in polys:
                layers.append(LayerFormula(name, kind, polys["row", "params", g, i], polys.get(("row", "macs", g, i))))
    rows = tuple(_repeated(sampler, polys, repeated[row[1]]) if isinstance(row, tuple) else row for row in layers)
    return SymbolicCount(sampler.spec.name, sampler.axes, polys["total", "params"], polys["total", "trainable"],
                         polys.get(("total", "macs")), rows, fixed, result.grid, result.checked)


def _repeated(sampler: Sampler, polys: Mapping, groups: list[tuple]) -> LayerFormula:
    total = lambda kind: _sum([polys.get((kind, g) if kind == "count" else ("sum", kind, g)) for g in groups])
    params, count = total("params"), total("count")
    names = [n for g in groups for n in _names(sampler, g)]
    copies, per_copy = _per_copy(params, count)
    label = names[0][0] if len(names) == 1 else f"{names[0][0]} … {names[-1][0]}"
    kinds = "/".join(dict.fromkeys(kind for _, kind in names))
    return LayerFormula(label, kinds, params, total("macs"), count, per_copy, copies)


def _sum(polys: list[Polynomial | None]) -> Polynomial | None:
    if any(p is None for p in polys):
        return None
    result = polys[0]
    for p in polys[1:]:
        result = result + p
    return result


def _per_copy(params: Polynomial, count: Polynomial) -> tuple[str | None, Polynomial | None]:
    """When the layers number k × v for one variable v, and params = v × P: (v, P)."""
    if len(count.terms) != 1:
        return None, None
    (exponents, _), = count.terms.items()
    if sum(exponents) != 1:
        return None, None
    name = count.variables[exponents.index(1)]
    return name, params.divided_by(name)
