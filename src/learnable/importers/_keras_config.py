"""A saved Keras model's config (a ``.keras`` file's ``config.json``, an ``.h5`` file's
``model_config``) → the Graph, read as data: nothing is deserialized by Keras, no code runs.

Each layer's class name picks its rule from the table the live-model importer uses
(``_keras_layers``), its arguments read from its ``config``, so a saved model goes through
the same rules as the model itself.

- Sequential: layers chained from its InputLayer (Keras 3), the first layer's
  ``batch_input_shape`` (Keras 2) or its ``build_config``.
- Functional: each call in a layer's ``inbound_nodes`` is one node, wired to the calls that
  produced its inputs and fed the shapes Keras recorded for the call (Keras 3's
  ``__keras_tensor__`` records; Keras 2's ``[name, node, tensor, kwargs]`` lists record no
  shapes: those calls' shapes are inferred). Later calls of a layer share the first's
  weights, counted once, as Keras counts them.
- A nested Sequential or Functional model becomes a block whose layers are ``outer/inner``.
- ``trainable: false`` on a layer, or a model around it, makes its weights non-trainable.

A ``keras.ops`` call in a functional graph (``module`` ``keras.src.ops...``) is a row with
no weights; Keras 3's legacy ``.h5`` saves it with no module, under its op's class name, so
``keras.ops.add`` there reads as the ``Add`` layer (no weights either way).

What a config cannot tell (a Lambda's code, a custom object, a quantized layer, a layer
learnable has no rule for) is counted from the weights file's tensors when the caller gives
them (``weights``), and the row says so; otherwise it is refused, naming the layer.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from .._names import Names
from ..errors import LearnableError, Location, SpecError
from ..graph import BlockInfo, Graph, Node, make_node
from ..rules import KERAS, Context, lookup
from ..rules._args import MAX_INT, MAX_RANK
from ._keras_layers import FROM_TENSORS, arguments, rule_for

Shape = tuple[int | None, ...]
# a layer's path (outer/inner) → its tensors in the weights file, (name, shape), or None
Weights = Callable[[str], list[tuple[str, tuple[int, ...]]] | None]
_MODELS = {"Sequential", "Functional", "Model"}
MAX_LAYERS = 200_000  # calls, over all nested models: far past any real model
MAX_NESTING = 64


def config_graph(model: Any, where: Location, *, weights: Weights | None = None, weights_file: str = "",
                 input_shape: Sequence[int | None] | None = None, convention: str | None = None) -> Graph:
    kind, config = _layer_entry(model, where, "the model")
    if kind not in _MODELS or not isinstance(config.get("layers"), list):
        raise SpecError(f"holds a Keras {kind}, not a Sequential or functional model (a subclassed Model's "
                        "call() is code: nothing to read)", where)
    reader = _Reader(where, weights, weights_file, input_shape)
    reader.add_model(model, "", None, None, True, 0)
    return Graph(tuple(reader.nodes), name=str(config.get("name") or "") or None, convention=convention or KERAS,
                 blocks=tuple(reader.blocks))


def _layer_entry(entry: Any, where: Location, what: str) -> tuple[str, Mapping[str, Any]]:
    if (not isinstance(entry, Mapping) or not isinstance(entry.get("class_name"), str)
            or not isinstance(entry.get("config"), Mapping)):
        raise SpecError(f"{what} is not a serialized Keras layer ({{'class_name': ..., 'config': {{...}}}})", where)
    return entry["class_name"], entry["config"]


def _is_model(entry: Mapping[str, Any]) -> bool:
    return entry.get("class_name") in _MODELS and isinstance(entry["config"].get("layers"), list)


class _Reader:
    def __init__(self, where: Location, weights: Weights | None, weights_file: str, wanted: Any):
        self.where, self.weights, self.weights_file, self.wanted = where, weights, weights_file, wanted
        self.nodes: list[Node] = []
        self.blocks: list[BlockInfo] = []
        self.names = Names()
        self.owner: dict[int, str] = {}  # id(layer entry) → the node that counts its weights

    def add_model(self, entry: Mapping, prefix: str, block: str | None, sources: list[str] | None,
                  trainable: bool, depth: int) -> list[str]:
        """Add a model's layers; returns the nodes that give its outputs. ``sources`` name the
        outer nodes feeding a nested model's inputs (its InputLayers then vanish)."""
        if depth > MAX_NESTING:
            raise SpecError(f"nests models more than {MAX_NESTING} deep", self.where)
        config = entry["config"]
        trainable = trainable and config.get("trainable", True) is not False
        if entry["class_name"] == "Sequential":
            return self._sequential(entry, prefix, block, sources, trainable, depth)
        return self._functional(config, prefix, block, sources, trainable, depth)

    # ---- Sequential: a chain --------------------------------------------------------------------

    def _sequential(self, entry: Mapping, prefix: str, block: str | None, sources: list[str] | None,
                    trainable: bool, depth: int) -> list[str]:
        layers = entry["config"]["layers"]
        for i, layer in enumerate(layers):
            _layer_entry(layer, self.where, f"layer {i + 1} of '{prefix or entry['config'].get('name', '')}'")
        if sources is None and not (layers and layers[0]["class_name"] == "InputLayer"):
            shape = self._sequential_input(entry, layers)
            batch = {"batch_shape": [None, *shape], "name": "input_layer"}
            layers = [{"class_name": "InputLayer", "config": batch}, *layers]
        previous = sources
        for i, layer in enumerate(layers):
            if layer["class_name"] == "InputLayer" and sources is not None:
                continue
            after = layers[i + 1] if i + 1 < len(layers) else None
            output = _recorded(((after or {}).get("build_config") or {}).get("input_shape"))
            previous = self._call(layer, 0, prefix, block, previous or [], None, output, trainable, depth)
        return previous or []

    def _sequential_input(self, entry: Mapping, layers: list[Mapping]) -> Shape:
        first = layers[0]["config"] if layers else {}
        for batch in (first.get("batch_input_shape"), (entry.get("build_config") or {}).get("input_shape")):
            if isinstance(batch, list) and batch:
                return _shape(batch, self.where, "the Sequential's input shape")
        if self.wanted is not None:
            return _shape([None, *self.wanted], self.where, "input_shape")
        raise SpecError("holds a Sequential model that was never built, so its input shape is unknown; "
                        "pass input_shape", self.where)

    # ---- Functional: calls in dependency order -------------------------------------------------

    def _functional(self, config: Mapping, prefix: str, block: str | None, sources: list[str] | None,
                    trainable: bool, depth: int) -> list[str]:
        calls, consumers, waiting = [], {}, []
        seen: dict[tuple[str, int, int], Shape] = {}  # each output's shape, as its consumers recorded it
        for i, layer in enumerate(config["layers"]):
            _layer_entry(layer, self.where, f"layer {i + 1} of '{prefix or config.get('name', '')}'")
            for index, inbound in enumerate(_inbound(layer, self.where)):
                inputs = _inputs(inbound, self.where)
                if not inputs:  # a Functional model's layer is always called on a Keras tensor
                    raise SpecError(f"layer '{_name_of(layer)}' has a call (inbound node {index}) on no Keras "
                                    "tensor; not a model Keras wrote", self.where)
                calls.append((layer, index, inputs))
                producers = {(n, k) for n, k, _, _ in inputs}
                waiting.append(len(producers))
                for producer in producers:
                    consumers.setdefault(producer, []).append(len(calls) - 1)
                seen.update({(n, k, t): s for n, k, t, s in inputs if s is not None})
            if not layer.get("inbound_nodes"):  # an InputLayer: the call that makes the model's input
                if "InputLayer" not in str(layer.get("class_name")):  # anything else was called on a tensor
                    raise SpecError(f"layer '{_name_of(layer)}' ({str(layer.get('class_name'))[:40]}) has no inbound "
                                    "nodes; only an InputLayer has none in a model Keras wrote", self.where)
                calls.append((layer, 0, []))
                waiting.append(0)
        if len(calls) + len(self.nodes) > MAX_LAYERS:
            raise SpecError(f"has more than {MAX_LAYERS:,} layer calls", self.where)
        produced: dict[tuple[str, int], list[str]] = {}
        inputs_of = config.get("input_layers")
        if sources is not None:
            for (name, index, _), source in zip(_history_list(inputs_of, self.where), sources):
                produced[(name, index)] = [source]
        ready = deque(i for i, count in enumerate(waiting) if count == 0)
        while ready:
            layer, index, inputs = calls[ready.popleft()]
            key = (_name_of(layer), index)
            if key not in produced:
                names = [_producer(produced, i, self.where) for i in inputs]
                shapes = tuple(s for *_, s in inputs) if all(s is not None for *_, s in inputs) else None
                produced[key] = self._call(layer, index, prefix, block, names, shapes, seen.get((*key, 0)),
                                           trainable, depth)
            for consumer in consumers.pop(key, ()):
                waiting[consumer] -= 1
                if waiting[consumer] == 0:
                    ready.append(consumer)
        missing = [(n, k) for n, k, *_ in (i for c in calls for i in c[2]) if (n, k) not in produced]
        if missing:
            raise SpecError(f"layer '{missing[0][0]}' call {missing[0][1]} is an input that no layer of the model "
                            f"produces (or the layers form a cycle)", self.where)
        return [_producer(produced, (n, k, t, None), self.where)
                for n, k, t in _history_list(config.get("output_layers"), self.where)]

    # ---- one call of a layer or of a nested model --------------------------------------------------

    def _call(self, layer: Mapping, index: int, prefix: str, block: str | None, inputs: list[str],
              shapes: tuple | None, output: Shape | None, trainable: bool, depth: int) -> list[str]:
        if _is_model(layer):
            return self._nested(layer, prefix, block, inputs, trainable, depth)
        kind, config = layer["class_name"], layer["config"]
        name = self._name(prefix + _name_of(layer))
        place = {"trainable": trainable and config.get("trainable", True) is not False, "block": block,
                 "index": len(self.nodes) + 1, "location": self.where, "input_shapes": shapes}
        module = layer.get("module")
        if isinstance(module, str) and module.startswith(("keras.src.ops", "keras.ops")):
            node = make_node(lookup("Tensors"), name, tuple(inputs), kwargs={
                "output_shape": output or (), "note": "a keras.ops operation: no weights"},
                type_name=f"ops.{kind}", **place)
        else:
            rule = None if _custom(layer) or _quantized(config) else rule_for(kind)
            first = self.owner.setdefault(id(layer), name)
            place["shares"] = None if first == name else first
            node = (self._ruled(rule, kind, config, name, inputs, place) if rule
                    else self._from_weights(layer, name, inputs, output, place))
        self.nodes.append(node)
        return [name]

    def _ruled(self, rule: Any, kind: str, config: Mapping, name: str, inputs: list[str], place: dict) -> Node:
        try:
            node = make_node(rule, name, tuple(inputs), kwargs=arguments(rule, kind, config),
                             type_name=None if kind == rule.name else kind, **place)
        except LearnableError as err:
            message = str(err).removeprefix(f"{self.where}: ")
            raise SpecError(message if message.startswith(f"{kind} '") else f"{kind} '{name}': {message}",
                            self.where) from None
        if node.shares is not None and node.input_shapes is not None and not _has_weights(node):
            node.shares = None  # a weightless layer called twice shares nothing
        return node

    def _from_weights(self, layer: Mapping, name: str, inputs: list[str], output: Shape | None, place: dict) -> Node:
        """A layer the config cannot explain, counted from the weights file's tensors."""
        kind = layer["class_name"]
        what = _unreadable(layer)
        path = name.split(" (")[0]  # a later call's "(2)" names no layer of the file
        try:
            tensors = self.weights(path) if self.weights is not None else None
        except SpecError as err:  # h5py missing, or a weights file that is not one
            raise SpecError(f"{kind} '{name}' is {what}, which its config cannot count, and its tensors cannot be "
                            f"read: {str(err).removeprefix(f'{self.where}: ')}", self.where) from None
        if tensors is None:
            raise SpecError(f"{kind} '{name}' is {what}, which its config cannot count, and no weights file shows "
                            f"its tensors", self.where)
        note = (f"{what}: counted from its {len(tensors)} tensors in {self.weights_file or 'the weights file'}"
                f" (which weights train is not stored: the layer's trainable flag is taken for all)")
        rows = [(t, s, True, False) for t, s in tensors]
        if place["shares"] is not None:
            rows = []  # counted at its first call
        return make_node(lookup("Tensors"), name, tuple(inputs), kwargs={
            "tensors": rows, "output_shape": output or (), "note": note}, type_name=kind.rpartition(">")[2], **place)

    def _nested(self, layer: Mapping, prefix: str, block: str | None, inputs: list[str], trainable: bool,
                depth: int) -> list[str]:
        path = self._name(prefix + _name_of(layer))
        info = len(self.blocks)
        self.blocks.append(BlockInfo(path, layer["class_name"], block, ""))
        outputs = self.add_model(layer, path + "/", path, inputs, trainable, depth + 1)
        self.blocks[info] = BlockInfo(path, layer["class_name"], block, outputs[0] if outputs else "")
        return outputs

    def _name(self, wanted: str) -> str:
        """A layer's name; its later calls are ``name (2)``, ``name (3)``, ..."""
        return self.names.unique(wanted)


