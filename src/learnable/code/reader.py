"""The world the interpreter reads code in: what framework objects are and do.

The interpreter (``interpreter.py``) knows Python; this knows what ``nn.Conv2d(3, 6, 5)``,
``layers.Dense(64)(x)``, ``x.view(x.size(0), -1)`` and ``class Net(nn.Module)`` mean, by
passing each to the framework's reader (``torch_api.py``, ``keras_api.py``), the tensor
operations (``ops.py``) or the standard library's (``libraries.py``). Names the code never
defines are looked up in the values the user gave, then among layer types (a pasted cell
often lacks its imports), and are otherwise :class:`Unknown`.
"""

from __future__ import annotations

import ast
import math
from functools import cached_property
from typing import Any

from .._text import with_article
from ..errors import LearnableError, Location, SpecError
from ..errors import RuleError
from ..rules import CHANNELS_FIRST, CHANNELS_LAST, KERAS, PYTORCH, Context, lookup
from ..rules._registry import frameworks_of
from . import libraries, torch_states, torch_tensors
from ._source import ALIASES, framework, nested
from .emit import MAX_NODES, Emitter
from .interpreter import Interpreter, Scope
from .names import TORCH, canonical, framework_of
from .ops import Ops, is_operand
from .values import (BATCH, MISSING, Bound, ClassObj, Const, Function, Instance, Layer, Lib, Module, Param, Partial, Tensor,
                     Unknown, WeightRef)


class ModuleScope(Scope):
    """The code's top level, where the values the user gave replace what the code assigns
    (``--set num_classes=100`` wins over ``num_classes = 10``)."""

    def __init__(self, values: dict[str, Any]):
        super().__init__()
        self.fixed = nested(values)
        self.vars.update(self.fixed)

    def assign(self, name: str, value: Any) -> None:
        if name not in self.fixed:
            super().assign(name, value)


