"""PyTorch modules: an ``nn.Module`` → the Graph a spec becomes, through the same rules.

- **The table.** A ``torch.nn`` class with a PyTorch-form rule (``nn.Conv2d`` → ``Conv2d``)
  gives its rule the module's attributes of the rule's argument names; ``bias`` is whether
  the bias tensor exists; the few others are in ``_SPECIAL``. Leaf modules map one to one;
  MultiheadAttention and the Transformer modules are taken whole. Hugging Face's own
  classes (``*RMSNorm``, GPT-2's ``Conv1D``, rotary embeddings, the MoE experts and
  routers, its activations) are matched by name and tensors in ``_torch_hf.py``. A
  subclass with its own forward (``FalconLinear(nn.Linear)``) takes its base's rule when
  it holds the base's tensors, and its row says whose forward the MACs are. A container's
  own tensors (``nn.Parameter``, ``register_buffer``) are a row each, by the ``Parameter``
  and ``Buffer`` rules, named by their path (``stem.shift``). A rule stands for a module
  only if it lists exactly the module's tensors; anything else (a user's own leaf module,
  torch's without a rule) is counted from its tensors by the ``Tensors`` rule, and its row
  says so.
- **Shapes** come from a trace on the ``meta`` device (``torch.func.functional_call`` with a
  meta stand-in for every tensor, hooks recording each call's shapes): the user's module is
  not moved, and no memory is taken for weights. A module called twice is a second row
  sharing the first's weights; one never called is listed without a shape. Each rule's
  output shape is checked against torch's: for torch.nn's own classes a difference is a
  bug in the rule; for one matched by name or by its base class, the row falls back to
  its tensors and says so. MoE experts and routers take the tokens flattened, (tokens,
  hidden): with the trace's batch of one, their 2-D shapes are kept whole.
- **Counted as torch counts:** a tensor held by two modules (tied weights) once, where first
  seen; ``requires_grad=False`` non-trainable; buffers apart.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

import torch
from torch import nn

from .._text import shape_text, with_article
from ..errors import LearnableError, RuleError, SpecError
from ..graph import BlockInfo, Graph, Node, make_node
from ..inputs import input_specs
from ..rules import CHANNELS_FIRST, PYTORCH, Context, Rule, Shape, Weight, lookup
from ..rules._args import COMMON_IGNORED, LayerCall
from ..rules._inputs import WHOLE
from ..rules._inputs import implied_inputs as _synthetic
from ._torch_hf import transformers_rule
from ._torch_trace import Call, trace

_CHECK = Context(CHANNELS_FIRST, PYTORCH)  # rules are checked against torch's own tensors
_WHOLE = WHOLE | {"Experts"}  # Experts holds its activation as a child
# Composites whose rule stands for a stack of torch.nn's own modules, each with its rule:
# opened into them when asked (--depth), MultiheadAttention's packed in_proj staying whole.
_OPENABLE = frozenset({"TransformerEncoderLayer", "TransformerDecoderLayer", "TransformerEncoder",
                       "TransformerDecoder", "Transformer"})
_SEQUENCES = WHOLE | {"RNN", "LSTM", "GRU"}  # tensors (length, batch, features) unless batch_first
_TOKENS = {"Experts", "Router"}  # given (tokens, hidden), the batch already folded in
_TENSORS = lookup("Tensors")
_OWN = {False: lookup("nn.Parameter"), True: lookup("nn.Buffer")}  # a container's own tensor, by buffer
Tensor = tuple[str, torch.Tensor, bool]  # (name, tensor, buffer)


def _layer_args(m: nn.Module) -> dict[str, Any]:
    """A TransformerEncoderLayer's or DecoderLayer's arguments, read from its submodules."""
    return {"d_model": m.self_attn.embed_dim, "nhead": m.self_attn.num_heads, "dim_feedforward": m.linear1.out_features,
            "dropout": m.dropout.p, "layer_norm_eps": m.norm1.eps, "batch_first": m.self_attn.batch_first,
            "norm_first": m.norm_first, "bias": m.linear1.bias is not None}


# rule → the arguments a module does not keep under the rule's names (the rest are read by name)
_SPECIAL: dict[str, Callable[[nn.Module], dict[str, Any]]] = {
    "PairwiseDistance": lambda m: {"p": m.norm},
    "MultiheadAttention": lambda m: {"bias": m.in_proj_bias is not None, "add_bias_kv": m.bias_k is not None},
    "TransformerEncoderLayer": _layer_args,
    "TransformerDecoderLayer": _layer_args,
    "TransformerEncoder": lambda m: {"encoder_layer": _call(m.layers[0]), "norm": _call(m.norm)},
    "TransformerDecoder": lambda m: {"decoder_layer": _call(m.layers[0]), "norm": _call(m.norm)},
    "Transformer": lambda m: {**_layer_args(m.encoder.layers[0]), "num_encoder_layers": m.encoder.num_layers,
                              "num_decoder_layers": m.decoder.num_layers},
}


# ---- module → rule ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Mapping:
    rule: Rule
    kwargs: dict[str, Any]
    # "" for torch.nn's own forward; else whose forward the rule stands for (said on the row),
    # and a shape the rule gets wrong falls back to the tensors instead of failing
    note: str = ""
    active: str | None = None  # "k of n": the part of it a token goes through (a mixture's experts)


@lru_cache(maxsize=1024)  # per class, not per module: a miss ("nn._ConvNd") spells out suggestions
def _rule_of(cls: type) -> tuple[Rule, type] | None:
    """The rule of the first torch.nn class in ``cls``'s ancestry that has one, and that class."""
    for base in cls.__mro__:
        if base is nn.Module or not base.__module__.startswith("torch.nn."):
            continue
        try:
            rule = lookup("nn." + base.__name__)
        except RuleError:
            continue
        if rule is not _TENSORS and base.__name__ in (rule.name, *rule.aliases):
            return rule, base
    return None


