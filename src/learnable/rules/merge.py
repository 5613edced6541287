"""Merge layers: several inputs, no parameters.

Elementwise merges (Add, Subtract, Multiply, Average, Maximum, Minimum) follow Keras's
``_compute_elemwise_op_output_shape``: shapes are aligned on their last axes, a 1
broadcasts, None is unknown, anything else must be equal. Concatenate needs the same rank
and equal sizes on every axis but the joined one. Keras axes count the batch as axis 0,
so ``axis=1`` is the first axis of an example; ``axis=-1`` the last; joining along the
batch axis (``axis=0``) leaves an example's shape as it is. Axes that are not joined take
the first input's size, as in Keras (so an unknown size there stays unknown).

Dot follows Keras's ``Dot.compute_output_shape``: the first input's axes without the
summed one, then the second's, or ``(1,)`` when none remain; a negative int ``axes``
wraps modulo the rank (batch included), as Keras computes it. PyTorch's CosineSimilarity
and PairwiseDistance broadcast their two inputs, then reduce one dim (the last, for
PairwiseDistance). Divide (``a / b``) broadcasts as Add does.

MatMul is torch.matmul (``a @ b``; keras.ops.matmul is NumPy's, the same):
(…, n, k) @ (…, k, m) → (…, n, m), the leading axes broadcast as above; a 1-D first input
is a row (1, k) and a 1-D second a column (k, 1), whose added axis the output drops (two
vectors give one value, shape ()). It applies to the example shapes as given: two outputs
of equal rank multiply as their batched tensors do (the batch is one more leading axis),
and a Parameter's stored shape, which has no batch, as ``x @ W`` does. MACs: each output
value is a dot product over k, ``(…×n×m)×k``, as Dense counts it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..errors import ArgumentError, RuleError
from ..expr import Expr, num, total
from ._args import Arg, anything, boolean, integer
from ._base import (
    NO_MACS,
    POINTWISE,
    Context,
    Inference,
    Rule,
    Shape,
    ShapeNote,
    known_dims,
    output_macs,
    shape_text,
)
from ._kinds import MATMUL
from ._registry import PYTORCH, register


def _broadcast(a: Shape, b: Shape) -> Shape | None:
    """The merged shape, or None when the two cannot be merged."""
    if len(a) < len(b):
        a, b = b, a
    head, tail = a[: len(a) - len(b)], a[len(a) - len(b):]
    out = []
    for i, j in zip(tail, b):
        if i is None or j is None:
            out.append(None)
        elif i == 1 or j == 1 or i == j:
            out.append(j if i == 1 else i)
        else:
            return None
    return (*head, *out)


def _elementwise(a: Mapping[str, Any], shapes: Sequence[Shape], ctx: Context) -> Inference:
    out = shapes[0]
    for other in shapes[1:]:
        merged = _broadcast(out, other)
        if merged is None:
            listed = ", ".join(shape_text(s) for s in shapes)
            raise RuleError(f"its inputs have incompatible shapes {listed}; "
                            "they must be equal (or 1 where one broadcasts)")
        out = merged
    return Inference(out, macs=NO_MACS)  # adds, multiplies or compares values: no multiply-accumulates


for _name, _arity in (("Add", (1, None)), ("Subtract", (2, 2)), ("Multiply", (1, None)),
                      ("Average", (1, None)), ("Maximum", (1, None)), ("Minimum", (1, None))):
    register(Rule(
        name=_name, family="merge", infer=_elementwise, args=(), arity=_arity, field=POINTWISE,
        doc=f"Keras {_name}: no parameters; elementwise over inputs of the same shape.",
    ))
register(Rule(
    name="Divide", family="merge", infer=_elementwise, args=(), arity=(2, 2), field=POINTWISE,
    doc="a / b (torch.div, keras.ops.divide) between two tensors: no parameters, no MACs; elementwise, "
        "the shapes broadcast as in Add (aligned on their last axes, a 1 stretches).",
))


def example_axis(axis: int, rank: int, word: str = "axis") -> int:
    """Keras axis or PyTorch dim (both count the batch as 0) → index into an example's
    shape; -1 for the batch axis."""
    index = axis + rank + 1 if axis < 0 else axis
    if not 0 <= index <= rank:
        raise RuleError(f"{word}={axis} is out of range for inputs of rank {rank} (plus batch)")
    return index - 1


def torch_dim(dim: int, shape: Shape, word: str = "dim") -> int:
    """A PyTorch dim or Keras axis (the batch is 0) → an index into an example's shape;
    never the batch."""
    index = example_axis(dim, len(shape), word=word)
    if index < 0:
        article = "an" if word[0] in "aeiou" else "a"
        raise RuleError(f"{word}={dim} is the batch axis; shapes here exclude the batch, "
                        f"so use {article} {word} from 1")
    return index


def _concatenate(a: Mapping[str, Any], shapes: Sequence[Shape], ctx: Context) -> Inference:
    rank = len(shapes[0])
    listed = ", ".join(shape_text(s) for s in shapes)
    if any(len(s) != rank for s in shapes):
        raise RuleError(f"its inputs have different ranks: {listed}")
    axis = example_axis(a["axis"], rank)
    out: list[int | None] = []
    joined = None
    for i in range(rank):
        sizes = [s[i] for s in shapes]
        if i == axis:
            joined = None if None in sizes else total(*sizes)
            out.append(None if joined is None else joined.value)
            continue
        if len({d for d in sizes if d is not None}) > 1:
            raise RuleError(f"its inputs {listed} differ on axis {i + 1}, which is not the joined axis "
                            f"{a['axis']}; only the joined axis may differ")
        out.append(sizes[0])  # as Keras: the first input's size, even when it is unknown
    notes = (ShapeNote(f"axis {a['axis']}", joined),) if joined is not None and len(shapes) > 1 else ()
    return Inference(tuple(out), shape_notes=notes, macs=NO_MACS)


register(Rule(
    name="Concatenate", family="merge", infer=_concatenate, arity=(1, None), field=POINTWISE,
    args=(Arg("axis", integer, -1),),
    doc="Keras Concatenate: no parameters; joins inputs along one axis (the last by default).",
))


def _dot_axes(value: Any) -> int | tuple[int, int]:
    if isinstance(value, (list, tuple)):
        if len(value) != 2:
            raise ArgumentError(None, f"must be an integer or a pair of integers (one per input), got {value!r}")
        return (integer(value[0]), integer(value[1]))
    return integer(value)


def _dot_axis(axes: int | tuple[int, int], which: int, shape: Shape) -> int:
    """Keras's reading of ``axes`` for one input, as an index into its example shape."""
    rank = len(shape) + 1  # Keras counts the batch axis
    axis = axes if isinstance(axes, int) else axes[which]
    if isinstance(axes, int) and axis < 0:
        index = axis % rank  # Keras wraps a negative int: axes=-5 on rank 3 is axis 1
    else:
        index = axis + rank if axis < 0 else axis
    if not 0 <= index < rank:
        raise RuleError(f"axes={axes} is out of range for an input of rank {rank - 1} (plus batch)")
    if index == 0:
        raise RuleError(f"axes={axes} would take the dot product over the batch axis, which Keras cannot do; "
                        "use an axis from 1")
    return index - 1


