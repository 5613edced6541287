"""The nodes the code's data flow makes, as it is read, and the Graph of the model chosen.

Every layer call and tensor operation the reader follows becomes a node here at once, bound
to its rule and given its output shape by that rule, so that the code can go on to ask a
tensor's shape (``x.view(x.size(0), -1)``). Nothing is counted here: the Graph goes to the
engine like any spec's.

Nodes are kept in a pool until a model is chosen: a Keras functional model is what lies
between its inputs and outputs; a PyTorch module is everything its forward made. Then each
layer's weights count at its first node in the graph (later calls share them), and
freezing is read from the layer and the modules around it as the code left them.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from .. import engine
from .._names import Names
from ..errors import Location
from ..graph import BlockInfo, Graph, Node, make_node
from ..rules import Context, Rule, Shape
from .values import Tensor

# Layers and operations one model's code may make: real model code makes a few thousand (a
# 1001-layer ResNet, about 3,000); 100,000 take about 4 s and 400 MB to read.
MAX_NODES = 100_000
_SERIALS = itertools.count()


@dataclass(slots=True)
class _Pending:
    node: Node
    owner: Any  # the Layer or Param whose weights it holds (None: an operation without weights)
    trainable: Any = None  # an object whose .trainable says whether its weights train (else owner)
    weighted: bool = False  # it has weights (a layer without any, called again, shares nothing)


@dataclass(slots=True)
class _Block:
    name: str
    type: str
    parent: str | None
    module: Any
    output: str = ""
    nodes: int = 0


@dataclass
class Emitter:
    context: Context
    pending: list[_Pending] = field(default_factory=list)
    names: Names = field(default_factory=Names)
    blocks: list[_Block] = field(default_factory=list)
    stack: list[_Block] = field(default_factory=list)
    calls: dict[int, int] = field(default_factory=dict)  # a layer's or module's calls so far
    # this emitter among all (a parameter's nodes are kept per emitter; an id() could be reused)
    serial: int = field(default_factory=lambda: next(_SERIALS))

    def call_number(self, obj: Any) -> int:
        """1 for an object's first call here, 2 for its second, ..."""
        self.calls[id(obj)] = self.calls.get(id(obj), 0) + 1
        return self.calls[id(obj)]

    # ---- names ---------------------------------------------------------------------------

    def unique(self, wanted: str, again: str = " ({n})") -> str:
        """``wanted``, or with ``again`` (``" (2)"``, ``"_1"``) when it is taken."""
        return self.names.unique(wanted, again)

    @property
    def block(self) -> _Block | None:
        return self.stack[-1] if self.stack else None

    # ---- nodes ---------------------------------------------------------------------------

    def emit(self, rule: Rule, name: str, inputs: Sequence[Tensor], kwargs: dict[str, Any] | None = None, *,
             args: Sequence[Any] = (), where: Location | None = None, owner: Any = None, type_name: str | None = None,
             note: str = "", input_shapes: tuple[Shape, ...] | None = None, batched: bool | None = None,
             integer: bool = False, framework: str = "", trainable: Any = None, block: str | None = None) -> Tensor:
        """A node of ``rule`` on ``inputs``, named ``name`` (made unique by the caller), and
        the tensor it makes."""
        if len(self.pending) >= MAX_NODES:
            raise _too_many(where)
        open_block = self.block
        block = block if block is not None else open_block.name if open_block else None
        node = make_node(rule, name, tuple(t.node for t in inputs), args, kwargs or {}, location=where,
                         index=len(self.pending) + 1, block=block, input_shapes=input_shapes,
                         type_name=type_name if type_name != rule.name else None, note=note)
        shapes = list(input_shapes) if input_shapes is not None else [t.shape for t in inputs]
        inference = engine.infer(node, shapes, self.context)
        self.pending.append(_Pending(node, owner, trainable, bool(inference.weights)))
        for open_block in self.stack:
            open_block.nodes += 1
        if batched is None:
            batched = any(t.batched for t in inputs) if inputs else True
        return Tensor(name, tuple(inference.output_shape), batched, integer, framework)

    def open(self, name: str, type_name: str, module: Any) -> _Block:
        block = self.add_block(name, type_name, self.block.name if self.block else None, module)
        self.stack.append(block)
        return block

    def enter(self, block: _Block) -> None:
        """Run inside a block made beforehand (a PyTorch module's, from the module tree)."""
        self.stack.append(block)

    def add_block(self, name: str, type_name: str, parent: str | None, module: Any) -> _Block:
        block = _Block(name, type_name, parent, module)
        self.blocks.append(block)
        return block

    def close(self, block: _Block, output: Any) -> None:
        del self.stack[len(self.stack) - 1 - self.stack[::-1].index(block)]
        tensor = first_tensor(output)
        if tensor is not None:
            block.output = block.output or tensor.node

    # ---- the graph -----------------------------------------------------------------------

    def graph(self, *, outputs: Sequence[Tensor] | None, name: str | None, data_format: str, convention: str,
              frozen: Any = None) -> Graph:
        """The graph of the nodes that make ``outputs`` (None: every node), each layer's
        weights counted at its first node."""
        keep = None if outputs is None else self._kept(outputs)
        nodes: list[Node] = []
        owners: dict[int, str] = {}
        for pending in self.pending:
            node = pending.node
            if keep is not None and node.name not in keep:
                continue
            shares = None
            if pending.owner is not None and pending.weighted:
                first = owners.setdefault(id(pending.owner), node.name)
                shares = None if first == node.name else first
            nodes.append(replace(node, shares=shares, index=len(nodes) + 1,
                                 trainable=_trains(pending, frozen) and node.trainable))
        kept = {n.name for n in nodes}
        return Graph(tuple(nodes), name=name, data_format=data_format, convention=convention,
                     blocks=tuple(self._block_infos(nodes, kept)))

    def _kept(self, outputs: Sequence[Tensor]) -> set[str]:
        """The nodes that make ``outputs``, and all else inside a block one of them is in: a
        layer the code subclasses counts every weight it made, used or not (as Keras does)."""
        reachable = self.ancestors({t.node for t in outputs})
        parents = {b.name: b.parent for b in self.blocks}
        entered: set[str] = set()
        for pending in self.pending:
            block = pending.node.block if pending.node.name in reachable else None
            while block is not None and block not in entered:
                entered.add(block)
                block = parents.get(block)
        return reachable | {p.node.name for p in self.pending if p.node.block in entered}

    def ancestors(self, names: Iterable[str]) -> set[str]:
        """The nodes ``names`` are made from, and themselves."""
        by_name = {p.node.name: p.node for p in self.pending}
        seen: set[str] = set()
        stack = list(names)
        while stack:
            name = stack.pop()
            if name in seen or name not in by_name:
                continue
            seen.add(name)
            stack.extend(by_name[name].inputs)
        return seen

    def _block_infos(self, nodes: list[Node], kept: set[str]) -> Iterable[BlockInfo]:
        last: dict[str, str] = {}
        parents = {b.name: b.parent for b in self.blocks}
        for node in nodes:
            block = node.block
            while block is not None:
                last[block] = node.name
                block = parents.get(block)
        for block in self.blocks:
            if block.name in last:
                output = block.output if block.output in kept else last[block.name]
                yield BlockInfo(block.name, block.type, block.parent if block.parent in last else None, output)