def _mapping(module: nn.Module) -> _Mapping | None:
    """torch.nn's rule where the module runs torch.nn's forward; else transformers' table;
    else its torch.nn base's rule (a subclass with its own forward: FalconLinear), which
    stands only if the module holds exactly the base's tensors (``_misfit``)."""
    cls, found = type(module), _rule_of(type(module))
    own_forward = found is None or cls.forward is not found[1].forward
    if own_forward and (hf := transformers_rule(module)) is not None:
        rule, kwargs = hf[0], dict(hf[1])
        active, extra = kwargs.pop("active", None), kwargs.pop("note", "")
        note = f"Hugging Face's {cls.__name__}, counted by the {rule.name} rule" + (f"; {extra}" if extra else "")
        return _Mapping(rule, kwargs, note, active)
    if found is None:
        return None
    rule, base = found
    torch_name = "nn." + base.__name__
    note = "" if cls.forward is base.forward else (
        f"its own forward, on {torch_name}'s tensors: counted by the {rule.name} rule, MACs as {torch_name}'s")
    return _read(module, rule, note)


def _read(module: nn.Module, rule: Rule, note: str) -> _Mapping | None:
    """A torch.nn rule's arguments, read from the module's attributes of the same names."""
    kwargs = {}
    for arg in rule.args:
        if arg.name in COMMON_IGNORED or arg.name.startswith("_") or not hasattr(module, arg.name):
            continue
        value = getattr(module, arg.name)
        if arg.name == "bias" and not isinstance(value, bool):
            value = value is not None  # the bias tensor, or None
        if not isinstance(value, (torch.Tensor, nn.Module)) and not callable(value):
            kwargs[arg.name] = value
    try:
        kwargs.update(_SPECIAL[rule.name](module) if rule.name in _SPECIAL else {})
    except (AttributeError, IndexError, TypeError):  # not built as torch builds it
        return None
    return _Mapping(rule, kwargs, note)


def _call(module: nn.Module | None) -> LayerCall | None:
    """A submodule as a rule's layer argument (a stack's layer, its norm)."""
    mapping = None if module is None else _mapping(module)
    if module is not None and mapping is None:
        raise TypeError(f"no rule for {type(module).__name__}")
    return mapping and LayerCall("nn." + mapping.rule.name, (), tuple(mapping.kwargs.items()))


# ---- shapes without a trace -------------------------------------------------------------------


