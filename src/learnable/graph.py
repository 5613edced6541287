"""The network as a graph of layers, each bound to its rule, in an order shapes can flow.

Every source builds this same structure (specs in ``spec/build.py``; framework importers
alike) through :func:`make_node`, so everything goes through the same rules and engine.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .errors import ArgumentError, GraphError, LayerError, Location
from .report import KVCache, Stored
from .rules import CHANNELS_LAST, KERAS, Rule
from .rules._args import bind, suggest


# Not frozen: a frozen dataclass sets each field through object.__setattr__, five times
# slower, which a 100,000-layer spec feels. Nothing changes a Node once it is made.
@dataclass(slots=True)
class Node:
    name: str
    rule: Rule
    args: Mapping[str, Any]
    inputs: tuple[str, ...]
    trainable: bool = True
    location: Location | None = None
    index: int = 0
    block: str | None = None  # the innermost block use it belongs to, e.g. "conv_block_1"
    shares: str | None = None  # the layer whose weights it reuses (they count there, once)
    # From an importer: the shapes a traced model fed this layer (instead of wiring inputs),
    # and the framework's own class name when it differs from the rule's (a module with no rule).
    input_shapes: tuple[tuple[int | None, ...], ...] | None = None
    type_name: str | None = None
    note: str = ""  # what the source's reader assumed for this layer (a Keras 2 default), shown on its row
    # (k, n): each token uses k of the layer's n equal parts (a mixture's routed experts), so its
    # active parameters and MACs are k/n of the whole; None: all of it, as for any other layer.
    active: tuple[int, int] | None = None
    # What an attention layer keeps per token for later tokens (report.KVCache), as its spec's
    # ``kv_cache:`` declares it; and its tensors as the source stores them (report.Stored).
    kv_cache: KVCache | None = None
    stored: tuple[Stored, ...] = ()

    @property
    def display_type(self) -> str:
        return self.type_name or self.rule.name

    def describe(self) -> str:
        return describe(self.display_type, self.name, self.index, self.location)


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
class BlockInfo:
    """One use of a block: its path (``stage2/conv_block``), its block's name, the block use
    it sits in, and the layer whose output is its output."""

    name: str
    type: str
    parent: str | None
    output: str


@dataclass(frozen=True)
class Graph:
    nodes: tuple[Node, ...]  # in source order
    name: str | None = None
    data_format: str = CHANNELS_LAST
    convention: str = KERAS
    blocks: tuple[BlockInfo, ...] = ()
    notes: tuple[str, ...] = ()  # what the source's reader could not do, said once for the whole network
    by_name: dict[str, Node] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_name", {n.name: n for n in self.nodes})

    def topological_order(self) -> list[Node]:
        """Nodes so that every input comes before its consumers (Kahn's algorithm), or
        as written when they already are, as most specs are."""
        seen: set[str] = set()
        for node in self.nodes:
            if not seen.issuperset(node.inputs):
                break
            seen.add(node.name)
        else:
            return list(self.nodes)
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


def make_node(
    rule: Rule, name: str, inputs: tuple[str, ...], args: Sequence[Any] = (), kwargs: Mapping[str, Any] | None = None,
    *, trainable: Any = True, location: Location | None = None, index: int = 0, block: str | None = None,
    shares: str | None = None, input_shapes: tuple | None = None, type_name: str | None = None, note: str = "",
    active: Any = None, kv_cache: Any = None, stored: tuple[Stored, ...] = (),
) -> Node:
    """A node with its arguments bound and checked against the rule's signature."""
    try:
        bound = {} if rule.any_args else _bind(rule, args, kwargs or {})
    except ArgumentError as err:
        raise LayerError(describe(rule.name, name, index, location), str(err)) from None
    if not isinstance(trainable, bool):
        raise LayerError(describe(rule.name, name, index, location),
                         f"argument 'trainable' must be true or false, got {trainable!r}")
    if active is not None:
        active = _active(active, describe(rule.name, name, index, location))
    if kv_cache is not None:
        kv_cache = _kv_cache(kv_cache, describe(rule.name, name, index, location))
    return Node(name, rule, bound, inputs, trainable, location, index, block, shares, input_shapes, type_name, note,
                active, kv_cache, stored)


def _active(value: Any, place: str) -> tuple[int, int]:
    """``"2 of 8"``: each token goes through 2 of the layer's 8 equal parts."""
    used, _, parts = str(value).partition(" of ") if isinstance(value, str) else ("", "", "")
    if not (used.strip().isdigit() and parts.strip().isdigit()) or not 0 < int(used) <= int(parts):
        raise LayerError(place, f"argument 'active' must be 'k of n' with 0 < k ≤ n whole numbers (each token "
                         f"uses k of the layer's n experts), got {value!r}")
    return int(used), int(parts)


def _kv_cache(value: Any, place: str) -> KVCache | None:
    """``{tensors: 2, heads: 8, head_dim: 128, window: 4096}``: per token, keys and values of 8
    heads of 128 for the last 4,096 tokens; ``head_dim`` may be a list of sizes that add up
    (MLA's latent and rope parts, [512, 64]); a window of 0 or null is the whole context;
    ``query_heads`` and ``hidden`` (optional) say the attention's query heads and the model
    width, which the training activation estimate reads."""
    if isinstance(value, KVCache):
        return value
    known = {"tensors", "heads", "head_dim", "window", "query_heads", "hidden"}
    if not isinstance(value, Mapping) or not {"heads", "head_dim"} <= value.keys() <= known:
        raise LayerError(place, "argument 'kv_cache' must be a mapping of heads, head_dim and perhaps tensors "
                         f"(default 2: keys and values) and window, got {value!r}")
    dims = value["head_dim"] if isinstance(value["head_dim"], list) else [value["head_dim"]]
    window = value.get("window") or None
    extra = [value.get(k) for k in ("query_heads", "hidden")]
    sizes = [value.get("tensors", 2), value["heads"], *dims] + [n for n in (window, *extra) if n is not None]
    if not dims or any(isinstance(n, bool) or not isinstance(n, int) or n < 1 for n in sizes):
        raise LayerError(place, f"argument 'kv_cache' must hold positive whole numbers, got {value!r}")
    return KVCache(value.get("tensors", 2), value["heads"], tuple(dims), window, *extra)


# (rule, positional, keywords) → bound arguments: a deep spec repeats the same layers.
_BOUND: dict[tuple[int, str, str], Mapping[str, Any]] = {}
_BOUND_LIMIT = 10_000


def _bind(rule: Rule, args: Sequence[Any], kwargs: Mapping[str, Any]) -> Mapping[str, Any]:
    # repr, not the values: 1, 1.0 and True are equal keys but not the same argument. (Of
    # the arguments as given: a list and a tuple of the same values are two keys, which
    # only costs a second binding.)
    try:
        key = (id(rule), repr(args), repr(kwargs))
    except ValueError:  # an int too long for Python to print, from a dict: bound (and refused) uncached
        return bind(rule.args, args, kwargs, pack=rule.packs_positional)
    bound = _BOUND.get(key)
    if bound is None:
        bound = bind(rule.args, args, kwargs, pack=rule.packs_positional)
        if len(_BOUND) < _BOUND_LIMIT:
            _BOUND[key] = bound
    return bound


def check_references(nodes: Sequence[Node]) -> None:
    """Every input names a layer, not itself, and every layer has as many inputs as it takes."""
    names = {n.name for n in nodes}
    for node in nodes:
        lo, hi = node.rule.arity
        given = len(node.input_shapes) if node.input_shapes is not None else len(node.inputs)
        if given < lo or (hi is not None and given > hi):
            expected = f"{lo}" if lo == hi else f"at least {lo}" if hi is None else f"{lo} to {hi}"
            plural = "" if expected == "1" else "s"
            raise GraphError(f"{node.describe()} takes {expected} input{plural}, got {given}")
        if node.shares is not None and node.shares not in names:
            raise GraphError(f"{node.describe()}: shares '{node.shares}', which is not the name of any layer")
        for source in node.inputs:
            if source == node.name:
                raise GraphError(f"{node.describe()} takes its own output as input")
            if source not in names:
                raise GraphError(f"{node.describe()}: input '{source}' is not the name of any layer{suggest(source, sorted(names))}")
