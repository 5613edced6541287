"""Checkpoints: tensors grouped by module prefix into a tree, without loading any weight.

- ``.safetensors``: only the header is read (an 8-byte length, then JSON of names, dtypes
  and shapes), checked before use; the weights after it are never touched.
- ``.pt`` / ``.pth`` / ``.bin`` / ``.ckpt``: ``torch.load(weights_only=True, mmap=True)``,
  so no arbitrary object is ever unpickled and tensors stay in the mapped file, unread;
  ``_torch_file.py`` checks the zip before and every view after (a count only from bytes
  the file holds). Tensors stored once under two names (tied weights) are counted once.

Each module prefix (``layer1.0.conv1``) becomes one row, counted from its tensors; the
prefixes above it (``layer1``, ``layer1.0``) become blocks with subtotals (``--depth``).
Names PyTorch uses for running statistics are buffers. A checkpoint has no shapes to
follow, so rows show none.
"""

from __future__ import annotations

import json
import struct
from itertools import pairwise
from pathlib import Path

from .._text import with_article
from ..errors import Location, SpecError
from ..graph import BlockInfo, Graph, make_node
from ..rules import PYTORCH, lookup
from . import _stored, _torch_file, quantized

MAX_HEADER = 100 * 1024 * 1024  # a header lists names and shapes; 100 MB of it is not a real file
MAX_MODULE_DEPTH = 256  # dotted parts in a tensor's name, each a block of the report
# Tensors in one header: the largest real files list tens of thousands (a mixture of experts'
# shard with its quantization scales); a crafted 82 MB header lists a million, which took
# 10 s idle and 23 s under load (issue 19's bound is 20 s).
MAX_TENSORS = 300_000
_BUFFERS = {"running_mean", "running_var", "num_batches_tracked"}
_DTYPE_BYTES = {"F64": 8, "F32": 4, "F16": 2, "BF16": 2, "F8_E4M3": 1, "F8_E5M2": 1, "I64": 8, "I32": 4,
                "I16": 2, "I8": 1, "U64": 8, "U32": 4, "U16": 2, "U8": 1, "BOOL": 1}

# (name, shape, dtype, bytes)
Tensor = tuple[str, tuple[int, ...], str, int]


def file_graph(path: Path, **options) -> Graph:
    if not path.is_file():
        raise SpecError("no such file", Location(str(path)))
    tensors = safetensors_tensors(path) if path.suffix.lower() == ".safetensors" else _torch_file.tensors(path)
    return tensor_graph(tensors, name=path.name)


def safetensors_tensors(path: Path) -> list[Tensor]:
    where = Location(str(path))
    size = path.stat().st_size
    with path.open("rb") as file:
        length = header_length(file.read(8), size, where)
        raw = file.read(length)
    return header_tensors(raw, size - 8 - length, where)


def header_length(head: bytes, size: int, where: Location) -> int:
    """The header's length from a file's first 8 bytes (little-endian u64), checked against
    the file's ``size`` and MAX_HEADER before a byte of the header is read."""
    if len(head) < 8:
        raise SpecError("is too short to be a safetensors file", where)
    (length,) = struct.unpack("<Q", head[:8])
    if length > min(size - 8, MAX_HEADER):
        raise SpecError(f"declares {with_article(format(length, ','))}-byte header in "
                        f"{with_article(format(size, ','))}-byte file; not a safetensors file", where)
    return length


def header_tensors(raw: bytes, data_size: int, where: Location) -> list[Tensor]:
    """The tensors a header's JSON lists, each checked against the ``data_size`` bytes after it
    (the calculator's server gets the header alone from the page, and the file's size)."""
    try:
        header = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):  # RecursionError: "[[[[...": nested too deep
        raise SpecError("has a header that is not JSON; not a safetensors file", where) from None
    if not isinstance(header, dict):
        raise SpecError("has a header that is not a JSON object; not a safetensors file", where)
    entries = {name: entry for name, entry in header.items() if name != "__metadata__"}
    if len(entries) > MAX_TENSORS:
        raise SpecError(f"lists {len(entries):,} tensors; more than {MAX_TENSORS:,} is not a model's file", where)
    tensors = [_safetensor(name, entry, data_size, where) for name, entry in entries.items()]
    _check_disjoint(entries, where)
    return tensors


