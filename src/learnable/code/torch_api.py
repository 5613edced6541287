"""PyTorch modules as their code builds them: ``nn.Conv2d(3, 6, 5)`` and the other layers
with a rule, the containers (``nn.Sequential``, ``nn.ModuleList``, ``nn.ModuleDict``),
``nn.Parameter`` and buffers, and the classes the code derives from ``nn.Module``.

A module's ``__init__`` is read when the code makes it; submodules are registered in the
order they are set, as PyTorch registers them, and named by their paths as
``named_modules()`` gives them (``layer1.0.conv1``). Calls of a module at the code's top
level only note what it was given: a module's ``forward`` is followed once the model is
chosen (``model.py``), on a fresh graph.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .._text import with_article
from ..errors import Location, RuleError, SpecError
from ..rules import lookup
from ..rules._args import LayerCall
from . import torch_tensors
from .arguments import bound_arguments, layer_arguments
from .emit import MAX_NODES
from .libraries import Method, describe
from .names import TORCH, canonical, is_library
from .ops import is_operand
from .torch_ops import TorchOps
from .values import MISSING, Const, Function, Layer, Lib, Module, Param, Unknown, WeightRef

if TYPE_CHECKING:
    from .reader import Reader

CONTAINERS = ("Sequential", "ModuleList", "ModuleDict", "ParameterList", "ParameterDict")
_WRAPPERS = ("torch.nn.DataParallel", "torch.nn.parallel.DistributedDataParallel",
             "torch.nn.parallel.DataParallel")
# torch.nn classes without parameters that have no rule: a row of their own, counted as nothing
_PARAM_FREE_SUFFIXES = ("Loss",)
_PARAM_FREE = {"CrossMapLRN2d", "CosineEmbeddingLoss"}
# module methods that return the module and change nothing a count reads
_SELF_METHODS = {"to", "cuda", "cpu", "eval", "train", "float", "double", "half", "bfloat16", "type",
                 "share_memory", "to_empty", "compile"}
# module.children() and the like, as torch_tensors walks them
_WALKS = {"children": (torch_tensors.named_children, False), "named_children": (torch_tensors.named_children, True),
          "modules": (torch_tensors.named_modules, False), "named_modules": (torch_tensors.named_modules, True),
          "parameters": (torch_tensors.named_tensors, False),
          "named_parameters": (torch_tensors.named_tensors, True),
          "buffers": (lambda o, w: torch_tensors.named_tensors(o, w, buffers=True), False),
          "named_buffers": (lambda o, w: torch_tensors.named_tensors(o, w, buffers=True), True)}
_NOTHING_METHODS = {"zero_grad", "load_state_dict", "register_forward_hook", "register_forward_pre_hook",
                    "register_backward_hook", "register_full_backward_hook", "extra_repr", "reset_parameters",
                    "_init_weights", "init_weights", "flatten_parameters"}


class TorchAPI:
    def __init__(self, reader: Reader):
        self.reader = reader
        self.ops = TorchOps(reader)
        self.driving = False  # True while a chosen model's forward is followed
        self.paths: dict[int, str] = {}
        self.param_paths: dict[int, str] = {}

    # ---- library calls -------------------------------------------------------------------

    def call_lib(self, path: str, args: list[Any], kwargs: dict[str, Any], where: Location) -> Any:
        if path.startswith("torch.nn.functional."):
            return self.ops.functional(path[len("torch.nn.functional."):], args, kwargs, where)
        if path.startswith("torch.nn.init."):  # initializes its tensor in place, and returns it
            return args[0] if args else kwargs.get("tensor")
        if path.startswith("torch.nn.utils."):
            return self._utility(path, args, kwargs, where)
        if path.count(".") == 3 and path.startswith("torch.nn."):  # nn.Embedding.from_pretrained(...)
            return self._alternate(path, args, kwargs, where)
        if path in ("torch.nn.Parameter", "torch.nn.parameter.Parameter"):
            return self._parameter(args, kwargs, where)
        if path in _WRAPPERS and args:  # nn.DataParallel(model): the same modules, on several devices
            return args[0]
        if path.startswith("torch.nn.") and path.count(".") == 2:
            return self.construct(path.rpartition(".")[2], args, kwargs, where)
        if path.startswith("torch."):
            return self.ops.torch_function(path[len("torch."):], args, kwargs, where)
        zoo = path.split(".")[1:2] == ["models"]
        return Unknown(f"{path}(...) is not read: learnable reads the code you paste, not {path.split('.')[0]}'s"
                       + ("; count its model with FILE.py:NAME, which runs your file" if zoo else ""), where,
                       maybe_module=zoo or path.rpartition(".")[2][:1].isupper())

    def _utility(self, path: str, args: list[Any], kwargs: dict[str, Any], where: Location) -> Any:
        """torch.nn.utils.weight_norm(module) (and parametrizations.weight_norm): the module, its
        weight held as a magnitude and a direction; other utilities that change a module's
        tensors are not read, and a module they return is refused where it is counted."""
        name = path.rpartition(".")[2]
        module = args[0] if args else kwargs.get("module")
        if name == "weight_norm" and isinstance(module, Layer):
            tensor = args[1] if len(args) > 1 else kwargs.get("name", "weight")
            dim = args[2] if len(args) > 2 else kwargs.get("dim", 0)
            module.reparametrized[str(tensor)] = ("weight_norm", dim, ".parametrizations." in path)
            return module
        if name in ("remove_weight_norm", "remove_parametrizations") and isinstance(module, Layer):
            tensor = str(args[1] if len(args) > 1 else kwargs.get("name", kwargs.get("tensor_name", "weight")))
            held = module.reparametrized.get(tensor)
            if held is not None and held[2] == (name == "remove_parametrizations"):
                del module.reparametrized[tensor]  # the weight is one tensor again
                return module
        if name in ("clip_grad_norm_", "clip_grad_value_", "parameters_to_vector", "vector_to_parameters"):
            return None
        for layer in _layers_under(module):  # changed in place, even where the result is not kept
            layer.unread = layer.unread or path
        return Unknown(f"{path}(...) is not read (it may change the module's tensors); count the model with "
                       "FILE.py:NAME, which runs your file", where, maybe_module=True)

    def _alternate(self, path: str, args: list[Any], kwargs: dict[str, Any], where: Location) -> Any:
        """``nn.Embedding.from_pretrained(table, freeze=True)``: an Embedding of the table's shape."""
        _, cls, method = path.rsplit(".", 2)
        table = args[0] if args else kwargs.get("embeddings")
        if method == "from_pretrained" and cls in ("Embedding", "EmbeddingBag") and isinstance(table, Const) \
                and len(table.shape) == 2 and not table.batched:
            layer = self.construct(cls, list(table.shape), {k: v for k, v in kwargs.items() if k in (
                "padding_idx", "max_norm", "mode", "sparse", "include_last_offset")}, where)
            layer.trainable = not (args[1] if len(args) > 1 else kwargs.get("freeze", True))
            return layer
        return Unknown(f"nn.{cls}.{method}(...) of values not known from the code", where, maybe_module=True)

    def construct(self, name: str, args: list[Any], kwargs: dict[str, Any], where: Location) -> Any:
        if name in CONTAINERS:
            module = Module(TORCH, name, base=name, where=where)
            self.base_init(module, args, kwargs, where)
            return self.reader.finish(module)
        if name == "Module":
            return self.reader.finish(Module(TORCH, "Module", base="Module", where=where))
        rule = _rule(name)
        if rule is None:
            if name.endswith(_PARAM_FREE_SUFFIXES) or name in _PARAM_FREE:
                tensors = lookup("Tensors")
                return Layer(TORCH, tensors, name, (), {"note": f"nn.{name}: no parameters"}, where)
            raise SpecError(f"nn.{name} has no rule in learnable, so its parameters cannot be counted from the code; "
                            "count the model with FILE.py:NAME (which runs your file, with PyTorch installed)", where)
        args, kwargs = layer_arguments(self.reader, rule, f"nn.{name}", args, kwargs, where)
        return self.reader.finish(Layer(TORCH, rule, name, tuple(args), kwargs, where,
                                        bound=bound_arguments(rule, f"nn.{name}", args, kwargs, where)))

    def _parameter(self, args: list[Any], kwargs: dict[str, Any], where: Location) -> Any:
        data = args[0] if args else kwargs.get("data")
        trainable = args[1] if len(args) > 1 else kwargs.get("requires_grad", True)
        if isinstance(data, Param):
            return data
        if isinstance(data, Const) and not data.batched:
            return Param(tuple(data.shape), trainable is not False, where=where)
        why = data if isinstance(data, Unknown) else Unknown("nn.Parameter of a value whose shape is not known", where)
        return Param((), where=where, unknown=why)

    # ---- user modules --------------------------------------------------------------------

    def instantiate(self, cls: Any, bases: list[str], args: list[Any], kwargs: dict[str, Any], where: Location) -> Any:
        names = [b.rpartition(".")[2] for b in bases if b.startswith("torch.nn.")]
        base = next((n for n in names if n in CONTAINERS or _rule(n) is not None), "Module")
        module = Module(TORCH, "user", cls=cls, base=base, where=where)
        return self.reader.initialize(module, self.base_init, args, kwargs, where)

    def base_init(self, module: Module, args: list[Any], kwargs: dict[str, Any], where: Location) -> None:
        """nn.Sequential(*modules) or (OrderedDict), nn.ModuleList(iterable), nn.ModuleDict(mapping);
        for a class the code derives from a module with a rule (``class T(nn.Transformer)``),
        what that module's own ``__init__`` makes."""
        kind = module.base
        if kind not in CONTAINERS and kind != "Module":
            self._rule_base(module, args, kwargs, where)
            return
        if kind == "Sequential":
            if len(args) == 1 and isinstance(args[0], dict):
                items = list(args[0].items())
            else:
                items = [(str(i), m) for i, m in enumerate(args)]
        elif kind in ("ModuleList", "ModuleDict", "ParameterList", "ParameterDict"):
            source = args[0] if args else next(iter(kwargs.values()), None)
            if source is None:
                items = []
            elif isinstance(source, dict):
                items = list(source.items())
            else:
                values = self.reader.interp.iterate(source, where)
                if isinstance(values, Unknown):
                    raise SpecError(f"nn.{kind} of values not known from the code: {values.why}", where)
                items = [(str(i), m) for i, m in enumerate(values)]
                if kind in ("ModuleDict", "ParameterDict"):  # from (key, module) pairs
                    items = [self._pair(kind, item, where) for _, item in items]
        else:
            return
        _check_size(len(items), where)
        for key, value in items:
            if isinstance(value, Unknown):  # in a container it can only be a module
                value = Unknown(value.why, value.where, maybe_module=True)
            self.set_attribute(module, str(key), value, where)

    @staticmethod
    def _pair(kind: str, item: Any, where: Location) -> tuple[Any, Any]:
        if isinstance(item, (tuple, list)) and len(item) == 2:
            return item[0], item[1]
        raise SpecError(f"nn.{kind} of an iterable whose items are not (key, module) pairs", where)

    def _rule_base(self, module: Module, args: list[Any], kwargs: dict[str, Any], where: Location) -> None:
        """A class derived from nn.Transformer gets its encoder and decoder, as nn.Transformer
        makes them (and the code may replace them); one derived from another module with a
        rule owns that module's tensors, or, with no forward of its own, is that module."""
        layer = self.construct(module.base, args, kwargs, where)
        module.attrs["__base_layer__"] = layer
        if module.base == "Transformer":
            for name, child in _transformer_children(layer, where).items():
                self.set_attribute(module, name, child, where)
            return
        if _has_forward(module):
            for name, shape, buffer in _weights(layer):
                module.params[name] = Param(shape, not buffer, buffer, name, where)

    # ---- attributes ----------------------------------------------------------------------

    def attribute(self, owner: Any, name: str, where: Location) -> Any:
        if isinstance(owner, Layer):
            return self._layer_attribute(owner, name, where)
        value = self.reader.own_attribute(owner, name, where)
        if value is not MISSING:
            return value
        base = owner.attrs.get("__base_layer__")
        if base is not None and name in base.bound:
            return base.bound[name]
        return self.base_method(owner, name, where)

    def _layer_attribute(self, layer: Layer, name: str, where: Location) -> Any:
        if name in layer.replaced and layer.replaced[name] is None:
            return None
        if name in ("weight", "bias") or name.startswith(("weight_", "bias_", "in_proj")) or name in layer.replaced:
            if name == "bias" and layer.bound.get("bias") is False:
                return None
            return layer.tied.get(name) or WeightRef(layer, name)
        if name in layer.bound:
            return layer.bound[name]
        if name == "training":
            return False
        return self._module_method(layer, name, where)

    def base_method(self, owner: Module, name: str, where: Location) -> Any:
        if name == "__init__":
            return Method("nn.Module.__init__", lambda a, k, w: self.base_init(owner, a, k, w))
        if name == "forward" and owner.base == "Sequential":
            return Method("nn.Sequential.forward", lambda a, k, w: self.chain(owner, a, w))
        if name in ("append", "add_module", "register_module", "extend", "insert", "register_buffer",
                    "register_parameter", "items", "keys", "values", "__len__", "get_submodule"):
            return Method(f"{owner.type_name}.{name}", lambda a, k, w: self._container_method(owner, name, a, k, w))
        if name == "__class__":
            return owner.cls
        return self._module_method(owner, name, where)

    def _module_method(self, owner: Layer | Module, name: str, where: Location) -> Any:
        if name in _SELF_METHODS:
            return Method(name, lambda a, k, w: owner)
        if name in _NOTHING_METHODS:
            return Method(name, lambda a, k, w: None)
        if name == "requires_grad_":
            def freeze(args: list[Any], kwargs: dict[str, Any], w: Location) -> Any:
                torch_tensors.requires_grad_(owner, self.reader.flag(args[0] if args else kwargs.get(
                    "requires_grad", True), w))
                return owner
            return Method(name, freeze)
        if name in _WALKS:
            return Method(name, lambda a, k, w: _walk(owner, name, w))
        if name == "apply":  # model.apply(init_weights): the function on each module once
            return Method(name, lambda a, k, w: self._apply(owner, a[0] if a else k.get("fn"), w))
        if name == "state_dict":
            return Method(name, lambda a, k, w: Unknown(f"{name}() of a module", w))
        if name == "training":
            return False
        kind = owner.type_name if isinstance(owner, Module) else f"nn.{owner.type_name}"
        raise SpecError(f"{kind} has no attribute '{name}' that learnable reads", where)

    def _apply(self, owner: Layer | Module, function: Any, where: Location) -> Any:
        modules = torch_tensors.named_modules(owner, where)
        if isinstance(modules, Unknown):
            raise SpecError(f"{owner.type_name}.apply(...) is not followed: {modules.why}", where)
        try:
            for _, module in reversed(modules):
                self.reader.interp.call(function, [module], {}, where)
        except SpecError as err:  # an initializer learnable cannot follow: said, and the counts stand
            self.reader.note(f"{owner.type_name}.apply(...) ({where}) is not followed ({err}); what it changes in "
                             "the model (a tensor it freezes or replaces) is not counted")
        return owner

    def _container_method(self, owner: Module, name: str, args: list[Any], kwargs: dict[str, Any],
                          where: Location) -> Any:
        if name in ("append",):
            self.set_attribute(owner, str(len(owner.children)), args[0], where)
            return owner
        if name == "extend":
            values = self.reader.interp.iterate(args[0], where)
            if isinstance(values, Unknown):
                values = [Unknown(f"the modules extend() adds: {values.why}", where, maybe_module=True)]
            _check_size(len(owner.children) + len(values), where)
            for value in values:
                self.set_attribute(owner, str(len(owner.children)), value, where)
            return owner
        if name == "insert":
            if len(args) != 2 or not isinstance(args[0], int) or isinstance(args[0], bool):
                raise SpecError(f"{owner.type_name}.insert takes an index and a module", where)
            items = list(owner.children.values())
            items.insert(args[0], _item(owner, args[1], where))
            owner.children = {str(i): m for i, m in enumerate(items)}
            return None
        if name in ("add_module", "register_module", "register_parameter"):
            self.set_attribute(owner, args[0], args[1] if len(args) > 1 else kwargs.get("module"), where)
            return None
        if name == "register_buffer":
            return self._buffer(owner, args, kwargs, where)
        if name == "__len__":
            return len(owner.children)
        if name == "get_submodule":
            value: Any = owner
            for part in str(args[0]).split("."):
                value = self.attribute(value, part, where)
            return value
        return list({"items": owner.children.items(), "keys": owner.children.keys(),
                     "values": owner.children.values()}[name])

    def _buffer(self, owner: Module, args: list[Any], kwargs: dict[str, Any], where: Location) -> None:
        name = args[0] if args else kwargs.get("name")
        tensor = args[1] if len(args) > 1 else kwargs.get("tensor")
        if tensor is None:
            return None
        if isinstance(tensor, Const) and not tensor.batched:
            owner.params[name] = Param(tuple(tensor.shape), False, True, name, where)
        else:
            why = tensor if isinstance(tensor, Unknown) else Unknown("a buffer whose shape is not known", where)
            owner.params[name] = Param((), False, True, name, where, unknown=why)
        return None

    def set_attribute(self, owner: Any, name: str, value: Any, where: Location) -> None:
        if isinstance(owner, Layer):
            self._set_tensor(owner, name, value, where)
            return
        item = _in_container(owner) and (owner.kind != "user" or str(name).isdigit())  # (not self.out_channels)
        if item:
            value = _item(owner, value, where)
        if isinstance(value, (Layer, Module)) or (value is None and name in owner.children) or (
                isinstance(value, Unknown) and item):
            if not isinstance(name, str) or not name or "." in name:  # as torch's add_module refuses it
                raise SpecError(f"a module's name must be a string without '.', got {name!r}", where)
            owner.params.pop(name, None)
            owner.attrs.pop(name, None)
            owner.children[name] = value
        elif isinstance(value, Param):
            value.name = value.name or name
            owner.children.pop(name, None)
            owner.params[name] = value
        else:
            if isinstance(value, Unknown) and value.maybe_module:
                owner.params.pop(name, None)
                owner.children.pop(name, None)
            owner.attrs[name] = value

    def combine(self, op: str, left: Module, right: Any, in_place: bool, where: Location) -> Any:
        """``ModuleList + modules`` and ``Sequential + Sequential``: a new container of both
        (numbered afresh); ``+=`` adds to the left one in place; ``Sequential * n`` repeats
        the same modules (their weights shared), as PyTorch's operators do."""
        kind = left.base if left.kind == "user" else left.kind
        if kind not in ("ModuleList", "Sequential"):
            return Unknown(f"an operation on {with_article(left.type_name)}", where)
        if op == "Mult":
            if kind != "Sequential" or not isinstance(right, int) or isinstance(right, bool) or right <= 0:
                raise SpecError(f"{with_article(kind)} is multiplied by {right!r}; PyTorch multiplies a "
                                f"Sequential by a "
                                "positive int only", where)
            if len(left.children) * right > MAX_NODES:
                raise SpecError(f"a Sequential repeated {right:,} times is too large", where)
            items = [*left.children.values()] * right
            return self._container(kind, items, where)
        if kind == "Sequential" and not (isinstance(right, Module) and "Sequential" in (right.kind, right.base)):
            raise SpecError("PyTorch adds a Sequential to a Sequential only", where)
        values = self.reader.interp.iterate(right, where)
        if isinstance(values, Unknown):
            return Unknown(values.why, values.where, maybe_module=True)
        if in_place:
            _check_size(len(left.children) + len(values), where)
            for value in values:
                self.set_attribute(left, str(len(left.children)), value, where)
            return left
        return self._container(kind, [*left.children.values(), *values], where)

    def _container(self, kind: str, items: list[Any], where: Location) -> Module:
        module = Module(TORCH, kind, base=kind, where=where)
        _check_size(len(items), where)
        for i, item in enumerate(items):
            self.set_attribute(module, str(i), item, where)
        return self.reader.finish(module)

    @staticmethod
    def _set_tensor(layer: Layer, name: str, value: Any, where: Location) -> None:
        """``head.weight = embed.weight`` ties two layers' tensor (counted once);
        ``fc.bias = None`` removes a tensor and ``fc.weight = nn.Parameter(...)`` replaces one
        (or adds one, under a new name), as PyTorch registers them."""
        if isinstance(value, WeightRef) and value.layer is not layer:
            layer.tied[name] = value
        elif value is None and name == "bias" and isinstance(layer.bound.get("bias"), bool):
            layer.kwargs["bias"] = layer.bound["bias"] = False  # as if made without one: no bias, fewer MACs
        elif value is None or isinstance(value, Param):
            if isinstance(value, Param):
                value.name = value.name or name
            layer.tied.pop(name, None)
            layer.replaced[name] = value

    def get_item(self, owner: Any, index: Any, where: Location) -> Any:
        if isinstance(owner, Layer):
            raise SpecError(f"nn.{owner.type_name} is indexed, but it is not a container", where)
        items = list(owner.children.items())
        if isinstance(index, slice):
            part = Module(TORCH, owner.kind if owner.kind != "user" else owner.base, base=owner.base, where=where)
            part.children = dict(items[index])
            return part
        if isinstance(index, str):
            if index in owner.children:
                return owner.children[index]
            raise SpecError(f"{owner.type_name} has no module '{index}'", where)
        if isinstance(index, int) and -len(items) <= index < len(items):
            return items[index][1]
        raise SpecError(f"index {index!r} is out of range for {with_article(owner.type_name)} of {len(items)} "
                        f"modules", where)

    def set_item(self, owner: Module, index: Any, value: Any, where: Location) -> None:
        key = index if isinstance(index, str) else str(index % max(len(owner.children), 1)) \
            if isinstance(index, int) else None
        if key is not None:
            self.set_attribute(owner, key, value, where)

    def delete_item(self, owner: Module, index: Any, where: Location) -> None:
        """``del layers[-1]``, ``del seq[2:]`` (the rest numbered afresh, as PyTorch does),
        ``del heads["aux"]``."""
        kind = owner.base if owner.kind == "user" else owner.kind
        keys = list(owner.children)
        if kind == "ModuleDict" and isinstance(index, str) and index in owner.children:
            del owner.children[index]
            return
        if kind not in ("ModuleList", "Sequential") or not isinstance(index, (int, slice)) \
                or isinstance(index, int) and not -len(keys) <= index < len(keys):
            raise SpecError(f"`del` of item {index!r} of {with_article(owner.type_name)} of {len(keys)} modules", where)
        for key in keys[index] if isinstance(index, slice) else [keys[index]]:
            del owner.children[key]
        owner.children = {str(i): m for i, m in enumerate(owner.children.values())}

    def iterate(self, owner: Module, where: Location) -> Any:
        if owner.kind == "ModuleDict" or owner.base == "ModuleDict":
            return list(owner.children)
        if owner.kind in CONTAINERS or owner.base in CONTAINERS:
            return [m for m in owner.children.values() if m is not None]
        return Unknown(f"iterating over {with_article(owner.type_name)}", where)

    def length(self, owner: Module) -> int:
        return len(owner.children)

    def tensor_attribute(self, x: Any, name: str, where: Location) -> Any:
        return self.ops.attribute(x, name, where)

    def param_owner_path(self, param: Param) -> str:
        return self.param_paths.get(id(param), "")

    # ---- calls ---------------------------------------------------------------------------

    def call(self, obj: Layer | Module, args: list[Any], kwargs: dict[str, Any], where: Location) -> Any:
        if not self.driving:  # at the code's top level: noted, followed when the model is counted
            if isinstance(obj, Module) and any(is_operand(a) for a in args):
                self.reader.fed.setdefault(id(obj), list(args))
            return Unknown("a module's output, followed only when the model is counted", where)
        if args and isinstance(args[0], Unknown):  # (a hidden state after it may be unknown)
            return args[0]
        if isinstance(obj, Layer):
            return self.model.call_layer(obj, args, kwargs, where)
        return self.model.call_module(obj, args, kwargs, where)

    def chain(self, module: Module, args: list[Any], where: Location) -> Any:
        if len(args) != 1:
            raise SpecError(f"nn.Sequential takes one input, got {len(args)}", where)
        x = args[0]
        for child in module.children.values():
            if child is None:
                continue
            x = self.call(child, [x], {}, where)
            if isinstance(x, Unknown):
                return x
        return x

    @property
    def model(self) -> Any:
        return self.reader.torch_model


