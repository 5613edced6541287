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
from ..rules import CHANNELS_FIRST, CHANNELS_LAST, Rule, lookup
from ..rules._registry import PYTORCH
from .model import LayerSpec, ModelSpec


def build_graph(spec: ModelSpec, data_format: str | None = None) -> Graph:
    """Resolve every layer's rule and arguments and wire the inputs."""
    layers = _with_implicit_input(spec.layers)
    rules = [_resolve(layer) for layer in layers]
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
    return Graph(tuple(nodes), name=spec.name, data_format=fmt)


def _with_implicit_input(layers: Sequence[LayerSpec]) -> list[LayerSpec]:
    """Keras 2 style: ``Conv2D(32, 3, input_shape=(28, 28, 1))`` as the first layer."""
    out = list(layers)
    for i, layer in enumerate(out):
        if "input_shape" in layer.kwargs or "input_dim" in layer.kwargs:
            kwargs = dict(layer.kwargs)
            shape, dim = kwargs.pop("input_shape", None), kwargs.pop("input_dim", None)
            if i > 0 or layer.inputs:
                raise LayerError(
                    describe(layer.type, layer.name, layer.index, layer.location),
                    "input_shape may only be given on the first layer of a network that has no input",
                )
            out[i] = LayerSpec(layer.type, layer.args, kwargs, layer.name, layer.inputs, layer.location, layer.index)
            out.insert(0, LayerSpec("Input", kwargs={"shape": shape if shape is not None else dim}, location=layer.location))
            break
    return out


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
