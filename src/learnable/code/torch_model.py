"""A PyTorch model chosen from the code → its Graph.

Its submodules are named by their paths, as ``named_modules()`` gives them. With an input
shape (``--input``, or one the code states), its ``forward`` is followed from fresh inputs:
every submodule call and tensor operation becomes a node with its shape and MACs, a module
called again shares its weights, and modules and parameters the forward never touches are
still counted (PyTorch counts them). Without one, or where the forward does something the
reader does not follow, the model is counted from its constructors alone (parameters do not
need shapes), and the report says why.
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING, Any

from .. import engine
from .._text import with_article
from ..errors import GraphError, LayerError, Location, SpecError
from ..graph import Graph, make_node
from ..rules import CHANNELS_FIRST, PYTORCH, Context, lookup
from ..rules._inputs import implied_inputs
from . import torch_states, torch_tensors
from .emit import tensors_in
from .ops import is_operand
from .values import Function, Layer, Module, Param, Tensor, Unknown, WeightRef

if TYPE_CHECKING:
    from .reader import Reader

_TUPLE_OUTPUTS = {"RNN", "LSTM", "GRU", "MultiheadAttention"}  # (output, hidden state or weights)


class NotFollowed(Exception):
    def __init__(self, why: str, where: Location | None):
        super().__init__(why)
        self.why, self.where = why, where


class TorchModel:
    def __init__(self, reader: Reader):
        self.reader = reader
        self.root: Any = None
        self.order: list[tuple[str, Any]] = []  # (path, module) in named_modules() order

    # ---- the tree ------------------------------------------------------------------------

    def walk(self, root: Any) -> None:
        torch = self.reader.torch
        torch.paths, torch.param_paths, self.order, self.root = {}, {}, [], root
        stack: list[tuple[str, Any]] = [("", root)]
        while stack:
            path, obj = stack.pop()
            if isinstance(obj, Unknown):  # a container's item not known from the code
                raise SpecError(f"the model's '{path}' is not known from the code, and may hold parameters: "
                                f"{obj.why}", obj.where)
            if id(obj) in torch.paths:
                continue  # the same module under a second name: PyTorch lists it once
            torch.paths[id(obj)] = path
            self.order.append((path, obj))
            if not isinstance(obj, Module):
                continue
            for param in obj.params.values():
                torch.param_paths.setdefault(id(param), path)
            self._check_attributes(obj, path)
            children = [(f"{path}.{name}" if path else name, child) for name, child in obj.children.items()
                        if child is not None]
            stack.extend(reversed(children))

    def _check_attributes(self, module: Module, path: str) -> None:
        """An attribute the code leaves unknown that could be a module would go uncounted: refused."""
        for name, value in module.attrs.items():
            if isinstance(value, Unknown) and value.maybe_module:
                where = f"{path}.{name}" if path else name
                raise SpecError(f"the model's '{where}' is not known from the code, and may hold parameters: "
                                f"{value.why}", value.where or module.where)

    # ---- the graph -----------------------------------------------------------------------

    def graph(self, root: Any, input_shapes: list | None, integer: bool, where: Location | None) -> Graph:
        self.walk(root)
        notes: list[str] = []
        shapes = input_shapes or self.reader.stated_shapes_for(root)
        if shapes:
            try:
                return self._followed(root, shapes, integer, where)
            except NotFollowed as stop:
                place = f" ({stop.where})" if stop.where and str(stop.where) else ""
                notes.append(f"forward() is not followed{place}: {stop.why}; the counts come from the constructors, "
                             "without shapes or MACs")
        else:
            notes.append("no input shape (give one with --input, e.g. --input 3x32x32): the counts come from the "
                         "constructors, without shapes or MACs")
        return self._constructed(root, notes)

    def _followed(self, root: Any, shapes: list, integer: bool, where: Location | None) -> Graph:
        reader, torch = self.reader, self.reader.torch
        reader.emitter = reader.new_emitter()
        emitter = reader.emitter
        self.blocks = {path: emitter.add_block(path, obj.type_name, _parent(path), obj)
                       for path, obj in self.order if isinstance(obj, Module) and path}
        names = _forward_names(root, len(shapes))
        inputs = [emitter.emit(lookup("Input"), emitter.unique(name), [], {"shape": tuple(shape)}, where=where,
                               integer=integer, framework="torch")
                  for name, shape in zip(names, shapes)]
        missing = [Unknown(f"forward()'s argument '{name}' (learnable gives the model its input only)", where)
                   for name in _required_after(root, len(inputs))]
        torch.driving = True
        try:
            result = torch.call(root, [*inputs, *missing], {}, where or Location())
        except (SpecError, LayerError, GraphError) as err:  # the counts stand without the forward
            raise NotFollowed(str(err), None) from None
        finally:
            torch.driving = False
        if isinstance(result, Unknown):
            raise NotFollowed(result.why, result.where)
        if not tensors_in(result):
            raise NotFollowed("forward() returns no tensor", where)
        self._untouched()
        return emitter.graph(outputs=None, name=_name(root), data_format=CHANNELS_FIRST, convention=reader.convention)

    def _constructed(self, root: Any, notes: list[str]) -> Graph:
        reader = self.reader
        reader.emitter = reader.new_emitter()
        for path, obj in self.order:
            parent = _parent(path)
            if isinstance(obj, Module):
                if path:
                    reader.emitter.add_block(path, obj.type_name, parent, obj)
                self._params(obj, path)
            else:
                self.constructed_row(obj, path or _name(obj), parent)
        graph = reader.emitter.graph(outputs=None, name=_name(root), data_format=CHANNELS_FIRST,
                                     convention=reader.convention)
        return Graph(graph.nodes, name=graph.name, data_format=graph.data_format, convention=graph.convention,
                     blocks=graph.blocks, notes=tuple(notes))

    def constructed_row(self, layer: Layer, name: str, block: str | None, note: str = "") -> None:
        """A layer counted from its arguments: its input as its own arguments imply it."""
        emitter = self.reader.emitter
        rule = layer.rule
        node = make_node(rule, name, (), layer.args, layer.kwargs, location=layer.where)
        shapes = implied_inputs(rule, dict(node.args))
        if shapes is None:
            raise SpecError(f"nn.{layer.type_name} '{name}': its parameters depend on its input's shape, which the "
                            "code does not state; give it with --input", layer.where)
        self.emit_layer(layer, emitter.unique(name), [], tuple(shapes), block, note)

    def emit_layer(self, layer: Layer, name: str, tensors: list[Any], input_shapes: tuple | None, block: str | None,
                   note: str = "") -> Any:
        """A layer's node through its rule. One whose tensors are all another layer's (weight
        tying) shares that layer's weights, which train as that layer's do; one partly tied,
        partly frozen, reparametrized (weight_norm) or given new tensors is counted tensor by
        tensor, as PyTorch holds them."""
        emitter = self.reader.emitter
        if layer.unread:
            raise SpecError(f"{layer.unread}(...) changed the tensors of nn.{layer.type_name} '{name}' in a way "
                            "learnable does not read; count the model with FILE.py:NAME, which runs your file",
                            layer.where)
        root = _tie_root(layer)
        if layer.tied or layer.frozen or layer.reparametrized or layer.replaced:
            if not _shares_all(layer, root):
                return self._by_tensors(layer, name, tensors, input_shapes, block, note)
        return emitter.emit(layer.rule, name, tensors, layer.kwargs, args=layer.args, where=layer.where,
                            owner=root, input_shapes=input_shapes, block=block, note=note,
                            framework="torch", trainable=root)

    def _by_tensors(self, layer: Layer, name: str, tensors: list[Any], input_shapes: tuple | None,
                    block: str | None, note: str) -> Any:
        node = make_node(layer.rule, name, (), layer.args, layer.kwargs, location=layer.where)
        shapes = list(input_shapes) if input_shapes is not None else [t.shape for t in tensors]
        inference = engine.infer(node, shapes, Context(CHANNELS_FIRST, PYTORCH))
        tied = {w.name for w in inference.weights if not w.buffer and w.name in layer.tied}
        listed: list[tuple] = []
        for w in inference.weights:
            if w.name in tied or w.name in layer.replaced:
                continue
            for held, shape in torch_tensors.held_as(layer, w.name, w.shape):
                trains = not w.buffer and torch_tensors.requires_grad(WeightRef(layer, held))
                listed.append((held, shape, trains, w.buffer))
        listed += self._replacements(layer)
        frozen = [n for n, _, trains, buffer in listed if not trains and not buffer]
        said = [f"'{t}' is {layer.tied[t].layer.type_name}'s (the same tensor, counted there)" for t in sorted(tied)]
        said += [f"'{t}' set to {'None' if p is None else 'a new nn.Parameter'}" for t, p in layer.replaced.items()]
        said += [f"{', '.join(frozen)} frozen (requires_grad=False)"] * bool(frozen and len(frozen) < len(listed))
        said += [f"{kind} of '{tensor}'" for tensor, (kind, _, _) in layer.reparametrized.items()]
        return self.reader.emitter.emit(
            lookup("Tensors"), name, tensors, {"tensors": listed, "output_shape": inference.output_shape or None,
                                               "note": "; ".join(said) + ": counted from its tensors"},
            where=layer.where, input_shapes=input_shapes, block=block, note=note, type_name=layer.rule.name,
            framework="torch", owner=layer, trainable=_PerTensor)

    def _replacements(self, layer: Layer) -> list[tuple]:
        """The tensors the code set in a layer's place (a None removes one); one already
        counted (the same nn.Parameter given to two modules) counts once, as PyTorch's
        parameters() lists it once."""
        listed = []
        key = (self.reader.emitter.serial, "listed")
        for name, param in layer.replaced.items():
            if param is None or any(k[0] == key[0] for k in param.nodes):
                continue
            if param.unknown is not None:
                raise SpecError(f"the shape of {layer.type_name}'s '{name}' is not known from the code: "
                                f"{param.unknown.why}", param.where or layer.where)
            param.nodes[key] = None
            listed.append((name, param.shape, param.trainable, param.buffer))  # (its own flag: requires_grad_ sets it)
        return listed

    def _params(self, module: Module, path: str) -> None:
        for param in module.params.values():
            if param.unknown is not None:
                raise SpecError(f"'{param.name}' of {module.type_name} is not known from the code: "
                                f"{param.unknown.why}", param.unknown.where or param.where)
            if not any(key[0] == self.reader.emitter.serial for key in param.nodes):
                self._param_row(param, path or None)

    def _param_row(self, param: Param, block: str | None) -> None:
        self.reader.parameter_node(param, False, param.where, block=block)

    def _untouched(self) -> None:
        """What the forward never called or used still counts, as PyTorch counts it: each
        in its module's block; an empty container never called is a row of nothing."""
        emitter = self.reader.emitter
        for path, obj in self.order:
            if isinstance(obj, Module):
                self._params(obj, path)
                if path and not obj.children and not obj.params and id(obj) not in emitter.calls:
                    emitter.emit(lookup("Tensors"), emitter.unique(path), [],
                                 {"tensors": [], "note": "an empty container, never called: no parameters"},
                                 type_name=obj.type_name, input_shapes=(), block=_parent(path))
            elif id(obj) not in emitter.calls and path:
                self.constructed_row(obj, path, _parent(path), note="not called in forward(): counted from its "
                                                                    "arguments")

    # ---- calls while following forward() ---------------------------------------------------

    def call_layer(self, layer: Layer, args: list[Any], kwargs: dict[str, Any], where: Location) -> Any:
        reader = self.reader
        path = reader.torch.paths.get(id(layer))
        if path is None and torch_tensors.tensor_names(layer) == [] == torch_tensors.tensor_names(layer, True):
            path = self._outside(layer)  # nn.Flatten()(x) in forward, a class attribute act = nn.ReLU()
        if path is None:
            raise SpecError(f"nn.{layer.type_name} is called in forward() but is not a submodule of the model (made "
                            "in forward, or kept outside it): PyTorch would not count its parameters; make it in "
                            "__init__", where)
        operands = [a for a in args if is_operand(a)]
        low, high = layer.rule.arity
        inputs = operands[:high] if high is not None else operands
        if len(inputs) < max(low, 1) and not layer.rule.arity == (0, None):
            return Unknown(f"{path} is called without a tensor the reader follows", where)
        tensors = reader.ops.materialize_all(inputs, where)
        emitter = reader.emitter
        n = emitter.call_number(layer)
        name = emitter.unique(path or _name(layer) if n == 1 else f"{path} (call {n})", " (call {n})")
        output = self.emit_layer(layer, name, tensors, None, _parent(path))
        return self._outputs(layer, output, path, where)

    @staticmethod
    def _outputs(layer: Layer, output: Any, path: str, where: Location) -> Any:
        """What the layer returns: its output, or (output, states) for a recurrent layer
        (torch_states), (h, c) for an LSTMCell, (output, indices) for a max pooling asked."""
        name = layer.rule.name
        if name in ("RNN", "LSTM", "GRU") and layer.bound.get("batch_first") and isinstance(output, Tensor):
            return (output, torch_states.states(layer, output, path))
        if name in _TUPLE_OUTPUTS:
            return (output, Unknown(f"the second output of {path}", where))
        if name == "LSTMCell" and isinstance(output, Tensor):
            return torch_states.pair(output, f"c of {path}")
        if layer.bound.get("return_indices") and isinstance(output, Tensor):
            return torch_states.pair(output, f"indices of {path}", integer=True)
        return output

    def _outside(self, layer: Layer) -> str:
        """A name for a layer without tensors that is not a submodule (made in forward, or a
        class attribute): a row where it is called, named by its type."""
        block = self.reader.emitter.block
        return f"{block.name}.{layer.type_name.lower()}" if block is not None else layer.type_name.lower()

    def call_module(self, module: Module, args: list[Any], kwargs: dict[str, Any], where: Location) -> Any:
        """A module's forward, its operations in its block (the module tree's, made before
        the forward: a module called twice fills one block, its rows named "(call 2)")."""
        reader, torch = self.reader, self.reader.torch
        if module.kind in ("ModuleList", "ModuleDict", "ParameterList", "ParameterDict"):
            raise SpecError(f"nn.{module.kind} is called, but it is not callable (call its modules)", where)
        path = torch.paths.get(id(module))
        if path is None:
            raise SpecError(f"{with_article(module.type_name)} is called in forward() but is not a submodule of "
                            f"the model", where)
        emitter = reader.emitter
        n = emitter.call_number(module)
        forward = _forward(module)
        if forward is None and module.base == "Sequential" and not module.children:  # nn.Sequential(): identity
            return self._identity(module, path, n, args, where, "Sequential", "an empty nn.Sequential: it returns "
                                                                              "its input")
        base = module.attrs.get("__base_layer__")
        if forward is None and isinstance(base, Layer):  # a class that is its base module, as it is
            tensors = reader.ops.materialize_all([a for a in args if is_operand(a)], where)
            name = emitter.unique(path if n == 1 else f"{path} (call {n})", " (call {n})")
            return self.emit_layer(base, name, tensors, None, _parent(path))
        block = self.blocks.get(path)
        made = block.nodes if block is not None else 0
        if block is not None:
            emitter.enter(block)
        result: Any = None
        try:
            if forward is not None:
                result = reader.interp.call(forward, [module, *args], kwargs, where)
            elif module.base == "Sequential":
                result = torch.chain(module, args, where)
            else:
                raise SpecError(f"{module.type_name} defines no forward()", where)
        finally:
            if block is not None:
                emitter.close(block, result)
        if block is not None and block.nodes == made and isinstance(result, Tensor) and not module.params and any(
                isinstance(a, Tensor) and a.node == result.node for a in args):
            # DropPath and the like, whose forward returns its input when not training: a row, not nothing
            return self._identity(module, path, n, [result], where, module.type_name,
                                  "its forward() returns its input (as it runs when not training)")
        return result

    def _identity(self, module: Module, path: str, n: int, args: list[Any], where: Location, type_name: str,
                  note: str) -> Any:
        """A module that returns its input: a row of its own, as named_modules() lists it."""
        operands = [a for a in args if is_operand(a)]
        if len(operands) != 1:
            return Unknown(f"{with_article(type_name)} that returns its input, called on something other than "
                           f"one tensor", where)
        emitter = self.reader.emitter
        tensor = self.reader.ops.materialize(operands[0], where)
        name = emitter.unique(path if n == 1 else f"{path} (call {n})", " (call {n})")
        return emitter.emit(lookup("nn.Identity"), name, [tensor], {}, where=module.where, type_name=type_name,
                            note=note, block=_parent(path))

    blocks: dict = {}


