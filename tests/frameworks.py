"""Shared checks for the differential tests: one learnable row against one framework layer.

The framework object is the oracle. Each check compares every number a row carries:
params, the trainable split, buffers, each tensor's name and shape, the output shape, and
that the printed arithmetic evaluates to the numbers. Import lazily: these need Keras or
torch, and the tests that use them skip without.
"""

from __future__ import annotations

import math
import os
from typing import Any

from conftest import assert_formulas_hold

os.environ.setdefault("KERAS_BACKEND", "torch")


def keras_weights(layer: Any) -> list[tuple[str, tuple[int, ...], int, bool]]:
    """(name, shape, size, trainable) of every Keras weight, in Keras's order."""
    trainable = {id(w) for w in layer.trainable_weights}
    return [(w.name, tuple(w.shape), math.prod(w.shape), id(w) in trainable) for w in layer.weights]


def assert_row_matches_keras(row: Any, layer: Any, output_shape: tuple | None = None) -> None:
    """A row counted in the Keras convention against a built Keras layer."""
    where = f"{row.name} ({row.type}) vs Keras {layer.name} ({type(layer).__name__})"
    ours = [(w.name, w.shape, w.size, w.trainable) for w in row.weights]
    assert ours == keras_weights(layer), f"{where}: weights {ours} != Keras {keras_weights(layer)}"
    assert row.params == layer.count_params(), where
    frozen = sum(math.prod(w.shape) for w in layer.non_trainable_weights)
    assert (row.trainable, row.non_trainable, row.buffers) == (row.params - frozen, frozen, 0), where
    if output_shape is not None:
        assert row.output_shape == tuple(output_shape), f"{where}: {row.output_shape} != Keras {tuple(output_shape)}"
    assert_formulas_hold(row)


def torch_tensors(module: Any) -> tuple[list, list]:
    """([(name, shape, numel, requires_grad)] of parameters, [(name, shape, numel)] of buffers),
    as ``named_parameters()`` / ``named_buffers()`` list them (shared tensors once)."""
    params = [(n, tuple(p.shape), p.numel(), p.requires_grad) for n, p in module.named_parameters()]
    buffers = [(n, tuple(b.shape), b.numel()) for n, b in module.named_buffers()]
    return params, buffers


def assert_row_matches_torch(row: Any, module: Any, output_shape: tuple | None = None) -> None:
    """A row counted in the PyTorch convention against a built torch module."""
    where = f"{row.name} ({row.type}) vs torch {type(module).__name__}"
    params, buffers = torch_tensors(module)
    ours = [(w.name, w.shape, w.size, w.trainable) for w in row.weights if not w.buffer]
    assert ours == params, f"{where}: parameters {ours} != torch {params}"
    ours_b = [(w.name, w.shape, w.size) for w in row.weights if w.buffer]
    assert ours_b == buffers, f"{where}: buffers {ours_b} != torch {buffers}"
    assert row.params == sum(p[2] for p in params), where
    assert row.buffers == sum(b[2] for b in buffers), where
    assert row.trainable == sum(p[2] for p in params if p[3]), where
    if output_shape is not None:
        assert row.output_shape == tuple(output_shape), f"{where}: {row.output_shape} != torch {tuple(output_shape)}"
    assert_formulas_hold(row)


def keras_totals(model: Any) -> tuple[int, int, int]:
    """(total, trainable, non-trainable) as Keras counts a model."""
    trainable = sum(math.prod(w.shape) for w in model.trainable_weights)
    frozen = sum(math.prod(w.shape) for w in model.non_trainable_weights)
    return model.count_params(), trainable, frozen


def assert_totals_match_keras(report: Any, model: Any) -> None:
    ours = (report.total_params, report.trainable_params, report.non_trainable_params)
    assert ours == keras_totals(model), f"learnable {ours} != Keras {keras_totals(model)}"