def _unbatched(module: nn.Module, rule: str | None, shape: tuple[int, ...]) -> Shape:
    """One example's shape: batch is axis 0, but axis 1 of a sequence module's 3-D tensors
    unless batch_first (and an unbatched 2-D sequence has none)."""
    if rule in _TOKENS and len(shape) == 2:
        return shape
    if rule not in _SEQUENCES:
        return shape[1:]
    if len(shape) != 3:
        return shape
    return shape[1:] if _batch_first(module) else shape[:1] + shape[2:]


def _batch_first(module: nn.Module) -> bool:
    if hasattr(module, "batch_first"):
        return bool(module.batch_first)
    if hasattr(module, "self_attn"):
        return bool(module.self_attn.batch_first)
    return _batch_first(module.layers[0])  # TransformerEncoder/Decoder: as their layers


# ---- the module tree → rows -------------------------------------------------------------------


@dataclass
class _Unit:
    """A module (one row per call), or one tensor a container owns beside its submodules
    (``own``: ``module`` is the container); ``block`` is the innermost container path around it."""

    path: str
    module: nn.Module
    mapping: _Mapping | None
    tensors: list[Tensor]
    block: str | None
    note: str = ""
    own: bool = False


def _walk(root: nn.Module, open_composites: bool = False) -> tuple[list[_Unit], dict[str, tuple[str, str | None]]]:
    """Units in tree order, and each container path's (class name, parent container)."""
    units, containers, seen = [], {}, set()

    def visit(path: str, module: nn.Module, parent: str | None) -> None:
        if id(module) in seen:  # the same module under a second name: counted under its first
            return
        seen.add(id(module))
        children, mapping = list(module.named_children()), _mapping(module)
        opened = open_composites and mapping is not None and mapping.rule.name in _OPENABLE and not mapping.note
        if mapping is not None and (not children or mapping.rule.name in _WHOLE) and not opened:
            tensors = _tensors(module, recurse=True)
            problem = _misfit(mapping, tensors)
            if not problem or not children:  # a composite the rule cannot stand for is opened instead
                units.append(_Unit(path, module, None if problem else mapping, tensors, parent, problem))
                return
        if not children:
            units.append(_Unit(path, module, None, _tensors(module, recurse=False), parent))
            return
        if path:
            containers[path] = (type(module).__name__, parent)
        units.extend(_own_units(path, module))
        for name, child in children:
            visit(f"{path}.{name}" if path else name, child, path or None)

    visit("", root, None)
    return units, containers


def _own_units(path: str, module: nn.Module) -> list[_Unit]:
    """A row per tensor the container holds itself: ``Parameter`` or ``Buffer`` of its shape."""
    units = []
    for name, tensor, buffer in _own_tensors(module):
        what = "buffer" if buffer else "parameter"
        mapping = _Mapping(_OWN[buffer], {"shape": tuple(tensor.shape)},
                           f"{with_article(what)} {type(module).__name__} holds itself, beside its submodules")
        try:
            make_node(mapping.rule, name, (), (), mapping.kwargs)
        except LearnableError:  # a size 0 (an empty tensor): counted from its tensors, as it is
            mapping = None
        note = "" if mapping else f"an empty {what} {type(module).__name__} holds itself: counted from its tensors"
        units.append(_Unit(f"{path}.{name}" if path else name, module, mapping, [(name, tensor, buffer)],
                           path or None, note, own=True))
    return units


def _own_tensors(module: nn.Module) -> list[Tensor]:
    """A container's own tensors, less those a submodule also holds (BERT's head keeps the
    decoder's bias as its own ``bias``): those count where the submodule uses them."""
    own = _tensors(module, recurse=False)
    if own:
        held = {id(t) for _, child in module.named_children() for _, t, _ in _tensors(child, recurse=True)}
        own = [entry for entry in own if id(entry[1]) not in held]
    return own


def _tensors(module: nn.Module, recurse: bool) -> list[Tensor]:
    return ([(n, t, False) for n, t in module.named_parameters(recurse=recurse, remove_duplicate=False)]
            + [(n, t, True) for n, t in module.named_buffers(recurse=recurse, remove_duplicate=False)])


