"""Sweeps: one spec counted over a grid of argument values (``learnable.sweep``).

A key names one argument of one layer, ``LAYER.ARGUMENT``: a top-level layer or block use
by the name the report gives it, and one of its arguments, a block's parameter, or its
``repeat``; ``input.shape`` is the input's shape. Every combination of the values is
counted, the first key varying slowest (as in ``itertools.product``). The spec is read
once; each variant is built and counted as :func:`learnable.count` counts a spec, so a
variant that cannot exist (a kernel larger than its input) fails as that spec would.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from itertools import product
from math import prod
from typing import Any

from . import engine
from ._gc import gc_paused
from .errors import LearnableError, SpecError
from .report import Report
from .rules._args import suggest
from .spec import ModelSpec, load
from .spec.build import build_graph, layer_positions
from .spec.model import GRAPH_KEYS
from .spec.vary import vary

MAX_VARIANTS = 100_000  # a grid is a product: a few long lists are millions of counts
MAX_COUNTED = 100_000  # distinct layers kept from one variant for the next: beyond, start afresh


@dataclass(frozen=True)
class Variant:
    """One point of the grid: the value of each key, and the network's report there."""

    values: dict[str, Any]
    report: Report


class VariantError(LearnableError):
    """A variant that cannot be counted: the problem, and which values made it."""

    def __init__(self, values: Mapping[str, Any], error: LearnableError):
        super().__init__(f"the variant {describe(values)}: {error}")
        self.values, self.error = dict(values), error


def describe(values: Mapping[str, Any]) -> str:
    """``conv_2.filters=16, fc_1.units=64``"""
    return ", ".join(f"{key}={value_text(value)}" for key, value in values.items())


def value_text(value: Any) -> str:
    """A value as a spec writes it: 64, [28, 28, 1], same, true."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(map(value_text, value)) + "]"
    return "null" if value is None else str(value)


def variants(source: Any, grid: Mapping[str, Iterable[Any]], data_format: str | None = None,
             convention: str | None = None) -> Iterator[Variant]:
    """The variants of ``source`` over ``grid``, counted one at a time as they are asked for.
    The keys and values are checked before anything is counted."""
    spec = _spec(source)
    axes = _axes(spec, grid)
    return _counted(spec, axes, data_format, convention)


def _spec(source: Any) -> ModelSpec:
    from .importers import framework_of, model_file

    if framework_of(source) is not None or model_file(source) is not None:
        raise SpecError("a sweep changes the arguments of a spec's layers; a framework model or a model file "
                        "has none to change: sweep a spec of the network (YAML, JSON or the compact form)")
    return load(source)


def _axes(spec: ModelSpec, grid: Mapping[str, Iterable[Any]]) -> list[tuple[str, int, str, tuple[Any, ...]]]:
    """(key, the layer's position in spec.layers, the argument, the values) for each key."""
    if not isinstance(grid, Mapping) or not grid:
        raise SpecError("a sweep needs at least one LAYER.ARGUMENT and its values, "
                        "e.g. {'conv_2.filters': [16, 32, 64]}")
    positions = layer_positions(spec)
    axes, seen = [], {}
    for key, values in grid.items():
        position, argument = _target(key, positions)
        if (position, argument) in seen:
            raise SpecError(f"sweep keys '{seen[position, argument]}' and '{key}' name the same argument")
        seen[position, argument] = key
        axes.append((key, position, argument, _values(key, values)))
    size = prod(len(values) for *_, values in axes)
    if size > MAX_VARIANTS:
        raise SpecError(f"the sweep has {size:,} variants; at most {MAX_VARIANTS:,} are counted: give fewer values")
    return axes


def _target(key: Any, positions: Mapping[str, int]) -> tuple[int, str]:
    layer, _, argument = key.rpartition(".") if isinstance(key, str) else ("", "", "")
    if not layer or not argument.isidentifier():
        raise SpecError(f"sweep key {key!r}: write LAYER.ARGUMENT, e.g. conv_2.filters (the input's shape is "
                        "input.shape)")
    if argument in GRAPH_KEYS and argument != "repeat":
        raise SpecError(f"sweep key '{key}': '{argument}' places the layer in the network; a sweep changes "
                        "arguments (and repeat)")
    if layer not in positions:
        names = f" (the names are {', '.join(positions)})" if len(positions) <= 20 else ""
        raise SpecError(f"sweep key '{key}': no top-level layer or block use is named '{layer}'"
                        f"{suggest(layer, list(positions))}{names}")
    return positions[layer], argument


def _values(key: str, values: Any) -> tuple[Any, ...]:
    if isinstance(values, (str, bytes, Mapping)) or not isinstance(values, Iterable):
        raise SpecError(f"sweep key '{key}': give a list of values, got {value_text(values)}")
    values = tuple(values)
    if not values:
        raise SpecError(f"sweep key '{key}': the list of values is empty")
    return values


def _counted(spec: ModelSpec, axes: list, data_format: str | None, convention: str | None) -> Iterator[Variant]:
    keys = [key for key, *_ in axes]
    counted: dict = {}  # the layers counted so far: variants share most of theirs
    for combination in product(*(values for *_, values in axes)):
        values = dict(zip(keys, combination))
        changes = [(position, argument, value) for (_, position, argument, _), value in zip(axes, combination)]
        if sum(map(len, counted.values())) > MAX_COUNTED:
            counted.clear()
        try:
            report = _count(vary(spec, changes), data_format, convention, counted)
        except LearnableError as err:
            raise VariantError(values, err) from None
        yield Variant(values, report)


@gc_paused  # one variant at a time: the caller's code between them runs with the collector on
def _count(spec: ModelSpec, data_format: str | None, convention: str | None, counted: dict) -> Report:
    return engine.run(build_graph(spec, data_format, convention), counted)
