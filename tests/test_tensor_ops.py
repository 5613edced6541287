"""Tensor operations found in forward()/call(): Slice, Select, Reduce, MatMul, Divide and
Elementwise (Parameter: tests/test_parameter.py).

(1) Tables whose expected values are hand arithmetic; (2) differential tests that run the
real op (torch, keras.ops) on zeros and compare shapes: on the example shapes with a batch of
2 in front, ``shape[1:]``, where the batched op means the same (and, for MatMul, on the
example shapes as given, which is what the rule applies); (3) MatMul's MACs against torch's
own FLOP counter. No expected number is copied from learnable's output.
"""

from __future__ import annotations

import random

import pytest
from conftest import assert_formulas_hold, evaluate_formula

import learnable


def last(source, **options):
    return learnable.count(source, **options).layers[-1]


def on(inputs: list, layer: str, **kwargs):
    """The row of one layer on named inputs x0, x1, ..."""
    names = [f"x{i}" for i in range(len(inputs))]
    spec = {"inputs": {n: list(s) for n, s in zip(names, inputs)}, "layers": [{layer: {**kwargs, "inputs": names}}]}
    return last(spec)


# ---- Slice ----------------------------------------------------------------------------------------

SLICES = [  # input, kwargs, output shape as arithmetic
    ((197, 768), {"axis": 1, "start": 1, "stop": 5}, (5 - 1, 768)),
    ((197, 768), {"axis": 1, "start": 1}, (197 - 1, 768)),
    ((8, 32), {"axis": -1, "stop": 16}, (8, 16)),
    ((8, 32), {"axis": 2, "start": -4}, (8, 32 - 28)),
    ((10, 3), {"axis": 1, "start": 2, "stop": 100}, (10 - 2, 3)),  # clamped to the size
    ((10, 3), {"axis": 1, "step": 3}, (-(-10 // 3), 3)),
    ((10, 3), {"axis": 1, "start": 1, "stop": 8, "step": 2}, (-(-(8 - 1) // 2), 3)),
    ((10, 3), {"axis": 1, "start": -100, "stop": 3}, (3, 3)),
    ((None, 16), {"axis": 1, "stop": 16}, (16, 16)),  # an unknown size: the slice's own numbers
    ((None, 16), {"axis": 1, "start": 2, "stop": 10}, (10 - 2, 16)),
    ((None, 16), {"axis": 1, "start": -16}, (16, 16)),
    ((None, 16), {"axis": 1, "start": -5, "stop": -1, "step": 2}, (-(-(5 - 1) // 2), 16)),
    ((None, 16), {"axis": 1, "start": 1}, (None, 16)),  # from the start to the end: unknown
    ((None, 16), {"axis": 1, "start": -3, "stop": 5}, (None, 16)),
]


@pytest.mark.parametrize("shape, kwargs, expected", SLICES, ids=[str(s[:2]) for s in SLICES])
def test_slice_rows(shape, kwargs, expected):
    row = on([shape], "Slice", **kwargs)
    assert row.output_shape == expected
    assert (row.params, row.macs, row.weights) == (0, 0, ())
    assert_formulas_hold(row)


def test_slice_shows_its_arithmetic():
    assert on([(197, 768)], "Slice", axis=1, start=1, stop=5).shape_formula == "axis 1: 5 − 1 = 4"
    assert on([(10, 3)], "Slice", axis=1, start=1, stop=8, step=2).shape_formula == "axis 1: ⌈(8 − 1)/2⌉ = 4"
    assert on([(10, 3)], "Slice", axis=-2, start=-4).shape_formula == "axis -2: 10 − 6 = 4"
    assert on([(10, 3)], "Slice", axis=1, stop=4).shape_formula == ""  # 4 needs no arithmetic


@pytest.mark.parametrize("kwargs, message", [
    ({"axis": 1, "start": 5, "stop": 3}, "leaves nothing"),
    ({"axis": 1, "start": 20}, "leaves nothing"),
    ({"axis": 0, "stop": 1}, "batch axis"),
    ({"axis": 3, "stop": 1}, "out of range"),
    ({"axis": 1, "step": 0}, "positive"),
    ({"axis": 1, "step": -1}, "positive"),
])
def test_slice_refusals(kwargs, message):
    with pytest.raises(learnable.LearnableError, match=message):
        on([(10, 3)], "Slice", **kwargs)
    with pytest.raises(learnable.LearnableError, match="leaves nothing"):
        on([(None, 3)], "Slice", axis=1, start=-2, stop=-4)


def _torch_axis(axis: int, rank: int) -> int:
    return axis if axis > 0 else rank + 1 + axis


def _random_slice(rng: random.Random) -> tuple[tuple, dict]:
    shape = tuple(rng.randint(1, 7) for _ in range(rng.randint(1, 4)))
    axis = rng.choice([*range(1, len(shape) + 1), *range(-len(shape), 0)])
    bound = [None, *range(-9, 10)]
    step = rng.choice([1, 1, 2, 3])
    return shape, {"axis": axis, "start": rng.choice(bound), "stop": rng.choice(bound), "step": step}


@pytest.mark.frameworks
def test_slice_matches_torch_indexing():
    """x[:, ..., start:stop:step] on zeros of batch 2: torch decides, and an empty result is refused."""
    torch = pytest.importorskip("torch")
    rng, outcomes = random.Random("slice"), set()
    for _ in range(300):
        shape, kw = _random_slice(rng)
        axis = _torch_axis(kw["axis"], len(shape))
        out = torch.zeros(2, *shape)[(slice(None),) * axis + (slice(kw["start"], kw["stop"], kw["step"]),)]
        if out.shape[axis] == 0:
            with pytest.raises(learnable.LearnableError, match="leaves nothing"):
                on([shape], "Slice", **kw)
            outcomes.add("empty")
            continue
        row = on([shape], "Slice", **kw)
        assert row.output_shape == tuple(out.shape[1:]), (shape, kw)
        assert_formulas_hold(row)
        outcomes.add("built")
        if (kw["start"] is None or kw["start"] >= 0) == (kw["stop"] is not None and kw["stop"] >= 0):
            # start and stop from the same end: on an unknown size, the size torch gives
            # whenever the axis reaches as far as the slice does
            unknown = tuple(None if i == axis - 1 else d for i, d in enumerate(shape))
            reach = max(abs(b) for b in (kw["start"], kw["stop"]) if b is not None)
            if shape[axis - 1] >= reach:
                assert on([unknown], "Slice", **kw).output_shape[axis - 1] == out.shape[axis], (shape, kw)
    assert outcomes == {"empty", "built"}


@pytest.mark.frameworks
def test_split_chunk_and_narrow_pieces_are_slices():
    torch = pytest.importorskip("torch")
    x = torch.zeros(2, 10, 6)
    for piece_size in (1, 3, 4, 10):
        for i, piece in enumerate(torch.split(x, piece_size, dim=1)):
            row = on([(10, 6)], "Slice", axis=1, start=i * piece_size, stop=(i + 1) * piece_size)
            assert row.output_shape == tuple(piece.shape[1:])
    for chunks in (2, 3, 4):
        size = -(-6 // chunks)  # torch.chunk's piece size
        for i, piece in enumerate(torch.chunk(x, chunks, dim=-1)):
            row = on([(10, 6)], "Slice", axis=-1, start=i * size, stop=(i + 1) * size)
            assert row.output_shape == tuple(piece.shape[1:])
    for start, length in ((0, 10), (3, 4), (9, 1)):
        narrowed = torch.narrow(x, 1, start, length)
        row = on([(10, 6)], "Slice", axis=1, start=start, stop=start + length)
        assert row.output_shape == tuple(narrowed.shape[1:])


@pytest.mark.frameworks
def test_slice_matches_keras_split():
    keras = pytest.importorskip("keras")
    np = pytest.importorskip("numpy")
    pieces = keras.ops.split(np.zeros((2, 10, 3)), [1, 5], axis=1)
    for (start, stop), piece in zip([(None, 1), (1, 5), (5, None)], pieces):
        assert on([(10, 3)], "Slice", axis=1, start=start, stop=stop).output_shape == tuple(piece.shape[1:])


# ---- Select ---------------------------------------------------------------------------------------


def test_select_rows():
    assert on([(197, 768)], "Select", axis=1, index=0).output_shape == (768,)
    assert on([(197, 768)], "Select", axis=1, index=-1).output_shape == (768,)
    assert on([(4, 5, 6)], "Select", axis=-1, index=5).output_shape == (4, 5)
    assert on([(None, 6)], "Select", axis=1, index=100).output_shape == (6,)  # unknown size: not checked
    assert on([(6,)], "Select", axis=1, index=2).output_shape == ()  # one value per example
    with pytest.raises(learnable.LearnableError, match="index 5 is out of range for axis 1 of size 5"):
        on([(5, 3)], "Select", axis=1, index=5)
    with pytest.raises(learnable.LearnableError, match="index -6 is out of range"):
        on([(5, 3)], "Select", axis=1, index=-6)
    with pytest.raises(learnable.LearnableError, match="batch axis"):
        on([(5, 3)], "Select", axis=-3, index=0)


@pytest.mark.frameworks
def test_select_matches_torch_and_keras():
    torch = pytest.importorskip("torch")
    keras = pytest.importorskip("keras")
    np = pytest.importorskip("numpy")
    rng, outcomes = random.Random("select"), set()
    for _ in range(120):
        shape = tuple(rng.randint(1, 5) for _ in range(rng.randint(1, 4)))
        axis = rng.choice([*range(1, len(shape) + 1), *range(-len(shape), 0)])
        index = rng.randint(-6, 6)
        try:
            out = torch.select(torch.zeros(2, *shape), axis, index)
        except IndexError:
            with pytest.raises(learnable.LearnableError, match="out of range"):
                on([shape], "Select", axis=axis, index=index)
            outcomes.add("rejected")
            continue
        assert on([shape], "Select", axis=axis, index=index).output_shape == tuple(out.shape[1:])
        full = (slice(None),) * _torch_axis(axis, len(shape)) + (index,)
        assert tuple(torch.zeros(2, *shape)[full].shape) == tuple(out.shape)  # x[:, index] is the same
        taken = keras.ops.take(np.zeros((2, *shape)), index, axis=axis)
        assert tuple(taken.shape) == tuple(out.shape)
        outcomes.add("built")
    assert outcomes == {"built", "rejected"}


# ---- Reduce ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("kwargs, shape, macs", [
    ({"axis": [1, 2]}, (16,), 8 * 8 * 16),  # an input value accumulated once each
    ({"axis": [1, 2], "keepdims": True}, (1, 1, 16), 8 * 8 * 16),
    ({"axis": -1, "op": "sum"}, (8, 8), 8 * 8 * 16),
    ({"axis": 1, "op": "max"}, (8, 16), 0),  # comparisons
    ({"axis": [-1, 1], "op": "min", "keepdims": True}, (1, 8, 1), 0),
    ({"axis": 3, "op": "prod"}, (8, 8), 8 * 8 * 16),  # one multiply per value
])
def test_reduce_rows(kwargs, shape, macs):
    row = on([(8, 8, 16)], "Reduce", **kwargs)
    assert (row.output_shape, row.macs, row.params) == (shape, macs, 0)
    assert evaluate_formula(row.macs_formula) == macs
    assert_formulas_hold(row)


def test_reduce_mean_counts_as_global_average_pooling():
    reduced = on([(7, 7, 32)], "Reduce", axis=[1, 2])
    pooled = last("Input(7, 7, 32) | GlobalAveragePooling2D()")
    assert (reduced.output_shape, reduced.macs, reduced.macs_formula) == (
        pooled.output_shape, pooled.macs, pooled.macs_formula)
    assert on([(None, 32)], "Reduce", axis=1).macs is None  # unknown, never zero


@pytest.mark.parametrize("kwargs, message", [
    ({"axis": [2, -2]}, "names the same axis twice"),  # -2 of the batched rank 4 is 2
    ({"axis": 0}, "batch axis"),
    ({"axis": []}, "at least one axis"),
    ({"axis": 4}, "out of range"),
    ({"axis": 1, "op": "median"}, "one of"),
])
def test_reduce_refusals(kwargs, message):
    with pytest.raises(learnable.LearnableError, match=message):
        on([(8, 8, 16)], "Reduce", **kwargs)


@pytest.mark.frameworks
def test_reduce_matches_torch_and_keras():
    torch = pytest.importorskip("torch")
    keras = pytest.importorskip("keras")
    np = pytest.importorskip("numpy")
    torch_ops = {"mean": torch.mean, "sum": torch.sum, "max": torch.amax, "min": torch.amin, "prod": torch.prod}
    rng = random.Random("reduce")
    for _ in range(120):
        shape = tuple(rng.randint(1, 5) for _ in range(rng.randint(1, 4)))
        op, keepdims = rng.choice(list(torch_ops)), rng.random() < 0.5
        axes = [rng.choice([*range(1, len(shape) + 1), *range(-len(shape), 0)])
                for _ in range(1 if op == "prod" else rng.randint(1, len(shape)))]  # torch.prod takes one dim
        dims = axes[0] if op == "prod" else tuple(axes)
        try:
            out = torch_ops[op](torch.zeros(2, *shape), dims, keepdim=keepdims)
        except RuntimeError:  # a dim named twice
            with pytest.raises(learnable.LearnableError, match="twice"):
                on([shape], "Reduce", axis=axes, keepdims=keepdims, op=op)
            continue
        row = on([shape], "Reduce", axis=axes, keepdims=keepdims, op=op)
        assert row.output_shape == tuple(out.shape[1:]), (shape, axes, op, keepdims)
        reduced = getattr(keras.ops, op)(np.zeros((2, *shape)), axis=tuple(axes), keepdims=keepdims)
        assert row.output_shape == tuple(reduced.shape[1:])


# ---- MatMul, Divide -------------------------------------------------------------------------------


@pytest.mark.parametrize("a, b, shape, macs", [
    ((10, 64), (64, 32), (10, 32), 10 * 32 * 64),
    ((4, 10, 64), (1, 64, 32), (4, 10, 32), 4 * 10 * 32 * 64),  # leading axes broadcast
    ((3, 1, 5, 6), (2, 6, 7), (3, 2, 5, 7), 3 * 2 * 5 * 7 * 6),
    ((64,), (64, 32), (32,), 32 * 64),  # a row vector
    ((10, 64), (64,), (10,), 10 * 64),  # a column vector
    ((64,), (64,), (), 64),  # one dot product
    ((12, 197, 64), (12, 64, 197), (12, 197, 197), 12 * 197 * 197 * 64),  # attention scores
    ((None, 64), (64, 32), (None, 32), None),  # unknown, never zero
])
def test_matmul_rows(a, b, shape, macs):
    row = on([a, b], "MatMul")
    assert (row.output_shape, row.macs, row.params) == (shape, macs, 0)
    if macs is not None:
        assert evaluate_formula(row.macs_formula) == macs
    assert_formulas_hold(row)


def test_matmul_arithmetic_reads_like_dense():
    assert on([(10, 64), (64, 32)], "MatMul").macs_formula == "(10×32)×64 = 20,480"


@pytest.mark.parametrize("a, b, message", [
    ((10, 64), (32, 64), r"\(10, 64\) and \(32, 64\) cannot be multiplied"),
    ((10, 64), (32,), "cannot be multiplied"),
    ((3, 4, 5), (2, 5, 6), "do not broadcast"),
])
def test_matmul_refusals(a, b, message):
    with pytest.raises(learnable.LearnableError, match=message):
        on([a, b], "MatMul")


def _random_operands(rng: random.Random) -> tuple[tuple, tuple]:
    def dims(n):
        return tuple(rng.choice([1, 2, 3]) for _ in range(n))

    k = rng.randint(1, 4)
    a, b = dims(rng.randint(0, 3)) + (k,), dims(rng.randint(0, 3))
    b = (*b[:-1], rng.choice([k, k, k + 1]), *b[-1:]) if b else (rng.choice([k, k, k + 1]),)
    return a, b


@pytest.mark.frameworks
def test_matmul_matches_torch_keras_and_the_flop_counter():
    """torch.matmul (and keras.ops.matmul) on the example shapes as given, and on a batch of 2
    where both have the same rank; MACs are half the FLOPs torch's counter counts for mm/bmm."""
    torch = pytest.importorskip("torch")
    keras = pytest.importorskip("keras")
    np = pytest.importorskip("numpy")
    from torch.utils.flop_counter import FlopCounterMode

    rng, outcomes = random.Random("matmul"), set()
    for _ in range(200):
        a, b = _random_operands(rng)
        try:
            with FlopCounterMode(display=False) as counter:
                out = torch.matmul(torch.zeros(a), torch.zeros(b))
        except RuntimeError:
            with pytest.raises(learnable.LearnableError):
                on([a, b], "MatMul")
            outcomes.add("rejected")
            continue
        row = on([a, b], "MatMul")
        assert row.output_shape == tuple(out.shape), (a, b)
        assert tuple(keras.ops.matmul(np.zeros(a), np.zeros(b)).shape) == tuple(out.shape)
        if len(a) >= 2 and len(b) >= 2:  # (the counter skips mv and dot)
            assert row.macs == counter.get_total_flops() // 2, (a, b)
        if len(a) == len(b) >= 2:
            batched = torch.matmul(torch.zeros(2, *a), torch.zeros(2, *b))
            assert row.output_shape == tuple(batched.shape[1:])
        outcomes.add("built")
    assert outcomes == {"built", "rejected"}


def test_divide_rows():
    assert on([(8, 16), (8, 16)], "Divide").output_shape == (8, 16)
    assert on([(8, 16), (1, 16)], "Divide").output_shape == (8, 16)
    assert on([(8, 16), (16,)], "Divide").output_shape == (8, 16)  # aligned on the last axes
    assert on([(8, 16), (8, 16)], "Divide").macs == 0
    with pytest.raises(learnable.LearnableError, match="incompatible shapes"):
        on([(8, 16), (8, 15)], "Divide")
    with pytest.raises(learnable.LearnableError, match="takes 2 inputs, got 3"):
        on([(8, 16)] * 3, "Divide")


@pytest.mark.frameworks
def test_divide_matches_torch_and_keras():
    torch = pytest.importorskip("torch")
    keras = pytest.importorskip("keras")
    np = pytest.importorskip("numpy")
    rng, outcomes = random.Random("divide"), set()
    for _ in range(100):
        rank = rng.randint(1, 3)
        a, b = (tuple(rng.choice([1, 2, 3]) for _ in range(rank)) for _ in range(2))
        try:
            out = torch.div(torch.zeros(2, *a), torch.ones(2, *b))
        except RuntimeError:
            with pytest.raises(learnable.LearnableError, match="incompatible"):
                on([a, b], "Divide")
            outcomes.add("rejected")
            continue
        assert on([a, b], "Divide").output_shape == tuple(out.shape[1:])
        assert tuple(keras.ops.divide(np.zeros((2, *a)), np.ones((2, *b))).shape) == tuple(out.shape)
        outcomes.add("built")
    assert outcomes == {"built", "rejected"}


# ---- Elementwise ----------------------------------------------------------------------------------


def test_elementwise_keeps_the_shape_and_names_its_function():
    row = on([(10, 64)], "Elementwise", function="torch.exp")
    assert (row.output_shape, row.params, row.macs) == ((10, 64), 0, 0)
    assert "torch.exp" in row.note
    assert "x ** 2" in last("Input(3) | Elementwise('x ** 2')").note
    for bad in ({}, {"function": 2}, {"function": " "}):
        with pytest.raises(learnable.LearnableError, match="function"):
            on([(3,)], "Elementwise", **bad)


@pytest.mark.frameworks
def test_elementwise_functions_keep_the_shape_in_torch():
    torch = pytest.importorskip("torch")
    x = torch.zeros(2, 4, 5)
    for name, function in (("exp", torch.exp), ("sqrt", torch.sqrt), ("x ** 2", lambda t: t ** 2),
                           ("abs", torch.abs), ("clamp", lambda t: torch.clamp(t, 0, 1))):
        assert on([(4, 5)], "Elementwise", function=name).output_shape == tuple(function(x).shape[1:])
