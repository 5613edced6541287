"""Keras 3 models: Sequential, functional, and models nested inside them → a Graph.

The model's own graph is followed, never run: each call of a layer (``layer._inbound_nodes``
that belong to the model) becomes one node, fed the shapes Keras recorded for that call
(batch dropped). A layer's rule is looked up by its Keras class name, and its arguments are
read from ``layer.get_config()`` under the rule's own (Keras) argument names; config keys a
rule does not declare (name, dtype, initializers, ...) change no count and are dropped, and
the few that differ are translated in ``_keras_layers`` (the table a saved ``.keras`` file is
read by too). What has no rule (a user's own Layer subclass, even of a Keras class; a Keras
layer learnable does not know; a subclassed Model inside the graph; a Lambda; a quantized
layer) is counted from ``layer.weights`` with the
``Tensors`` rule and Keras's output shape, and a ``keras.ops`` operation in a functional
graph (``keras.ops.add(x, y)``) is a row with no weights.

- A layer called at several places is one node per call; the later ones share the first's
  weights (counted once, as Keras counts them).
- ``layer.trainable`` (and a frozen model around it) makes its weights non-trainable.
- A nested Sequential or functional model becomes a block (its class name as type) whose
  layers are named ``outer/inner``, so ``--depth`` shows its subtotal.
- Every rule is checked against Keras itself, in Keras's convention, whatever convention
  the report uses: its parameter count against ``layer.count_params()``, its trainable
  split against ``layer.trainable_weights``, its output shape against the tensor Keras
  built. A difference is a bug in a rule and raises an AssertionError naming both.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import keras

from .._names import Names
from .._text import shape_text
from ..errors import ArgumentError, LearnableError, SpecError
from ..graph import BlockInfo, Graph, Node, make_node
from ..rules import KERAS, Context, Rule, lookup
from ..rules._args import shape
from ._keras_layers import FROM_TENSORS, QUIET, arguments, rule_for

Shape = tuple[int | None, ...]

def to_graph(model: Any, *, input_shape: Sequence[int | None] | None = None, convention: str | None = None,
             **_: Any) -> Graph:
    """The Graph of a Keras Sequential or functional model (models nested in it included).

    ``input_shape`` (one example's shape, batch excluded) is needed only for a model that is
    not built yet, such as a Sequential with no ``Input``: then this calls
    ``model.build((None, *input_shape))`` on the user's own model (to leave it untouched,
    pass ``keras.models.clone_model(model)`` instead). ``convention`` is "keras" (the
    default) or "pytorch"; the checks against Keras always run in Keras's.
    """
    graph = _graph_of(_built(model, input_shape))
    importer = _Importer(keras.config.image_data_format())
    importer.add_model(graph, prefix="", block=None, sources=None, trainable=True)
    return Graph(tuple(importer.nodes), name=model.name, data_format=importer.data_format,
                 convention=convention or KERAS, blocks=tuple(importer.blocks))


# ---- the model and its graph ---------------------------------------------------------------


def _built(model: Any, input_shape: Sequence[int | None] | None) -> Any:
    if not isinstance(model, keras.Model):
        raise SpecError(f"a Keras {type(model).__name__} is not a model; pass a keras.Model, e.g. "
                        f"keras.Sequential([keras.Input(shape), layer])")
    wanted = _input_shape(input_shape)
    if not isinstance(model, keras.Sequential) or (model.built and _graph_of(model, strict=False) is not None):
        _graph_of(model)  # a functional model is built with its graph; a subclassed one has none
        built = [_shape(t) for t in model.inputs]
        if wanted is not None and built != [wanted]:
            raise SpecError(f"Keras model '{model.name}' is already built, for input "
                            f"{', '.join(shape_text(s) for s in built)}, not {shape_text(wanted)}; leave out "
                            f"input_shape, or count a model built for that input")
        return model
    if wanted is None:
        raise SpecError(f"Keras model '{model.name}' is not built, so its input shape is unknown; build it "
                        f"(model.build((None, *shape)), or begin it with keras.Input(shape)), or pass input_shape")
    try:
        model.build((None, *wanted))
    except (ValueError, TypeError) as err:
        raise SpecError(f"Keras could not build model '{model.name}' for input_shape "
                        f"{shape_text(wanted)}: {err}") from None
    _graph_of(model)  # Keras leaves a Sequential without a graph when a layer cannot infer its shape
    return model


def _input_shape(value: Any) -> Shape | None:
    if value is None:
        return None
    try:
        return shape(list(value) if isinstance(value, tuple) else value)
    except ArgumentError as err:
        raise SpecError(f"input_shape {err} (one example's shape, batch excluded, e.g. (28, 28, 1))") from None


def _graph_of(model: Any, strict: bool = True) -> Any:
    """The functional graph behind a model: its own, or a Sequential's."""
    graph = getattr(model, "_functional", None) if isinstance(model, keras.Sequential) else model
    if isinstance(graph, keras.Function):
        return graph
    if strict:
        raise SpecError(f"Keras model '{model.name}' ({type(model).__name__}) has no graph of layers to follow: "
                        f"learnable reads Sequential and functional models (a subclassed Model's call() is code); "
                        f"count it inside a functional model, where it is counted from its weights")
    return None