def _trains(pending: _Pending, frozen: Any) -> bool:
    """Whether its weights train: its own flag (which a module's switch sets for every
    tensor under it, as it runs: torch_tensors, keras_layers), and the model's (a Keras
    model that is not trainable trains nothing)."""
    holder = pending.trainable if pending.trainable is not None else pending.owner
    if holder is not None and not getattr(holder, "trainable", True):
        return False
    return frozen is None or getattr(frozen, "trainable", True)


def first_tensor(value: Any) -> Tensor | None:
    """The first tensor in a value (a tensor, or a tuple, list or dict holding tensors)."""
    if isinstance(value, Tensor):
        return value
    items = value.values() if isinstance(value, dict) else value if isinstance(value, (list, tuple)) else ()
    for item in items:
        found = first_tensor(item)
        if found is not None:
            return found
    return None


def tensors_in(value: Any) -> list[Tensor]:
    """Every tensor in a value, in order."""
    if isinstance(value, Tensor):
        return [value]
    items = value.values() if isinstance(value, dict) else value if isinstance(value, (list, tuple)) else ()
    return [t for item in items for t in tensors_in(item)]


def _too_many(where: Location | None):
    from ..errors import SpecError

    return SpecError(f"the code makes more than {MAX_NODES:,} layers and operations; is a loop too long?", where)
