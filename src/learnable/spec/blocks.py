"""Blocks: a named group of layers with parameters, defined once and used like a layer.

    blocks:
      identity_block:
        params: {filters: ~, kernel_size: 3}       # ~ (null): no default, must be given
        layers:
          - Conv2D: {filters: $filters, kernel_size: 1}
          - Conv2D: {filters: $filters, kernel_size: $kernel_size, padding: same}
          - Conv2D: {filters: "$filters * 4", kernel_size: 1, name: last}
          - Add: {inputs: [input, last]}
    layers:
      - identity_block: {filters: 64, repeat: 2}

Inside a block ``input`` (or the names listed under ``inputs:``) is what the block is
given, and its output is its last layer's (or the one named by ``output:``). A parameter
is ``$name`` in a YAML value, or a bare name in a call string (``"Conv2D(filters * 2, 3)"``);
expressions use integer arithmetic only. This module parses definitions and fills in
parameters; ``build.py`` expands the uses into layers.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ..errors import LearnableError, Location, SpecError
from ..rules import lookup
from ..rules._args import LayerCall, Opaque
from ..rules._registry import frameworks_of
from ._literals import evaluate
from .model import REQUIRED, BlockDef, LayerSpec, checked_inputs, checked_name, checked_repeat

_BLOCK_KEYS = ("params", "inputs", "output", "layers", "description")
_REFERENCE = re.compile(r"\$([A-Za-z_]\w*)")


def parse_blocks(data: Any, source: str | None, parse_items) -> dict[str, BlockDef]:
    """The ``blocks:`` mapping → BlockDefs. ``parse_items(items, key_path)`` reads a layer list."""
    where = Location(source)
    if data is None:
        return {}
    if not isinstance(data, Mapping):
        raise SpecError("'blocks:' must map each block's name to its definition", where)
    return {str(name): _block(str(name), body, where, parse_items) for name, body in data.items()}


def _block(name: str, body: Any, where: Location, parse_items) -> BlockDef:
    if not isinstance(body, Mapping) or not isinstance(body.get("layers"), list) or not body["layers"]:
        raise SpecError(f"block '{name}' must have a non-empty 'layers:' list", where)
    unknown = [k for k in body if k not in _BLOCK_KEYS]
    if unknown:
        raise SpecError(f"block '{name}' has an unknown key '{unknown[0]}'; its keys are {', '.join(_BLOCK_KEYS)}", where)
    params = body.get("params") or {}
    if not isinstance(params, Mapping) or not all(isinstance(k, str) for k in params):
        raise SpecError(f"block '{name}': 'params:' must map each parameter to its default (~ for none)", where)
    inputs = body.get("inputs", ["input"])
    if isinstance(inputs, str):
        inputs = [inputs]
    if not isinstance(inputs, list) or not inputs or not all(isinstance(i, str) for i in inputs):
        raise SpecError(f"block '{name}': 'inputs:' must be a list of names", where)
    layers = tuple(parse_items(body["layers"], ("blocks", name, "layers")))
    _not_a_layer_type(name, layers[0].location or where)
    return BlockDef(name, dict(params), layers, tuple(inputs), body.get("output"), where)


def _not_a_layer_type(name: str, first: Location) -> None:
    """A use is a block's when the block has its name, so a block named ``Dense`` would
    silently replace every Dense layer of the spec: refused. Only a type's own spelling is
    (``attention`` stays a fine block name beside the Attention layer; a layer written
    ``attention`` then means the block, as the block's name is written exactly)."""
    if not frameworks_of(name):  # not a type's name (asked before lookup, whose miss spells out suggestions)
        return
    try:
        rule = lookup(name)
    except LearnableError:
        return
    if name.rpartition(".")[2] not in (rule.name, *rule.aliases):
        return
    at = f" (its layers from {first})" if str(first) else ""
    raise SpecError(f"block '{name}'{at} has the name of the layer type {rule.name}: it would replace that layer "
                    f"wherever the spec uses it; rename the block (e.g. '{name}_block')")


def bind_params(block: BlockDef, given: Mapping[str, Any], where: Location | None) -> dict[str, Any]:
    """The block's parameters for one use: the given values over the defaults."""
    unknown = [k for k in given if k not in block.params]
    if unknown:
        known = ", ".join(block.params) or "none"
        raise SpecError(f"block '{block.name}' has no parameter '{unknown[0]}' (its parameters: {known})", where)
    values = {**block.params, **given}
    missing = [k for k, v in values.items() if v is REQUIRED]
    if missing:
        raise SpecError(f"block '{block.name}' needs a value for its parameter '{missing[0]}'", where)
    return values


def substitute(layer: LayerSpec, params: Mapping[str, Any], block: str) -> LayerSpec:
    """A block's layer with its parameters filled in."""
    fill, where = _Filler(params, block, layer.location), layer.location
    # A name, an input or a shared layer filled in from a parameter ("$filters") is checked
    # as a written one is: a name is text (the fuzzer found "name: $filters" reaching the
    # planner as the number 16).
    return layer.replace(
        args=tuple(fill(v) for v in layer.args),
        kwargs={k: fill(v) for k, v in layer.kwargs.items()},
        name=checked_name(fill(layer.name), "name", where) if layer.name else None,
        inputs=checked_inputs(tuple(fill(i) for i in layer.inputs), where) if layer.inputs else layer.inputs,
        shares=checked_name(fill(layer.shares), "shares", where) if layer.shares else None,
        repeat=checked_repeat(fill(layer.repeat), where),
    )


class _Filler:
    def __init__(self, params: Mapping[str, Any], block: str, where: Location | None):
        self.params, self.block, self.where = params, block, where

    def __call__(self, value: Any) -> Any:
        if isinstance(value, str) and "$" in value:
            return self._text(value)
        if isinstance(value, Opaque):  # from a call string: Conv2D(filters * 2, 3)
            return evaluate(value.source, self.where, self.params)
        if isinstance(value, LayerCall):
            return LayerCall(value.type, tuple(self(v) for v in value.args),
                             tuple((k, self(v)) for k, v in value.kwargs))
        if isinstance(value, list):
            return [self(v) for v in value]
        if isinstance(value, tuple):
            return tuple(self(v) for v in value)
        if isinstance(value, Mapping):
            return {k: self(v) for k, v in value.items()}
        return value

    def _text(self, text: str) -> Any:
        for name in _REFERENCE.findall(text):
            if name not in self.params:
                owner = f"block '{self.block}'" if self.block else "the spec's 'params:'"
                raise SpecError(f"{owner} has no parameter '{name}' (in {text!r})", self.where)
        whole = _REFERENCE.fullmatch(text.strip())
        if whole:  # "$filters": the value itself, whatever its type
            return self.params[whole.group(1)]
        value = evaluate(_REFERENCE.sub(r"\1", text), self.where, self.params)
        if not isinstance(value, Opaque):
            return value  # "$filters * 4"
        return _REFERENCE.sub(lambda m: str(self.params[m.group(1)]), text)  # "stage$n" → "stage2"
