"""The network as a graph of layers, each bound to its rule, in an order shapes can flow.

Specs build it here; framework importers will build the same structure, so every source
goes through the same rules and the same engine.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .errors import ArgumentError, GraphError, LayerError, Location, RuleError
from .rules import CHANNELS_FIRST, CHANNELS_LAST, Rule, lookup
from .rules._args import bind, suggest
from .spec.model import LayerSpec, ModelSpec


@dataclass(frozen=True)
class Node:
    name: str
    rule: Rule
    args: Mapping[str, Any]
    inputs: tuple[str, ...]
    trainable: bool = True
    location: Location | None = None
    index: int = 0

    def describe(self) -> str:
        return describe(self.rule.name, self.name, self.index, self.location)


def describe(type_name: str | None, name: str | None, index: int, location: Location | None) -> str:
    """``Conv2D 'conv2d_1' (layer 3, model.yaml:9)``, the prefix of every layer error;
    ``layer 3 (model.yaml:9)`` while the type is not known yet."""
    where = [str(location)] if location and str(location) else []
    if type_name is None:
        label = " ".join(filter(None, ["layer", str(index) if index else "", f"'{name}'" if name else ""]))
    else:
        label = f"{type_name} '{name}'" if name else type_name
        where = [f"layer {index}"] * bool(index) + where
    return label + (f" ({', '.join(where)})" if where else "")


@dataclass(frozen=True)
class Graph:
    nodes: tuple[Node, ...]  # in source order
    name: str | None = None
    data_format: str = CHANNELS_LAST
    by_name: dict[str, Node] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_name", {n.name: n for n in self.nodes})

    def topological_order(self) -> list[Node]:
        """Nodes so that every input comes before its consumers (Kahn's algorithm)."""
        consumers: dict[str, list[str]] = {n.name: [] for n in self.nodes}
        waiting = {n.name: len(n.inputs) for n in self.nodes}
        for node in self.nodes:
            for source in node.inputs:
                consumers[source].append(node.name)
        ready = deque(n.name for n in self.nodes if not n.inputs)
        order: list[Node] = []
        while ready:
            name = ready.popleft()
            order.append(self.by_name[name])
            for consumer in consumers[name]:
                waiting[consumer] -= 1
                if waiting[consumer] == 0:
                    ready.append(consumer)
        if len(order) < len(self.nodes):
            raise GraphError(f"the layers form a cycle: {' → '.join(self._cycle(waiting))}")
        return order

    def _cycle(self, waiting: Mapping[str, int]) -> list[str]:
        """One cycle among the nodes Kahn's algorithm could not order, as names."""
        stuck = {name for name, count in waiting.items() if count > 0}
        name = next(n.name for n in self.nodes if n.name in stuck)
        path: list[str] = []
        seen: dict[str, int] = {}
        while name not in seen:
            seen[name] = len(path)
            path.append(name)
            name = next(i for i in self.by_name[name].inputs if i in stuck)
        cycle = path[seen[name]:]
        cycle.reverse()  # data flows from input to consumer
        order = {n.name: i for i, n in enumerate(self.nodes)}
        start = min(range(len(cycle)), key=lambda i: order[cycle[i]])  # begin where the source does
        cycle = cycle[start:] + cycle[:start]
        return [*cycle, cycle[0]]


# ---- building a graph from a spec ----------------------------------------------------------


def build_graph(spec: ModelSpec, data_format: str | None = None) -> Graph:
    """Resolve every layer's rule and arguments and wire the inputs."""
    layers = _with_implicit_input(spec.layers)
    rules = [_resolve(layer) for layer in layers]
    names = _assign_names(layers, rules)
    nodes = []
    previous: str | None = None
    for layer, rule, name in zip(layers, rules, names):
        inputs = _inputs_of(layer, rule, previous, name)
        nodes.append(_node(layer, rule, name, inputs))
        previous = name
    _check_references(nodes)
    fmt = data_format or spec.data_format or _stated_on_inputs(nodes) or _default_format(rules)
    return Graph(tuple(nodes), name=spec.name, data_format=fmt)


def _stated_on_inputs(nodes: Sequence[Node]) -> str | None:
    """``Input(3, 32, 32, data_format='channels_first')`` states the network's layout."""
    stated = {n.args.get("data_format") for n in nodes if n.rule.arity == (0, 0)} - {None}
    if len(stated) > 1:
        raise GraphError("the inputs state different data formats; use one for the whole network")
    return stated.pop() if stated else None


def _with_implicit_input(layers: Sequence[LayerSpec]) -> list[LayerSpec]:
    """Keras 2 style: ``Conv2D(32, 3, input_shape=(28, 28, 1))`` as the first layer."""
    out = list(layers)
    for i, layer in enumerate(out):
        if "input_shape" in layer.kwargs or "input_dim" in layer.kwargs:
            kwargs = dict(layer.kwargs)
            shape = kwargs.pop("input_shape", None)
            if shape is None:
                shape = (kwargs.pop("input_dim"),)
            if i > 0 or layer.inputs:
                raise LayerError(
                    describe(layer.type, layer.name, layer.index, layer.location),
                    "input_shape may only be given on the first layer of a network that has no input",
                )
            out[i] = LayerSpec(layer.type, layer.args, kwargs, layer.name, layer.inputs, layer.location, layer.index)
            out.insert(0, LayerSpec("Input", kwargs={"shape": shape}, location=layer.location))
            break
    return out


def _resolve(layer: LayerSpec) -> Rule:
    try:
        return lookup(layer.type)
    except RuleError as err:
        raise LayerError(describe(None, layer.name, layer.index, layer.location), str(err)) from None


def _default_format(rules: Sequence[Rule]) -> str:
    """PyTorch layers read channels-first tensors; when every layout-dependent layer is a
    PyTorch one and the spec does not say, use their layout."""
    layout = [r for r in rules if r.layout]
    if layout and all(r.framework == "pytorch" for r in layout):
        return CHANNELS_FIRST
    return CHANNELS_LAST


def _assign_names(layers: Sequence[LayerSpec], rules: Sequence[Rule]) -> list[str]:
    """User names as given; others as Keras names them (conv2d, conv2d_1, ...)."""
    given = [layer.name for layer in layers if layer.name]
    duplicates = {n for n in given if given.count(n) > 1} if len(set(given)) < len(given) else set()
    if duplicates:
        raise GraphError(f"layer name '{sorted(duplicates)[0]}' is used by more than one layer; names must be unique")
    taken = set(given)
    counters: dict[str, int] = {}
    names = []
    for layer, rule in zip(layers, rules):
        names.append(layer.name or _next_name("input_layer" if rule.arity == (0, 0) else rule.snake_name, taken, counters))
    return names


def _next_name(base: str, taken: set[str], counters: dict[str, int]) -> str:
    while True:
        n = counters.get(base, 0)
        counters[base] = n + 1
        name = base if n == 0 else f"{base}_{n}"
        if name not in taken:
            taken.add(name)
            return name


def _inputs_of(layer: LayerSpec, rule: Rule, previous: str | None, name: str) -> tuple[str, ...]:
    if rule.arity == (0, 0):
        if layer.inputs:
            raise GraphError(f"{rule.name} '{name}' is an input and cannot take inputs")
        return ()
    if layer.inputs is not None:
        return layer.inputs
    if previous is None:
        raise GraphError(
            f"{rule.name} '{name}' (layer {layer.index}) has no input: start the spec with "
            "'input: [shape]' (or Input(...) in the compact form)"
        )
    return (previous,)


def _node(layer: LayerSpec, rule: Rule, name: str, inputs: tuple[str, ...]) -> Node:
    kwargs = dict(layer.kwargs)
    trainable = kwargs.pop("trainable", True)
    args = layer.args
    if rule.arity == (0, 0) and args and not isinstance(args[0], (list, tuple)):
        args = (tuple(args),)  # Input(28, 28, 1): the positional values are the shape
    place = describe(rule.name, name, layer.index, layer.location)
    try:
        bound = bind(rule.args, args, kwargs)
    except ArgumentError as err:
        raise LayerError(place, str(err)) from None
    if not isinstance(trainable, bool):
        raise LayerError(place, f"argument 'trainable' must be true or false, got {trainable!r}")
    return Node(name, rule, bound, inputs, trainable, layer.location, layer.index)


def _check_references(nodes: Sequence[Node]) -> None:
    names = {n.name for n in nodes}
    for node in nodes:
        lo, hi = node.rule.arity
        if not lo <= len(node.inputs) <= (hi if hi is not None else len(node.inputs)):
            expected = f"{lo}" if lo == hi else f"at least {lo}" if hi is None else f"{lo} to {hi}"
            plural = "" if expected == "1" else "s"
            raise GraphError(f"{node.describe()} takes {expected} input{plural}, got {len(node.inputs)}")
        for source in node.inputs:
            if source == node.name:
                raise GraphError(f"{node.describe()} takes its own output as input")
            if source not in names:
                raise GraphError(f"{node.describe()}: input '{source}' is not the name of any layer{suggest(source, sorted(names))}")