def _is_graph_model(layer: Any) -> bool:
    return isinstance(layer, keras.Model) and _graph_of(layer, strict=False) is not None


def _calls(graph: Any) -> list[tuple[Any, int, Any]]:
    """(operation, node index, node) of every call in the graph, inputs first: by depth
    (Keras's own ordering), then in the order of ``graph.operations``."""
    position = {id(op): i for i, op in enumerate(graph._operations)}
    calls = []
    for depth in sorted(graph._nodes_by_depth, reverse=True):
        level = [(position[id(n.operation)], n.operation._inbound_nodes.index(n), n)
                 for n in graph._nodes_by_depth[depth]]
        calls += [(node.operation, index, node) for _, index, node in sorted(level, key=lambda c: c[:2])]
    return calls


def _shape(tensor: Any) -> Shape:
    return tuple(None if d is None else int(d) for d in tuple(tensor.shape)[1:])


# ---- one graph at a time, nested models recursively -----------------------------------------


class _Importer:
    def __init__(self, data_format: str):
        self.data_format = data_format
        self.nodes: list[Node] = []
        self.blocks: list[BlockInfo] = []
        self.names = Names()
        self.owner: dict[int, str] = {}  # id(layer) → the node that counts its weights

    def add_model(self, graph: Any, prefix: str, block: str | None, sources: list[str] | None,
                  trainable: bool) -> list[str]:
        """Add a model's calls; returns the node names that produce its outputs. ``sources``
        name the outer nodes feeding a nested model's inputs (its InputLayers then vanish)."""
        produced: dict[tuple[int, int], list[str]] = {}
        if sources is not None:
            for tensor, source in zip(graph.inputs, sources):
                history = tensor._keras_history
                produced[(id(history.operation), history.node_index)] = [source]
        for op, index, call in _calls(graph):
            if (id(op), index) in produced:
                continue
            inputs = [_producer(produced, t) for t in call.input_tensors]
            if _is_graph_model(op):
                names = self._nested(op, prefix, block, inputs, trainable)
            else:
                names = [self._layer(op, call, prefix, block, inputs, trainable)] * max(1, len(call.output_tensors))
            produced[(id(op), index)] = names
        return [_producer(produced, t) for t in graph.outputs]

    def _nested(self, model: Any, prefix: str, block: str | None, inputs: list[str], trainable: bool) -> list[str]:
        path = self._name(prefix + model.name)
        info = len(self.blocks)
        self.blocks.append(BlockInfo(path, type(model).__name__, block, ""))
        outputs = self.add_model(_graph_of(model), path + "/", path, inputs, trainable and model.trainable)
        self.blocks[info] = BlockInfo(path, type(model).__name__, block, outputs[0])
        return outputs

    def _layer(self, layer: Any, call: Any, prefix: str, block: str | None, inputs: list[str],
               trainable: bool) -> str:
        name = self._name(prefix + layer.name)
        shares = None
        if isinstance(layer, keras.Layer) and layer.weights:
            shares = self.owner.setdefault(id(layer), name)
            shares = None if shares == name else shares
        shapes = tuple(_shape(t) for t in call.input_tensors)
        output = _shape(call.output_tensors[0]) if call.output_tensors else ()
        where = {"name": name, "inputs": tuple(inputs), "block": block, "shares": shares, "input_shapes": shapes,
                 "index": len(self.nodes) + 1, "trainable": bool(trainable and getattr(layer, "trainable", True))}
        rule = _rule_for(layer)
        node = _ruled_node(rule, layer, where) if rule else _tensors_node(layer, output, where)
        _check(node, layer, output, self.data_format)
        self.nodes.append(node)
        return name

    def _name(self, wanted: str) -> str:
        """A layer's name; its later calls are ``name (2)``, ``name (3)``, ..."""
        return self.names.unique(wanted)