def _misfit(mapping: _Mapping, tensors: list[Tensor]) -> str:
    """Why the rule cannot stand for this module (it lists other tensors; some parameters
    are frozen and some not), or ""."""
    name, counted = mapping.rule.name, "counted from its own tensors"
    if len({t.requires_grad for _, t, buffer in tensors if not buffer}) > 1:
        return f"some of its parameters are frozen (requires_grad=False), some not: {counted}"
    try:
        args = make_node(mapping.rule, name, (), (), mapping.kwargs).args
    except LearnableError as err:
        return f"the {name} rule cannot read this module ({err}): {counted}"
    shapes = _synthetic(mapping.rule, args)
    if shapes is None:
        return f"the {name} rule needs its input's shape to list its tensors: {counted}" if tensors else ""
    ours = sorted((w.name, w.shape, w.buffer) for w in mapping.rule.infer(args, shapes, _CHECK).weights)
    theirs = sorted((n, tuple(t.shape), buffer) for n, t, buffer in tensors)
    return "" if ours == theirs else f"its tensors are not those the {name} rule lists ({ours}): {counted}"


@dataclass
class _Use:
    """One row: a unit at one of its calls, with that call's shapes (batch dropped), or at
    none (never called, or no trace)."""

    key: tuple
    unit: _Unit
    name: str
    inputs: list[Shape] | None = None
    output: Shape | None = None
    first: str | None = None  # a later call's first row, whose weights it shares


def _uses(units: list[_Unit], calls: dict[int, list[Call]] | None) -> list[_Use]:
    """Rows in call order; a unit never called goes just before the next unit in the tree."""
    uses: list[_Use] = []
    for i, unit in enumerate(units):
        name, made = unit.path or "(top level)", (calls or {}).get(id(unit.module), [])
        if unit.own:  # placed where the container's forward begins
            uses.append(_Use((made[0].index, 0, i) if made else None, unit, name, []))
            continue
        rule = unit.mapping and unit.mapping.rule.name
        uses += [_Use((c.index, 1, i), unit, f"{name} (call {k + 1})" if k else name,
                      [_unbatched(unit.module, rule, s) for s in c.inputs],
                      c.output and _unbatched(unit.module, rule, c.output), name if k else None)
                 for k, c in enumerate(made)] or [_Use(None, unit, name)]
    upcoming: tuple = (math.inf, 0, 0)
    for i in reversed(range(len(uses))):
        uses[i].key = uses[i].key or (*upcoming[:2], i - len(uses))
        upcoming = uses[i].key
    return sorted(uses, key=lambda u: u.key)


# ---- rows → nodes -----------------------------------------------------------------------------