def _dot(a: Mapping[str, Any], shapes: Sequence[Shape], ctx: Context) -> Inference:
    (x, y), axes = shapes, a["axes"]
    i, j = _dot_axis(axes, 0, x), _dot_axis(axes, 1, y)
    if x[i] != y[j]:  # an unknown size matches only an unknown one, as in Keras's check
        raise RuleError(f"its inputs {shape_text(x)} and {shape_text(y)} differ on the summed axes: "
                        f"{x[i]} (axis {i + 1}) against {y[j]} (axis {j + 1}); the sizes must be equal")
    out = (*x[:i], *x[i + 1:], *y[:j], *y[j + 1:])
    return Inference(out or (1,), macs=_reduced_macs(out, x[i]))


def _reduced_macs(out: Shape, reduced: int | None, products: int = 1) -> Expr | None:
    """Each output value sums ``products`` products over the reduced axis."""
    dims = known_dims(out)
    if dims is None or reduced is None:
        return None
    return output_macs(dims or (1,), (products, reduced) if products > 1 else (reduced,))


register(Rule(
    name="Dot", family="merge", infer=_dot, arity=(2, 2), kind=MATMUL,
    args=(Arg("axes", _dot_axes), Arg("normalize", boolean, False)),
    doc="Keras Dot: no parameters; sums the product over one axis of each input; the output has the first "
        "input's other axes, then the second's ((1,) if none remain).",
))