# ---- what a layer entry says --------------------------------------------------------------------


def _name_of(layer: Mapping) -> str:
    name = layer.get("name", layer["config"].get("name"))
    return name if isinstance(name, str) and name else layer["class_name"].lower()


def _custom(layer: Mapping) -> bool:
    """A user's class: Keras 3 saves Keras's own with module 'keras...' (and no registered
    name, or the class's own); a registered custom object as 'package>Class'. Keras 2 saved no
    module: a name learnable has no rule for is then the user's."""
    module, registered = layer.get("module"), layer.get("registered_name")
    if ">" in layer["class_name"]:  # Keras 3's legacy .h5 names a registered class 'package>Class'
        return True
    if module is None and registered is None:
        return False
    return not (isinstance(module, str) and module.split(".")[0] == "keras"
                and registered in (None, layer["class_name"]))


def _quantized(config: Mapping) -> bool:
    dtype = config.get("dtype")
    return bool(config.get("quantization_config")) or (
        isinstance(dtype, Mapping) and "Quantized" in str(dtype.get("class_name", "")))


def _unreadable(layer: Mapping) -> str:
    kind = layer["class_name"]
    if kind in FROM_TENSORS:
        return "Python code (a Lambda), which is never run"
    if _custom(layer):
        registered = layer.get("registered_name") or (kind if ">" in kind else layer.get("module") or kind)
        return f"a custom object ({registered}), not Keras's own"
    if _quantized(layer["config"]):
        return "quantized"
    return "a layer learnable has no rule for"


