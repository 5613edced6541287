"""Shape inference and counting: a Graph in, a Report out.

Layers are visited in topological order so every input shape is known; rows are reported
in source order. A rule's local error is re-raised with the layer's name, type, place and
input shapes, so the user sees where and why.
"""

from __future__ import annotations

from dataclasses import replace

from . import receptive
from ._text import shape_text
from .errors import LayerError, RuleError
from .expr import Expr, equation, num, product, quotient, total
from .graph import Graph, Node
from .report import BlockRow, LayerRow, Report, WeightRow
from .rules import Context, Inference, Shape
from .rules._args import MAX_INT
from .rules._base import shape_arithmetic
from .rules._kinds import KINDS, kind_of, own_split


def run(graph: Graph, counted: dict | None = None) -> Report:
    """The report of ``graph``. ``counted`` carries the layers counted so far from one call
    to the next, for the variants of a sweep (which share most of their layers): a dict
    that only this function fills."""
    context = Context(data_format=graph.data_format, convention=graph.convention)
    shapes: dict[str, Shape] = {}
    fields: dict[str, receptive.State] = {}
    rows: dict[str, LayerRow] = {}
    tied: dict[str, Inference] = {}  # layers that share another's weights: their own tensors
    network_input, data_format = _network_input(graph), graph.data_format
    # The same layer on the same input, counted once (a deep stack repeats itself), per
    # data format and convention: the rules read them.
    counted = {} if counted is None else counted.setdefault((graph.data_format, graph.convention), {})
    for node in graph.topological_order():
        inputs = list(node.input_shapes) if node.input_shapes is not None else [shapes[n] for n in node.inputs]
        # Rules are pure functions of these: the rule, the name it shows as, its arguments
        # (by identity: layers bound from the same call share one mapping, graph._bind, and
        # 1, 1.0 and True, equal as values, are not the same argument), the input shapes and
        # whether it trains. (Looked up here, not in a function: this runs for every layer.)
        key = (id(node.rule), node.type_name, id(node.args), tuple(inputs), node.trainable, node.active)
        counted_row = counted.get(key)
        if counted_row is None:
            counted_row = counted[key] = _count(node, inputs, context)
        inference, template, _ = counted_row
        if node.shares is not None:
            tied[node.name] = inference
        shapes[node.name] = inference.output_shape
        fields[node.name] = field = _field(node, inference, inputs, fields, data_format)
        sees_all = field is not None and receptive.sees_whole(field, network_input, data_format)
        rows[node.name] = _placed(template, node, field, sees_all)
    _count_shared_once(graph, rows, tied)
    layers = tuple(rows[node.name] for node in graph.nodes)
    return Report(
        layers=layers,
        name=graph.name,
        data_format=graph.data_format,
        convention=graph.convention,
        blocks=block_rows(graph, layers, shapes),
        notes=graph.notes,
    )


def _network_input(graph: Graph) -> Shape | None:
    """The one input's shape, which a receptive field is compared with; None if several."""
    inputs = [n for n in graph.nodes if n.rule.is_input]
    return inputs[0].args["shape"] if len(inputs) == 1 else None


def _field(node: Node, inference: Inference, inputs: list[Shape], fields: dict[str, receptive.State],
           data_format: str) -> receptive.State:
    if node.rule.is_input:
        return receptive.input_field(inference.output_shape, data_format)
    if node.input_shapes is not None:  # traced by an importer, not wired: no fields to follow
        return None
    return receptive.propagate(node.rule, inference, [fields[n] for n in node.inputs], inputs, data_format)


def _count_shared_once(graph: Graph, rows: dict[str, LayerRow], tied: dict[str, Inference]) -> None:
    """A layer used at several places owns its weights once: where it is first defined. A
    layer of another type that shares them (a head tied to an Embedding) holds one of its
    tensors there, and its others (a bias) are its own."""
    users: dict[str, list[str]] = {}
    rules = {node.name: node.rule for node in graph.nodes}
    counted = {node.shares: rows[node.shares] for node in graph.nodes if node.shares is not None}  # (before ties)
    for node in graph.nodes:
        if node.shares is None:
            continue
        row, owner = rows[node.name], counted[node.shares]
        same = sorted(w.size for w in row.weights) == sorted(w.size for w in owner.weights)
        if not same and rules[node.shares] is not node.rule:
            rows[node.name] = _tied(node, row, owner, tied[node.name])
            users.setdefault(node.shares, []).append(node.name)
            continue
        # Sizes, not shapes: Keras stores a tied Linear kernel transposed from its Embedding.
        if not same:
            raise LayerError(node.describe(), f"shares the weights of '{node.shares}', but its input needs weights "
                             f"of shapes {[w.shape for w in row.weights]}, not {[w.shape for w in owner.weights]}")
        rows[node.name] = replace(row, params=0, trainable=0, non_trainable=0, buffers=0, weights=(),
                                  formula="0", buffers_formula="",
                                  note=f"shares the weights of '{node.shares}' (counted there, once)")
        users.setdefault(node.shares, []).append(node.name)
    for owner, names in users.items():
        reuse = "its weights are also used by " + ", ".join(f"'{n}'" for n in names)
        note = rows[owner].note
        rows[owner] = replace(rows[owner], note=f"{note}; {reuse}" if note else reuse)


