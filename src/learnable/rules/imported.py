"""Tensors: a layer known only by the tensors it owns.

Importers use it where a framework object has no rule (a user's own module, an ONNX node
with initializers, a checkpoint's group of tensors). Its parameters are still counted, from
the tensors themselves, and its row says that no rule explained them: unknown is never zero.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..errors import ArgumentError
from ..expr import num
from ._args import Arg, anything, non_negative, shape
from ._base import Context, Inference, Rule, Shape, Weight
from ._registry import PYTORCH, register


def _tensor_list(value: Any) -> tuple[tuple[str, tuple[int, ...], bool, bool], ...]:
    """(name, shape, trainable, buffer) for each tensor; a tensor's sizes are whole numbers ≥ 0."""
    try:
        tensors = tuple((str(n), tuple(non_negative(d) for d in shape), bool(t), bool(b)) for n, shape, t, b in value)
    except (TypeError, ValueError):
        raise ArgumentError(None, "must list (name, shape, trainable, buffer) for each tensor") from None
    return tensors


def _output_shape(value: Any) -> tuple[int | None, ...] | None:
    """None (the input's shape), () (what an importer gives for a scalar), or a shape."""
    if value is None or value == ():
        return value
    return shape(value)


def _tensors(a: Mapping[str, Any], shapes: Sequence[Shape], ctx: Context) -> Inference:
    weights = tuple(Weight(name, tuple(num(d) for d in shape), trainable, buffer)
                    for name, shape, trainable, buffer in a["tensors"])
    output = a["output_shape"]
    if output is None:
        output = shapes[0] if shapes else ()
    return Inference(tuple(output), weights, note=a["note"] or "no rule for this layer: counted from its own tensors")


register(Rule(
    name="Tensors", family="imported", infer=_tensors, arity=(0, None), framework=PYTORCH,
    args=(Arg("tensors", _tensor_list, ()), Arg("output_shape", _output_shape, None), Arg("note", anything, "")),
    doc="A layer counted from the tensors it owns (an importer found no rule for it): each tensor's "
        "elements, as the framework stores them.",
))
