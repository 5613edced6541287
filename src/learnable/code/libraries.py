"""The standard library and NumPy as model code uses them (``math.sqrt``, ``np.prod``,
``functools.partial``, ``copy.deepcopy``, ``OrderedDict``, ``@dataclass`` configs), plain
classes, ``super()``, ``isinstance``, and learnable's own ``Input(...)`` line.

Anything else a library does (loading data, plotting, training) is :class:`Unknown`: the
reader never runs it, and refuses it only where a count would need it.
"""

from __future__ import annotations

import ast
import copy
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .._text import with_article
from ..errors import Location, SpecError
from . import _python, torch_tensors
from .values import BATCH, Bound, ClassObj, Const, Function, Instance, Layer, Lib, Module, Param, Partial, Tensor, Unknown

if TYPE_CHECKING:
    from .reader import Reader


class Method:
    """A method of a library object that the reader implements (``list_of_layers.append``
    is Python's; ``model.add``, ``nn.ModuleList.append`` are these)."""

    __slots__ = ("name", "function")

    def __init__(self, name: str, function: Callable[[list[Any], dict[str, Any], Location], Any]):
        self.name, self.function = name, function

    def __call__(self, args: list[Any], kwargs: dict[str, Any], where: Location) -> Any:
        try:
            return self.function(args, kwargs, where)
        except (IndexError, KeyError):  # (methods read their arguments by position)
            raise SpecError(f"{self.name}() is missing arguments", where) from None


@dataclass(eq=False)
class Super:
    """``super()``: attribute lookups start after ``cls`` in ``owner``'s classes."""

    cls: ClassObj
    owner: Any


LEARNABLE_INPUT = Lib("learnable.Input")  # a bare Input(3, 32, 32): learnable's own way to state the input

_CONSTANTS = {"math.pi": math.pi, "math.e": math.e, "math.inf": math.inf, "math.tau": math.tau,
              "numpy.pi": math.pi, "numpy.e": math.e, "numpy.inf": math.inf, "numpy.newaxis": None,
              "sys.maxsize": 2**63 - 1}


def constant(path: str, default: Any) -> Any:
    return _CONSTANTS.get(_numpy(path), default)


def _numpy(path: str) -> str:
    return "numpy" + path[2:] if path.startswith("np.") else path


# ---- calls ---------------------------------------------------------------------------------

def _bounded(combine: Callable[[Any, Any], Any], start: Any) -> Callable[..., Any]:
    """math.prod or math.lcm, refused as soon as the result passes MAX_BITS (a product of
    300,000 huge numbers would take minutes before the check after it)."""
    def fold(*args: Any, start: Any = start) -> Any:
        items = args[0] if len(args) == 1 and isinstance(args[0], (list, tuple)) else args
        result = start
        for item in items:
            result = combine(result, item)
            if isinstance(result, int) and result.bit_length() > _python.MAX_BITS:
                raise OverflowError(f"the result passes {_python.MAX_BITS} bits")
        return result
    return fold


def _factorial(n: Any) -> int:
    if isinstance(n, int) and n > 1_000:  # 58! already passes 256 bits
        raise OverflowError(f"{n}! is far over {_python.MAX_BITS} bits")
    return math.factorial(n)


def _comb(n: Any, k: Any) -> int:
    if isinstance(n, int) and isinstance(k, int) and min(k, n - k) > _python.MAX_BITS:  # C(n, k) ≥ 2^min(k, n−k)
        raise OverflowError(f"comb({n}, {k}) is over {_python.MAX_BITS} bits")
    return math.comb(n, k)


_MATH = {name: getattr(math, name) for name in ("sqrt", "ceil", "floor", "log", "log2", "log10", "exp", "isqrt",
                                                "gcd", "fabs", "trunc", "pow")}
_MATH.update(prod=_bounded(lambda a, b: a * b, 1), lcm=_bounded(math.lcm, 1), comb=_comb, factorial=_factorial)
_NUMPY = {"prod": _MATH["prod"], "sqrt": math.sqrt, "ceil": math.ceil, "floor": math.floor, "log2": math.log2,
          "log": math.log, "exp": math.exp, "abs": abs, "round": round, "int32": int, "int64": int, "float32": float}


