"""Sweeps: one spec counted over a grid of argument values (``learnable.sweep``).

A key names one argument of one layer, ``LAYER.ARGUMENT``: a top-level layer or block use
by the name the report gives it, and one of its arguments, a block's parameter, or its
``repeat``; ``input.shape`` is the input's shape; ``params.NAME`` one of the spec's top-level
``params:``. Every combination of the values is
counted, the first key varying slowest (as in ``itertools.product``); or, paired, the i-th
values of every key together (as in ``zip``: VGG A-E, GPT-2 S/M/L/XL, one row each). The spec is read
once; each variant is built and counted as :func:`learnable.count` counts a spec, so a
variant that cannot exist (a kernel larger than its input) fails as that spec would.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from itertools import islice, product
from math import prod
from typing import Any

from . import engine
from ._gc import gc_paused
from ._text import with_article
from .errors import LearnableError, SpecError
from .report import Report
from .rules._args import COMMON_IGNORED, suggest
from .spec import ModelSpec, load
from .spec.build import SHAPE_KEYS, build_graph, layer_positions
from .spec.model import GRAPH_KEYS
from .spec.vary import PARAMS, known_arguments, vary

MAX_VARIANTS = 100_000  # a grid is a product: a few long lists are millions of counts
MAX_COUNTED = 100_000  # distinct layers kept from one variant for the next: beyond, start afresh
# What any layer or block use may be given besides its own arguments: the build reads these.
ALWAYS = ("repeat", "trainable", *SHAPE_KEYS)


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


def value_text(value: Any, depth: int = 0) -> str:
    """A value as a spec writes it: 64, [28, 28, 1], same, true (what no spec could hold,
    a list within itself or a number Python will not print, shortened)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        inner = ", ".join(value_text(v, depth + 1) for v in value) if depth < 8 else "..."
        return f"[{inner}]"
    if isinstance(value, int) and value.bit_length() > 10_000:
        return f"{with_article(format(value.bit_length(), ','))}-bit number"
    if value is None:
        return "null"
    return str(value) if isinstance(value, (str, int, float)) else short_repr(value)


def short_repr(value: Any) -> str:
    """repr within bounds: a value given through the API may be anything."""
    import reprlib

    return reprlib.repr(value)


def variants(source: Any, grid: Mapping[str, Iterable[Any]], data_format: str | None = None,
             convention: str | None = None, paired: bool = False, **code_options: Any) -> Iterator[Variant]:
    """The variants of ``source`` over ``grid``, counted one at a time as they are asked for.
    The keys and values are checked before anything is counted. For model code, a key is a
    name its top level sets or leaves to the user (``num_classes``), and ``code_options``
    are count()'s for code (input_shape, model, values, integer_input)."""
    from .code import code_source

    code = code_source(source)
    if code is not None:
        return _code_variants(code, grid, data_format, convention, code_options, paired)
    if code_options:
        raise SpecError("input_shape, model and values are for model code (a .py file or Python text)")
    spec = _spec(source)
    axes = _axes(spec, grid, paired)
    return _counted(spec, axes, data_format, convention, paired)


def _combinations(columns: list[tuple[Any, ...]], paired: bool) -> Iterable[tuple[Any, ...]]:
    return zip(*columns) if paired else product(*columns)


def _check_paired(axes: list[tuple]) -> None:
    """Paired values need as many of each: a value left over would be silently dropped."""
    lengths = {key: len(values) for key, *_, values in axes}
    if len(set(lengths.values())) > 1:
        counts = ", ".join(f"{key} has {n}" for key, n in lengths.items())
        raise SpecError(f"a paired sweep (--zip) takes the i-th value of every key together, so each needs as "
                        f"many values: {counts}")


def _spec(source: Any) -> ModelSpec:
    from .importers import framework_of, model_file

    if framework_of(source) is not None or model_file(source) is not None:
        raise SpecError("a sweep changes the arguments of a spec's layers; a framework model or a model file "
                        "has none to change: sweep a spec of the network (YAML, JSON or the compact form)")
    return load(source)


def _axes(spec: ModelSpec, grid: Mapping[str, Iterable[Any]],
          paired: bool = False) -> list[tuple[str, int, str, tuple[Any, ...]]]:
    """(key, the layer's position in spec.layers, the argument, the values) for each key."""
    if not isinstance(grid, Mapping) or not grid:
        raise SpecError("a sweep needs at least one LAYER.ARGUMENT and its values, "
                        "e.g. {'conv_2.filters': [16, 32, 64]}")
    positions = layer_positions(spec)
    axes, seen = [], {}
    for key, values in grid.items():
        position, argument = _target(key, positions, spec)
        if (position, argument) in seen:
            raise SpecError(f"sweep keys '{seen[position, argument]}' and '{key}' name the same argument")
        seen[position, argument] = key
        axes.append((key, position, argument, _values(key, values)))
    if paired:
        _check_paired(axes)
    size = len(axes[0][-1]) if paired else prod(len(values) for *_, values in axes)
    if size > MAX_VARIANTS:
        raise SpecError(f"the sweep has {size:,} variants; at most {MAX_VARIANTS:,} are counted: give fewer values")
    return axes


