"""Tensor operations found in ``forward()``/``call()`` → nodes of the rules that compute them.

Both frameworks' spellings (``x.view(x.size(0), -1)``, ``torch.cat``, ``keras.ops.mean``,
``x + y``, ``x[:, -1]``) come down to these few operations, each a node of a rule: the
shapes and MACs are the rule's, as a spec's layer would have them.

Axes and dims count the batch as 0, as both frameworks do; shapes are one example's. An
operand is a :class:`Tensor` of the flow, a :class:`Const` (made from sizes alone), or a
:class:`Param` (a module's own weight). Operations on constants alone compute a constant;
mixing one with the flow gives it a node first. An operation the reader cannot follow gives
:class:`Unknown`, saying which and where.
"""

from __future__ import annotations

import operator

from math import prod
from typing import TYPE_CHECKING, Any

from .._text import with_article
from ..errors import LearnableError, Location, SpecError
from ..rules import Context, lookup
from .values import BATCH, Const, Param, Tensor, Unknown

if TYPE_CHECKING:
    from .reader import Reader

Operand = Tensor | Const | Param

# x ⊕ y between two tensors → the merge rule; a tensor and a number → how Rescaling writes it
_MERGES = {"Add": "Add", "Sub": "Subtract", "Mult": "Multiply", "Div": "Divide", "MatMult": "MatMul"}
_SPELLING = {"Add": "+", "Sub": "-", "Mult": "*", "Div": "/", "MatMult": "@", "Pow": "**", "FloorDiv": "//",
             "Mod": "%"}
_OP_NAMES = {"Add": "add", "Sub": "sub", "Mult": "mul", "Div": "truediv", "MatMult": "matmul", "Pow": "pow",
             "FloorDiv": "floordiv", "Mod": "mod"}


def is_operand(value: Any) -> bool:
    return isinstance(value, (Tensor, Const, Param))


def shape_of(value: Operand) -> tuple:
    return value.shape


def batched(value: Operand) -> bool:
    return isinstance(value, (Tensor, Const)) and value.batched