def _has_weights(node: Node) -> bool:
    try:
        return node.rule.infer(node.args, list(node.input_shapes), Context(convention=KERAS)).weights_total > 0
    except LearnableError:
        return True  # the engine will say what is wrong


# ---- inbound nodes: Keras 3's records and Keras 2's lists -----------------------------------------


def _inbound(layer: Mapping, where: Location) -> list[Any]:
    nodes = layer.get("inbound_nodes") or []
    if not isinstance(nodes, list):
        raise SpecError(f"layer '{_name_of(layer)}' has inbound_nodes that are not a list", where)
    return nodes


# (producer layer, its call, which of its outputs, the recorded shape or None)
Input = tuple[str, int, int, Shape | None]


def _inputs(inbound: Any, where: Location) -> list[Input]:
    if isinstance(inbound, Mapping):  # Keras 3: {"args": [...], "kwargs": {...}}
        kwargs = inbound.get("kwargs") or {}
        values = [inbound.get("args", []), *(kwargs[k] for k in sorted(kwargs))] if isinstance(kwargs, Mapping) \
            else [inbound.get("args", [])]
        return [_keras_tensor(t, where) for t in _tensors_in(values)]
    if isinstance(inbound, list):  # Keras 2: [[name, node, tensor, {kwargs}], ...]
        found = []
        for item in inbound:
            found.append(_history(item, where) + (None,))
            extra = item[3] if isinstance(item, list) and len(item) > 3 and isinstance(item[3], Mapping) else {}
            found += [_history(v, where) + (None,) for v in extra.values() if _is_history(v)]
        return found
    raise SpecError(f"has an inbound node Keras could not have written: {str(inbound)[:80]}", where)