def _broadcast_two(shapes: Sequence[Shape]) -> Shape:
    merged = _broadcast(*shapes)
    if merged is None:
        raise RuleError(f"its inputs {shape_text(shapes[0])} and {shape_text(shapes[1])} do not broadcast together")
    return merged


def _cosine_similarity(a: Mapping[str, Any], shapes: Sequence[Shape], ctx: Context) -> Inference:
    shape = _broadcast_two(shapes)
    i = torch_dim(a["dim"], shape)
    out = (*shape[:i], *shape[i + 1:])
    return Inference(out, macs=_reduced_macs(out, shape[i], products=3))  # x·y, x·x and y·y


def _pairwise_distance(a: Mapping[str, Any], shapes: Sequence[Shape], ctx: Context) -> Inference:
    shape = _broadcast_two(shapes)
    # Σ (x − y)²: one multiply-accumulate per value of the broadcast inputs.
    return Inference((*shape[:-1], 1) if a["keepdim"] else shape[:-1], macs=_reduced_macs(shape[:-1], shape[-1]))


register(Rule(
    name="CosineSimilarity", family="merge", infer=_cosine_similarity, arity=(2, 2), framework=PYTORCH,
    args=(Arg("dim", integer, 1), Arg("eps", anything, 1e-8)),
    doc="PyTorch nn.CosineSimilarity: no parameters; broadcasts its two inputs and reduces dim (batch = dim 0).",
))
register(Rule(
    name="PairwiseDistance", family="merge", infer=_pairwise_distance, arity=(2, 2), framework=PYTORCH,
    args=(Arg("p", anything, 2.0), Arg("eps", anything, 1e-6), Arg("keepdim", boolean, False)),
    doc="PyTorch nn.PairwiseDistance: no parameters; broadcasts its two inputs and reduces the last dim.",
))


# ---- MatMul ---------------------------------------------------------------------------------


def _matmul(a: Mapping[str, Any], shapes: Sequence[Shape], ctx: Context) -> Inference:
    x, y = shapes
    if not x or not y:
        raise RuleError(f"multiplies tensors of at least one axis, got {shape_text(x)} and {shape_text(y)}")
    # torch.matmul: a 1-D first input is a row (1, k), a 1-D second a column (k, 1); the
    # added axis is dropped from the output. The axes before the last two broadcast.
    rows, k = (x[-2] if len(x) > 1 else None), x[-1]
    k2, cols = (y[-2], y[-1]) if len(y) > 1 else (y[0], None)
    if k is not None and k2 is not None and k != k2:
        which = "only" if len(y) == 1 else "second-to-last"
        raise RuleError(f"its inputs {shape_text(x)} and {shape_text(y)} cannot be multiplied: the first's last axis "
                        f"({k}) must equal the second's {which} axis ({k2})")
    batch = _broadcast(x[:-2], y[:-2])
    if batch is None:
        raise RuleError(f"the leading axes of its inputs {shape_text(x)} and {shape_text(y)} do not broadcast "
                        "together (before the last two, sizes must be equal or 1)")
    kept = ((rows, "n"),) * (len(x) > 1) + ((cols, "m"),) * (len(y) > 1)
    out = (*batch, *(size for size, _ in kept))
    return Inference(out, macs=_matmul_macs(batch, kept, k if k is not None else k2))


def _matmul_macs(batch: Shape, kept: tuple, k: int | None) -> Expr | None:
    """Each output value is a dot product of length k: ``(b×n×m)×k``, as Dense's."""
    sizes = (*batch, *(size for size, _ in kept))
    if k is None or None in sizes:
        return None
    if not sizes:  # two vectors: one dot product
        return num(k, "k")
    dims = (*(num(d) for d in batch), *(num(size, symbol) for size, symbol in kept))
    return output_macs(dims, (num(k, "k"),))


register(Rule(
    name="MatMul", family="merge", infer=_matmul, args=(), arity=(2, 2), kind=MATMUL,
    doc="torch.matmul, a @ b, keras.ops.matmul: no parameters; (…, n, k) @ (…, k, m) → (…, n, m), the leading "
        "axes broadcast; a 1-D first input is a row and a 1-D second a column, whose axis is dropped. "
        "MACs: output values × k.",
))