class Ops:
    def __init__(self, reader: Reader):
        self.reader = reader

    # ---- nodes -----------------------------------------------------------------------------

    def apply(self, rule_name: str, inputs: list[Operand], kwargs: dict[str, Any], base: str, spelled: str,
              where: Location | None, *, prefer: str | None = None) -> Tensor | Const:
        """A node of ``rule_name`` on ``inputs`` (a constant when they all are)."""
        reader = self.reader
        rule = lookup(rule_name, prefer or reader.prefer)
        if inputs and all(isinstance(x, Const) for x in inputs):
            return self._constant(rule, inputs, kwargs, spelled, where)
        tensors = self.materialize_all(inputs, where)
        name = reader.op_name(base)
        return reader.emitter.emit(rule, name, tensors, kwargs, where=where, type_name=spelled,
                                   framework=reader.framework)

    def _constant(self, rule: Any, inputs: list[Const], kwargs: dict[str, Any], spelled: str,
                  where: Location | None) -> Const:
        from ..graph import make_node

        node = make_node(rule, "constant", (), (), kwargs, location=where, type_name=spelled)
        from .. import engine

        context = Context(self.reader.emitter.context.data_format, self.reader.emitter.context.convention)
        inference = engine.infer(node, [x.shape for x in inputs], context)
        return Const(tuple(inference.output_shape), inputs[0].batched, inputs[0].integer,
                     f"{spelled} of {inputs[0].what}" if inputs[0].what else spelled)

    def materialize_all(self, inputs: list[Operand], where: Location | None) -> list[Tensor]:
        partner = next((x for x in inputs if isinstance(x, Tensor) and x.batched), None)
        rank = partner.rank if partner is not None else None
        return [self.materialize(x, where, batch_rank=rank) for x in inputs]

    def materialize(self, value: Operand, where: Location | None, batch_rank: int | None = None) -> Tensor:
        """A flow tensor for an operand. A parameter or constant whose rank is a batched
        partner's, with a first size of 1, broadcasts over the batch: that axis is the batch's."""
        reader = self.reader
        if isinstance(value, Tensor):
            if value.batched or batch_rank is None or len(value.shape) != batch_rank or value.shape[:1] != (1,) \
                    or None in value.shape:
                return value
            # (1, T, d) made without a batch (an embedding of position ids), met by a batched
            # (T, d): its first axis of one broadcasts over the batch, as PyTorch broadcasts it
            return reader.emitter.emit(lookup("Reshape"), reader.op_name("broadcast"), [value],
                                       {"target_shape": value.shape[1:]}, where=where, batched=True,
                                       type_name="first axis over the batch", integer=value.integer,
                                       framework=reader.framework)
        if isinstance(value, Param):
            batch_axis = batch_rank is not None and len(value.shape) == batch_rank and value.shape[:1] == (1,)
            return reader.parameter_node(value, batch_axis, where)
        if value.batched or batch_rank is None or len(value.shape) != batch_rank or value.shape[:1] != (1,):
            shape, is_batched = value.shape, value.batched
        else:
            shape, is_batched = value.shape[1:], True
        name = reader.op_name("tensor")
        return reader.emitter.emit(lookup("Constant"), name, [], {"shape": shape, "made_by": value.what},
                                   where=where, batched=is_batched,
                                   integer=value.integer, input_shapes=())

    # ---- elementwise ---------------------------------------------------------------------

    def binary(self, op: str, left: Any, right: Any, where: Location | None) -> Any:
        if is_operand(left) and is_operand(right):
            if op not in _MERGES:
                return self.unary_function(left, f"x {_SPELLING.get(op, op)} y", where)
            return self.apply(_MERGES[op], [left, right], {}, _OP_NAMES[op], _SPELLING[op], where)
        tensor, number, flipped = (left, right, False) if is_operand(left) else (right, left, True)
        if isinstance(number, bool) or not isinstance(number, (int, float)):
            return Unknown(f"`{_SPELLING.get(op, op)}` between a tensor and {_kind(number)} is not read", where)
        if isinstance(tensor, Const) and tensor.values is not None and op in _VALUE_OPS:
            return _valued(tensor, op, number, flipped)  # torch.arange(1, 5) * 8: the values too
        return self._scalar(op, tensor, number, flipped, where)

    def _scalar(self, op: str, tensor: Operand, number: float, flipped: bool, where: Location | None) -> Any:
        """``x * 0.5``, ``x / 8``, ``1 - x``: an affine map of each value (Rescaling's
        x·scale + offset); any other (``x ** 2``, ``2 / x``) an elementwise function."""
        spelled = f"{number} {_SPELLING.get(op, op)} x" if flipped else f"x {_SPELLING.get(op, op)} {number}"
        affine = {("Mult", False): (number, 0), ("Mult", True): (number, 0), ("Add", False): (1, number),
                  ("Add", True): (1, number), ("Sub", False): (1, -number), ("Sub", True): (-1, number)}
        if op == "Div" and not flipped and number:
            affine[op, False] = (1 / number, 0)
        if (op, flipped) in affine:
            scale, offset = affine[op, flipped]
            return self.apply("Rescaling", [tensor], {"scale": scale, "offset": offset}, _OP_NAMES[op], spelled,
                              where)
        return self.unary_function(tensor, spelled, where)

    def unary_function(self, tensor: Operand, spelled: str, where: Location | None) -> Any:
        return self.apply("Elementwise", [tensor], {"function": spelled}, _base_name(spelled), spelled, where)

    # ---- shape ---------------------------------------------------------------------------

    def reshape(self, x: Operand, dims: list[Any], spelled: str, where: Location | None) -> Any:
        """``x.view(x.size(0), -1)``, ``x.reshape(-1, 400)``, ``ops.reshape(x, (-1, 7, 7, 64))``:
        the full shape, batch first. The batch must stay the first axis."""
        unknown = next((d for d in dims if isinstance(d, Unknown)), None)
        if unknown is not None:
            return unknown
        if not batched(x):
            return self._reshape_unbatched(x, dims, spelled, where)
        if len(dims) == 1 and (dims[0] is BATCH or dims[0] == -1) and _size(x.shape) == 1:
            return Tensor(self.materialize(x, where).node, (), True, x.integer, x.framework)  # one value an example
        target = _example_target(x.shape, dims)
        if target is None:
            return Unknown(f"`{spelled}` moves the batch axis (shape {_full(x)} to {list(map(_dim, dims))}); "
                           "learnable follows reshapes that keep the batch first", where)
        if len(target) == 1 and len(x.shape) > 1 and (target[0] == -1 or target[0] == _size(x.shape)):
            return self.apply("nn.Flatten", [x], {}, _base_name(spelled), spelled, where)
        if tuple(target) == tuple(x.shape):
            return x
        return self.apply("Reshape", [x], {"target_shape": tuple(target)}, _base_name(spelled), spelled, where)

    def _reshape_unbatched(self, x: Operand, dims: list[Any], spelled: str, where: Location | None) -> Any:
        if any(d is BATCH for d in dims):
            return Unknown(f"`{spelled}` gives a batch axis to a tensor that has none", where)
        size = _size(x.shape)
        if size is None or sum(d == -1 for d in dims) > 1 or not all(isinstance(d, int) for d in dims):
            return Unknown(f"`{spelled}`: the shape is not known", where)
        rest = prod(d for d in dims if d != -1) or 1
        shape = tuple(size // rest if d == -1 else d for d in dims)
        if prod(shape) != size:
            raise SpecError(f"`{spelled}`: cannot reshape a tensor of shape {tuple(x.shape)} to {tuple(dims)}", where)
        if isinstance(x, Const):
            return Const(shape, False, x.integer, x.what)
        tensor = self.materialize(x, where)
        return self.apply("Reshape", [tensor], {"target_shape": shape}, _base_name(spelled), spelled, where)

    def flatten(self, x: Operand, start: int, end: int, spelled: str, where: Location | None) -> Any:
        if not batched(x):
            return self.reshape(x, [-1], spelled, where) if (start, end) == (0, -1) else Unknown(
                f"`{spelled}` on a tensor with no batch axis is not read", where)
        if start == 0 or start == -(len(x.shape) + 1):
            return Unknown(f"`{spelled}` flattens the batch axis into the others; learnable keeps the batch first",
                           where)
        return self.apply("nn.Flatten", [x], {"start_dim": start, "end_dim": end}, "flatten", spelled, where)

    def permute(self, x: Operand, dims: list[int], spelled: str, where: Location | None) -> Any:
        rank = len(x.shape) + batched(x)
        if sorted(d % rank for d in dims if isinstance(d, int)) != list(range(rank)):
            raise SpecError(f"`{spelled}`: {tuple(dims)} is not a permutation of the {rank} axes", where)
        dims = [d % rank for d in dims]
        if isinstance(x, Const) and not batched(x):
            return Const(tuple(x.shape[d] for d in dims), False, x.integer, x.what)
        if not batched(x) or dims[0] != 0:
            return Unknown(f"`{spelled}` moves the batch axis; learnable keeps the batch first", where)
        if dims == list(range(rank)):
            return x
        return self.apply("Permute", [x], {"dims": tuple(dims[1:])}, _base_name(spelled), spelled, where)

    def transpose(self, x: Operand, a: int, b: int, spelled: str, where: Location | None) -> Any:
        rank = len(x.shape) + batched(x)
        dims = list(range(rank))
        dims[a % rank], dims[b % rank] = dims[b % rank], dims[a % rank]
        return self.permute(x, dims, spelled, where)

    def broadcast(self, x: Operand, sizes: list[Any], spelled: str, where: Location | None) -> Any:
        """``cls_token.expand(B, -1, -1)``, ``ops.broadcast_to(cls, [batch, 1, d])``: a tensor
        whose first size is 1, broadcast over the batch, is batched (a parameter so used is
        its node with the batch axis); anything that changes other sizes is not followed."""
        if isinstance(x, Const) and not x.batched and sizes and len(sizes) > len(x.shape):
            return _expanded(x, sizes, spelled, where)  # torch.arange(512).expand((1, -1))
        if not sizes or len(sizes) != len(x.shape) + batched(x):
            return Unknown(f"`{spelled}` that adds axes is not followed", where)
        first, rest = sizes[0], sizes[1:]
        own = x.shape if batched(x) else x.shape[1:]
        if not (first is BATCH or first == -1 or batched(x)) or not all(s == -1 or s == d for s, d in zip(rest, own)):
            return Unknown(f"`{spelled}` that changes sizes other than the batch is not followed", where)
        if batched(x):
            return x
        if x.shape[:1] != (1,) or isinstance(x, Tensor):
            return Unknown(f"`{spelled}` of a tensor whose first axis is not one to broadcast", where)
        if isinstance(x, Const):
            return Const(x.shape[1:], True, x.integer, x.what)
        return self.reader.parameter_node(x, True, where)

    def unsqueeze(self, x: Operand, dim: int, spelled: str, where: Location | None) -> Any:
        rank = len(x.shape) + batched(x)
        dim = dim if dim >= 0 else dim + rank + 1
        full = [BATCH, *x.shape] if batched(x) else list(x.shape)
        if batched(x) and dim == 0:
            return Unknown(f"`{spelled}` adds an axis before the batch", where)
        full.insert(dim, 1)
        return self._to_shape(x, full, spelled, where)

    def squeeze(self, x: Operand, dim: int | None, spelled: str, where: Location | None) -> Any:
        full = [BATCH, *x.shape] if batched(x) else list(x.shape)
        if dim is None:
            kept = [d for i, d in enumerate(full) if d != 1 or (i == 0 and batched(x))]
        else:
            dim = dim % len(full)
            if batched(x) and dim == 0:
                return x
            kept = [d for i, d in enumerate(full) if i != dim or d != 1]
        return self._to_shape(x, kept, spelled, where)

    def _to_shape(self, x: Operand, full: list[Any], spelled: str, where: Location | None) -> Any:
        if sum(d is None for d in full) > 1:
            return Unknown(f"`{spelled}` on a tensor with unknown sizes", where)
        return self.reshape(x, [-1 if d is None else d for d in full], spelled, where)

    def index(self, x: Operand, key: Any, spelled: str, where: Location | None) -> Any:
        """``x[:, -1, :]``, ``x[..., :16]``, ``x[:, 0]``: one Select or Slice per indexed axis.
        A module's own tensor indexed (``self.pe[:, :n]``) is counted as the module's; what
        comes out is a tensor of its own."""
        if isinstance(x, Param):
            x = Const(x.shape, False, False, x.name)
        items = list(key) if isinstance(key, tuple) else [key]
        items = [_single(i) for i in items]
        if any(not isinstance(i, (int, slice, type(Ellipsis), type(None))) or isinstance(i, bool) for i in items):
            return Unknown(f"indexing `{spelled}` with tensors or unknown values is not read", where)
        rank = len(x.shape) + batched(x)
        if items.count(Ellipsis) > 1:
            raise SpecError(f"`{spelled}`: more than one ...", where)
        if Ellipsis in items:
            at = items.index(Ellipsis)
            fill = rank - (len(items) - 1 - items.count(None))
            items[at:at + 1] = [slice(None)] * max(fill, 0)
        if len(items) - items.count(None) > rank:
            raise SpecError(f"`{spelled}` indexes {len(items) - items.count(None)} axes of a tensor of {rank}", where)
        result: Any = x
        axis = 0
        for item in items:
            if isinstance(result, Unknown):
                return result
            if item is None:
                result = self.unsqueeze(result, axis, spelled, where)
                axis += 1
                continue
            if batched(x) and axis == 0:
                if item != slice(None):
                    return Unknown(f"`{spelled}` indexes the batch axis", where)
                axis += 1
                continue
            if isinstance(result, Unknown):
                return result
            if isinstance(item, int):
                result = self._select(result, axis, item, spelled, where)
                continue
            if item != slice(None):
                result = self._slice(result, axis, item, spelled, where)
            axis += 1
        return result

    def _select(self, x: Operand, axis: int, index: int, spelled: str, where: Location | None) -> Any:
        if isinstance(x, Const) and not batched(x):
            shape = list(x.shape)
            del shape[axis]
            return Const(tuple(shape), False, x.integer, x.what)
        return self.apply("Select", [x], {"axis": axis, "index": index}, "getitem", spelled, where)

    def _slice(self, x: Operand, axis: int, item: slice, spelled: str, where: Location | None) -> Any:
        if any(p is not None and not isinstance(p, int) for p in (item.start, item.stop, item.step)):
            return Unknown(f"`{spelled}` slices with values that are not known", where)
        if isinstance(x, Const) and not batched(x):
            shape = list(x.shape)
            shape[axis] = len(range(*item.indices(shape[axis]))) if shape[axis] is not None else None
            return Const(tuple(shape), False, x.integer, x.what)
        return self.apply("Slice", [x], {"axis": axis, "start": item.start, "stop": item.stop, "step": item.step or 1},
                          "getitem", spelled, where)

    def split(self, x: Operand, sizes: list[int], axis: int, spelled: str, where: Location | None) -> Any:
        start, pieces = 0, []
        for size in sizes:
            pieces.append(self._slice(x, axis % (len(x.shape) + batched(x)), slice(start, start + size), spelled, where))
            start += size
        return tuple(pieces)

    def split_sizes(self, x: Operand, size_or_sections: Any, axis: int, chunks: bool) -> list[int] | None:
        rank = len(x.shape) + batched(x)
        axis %= rank
        if batched(x) and axis == 0:
            return None
        total = x.shape[axis - batched(x)]
        if total is None:
            return None
        if isinstance(size_or_sections, (list, tuple)):
            return list(size_or_sections)
        if not isinstance(size_or_sections, int) or size_or_sections < 1:
            return None
        size = -(-total // size_or_sections) if chunks else size_or_sections
        return [min(size, total - s) for s in range(0, total, size)]

    # ---- reductions and joins ------------------------------------------------------------

    def reduce(self, x: Operand, axis: Any, keepdims: bool, op: str, spelled: str, where: Location | None) -> Any:
        if axis is None:
            return Unknown(f"`{spelled}` over every axis, the batch's too, is not read", where)
        axes = tuple(axis) if isinstance(axis, (list, tuple)) else (axis,)
        return self.apply("Reduce", [x], {"axis": axes if len(axes) > 1 else axes[0], "keepdims": bool(keepdims),
                                         "op": op}, op, spelled, where)

    def concat(self, tensors: list[Any], axis: int, spelled: str, where: Location | None) -> Any:
        if not tensors or not all(is_operand(t) for t in tensors):
            return Unknown(f"`{spelled}` of values that are not all tensors", where)
        return self.apply("Concatenate", list(tensors), {"axis": axis}, "cat", spelled, where)


_VALUE_OPS = {"Add": operator.add, "Sub": operator.sub, "Mult": operator.mul, "FloorDiv": operator.floordiv,
              "Div": operator.truediv}


def _valued(x: Const, op: str, number: float, flipped: bool) -> Any:
    """A constant with values and a number: the values computed (a division by zero leaves
    the values unknown, the shape known)."""
    function = _VALUE_OPS[op]
    try:
        values = tuple(function(number, v) if flipped else function(v, number) for v in x.values)
    except (ZeroDivisionError, OverflowError):
        return Const(x.shape, x.batched, x.integer, x.what)
    integer = x.integer and isinstance(number, int) and op != "Div"
    return Const(x.shape, x.batched, integer, x.what, values)


def _expanded(x: Const, sizes: list[Any], spelled: str, where: Location | None) -> Any:
    """A constant expanded with new leading axes, as torch's expand does: -1 keeps a size, a
    size of 1 takes any, a new leading axis of the batch's size makes it batched."""
    extra = len(sizes) - len(x.shape)
    full: list[Any] = list(sizes[:extra])
    if any(s is not BATCH and (not isinstance(s, int) or s < 0) for s in full):
        return Unknown(f"`{spelled}`: a new axis needs a size (not -1)", where)
    for size, own in zip(sizes[extra:], x.shape):
        if size == -1 or size == own:
            full.append(own)
        elif own == 1 and (size is BATCH or isinstance(size, int)):
            full.append(size)
        else:
            raise SpecError(f"`{spelled}`: size {_dim(size)} does not match {own} (only a size of 1 expands)", where)
    if BATCH in full[1:] or any(not isinstance(s, int) for s in full[1:]):
        return Unknown(f"`{spelled}` puts the batch on an axis other than the first", where)
    if full[0] is BATCH:
        return Const(tuple(full[1:]), True, x.integer, x.what)
    return Const(tuple(full), False, x.integer, x.what)


def made(sizes: Any, integer: bool, spelled: str, where: Location | None) -> Any:
    """A tensor the code makes from sizes (``torch.zeros(1, 1, 768)``, ``keras.random.normal((b,
    16))``): a constant of that shape, batched when its first size is the batch's."""
    if isinstance(sizes, Unknown):
        return sizes
    unknown = next((s for s in sizes if isinstance(s, Unknown)), None)
    if unknown is not None:
        return unknown
    if not all(s is BATCH or (isinstance(s, int) and not isinstance(s, bool) and s >= 0) for s in sizes):
        return Unknown(f"{spelled}(...) with sizes that are not known", where)
    if BATCH in sizes[1:]:
        return Unknown(f"{spelled}(...) with the batch size on an axis other than the first", where)
    if sizes and sizes[0] is BATCH:
        return Const(tuple(sizes[1:]), True, integer, spelled)
    return Const(tuple(sizes), False, integer, spelled)


def _single(item: Any) -> Any:
    """``x[:, [-1], :]``: a list of one index keeps its axis, as a slice of one."""
    if isinstance(item, list) and len(item) == 1 and isinstance(item[0], int) and not isinstance(item[0], bool):
        i = item[0]
        return slice(i, i + 1 if i != -1 else None)
    return item


def _example_target(shape: tuple, dims: list[Any]) -> list[int] | None:
    """The example part of a batch-first target shape, or None when the batch would move."""
    if not dims:
        return None
    first, rest = dims[0], list(dims[1:])
    if any(d is BATCH for d in rest) or not all(isinstance(d, int) for d in rest):
        return None
    size = _size(shape)
    if first is BATCH or (isinstance(first, int) and first >= 1):
        return rest if rest else None
    if first == -1:
        if -1 in rest:
            return None
        if size is not None and prod(rest) != size:
            return None
        return rest
    return None


def _size(shape: tuple) -> int | None:
    return None if any(d is None for d in shape) else prod(shape)


def _full(x: Operand) -> str:
    dims = (["batch"] if batched(x) else []) + [str(d) for d in x.shape]
    return "(" + ", ".join(dims) + ")"


def _dim(d: Any) -> Any:
    return "batch" if d is BATCH else d


def _kind(value: Any) -> str:
    return "a value that is not known" if isinstance(value, Unknown) else f"{with_article(type(value).__name__)}"


def _base_name(spelled: str) -> str:
    """A row name from how the code spells the operation: ``x.view`` → view, ``F.relu`` → relu."""
    word = spelled.split("(")[0].rpartition(".")[2].strip()
    return word if word.isidentifier() else "op"


__all__ = ["LearnableError", "Ops", "is_operand"]
