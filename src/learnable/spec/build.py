"""A :class:`ModelSpec` (parsed from YAML, JSON or the compact form) → a :class:`Graph`.

Here the spec's conventions become graph facts: layers without ``inputs`` take the
previous layer's output, unnamed layers are named as Keras names them, Keras 2's
``input_shape=`` on the first layer makes an input, and the data format is settled.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from ..errors import GraphError, LayerError, RuleError
from ..graph import Graph, Node, check_references, describe, make_node
from ..rules import CHANNELS_FIRST, CHANNELS_LAST, KERAS, PYTORCH, Rule, lookup
from .model import LayerSpec, ModelSpec


def build_graph(spec: ModelSpec, data_format: str | None = None, convention: str | None = None) -> Graph:
    """Resolve every layer's rule and arguments and wire the inputs."""
    layers, rules = _keras2_inputs(list(spec.layers), [_resolve(layer) for layer in spec.layers])
    names = _assign_names(layers, rules)
    nodes = []
    previous: str | None = None
    for layer, rule, name in zip(layers, rules, names):
        kwargs = dict(layer.kwargs)
        trainable = kwargs.pop("trainable", True)
        inputs = _inputs_of(layer, rule, previous, name)
        nodes.append(make_node(rule, name, inputs, layer.args, kwargs, trainable=trainable,
                               location=layer.location, index=layer.index))
        previous = name
    check_references(nodes)
    fmt = data_format or spec.data_format or _stated_on_inputs(nodes) or _default_format(rules)
    convention = convention or spec.convention or _default_convention(rules)
    return Graph(tuple(nodes), name=spec.name, data_format=fmt, convention=convention)


_SHAPE_KEYS = ("input_shape", "input_dim", "batch_input_shape", "batch_shape")


def _keras2_inputs(layers: list[LayerSpec], rules: list[Rule]) -> tuple[list[LayerSpec], list[Rule]]:
    """Keras's other ways to give the input shape: ``Conv2D(32, 3, input_shape=(28, 28, 1))``
    on the first layer makes an input; ``InputLayer(input_shape=...)`` or
    ``Input(batch_shape=(None, 28))`` name the shape of an input."""
    implicit: LayerSpec | None = None
    for i, (layer, rule) in enumerate(zip(layers, rules)):
        given = [key for key in _SHAPE_KEYS if key in layer.kwargs]
        if not given:
            continue
        kwargs = dict(layer.kwargs)
        shape = _shape_from(kwargs, given)
        if rule.is_input:
            layers[i] = _replace(layer, {**kwargs, "shape": shape})
        elif i > 0 or layer.inputs:
            raise LayerError(describe(rule.name, layer.name, layer.index, layer.location),
                             f"{given[0]} may only be given on the first layer of a network that has no input")
        else:
            layers[i] = _replace(layer, kwargs)
            implicit = LayerSpec("Input", kwargs={"shape": shape}, location=layer.location)
    if implicit is None:
        return layers, rules
    return [implicit, *layers], [lookup("Input"), *rules]


def _shape_from(kwargs: dict, given: list[str]) -> object:
    values = {key: kwargs.pop(key) for key in given}
    for key in ("batch_input_shape", "batch_shape"):  # these include the batch axis
        if isinstance(values.get(key), (list, tuple)) and values[key]:
            return tuple(values[key])[1:]
    if values.get("input_shape") is not None:
        return values["input_shape"]
    dim = values.get("input_dim")
    return (dim,) if dim is not None else None


def _replace(layer: LayerSpec, kwargs: dict) -> LayerSpec:
    return LayerSpec(layer.type, layer.args, kwargs, layer.name, layer.inputs, layer.location, layer.index)


def _resolve(layer: LayerSpec) -> Rule:
    try:
        return lookup(layer.type)
    except RuleError as err:
        raise LayerError(describe(None, layer.name, layer.index, layer.location), str(err)) from None


def _assign_names(layers: Sequence[LayerSpec], rules: Sequence[Rule]) -> list[str]:
    """User names as given; others as Keras names them (conv2d, conv2d_1, ...)."""
    given = Counter(layer.name for layer in layers if layer.name)
    repeated = sorted(name for name, count in given.items() if count > 1)
    if repeated:
        raise GraphError(f"layer name '{repeated[0]}' is used by more than one layer; names must be unique")
    taken = set(given)
    counters: dict[str, int] = {}
    return [layer.name or _next_name(rule.default_name, taken, counters) for layer, rule in zip(layers, rules)]


def _next_name(base: str, taken: set[str], counters: dict[str, int]) -> str:
    while True:
        n = counters.get(base, 0)
        counters[base] = n + 1
        name = base if n == 0 else f"{base}_{n}"
        if name not in taken:
            taken.add(name)
            return name


def _inputs_of(layer: LayerSpec, rule: Rule, previous: str | None, name: str) -> tuple[str, ...]:
    if rule.is_input:
        if layer.inputs:
            raise GraphError(f"{describe(rule.name, name, layer.index, layer.location)} is an input and cannot take inputs")
        return ()
    if layer.inputs is not None:
        return layer.inputs
    if previous is None:
        raise GraphError(
            f"{describe(rule.name, name, layer.index, layer.location)} has no input: start the spec with "
            "'input: [shape]' (or Input(...) in the compact form)"
        )
    return (previous,)


def _stated_on_inputs(nodes: Sequence[Node]) -> str | None:
    """``Input(3, 32, 32, data_format='channels_first')`` states the network's layout."""
    stated = {n.args.get("data_format") for n in nodes if n.rule.is_input} - {None}
    if len(stated) > 1:
        raise GraphError("the inputs state different data formats; use one for the whole network")
    return stated.pop() if stated else None


def _default_format(rules: Sequence[Rule]) -> str:
    """PyTorch layers read channels-first tensors: when every layout-dependent layer is a
    PyTorch one and nothing states a format, use their layout."""
    layout = [r for r in rules if r.layout]
    if layout and all(r.framework == PYTORCH for r in layout):
        return CHANNELS_FIRST
    return CHANNELS_LAST


# Families whose Keras forms own no weights, so they say nothing about the convention.
_NEUTRAL_FAMILIES = frozenset({"structure", "activation", "merge", "pooling"})


def _default_convention(rules: Sequence[Rule]) -> str:
    """Keras's, unless the network is written in PyTorch's names (with no Keras layer that
    owns weights): then PyTorch's, as its author would count it."""
    torch = any(r.framework == PYTORCH for r in rules)
    keras = any(r.framework == KERAS and r.family not in _NEUTRAL_FAMILIES for r in rules if not r.is_input)
    return PYTORCH if torch and not keras else KERAS
