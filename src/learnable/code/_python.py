"""Python's own values in the code reader: operators, builtins (``len``, ``range``, ``zip``,
``int``, ...) and the methods of strings, lists and dicts, each bounded so that no paste can
make the reader build a number, string or list of unbounded size.
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .values import BATCH, Bound, ClassObj, Function, Instance, Lib, Unknown

if TYPE_CHECKING:
    from .interpreter import Interpreter

MAX_ITEMS = 1_000_000  # a list, a range made into one, a dict
MAX_STRING = 100_000  # characters
MAX_BITS = 256  # an integer's size: sizes of real models need 64


class Builtin:
    """A Python builtin the reader implements itself, over its own values."""

    __slots__ = ("name", "function")

    def __init__(self, name: str, function: Callable[..., Any]):
        self.name, self.function = name, function

    def __call__(self, args: list[Any], kwargs: dict[str, Any], node: ast.AST) -> Any:
        return self.function(args, kwargs, node)

    def __repr__(self) -> str:
        return self.name


def is_plain(value: Any) -> bool:
    return isinstance(value, (int, float, str, bool, type(None), list, tuple, dict, range, set, complex))


# ---- bounds --------------------------------------------------------------------------------


def range_size(value: range) -> int:
    """A range's length, or one past the limit for a range too long to count (10 ** 30 items)."""
    try:
        return len(value)
    except OverflowError:
        return MAX_ITEMS + 1


def check_size(size: int, interp: Interpreter, node: ast.AST) -> None:
    if size > MAX_ITEMS:
        raise interp.error(f"a list of more than {MAX_ITEMS:,} items is refused; model code needs no such list",
                           node)


def checked_int(value: Any, interp: Interpreter, node: ast.AST) -> Any:
    if isinstance(value, int) and value.bit_length() > MAX_BITS:
        raise interp.error(f"a number of over {MAX_BITS} bits is refused (no model has a size that large)", node)
    return value


def checked_str(value: str, interp: Interpreter, node: ast.AST) -> str:
    if len(value) > MAX_STRING:
        raise interp.error(f"a string of more than {MAX_STRING:,} characters is refused", node)
    return value


def _checked(value: Any, interp: Interpreter, node: ast.AST) -> Any:
    """A value an operation made, within the bounds; a string or list costs a step per item
    (so that making large lists in a loop runs out of steps, not of memory)."""
    if isinstance(value, int):
        return checked_int(value, interp, node)
    if isinstance(value, str):
        interp.charge(len(value), node)
        return checked_str(value, interp, node)
    if isinstance(value, (list, tuple, dict, set)):
        check_size(len(value), interp, node)
        interp.charge(len(value), node)
    return value


# ---- operators -----------------------------------------------------------------------------

_BINARY: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod, ast.Pow: operator.pow, ast.LShift: operator.lshift,
    ast.RShift: operator.rshift, ast.BitOr: operator.or_, ast.BitAnd: operator.and_, ast.BitXor: operator.xor,
    ast.MatMult: operator.matmul,
}


def binary(op: ast.operator, left: Any, right: Any, interp: Interpreter, node: ast.AST) -> Any:
    _guard_size(op, left, right, interp, node)
    if isinstance(op, ast.Mod) and isinstance(left, str):
        _guard_format(left, interp, node)
        values = right if isinstance(right, tuple) else (right,)
        if any(not is_plain(v) or v is BATCH for v in values):  # "%.2fM" % (params / 1e6,): text for a print
            return Unknown("a formatted string of values learnable does not know")
    try:
        return _checked(_BINARY[type(op)](left, right), interp, node)
    except (TypeError, ValueError, ZeroDivisionError, OverflowError, KeyError, IndexError) as err:
        raise interp.error(f"{type(err).__name__}: {err}", node) from None


