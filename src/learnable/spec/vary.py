"""A parsed spec with some layers' arguments changed: one variant of a sweep.

An argument is changed where it was written: a value given by position (``Dense: 64``)
is replaced in place, one given by name or not given is set by name, so the variant
reads as if its author had written it; the count then checks it as any spec is checked.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from ..errors import RuleError
from ..rules import Rule, lookup
from ._literals import call_value
from .build import flavour
from .model import LayerSpec, ModelSpec, checked_repeat

_ALL = -1  # the argument is made of every positional value, as Input(28, 28, 1)'s shape
PARAMS = -1  # the position of a change to the spec's top-level params: (params.d)


def vary(spec: ModelSpec, changes: Sequence[tuple[int, str, Any]]) -> ModelSpec:
    """``spec`` with each (position in ``spec.layers``, argument, value) applied."""
    layers, params = list(spec.layers), dict(spec.params)
    for position, argument, value in changes:
        if position == PARAMS:
            params[argument] = value
        else:
            layers[position] = _with_argument(layers[position], argument, value, spec)
    return replace(spec, layers=tuple(layers), params=params)


def _with_argument(layer: LayerSpec, argument: str, value: Any, spec: ModelSpec) -> LayerSpec:
    """The layer (or block use) with one argument, or its ``repeat``, set to ``value``."""
    if isinstance(value, str):  # "LSTM(32)" is a layer, as in a spec
        value = call_value(value, layer.location)
    if argument == "repeat":
        return layer.replace(repeat=checked_repeat(value, layer.location))
    index = None if layer.type in spec.blocks else _positional_index(layer, argument, spec)
    if index == _ALL:
        return layer.replace(args=(), kwargs={**layer.kwargs, argument: value})
    if index is not None:
        return layer.replace(args=(*layer.args[:index], value, *layer.args[index + 1:]))
    return layer.replace(kwargs={**layer.kwargs, argument: value})


def known_arguments(layer: LayerSpec, spec: ModelSpec) -> list[str] | None:
    """The arguments a layer (its rule's) or a block use (the block's parameters) takes, to
    refuse an unknown one before anything is counted; None when any goes, or the type is
    unknown (the count says so, with the closest names)."""
    block = spec.blocks.get(layer.type)
    if block is not None:
        return list(block.params)
    rule = _rule(layer, spec)
    return None if rule is None or rule.any_args else [arg.name for arg in rule.args]


def _positional_index(layer: LayerSpec, argument: str, spec: ModelSpec) -> int | None:
    """Where ``argument`` stands among the layer's positional values, if it was given so."""
    rule = _rule(layer, spec) if layer.args and argument not in layer.kwargs else None
    names = [arg.name for arg in rule.args] if rule is not None else []
    if argument not in names:
        return None  # by name, or not an argument of this layer: the count says so, with the closest names
    index = names.index(argument)
    if rule.packs_positional:
        return _ALL if index == 0 else None
    return index if index < len(layer.args) else None


def _rule(layer: LayerSpec, spec: ModelSpec) -> Rule | None:
    """The layer's rule, as the build resolves it; None for an unknown type (the count says so)."""
    try:
        return lookup(layer.type, flavour(spec))
    except RuleError:
        return None