def _tied(node: Node, row: LayerRow, owner: LayerRow, inference: Inference) -> LayerRow:
    """``row`` with the one tensor it shares with ``owner`` counted there: the first of its
    tensors whose shape is one of the owner's, or that shape transposed (Keras stores a Dense
    kernel (d, V), its Embedding (V, d); PyTorch both as (V, d))."""
    shapes = {w.shape: w for w in owner.weights if not w.buffer}
    for i, weight in enumerate(inference.weights):
        transposed = shapes.get(weight.shape[::-1]) if len(weight.shape) == 2 else None
        match = None if weight.buffer else shapes.get(weight.shape) or transposed
        if match is not None:
            break
    else:
        mine = ", ".join(f"{w.name} {shape_text(w.shape)}" for w in inference.weights) or "no tensors"
        theirs = ", ".join(f"{w.name} {shape_text(w.shape)}" for w in owner.weights) or "no tensors"
        raise LayerError(node.describe(), f"shares a tensor of '{node.shares}', but none of its tensors ({mine}) "
                         f"has the shape of one of that layer's ({theirs}), or that shape transposed")
    rest = inference.weights[:i] + inference.weights[i + 1:]
    params = total(*(w.expr for w in rest if not w.buffer))
    trainable = sum(w.count for w in rest if w.trainable and not w.buffer) if node.trainable else 0
    how = "" if weight.shape == match.shape else ", transposed"
    note = (f"its {weight.name} {shape_text(weight.shape)} is '{node.shares}''s {match.name} "
            f"{shape_text(match.shape)}{how} (counted there, once)")
    return replace(row, params=params.value, trainable=trainable, non_trainable=params.value - trainable,
                   formula=equation(params), weights=tuple(w for w in row.weights if w.name != weight.name),
                   note=f"{row.note}; {note}" if row.note else note)


def block_rows(graph: Graph, layers: tuple[LayerRow, ...], shapes: dict[str, Shape]) -> tuple[BlockRow, ...]:
    """Each block use's subtotals: every layer counts toward its block and all the blocks
    around it."""
    parent = {b.name: b.parent for b in graph.blocks}
    sums = {b.name: [0, 0, 0, 0, 0, 0] for b in graph.blocks}
    kinds: dict[str, dict[str, int]] = {b.name: {} for b in graph.blocks}
    unknown: set[str] = set()  # blocks with a layer whose MACs are not known
    for row in layers:
        block = row.block
        while block is not None:
            totals = sums[block]
            for i, value in enumerate((row.params, row.trainable, row.non_trainable, row.buffers, row.macs or 0,
                                       row.active_total)):
                totals[i] += value
            for kind, macs in row.macs_by_kind:
                kinds[block][kind] = kinds[block].get(kind, 0) + macs
            if row.macs is None:
                unknown.add(block)
            block = parent[block]
    return tuple(
        BlockRow(b.name, b.type, b.parent, shapes[b.output], *sums[b.name][:4],
                 macs=None if b.name in unknown else sums[b.name][4],
                 macs_by_kind=tuple((k, kinds[b.name][k]) for k in KINDS if k in kinds[b.name]),
                 active_params=sums[b.name][5])
        for b in graph.blocks
    )


def infer(node: Node, inputs: list[Shape], context: Context) -> Inference:
    """The rule's inference for ``node``, a rule error placed at the layer (its name, place and
    input shapes)."""
    try:
        inference = node.rule.infer(node.args, inputs, context)
        _check_size(inference.output_shape)
    except RuleError as err:
        received = ", ".join(shape_text(s) for s in inputs)
        place = node.describe() + (f" on input {received}" if received else "")
        raise LayerError(place, str(err)) from None
    if inference.count is not None and inference.count.value != inference.weights_total:
        raise AssertionError(f"{node.rule.name}: its count {inference.count} disagrees with its weights")
    return inference


