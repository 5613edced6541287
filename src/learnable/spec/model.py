"""What every source parses into before any rule is applied: a list of layer calls.

YAML/JSON specs and the compact form both produce a :class:`ModelSpec`; the graph builder
turns it into a :class:`~learnable.graph.Graph`. Nothing here knows a layer type.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..errors import Location, SpecError

# Keyword arguments that place a layer in the graph rather than configure it.
GRAPH_KEYS = ("name", "inputs")


@dataclass(frozen=True)
class LayerSpec:
    """One layer as written: its type name, positional and keyword arguments, its place."""

    type: str
    args: tuple[Any, ...] = ()
    kwargs: dict[str, Any] = field(default_factory=dict)
    name: str | None = None
    inputs: tuple[str, ...] | None = None  # None: the previous layer's output
    location: Location | None = None
    index: int = 0  # 1-based position in the source's layer list


@dataclass(frozen=True)
class ModelSpec:
    layers: tuple[LayerSpec, ...]
    name: str | None = None
    data_format: str | None = None  # None: not stated; the builder chooses
    convention: str | None = None  # likewise
    source: str | None = None  # a file name, for messages


def split_graph_keys(kwargs: dict[str, Any], where: Location | None) -> tuple[str | None, tuple[str, ...] | None]:
    """Take ``name`` and ``inputs`` out of a layer's keyword arguments and check them."""
    name, inputs = (kwargs.pop(key, None) for key in GRAPH_KEYS)
    if name is not None and (not isinstance(name, str) or not name.strip()):
        raise SpecError(f"name must be a non-empty string, got {name!r}", where)
    if inputs is None:
        return name, None
    inputs = [inputs] if isinstance(inputs, (str, int)) else inputs
    if not isinstance(inputs, (list, tuple)) or not inputs or not all(_is_name(i) for i in inputs):
        raise SpecError(f"inputs must be a layer name or a list of them, got {inputs!r}", where)
    return name, tuple(str(i) for i in inputs)  # YAML reads a name such as 1 as a number


def _is_name(value: Any) -> bool:
    return isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool))