class _Builder:
    """Nodes in row order, each tensor counted where first seen (tied weights once)."""

    def __init__(self, convention: str, traced: bool):
        self.context, self.traced = Context(CHANNELS_FIRST, convention), traced
        self.seen: dict[int, str] = {}  # tensor id → where it counts ("embed.weight")
        self.owners: dict[frozenset[int], Node] = {}  # a row's tensor ids → that row
        self.first: dict[str, Node] = {}  # each unit's first row, by name
        self.holders: dict[int, Node] = {}  # tensor id → the row that counts it

    def node(self, use: _Use, index: int) -> Node:
        tensors = use.unit.tensors
        if use.first is not None and tensors:  # a module without tensors called again shares nothing
            return self._again(use, self.first[use.first], index)
        ids, fresh = frozenset(id(t) for _, t, _ in tensors), []
        for entry in tensors:  # a tensor seen before, in an earlier row or under another name here, is not fresh
            if id(entry[1]) not in self.seen:
                self.seen[id(entry[1])] = f"{use.unit.path}.{entry[0]}" if use.unit.path else entry[0]
                fresh.append(entry)
        node = self._own(use, index) if len(fresh) == len(tensors) else self._tied(use, index, ids, fresh)
        if fresh and node.shares is None:
            self.owners.setdefault(ids, node)
            self.holders.update((id(t), node) for _, t, _ in fresh)
        self.first[use.name] = node
        return node

    def _own(self, use: _Use, index: int) -> Node:
        unit = use.unit
        if self.traced and use.inputs is None:
            norule = "no rule for this layer, and " * (unit.mapping is None)
            return self._tensors(use, index, unit.tensors, f"{norule}never called in the traced forward: "
                                 "counted from its own tensors, without a shape")
        if unit.mapping is None:
            return self._tensors(use, index, unit.tensors, unit.note)
        rule, (shapes, traced) = unit.mapping.rule, self._inputs(use)
        if shapes is None:
            return self._tensors(use, index, unit.tensors, f"the {rule.name} rule needs its input's shape "
                                 "(count with input_shape): counted from its own tensors")
        trainable = all(t.requires_grad for _, t, buffer in unit.tensors if not buffer)
        type_name = unit.mapping.rule.name if unit.own else type(unit.module).__name__
        node = make_node(rule, use.name, (), (), unit.mapping.kwargs, trainable=trainable, index=index,
                         block=unit.block, input_shapes=tuple(shapes), active=unit.mapping.active,
                         type_name=None if type_name == rule.name else type_name, note=unit.mapping.note)
        refused = self._check(use, node, shapes) if traced else ""
        return self._tensors(use, index, unit.tensors, refused) if refused else node

    def _tied(self, use: _Use, index: int, ids: frozenset[int], fresh: list[Tensor]) -> Node:
        """A row some of whose tensors an earlier row counts: it shares that row's weights
        when they are all the same tensors, else it counts only the others."""
        owner = self.owners.get(ids)
        if not fresh and owner is not None:
            node = self._own(use, index)
            if self._weight_shapes(node) == self._weight_shapes(owner):
                return replace(node, shares=owner.name)
        if (node := self._shares_one(use, index, fresh)) is not None:
            return node
        names = {name for name, _, _ in fresh}
        shared = ", ".join(f"'{n}' is '{self.seen[id(t)]}'" for n, t, _ in use.unit.tensors if n not in names)
        note = f"{shared} (the same tensor, counted there, once)" + "; counted from its other tensors" * bool(fresh)
        return self._tensors(use, index, fresh, note)

    def _shares_one(self, use: _Use, index: int, fresh: list[Tensor]) -> Node | None:
        """A row of another rule whose one earlier-counted tensor is held by one row (a head
        tied to Gemma's scaled embedding, which also keeps a buffer; a tied head with its own
        bias): its rule's node, sharing that tensor, which the engine counts there once. Only
        where the engine would take that very tensor: the first of the row's weights shaped
        as one of the holder's, or that shape transposed."""
        shared = [(n, t) for n, t, _ in use.unit.tensors if all(t is not f for _, f, _ in fresh)]
        holder = len(shared) == 1 and use.unit.mapping and self.holders.get(id(shared[0][1]))
        if not holder or holder.rule in (_TENSORS, use.unit.mapping.rule):
            return None
        node = self._own(use, index)
        if node.rule is _TENSORS:
            return None
        theirs = {w.shape for w in self._weights(holder) if not w.buffer}
        first = next((w.name for w in self._weights(node) if not w.buffer and (
            w.shape in theirs or (len(w.shape) == 2 and w.shape[::-1] in theirs))), None)
        return replace(node, shares=holder.name) if first == shared[0][0] else None

    def _again(self, use: _Use, first: Node, index: int) -> Node:
        """A later call of a module: its own shapes, the first call's weights (counted there)."""
        args, shapes = dict(first.args), use.inputs
        if first.rule is _TENSORS:
            args["output_shape"] = use.output or ()
        else:
            shapes, traced = self._inputs(use)
            if traced and (refused := self._check(use, first, shapes)):
                return self._tensors(use, index, [], f"a later call of '{first.name}', whose weights count there; "
                                     + refused.removesuffix(": counted from its own tensors"))
        return replace(first, name=use.name, args=args, index=index, shares=first.shares or first.name,
                       input_shapes=first.input_shapes if shapes is None else tuple(shapes))

    def _tensors(self, use: _Use, index: int, tensors: list[Tensor], note: str) -> Node:
        listed = [(n, tuple(t.shape), t.requires_grad and not buffer, buffer) for n, t, buffer in tensors]
        return make_node(_TENSORS, use.name, (), (), {"tensors": listed, "output_shape": use.output or (), "note": note},
                         index=index, block=use.unit.block, input_shapes=tuple(use.inputs or ()),
                         type_name=type(use.unit.module).__name__)

    def _inputs(self, use: _Use) -> tuple[list[Shape] | None, bool]:
        """(the traced inputs, as many as the rule takes, True), else (shapes from the
        module's arguments, False): no trace, or inputs the rule cannot read (a PackedSequence)."""
        rule, kwargs = use.unit.mapping.rule, use.unit.mapping.kwargs
        if use.inputs is not None and len(use.inputs) >= rule.arity[0]:
            return use.inputs[:rule.arity[1]], True
        return _synthetic(rule, make_node(rule, use.name, (), (), kwargs).args), False

    def _check(self, use: _Use, node: Node, shapes: list[Shape]) -> str:
        """The rule's output shape must be the one torch's forward gave, else the rule is
        wrong; what the rule refuses to take (Flatten(0) flattens the batch) is said, not raised."""
        received = ", ".join(map(shape_text, shapes))
        try:
            output = node.rule.infer(node.args, shapes, _CHECK).output_shape
        except RuleError as err:
            return f"the {node.rule.name} rule cannot take its input {received} ({err}): counted from its own tensors"
        if use.output is not None and tuple(output) != tuple(use.output) and use.unit.mapping.note:
            return (f"its forward gave {shape_text(use.output)} on input {received}, the {node.rule.name} rule "
                    f"{shape_text(output)}: counted from its own tensors")
        if use.output is not None and tuple(output) != tuple(use.output):
            raise AssertionError(f"the {node.rule.name} rule disagrees with torch on {use.name}: on input {received} "
                                 f"it gives {shape_text(output)}, torch's forward gave {shape_text(use.output)}")
        return ""

    def _weight_shapes(self, node: Node) -> list[tuple[int, ...]]:
        return [w.shape for w in self._weights(node)]

    def _weights(self, node: Node) -> tuple[Weight, ...]:
        return node.rule.infer(node.args, list(node.input_shapes or ()), self.context).weights


