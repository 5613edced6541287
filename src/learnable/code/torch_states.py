"""The second outputs of PyTorch's recurrent layers and cells, as forward() uses them.

``out, (h_n, c_n) = self.lstm(x)`` gives states of shape (num_layers·directions, batch,
size): the batch is their second axis, which learnable's tensors (batch first) do not hold.
So a state is a :class:`Stacked` value, and what forward() does with it is read:

- ``h_n[-1]``, ``h_n[-1, :, :]``, ``h_n.squeeze(0)`` (one layer): one layer's state, a
  tensor (batch, size). The last layer's hidden state is a piece of the output (its last
  step forward, its first step backward), so it is that piece of the output's node: for
  ``batch_first=True``, ``h_n[-1]`` is ``out[:, -1, :H]`` and, bidirectional, ``h_n[-2]`` and
  ``h_n[-1]`` are ``out[:, -1, :H]`` and ``out[:, 0, H:]``. A lower layer's state, or a cell
  state, is a tensor of its shape made apart (a Constant row), since no node holds it.
- ``h_n.permute(1, 0, 2)``, ``h_n.transpose(0, 1)``: the layers' states side by side,
  (batch, layers·directions, size), then reshaped as any tensor.
- ``len(h_n)``, ``h_n.shape``, ``h_n.size(0)``; iterating gives each layer's state.

Anything else done with a state is not followed (the counts then come from the
constructors, as the note says). An LSTMCell gives (h, c), and a max pooling asked for its
indices gives (output, indices), both of the output's shape.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import Location, SpecError
from .values import BATCH, Const, Tensor, Unknown

if TYPE_CHECKING:
    from .reader import Reader

_SAME = ("contiguous", "detach", "clone", "float", "to", "cpu", "cuda")


@dataclass(eq=False)
class Stacked:
    """A recurrent layer's states: ``count`` = layers × directions of ``size`` each."""

    output: Tensor  # the layer's output (batch_first), from which the last layer's states come
    count: int
    size: int
    directions: int
    name: str  # "h_n of lstm"
    in_output: bool  # hidden states (the output holds the last layer's); False for c_n


def states(layer: Any, output: Tensor, path: str) -> Any:
    """The second output of nn.RNN, nn.GRU or nn.LSTM called on a batch-first input."""
    a = layer.bound
    directions = 2 if a.get("bidirectional") else 1
    count = a.get("num_layers", 1) * directions
    hidden = a.get("proj_size") or a["hidden_size"]
    h = Stacked(output, count, hidden, directions, f"h_n of {path}", True)
    if layer.rule.name != "LSTM":
        return h
    return (h, Stacked(output, count, a["hidden_size"], directions, f"c_n of {path}", False))


def item(reader: Reader, state: Stacked, index: Any, where: Location) -> Any:
    """``h_n[i]`` (or ``h_n[i, :, :]``): one layer's and direction's state, (batch, size)."""
    if isinstance(index, tuple) and index and all(i == slice(None) for i in index[1:]):
        index = index[0]
    if not isinstance(index, int) or isinstance(index, bool):
        return Unknown(f"`{state.name}[{index!r}]` is not read (only one layer's state, h_n[i])", where)
    if not -state.count <= index < state.count:
        raise SpecError(f"index {index} is out of range for {state.name}, which holds {state.count} states", where)
    i = index % state.count
    layer, direction = divmod(i, state.directions)
    spelled = f"{state.name.split(' of ')[0]}[{index}]"
    if state.in_output and layer == state.count // state.directions - 1:
        size = state.size
        step = -1 if direction == 0 else 0  # the backward direction ends at the first step
        part = slice(None) if state.directions == 1 else slice(direction * size, (direction + 1) * size)
        key = (slice(None), step, part) if part != slice(None) else (slice(None), step)
        return reader.ops.index(state.output, key, spelled, where)
    return Const((state.size,), True, False, f"{spelled} of {state.name.split(' of ')[1]}")


def items(reader: Reader, state: Stacked, where: Location) -> list[Any]:
    return [item(reader, state, i, where) for i in range(state.count)]


def attribute(reader: Reader, state: Stacked, name: str, where: Location) -> Any:
    from .libraries import Method

    if name == "shape":
        return (state.count, BATCH, state.size)
    if name in _SAME:
        return Method(name, lambda a, k, w: state)
    if name == "size":
        return Method(name, lambda a, k, w: _size(state, a, w))
    if name == "squeeze":
        return Method(name, lambda a, k, w: _squeeze(reader, state, a, w))
    if name in ("permute", "transpose"):
        return Method(name, lambda a, k, w: _batch_first(reader, state, name, a, w))
    return Unknown(f"`{state.name}.{name}` is not read (a state's batch is its second axis)", where)


def _size(state: Stacked, args: list[Any], where: Location) -> Any:
    shape = (state.count, BATCH, state.size)
    if not args:
        return shape
    if not isinstance(args[0], int) or isinstance(args[0], bool) or not -3 <= args[0] < 3:
        raise SpecError(f"`{state.name}.size({args[0]!r})`: a state has 3 axes", where)
    return shape[args[0]]


def _squeeze(reader: Reader, state: Stacked, args: list[Any], where: Location) -> Any:
    if state.count == 1 and (not args or args[0] == 0):
        return item(reader, state, 0, where)
    return Unknown(f"`{state.name}.squeeze(...)` of {state.count} states", where)


def _batch_first(reader: Reader, state: Stacked, how: str, args: list[Any], where: Location) -> Any:
    """``h_n.permute(1, 0, 2)`` or ``h_n.transpose(0, 1)``: (batch, count, size)."""
    swaps = list(args[0]) if len(args) == 1 and isinstance(args[0], (list, tuple)) else list(args)
    if (how == "permute" and swaps != [1, 0, 2]) or (how == "transpose" and sorted(swaps) != [0, 1]):
        return Unknown(f"`{state.name}.{how}{tuple(swaps)}` is not read", where)
    spelled = f"{state.name.split(' of ')[0]}.{how}{tuple(swaps)}"
    parts = [reader.ops.unsqueeze(t, 1, spelled, where) for t in items(reader, state, where)]
    return parts[0] if len(parts) == 1 else reader.ops.concat(parts, 1, spelled, where)


def pair(output: Tensor, what: str, integer: bool = False) -> tuple[Tensor, Const]:
    """(output, a second tensor of its shape, made apart): an LSTMCell's (h, c), a max
    pooling's (output, indices)."""
    return output, Const(tuple(output.shape), output.batched, integer, what)


__all__ = ["Stacked", "attribute", "item", "items", "pair", "states"]