_NUMPY_CREATION = {"numpy.zeros", "numpy.ones", "numpy.empty", "numpy.full", "numpy.random.rand",
                   "numpy.random.randn", "numpy.random.random", "numpy.random.normal", "numpy.random.uniform",
                   "numpy.random.randint", "numpy.random.random_sample"}


def _numpy_array(path: str, args: list[Any], kwargs: dict[str, Any], where: Location) -> Any:
    """``np.zeros((1, 28, 28, 1))``, ``np.random.rand(8, 20)``: data of that shape, whose
    first axis is the batch when a model is called on it."""
    if path in ("numpy.random.rand", "numpy.random.randn"):
        sizes = list(args)
    elif path in ("numpy.random.normal", "numpy.random.uniform", "numpy.random.randint"):
        sizes = kwargs.get("size", args[2] if len(args) > 2 else None)
    else:
        sizes = args[0] if args else kwargs.get("shape", kwargs.get("size"))
    sizes = [sizes] if isinstance(sizes, int) else sizes
    if not isinstance(sizes, (list, tuple)) or not all(isinstance(s, int) and s >= 0 for s in sizes):
        return Unknown(f"{path}(...) of sizes not known from the code", where)
    return Const(tuple(sizes), False, path.endswith("randint"), path.replace("numpy.", "np."))


# Libraries whose calls give values, never a module (a call into any other may return one).
_VALUE_LIBRARIES = frozenset({"os", "sys", "random", "time", "json", "re", "glob", "pathlib", "warnings", "logging",
                              "argparse", "math", "numpy", "itertools", "operator", "string", "datetime", "pprint",
                              "matplotlib", "pandas", "sklearn", "PIL", "tqdm", "IPython", "wandb", "shutil", "pickle"})


_MODEL_LIBRARIES = frozenset({"timm", "transformers", "torchvision", "segmentation_models_pytorch", "keras_hub",
                              "keras_nlp", "keras_cv", "ultralytics", "open_clip", "diffusers", "peft"})


def call(reader: Reader, path: str, args: list[Any], kwargs: dict[str, Any], where: Location) -> Any:
    path = _numpy(path)
    if path in _NUMPY_CREATION:
        return _numpy_array(path, args, kwargs, where)
    unknown = next((a for a in [*args, *kwargs.values()] if isinstance(a, Unknown)), None)
    if path == LEARNABLE_INPUT.path:
        return reader.stated_input(args, kwargs, where)
    module, _, name = path.rpartition(".")
    handler = _HANDLERS.get(path)
    if handler is not None:
        try:
            return handler(reader, args, kwargs, where)
        except (IndexError, KeyError):  # (the handlers read their arguments by position)
            raise SpecError(f"{path}() is missing arguments", where) from None
    if module in ("math", "numpy") and name in (_MATH if module == "math" else _NUMPY):
        if unknown is not None:
            return unknown
        function = (_MATH if module == "math" else _NUMPY)[name]
        return _plain_call(reader, path, function, args, kwargs, where)
    if module in ("typing", "dataclasses", "abc", "functools") or path in _IDENTITY_DECORATORS:
        return args[0] if len(args) == 1 and not kwargs else Unknown(f"{path}() is not read", where)
    root = path.split(".")[0]
    return Unknown(f"{path}(...) is not read: learnable reads model code, not {module.split('.')[0] or 'its'} "
                   "calls" + ("; count the model with FILE.py:NAME, which runs your file" if root in _MODEL_LIBRARIES
                              else ""), where, maybe_module=root not in _VALUE_LIBRARIES)  # timm.create_model(...)


def _plain_call(reader: Reader, path: str, function: Callable, args: list[Any], kwargs: dict[str, Any],
                where: Location) -> Any:
    if any(a is BATCH for a in args):
        return Unknown("it depends on the batch size", where)
    try:
        result = function(*args, **kwargs)
    except (TypeError, ValueError, OverflowError, ZeroDivisionError) as err:
        raise SpecError(f"{path}(): {type(err).__name__}: {err}", where) from None
    if isinstance(result, int) and result.bit_length() > _python.MAX_BITS:
        raise SpecError(f"{path}() gives a number of over {_python.MAX_BITS} bits", where)
    return result