# ---- the importer -----------------------------------------------------------------------------


def to_graph(module: Any, *, input_shape: Any = None, integer_input: bool = False, convention: str | None = None,
             open_composites: bool = False, **_: Any) -> Graph:
    """The Graph of a PyTorch module: rows from the module tree, shapes from a meta-device
    trace when ``input_shape`` is given: one example's shape, batch excluded, or several
    inputs, each with its dtype and keyword (``inputs.py``); ``integer_input`` makes the
    inputs of no stated dtype token ids."""
    if not isinstance(module, nn.Module):
        raise SpecError(f"{with_article(type(module).__module__)}.{type(module).__name__} is not a model; pass "
                        f"an nn.Module")
    for name, tensor in itertools.chain(module.named_parameters(), module.named_buffers()):
        if isinstance(tensor, nn.parameter.UninitializedTensorMixin):
            raise SpecError(f"{type(module).__name__}: '{name}' is not initialized yet (a lazy module); run one "
                            "forward, or build it with its sizes, before counting")
    specs = input_specs(input_shape, integer_input, f"{type(module).__name__}: input_shape")
    calls = None if specs is None else trace(module, specs)
    units, containers = _walk(module, open_composites)
    builder = _Builder(convention or PYTORCH, traced=calls is not None)
    nodes = tuple(builder.node(use, i + 1) for i, use in enumerate(_uses(units, calls)))
    return Graph(nodes, name=type(module).__name__, data_format=CHANNELS_FIRST, convention=convention or PYTORCH,
                 blocks=_blocks(containers, nodes))


def _blocks(containers: dict[str, tuple[str, str | None]], nodes: tuple[Node, ...]) -> tuple[BlockInfo, ...]:
    """Each container with a row inside it; its output is the last row inside."""
    last: dict[str, str] = {}
    for node in nodes:
        block = node.block
        while block is not None:
            last[block], block = node.name, containers[block][1]
    return tuple(BlockInfo(path, kind, parent, last[path]) for path, (kind, parent) in containers.items()
                 if path in last)