def _tensors_in(values: Any) -> list[Mapping]:
    """The ``__keras_tensor__`` records in a call's arguments, in order (iteratively: the
    file, not the stack, decides how deep they nest)."""
    found, stack = [], [values]
    while stack:
        value = stack.pop()
        if isinstance(value, Mapping):
            if value.get("class_name") == "__keras_tensor__":
                found.append(value)
            else:
                stack.extend(reversed([value[k] for k in sorted(value, key=str)]))
        elif isinstance(value, list):
            stack.extend(reversed(value))
    return found


def _keras_tensor(record: Mapping, where: Location) -> Input:
    config = record.get("config")
    if not isinstance(config, Mapping):
        raise SpecError("has a __keras_tensor__ with no config", where)
    return (*_history(config.get("keras_history"), where), _shape(config.get("shape"), where, "a recorded shape"))


def _is_history(value: Any) -> bool:
    return isinstance(value, list) and len(value) >= 3 and isinstance(value[0], str)


def _history(value: Any, where: Location) -> tuple[str, int, int]:
    if not (_is_history(value) and all(_count(v) for v in value[1:3])):
        raise SpecError(f"has a layer input that is not [layer, call, tensor]: {str(value)[:80]}", where)
    return value[0], value[1], value[2]


def _history_list(value: Any, where: Location) -> list[tuple[str, int, int]]:
    """A model's input_layers / output_layers: one [name, call, tensor] or a list of them."""
    if _is_history(value):
        return [_history(value, where)]
    if isinstance(value, list):
        return [_history(v, where) for v in value]
    if isinstance(value, Mapping):  # Keras 3 saves a dict of outputs as a dict
        return [_history(value[k], where) for k in value]
    raise SpecError(f"has model inputs or outputs that are not [layer, call, tensor]: {str(value)[:80]}", where)


def _producer(produced: Mapping[tuple[str, int], list[str]], item: Input, where: Location) -> str:
    name, index, tensor, _ = item
    names = produced.get((name, index))
    if not names:
        raise SpecError(f"uses call {index} of layer '{name}', which the model does not have", where)
    return names[min(tensor, len(names) - 1)]


def _count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_LAYERS


def _shape(value: Any, where: Location, what: str) -> Shape:
    """A recorded shape, batch dropped: sizes are whole numbers ≥ 0 or None."""
    if (not isinstance(value, list) or not 1 <= len(value) <= MAX_RANK + 1
            or not all(d is None or (isinstance(d, int) and not isinstance(d, bool) and 0 <= d <= MAX_INT)
                       for d in value)):
        raise SpecError(f"{what} is not a list of sizes: {str(value)[:80]}", where)
    return tuple(value[1:])


def _recorded(value: Any) -> Shape | None:
    """A shape a Sequential's next layer was built for (its input, this layer's output)."""
    try:
        return _shape(value, Location(), "")
    except SpecError:
        return None