def _guard_size(op: ast.operator, left: Any, right: Any, interp: Interpreter, node: ast.AST) -> None:
    """Refuse an operation whose result would be too large, before computing it."""
    if isinstance(op, ast.Pow) and _is_int(left) and _is_int(right):
        if right > 0 and abs(left) > 1 and right * max(abs(left).bit_length() - 1, 1) > MAX_BITS:
            raise interp.error(f"{left} ** {right} is too large (over {MAX_BITS} bits)", node)
    elif isinstance(op, ast.LShift) and _is_int(right) and right > MAX_BITS:
        raise interp.error(f"a shift by {right} bits is too large", node)
    elif isinstance(op, ast.Mult):
        for seq, times in ((left, right), (right, left)):
            if isinstance(seq, (str, list, tuple)) and _is_int(times) and len(seq) * max(times, 0) > MAX_ITEMS:
                raise interp.error(f"a sequence repeated {times:,} times is too large", node)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


_UNARY = {ast.USub: operator.neg, ast.UAdd: operator.pos, ast.Invert: operator.invert}


def unary(op: ast.unaryop, operand: Any, interp: Interpreter, node: ast.AST) -> Any:
    try:
        return _UNARY[type(op)](operand)
    except TypeError as err:
        raise interp.error(f"TypeError: {err}", node) from None


_COMPARE = {
    ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le, ast.Gt: operator.gt,
    ast.GtE: operator.ge, ast.Is: operator.is_, ast.IsNot: operator.is_not,
}


def compare(op: ast.cmpop, left: Any, right: Any, interp: Interpreter, node: ast.AST) -> Any:
    if isinstance(op, (ast.Is, ast.IsNot)):
        if isinstance(left, Unknown) or isinstance(right, Unknown):
            return left if isinstance(left, Unknown) else right
        return _COMPARE[type(op)](left, right)
    for value in (left, right):
        if isinstance(value, Unknown):
            return value
        if value is BATCH:
            return Unknown("it depends on the batch size, which the code does not fix")
    if isinstance(op, (ast.In, ast.NotIn)):
        if not isinstance(right, (list, tuple, dict, str, set, range)):
            return Unknown(f"`{ast.unparse(node)}` is not known from the code")
        try:
            inside = any(_same(left, item) for item in right) if isinstance(right, (list, tuple)) else left in right
        except TypeError as err:  # 1 in "abc", [1] in {}
            raise interp.error(f"TypeError: {err}", node) from None
        return inside if isinstance(op, ast.In) else not inside
    if isinstance(op, (ast.Eq, ast.NotEq)) and not (is_plain(left) and is_plain(right)):
        same = _same(left, right)
        return same if isinstance(op, ast.Eq) else not same
    if not (is_plain(left) and is_plain(right)):  # tensors compared: a mask of values only data fixes
        return Unknown(f"`{ast.unparse(node)}` compares values the code does not fix")
    try:
        return _COMPARE[type(op)](left, right)
    except TypeError as err:
        raise interp.error(f"TypeError: {err}", node) from None


def _same(a: Any, b: Any) -> bool:
    if is_plain(a) and is_plain(b):
        try:
            return bool(a == b)
        except Exception:  # noqa: BLE001 (values of mixed kinds)
            return False
    return a is b


# ---- items ---------------------------------------------------------------------------------


def get_item(owner: Any, index: Any, interp: Interpreter, node: ast.AST) -> Any:
    if isinstance(index, Unknown):  # [nn.ReLU(), nn.GELU()][i]: it may be a layer
        return Unknown(index.why, index.where, maybe_module=index.maybe_module or not all(map(
            is_plain, owner.values() if isinstance(owner, dict) else owner)))
    if index is BATCH:
        return Unknown("it depends on the batch size")
    try:
        return owner[index]
    except (IndexError, KeyError, TypeError, ValueError) as err:
        raise interp.error(f"{type(err).__name__}: {err}", node) from None


def set_item(owner: Any, index: Any, value: Any, interp: Interpreter, node: ast.AST) -> None:
    if isinstance(index, Unknown):
        return
    try:
        owner[index] = value
    except (IndexError, KeyError, TypeError, ValueError) as err:
        raise interp.error(f"{type(err).__name__}: {err}", node) from None
    if isinstance(owner, dict):
        check_size(len(owner), interp, node)


def delete_item(owner: Any, index: Any, interp: Interpreter, node: ast.AST) -> None:
    try:
        del owner[index]
    except (IndexError, KeyError, TypeError, ValueError) as err:
        raise interp.error(f"{type(err).__name__}: {err}", node) from None