class Reader:
    def __init__(self, text: str, source: str | None, tree: ast.Module, values: dict[str, Any],
                 data_format: str | None = None):
        self.source = source
        self.framework = framework(tree)
        self.prefer = PYTORCH if self.framework == TORCH else KERAS
        self.data_format = data_format or (CHANNELS_FIRST if self.framework == TORCH else CHANNELS_LAST)
        self.interp = Interpreter(self, source, text)
        self.emitter = self.new_emitter()
        self.ops = Ops(self)
        self.scope = ModuleScope(values)
        self.stated: list[tuple] = []  # shapes of learnable's own Input(...) lines
        self.finished: dict[int, int] = {}  # a layer or model → when it was finished (the last one is counted)
        self.fed: dict[int, list[Any]] = {}  # a model → what the code's top level calls it with
        self.notes: list[str] = []  # what the reader could not follow, said under the totals
        self.option_inputs: list[tuple] = []  # --input shapes, for a keras.Input whose shape the code leaves unknown
        self.used_option_inputs = False

    # Each framework's reader is made when first needed: code of one framework never
    # imports the other's (a fresh `learnable count` pays for what it reads).
    @cached_property
    def torch(self) -> Any:
        from .torch_api import TorchAPI

        return TorchAPI(self)

    @cached_property
    def keras(self) -> Any:
        from .keras_api import KerasAPI

        return KerasAPI(self)

    @cached_property
    def torch_model(self) -> Any:
        from .torch_model import TorchModel

        return TorchModel(self)

    @cached_property
    def keras_model(self) -> Any:
        from .keras_model import KerasModel

        return KerasModel(self)

    @property
    def convention(self) -> str:
        return PYTORCH if self.framework == TORCH else KERAS

    def new_emitter(self) -> Emitter:
        return Emitter(Context(self.data_format, self.convention))

    def run(self, tree: ast.Module) -> None:
        self.interp.run(tree, self.scope)

    # ---- inputs the code states ----------------------------------------------------------

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)

    def stated_input(self, args: list[Any], kwargs: dict[str, Any], where: Location) -> Any:
        """A bare ``Input(3, 32, 32)`` line: the input of the model counted (learnable's own
        way to say it, as in the compact form)."""
        shape = args[0] if len(args) == 1 and isinstance(args[0], (list, tuple)) else args or kwargs.get("shape")
        shape = self.require_value(shape, "the input's shape", where)
        shape = shape if isinstance(shape, (list, tuple)) else (shape,) if shape is not None else ()
        shape = tuple(self.require_value(d, "the input's shape", where) for d in shape)
        if not shape or not all(isinstance(d, int) and d > 0 or d is None for d in shape):
            raise SpecError(f"Input{tuple(shape)}: give the input's sizes, e.g. Input(3, 32, 32)", where)
        self.stated.append(shape)
        return Const(shape, True, False, "Input")

    def stated_shapes_for(self, model: Any) -> list[tuple] | None:
        """The input shapes the code gives ``model``: what its top level calls it with
        (``net(torch.randn(1, 3, 32, 32))``, ``summary(model, (3, 32, 32))``), else an
        ``Input(...)`` line."""
        fed = self.fed.get(id(model))
        if fed:
            # the first axis of what the code feeds a model is the batch, whatever its size
            shapes = [tuple(a.shape) if a.batched else tuple(a.shape[1:]) for a in fed if isinstance(a, Const)]
            shapes += [tuple(a.shape) for a in fed if isinstance(a, Tensor)]  # model(keras.Input((8,)))
            if shapes:
                return shapes
        return [self.stated[-1]] if self.stated else None

    def set_data_format(self, value: Any, where: Location) -> None:
        if value not in (CHANNELS_FIRST, CHANNELS_LAST):
            raise SpecError(f"the image data format must be {CHANNELS_LAST!r} or {CHANNELS_FIRST!r}, got {value!r}",
                            where)
        self.data_format = value
        self.emitter.context = Context(value, self.convention)

    # ---- names ---------------------------------------------------------------------------

    def op_name(self, base: str) -> str:
        """A row name for an operation: ``layer1.0.add`` in a PyTorch module, ``block/add``
        in a Keras layer, ``add``, ``add_1`` at the top (Keras counts its operations' names
        as it counts its layers')."""
        block = self.emitter.block
        if block is None and self.framework != TORCH:
            return self.emitter.unique(self.keras.names.auto(base), "_{m}")
        if block is None:
            return self.emitter.unique(base, "_{m}")
        separator = "." if self.framework == TORCH else "/"
        return self.emitter.unique(f"{block.name}{separator}{base}", "_{m}")

    def undefined(self, name: str, scope: Scope, where: Location) -> Any:
        if name in self.scope.fixed:
            return self.scope.fixed[name]
        for module in self.scope.vars.get("__star_imports__", []):
            path = canonical(f"{module}.{name}")
            if framework_of(path) is not None:
                return Lib(path)
        if name == "Input":
            return libraries.LEARNABLE_INPUT
        if name in ALIASES:  # a pasted cell without its imports, written with the usual names
            return Lib(ALIASES[name])
        owners = frameworks_of(name)
        if owners:  # a pasted cell without its imports: Dense(10), nn.Conv2d
            framework = PYTORCH if owners == {PYTORCH} or (len(owners) > 1 and self.prefer == PYTORCH) else KERAS
            return Lib(f"torch.nn.{name}" if framework == PYTORCH else f"keras.layers.{name}")
        return Unknown(f"'{name}' is not defined in the code (from a cell not pasted?); give it with --set "
                       f"{name}=VALUE", where)

    # ---- calls ---------------------------------------------------------------------------

    def call(self, function: Any, args: list[Any], kwargs: dict[str, Any], where: Location) -> Any:
        if isinstance(function, Lib):
            return self.call_lib(canonical(function.path), args, kwargs, where)
        if isinstance(function, Partial):
            return self.interp.call(function.function, [*function.args, *args], {**function.kwargs, **kwargs},
                                    where)
        if isinstance(function, (Layer, Module)):
            api = self.torch if function.framework == TORCH else self.keras
            return api.call(function, args, kwargs, where)
        if isinstance(function, libraries.Method):
            return function(args, kwargs, where)
        if is_operand(function):
            raise SpecError("a tensor is called like a function", where)
        if isinstance(function, str) and args and is_operand(args[0]):  # keras.activations.get("relu")(x)
            return self.ops.apply("Activation", [args[0]], {"activation": function}, function, function, where)
        if isinstance(function, Instance):
            return self.special(function, "__call__", "is called", args, kwargs, where)
        raise SpecError(f"{libraries.describe(function)} is called, but it is not a function", where)

    def special(self, obj: Instance, method: str, what: str, args: list[Any], kwargs: dict[str, Any],
                where: Location) -> Any:
        """``obj(...)``, ``obj[i]``, ``len(obj)`` on an object of the code's own class."""
        try:
            function = obj.cls.lookup(method)
        except KeyError:
            raise SpecError(f"{with_article(obj.cls.name)} object {what}, but its class has no "
                            f"{method}", where) from None
        return self.interp.call(Bound(function, obj), args, kwargs, where)

    def call_lib(self, path: str, args: list[Any], kwargs: dict[str, Any], where: Location) -> Any:
        try:
            return self._call_lib(path, args, kwargs, where)
        except (IndexError, KeyError):  # (library functions read their arguments by position)
            raise SpecError(f"{path}() is missing arguments", where) from None

    def _call_lib(self, path: str, args: list[Any], kwargs: dict[str, Any], where: Location) -> Any:
        if path.startswith("einops."):
            from . import einops_ops

            return einops_ops.call(self, path, args, kwargs, where)
        framework = framework_of(path)
        if framework == TORCH:
            return self.torch.call_lib(path, args, kwargs, where)
        if framework is not None or path.startswith("tensorflow."):
            return self.keras.call_lib(path, args, kwargs, where)
        return libraries.call(self, path, args, kwargs, where)

    def unknown_call(self, function: Lib, unknown: Unknown) -> Any:
        """A library call spread from values not known (``nn.Sequential(*layers)``): a module
        maker's result may be a module."""
        path = canonical(function.path)
        maker = framework_of(path) is not None and path.rpartition(".")[2][:1].isupper()
        return Unknown(unknown.why, unknown.where, maybe_module=maker or unknown.maybe_module)

    def lib_attribute(self, owner: Lib, name: str) -> Any:
        """``math.pi`` is a number; anything else of a library is the library's object."""
        return libraries.constant(canonical(f"{owner.path}.{name}"), owner.attr(name))

    def instantiate(self, cls: ClassObj, args: list[Any], kwargs: dict[str, Any], where: Location) -> Any:
        bases = [canonical(b) for b in cls.library_bases()]
        if any(framework_of(b) == TORCH for b in bases):
            return self.torch.instantiate(cls, bases, args, kwargs, where)
        if any(framework_of(b) is not None for b in bases):
            return self.keras.instantiate(cls, bases, args, kwargs, where)
        return libraries.instantiate(self, cls, args, kwargs, where)

    # ---- attributes and items -------------------------------------------------------------

    def attribute(self, owner: Any, name: str, where: Location) -> Any:
        if isinstance(owner, (Layer, Module)):
            api = self.torch if owner.framework == TORCH else self.keras
            return api.attribute(owner, name, where)
        if isinstance(owner, torch_states.Stacked):
            return torch_states.attribute(self, owner, name, where)
        if isinstance(owner, Const) and owner.values is not None and name in _VALUE_METHODS:
            return libraries.Method(name, lambda a, k, w: _value_method(owner, name, w))
        if isinstance(owner, (Param, WeightRef)) and name in ("requires_grad", "requires_grad_"):
            return self._requires_grad(owner, name)
        if is_operand(owner):
            return self.tensor_api(owner).tensor_attribute(owner, name, where)
        if isinstance(owner, libraries.Super):
            return libraries.super_attribute(self, owner, name, where)
        if isinstance(owner, WeightRef):
            return libraries.weight_attribute(owner, name, where)
        if isinstance(owner, Function):
            return Unknown(f"the attribute {name} of a function", where)
        if owner is BATCH:
            return Unknown("the batch size", where)
        return libraries.attribute(self, owner, name, where)

    def _requires_grad(self, tensor: Param | WeightRef, name: str) -> Any:
        """A tensor's ``requires_grad``, and ``requires_grad_(flag)``, which sets it."""
        if name == "requires_grad":
            return torch_tensors.requires_grad(tensor)

        def set_flag(args: list[Any], kwargs: dict[str, Any], where: Location) -> Any:
            torch_tensors.requires_grad_(tensor, self.flag(args[0] if args else kwargs.get("requires_grad", True),
                                                           where))
            return tensor
        return libraries.Method("requires_grad_", set_flag)

    def flag(self, value: Any, where: Location) -> bool:
        """A trainable or requires_grad flag the code sets: refused when not known."""
        truth = self.interp.truth(value, None)
        if isinstance(truth, Unknown):
            raise SpecError(f"whether a tensor trains is not known from the code: {truth.why}", where)
        return bool(truth)

    def initialize(self, module: Module, base_init: Any, args: list[Any], kwargs: dict[str, Any],
                   where: Location) -> Module:
        """A new object of a class the code derives from a framework's: its ``__init__``, or
        the framework base class's when it defines none."""
        try:
            init = module.cls.lookup("__init__")
        except KeyError:
            init = None
        if isinstance(init, Function):
            self.interp.call(Bound(init, module), args, kwargs, where)
        else:
            base_init(module, args, kwargs, where)
        return self.finish(module)

    def finish(self, model: Any) -> Any:
        """Note that a layer or model is built (after its ``__init__``): the model counted by
        default is the last one built that the top level holds."""
        if len(self.finished) >= MAX_NODES:
            raise SpecError(f"the code makes more than {MAX_NODES:,} layers and models; is a loop too long?",
                            getattr(model, "where", None))
        self.finished[id(model)] = len(self.finished)
        return model

    def own_attribute(self, owner: Module, name: str, where: Location) -> Any:
        """A module's own attribute (a submodule, a tensor, a value it set) or its class's (a
        method, bound to it; a property, read), else MISSING: the framework's base class then
        has its say."""
        for table in (owner.children, owner.params, owner.attrs):
            if name in table:
                return table[name]
        if owner.cls is None:
            return MISSING
        try:
            value = owner.cls.lookup(name)
        except KeyError:
            return MISSING
        if not isinstance(value, Function):
            return value
        if value.is_property:
            return self.interp.call(value, [owner], {}, where)
        if "staticmethod" in value.decorators:
            return value
        return Bound(value, owner.cls if "classmethod" in value.decorators else owner)

    def set_attribute(self, owner: Any, name: str, value: Any, where: Location) -> None:
        if isinstance(owner, (Layer, Module)):
            api = self.torch if owner.framework == TORCH else self.keras
            api.set_attribute(owner, name, value, where)
        elif isinstance(owner, (Param, WeightRef)) and name == "requires_grad":
            torch_tensors.requires_grad_(owner, self.flag(value, where))
        # (a tensor's or library object's attribute: nothing a count reads)

    def delete_attribute(self, owner: Any, name: str, where: Location) -> None:
        """``del model.aux``: the module, tensor or value is gone, and no longer counted."""
        if isinstance(owner, Module):
            if not any(name in held for held in (owner.children, owner.params, owner.attrs)):
                raise SpecError(f"{owner.type_name} has no attribute '{name}' to delete", where)
            for held in (owner.children, owner.params, owner.attrs):
                held.pop(name, None)
        elif isinstance(owner, Layer):
            raise SpecError(f"`del` of {owner.type_name}'s '{name}' is not read; set it to None instead "
                            "(`layer.bias = None`)", where)

    def delete_item(self, owner: Any, index: Any, where: Location) -> None:
        if isinstance(owner, Module) and owner.framework == TORCH:
            self.torch.delete_item(owner, index, where)
        elif isinstance(owner, (Layer, Module)):
            raise SpecError(f"{owner.type_name} does not support deleting items", where)

    def get_item(self, owner: Any, index: Any, where: Location) -> Any:
        if isinstance(index, Unknown):
            return index
        if isinstance(owner, (Layer, Module)):
            api = self.torch if owner.framework == TORCH else self.keras
            return api.get_item(owner, index, where)
        if isinstance(owner, torch_states.Stacked):
            return torch_states.item(self, owner, index, where)
        if isinstance(owner, Const) and owner.values is not None and isinstance(index, int) \
                and not isinstance(index, bool):  # dpr[i] of torch.linspace(0, rate, depth): a number
            if not -len(owner.values) <= index < len(owner.values):
                raise SpecError(f"index {index} is out of range for a tensor of {len(owner.values)} values", where)
            return owner.values[index]
        if is_operand(owner):
            return self.ops.index(owner, index, _spelled_index(index), where)
        if isinstance(owner, Instance):
            return self.special(owner, "__getitem__", "is indexed", [index], {}, where)
        return Unknown(f"an item of {libraries.describe(owner)}", where)

    def set_item(self, owner: Any, index: Any, value: Any, where: Location) -> None:
        if isinstance(owner, Module):
            api = self.torch if owner.framework == TORCH else self.keras
            api.set_item(owner, index, value, where)

    # ---- operators -----------------------------------------------------------------------

    def binary(self, op: str, left: Any, right: Any, where: Location, in_place: bool = False) -> Any:
        if left is BATCH or right is BATCH:
            return Unknown("it depends on the batch size", where)
        if is_operand(left) or is_operand(right):
            return self.ops.binary(op, left, right, where)
        if isinstance(left, Module) and left.framework == TORCH and op in ("Add", "Mult"):
            return self.torch.combine(op, left, right, in_place, where)
        if op == "BitOr" and isinstance(left, (Layer, Module, Lib)):
            return Unknown("`|` between layers is the compact form's, not Python's", where)
        return Unknown(f"an operation on {libraries.describe(left)} and {libraries.describe(right)}", where)

    def unary(self, op: str, operand: Any, where: Location) -> Any:
        if is_operand(operand) and op == "USub":
            return self.ops.binary("Mult", operand, -1, where)
        if is_operand(operand) and op == "UAdd":
            return operand
        return Unknown(f"an operation on {libraries.describe(operand)}", where)

    # ---- truth, iteration, types ----------------------------------------------------------

    def truth(self, value: Any, where: Location) -> Any:
        if isinstance(value, Module):
            return self.torch.length(value) > 0 if value.framework == TORCH and value.kind != "user" else True
        if isinstance(value, (Layer, Param, libraries.Super, Partial, libraries.Method)):
            return True
        if value is BATCH:
            return True
        return Unknown(f"whether {libraries.describe(value)} is true depends on data", where)

    def iterate(self, value: Any, where: Location) -> Any:
        if isinstance(value, Module):
            api = self.torch if value.framework == TORCH else self.keras
            return api.iterate(value, where)
        if isinstance(value, torch_states.Stacked):
            return torch_states.items(self, value, where)
        if isinstance(value, Const) and value.values is not None:
            return list(value.values)  # for x in torch.linspace(0, rate, depth): its values, as numbers
        if is_operand(value):
            return Unknown("iterating over a tensor's values", where)
        if value is BATCH:
            return Unknown("the batch size", where)
        return Unknown(f"iterating over {libraries.describe(value)}", where)

    def length(self, value: Any, where: Location) -> Any:
        """``len(x)``: a tensor's first size (the batch's, for a batched one), a container's modules."""
        if is_operand(value):
            if getattr(value, "batched", False):
                return BATCH
            return value.shape[0] if value.shape and value.shape[0] is not None else Unknown("a size", where)
        if isinstance(value, Module):
            return len(value.children)
        if isinstance(value, torch_states.Stacked):
            return value.count
        if isinstance(value, Instance):
            return self.special(value, "__len__", "is given to len()", [], {}, where)
        return Unknown(f"len() of {libraries.describe(value)}", where)

    def isinstance(self, value: Any, kinds: Any) -> Any:
        return libraries.isinstance_of(self, value, kinds)

    def super(self, args: list[Any], node: ast.AST) -> Any:
        return libraries.make_super(self, args, node)

    def type_of(self, value: Any) -> Any:
        if isinstance(value, (Instance, Module)) and value.cls is not None:
            return value.cls
        if isinstance(value, Layer):
            return Lib(f"{'torch.nn' if value.framework == TORCH else 'keras.layers'}.{value.rule.name}")
        if isinstance(value, Module):
            return Lib(f"{'torch.nn' if value.framework == TORCH else 'keras'}.{value.kind}")
        return Lib(type(value).__name__)

    # ---- helpers for the framework readers ------------------------------------------------

    def tensor_api(self, value: Any) -> Any:
        return self.torch if self.framework == TORCH else self.keras

    def parameter_node(self, param: Param, batch_axis: bool, where: Location | None, block: str | None = None) -> Tensor:
        """The node of a module's own tensor in the flow, made once per way it is used."""
        emitter = self.emitter
        key = (emitter.serial, batch_axis)
        made = param.nodes.get(key)
        if made is not None:
            return made
        if param.unknown is not None:
            raise SpecError(f"the shape of '{param.name}' is not known from the code: {param.unknown.why}",
                            param.unknown.where or where)
        name = self.param_name(param)
        if (emitter.serial, "listed") in param.nodes:  # a layer's tensor too (fc.weight = self.W): counted there
            tensor = emitter.emit(lookup("Constant"), name, [], {"shape": param.shape[1:] if batch_axis else param.shape,
                                                                 "made_by": f"{param.name}, counted with its layer"},
                                  where=where, batched=batch_axis, input_shapes=(), block=block)
        elif param.buffer:
            shape = param.shape[1:] if batch_axis else param.shape
            tensor = emitter.emit(lookup("Tensors"), name, [], {"tensors": [(param.name or "buffer", param.shape, False,
                                                                              True)],
                                                                 "output_shape": shape or None, "note": "a buffer"},
                                  where=where, type_name="buffer", batched=batch_axis, input_shapes=(), block=block)
        else:
            tensor = emitter.emit(lookup("Parameter", self.prefer), name, [],
                                  {"shape": param.shape, "batch_axis": batch_axis}, where=where, owner=param,
                                  batched=batch_axis, input_shapes=(), trainable=param, block=block)
        param.nodes[key] = tensor
        return tensor

    def param_name(self, param: Param) -> str:
        owner = self.torch.param_owner_path(param) if self.framework == TORCH else self.keras.param_owner_path(param)
        separator = "." if self.framework == TORCH else "/"
        wanted = f"{owner}{separator}{param.name}" if owner else (param.name or "parameter")
        return self.emitter.unique(wanted, " (call {n})" if self.framework == TORCH else " ({n})")

    def require_value(self, value: Any, what: str, where: Location | None) -> Any:
        """A value a count needs; an Unknown one is refused with its reason."""
        if isinstance(value, Unknown):
            raise SpecError(f"{what} is not known from the code: {value.why}", value.where or where)
        if value is BATCH:
            raise SpecError(f"{what} is the batch size, which the code does not fix", where)
        return value