def _partial(reader: Reader, args: list[Any], kwargs: dict[str, Any], where: Location) -> Any:
    return Partial(args[0], tuple(args[1:]), kwargs)


def _reduce(reader: Reader, args: list[Any], kwargs: dict[str, Any], where: Location) -> Any:
    items = reader.interp.iterate(args[1], where)
    if isinstance(items, Unknown):
        return items
    if len(args) > 2:
        value, rest = args[2], items
    elif items:
        value, rest = items[0], items[1:]
    else:
        raise SpecError("functools.reduce() of an empty sequence with no initial value", where)
    for item in rest:
        value = reader.interp.call(args[0], [value, item], {}, where)
    return value


def _ordered_dict(reader: Reader, args: list[Any], kwargs: dict[str, Any], where: Location) -> Any:
    return reader.interp.builtins["dict"](args, kwargs, where)


def _deepcopy(reader: Reader, args: list[Any], kwargs: dict[str, Any], where: Location) -> Any:
    """A copy of layers and modules is new layers with weights of their own (the Annotated
    Transformer's ``clones``): copied as plain data, the syntax trees and scopes shared."""
    memo: dict[int, Any] = {}
    return _copy(args[0], memo)


def _copy(value: Any, memo: dict[int, Any]) -> Any:
    if id(value) in memo:
        return memo[id(value)]
    if isinstance(value, (Layer, Module, Param, Instance)):
        clone = copy.copy(value)
        memo[id(value)] = clone
        for name in ("args", "kwargs", "attrs", "children", "params", "calls", "nodes"):
            if hasattr(clone, name):
                setattr(clone, name, _copy(getattr(value, name), memo))
        if isinstance(clone, Param):
            clone.nodes = {}
        if isinstance(clone, Layer):
            clone.calls = []
        return clone
    if isinstance(value, list):
        result: Any = []
        memo[id(value)] = result
        result.extend(_copy(v, memo) for v in value)
        return result
    if isinstance(value, tuple):
        return tuple(_copy(v, memo) for v in value)
    if isinstance(value, dict):
        result = {}
        memo[id(value)] = result
        result.update({k: _copy(v, memo) for k, v in value.items()})
        return result
    return value


def _chain(reader: Reader, args: list[Any], kwargs: dict[str, Any], where: Location) -> Any:
    items: list[Any] = []
    for arg in args:
        part = reader.interp.iterate(arg, where)
        if isinstance(part, Unknown):
            return part
        items.extend(part)
        _python.check_size(len(items), reader.interp, where)
    return items


def _nothing(reader: Reader, args: list[Any], kwargs: dict[str, Any], where: Location) -> Any:
    return None


def _field(reader: Reader, args: list[Any], kwargs: dict[str, Any], where: Location) -> Any:
    if "default" in kwargs:
        return kwargs["default"]
    if "default_factory" in kwargs:
        return reader.interp.call(kwargs["default_factory"], [], {}, where)
    return Unknown("a dataclass field without a default", where)


def _identity(reader: Reader, args: list[Any], kwargs: dict[str, Any], where: Location) -> Any:
    return args[-1] if args else None


def _summary(with_batch: bool) -> Callable[..., Any]:
    """torchsummary's ``summary(model, (3, 32, 32))`` and torchinfo's ``summary(model,
    input_size=(1, 3, 32, 32))`` state the model's input."""
    def handler(reader: Reader, args: list[Any], kwargs: dict[str, Any], where: Location) -> Any:
        model = args[0] if args else kwargs.get("model")
        size = args[1] if len(args) > 1 else kwargs.get("input_size")
        if isinstance(model, Module) and isinstance(size, (list, tuple)) and size:
            shapes = list(size) if all(isinstance(s, (list, tuple)) for s in size) else [size]
            if all(isinstance(d, int) for s in shapes for d in s):
                reader.fed.setdefault(id(model), [Const(tuple(s[1:] if with_batch else s), True, False, "summary")
                                                        for s in shapes])
        return None
    return handler


