"""How a checkpoint stores each row's tensors (report.Stored), so that memory with no
--dtype counts the bytes the file holds: a plain tensor as its dtype (F16: one value in 2
bytes); a quantized linear's packed weight by its layout (GPTQ 4-bit: 8 values in one
int32, 4 bytes) and its scales, zeros, absmax and g_idx as quantization metadata, each
tensor by its dtype. Every record's bytes are the tensor's own (the file's byte size)."""

from __future__ import annotations

import re
from dataclasses import replace
from math import prod

from ..graph import Graph
from ..report import Stored
from . import quantized

Tensor = quantized.Tensor


def tensor_stored(tensors: list[Tensor]) -> tuple[Stored, ...] | None:
    """Each tensor as its dtype, one value a block; None where a size is not whole values
    (the row is then not known as stored, and memory falls back to a chosen dtype)."""
    records = []
    for _, shape, dtype, nbytes in tensors:
        elements = prod(shape)
        if elements == 0:
            continue
        if nbytes % elements:
            return None
        records.append(Stored(quantized.dtype_code(dtype), elements, 1, nbytes // elements))
    return tuple(records)


def quantized_stored(q: quantized.QuantizedLinear) -> tuple[Stored, ...] | None:
    """The packed weight as its scheme (``GPTQ 4-bit, group 128``: out×in values, 8 in 4
    bytes), the bias as its dtype, and each metadata tensor as ``<scheme>: scales F16 metadata``."""
    weight, *bias = q.weight
    packed = Stored(q.scheme, q.elements, *q.layout)
    if packed.bytes != weight[3]:  # a layout that does not give the file's bytes is not claimed
        return None
    rest = tensor_stored(bias)
    metadata = tensor_stored(list(q.metadata))
    if rest is None or metadata is None:
        return None
    names = [_local(t[0]) for t in q.metadata if prod(t[1])]
    metadata = tuple(replace(s, format=f"{q.scheme}: {name} {s.format} metadata") for s, name in zip(metadata, names))
    return (packed, *rest, *metadata)


def _local(name: str) -> str:
    """``a.q_proj.weight.absmax`` → ``absmax``; ``a.q_proj.scales`` → ``scales``."""
    local = quantized.module_of(name)[1]
    return local.removeprefix("weight.") if local != "weight" else local


# model.layers.0.self_attn.q_proj (stored) and layers/layer_1/self_attn/q_proj (a config's row)
_STORED = re.compile(r"(?:.*\.)?(\w+)\.(\d+)\.(.+)")
_CONFIG_ROW = re.compile(r"(\w+)/layer_(\d+)/(.+)")


def _stored_keys(module: str) -> list:
    """The keys a config's row may name a stored module by: (layers, index, rest) inside the
    decoder stack; the name and each dotted suffix outside it (``model.norm``: ``norm``)."""
    match = _STORED.fullmatch(module)
    if match:
        return [(match[1], int(match[2]), match[3])]
    parts = module.split(".")
    return [".".join(parts[i:]) for i in range(len(parts))]


def _row_key(name: str):
    match = _CONFIG_ROW.fullmatch(name)
    return (match[1], int(match[2]) - 1, match[3].replace("/", ".")) if match else name.replace("/", ".")


def attach(graph: Graph, groups: dict[str, dict[str, Tensor]], found: dict[str, quantized.QuantizedLinear],
           counted: dict[str, int]) -> Graph:
    """A config's rows with the stored records of the module each stands for, where the
    module's values are the row's parameters and buffers (``counted``, by row name); a row
    not matched keeps none, so it is not known as stored."""
    records: dict = {}
    ambiguous = set()
    for module, members in groups.items():
        q = found.get(module)
        stored = quantized_stored(q) if q else tensor_stored(list(members.values()))
        values = q.params if q else sum(prod(t[1]) for t in members.values())
        for key in _stored_keys(module):
            if key in records:
                ambiguous.add(key)
            records[key] = (values, stored)
    nodes = []
    for node in graph.nodes:
        key = _row_key(node.name)
        values, stored = records.get(key, (None, None))
        if stored and key not in ambiguous and counted.get(node.name) == values:
            node = replace(node, stored=stored)
        nodes.append(node)
    return replace(graph, nodes=tuple(nodes))
