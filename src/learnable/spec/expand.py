"""Layers and uses of blocks → graph nodes, in two passes over each scope.

1. Plan: expand ``repeat``, fill in each block use's parameters, and give everything its
   global name (``conv_block_1/conv2d``): names given in the spec, others as Keras names
   them, counted per scope. A scope maps each local name to a global one (a block use's
   name to its output's), so references may point forward, as in any spec.
2. Emit: wire the inputs (a layer without ``inputs`` takes the previous output; a block's
   layers see the block's inputs under its own names) and bind every layer to its rule.

The nodes remember their innermost block, and the blocks their parents, so a report can
show the tree with subtotals.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import GraphError, LayerError, LearnableError, RuleError, SpecError
from ..graph import BlockInfo, Node, describe, make_node
from ..rules import KERAS, Rule, lookup
from .blocks import bind_params, substitute
from .model import MAX_LAYERS, BlockDef, LayerSpec

MAX_DEPTH = 50  # blocks within blocks; deeper is a mistake
# MAX_LAYERS (model.py) holds after expanding repeats and blocks too. Repeats multiply through
# nested blocks, so a few lines could otherwise ask for 100,000³ layers and never finish.


@dataclass(slots=True)
class _Planned:
    spec: LayerSpec
    name: str  # global: a layer's name, or a block use's path
    rule: Rule | None = None
    block: BlockDef | None = None
    # A block use's layers and block uses, and its own scope (local name → global); a layer
    # has neither (no empty list and dict for each of 100,000 layers).
    children: list[_Planned] | None = None
    names: dict[str, str] | None = None
    output: str = ""  # the global name of what comes out ("": known only once emitted, see _omitted)
    trainable: bool = True
    chained: bool = False  # a later copy of a repeat: its first input is the copy before it
    omitted: bool = False  # written with repeat: 0, a stack of no copies
    local: tuple[str, ...] = ()  # the names its scope knows its output by


class Expander:
    def __init__(self, blocks: Mapping[str, BlockDef], prefer: str = KERAS):
        self.blocks = blocks
        self.prefer = prefer  # whose layer a name both frameworks spell alike means
        self.nodes: list[Node] = []
        self.block_infos: list[BlockInfo] = []
        self.taken: set[str] = set()
        self.owners: dict[str, LayerSpec] = {}  # a name written in the spec → the layer or use it names
        self.counters: dict[str, int] = {}
        self.by_name: dict[str, _Planned] = {}
        self.planned = 0  # layers and block uses so far, against MAX_LAYERS
        self.sizes: dict[tuple[str, str], int] = {}  # (block, its parameters) → expanded size
        self.substituted: dict[tuple[str, str], tuple[LayerSpec, ...]] = {}  # (block, parameters) → its layers
        self.using: list[str] = []  # the blocks being expanded, outermost first

    def run(self, layers: Sequence[LayerSpec]) -> None:
        # (Without blocks, the size is the sum of the repeats, which plan() checks first.)
        if self.blocks and self._expanded_size(layers, 0, ()) > MAX_LAYERS:
            raise GraphError(f"the network expands to more than {MAX_LAYERS:,} layers through 'repeat:' and "
                             "blocks; is a repeat too large?")
        planned, names = self.plan(layers, "", 0)
        self.emit(planned, names, None, None, True)

    # ---- pass 0: size ---------------------------------------------------------------------

    def _expanded_size(self, layers: Sequence[LayerSpec], depth: int, using: tuple[str, ...]) -> int:
        """How many layers and block uses ``layers`` become, computed once per distinct
        block use, so that a bomb is refused before any of it is built."""
        total = 0
        for layer in layers:
            repeat = layer.repeat if isinstance(layer.repeat, int) else 1
            total += repeat * (1 + self._block_size(layer, depth, using))
            if total > MAX_LAYERS:
                break
        return total

    def _block_size(self, layer: LayerSpec, depth: int, using: tuple[str, ...]) -> int:
        """What one use of a block expands to (0 for a layer). A use that plan() will refuse
        (a bad parameter, a block using itself) counts as nothing here: plan() says why."""
        block = self.blocks.get(layer.type)
        if block is None or block.name in using or depth >= MAX_DEPTH:
            return 0
        try:
            params = bind_params(block, {k: v for k, v in layer.kwargs.items() if k != "trainable"}, None)
            key = (block.name, repr(sorted(params.items())))
            if key not in self.sizes:
                inner = self._substituted(block, params)
                self.sizes[key] = self._expanded_size(inner, depth + 1, (*using, block.name))
        except LearnableError:
            return 0
        return self.sizes[key]

    # ---- pass 1: plan ---------------------------------------------------------------------

    def plan(self, layers: Sequence[LayerSpec], prefix: str, depth: int) -> tuple[list[_Planned], dict[str, str]]:
        if depth > MAX_DEPTH:
            raise GraphError(f"blocks are nested more than {MAX_DEPTH} deep at '{prefix.rstrip('/')}'; "
                             "nest fewer blocks within blocks")
        self._count(layers, prefix)
        items: list[_Copy] = []
        for layer in layers:
            if layer.repeat == 1:  # (as most layers are: no list of copies for each)
                items.append(_Copy(layer, layer.name))
            else:
                items.extend(_repeated(layer))
        self._reserve([item for item in items if item.name], prefix)
        names: dict[str, str] = {}
        planned = []
        for item in items:
            entry = self._omitted(item, prefix) if item.omitted else self._plan_one(item, prefix, depth)
            entry.chained = item.chained
            # "enc" also names the last of the copies "enc_1" ... "enc_12"
            entry.local = tuple(n for n in (item.name or entry.name[len(prefix):], item.repeat_of) if n)
            planned.append(entry)
            for local in entry.local if entry.output else ():  # (an omitted one's is known once emitted)
                names[local] = entry.output
        return planned, names

    def _omitted(self, item: _Copy, prefix: str) -> _Planned:
        """A layer or block use written with repeat: 0. Its type is still checked (a typo is
        a typo), but it takes no name of Keras's: the layers after it are named as if it were
        not written."""
        spec = item.spec
        rule = None if spec.type in self.blocks else _resolve(spec, self.prefer)
        entry = _Planned(spec, prefix + (item.name or ""), rule=rule, omitted=True)
        if item.name:
            self.by_name[entry.name] = entry
        return entry

    def _plan_one(self, item: _Copy, prefix: str, depth: int) -> _Planned:
        spec = item.spec
        block = self.blocks.get(spec.type)
        if block is None:
            rule = _resolve(spec, self.prefer)
            name = prefix + (item.name or self._auto(prefix + rule.default_name))
            entry = _Planned(spec, name, rule=rule, output=name)
        else:
            name = prefix + (item.name or self._auto(prefix + block.name))
            entry = self._plan_block(spec, block, name, depth)
        self.by_name[name] = entry
        return entry

    def _count(self, layers: Sequence[LayerSpec], prefix: str) -> None:
        """Refuse an expansion too large before building it: the check comes first, so the
        work done before the error is bounded by MAX_LAYERS."""
        self.planned += sum(layer.repeat if isinstance(layer.repeat, int) else 1 for layer in layers)
        if self.planned > MAX_LAYERS:
            where = f" (at '{prefix.rstrip('/')}')" if prefix else ""
            raise GraphError(f"the network expands to more than {MAX_LAYERS:,} layers through 'repeat:' and "
                             f"blocks{where}; is a repeat too large?")

    def _plan_block(self, spec: LayerSpec, block: BlockDef, path: str, depth: int) -> _Planned:
        if block.name in self.using:  # else it would expand until MAX_DEPTH with a vaguer message
            cycle = " → ".join([*self.using[self.using.index(block.name):], block.name])
            raise GraphError(f"{describe(block.name, path, spec.index, spec.location)}: block '{block.name}' "
                             f"uses itself ({cycle}), so blocks would be nested more than {MAX_DEPTH} deep without end; "
                             "a block cannot contain itself")
        self.using.append(block.name)
        try:
            return self._expand_block(spec, block, path, depth)
        finally:
            self.using.pop()

    def _substituted(self, block: BlockDef, params: Mapping[str, Any]) -> tuple[LayerSpec, ...]:
        """The block's layers with its parameters filled in, worked out once per distinct
        set of parameters: a network uses the same block many times (and the size check
        above sees each use before plan() does)."""
        key = (block.name, repr(sorted(params.items())))
        if key not in self.substituted:
            self.substituted[key] = tuple(substitute(layer, params, block.name) for layer in block.layers)
        return self.substituted[key]

    def _expand_block(self, spec: LayerSpec, block: BlockDef, path: str, depth: int) -> _Planned:
        given = dict(spec.kwargs)
        trainable = given.pop("trainable", True)
        if spec.args:
            raise GraphError(f"{describe(block.name, path, spec.index, spec.location)}: give a block's "
                             "parameters by name, e.g. {filters: 64}")
        params = bind_params(block, given, spec.location)
        inner = [layer.replace(index=spec.index) for layer in self._substituted(block, params)]
        children, names = self.plan(inner, path + "/", depth + 1)
        clash = set(block.inputs) & set(names)
        if clash:
            raise GraphError(f"block '{block.name}' names a layer '{sorted(clash)[0]}', which is one of its inputs")
        omitted = {local for child in children if child.omitted for local in child.local}
        if block.output and block.output not in names and block.output not in omitted:
            raise GraphError(f"block '{block.name}': its output '{block.output}' is not one of its layers")
        # An omitted layer's output is its input's, known only once emitted ("": then).
        output = names.get(block.output, "") if block.output else (children[-1].output if children else "")
        return _Planned(spec, path, block=block, children=children, names=names, output=output,
                        trainable=trainable)

    def _reserve(self, items: list[_Copy], prefix: str) -> None:
        """The names written in one scope, each refused where it is written a second time
        (the network's inputs are its first layers: a layer named ``input`` clashes too)."""
        for item in items:
            name = prefix + item.name
            if name in self.taken:
                earlier = self._first_use(name)
                raise GraphError(f"{describe(item.spec.type, item.name, item.spec.index, item.spec.location)}: "
                                 f"layer name '{name}' is already used{earlier}; names must be unique")
            self.taken.add(name)
            self.owners[name] = item.spec

    def _first_use(self, name: str) -> str:
        first = self.owners.get(name)
        if first is None:
            return ""
        if not first.index and not str(first.location or ""):  # made from input: / inputs:, not written as a layer
            return " by an input of the network (input: or inputs:)"
        return f" by {describe(None, None, first.index, first.location)}"

    def _auto(self, base: str) -> str:
        """Keras's naming: conv2d, conv2d_1, ... skipping names already taken."""
        while True:
            n = self.counters.get(base, 0)
            self.counters[base] = n + 1
            name = base if n == 0 else f"{base}_{n}"
            if name not in self.taken:
                self.taken.add(name)
                return name.rpartition("/")[2]

    # ---- pass 2: emit ---------------------------------------------------------------------

    def emit(self, planned: list[_Planned], names: Mapping[str, str], previous: str | None,
             block: str | None, trainable: bool) -> str | None:
        for entry in planned:
            if entry.omitted:
                previous = self._pass_through(entry, names, previous)
            elif entry.block is not None:
                previous = self._emit_block(entry, names, previous, block, trainable)
                for local in entry.local if not entry.output else ():
                    names[local] = previous
            else:
                self.nodes.append(self._node(entry, names, previous, block, trainable))
                previous = entry.output
        return previous

    @staticmethod
    def _pass_through(entry: _Planned, names: dict[str, str], previous: str | None) -> str | None:
        """A stack of no copies: what comes out is what would have gone in, its first stated
        input or the previous output (as the copies of a repeat chain through their first
        input). A Parameter has no input to pass on: a later use of its name finds no layer."""
        if entry.rule is not None and entry.rule.is_source:
            return previous
        through = _stated(entry, names, previous)[0] if entry.spec.inputs else previous
        for local in entry.local if through is not None else ():
            names[local] = through
        return through

    def _emit_block(self, entry: _Planned, names: Mapping[str, str], previous: str | None,
                    parent: str | None, trainable: bool) -> str:
        spec, block = entry.spec, entry.block
        inputs = list(_stated(entry, names, previous)) if spec.inputs else ([previous] if previous else [])
        if len(inputs) != len(block.inputs):
            raise GraphError(f"{describe(block.name, entry.name, spec.index, spec.location)} takes "
                             f"{len(block.inputs)} input(s) ({', '.join(block.inputs)}), got {len(inputs)}")
        scope = {**entry.names, **dict(zip(block.inputs, inputs))}
        at = len(self.block_infos)  # (parents before children, for the report's tree)
        self.block_infos.append(BlockInfo(entry.name, block.name, parent, entry.output))
        last = self.emit(entry.children, scope, inputs[0] if inputs else None, entry.name,
                         trainable and entry.trainable)
        if entry.output:
            return entry.output
        # Its output is an omitted layer's (repeat: 0), known now: what that layer passed on.
        output = scope.get(block.output, "") if block.output else last
        if not output:
            raise GraphError(f"{describe(block.name, entry.name, spec.index, spec.location)}: every layer that "
                             "could be its output is omitted (repeat: 0) and no input passes through")
        self.block_infos[at] = BlockInfo(entry.name, block.name, parent, output)
        return output

    def _node(self, entry: _Planned, names: Mapping[str, str], previous: str | None,
              block: str | None, trainable: bool) -> Node:
        spec, rule = entry.spec, entry.rule
        kwargs, own, active, kv_cache = spec.kwargs, True, None, None
        if "trainable" in kwargs or "active" in kwargs or "kv_cache" in kwargs:  # (most layers leave them out)
            kwargs = dict(kwargs)
            own, active = kwargs.pop("trainable", True), kwargs.pop("active", None)
            kv_cache = kwargs.pop("kv_cache", None)
        args, shares = spec.args, None
        if spec.shares:
            self._check_not_omitted(entry)
            shares = names.get(spec.shares, spec.shares)
            args, kwargs = self._shared_args(entry, shares, kwargs)
            shares = self._owner(shares)
        return make_node(rule, entry.name, _inputs(entry, names, previous), args, kwargs,
                         trainable=own if own is not True else trainable, location=spec.location,
                         index=spec.index, block=block, shares=shares, active=active, kv_cache=kv_cache)

    def _check_not_omitted(self, entry: _Planned) -> None:
        written = self.by_name.get(_qualified(entry, entry.spec.shares))
        if written is not None and written.omitted:  # (its name now stands for its input)
            raise GraphError(f"{describe(entry.rule.name, entry.name, entry.spec.index, entry.spec.location)}: "
                             f"shares '{entry.spec.shares}', which is omitted (repeat: 0); a layer that is not "
                             "there has no weights to share")

    def _owner(self, name: str | None) -> str | None:
        """The layer that really owns shared weights: through b shares a, c shares b, to a;
        not past a layer tied to one of another type's tensors (it owns its other tensors)."""
        seen: set[str] = set()
        while (name is not None and name not in seen and name in self.by_name and self.by_name[name].spec.shares
               and not self._ties(self.by_name[name])):
            seen.add(name)
            name = _qualified(self.by_name[name], self.by_name[name].spec.shares)
        return name

    def _ties(self, entry: _Planned) -> bool:
        """Does ``entry`` share one tensor of a layer of another type (a head tied to an
        Embedding's table), rather than being that same layer again?"""
        other = self.by_name.get(_qualified(entry, entry.spec.shares)) or self.by_name.get(entry.spec.shares)
        return other is not None and other.rule is not None and not other.omitted and other.rule is not entry.rule

    def _shared_args(self, entry: _Planned, shares: str, kwargs: dict) -> tuple[tuple, dict]:
        """A layer that shares another's weights is that layer: its arguments are the other's."""
        other = self.by_name.get(shares)
        if other is not None and other.rule is not None and other.rule is not entry.rule and not other.spec.shares:
            return entry.spec.args, kwargs  # a tie: its own layer, one tensor of which is the other's
        path = [entry.name]
        # b shares a, c shares b (but a layer tied to another type's tensor is the end: c is that layer)
        while other is not None and other.spec.shares and other.name not in path and not self._ties(other):
            path.append(other.name)
            other = self.by_name.get(other.spec.shares) or self.by_name.get(_qualified(other, other.spec.shares))
        if other is not None and other.name in path:  # a shares b, b shares a: no layer owns the weights
            cycle = " → ".join(path[path.index(other.name):] + [other.name])
            raise GraphError(f"{describe(entry.rule.name, entry.name, entry.spec.index, entry.spec.location)}: "
                             f"sharing goes round in a circle ({cycle}, each sharing the next's weights); "
                             "one of them must own its weights, without 'shares'")
        if other is None or other.rule is None or (other.spec.shares and not self._ties(other)):
            raise GraphError(f"{describe(entry.rule.name, entry.name, entry.spec.index, entry.spec.location)}: "
                             f"shares '{entry.spec.shares}', which is not a layer")
        if other.rule is not entry.rule or entry.spec.args or kwargs:
            raise GraphError(f"{describe(entry.rule.name, entry.name, entry.spec.index, entry.spec.location)}: "
                             f"a layer that shares '{shares}' is that same {other.rule.name}; give it only "
                             "inputs (and a name), not arguments of its own")
        other_kwargs = dict(other.spec.kwargs)
        other_kwargs.pop("trainable", None)
        return other.spec.args, other_kwargs


@dataclass(slots=True)  # not frozen: one is made per layer, and a frozen one is several times slower
class _Copy:
    spec: LayerSpec
    name: str | None
    repeat_of: str | None = None
    chained: bool = False
    omitted: bool = False


def _repeated(layer: LayerSpec) -> list[_Copy]:
    """The copies of a layer written with ``repeat`` (plan() takes a layer written once as it
    is): a chain, each copy after the first taking the one before it in place of its first
    stated input (a decoder stack's layers each take the last one's output and the same memory)."""
    if not isinstance(layer.repeat, int):  # "$n" outside any block
        raise SpecError(f"repeat {layer.repeat!r} refers to a block parameter outside a block", layer.location)
    if layer.repeat == 0:
        return [_Copy(layer, layer.name, omitted=True)]
    return [_Copy(layer, f"{layer.name}_{i}" if layer.name else None, layer.name, chained=i > 1)
            for i in range(1, layer.repeat + 1)]


def _qualified(entry: _Planned, local: str) -> str:
    """``local`` in the scope of ``entry`` (a name in the same block)."""
    prefix = entry.name.rpartition("/")[0]
    return f"{prefix}/{local}" if prefix else local


def _inputs(entry: _Planned, names: Mapping[str, str], previous: str | None) -> tuple[str, ...]:
    spec, rule = entry.spec, entry.rule
    if rule.is_source:  # the network's input, or a Parameter: not the previous layer's output
        if spec.inputs:
            what = "is an input" if rule.is_input else "is a learnable tensor of its own"
            raise GraphError(f"{describe(rule.name, entry.name, spec.index, spec.location)} {what} and cannot take inputs")
        return ()
    if spec.inputs is not None:
        return _stated(entry, names, previous)
    if rule.family == "merge":  # Keras: "A merge layer should be called on a list of inputs"
        raise GraphError(f"{describe(rule.name, entry.name, spec.index, spec.location)}: a merge layer needs a list "
                         "of inputs, not just the layer before it; give inputs: [...] (a list of one is allowed, "
                         "as in Keras)")
    if previous is None:
        raise GraphError(
            f"{describe(rule.name, entry.name, spec.index, spec.location)} has no input: start the spec with "
            "'input: [shape]' (or Input(...) in the compact form)"
        )
    return (previous,)


def _stated(entry: _Planned, names: Mapping[str, str], previous: str | None) -> tuple[str, ...]:
    """The inputs a layer or block use states, by their global names; a later copy of a
    repeat takes the copy before it (``previous``) in place of the first."""
    stated = tuple(names.get(n, n) for n in entry.spec.inputs)
    return (previous, *stated[1:]) if entry.chained else stated


def _resolve(layer: LayerSpec, prefer: str = KERAS) -> Rule:
    try:
        return lookup(layer.type, prefer)
    except RuleError as err:
        raise LayerError(describe(None, layer.name, layer.index, layer.location), str(err)) from None