_HANDLERS: dict[str, Callable[..., Any]] = {
    "torchsummary.summary": _summary(False), "torchinfo.summary": _summary(True),
    "functools.partial": _partial, "functools.reduce": _reduce, "collections.OrderedDict": _ordered_dict,
    "collections.defaultdict": lambda r, a, k, w: {}, "copy.deepcopy": _deepcopy, "copy.copy": _deepcopy,
    "itertools.chain": _chain, "dataclasses.field": _field, "typing.cast": _identity,
    "warnings.warn": _nothing, "warnings.filterwarnings": _nothing, "random.seed": _nothing,
    "numpy.random.seed": _nothing, "logging.info": _nothing, "print": _nothing,
    "operator.mul": lambda r, a, k, w: r.interp.binary(ast.Mult(), a[0], a[1], w),
    "operator.add": lambda r, a, k, w: r.interp.binary(ast.Add(), a[0], a[1], w),
}
_IDENTITY_DECORATORS = {"functools.wraps", "functools.lru_cache", "functools.cache"}


# ---- plain classes -------------------------------------------------------------------------


def instantiate(reader: Reader, cls: ClassObj, args: list[Any], kwargs: dict[str, Any], where: Location) -> Any:
    """An object of a class the code defines that is no framework's: a config, a helper."""
    obj = Instance(cls)
    if cls.dataclass_fields is not None:
        _dataclass_init(reader, cls, obj, args, kwargs, where)
    try:
        init = cls.lookup("__init__")
    except KeyError:
        init = None
    if isinstance(init, Function) and cls.dataclass_fields is None:
        reader.interp.call(Bound(init, obj), args, kwargs, where)
    elif init is None and cls.dataclass_fields is None and (args or kwargs):
        raise SpecError(f"{cls.name}() takes no arguments", where)
    try:
        post = cls.lookup("__post_init__")
        reader.interp.call(Bound(post, obj), [], {}, where)
    except KeyError:
        pass
    return obj


def _dataclass_init(reader: Reader, cls: ClassObj, obj: Instance, args: list[Any], kwargs: dict[str, Any],
                    where: Location) -> None:
    fields = [f for c in reversed(cls.mro()) for f in (c.dataclass_fields or ())]
    fields = list(dict.fromkeys(fields))
    if len(args) > len(fields):
        raise SpecError(f"{cls.name}() takes {len(fields)} arguments, got {len(args)}", where)
    given = dict(zip(fields, args))
    for key, value in kwargs.items():
        if key not in fields:
            raise SpecError(f"{cls.name}() has no field '{key}'", where)
        given[key] = value
    for name in fields:
        if name in given:
            obj.attrs[name] = given[name]
        else:
            try:
                obj.attrs[name] = cls.lookup(name)
            except KeyError:
                raise SpecError(f"{cls.name}() needs its field '{name}'", where) from None


# ---- attributes of other objects -----------------------------------------------------------


def attribute(reader: Reader, owner: Any, name: str, where: Location) -> Any:
    if isinstance(owner, Partial):
        return {"func": owner.function, "args": owner.args, "keywords": owner.kwargs}.get(
            name, Unknown(f"partial.{name}", where))
    if isinstance(owner, Method):
        return Unknown(f"the attribute {name} of a method", where)
    return Unknown(f"the attribute {name} of {describe(owner)}", where)


def weight_attribute(ref: Any, name: str, where: Location) -> Any:
    """``fc.weight.data.uniform_(...)``, ``nn.init.*(fc.weight)``: nothing a count reads."""
    if name == "data":
        return ref
    if name.endswith("_") or name in ("copy_", "normal_", "uniform_", "zero_", "fill_"):
        return Method(name, lambda a, k, w: None)
    shape = torch_tensors.tensor_shape(ref) if name in ("shape", "numel", "nelement", "size", "dim", "ndim") else None
    if shape is not None:  # p.numel() in a count the code prints
        if name in ("shape", "ndim"):
            return shape if name == "shape" else len(shape)
        return Method(name, lambda a, k, w: _size(shape, name, a, w))
    return Unknown(f"the {name} of {ref.layer.type_name}'s {ref.name}", where)


