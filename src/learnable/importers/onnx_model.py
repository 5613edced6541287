"""ONNX files and models: counted from their initializers, never run, external data never read.

- **Reading.** ``onnx.load(path, load_external_data=False)``: a tensor kept in an external
  file still states its ``dims``, and the count needs nothing else, so that file is never
  opened. The checker and shape inference see a *skeleton* of the model (its large or
  external tensors as typed graph inputs, without data), so neither touches nor copies a
  weight. Anything that is not a valid ONNX model, or is over 2 GB, or nests subgraphs more
  than ``MAX_NESTING`` deep, is one :class:`SpecError`.
- **Shapes** come from ``onnx.shape_inference`` on the skeleton. An example's shape drops
  the batch axis: the first dim of each graph input, followed through the graph by naming it
  with a marker and inferring again (an ONNX LSTM's batch is its second axis). Dynamic dims
  are None; ``input_shape`` gives a one-input model's dynamic sizes.
- **Rows.** One per graph input, and one per ONNX node that reads initializers, counted from
  the tensors it reads: through the layer rule that fits (the table ``TABLE``: Conv →
  Conv1d/2d/3d, Gemm or a MatMul by a weight → Linear, Gather from a table → Embedding, ...)
  when that rule lists exactly those tensors and agrees with ONNX's output shape; otherwise
  with the ``Tensors`` rule, type = the op. Nodes that read no initializer (Relu, an Add of
  two activations, Reshape, the Shape/Gather/Concat arithmetic around an LSTM) own nothing
  and an export has many of them, so they get no row: they would bury the layers. Each row's
  ``inputs`` name the nearest rows upstream, so the connections stay.
- **What counts.** ONNX has no trainable flag: every initializer is a parameter, except
  BatchNormalization's input_mean and input_var (PyTorch's running statistics: buffers) and
  integer tensors read only where the op's schema marks the input non-differentiable (shapes,
  axes, indices): constants, listed as buffers in one row. A tensor read by several nodes
  counts once, where first read; the later rows share it (the same tensors: the engine's
  ``shares``) or list only what is new, and say so. An ``Identity`` of an initializer is the
  exporter storing identical tensors once under two names: it is that tensor, and no row.
- **What a file holds** is not the framework model (CONVENTIONS.md §5): exporters fold
  BatchNorm into the convolutions in eval mode, keep running statistics without
  ``num_batches_tracked`` otherwise, store identical tensors once, and store a tied weight
  used transposed twice. The report's name says so.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import onnx
from google.protobuf.message import DecodeError
from onnx import TensorProto, defs, helper
from onnx.checker import ValidationError

from .._names import Names
from .._text import shape_text
from ..errors import LearnableError, Location, SpecError
from ..graph import Graph, Node, make_node
from ..rules import CHANNELS_FIRST, KERAS, PYTORCH, Context, Shape, lookup
from ._onnx_ops import TABLE, NoFit, Op
from ._onnx_shapes import Shapes, first_line, text
from ._onnx_tensor import Tensor, bounded_size, checked, checked_sparse

MAX_FILE_BYTES = 2**31  # protobuf's own limit: bigger models keep their weights in external data
MAX_NESTING = 16  # subgraphs (If, Loop, Scan) within subgraphs; real models nest a few
INLINE_ELEMENTS = 1024  # small tensors stay in the skeleton, where shape inference may read their values
_TENSORS = lookup("Tensors")
_CONSTANT_TYPES = {TensorProto.INT64, TensorProto.INT32, TensorProto.UINT64, TensorProto.UINT32,
                   TensorProto.BOOL, TensorProto.STRING}
_EXTERNAL = ("{:,} initializer(s) keep their data in external files, never opened: their sizes are the dims the "
             "model states, not checked against the data")
_RECURRENT = {"LSTM": 4, "GRU": 3, "RNN": 1}
_CAVEAT = ("what this ONNX file holds; exporters fold BatchNorm into convolutions and merge identical tensors, "
           "so its total can differ from the framework model's")


# ---- reading and checking -------------------------------------------------------------------


def file_graph(path: Path, **options: Any) -> Graph:
    where = Location(str(path))
    if not path.is_file():
        raise SpecError("no such file", where)
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise SpecError(f"is {size:,} bytes; an ONNX file holds at most 2 GB (larger models keep their "
                        "weights in external data files)", where)
    try:
        model = onnx.load(str(path), load_external_data=False)
    except (DecodeError, OSError, ValueError) as err:  # DecodeError: not a ModelProto
        raise SpecError(f"is not an ONNX model: {first_line(err)}", where) from None
    try:
        return to_graph(model, name=path.name, where=where, **options)
    except UnicodeDecodeError:  # protobuf decodes a string field when it is first read, not at load
        raise SpecError("holds a name or string that is not UTF-8 (protobuf strings must be); not a valid "
                        "ONNX file", where) from None


def to_graph(model: Any, *, name: str | None = None, where: Location | None = None,
             input_shape: Any = None, convention: str | None = None, **_: Any) -> Graph:
    """The Graph of an ONNX ``ModelProto``; its external data, if any, is never read."""
    if not isinstance(model, onnx.ModelProto):
        raise SpecError(f"expected an onnx.ModelProto, got {type(model).__name__}", where)
    if not model.HasField("graph") or not model.ir_version or not model.opset_import:
        raise SpecError("is not an ONNX model: it has no graph, IR version or opset", where)
    tensors = _initializers(model.graph, where)
    skeleton = _skeleton(model, tensors)
    try:
        onnx.checker.check_model(skeleton)
    except (ValidationError, defs.SchemaError, UnicodeDecodeError) as err:  # text that is not UTF-8
        raise SpecError(f"is not a valid ONNX model: {first_line(err)}", where) from None
    shapes = Shapes(skeleton, {t.name for t in tensors}, input_shape, where)
    title = f"{name or text(model.graph.name) or 'ONNX model'}: {_CAVEAT}"
    graph = _Builder(model, tensors, shapes, convention or PYTORCH, where).graph(title)
    external = sum(t.external for t in tensors)
    return replace(graph, notes=(*graph.notes, _EXTERNAL.format(external))) if external else graph


def _initializers(graph: onnx.GraphProto, where: Location | None) -> list[Tensor]:
    """Each initializer, its dims checked against the data it holds (_onnx_tensor.py)."""
    return ([checked(t, where) for t in graph.initializer]
            + [checked_sparse(s, where) for s in graph.sparse_initializer])


def _skeleton(model: onnx.ModelProto, tensors: list[Tensor]) -> onnx.ModelProto:
    """The model without its weights: large or external initializers become typed inputs,
    so neither the checker nor shape inference touches (or copies) their data."""
    source = model.graph
    graph = helper.make_graph(list(source.node), source.name or "graph", list(source.input),
                              list(source.output), value_info=list(source.value_info))
    declared = {i.name for i in source.input}
    for tensor in source.initializer:
        if tensor.data_location != TensorProto.EXTERNAL and bounded_size(tensor.dims) <= INLINE_ELEMENTS:
            graph.initializer.append(tensor)
    kept = {t.name for t in graph.initializer}
    for t in tensors:
        if t.name not in kept and t.name not in declared:
            graph.input.append(helper.make_tensor_value_info(t.name, t.dtype, t.dims))
    skeleton = helper.make_model(graph, opset_imports=list(model.opset_import), functions=list(model.functions))
    skeleton.ir_version = model.ir_version
    return skeleton


@dataclass(frozen=True)
class _Use:
    slot: int | None  # the node's input slot; None for a read inside one of its subgraphs
    key: str  # the initializer (an alias resolved)
    via: str  # the name the node reads it by


class _Builder:
    def __init__(self, model: onnx.ModelProto, tensors: list[Tensor], shapes: Shapes, convention: str,
                 where: Location | None):
        self.tensors = {t.name: t for t in tensors}
        self.shapes, self.convention, self.where = shapes, convention, where
        self.context = Context(CHANNELS_FIRST, convention)
        self.opsets = {("" if i.domain == "ai.onnx" else i.domain): i.version for i in model.opset_import}
        self.nodes = list(model.graph.node)
        self.aliases: dict[str, str] = {}
        self.uses = {i: found for i, node in enumerate(self.nodes) if (found := self._node_uses(node))}
        self.roles = self._roles()
        self.owner: dict[str, int] = {}  # where each tensor is counted: the first node to read it
        for i, uses in self.uses.items():
            for use in uses:
                self.owner.setdefault(use.key, i)
        self.rows: dict[int, str] = {}  # node index → its row's name
        self.built: dict[int, list[tuple[int, ...]]] = {}  # node index → its row's weight shapes
        self.names = Names()

    # -- which node reads which tensor --

    def _resolve(self, name: str) -> str | None:
        return self.aliases.get(name) or (name if name in self.tensors else None)

    def _node_uses(self, node: onnx.NodeProto) -> list[_Use]:
        found = [_Use(slot, key, name) for slot, name in enumerate(node.input) if name and (key := self._resolve(name))]
        if node.op_type == "Identity" and node.domain in ("", "ai.onnx") and len(found) == 1 and node.output:
            # The exporter's way to store identical tensors once: the output is that tensor.
            self.aliases[node.output[0]] = found[0].key
            return []
        for attribute in node.attribute:
            for sub in _subgraphs(attribute):
                reads, own = self._subgraph_reads(sub, 1)
                found += [_Use(None, key, name) for name in reads if (key := self._resolve(name))]
                found += [_Use(None, self._register(t), t.name) for t in own]
        return found

    def _subgraph_reads(self, graph: onnx.GraphProto, depth: int) -> tuple[list[str], list[Tensor]]:
        """The outer names a subgraph reads, and the initializers it holds itself."""
        if depth > MAX_NESTING:
            raise SpecError(f"nests subgraphs more than {MAX_NESTING} deep", self.where)
        own = _initializers(graph, self.where)
        local = {v.name for v in graph.input} | {t.name for t in own}
        reads: list[str] = []
        for node in graph.node:
            reads += [name for name in node.input if name and name not in local]
            for attribute in node.attribute:
                for sub in _subgraphs(attribute):
                    inner, held = self._subgraph_reads(sub, depth + 1)
                    reads += [name for name in inner if name not in local]
                    own += held
            local.update(node.output)
        return reads, own

    def _register(self, tensor: Tensor) -> str:
        key, n = tensor.name, 1
        while key in self.tensors:  # a subgraph's names are its own scope
            n += 1
            key = f"{tensor.name}#{n}"
        self.tensors[key] = tensor
        return key

    def _roles(self) -> dict[str, str]:
        """param, buffer (BatchNorm's statistics) or constant (integers read as shapes or indices)."""
        reads: dict[str, list[tuple[onnx.NodeProto, int | None]]] = {}
        for i, uses in self.uses.items():
            for use in uses:
                reads.setdefault(use.key, []).append((self.nodes[i], use.slot))
        roles = {key: "param" for key in self.tensors}
        for key, places in reads.items():
            if all(n.op_type == "BatchNormalization" and slot in (3, 4) for n, slot in places):
                roles[key] = "buffer"
            elif self.tensors[key].dtype in _CONSTANT_TYPES and all(
                    slot is not None and not self._differentiable(n, slot) for n, slot in places):
                roles[key] = "constant"
        return roles

    def _differentiable(self, node: onnx.NodeProto, slot: int) -> bool:
        domain = "" if node.domain == "ai.onnx" else node.domain
        try:
            formals = defs.get_schema(node.op_type, self.opsets.get(domain, 1), domain).inputs
        except defs.SchemaError:
            return True
        if slot >= len(formals) and (not formals or formals[-1].option != defs.OpSchema.FormalParameterOption.Variadic):
            return True
        category = formals[min(slot, len(formals) - 1)].differentiation_category
        return category != defs.OpSchema.DifferentiationCategory.NonDifferentiable

    # -- the graph --

    def graph(self, title: str) -> Graph:
        rows: list[Node] = []
        origin: dict[str, tuple[str, ...]] = {}  # value → the rows it comes from
        for name in self.shapes.inputs:
            row = self._unique(name)
            origin[name] = (row,)
            rows.append(self._input_row(row, name))
        for i, node in enumerate(self.nodes):
            sources = tuple(dict.fromkeys(r for name in node.input if name for r in origin.get(name, ())))
            uses = [u for u in self.uses.get(i, ()) if self.roles[u.key] != "constant"]
            if uses:  # a node that owns nothing gets no row; its outputs come from its inputs' rows
                self.rows[i] = self._unique(text(node.name).lstrip("/") or f"{node.op_type}_{i}")
                rows.append(self._row(i, uses, sources))
            for name in node.output:
                origin[name] = (self.rows[i],) if uses else sources
        rows += self._leftovers()
        return Graph(tuple(rows), name=title, data_format=CHANNELS_FIRST, convention=self.convention)

    def _unique(self, wanted: str) -> str:
        return self.names.unique(wanted, "_{n}")

    def _input_row(self, row: str, name: str) -> Node:
        shape = self.shapes.example(name)
        try:
            return make_node(lookup("Input"), row, (), kwargs={"shape": shape})
        except LearnableError:  # a scalar per example, an unknown rank: no Input layer says that
            note = f"ONNX graph input of {'unknown shape' if shape is None else f'shape {shape_text(shape)}'}"
            return make_node(_TENSORS, row, (), kwargs={"output_shape": shape or (), "note": note},
                             input_shapes=(), type_name="Input")

    # -- one node's row --

    def _row(self, i: int, uses: list[_Use], sources: tuple[str, ...]) -> Node:
        node = self.nodes[i]
        op = Op(node, {u.slot: self.tensors[u.key] for u in uses if u.slot is not None}, self.shapes)
        keys = list(dict.fromkeys(u.key for u in uses))
        new = [k for k in keys if self.owner[k] == i]
        output = self.shapes.example(node.output[0]) if node.output and node.output[0] else None
        shared = self._shared(i, op, uses, keys, sources, output) if len(new) < len(keys) else None
        if shared is not None:
            return shared
        # A rule counts all its tensors; where another row holds one, only the new ones are listed.
        built, shapes, reason = self._rule_row(op, self.rows[i], sources, output) if new == keys else (None, None, "")
        if built is None:
            built, shapes = self._tensors_row(op, uses, new, self.rows[i], sources, output, reason)
        self.built[i] = shapes
        return built

    def _shared(self, i: int, op: Op, uses: list[_Use], keys: list[str], sources, output) -> Node | None:
        """A node that reads exactly another node's tensors (a layer applied twice) shares its weights."""
        owners = {self.owner[k] for k in keys}
        first = min(owners)
        if len(owners) > 1 or self.nodes[first].op_type != op.type or first not in self.built:
            return None
        if [(u.slot, u.key) for u in self.uses[first] if self.roles[u.key] != "constant"] != \
                [(u.slot, u.key) for u in uses]:
            return None
        built, shapes, _ = self._rule_row(op, self.rows[i], sources, output)
        if built is None:
            built, shapes = self._tensors_row(op, uses, keys, self.rows[i], sources, output, "")
        if shapes != self.built[first]:
            return None
        return replace(built, shares=self.rows[first])

    def _rule_row(self, op: Op, row: str, sources, output: Shape | None):
        """The node through its layer rule, when the rule lists exactly its tensors: (node,
        weight shapes, "") or (None, None, why not)."""
        mapping = TABLE.get(op.type) if op.node.domain in ("", "ai.onnx") else None
        if mapping is None:
            return None, None, ""
        try:
            rule_name, kwargs, x = mapping(op)
            rule = lookup(f"nn.{rule_name}")
            node = make_node(rule, row, sources, kwargs=kwargs, input_shapes=(x,), type_name=f"{op.type} ({rule.name})")
            inference = rule.infer(node.args, [x], self.context)
        except (NoFit, LearnableError) as err:
            return None, None, str(err)
        held = sum(t.size for t in {t.name: t for t in op.weights.values()}.values())
        if sum(w.count for w in inference.weights) != held:
            return None, None, f"the {rule.name} rule's tensors are not the ones it reads"
        if not _agrees(inference.output_shape, output):
            return None, None, (f"the {rule.name} rule gives output {shape_text(inference.output_shape)}, "
                                f"ONNX {shape_text(output)}")
        return node, [w.shape for w in inference.weights], ""

    def _tensors_row(self, op: Op, uses: list[_Use], new: list[str], row: str, sources, output, reason: str):
        entries = [self._entry(key) for key in new]
        notes = [self._about(op, reason), *self._aliased(uses, new), *self._counted_elsewhere(uses, new)]
        node = make_node(_TENSORS, row, sources, kwargs={
            "tensors": entries, "output_shape": output if output is not None else (),
            "note": "; ".join(n for n in notes if n)}, input_shapes=(), type_name=op.type)
        return node, [e[1] for e in entries]

    def _entry(self, key: str) -> tuple[str, tuple[int, ...], bool, bool]:
        """(name, shape, trainable, buffer) as the Tensors rule takes them."""
        tensor, role = self.tensors[key], self.roles[key]
        if role == "param":
            return tensor.name, tensor.dims, True, False
        return tensor.name, tensor.dims, False, role == "constant" or self.convention != KERAS

    def _about(self, op: Op, reason: str) -> str:
        if op.type == "BatchNormalization":
            stats = ("buffers, as PyTorch keeps running_mean and running_var (num_batches_tracked is not exported)"
                     if self.convention != KERAS else "non-trainable, as Keras keeps moving_mean and moving_variance")
            return f"ONNX BatchNormalization: scale and B are parameters; input_mean and input_var are {stats}"
        if op.type in _RECURRENT:
            dirs = 2 if op.attr("direction", "forward") == "bidirectional" else 1
            return (f"ONNX {op.type} ({_RECURRENT[op.type]} gate{'s' * (op.type != 'RNN')}, hidden size "
                    f"{op.attr('hidden_size')}, {dirs} direction{'s' * (dirs > 1)}): W, R and B hold PyTorch's "
                    f"weight_ih, weight_hh, and bias_ih with bias_hh, the same elements as nn.{op.type}")
        if reason:
            return f"ONNX {op.type}: counted from the initializers it reads ({reason})"
        if op.type in TABLE:  # the rule would count a tensor another row holds
            return f"ONNX {op.type}: lists only the initializers it reads first"
        return f"ONNX {op.type}: no layer rule for it; counted from the initializers it reads"

    def _aliased(self, uses: list[_Use], new: list[str]) -> Iterator[str]:
        for use in dict.fromkeys(uses):
            if use.via != use.key and use.key in new:
                yield f"its input '{use.via}' is '{use.key}', stored once for identical values"

    def _counted_elsewhere(self, uses: list[_Use], new: list[str]) -> Iterator[str]:
        for key in dict.fromkeys(u.key for u in uses if u.key not in new):
            via = next(u.via for u in uses if u.key == key)
            tensor, where = self.tensors[key], self.rows[self.owner[key]]
            name = f"'{via}' (the exporter stored it once as '{key}', identical values)" if via != key else f"'{key}'"
            yield f"{name} {shape_text(tensor.dims)} is counted at '{where}', which reads it first"

    def _leftovers(self) -> list[Node]:
        """Constants (one row, buffers) and initializers no node reads (one row, still counted)."""
        rows = []
        constants = [k for k in self.tensors if self.roles[k] == "constant"]
        if constants:
            readers = [self.nodes[i].op_type for i, uses in self.uses.items()
                       if any(self.roles[u.key] == "constant" for u in uses)]
            ops = ", ".join(f"{op} ×{readers.count(op)}" for op in dict.fromkeys(readers))
            note = (f"integer tensors read only as shapes, axes or indices (inputs ONNX marks non-differentiable) "
                    f"by {ops}: constants, not parameters")
            rows.append(self._extra("(constants)", constants, note))
        read = {u.key for uses in self.uses.values() for u in uses}
        unused = [k for k in self.tensors if k not in read]
        if unused:
            rows.append(self._extra("(unread initializers)", unused, "in the file, but no layer uses them"))
        return rows

    def _extra(self, name: str, keys: list[str], note: str) -> Node:
        return make_node(_TENSORS, self._unique(name), (), kwargs={
            "tensors": [self._entry(k) for k in keys], "output_shape": (), "note": note},
            input_shapes=(), type_name="initializers")


def _subgraphs(attribute: onnx.AttributeProto) -> list[onnx.GraphProto]:
    if attribute.type == onnx.AttributeProto.GRAPH:
        return [attribute.g]
    return list(attribute.graphs) if attribute.type == onnx.AttributeProto.GRAPHS else []


def _agrees(ours: Shape, theirs: Shape | None) -> bool:
    if theirs is None:
        return True
    return len(ours) == len(theirs) and all(a is None or b is None or a == b for a, b in zip(ours, theirs))