_VALUE_METHODS = ("item", "tolist", "int", "long", "float", "double", "round", "floor", "ceil")


def _value_method(x: Const, name: str, where: Location) -> Any:
    """``.tolist()``, ``.item()``, ``.int()`` of a constant whose values the code made."""
    values = x.values or ()
    if name == "item":
        if len(values) != 1:
            raise SpecError(f"`.item()` of a tensor of {len(values)} values", where)
        return values[0]
    if name == "tolist":
        return list(values)
    convert = {"int": int, "long": int, "float": float, "double": float, "round": round, "floor": math.floor,
               "ceil": math.ceil}[name]  # (.int() truncates toward zero, as int() does)
    made = tuple(convert(v) for v in values)
    return Const(x.shape, x.batched, name in ("int", "long"), x.what, made if name not in ("round", "floor", "ceil")
                 else tuple(float(v) for v in made))


def _spelled_index(index: Any) -> str:
    items = index if isinstance(index, tuple) else (index,)
    return "x[" + ", ".join(_item_text(i) for i in items) + "]"


def _item_text(item: Any) -> str:
    if isinstance(item, slice):
        parts = ["" if p is None else str(p) for p in (item.start, item.stop, item.step)]
        return ":".join(parts[:2] if item.step is None else parts)
    return "..." if item is Ellipsis else str(item)


__all__ = ["Const", "LearnableError", "Reader", "RuleError"]