def _size(shape: tuple[int, ...], name: str, args: list[Any], where: Location) -> Any:
    if name in ("numel", "nelement"):
        return math.prod(shape)
    if name == "dim":
        return len(shape)
    if not args:
        return shape
    if not isinstance(args[0], int) or not -len(shape) <= args[0] < len(shape):
        raise SpecError(f"size({args[0]!r}) of a tensor of {len(shape)} axes", where)
    return shape[args[0]]


def describe(value: Any) -> str:
    if isinstance(value, Lib):
        return value.path
    if isinstance(value, Layer):
        return f"{with_article(value.type_name)} layer"
    if isinstance(value, Module):
        return f"{with_article(value.type_name)}"
    if isinstance(value, (Tensor, Const)):
        return "a tensor"
    if isinstance(value, Unknown):
        return "a value not known from the code"
    return _python.describe(value) if not _python.is_plain(value) else repr(value)[:40]


# ---- super() and isinstance ----------------------------------------------------------------


def make_super(reader: Reader, args: list[Any], where: Any) -> Any:
    if len(args) == 2:
        cls, owner = args
    else:
        frame = reader.interp.current_method()
        if frame is None:
            raise reader.interp.error("super() outside a method", where)
        cls, owner = frame
    if not isinstance(cls, ClassObj):
        return Unknown("super() of a class that is not the code's", None)
    return Super(cls, owner)


def super_attribute(reader: Reader, sup: Super, name: str, where: Location) -> Any:
    owner_cls = sup.owner.cls if isinstance(sup.owner, (Instance, Module)) else sup.owner
    order = owner_cls.mro() if isinstance(owner_cls, ClassObj) else [sup.cls]
    after = order[order.index(sup.cls) + 1:] if sup.cls in order else []
    for cls in after:
        if name in cls.namespace:
            value = cls.namespace[name]
            return Bound(value, sup.owner) if isinstance(value, Function) else value
    if isinstance(sup.owner, Module):
        api = reader.torch if sup.owner.framework == "torch" else reader.keras
        return api.base_method(sup.owner, name, where)
    if name == "__init__":
        return Method("object.__init__", lambda a, k, w: None)
    raise SpecError(f"super() has no attribute '{name}'", where)


def isinstance_of(reader: Reader, value: Any, kinds: Any) -> Any:
    if isinstance(kinds, tuple):
        results = [isinstance_of(reader, value, k) for k in kinds]
        if any(r is True for r in results):
            return True
        return next((r for r in results if isinstance(r, Unknown)), False)
    if isinstance(value, Unknown):
        return value
    if isinstance(kinds, ClassObj):
        cls = value.cls if isinstance(value, (Instance, Module)) else None
        return cls is not None and kinds in cls.mro()
    if isinstance(kinds, _python.Builtin):
        plain = {"int": int, "float": float, "str": str, "bool": bool, "list": list, "tuple": tuple, "dict": dict,
                 "set": set}.get(kinds.name)
        if plain is not None:
            return isinstance(value, plain) and not (plain is int and isinstance(value, bool) and False)
    if isinstance(kinds, Lib):
        from .names import canonical

        return _is_library_kind(value, canonical(kinds.path))
    return Unknown("isinstance() with a kind learnable does not know", None)


def _is_library_kind(value: Any, path: str) -> Any:
    name = path.rpartition(".")[2]
    if isinstance(value, Layer):
        return name in (value.rule.name, *value.rule.aliases, value.type_name.rpartition(".")[2])
    if isinstance(value, Module):
        if name in ("Module", "Layer", "Model"):
            return True
        return name == value.kind or any(name == p.rpartition(".")[2] for p in
                                          (value.cls.library_bases() if value.cls else []))
    if isinstance(value, (Tensor, Const)):
        return name in ("Tensor", "KerasTensor", "ndarray")
    if isinstance(value, Param):
        return name in ("Parameter", "Tensor", "Variable")
    return False