def _check_disjoint(entries: dict[str, dict], where: Location) -> None:
    """Tensors may not share bytes (the format forbids it): two names over the same data
    would be counted twice, and a crafted header could claim any count it likes."""
    spans = sorted((entry["data_offsets"][0], entry["data_offsets"][1], name) for name, entry in entries.items()
                   if entry["data_offsets"][0] < entry["data_offsets"][1])
    for (_, end, first), (start, _, second) in pairwise(spans):
        if start < end:
            raise SpecError(f"tensors '{first}' and '{second}' overlap in the file (data offsets); "
                            "not a valid safetensors file", where)


def _safetensor(name: str, entry: object, data_size: int, where: Location) -> Tensor:
    if not isinstance(entry, dict):
        raise SpecError(f"tensor '{name}' has no description in the header", where)
    dtype, shape, offsets = entry.get("dtype"), entry.get("shape"), entry.get("data_offsets")
    if (not isinstance(dtype, str) or dtype not in _DTYPE_BYTES or not isinstance(shape, list)
            or not all(_is_int(d) and d >= 0 for d in shape)):
        raise SpecError(f"tensor '{name}' has a bad dtype or shape in the header: {dtype!r}, {shape!r}", where)
    nbytes = _nbytes(shape, _DTYPE_BYTES[dtype], data_size)
    if (not isinstance(offsets, list) or len(offsets) != 2 or not all(_is_int(o) for o in offsets)
            or not 0 <= offsets[0] <= offsets[1] <= data_size or offsets[1] - offsets[0] != nbytes):
        raise SpecError(f"tensor '{name}' has data offsets {offsets!r} that do not fit its shape and the file", where)
    return name, tuple(shape), dtype, nbytes


def _nbytes(shape: list[int], itemsize: int, limit: int) -> int:
    """The tensor's bytes, or limit + 1 once past it: a crafted header of ten thousand
    4,000-digit sizes would otherwise take minutes to multiply out."""
    if 0 in shape:
        return 0
    nbytes = itemsize
    for dim in shape:
        nbytes *= dim
        if nbytes > limit:
            return limit + 1
    return nbytes


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)  # JSON's true is not 1 here


def tensor_graph(tensors: list[Tensor], name: str | None = None, quantization: object = None) -> Graph:
    """One node per module prefix, blocks for the prefixes above them. A quantized linear
    (quantized.py; ``quantization`` is a config's quantization_config) is a Linear of its
    logical size; any other module is counted from its tensors."""
    _check_depth(tensors, name)
    nodes, blocks = [], {}
    found = []
    groups = _in_module_order(quantized.group(tensors))
    above = {module.rpartition(".")[0] for module in groups if module}
    for module, members in groups.items():
        if module in above and not isinstance(quantized.recognise(members, quantization), quantized.QuantizedLinear):
            # a module with tensors of its own and submodules (a ViT's cls_token beside its
            # blocks): its tensors are rows inside its block, so it is not listed twice
            for local, tensor in members.items():
                path = f"{module}.{local}" if module else local
                nodes.append(_tensors_node(path, {local: tensor}, _ensure_blocks(module, blocks, path), None))
            continue
        parent = _ensure_blocks(module.rpartition(".")[0], blocks, module)
        q = quantized.recognise(members, quantization)
        if isinstance(q, quantized.QuantizedLinear):
            found.append(q)
        nodes.append(_quantized_node(module, q, parent) if isinstance(q, quantized.QuantizedLinear)
                     else _tensors_node(module, members, parent, q))
    notes = (quantized.summary(found),) if found else ()
    return Graph(tuple(nodes), name=name, convention=PYTORCH, blocks=tuple(blocks.values()), notes=notes)


