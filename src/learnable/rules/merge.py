"""Merge layers: several inputs, no parameters.

Elementwise merges (Add, Subtract, Multiply, Average, Maximum, Minimum) follow Keras's
``_compute_elemwise_op_output_shape``: shapes are aligned on their last axes, a 1
broadcasts, None is unknown, anything else must be equal. Concatenate needs the same rank
and equal sizes on every axis but the joined one. Keras axes count the batch as axis 0,
so ``axis=1`` is the first axis of an example; ``axis=-1`` the last; joining along the
batch axis (``axis=0``) leaves an example's shape as it is. Axes that are not joined take
the first input's size, as in Keras (so an unknown size there stays unknown).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..errors import RuleError
from ..expr import total
from ._args import Arg, integer
from ._base import Context, Inference, Rule, Shape, ShapeNote, shape_text
from ._registry import register


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
            raise RuleError(f"its inputs have incompatible shapes {listed}; they must be equal (or 1 where one broadcasts)")
        out = merged
    return Inference(out)


for _name, _arity in (("Add", (1, None)), ("Subtract", (2, 2)), ("Multiply", (1, None)),
                      ("Average", (1, None)), ("Maximum", (1, None)), ("Minimum", (1, None))):
    register(Rule(
        name=_name, family="merge", infer=_elementwise, args=(), arity=_arity,
        doc=f"Keras {_name}: no parameters; elementwise over inputs of the same shape.",
    ))


def example_axis(axis: int, rank: int) -> int:
    """Keras axis (batch = 0) → index into an example's shape; -1 for the batch axis."""
    index = axis + rank + 1 if axis < 0 else axis
    if not 0 <= index <= rank:
        raise RuleError(f"axis={axis} is out of range for inputs of rank {rank} (plus batch)")
    return index - 1


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
            raise RuleError(f"its inputs {listed} differ on axis {i + 1}, which is not the joined axis {a['axis']}; only the joined axis may differ")
        out.append(sizes[0])  # as Keras: the first input's size, even when it is unknown
    notes = (ShapeNote(f"axis {a['axis']}", joined),) if joined is not None and len(shapes) > 1 else ()
    return Inference(tuple(out), shape_notes=notes)


register(Rule(
    name="Concatenate", family="merge", infer=_concatenate, arity=(1, None),
    args=(Arg("axis", integer, -1),),
    doc="Keras Concatenate: no parameters; joins inputs along one axis (the last by default).",
))
