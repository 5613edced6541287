"""ONNX shape inference for one example: the batch axis followed through the graph and
dropped, dynamic sizes None (see ``onnx_model.py``)."""

from __future__ import annotations

from typing import Any

import onnx
from onnx import shape_inference
from onnx.checker import ValidationError
from onnx.shape_inference import InferenceError

from .._text import shape_text
from ..errors import Location, SpecError
from ..rules import Shape

_BATCH = "learnable:batch"


def text(value: str | bytes) -> str:
    """protobuf hands back a string field that is not UTF-8 as bytes."""
    return value if isinstance(value, str) else value.decode("utf-8", "replace")


def first_line(err: Exception) -> str:
    return str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__


# ---- shapes -------------------------------------------------------------------------------


class Shapes:
    """Every value's inferred shape, for one example (batch axis dropped, unknown dims None)."""

    def __init__(self, skeleton: onnx.ModelProto, weights: set[str], input_shape: Any, where: Location | None):
        self.inputs = [i.name for i in skeleton.graph.input if i.name not in weights]
        if input_shape is not None:
            _set_input_shape(skeleton, self.inputs, input_shape, where)
        marked, self.markers, self.batch = _mark_batch(skeleton, self.inputs)
        self._values = _inferred(skeleton, where)
        self._marked = self._values
        if marked is not skeleton:
            try:
                self._marked = _inferred(marked, where)
            except SpecError:  # a batch size the graph hard-codes: shapes stay, the first axis is the batch
                self.markers = set()

    def example(self, name: str) -> Shape | None:
        dims = self._values.get(name)
        if dims is None:
            return None
        axis = 0 if name in self.inputs else self._batch_axis(name, dims)
        kept = dims if axis is None else dims[:axis] + dims[axis + 1:]
        return tuple(d if isinstance(d, int) else None for d in kept)

    def _batch_axis(self, name: str, dims: list) -> int | None:
        marked = self._marked.get(name) or []
        if len(marked) == len(dims):
            for axis, d in enumerate(marked):
                if d in self.markers:
                    return axis
        # The marker was lost (a constant-folded reshape to (1, -1)): the batch size is still first.
        return 0 if dims and self.batch is not None and dims[0] == self.batch else None


def _set_input_shape(skeleton: onnx.ModelProto, inputs: list[str], input_shape: Any, where) -> None:
    if len(inputs) != 1:
        raise SpecError(f"input_shape needs a model with one input; this one has {len(inputs)}", where)
    dims = tuple(input_shape) if isinstance(input_shape, (list, tuple)) else (input_shape,)
    if not all(d is None or (isinstance(d, int) and not isinstance(d, bool) and d > 0) for d in dims):
        raise SpecError(f"input_shape must list positive sizes (or None), got {input_shape!r}", where)
    value = next(i for i in skeleton.graph.input if i.name == inputs[0])
    old = value.type.tensor_type.shape.dim
    if len(old) not in (0, len(dims) + 1):
        raise SpecError(f"input_shape {shape_text(dims)} has {len(dims)} dims, but input '{inputs[0]}' has "
                        f"{len(old) - 1} besides the batch", where)
    fixed = [(d, o.dim_value) for d, o in zip(dims, old[1:]) if o.HasField("dim_value") and d != o.dim_value]
    if fixed:  # an export traced at fixed sizes may hard-code them further on (a Reshape's constant)
        raise SpecError(f"input_shape {shape_text(dims)} changes sizes input '{inputs[0]}' fixes "
                        f"({', '.join(f'{o} to {d}' for d, o in fixed)}); only its dynamic sizes can be given", where)
    batch = old[0] if old else onnx.TensorShapeProto.Dimension(dim_param="batch")
    new = onnx.TensorShapeProto(dim=[batch, *(onnx.TensorShapeProto.Dimension(dim_value=d) if d else
                                              onnx.TensorShapeProto.Dimension(dim_param=f"learnable:{i}")
                                              for i, d in enumerate(dims))])
    value.type.tensor_type.shape.CopyFrom(new)


def _mark_batch(skeleton: onnx.ModelProto, inputs: list[str]) -> tuple[onnx.ModelProto, set, int | None]:
    """A copy whose inputs' fixed batch sizes are named by a marker, the markers, and the
    fixed batch size (when all inputs agree on one)."""
    marked, markers, sizes = skeleton, set(), set()
    for value in skeleton.graph.input:
        dims = value.type.tensor_type.shape.dim
        if value.name not in inputs or not dims:
            continue
        if dims[0].HasField("dim_param"):
            markers.add(dims[0].dim_param)
            continue
        sizes.add(dims[0].dim_value)
        if marked is skeleton:
            marked = onnx.ModelProto()
            marked.CopyFrom(skeleton)
        mine = next(v for v in marked.graph.input if v.name == value.name)
        mine.type.tensor_type.shape.dim[0].dim_param = _BATCH
        markers.add(_BATCH)
    return marked, markers, sizes.pop() if len(sizes) == 1 else None


def _inferred(model: onnx.ModelProto, where: Location | None) -> dict[str, list[int | str | None]]:
    try:
        inferred = shape_inference.infer_shapes(model, check_type=False, strict_mode=False, data_prop=True)
    except (InferenceError, ValidationError) as err:
        raise SpecError(f"ONNX shape inference failed: {first_line(err)}", where) from None
    values = {}
    for value in (*inferred.graph.input, *inferred.graph.value_info, *inferred.graph.output):
        kind = value.type.tensor_type
        if value.type.HasField("tensor_type") and kind.HasField("shape"):
            values[value.name] = [d.dim_value if d.HasField("dim_value") else d.dim_param or None
                                  for d in kind.shape.dim]
    return values


