"""Keras layers and models called on tensors, and the graph of the model chosen.

A layer called on tensors is a node at once (the functional API builds its graph as the code
runs); a layer called again shares its weights. A Sequential called on a tensor runs its
layers in a block; a functional model called on tensors is its graph again, in a block,
with the same layers (so the same weights); a layer or model the code subclasses runs its
``build`` once and its ``call`` each time, in a block named as Keras names it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..errors import Location, SpecError
from ..graph import Graph
from ..rules import KERAS, lookup
from .emit import tensors_in
from .ops import is_operand
from .values import Bound, Const, Function, Layer, Module, Param, Tensor, Unknown

if TYPE_CHECKING:
    from .reader import Reader

_RECURRENT_STATES = {"LSTM": 2, "GRU": 1, "SimpleRNN": 1}
# Layers that make layers of their own when first called, each taking a name from Keras's
# counters (so the names after them move on): keras.src.layers.attention.multi_head_attention.
_BUILD_NAMES = {"MultiHeadAttention": ("softmax", "dropout")}
_TENSOR_KEYWORDS = ("inputs", "query", "value", "key")


class KerasModel:
    def __init__(self, reader: Reader):
        self.reader = reader

    # ---- calls ---------------------------------------------------------------------------

    def call(self, obj: Layer | Module, args: list[Any], kwargs: dict[str, Any], where: Location) -> Any:
        inputs = _inputs(args, kwargs)
        unknown = next((x for x in inputs if isinstance(x, Unknown)), None)
        if unknown is not None:
            return unknown
        if not inputs or not all(is_operand(x) for x in inputs):
            return Unknown(f"a Keras {_kind(obj)} called on values that are not tensors (data?): not followed", where)
        if self.root is None and self.reader.emitter.block is None:
            if not any(isinstance(x, Tensor) for x in inputs):
                # the code's top level calls a model on data (np.ones((2, 2))): that states its input
                self.reader.fed.setdefault(id(obj), list(inputs))
                return Unknown(f"the output of {_kind(obj)} on data, followed only when the model is counted", where)
            if isinstance(obj, Module) and obj.kind == "user" and obj.outputs is None:
                self.reader.fed.setdefault(id(obj), list(inputs))  # model(keras.Input((8,))) builds it
        if isinstance(obj, Layer):
            return self.call_layer(obj, inputs, kwargs, where)
        if not isinstance(obj, Module):  # e.g. an undefined name in a torch Sequential called on a Keras input
            why = obj.why if isinstance(obj, Unknown) else "it is not a layer or a model"
            raise SpecError(f"a layer here is not known from the code, and may hold parameters: {why}",
                            getattr(obj, "where", None) or where)
        if obj.kind == "Sequential":
            return self._in_block(obj, "Sequential", lambda: self.chain(obj, inputs[0], where))
        if obj.kind == "Functional":
            return self._in_block(obj, "Functional", lambda: self.replay(obj, inputs, where))
        return self._in_block(obj, obj.type_name, lambda: self.run_call(obj, args, kwargs, where))

    def call_layer(self, layer: Layer, inputs: list[Any], kwargs: dict[str, Any], where: Location) -> Any:
        reader = self.reader
        emitter = reader.emitter
        low, high = layer.rule.arity
        if layer.rule.is_input:
            raise SpecError(f"an {layer.type_name} is called on a tensor", where)
        tensors = reader.ops.materialize_all(inputs[:high] if high is not None else inputs, where)
        if len(tensors) < low:
            raise SpecError(f"layers.{layer.type_name} '{layer.name}' takes {low} inputs, got {len(tensors)}", where)
        n = emitter.call_number(layer)
        if not layer.calls:  # (once per layer, whatever the graph: Keras builds a layer once)
            layer.calls.append("built")
            for base in _BUILD_NAMES.get(layer.rule.name, ()):
                reader.keras.names.auto(base)
        wanted = self.prefix() + layer.name
        name = emitter.unique(wanted if n == 1 else f"{wanted} ({n})", " ({n})")
        output = emitter.emit(layer.rule, name, tensors, layer.kwargs, args=layer.args, where=layer.where, owner=layer,
                              note=layer.note, framework=KERAS)
        states = _RECURRENT_STATES.get(layer.rule.name, 0) if layer.bound.get("return_state") else 0
        if states:
            return [output, *[Unknown(f"a state of {layer.name}", where)] * states]
        return output

    def chain(self, model: Module, x: Any, where: Location) -> Any:
        for layer in model.children.values():
            x = self.call(layer, [x], {}, where)
            if isinstance(x, Unknown):
                return x
        return x

    def replay(self, model: Module, inputs: list[Any], where: Location) -> Any:
        """A functional model called on new tensors: its layers again, on these."""
        sources = tensors_in(model.inputs)
        if len(sources) != len(inputs):
            raise SpecError(f"model '{model.name}' takes {len(sources)} inputs, got {len(inputs)}", where)
        emitter = self.reader.emitter
        mapped = {t.node: self.reader.ops.materialize(x, where) for t, x in zip(sources, inputs)}
        outputs = {t.node for t in tensors_in(model.outputs)}
        needed = emitter.ancestors(outputs)
        for pending in list(emitter.pending):
            node = pending.node
            if node.name not in needed or node.name in mapped or node.rule.is_input:
                continue
            args = [mapped[i] for i in node.inputs if i in mapped]
            if len(args) != len(node.inputs):
                continue  # fed by a tensor the model does not take (a constant): left as it is
            owner = pending.owner
            if isinstance(owner, Layer):
                mapped[node.name] = self.call_layer(owner, args, {}, where)
            else:
                name = emitter.unique(self.prefix() + node.name.rpartition("/")[2], "_{m}")
                mapped[node.name] = emitter.emit(node.rule, name, args, dict(node.args), where=node.location,
                                                 type_name=node.type_name, owner=owner, framework=KERAS)
        return _rebuild(model.outputs, mapped)

    def run_call(self, module: Module, args: list[Any], kwargs: dict[str, Any], where: Location) -> Any:
        """A subclassed layer or model: ``build(input_shape)`` at its first call, then ``call``."""
        interp = self.reader.interp
        if not module.built:
            module.built = True
            try:
                build = module.cls.lookup("build")
            except KeyError:
                build = None
            if isinstance(build, Function):
                shapes = [(None, *t.shape) for t in _inputs(args, kwargs) if is_operand(t)]
                interp.call(Bound(build, module), [shapes[0] if len(shapes) == 1 else shapes], {}, where)
        try:
            call = module.cls.lookup("call")
        except KeyError:
            raise SpecError(f"{module.type_name} is called, but its class defines no call()", where) from None
        result = interp.call(Bound(call, module), args, {k: v for k, v in kwargs.items()}, where)
        self._unused_weights(module, where)
        return result

    def _unused_weights(self, module: Module, where: Location) -> None:
        """Weights a layer made but its call did not use still count (Keras counts every weight
        of a built layer)."""
        for param in module.params.values():
            if param.unknown is not None:
                raise SpecError(f"the weight '{param.name}' of {module.name} is not known from the code: "
                                f"{param.unknown.why}", param.unknown.where or where)
            if not any(key[0] == self.reader.emitter.serial for key in param.nodes):
                self.reader.parameter_node(param, False, param.where or where)

    def _in_block(self, module: Module, type_name: str, body: Any) -> Any:
        emitter = self.reader.emitter
        if module is self.root:
            return body()
        n = emitter.call_number(module)
        wanted = self.prefix() + module.name
        block = emitter.open(emitter.unique(wanted if n == 1 else f"{wanted} ({n})", " ({n})"), type_name, module)
        result: Any = None
        try:
            result = body()
        finally:
            emitter.close(block, result)
        return result

    def prefix(self) -> str:
        block = self.reader.emitter.block
        return f"{block.name}/" if block is not None else ""

    root: Module | None = None

    # ---- the model chosen ----------------------------------------------------------------

    def graph(self, model: Any, input_shapes: list | None, integer: bool, where: Location | None) -> Graph:
        reader = self.reader
        if isinstance(model, Module) and model.kind == "Functional":
            if input_shapes:
                raise SpecError(f"model '{model.name}' states its own input; leave out --input", where)
            outputs = tensors_in(model.outputs)
            if not outputs:
                raise SpecError(f"model '{model.name}' has no output tensors", where)
            return reader.emitter.graph(outputs=outputs, name=model.name, data_format=reader.data_format,
                                        convention=KERAS, frozen=model)
        shapes = self._shapes(model, input_shapes, where)
        reader.emitter = reader.new_emitter()
        self.root = model
        try:
            inputs = [reader.emitter.emit(lookup("Input"), reader.emitter.unique(self._input_name(model)), [],
                                          {"shape": shape}, where=where, integer=integer, framework=KERAS)
                      for shape in shapes]
            output = self.call(model, [inputs[0] if len(inputs) == 1 else inputs], {}, where)
        finally:
            self.root = None
        if isinstance(output, Unknown):
            raise SpecError(f"the model's output is not known from the code: {output.why}", output.where or where)
        return reader.emitter.graph(outputs=tensors_in(output) + inputs, name=model.name, data_format=reader.data_format,
                                    convention=KERAS, frozen=model)

    def _shapes(self, model: Any, input_shapes: list | None, where: Location | None) -> list:
        stated = getattr(model, "input_shape", None) or getattr(model, "keras2_input", None)
        fed = self.reader.stated_shapes_for(model)
        if input_shapes and stated and list(input_shapes) != [tuple(stated)]:
            raise SpecError(f"the code states the input {tuple(stated)}; leave out --input", where)
        shapes = input_shapes or ([tuple(stated)] if stated else None) or fed
        if not shapes:
            name = getattr(model, "name", None)
            raise SpecError(f"the code does not state the input shape of {f'{name!r}' if name else 'the model'}: give "
                            "it with --input (e.g. --input 28x28x1), or begin the model with keras.Input(shape=...)",
                            where)
        return [tuple(s) for s in shapes]

    def _input_name(self, model: Any) -> str:
        inputs = getattr(model, "inputs", None)
        fed = self.reader.fed.get(id(model)) or [None]
        for tensor in (inputs, fed[0]):
            if isinstance(tensor, Tensor):  # the keras.Input the code made for it
                return tensor.node
        return getattr(model, "input_name", "") or self.reader.keras.names.auto("input_layer")


def _inputs(args: list[Any], kwargs: dict[str, Any]) -> list[Any]:
    """The tensors a layer is called on: the first argument (a tensor or a list of them) and
    the other positional ones (MultiHeadAttention's query, value), then query/value/key by name."""
    found: list[Any] = []
    for i, arg in enumerate(args):
        if isinstance(arg, (list, tuple)) and i == 0:
            found.extend(arg)
        elif is_operand(arg) or isinstance(arg, Unknown):
            found.append(arg)
    for key in _TENSOR_KEYWORDS:
        if key in kwargs and (is_operand(kwargs[key]) or isinstance(kwargs[key], Unknown)):
            found.append(kwargs[key])
    return found


def _rebuild(value: Any, mapped: dict[str, Any]) -> Any:
    if isinstance(value, Tensor):
        return mapped.get(value.node, value)
    if isinstance(value, list):
        return [_rebuild(v, mapped) for v in value]
    if isinstance(value, tuple):
        return tuple(_rebuild(v, mapped) for v in value)
    if isinstance(value, dict):
        return {k: _rebuild(v, mapped) for k, v in value.items()}
    return value


def _kind(obj: Any) -> str:
    return obj.type_name if isinstance(obj, (Layer, Module)) else "layer"


__all__ = ["Const", "KerasModel", "Param"]