class _PerTensor:
    """The trainable flag of a row counted tensor by tensor: each tensor's own says."""

    trainable = True


def _shares_all(layer: Layer, root: Layer) -> bool:
    """Whether all of ``layer``'s tensors are exactly all of ``root``'s (a Linear head tied to
    an Embedding of the same shape), so that its row shares the root's weights."""
    if layer is root or layer.frozen or layer.reparametrized or layer.replaced:
        return False
    if root.frozen or root.reparametrized or root.replaced or root.tied:
        return False
    mine, theirs = torch_tensors.tensors(layer), torch_tensors.tensors(root)
    if mine is None or theirs is None or any(n not in layer.tied for n, _ in mine):
        return False
    return sorted((layer.tied[n].name, shape) for n, shape in mine) == sorted(theirs) and all(
        layer.tied[n].layer is root for n, _ in mine)


def _tie_root(layer: Layer) -> Layer:
    """The layer whose weights a tied layer's are (through a chain of ties)."""
    seen = {id(layer)}
    while "weight" in layer.tied and id(layer.tied["weight"].layer) not in seen:
        layer = layer.tied["weight"].layer
        seen.add(id(layer))
    return layer


def _forward(module: Module) -> Function | None:
    if module.cls is None:
        return None
    try:
        forward = module.cls.lookup("forward")
    except KeyError:
        return None
    return forward if isinstance(forward, Function) else None


def _forward_names(root: Any, count: int) -> list[str]:
    """The inputs' names: forward's own parameter names (``x``), else input, input_1, ..."""
    names: list[str] = []
    forward = _forward(root) if isinstance(root, Module) else None
    if forward is not None and isinstance(forward.node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        names = [a.arg for a in [*forward.node.args.posonlyargs, *forward.node.args.args][1:]]
    names = names[:count]
    return names + [f"input_{i}" if i else "input" for i in range(len(names), count)]


def _required_after(root: Any, given: int) -> list[str]:
    """forward()'s parameters without defaults after the inputs given (a hidden state)."""
    forward = _forward(root) if isinstance(root, Module) else None
    if forward is None or not isinstance(forward.node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return []
    params = [*forward.node.args.posonlyargs, *forward.node.args.args][1:]
    required = len(params) - len(forward.node.args.defaults)
    return [p.arg for p in params[given:required]]


def _parent(path: str) -> str | None:
    """The path of the module a module sits in (None: the model itself)."""
    return path.rpartition(".")[0] or None


def _name(obj: Any) -> str:
    if isinstance(obj, Module):
        return obj.type_name
    return obj.rule.default_name if isinstance(obj, Layer) else "model"