def _producer(produced: dict[tuple[int, int], list[str]], tensor: Any) -> str:
    history = tensor._keras_history
    names = produced[(id(history.operation), history.node_index)]
    return names[min(history.tensor_index, len(names) - 1)]


# ---- a layer → its node ---------------------------------------------------------------------


def _rule_for(layer: Any) -> Rule | None:
    """The Keras-form rule of one of Keras's own layers, or None (a user's class, an op, a
    quantized layer: the rules count float weights)."""
    cls = type(layer)
    if (not isinstance(layer, keras.Layer) or not cls.__module__.startswith("keras.")
            or getattr(layer, "quantization_mode", None)):
        return None
    return rule_for(cls.__name__)


def _arguments(rule: Rule, layer: Any) -> dict[str, Any]:
    """The rule's arguments from the layer's config (the table a saved file is read by too)."""
    return arguments(rule, type(layer).__name__, layer.get_config())


def _ruled_node(rule: Rule, layer: Any, where: dict) -> Node:
    type_name = type(layer).__name__
    try:
        return make_node(rule, kwargs=_arguments(rule, layer), type_name=None if type_name == rule.name else type_name,
                         **where)
    except LearnableError as err:
        raise AssertionError(f"learnable's {rule.name} rule rejects the arguments of Keras {type_name} "
                             f"'{layer.name}' (config {_config(layer)}): {err}") from err


def _tensors_node(layer: Any, output: Shape, where: dict) -> Node:
    if not isinstance(layer, keras.Layer):  # keras.ops.add(x, y) in a functional graph
        return make_node(lookup("Tensors"), kwargs={"output_shape": output, "note": "a keras.ops operation: no weights"},
                         type_name=f"ops.{type(layer).__name__}", **where)
    trainable = {id(w) for w in layer.trainable_weights}
    tensors = [(w.path.removeprefix(layer.path + "/"), tuple(w.shape), id(w) in trainable, False)
               for w in layer.weights]
    mode = getattr(layer, "quantization_mode", None)
    note = f"quantized ({mode}): counted from its own tensors" if mode else FROM_TENSORS.get(type(layer).__name__, "")
    return make_node(lookup("Tensors"), kwargs={"tensors": tensors, "output_shape": output, "note": note},
                     type_name=type(layer).__name__, **where)


# ---- the check against Keras -----------------------------------------------------------------


def _check(node: Node, layer: Any, output: Shape, data_format: str) -> None:
    """The rule, run in Keras's convention, against Keras's own count, split and shape."""
    if not isinstance(layer, keras.Layer):
        return
    what = f"{node.describe()}: learnable's {node.rule.name} rule"
    try:
        inference = node.rule.infer(node.args, list(node.input_shapes), Context(data_format, KERAS))
    except LearnableError as err:
        raise AssertionError(f"{what} rejects what Keras built (inputs "
                             f"{', '.join(shape_text(s) for s in node.input_shapes)}; config {_config(layer)}): "
                             f"{err}") from err
    ours = inference.weights_total
    frozen = sum(w.count for w in inference.weights if not (w.trainable and node.trainable) and not w.buffer)
    keras_frozen = sum(math.prod(w.shape) for w in layer.non_trainable_weights)
    if ours != layer.count_params() or frozen != keras_frozen:
        raise AssertionError(f"{what} counts {ours:,} params ({frozen:,} non-trainable), Keras "
                             f"{layer.count_params():,} ({keras_frozen:,} non-trainable); "
                             f"config {_config(layer)}")
    if tuple(inference.output_shape) != output:
        raise AssertionError(f"{what} gives output shape {shape_text(inference.output_shape)}, Keras "
                             f"{shape_text(output)}; config {_config(layer)}")


def _config(layer: Any) -> dict[str, Any]:
    return {k: v for k, v in layer.get_config().items() if k not in QUIET}