def _walk(owner: Layer | Module, method: str, where: Location) -> Any:
    walk, named = _WALKS[method]
    found = walk(owner, where)
    if isinstance(found, Unknown):
        return found
    return [tuple(item) for item in found] if named else [value for _, value in found]


def _in_container(owner: Any) -> bool:
    return isinstance(owner, Module) and (owner.kind in CONTAINERS or owner.base in CONTAINERS)


def _item(owner: Module, value: Any, where: Location) -> Any:
    """What a container holds at an index: a module, or (a value not known from the code, a
    name from a module not pasted) an unknown that keeps its place, refused if counted."""
    if isinstance(value, (Layer, Module, Param)) or value is None:
        return value
    if isinstance(value, Unknown):
        return Unknown(value.why, value.where, maybe_module=True)
    if isinstance(value, Lib) and not is_library(canonical(value.path)):
        return Unknown(f"'{value.path}' comes from a module that is not in the code", where, maybe_module=True)
    raise SpecError(f"{owner.type_name} holds {describe(value)}, which is not a module", where)


def _layers_under(value: Any) -> list[Layer]:
    if isinstance(value, Layer):
        return [value]
    if not isinstance(value, Module):
        return []
    found, seen, stack = [], set(), [value]
    while stack:
        module = stack.pop()
        if id(module) in seen:
            continue
        seen.add(id(module))
        for child in module.children.values():
            if isinstance(child, Layer):
                found.append(child)
            elif isinstance(child, Module):
                stack.append(child)
    return found


