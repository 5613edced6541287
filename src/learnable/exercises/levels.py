"""The levels of a sheet: each draws one small network from constraints, never by trial.

A network is a list of ``(type, arguments)`` items, the spec's own form (``{Type: {...}}``),
so it goes through the normal spec path and the rules count it. Sizes are drawn from small
sets (channels from {1, 2, 3, 4, 8, 16, 32}, inputs of at most 32) and a window is chosen
only where it fits its input exactly: 'valid' when ``(n − k)`` divides by the stride, 'same'
when ``n`` does, so every shape is a positive whole number a student can reach by hand.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Item = tuple[str, dict[str, Any]]
CHANNELS = (1, 2, 3, 4, 8, 16, 32)
UNITS = (2, 3, 4, 8, 10, 16, 32)


@dataclass(frozen=True)
class Network:
    input: tuple[int, ...]
    items: tuple[Item, ...]
    asks: tuple[str, ...]  # question kinds this level asks, in order (questions.py)
    conventions: bool = False  # ask a layer's count in both conventions (Keras and PyTorch)
    extra: dict[str, Any] = field(default_factory=dict)

    def spec(self, name: str) -> dict[str, Any]:
        return {"name": name, "input": list(self.input), "layers": [{t: dict(a)} for t, a in self.items]}


def _dense(rng: random.Random) -> Network:
    items = [("Dense", {"units": rng.choice(UNITS), "use_bias": rng.random() > 0.15})
             for _ in range(rng.randint(2, 3))]
    return Network((rng.choice((2, 3, 4, 8, 16, 32)),), tuple(items), ("params", "params", "total", "macs"))


def _window(rng: random.Random, n: int, kernels: tuple[int, ...]) -> tuple[dict[str, Any], int] | None:
    """A kernel, stride and padding that fit ``n`` exactly, and the size they give."""
    options = []
    for k in kernels:
        for s in (1, 2):
            if n > k and (n - k) % s == 0 and (n - k) // s + 1 >= 2:
                options.append(({"kernel_size": k, "strides": s, "padding": "valid"}, (n - k) // s + 1))
            if n % s == 0 and n // s >= 2:
                options.append(({"kernel_size": k, "strides": s, "padding": "same"}, n // s))
    return rng.choice(options) if options else None


def _convs(rng: random.Random, n: int, count: int) -> tuple[list[Item], int]:
    items: list[Item] = []
    for _ in range(count):
        window, n = _window(rng, n, (1, 3, 5))
        items.append(("Conv2D", {"filters": rng.choice(CHANNELS[1:6]), **window}))
    return items, n


def _conv(rng: random.Random) -> Network:
    n = rng.choice(range(8, 33, 2))
    items, _ = _convs(rng, n, 2)
    items += [("Flatten", {}), ("Dense", {"units": rng.choice((2, 3, 4, 10))})]
    return Network((n, n, rng.choice((1, 3))), tuple(items),
                   ("params", "output_shape", "output_shape", "params", "total", "macs"))


def _pooling(rng: random.Random) -> Network:
    n = rng.choice(range(8, 33, 4))
    conv = ("Conv2D", {"filters": rng.choice(CHANNELS[1:6]), "kernel_size": 3, "padding": rng.choice(("same", "valid"))})
    n = n if conv[1]["padding"] == "same" else n - 2
    pool = (rng.choice(("MaxPooling2D", "AveragePooling2D")), {"pool_size": 2})  # n is even either way
    items = [conv, pool, ("Flatten", {}), ("Dense", {"units": rng.choice((2, 4, 10))})]
    return Network((n if conv[1]["padding"] == "same" else n + 2,) * 2 + (rng.choice((1, 3)),), tuple(items),
                   ("params", "output_shape", "output_shape", "params", "no_params", "total"))


def _branches(rng: random.Random) -> Network:
    n, f = rng.choice((4, 6, 8, 12, 16)), rng.choice(CHANNELS[1:6])
    merge = rng.choice(("Add", "Concatenate"))
    items = [("Conv2D", {"filters": f, "kernel_size": 3, "padding": "same", "name": "wide", "inputs": ["input"]}),
             ("Conv2D", {"filters": f, "kernel_size": 1, "name": "narrow", "inputs": ["input"]}),
             (merge, {"inputs": ["wide", "narrow"], "name": "merge"}),
             ("BatchNormalization", {"name": "bn"}),
             ("GlobalAveragePooling2D", {"name": "gap"}),
             ("Dense", {"units": rng.choice((2, 4, 10)), "name": "head"})]
    return Network((n, n, rng.choice((1, 3))), tuple(items),
                   ("params", "output_shape", "params", "params", "no_params", "total"), conventions=True)


def _recurrent(rng: random.Random) -> Network:
    kind = rng.choice(("SimpleRNN", "LSTM", "GRU"))
    units = rng.choice((2, 3, 4, 8, 16))
    items = [(kind, {"units": units}), ("Dense", {"units": rng.choice((1, 2, 4, 10))})]
    if rng.random() < 0.5:
        items.insert(0, (kind, {"units": rng.choice((2, 4, 8)), "return_sequences": True}))
    return Network((rng.choice((4, 5, 8, 10, 16)), rng.choice((2, 3, 4, 8))), tuple(items),
                   ("params", "output_shape", "params", "total"))


def _attention(rng: random.Random) -> Network:
    d = rng.choice((4, 8, 16))
    items = [("MultiHeadAttention", {"num_heads": rng.choice((1, 2, 4)), "key_dim": rng.choice((2, 4, 8))}),
             ("LayerNormalization", {}), ("Dense", {"units": rng.choice((2, 4, 8))})]
    return Network((rng.choice((4, 6, 8, 10)), d), tuple(items), ("params", "output_shape", "params", "total"))


LEVELS: dict[str, Callable[[random.Random], Network]] = {
    "dense": _dense, "conv": _conv, "pooling": _pooling, "branches": _branches,
    "recurrent": _recurrent, "attention": _attention,
}
DESCRIPTIONS = {
    "dense": "dense layers only", "conv": "convolutions with padding and strides",
    "pooling": "pooling and flatten", "branches": "branches, BatchNorm and the Keras vs PyTorch conventions",
    "recurrent": "SimpleRNN, LSTM and GRU", "attention": "multi-head attention",
}