def _target(key: Any, positions: Mapping[str, int], spec: ModelSpec) -> tuple[int, str]:
    layer, _, argument = key.rpartition(".") if isinstance(key, str) else ("", "", "")
    if not layer or not argument.isidentifier():
        raise SpecError(f"sweep key {key!r}: write LAYER.ARGUMENT, e.g. conv_2.filters (the input's shape is "
                        "input.shape)")
    if argument in GRAPH_KEYS and argument != "repeat":
        raise SpecError(f"sweep key '{key}': '{argument}' places the layer in the network; a sweep changes "
                        "arguments (and repeat)")
    if layer == "params" and layer not in positions:  # the spec's top-level params: (d, heads)
        if argument not in spec.params:
            raise SpecError(f"sweep key '{key}': the spec's 'params:' has no '{argument}'"
                            f"{suggest(argument, list(spec.params))}")
        return PARAMS, argument
    if layer not in positions:
        raise SpecError(f"sweep key '{key}': {_no_layer(layer, positions, spec)}")
    position = positions[layer]
    known = known_arguments(spec.layers[position], spec)
    if known is not None and argument not in (*known, *ALWAYS) and argument not in COMMON_IGNORED:
        what = "block use" if spec.layers[position].type in spec.blocks else spec.layers[position].type
        raise SpecError(f"sweep key '{key}': '{argument}' is not an argument of the {what} '{layer}'"
                        f"{suggest(argument, known)}")
    return position, argument


def _no_layer(layer: str, positions: Mapping[str, int], spec: ModelSpec) -> str:
    """What to say of a name that is no top-level layer's: the closest names, or for
    ``input``, where the input's shape is written instead."""
    if layer == "input":
        for name, position in positions.items():
            own = known_arguments(spec.layers[position], spec) or ()  # Embedding's input_dim is its own
            stated = [key for key in SHAPE_KEYS if key in spec.layers[position].kwargs and key not in own]
            if stated:
                return f"the input's shape is the first layer's {stated[0]}: vary '{name}.{stated[0]}'"
    names = f" (the names are {', '.join(positions)})" if len(positions) <= 20 else ""
    return f"no top-level layer or block use is named '{layer}'{suggest(layer, list(positions))}{names}"


def _values(key: str, values: Any) -> tuple[Any, ...]:
    if isinstance(values, (str, bytes, Mapping)) or not isinstance(values, Iterable):
        raise SpecError(f"sweep key '{key}': give a list of values, got {short_repr(values)}")
    values = tuple(islice(values, MAX_VARIANTS + 1))  # (a generator may never end)
    if not values:
        raise SpecError(f"sweep key '{key}': the list of values is empty")
    if len(values) > MAX_VARIANTS:
        raise SpecError(f"sweep key '{key}': more than {MAX_VARIANTS:,} values; at most {MAX_VARIANTS:,} variants "
                        "are counted")
    return values


def _counted(spec: ModelSpec, axes: list, data_format: str | None, convention: str | None,
             paired: bool) -> Iterator[Variant]:
    keys = [key for key, *_ in axes]
    counted: dict = {}  # the layers counted so far: variants share most of theirs
    for combination in _combinations([values for *_, values in axes], paired):
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


# ---- model code: a name's value at a time ---------------------------------------------------


def _code_variants(code: tuple[str, str | None], grid: Mapping[str, Iterable[Any]], data_format: str | None,
                   convention: str | None, options: dict[str, Any], paired: bool) -> Iterator[Variant]:
    from .code import settable_names

    text, source = code
    if not isinstance(grid, Mapping) or not grid:
        raise SpecError("a sweep of model code needs at least one NAME and its values, e.g. {'num_classes': [10, 100]}")
    names = settable_names(text, source)
    axes = []
    for key, values in grid.items():
        head = str(key).split(".")[0]
        if head not in names:
            raise SpecError(f"sweep key {key!r}: '{head}' is not a name the code's top level sets or leaves to you"
                            f"{suggest(head, sorted(names))} (a sweep of code changes such names, e.g. "
                            "num_classes; not a function's own parameters)")
        axes.append((str(key), _values(str(key), values)))
    if paired:
        _check_paired(axes)
    elif prod(len(values) for _, values in axes) > MAX_VARIANTS:
        raise SpecError(f"the sweep has more than {MAX_VARIANTS:,} variants: give fewer values")
    return _code_counted(text, source, axes, data_format, convention, options, paired)


def _code_counted(text: str, source: str | None, axes: list, data_format: str | None, convention: str | None,
                  options: dict[str, Any], paired: bool) -> Iterator[Variant]:
    from .api import _code_graph

    counted: dict = {}
    fixed = dict(options.pop("values", None) or {})
    for combination in _combinations([values for _, values in axes], paired):
        values = dict(zip((key for key, _ in axes), combination))
        if sum(map(len, counted.values())) > MAX_COUNTED:
            counted.clear()
        try:
            graph = _code_graph((text, source), options.get("input_shape"), data_format, convention,
                                options.get("model"), {**fixed, **values}, options.get("integer_input", False))
            report = engine.run(graph, counted)
        except LearnableError as err:
            raise VariantError(values, err) from None
        yield Variant(values, report)