def _in_module_order(groups: dict[str, dict[str, Tensor]]) -> dict[str, dict[str, Tensor]]:
    """The modules as a tree, each one's children together and in the order the file first
    names them, but numbered siblings by number: a header's order is the writer's (the
    safetensors package sorts names as text: ``layers.0``, ``layers.1``, ``layers.10``,
    ``layers.2``), and a module's rows must not be split around another's."""
    first: dict[str, int] = {}  # a path's first appearance; for numbered children, their parent's slot

    def slots(module: str) -> list[tuple[str, tuple[int, str]]]:
        found, prefix = [], ""
        for part in module.split(".") if module else []:
            number = part.isascii() and part.isdigit()
            # (a number by its length, then its digits: int() of a hostile 5,000-digit part fails)
            found.append((f"{prefix}.{'#' if number else part}", (len(part), part) if number else (0, "")))
            prefix = f"{prefix}.{part}" if prefix else part
        return found

    keyed = {module: slots(module) for module in groups}  # once each: a header may list 300,000
    for module_slots in keyed.values():
        for slot, _ in module_slots:
            first.setdefault(slot, len(first))
    return {module: groups[module] for module in sorted(
        groups, key=lambda module: tuple((first[slot], number) for slot, number in keyed[module]))}


def _check_depth(tensors: list[Tensor], name: str | None) -> None:
    """Each dotted part of a name is a block: a real model nests a dozen
    (``model.layers.0.mlp.experts.3.w1.weight``); 20,000 parts are a crafted file."""
    for tensor in tensors:
        depth = tensor[0].count(".") + 1
        if depth > MAX_MODULE_DEPTH:
            shown = tensor[0] if len(tensor[0]) <= 60 else f"{tensor[0][:60]}…"
            raise SpecError(f"tensor {shown!r} has a module path of {depth:,} dotted parts; more than "
                            f"{MAX_MODULE_DEPTH} is not a model's", Location(name) if name else None)


def _tensors_node(module: str, members: dict[str, Tensor], parent: str | None, why: str | None):
    local = [(n, t[1], n not in _BUFFERS, n in _BUFFERS) for n, t in members.items()]
    note = _dtypes(list(members.values()))
    return make_node(lookup("Tensors"), module or "(top level)", (), (), {
        "tensors": local, "output_shape": (), "note": f"{why}; {note}" if why else note}, input_shapes=(),
        block=parent, type_name="tensors", stored=_stored.tensor_stored(list(members.values())) or ())


def _quantized_node(module: str, q: quantized.QuantizedLinear, parent: str | None):
    note = quantized.describe(q)
    stored = _stored.quantized_stored(q) or ()
    if q.inputs is None:  # bitsandbytes 4-bit with no bias: its element count, not its shape
        local = [("weight", (q.elements,), True, False)]
        return make_node(lookup("Tensors"), module or "(top level)", (), (), {
            "tensors": local, "output_shape": (), "note": note}, input_shapes=(), block=parent,
            type_name=f"Linear ({q.method})", stored=stored)
    return make_node(lookup("Linear", PYTORCH), module or "(top level)", (), (q.inputs, q.outputs, q.bias is not None),
                     input_shapes=((q.inputs,),), block=parent, type_name=f"Linear ({q.method})", note=note,
                     stored=stored)


def _ensure_blocks(prefix: str, blocks: dict[str, BlockInfo], last: str) -> str | None:
    """The block for ``prefix`` and those above it; ``last`` is the latest node inside.
    A loop, not recursion: nothing here depends on Python's stack (_check_depth bounds it)."""
    if not prefix:
        return None
    parts = prefix.split(".")
    parent = None
    for i in range(1, len(parts) + 1):
        path = ".".join(parts[:i])
        blocks[path] = BlockInfo(path, "module", parent, last or "(top level)")
        parent = path
    return prefix


def _dtypes(members: list[Tensor]) -> str:
    dtypes = sorted({t[2] for t in members})
    return f"{', '.join(dtypes)}; {sum(t[3] for t in members):,} bytes"