def make_set(items: list[Any], interp: Interpreter, node: ast.AST) -> Any:
    try:
        return set(items)
    except TypeError:
        return Unknown(f"a set of values learnable does not compare (line {getattr(node, 'lineno', '?')})")


# ---- formatting ----------------------------------------------------------------------------


def _guard_format(template: str, interp: Interpreter, node: ast.AST) -> None:
    """A format such as ``{:>999999999}`` would build a huge string before any check."""
    digits = 0
    for char in template:
        digits = digits + 1 if char.isdigit() else 0
        if digits > 4:
            raise interp.error("a format with a width or precision over 9,999 is refused", node)


def format_value(value: Any, spec: str, conversion: int, interp: Interpreter, node: ast.AST) -> str:
    _guard_format(spec, interp, node)
    if not is_plain(value) or value is BATCH:
        return str(describe(value))
    if conversion == ord("r"):
        value = repr(value)
    elif conversion in (ord("s"), ord("a")):
        value = str(value)
    try:
        return checked_str(format(value, spec), interp, node)
    except (TypeError, ValueError) as err:
        raise interp.error(f"{type(err).__name__}: {err}", node) from None


def describe(value: Any) -> str:
    """A short text for a reader value inside a message or an f-string."""
    if isinstance(value, Lib):
        return value.path
    if isinstance(value, (Function, ClassObj)):
        return value.name
    return type(value).__name__


# ---- methods of plain values ---------------------------------------------------------------

# Methods that return a value and change nothing, or change only the object itself.
_SAFE_METHODS = {
    str: {"join", "split", "rsplit", "strip", "lstrip", "rstrip", "lower", "upper", "title", "capitalize",
          "startswith", "endswith", "replace", "format", "find", "count", "isdigit", "isalpha", "partition",
          "rpartition", "splitlines", "removeprefix", "removesuffix", "zfill", "center", "ljust", "rjust"},
    list: {"append", "extend", "insert", "pop", "remove", "index", "count", "copy", "reverse", "clear", "sort"},
    tuple: {"index", "count"},
    dict: {"get", "items", "keys", "values", "update", "pop", "setdefault", "copy", "clear"},
    set: {"add", "update", "discard", "remove", "union", "intersection", "difference", "copy"},
    int: {"bit_length"},
    float: {"is_integer"},
}


def method(owner: Any, name: str, interp: Interpreter, node: ast.AST) -> Any:
    kind = next((k for k in _SAFE_METHODS if type(owner) is k), None)
    if kind is None or name not in _SAFE_METHODS[kind]:
        if name in ("real", "imag") and isinstance(owner, (int, float)):
            return getattr(owner, name)
        if name in ("item", "tolist") and isinstance(owner, (int, float)):  # a value of a tensor's, as a number
            return Builtin(f"{type(owner).__name__}.{name}", lambda a, k, n: owner)
        raise interp.error(f"{type(owner).__name__} has no attribute '{name}' that learnable reads", node)
    real = getattr(owner, name)

    def call(args: list[Any], kwargs: dict[str, Any], call_node: ast.AST) -> Any:
        if any(isinstance(a, Unknown) for a in [*args, *kwargs.values()]):
            return next(a for a in [*args, *kwargs.values()] if isinstance(a, Unknown))
        if name == "format" or name in ("center", "ljust", "rjust", "zfill"):
            _guard_format(owner if name == "format" else "", interp, call_node)
            if name != "format" and args and _is_int(args[0]) and args[0] > MAX_STRING:
                raise interp.error(f"a string of more than {MAX_STRING:,} characters is refused", call_node)
        if name == "join" and args and isinstance(args[0], (list, tuple)):
            args = [[describe(a) if not isinstance(a, str) else a for a in args[0]]]
        try:
            result = real(*args, **kwargs)
        except (TypeError, ValueError, KeyError, IndexError, AttributeError) as err:
            raise interp.error(f"{type(err).__name__}: {err}", call_node) from None
        if isinstance(result, (type({}.items()), type({}.keys()), type({}.values()))):
            result = list(result)
        if isinstance(owner, (list, dict, set)):
            check_size(len(owner), interp, call_node)
        return _checked(result, interp, call_node)

    return Builtin(f"{type(owner).__name__}.{name}", call)


