"""What every source parses into before any rule is applied: a list of layer calls.

YAML/JSON specs and the compact form both produce a :class:`ModelSpec`; the graph builder
turns it into a :class:`~learnable.graph.Graph`. Nothing here knows a layer type.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..errors import Location, SpecError
from ..rules._args import Opaque

# Keyword arguments that place a layer in the graph rather than configure it.
GRAPH_KEYS = ("name", "inputs", "repeat", "shares")
REQUIRED = None  # a block parameter written without a default (``filters: ~``)


# Not frozen, like graph.Node: a frozen dataclass is five times slower to build, and a
# spec is made once and only read. Slots: a 100,000-layer spec holds 100,000 of them.
@dataclass(slots=True)
class LayerSpec:
    """One layer (or one use of a block) as written: its type name, positional and keyword
    arguments, and its place in the graph and in the source."""

    type: str
    args: tuple[Any, ...] = ()
    kwargs: dict[str, Any] = field(default_factory=dict)
    name: str | None = None
    inputs: tuple[str, ...] | None = None  # None: the previous layer's output
    location: Location | None = None
    index: int = 0  # 1-based position in the source's layer list
    repeat: Any = 1  # this many copies, one after the other, 0 for none (in a block, maybe "$n" until filled in)
    shares: str | None = None  # the name of a layer whose weights this one reuses

    def replace(self, **changes: Any) -> LayerSpec:
        # (not dataclasses.replace, which inspects the fields each time: twice as slow)
        return LayerSpec(**{**{name: getattr(self, name) for name in _LAYER_FIELDS}, **changes})


_LAYER_FIELDS = LayerSpec.__slots__


# Layers and block uses in a network, written or after repeats and blocks. The pipeline takes
# tens of microseconds and about a kilobyte per layer, so 200,000 stay within seconds and
# a few hundred MB (a million took 43 s and 1.6 GB, a server thread's worth; issue 19).
# Checked as early as each reader can: the layers a spec lists before each is read, a compact
# text's calls before it is parsed, repeats and blocks before they are expanded.
MAX_LAYERS = 200_000


def too_many(count: int, what: str) -> str:
    """The message for a spec past MAX_LAYERS: what it has, and the limit."""
    return f"the spec {what} {count:,} layers; at most {MAX_LAYERS:,} are counted"


@dataclass(frozen=True)
class BlockDef:
    """A named group of layers with parameters, defined once and used like a layer."""

    name: str
    params: dict[str, Any]  # name → default, or REQUIRED
    layers: tuple[LayerSpec, ...]
    inputs: tuple[str, ...] = ("input",)  # the names its layers use for the block's inputs
    output: str | None = None  # the layer whose output is the block's (default: the last)
    location: Location | None = None


@dataclass(frozen=True)
class ModelSpec:
    layers: tuple[LayerSpec, ...]
    name: str | None = None
    data_format: str | None = None  # None: not stated; the builder chooses
    convention: str | None = None  # likewise
    source: str | None = None  # a file name, for messages
    blocks: dict[str, BlockDef] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)  # the top-level ``params:``, for every layer and block


def layer_spec(type_name: str, args: tuple[Any, ...], kwargs: dict[str, Any], where: Location | None,
               index: int) -> LayerSpec:
    """A LayerSpec, with ``name``, ``inputs``, ``repeat`` and ``shares`` taken out of the
    keyword arguments (the caller's own new dict, not copied) and checked."""
    pop = kwargs.pop  # (unrolled: this runs for every layer of a spec)
    name, inputs, repeat, shares = pop("name", None), pop("inputs", None), pop("repeat", None), pop("shares", None)
    return LayerSpec(type_name, args, kwargs, checked_name(name, "name", where), checked_inputs(inputs, where), where,
                     index, _repeat(repeat, where), checked_name(shares, "shares", where))


def checked_name(value: Any, key: str, where: Location | None) -> str | None:
    if value is not None and (not isinstance(value, str) or not value.strip()):
        raise SpecError(f"{key} must be a non-empty string, got {value!r}", where)
    return value


def checked_inputs(inputs: Any, where: Location | None) -> tuple[str, ...] | None:
    if inputs is None:
        return None
    inputs = [inputs] if isinstance(inputs, (str, int)) else inputs
    if not isinstance(inputs, (list, tuple)) or not inputs or not all(_is_name(i) for i in inputs):
        raise SpecError(f"inputs must be a layer name or a list of them, got {inputs!r}", where)
    return tuple(str(i) for i in inputs)  # YAML reads a name such as 1 as a number


def _is_name(value: Any) -> bool:
    return isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool))


def _repeat(value: Any, where: Location | None) -> Any:
    if value is None:
        return 1
    if isinstance(value, str) and "$" in value or isinstance(value, Opaque):
        return value  # a block parameter, checked once the block fills it in
    return checked_repeat(value, where)


def checked_repeat(value: Any, where: Location | None) -> int:
    # 0 leaves the layer or block out (an optional one, such as a block parameter turns off)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 100_000:
        raise SpecError(f"repeat must be a whole number from 0 to 100,000, got {value!r}", where)
    return value
