"""A Keras model's ``layers`` as Keras lists them, and its ``trainable`` switch as Keras sets it.

A functional model's ``layers`` come from keras.src.ops.function.map_graph: its operations
ordered by depth (the longest path from the operation to an output, deepest first), ties
broken by the order in which a depth-first walk from the outputs first meets them; the
layers among them, InputLayers included. A model called inside it is one operation. So
``model.layers[1]`` and ``for layer in model.layers[:-3]`` reach the layers Keras would.

``layer.trainable = False`` sets the flag of every weight the layer made trainable, and of
every layer inside it, at once (Keras's Layer.trainable setter); a model's trainable
weights are then those whose flag is set, unless the model itself is not trainable. So
``base.trainable = False`` followed by ``base.layers[-1].trainable = True`` trains that
last layer, as in Keras.
"""

from __future__ import annotations

from typing import Any

from .emit import Emitter, tensors_in
from .values import Layer, Module, Param


def functional_layers(emitter: Emitter, model: Module) -> list[Any]:
    units, parents = _units(emitter)
    objects = _objects(emitter)

    def op(unit: str) -> Any:  # a layer called twice is one operation
        return id(objects[unit]) if unit in objects else unit

    inputs = [units.get(t.node, t.node) for t in tensors_in(model.inputs)]
    outputs = [units.get(t.node, t.node) for t in tensors_in(model.outputs)]
    order, visits = _walk(outputs, parents, set(inputs))
    index: dict[Any, int] = {}
    for unit in visits:
        index.setdefault(op(unit), len(index))
    met = set(visits)
    depth: dict[str, int] = {}
    op_depth: dict[Any, int] = {}
    for unit in reversed(order):
        d = max(depth.setdefault(unit, 0), op_depth.get(op(unit), 0))
        op_depth[op(unit)] = depth[unit] = d
        for parent in parents.get(unit, ()):
            if parent in met:
                depth[parent] = max(d + 1, depth.get(parent, 0))
    for unit in inputs:  # an input no output depends on is still the model's
        if op(unit) not in op_depth:
            op_depth[op(unit)], index[op(unit)] = 0, -1
    by_op = {op(unit): obj for unit, obj in objects.items()}
    ops = sorted(op_depth, key=lambda key: (-op_depth[key], index[key]))
    return [by_op[key] for key in ops if key in by_op]


def _units(emitter: Emitter) -> tuple[dict[str, str], dict[str, list[str]]]:
    """Each node's unit (itself, or the outermost block it was made in: a model called as
    one operation), and each unit's parent units, in the order its nodes take them."""
    blocks = {b.name: b for b in emitter.blocks}
    units: dict[str, str] = {}
    for pending in emitter.pending:
        block = pending.node.block
        while block is not None and blocks[block].parent is not None:
            block = blocks[block].parent
        units[pending.node.name] = block or pending.node.name
    parents: dict[str, list[str]] = {}
    for pending in emitter.pending:
        unit = units[pending.node.name]
        found = parents.setdefault(unit, [])
        for source in pending.node.inputs:
            parent = units.get(source, source)
            if parent != unit and parent not in found:
                found.append(parent)
    return units, parents


def _walk(outputs: list[str], parents: dict[str, list[str]], inputs: set[str]) -> tuple[list[str], list[str]]:
    """Keras's _build_map, without recursion: the units each after its parents, and the
    units in the order the depth-first walk from the outputs first meets them."""
    order: list[str] = []
    visits: list[str] = []
    met: set[str] = set()
    for output in outputs:
        stack = [(output, False)]
        while stack:
            unit, finished = stack.pop()
            if finished:
                order.append(unit)
                continue
            if unit in met:
                continue
            met.add(unit)
            visits.append(unit)
            stack.append((unit, True))
            if unit not in inputs:
                stack.extend((p, False) for p in reversed(parents.get(unit, ())) if p not in met)
    return order, visits


def _objects(emitter: Emitter) -> dict[str, Any]:
    """Each unit's layer or model (an operation without one, keras.ops.add, is no layer)."""
    found: dict[str, Any] = {b.name: b.module for b in emitter.blocks if b.parent is None}
    for pending in emitter.pending:
        if pending.node.block is None and isinstance(pending.owner, (Layer, Module)):
            found[pending.node.name] = pending.owner
    return found


def set_trainable(value: Any, flag: bool, layers_of: Any, seen: set[int] | None = None) -> None:
    """``layer.trainable = flag``: the layer's own weights (those it made trainable) and every
    layer inside it."""
    seen = set() if seen is None else seen
    if id(value) in seen:
        return
    seen.add(id(value))
    if isinstance(value, (Layer, Module)):
        value.trainable = flag
    if isinstance(value, Module):
        for param in value.params.values():
            if not param.fixed:
                param.trainable = flag
        for child in layers_of(value):
            if isinstance(child, (Layer, Module)):
                set_trainable(child, flag, layers_of, seen)


__all__ = ["Param", "functional_layers", "set_trainable"]
