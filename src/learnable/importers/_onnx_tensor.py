"""One ONNX initializer as the importer sees it: name, dims, element type, checked against
the data the file holds.

A ``TensorProto`` states its ``dims`` and, apart, holds its data: ``raw_data`` bytes, or a
typed list (``float_data``, ``int32_data``, ...), or a pointer to an external file. The
count comes from the dims, so the dims must agree with what is held: 48 bytes of data with
dims [4, 3e9] are not 12,000,000,000 parameters (``numpy_helper.to_array`` would refuse to
reshape them too). Sizes are bounded *before* they are multiplied out: at most
``MAX_ELEMENTS`` per tensor (what an int64 element count holds, as in every framework), so
300 dims of 2^62 never become a 5,000-digit integer.

External data is never opened (SECURITY.md), so it cannot be checked against the dims;
where the model states the data's ``length`` it must agree with them, and the report says
that such sizes are as the model states them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from onnx import TensorProto, helper

from ..errors import Location, SpecError

MAX_ELEMENTS = 2**63 - 1  # an element count an int64 holds: torch's numel, numpy's size
# element types stored below a byte (numpy_helper: _unpack_4bit, _unpack_2bit, _unpack_6bit)
_BITS = {TensorProto.INT4: 4, TensorProto.UINT4: 4, TensorProto.FLOAT4E2M1: 4, TensorProto.INT2: 2,
         TensorProto.UINT2: 2, TensorProto.FLOAT6E2M3: 6, TensorProto.FLOAT6E3M2: 6}
# values per typed-list entry where one entry is not one element (numpy_helper.to_array)
_PER_ENTRY = {TensorProto.COMPLEX64: 0.5, TensorProto.COMPLEX128: 0.5, TensorProto.INT4: 2, TensorProto.UINT4: 2,
              TensorProto.FLOAT4E2M1: 2, TensorProto.INT2: 4, TensorProto.UINT2: 4}


@dataclass(frozen=True)
class Tensor:
    name: str
    dims: tuple[int, ...]
    dtype: int
    external: bool = False  # its data is in a file never opened: the dims are as stated

    @property
    def size(self) -> int:
        return math.prod(self.dims)


def checked(proto: Any, where: Location | None) -> Tensor:
    """The initializer ``proto`` (a TensorProto), or one error naming it."""
    elements = _elements(proto.name, proto.dims, proto.data_type, where)
    external = proto.data_location == TensorProto.EXTERNAL
    raw = external or proto.HasField("raw_data")
    held = _stated_length(proto) if external else _held(proto)
    needed = _needed(proto.data_type, elements, raw)
    if held is not None and held != needed:
        unit = "bytes" if raw else "values"
        raise SpecError(f"initializer {_quoted(proto.name)} has dims {_dims(proto.dims)} ({elements:,} elements, "
                        f"{needed:,} {unit}) but holds {held:,} {unit} of data; its dims disagree with its data", where)
    return Tensor(proto.name, tuple(proto.dims), proto.data_type, external)


def checked_sparse(sparse: Any, where: Location | None) -> Tensor:
    """A sparse initializer: its values checked as a tensor, counted at its dense dims
    (a sparse tensor stands for them; they are bounded like any other)."""
    values = checked(sparse.values, where)
    _elements(values.name, sparse.dims, values.dtype, where)
    return Tensor(values.name, tuple(sparse.dims), values.dtype)


def _elements(name: str, dims: Any, dtype: int, where: Location | None) -> int:
    if any(d < 0 for d in dims) or dtype == TensorProto.UNDEFINED or not _known(dtype):
        raise SpecError(f"is not a valid ONNX model: initializer {_quoted(name)} has dims {_dims(dims)} "
                        f"and data type {dtype}", where)
    elements = bounded_size(dims)
    if elements > MAX_ELEMENTS:
        raise SpecError(f"initializer {_quoted(name)} has dims {_dims(dims)}: more than 2^63 - 1 elements, "
                        "which no framework holds", where)
    return elements


def _known(dtype: int) -> bool:
    """A data type this onnx knows (a file may hold any integer: 93 is none)."""
    try:
        helper.tensor_dtype_to_field(dtype)
    except (KeyError, ValueError):
        return False
    return True


def bounded_size(dims: Any) -> int:
    """The product of ``dims``, or MAX_ELEMENTS + 1 once past it (never a huge integer)."""
    if 0 in dims:
        return 0
    size = 1
    for dim in dims:
        size *= dim
        if size > MAX_ELEMENTS:
            return MAX_ELEMENTS + 1
    return size


def _held(proto: Any) -> int:
    """How much data the tensor holds in the file: raw bytes, or entries of its typed list."""
    if proto.HasField("raw_data"):
        return len(proto.raw_data)
    return len(getattr(proto, helper.tensor_dtype_to_field(proto.data_type)))


def _needed(dtype: int, elements: int, raw: bool) -> int:
    if raw:  # bytes; packed types pack their elements (numpy_helper._pack_4bitx2, _pack_6bit)
        bits = _BITS.get(dtype) or 8 * helper.tensor_dtype_to_np_dtype(dtype).itemsize
        return math.ceil(elements * bits / 8)
    per_entry = _PER_ENTRY.get(dtype, 1)
    return math.ceil(elements / per_entry)


def _stated_length(proto: Any) -> int | None:
    """The ``length`` an external tensor states for its data (onnx.save writes it), if any."""
    for entry in proto.external_data:
        if entry.key == "length":
            return int(entry.value) if entry.value.isdigit() and len(entry.value) < 30 else -1
    return None


def _dims(dims: Any) -> str:
    shown = "×".join(str(d) for d in list(dims)[:8])
    return f"{shown}×… ({len(dims)} dims)" if len(dims) > 8 else f"[{shown}]"


def _quoted(name: str, limit: int = 80) -> str:
    return repr(name if len(name) <= limit else f"{name[:limit]}…")