def _check_size(n: int, where: Location) -> None:
    if n > MAX_NODES:
        raise SpecError(f"a container of more than {MAX_NODES:,} modules is refused; is a loop too long?", where)


def _has_forward(module: Module) -> bool:
    try:
        return isinstance(module.cls.lookup("forward"), Function)
    except KeyError:
        return False


def _weights(layer: Layer) -> list[tuple[str, tuple, bool]]:
    """A layer's tensors as PyTorch names them, from its own arguments."""
    from ..graph import make_node
    from ..rules import CHANNELS_FIRST, PYTORCH, Context
    from ..rules._inputs import implied_inputs

    node = make_node(layer.rule, "base", (), layer.args, layer.kwargs, location=layer.where)
    shapes = implied_inputs(layer.rule, dict(node.args))
    if shapes is None:
        raise SpecError(f"the tensors of nn.{layer.type_name} depend on its input's shape", layer.where)
    inference = layer.rule.infer(node.args, shapes, Context(CHANNELS_FIRST, PYTORCH))
    return [(w.name, w.shape, w.buffer) for w in inference.weights]


def _transformer_children(layer: Layer, where: Location) -> dict[str, Layer]:
    """nn.Transformer's encoder and decoder, as its __init__ makes them."""
    a = layer.bound
    common = {"d_model": a["d_model"], "nhead": a["nhead"], "dim_feedforward": a["dim_feedforward"],
              "dropout": a["dropout"], "layer_norm_eps": a["layer_norm_eps"], "batch_first": a["batch_first"],
              "norm_first": a["norm_first"], "bias": a["bias"]}
    norm = LayerCall("nn.LayerNorm", (a["d_model"],), (("eps", a["layer_norm_eps"]), ("bias", a["bias"])))
    children = {}
    for part, count in (("Encoder", a["num_encoder_layers"]), ("Decoder", a["num_decoder_layers"])):
        rule = _rule(f"Transformer{part}")
        kwargs = {f"{part.lower()}_layer": LayerCall(f"nn.Transformer{part}Layer", (), tuple(common.items())),
                  "num_layers": count, "norm": norm}
        children[part.lower()] = Layer(TORCH, rule, f"Transformer{part}", (), kwargs, where,
                                       bound=bound_arguments(rule, f"nn.Transformer{part}", [], kwargs, where))
    return children


def _rule(name: str) -> Any:
    try:
        rule = lookup(f"nn.{name}")
    except RuleError:
        return None
    return rule if rule.framework == "pytorch" and name in (rule.name, *rule.aliases) else None