# ---- builtins ------------------------------------------------------------------------------


def builtins(interp: Interpreter) -> dict[str, Builtin]:
    def plain(name: str, function: Callable[..., Any], *, materialize: bool = False) -> Builtin:
        def call(args: list[Any], kwargs: dict[str, Any], node: ast.AST) -> Any:
            values = [*args, *kwargs.values()]
            unknown = next((v for v in values if isinstance(v, Unknown)), None)
            if unknown is not None:
                return unknown
            if any(v is BATCH for v in values):
                return Unknown("it depends on the batch size")
            args = [_iterable(interp, a, node) if materialize else a for a in args]
            if any(isinstance(a, Unknown) for a in args):
                return next(a for a in args if isinstance(a, Unknown))
            try:
                result = function(*args, **kwargs)
            except (TypeError, ValueError, ZeroDivisionError, OverflowError, KeyError, IndexError) as err:
                held = next((v for a in args if isinstance(a, (list, tuple)) for v in a if isinstance(v, Unknown)), None)
                if held is not None:  # sum(p.numel() for p in ...) over values not known
                    return held
                raise interp.error(f"{name}(): {type(err).__name__}: {err}", node) from None
            if isinstance(result, (map, filter, zip, enumerate, reversed, type(iter([])))):
                result = list(result)
            if isinstance(result, range):
                return result
            return _checked(result, interp, node)

        return Builtin(name, call)

    table = {
        "len": Builtin("len", lambda a, k, n: _len(interp, a, n)), "int": plain("int", int), "float": plain("float", float), "str": plain("str", str),
        "bool": plain("bool", bool), "abs": plain("abs", abs), "round": plain("round", round),
        "divmod": plain("divmod", divmod), "range": plain("range", range),
        "list": plain("list", list, materialize=True), "tuple": plain("tuple", tuple, materialize=True),
        "set": plain("set", set, materialize=True), "sorted": plain("sorted", sorted, materialize=True),
        "reversed": plain("reversed", lambda s: list(s)[::-1], materialize=True),
        "zip": plain("zip", zip, materialize=True), "enumerate": plain("enumerate", enumerate, materialize=True),
        "min": plain("min", min, materialize=True), "max": plain("max", max, materialize=True),
        "sum": plain("sum", sum, materialize=True), "any": plain("any", any, materialize=True),
        "all": plain("all", all, materialize=True), "dict": Builtin("dict", lambda a, k, n: _dict(interp, a, k, n)),
        "pow": plain("pow", lambda a, b, mod=None: binary(ast.Pow(), a, b, interp, ast.Pass()) if mod is None
                     else pow(a, b, mod)),  # (modular: bounded by mod)
        "repr": Builtin("repr", lambda a, k, n: describe(a[0]) if a and not is_plain(a[0]) else repr(a[0])),
        "print": Builtin("print", lambda a, k, n: None),
        "isinstance": Builtin("isinstance", lambda a, k, n: interp.world.isinstance(a[0], a[1])),
        "issubclass": Builtin("issubclass", lambda a, k, n: Unknown("issubclass() is not read")),
        "hasattr": Builtin("hasattr", lambda a, k, n: _hasattr(interp, a, n)),
        "getattr": Builtin("getattr", lambda a, k, n: _getattr(interp, a, n)),
        "setattr": Builtin("setattr", lambda a, k, n: interp.set_attribute(a[0], a[1], a[2], n)),
        "super": Builtin("super", lambda a, k, n: interp.world.super(a, n)),
        "type": Builtin("type", lambda a, k, n: interp.world.type_of(a[0]) if len(a) == 1 else
                        Unknown("type() with three arguments makes a class at run time")),
        "map": Builtin("map", lambda a, k, n: _map(interp, a, n)),
        "filter": Builtin("filter", lambda a, k, n: _filter(interp, a, n)),
        "iter": Builtin("iter", lambda a, k, n: interp.iterate(a[0], n)),
        "next": Builtin("next", lambda a, k, n: _next(interp, a, n)),
        "object": Builtin("object", lambda a, k, n: None),
        "NotImplementedError": Builtin("NotImplementedError", lambda a, k, n: None),
        "ValueError": Builtin("ValueError", lambda a, k, n: None),
        "property": Builtin("property", lambda a, k, n: a[0]),
        "staticmethod": Builtin("staticmethod", lambda a, k, n: a[0]),
        "classmethod": Builtin("classmethod", lambda a, k, n: a[0]),
    }
    for name in ("open", "eval", "exec", "compile", "__import__", "input", "globals", "locals", "vars", "id",
                 "hash", "breakpoint", "exit", "quit", "memoryview", "bytearray"):
        table[name] = Builtin(name, _never(name))
    return table