def _check_size(shape: Shape) -> None:
    """A computed size is bounded as a stated one is: sizes multiplied without end (a
    RepeatVector and a Flatten, again and again) would grow past anything a number can print."""
    for size in shape:
        if size is not None and size > MAX_INT:
            raise RuleError(f"its output would have a size of over 2^{size.bit_length() - 1} (the limit is "
                            "2^63 − 1), larger than any real tensor; is a repeat or a reshape multiplying sizes "
                            "without end?")


def _placed(template: LayerRow, node: Node, field: receptive.State, sees_all: bool) -> LayerRow:
    """A counted row at its place in the graph (built directly: dataclasses.replace is
    several times slower, which a 100,000-layer network feels)."""
    t = template
    note = t.note if not node.note else f"{t.note}; {node.note}" if t.note else node.note
    return LayerRow(node.name, t.type, t.output_shape, t.params, t.trainable, t.non_trainable, t.formula,
                    t.shape_formula, node.inputs, t.weights, t.buffers, t.buffers_formula, note, node.block,
                    t.macs, t.macs_formula, field, sees_all, t.macs_kind, t.macs_by_kind, t.active_params,
                    t.active_formula, t.active, node.kv_cache, node.stored)


def _count(node: Node, inputs: list[Shape], context: Context) -> tuple[Inference, LayerRow, object]:
    """The rule's inference and the row it gives (name, wiring and receptive field to be
    filled in by _placed), and the arguments: an entry of ``counted`` holds them, so that
    their id in its key stays theirs for as long as the entry lives (after this graph, in a
    sweep's next variant)."""
    inference = infer(node, inputs, context)
    return inference, _row(node, inference), node.args


def _active_part(node: Node, expr: Expr, what: str) -> Expr:
    """``(E/n)×k``: the k of its n equal parts a token goes through (a mixture's routed experts)."""
    used, parts = node.active
    if expr.value % parts:
        raise LayerError(node.describe(), f"active: '{used} of {parts}', but its {expr.value:,} {what} do not "
                         f"split into {parts} equal parts")
    return product(quotient(expr, parts), used)


def _row(node: Node, inference: Inference) -> LayerRow:
    weights = tuple(
        WeightRow(w.name, w.shape, w.count, w.trainable and node.trainable and not w.buffer, w.buffer)
        for w in inference.weights
    )
    params, buffers = inference.params, inference.buffers
    trainable = sum(w.size for w in weights if w.trainable)
    by_kind = _macs_by_kind(node, inference)
    active, macs = params, inference.macs
    if node.active is not None:  # the active path: k of n parts of its parameters and of its MACs
        active = _active_part(node, params, "parameters")
        macs = None if macs is None else _active_part(node, macs, "MACs")
        by_kind = tuple((kind, _active_part(node, num(m), "MACs").value) for kind, m in by_kind)
    return LayerRow(
        name=node.name,
        type=node.display_type,
        output_shape=inference.output_shape,
        params=params.value,
        trainable=trainable,
        non_trainable=params.value - trainable,
        formula=equation(params),
        shape_formula=shape_arithmetic(inference.shape_notes),
        inputs=node.inputs,
        weights=weights,
        buffers=buffers.value,
        buffers_formula=equation(buffers) if buffers.value else "",
        note=inference.note,
        block=node.block,
        macs=None if macs is None else macs.value,
        macs_formula="" if macs is None else equation(macs),
        macs_kind=kind_of(by_kind, node.rule.macs_kind),
        macs_by_kind=by_kind,
        active_params=None if node.active is None else active.value,
        active_formula=equation(active) if node.active is not None else "",
        active="" if node.active is None else "{} of {}".format(*node.active),
    )


def _macs_by_kind(node: Node, inference: Inference) -> tuple[tuple[str, int], ...]:
    """(kind, MACs) for the kinds of work the layer does: the rule's split, else all its
    MACs of the rule's kind; a layer that does none is (its kind, 0)."""
    parts = own_split(node.rule, inference)
    if inference.macs is not None and sum(e.value for _, e in parts) != inference.macs.value:
        raise AssertionError(f"{node.rule.name}: its MACs split by kind {parts} disagrees with its MACs")
    known = tuple((kind, expr.value) for kind, expr in parts if expr.value)
    return known or tuple((kind, 0) for kind, _ in parts[:1])

