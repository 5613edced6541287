"""A :class:`ModelSpec` (parsed from YAML, JSON or the compact form) → a :class:`Graph`.

Here the spec's conventions become graph facts: Keras 2's ``input_shape=`` on the first
layer makes an input, blocks and repeats are expanded (``expand.py``: names, inputs), and
the data format and the counting convention are settled.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

from ..errors import GraphError, LayerError, RuleError
from ..graph import Graph, Node, check_references, describe
from ..rules import CHANNELS_FIRST, CHANNELS_LAST, KERAS, PYTORCH, Rule, lookup
from ..rules._registry import frameworks_of
from .blocks import substitute
from .expand import Expander
from .model import BlockDef, LayerSpec, ModelSpec


def build_graph(spec: ModelSpec, data_format: str | None = None, convention: str | None = None) -> Graph:
    """Expand blocks and repeats, resolve every layer's rule and arguments, wire the inputs."""
    layers, blocks = with_params(spec)
    expander = Expander(blocks, flavour(spec))
    expander.run(_keras2_inputs(layers, blocks))
    nodes = expander.nodes
    check_references(nodes)
    rules = list({id(node.rule): node.rule for node in nodes}.values())  # each rule once
    fmt = data_format or spec.data_format or _stated_on_inputs(nodes) or _default_format(rules)
    convention = convention or spec.convention or _default_convention(rules)
    return Graph(tuple(nodes), name=spec.name, data_format=fmt, convention=convention,
                 blocks=tuple(expander.block_infos))


def with_params(spec: ModelSpec) -> tuple[list[LayerSpec], Mapping[str, BlockDef]]:
    """The top-level layers with the spec's ``params:`` filled in, and the blocks with them as
    defaults beneath their own (a block's parameter of the same name wins, and a use may
    give another value)."""
    if not spec.params:
        return list(spec.layers), spec.blocks
    layers = [substitute(layer, spec.params, "") for layer in spec.layers]
    blocks = {name: replace(block, params={**spec.params, **block.params}) for name, block in spec.blocks.items()}
    return layers, blocks


def layer_positions(spec: ModelSpec) -> dict[str, int]:
    """Where each top-level layer and block use stands in ``spec.layers``, by the name the
    report gives it: as written, or as Keras names it (``conv2d_1``). The copies of a repeated
    layer are one entry, known by its written name, or by its first copy's when it has none
    (``dense`` for dense, dense_1, dense_2). A network's one input is also ``input``, whatever
    its name (Keras names ``Input(28, 28, 1)`` input_layer)."""
    layers, blocks = with_params(spec)
    positions = {id(layer): i for i, layer in enumerate(layers)}
    # The first layer is rewritten when it states its input_shape=: found by its index then
    # (the input made for it is in no spec entry, and has none).
    by_index = {layer.index: i for i, layer in enumerate(layers) if layer.index}
    names = {layer.name: i for i, layer in enumerate(layers) if layer.name}
    expander = Expander(blocks, flavour(spec))
    planned, _ = expander.plan(_keras2_inputs(list(layers), blocks), "", 0)
    inputs, seen = [], set()
    for entry in planned:
        if not entry.name:  # left out (repeat: 0) with no name of its own: nothing to call it
            continue
        i = positions.get(id(entry.spec), by_index.get(entry.spec.index))
        if i is not None and (entry.spec.repeat == 1 or (entry.spec.name is None and i not in seen)):
            seen.add(i)
            names.setdefault(entry.name, i)
            if entry.rule is not None and entry.rule.is_input:
                inputs.append(i)
    if len(inputs) == 1:
        names.setdefault("input", inputs[0])
    return names


def flavour(spec: ModelSpec) -> str:
    """PyTorch when the spec uses names only PyTorch has (Conv2d, Linear) and none only
    Keras has (Conv2D, Dense): then Dropout and ReLU mean PyTorch's too."""
    names = dict.fromkeys([layer.type for layer in spec.layers] + [  # each name once: a deep spec repeats them
        layer.type for block in spec.blocks.values() for layer in block.layers])
    owners = [frameworks_of(n) for n in names if n not in spec.blocks and not _neutral(n)]
    torch_only = any(o == {PYTORCH} for o in owners)
    keras_only = any(o == {KERAS} for o in owners)
    return PYTORCH if torch_only and not keras_only else KERAS


def _neutral(type_name: str) -> bool:
    """Keras layers PyTorch writes as plain operations (Add, Concatenate, ZeroPadding2D,
    Input) say nothing about whose names a spec uses."""
    try:
        rule = lookup(type_name)
    except RuleError:
        return False
    return rule.is_input or (rule.framework == KERAS and rule.family in _NEUTRAL_FAMILIES)


SHAPE_KEYS = ("input_shape", "input_dim", "batch_input_shape", "batch_shape")  # Keras 2's ways to state it
_SHAPE_KEY_SET = frozenset(SHAPE_KEYS)


def _keras2_inputs(layers: list[LayerSpec], blocks: Mapping[str, object]) -> list[LayerSpec]:
    """Keras's other ways to give the input shape: ``Conv2D(32, 3, input_shape=(28, 28, 1))``
    on the first layer makes an input; ``InputLayer(input_shape=...)`` or
    ``Input(batch_shape=(None, 28))`` name the shape of an input."""
    implicit: LayerSpec | None = None
    for i, layer in enumerate(layers):
        if layer.type in blocks or _SHAPE_KEY_SET.isdisjoint(layer.kwargs):  # (most layers: one C call)
            continue
        rule = _resolve(layer)
        own = {arg.name for arg in rule.args}  # Embedding's input_dim is its vocabulary, not a shape
        given = [key for key in SHAPE_KEYS if key in layer.kwargs and key not in own]
        if not given:
            continue
        kwargs = dict(layer.kwargs)
        shape = _shape_from(kwargs, given)
        if rule.is_input:
            layers[i] = layer.replace(kwargs={**kwargs, "shape": shape})
        elif i > 0 or layer.inputs:
            raise LayerError(describe(rule.name, layer.name, layer.index, layer.location),
                             f"{given[0]} may only be given on the first layer of a network that has no input")
        else:
            layers[i] = layer.replace(kwargs=kwargs)
            implicit = LayerSpec("Input", kwargs={"shape": shape}, location=layer.location)
    return layers if implicit is None else [implicit, *layers]


def _shape_from(kwargs: dict, given: list[str]) -> object:
    values = {key: kwargs.pop(key) for key in given}
    for key in ("batch_input_shape", "batch_shape"):  # these include the batch axis
        if isinstance(values.get(key), (list, tuple)) and values[key]:
            return tuple(values[key])[1:]
    if values.get("input_shape") is not None:
        return values["input_shape"]
    dim = values.get("input_dim")
    return (dim,) if dim is not None else None


def _resolve(layer: LayerSpec) -> Rule:
    try:
        return lookup(layer.type)
    except RuleError as err:
        raise LayerError(describe(None, layer.name, layer.index, layer.location), str(err)) from None


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