def _len(interp: Interpreter, args: list[Any], node: ast.AST) -> Any:
    value = args[0] if args else None
    if isinstance(value, Unknown):
        return value
    if is_plain(value) and value is not None and not isinstance(value, (int, float, bool)):
        try:
            return len(value)
        except OverflowError:  # len(range(10**30))
            raise interp.error("len() of a range too long to count", node) from None
    return interp.world.length(value, interp.where(node))


def _never(name: str) -> Callable[..., Any]:
    def call(args: list[Any], kwargs: dict[str, Any], node: ast.AST) -> Any:
        return Unknown(f"{name}() is never run by learnable")
    return call


def _iterable(interp: Interpreter, value: Any, node: ast.AST) -> Any:
    if isinstance(value, (str, bytes, int, float, bool, type(None), dict)):
        return value
    if isinstance(value, range):
        check_size(range_size(value), interp, node)
        return value
    return interp.iterate(value, node)


def _dict(interp: Interpreter, args: list[Any], kwargs: dict[str, Any], node: ast.AST) -> Any:
    result: dict[Any, Any] = {}
    if args:
        source = args[0]
        if isinstance(source, Unknown):
            return source
        if isinstance(source, dict):
            result.update(source)
        else:
            pairs = interp.iterate(source, node)
            if isinstance(pairs, Unknown):
                return pairs
            for pair in pairs:
                if isinstance(pair, Unknown):
                    return pair
                if not isinstance(pair, (list, tuple)) or len(pair) != 2:
                    raise interp.error(f"dict() takes (key, value) pairs, got {describe(pair)}", node)
                set_item(result, pair[0], pair[1], interp, node)
    result.update(kwargs)
    check_size(len(result), interp, node)
    return result


def _hasattr(interp: Interpreter, args: list[Any], node: ast.AST) -> Any:
    from ..errors import LearnableError

    try:
        value = interp.attribute(args[0], args[1], node)
    except LearnableError:
        return False
    return value if isinstance(value, Unknown) else True


def _getattr(interp: Interpreter, args: list[Any], node: ast.AST) -> Any:
    from ..errors import LearnableError

    if not isinstance(args[1], str):
        return Unknown("getattr() with a name that is not known")
    try:
        return interp.attribute(args[0], args[1], node)
    except LearnableError:
        if len(args) > 2:
            return args[2]
        raise


def _map(interp: Interpreter, args: list[Any], node: ast.AST) -> Any:
    sources = [interp.iterate(a, node) for a in args[1:]]
    unknown = next((s for s in sources if isinstance(s, Unknown)), None)
    if unknown is not None:
        return unknown
    return [interp.call(args[0], list(items), {}, node) for items in zip(*sources)]


def _filter(interp: Interpreter, args: list[Any], node: ast.AST) -> Any:
    items = interp.iterate(args[1], node)
    if isinstance(items, Unknown):
        return items
    kept = []
    for item in items:
        test = interp.truth(item if args[0] is None else interp.call(args[0], [item], {}, node), node)
        if isinstance(test, Unknown):
            return test
        if test:
            kept.append(item)
    return kept


def _next(interp: Interpreter, args: list[Any], node: ast.AST) -> Any:
    items = interp.iterate(args[0], node)
    if isinstance(items, Unknown) or items:
        return items if isinstance(items, Unknown) else items[0]
    if len(args) > 1:
        return args[1]
    raise interp.error("next() of an empty sequence", node)


__all__ = ["Bound", "Builtin", "ClassObj", "Function", "Instance", "MAX_ITEMS"]
