"""The expressions of the code reader's Python: names, attributes, items, operators,
comprehensions, f-strings and calls, and Python's rules for calling a function (defaults,
keywords, ``*args``, ``**kwargs``). A mixin of :class:`~learnable.code.interpreter.Interpreter`,
which holds the statements, the places and the limits."""

from __future__ import annotations

import ast
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .._text import with_article
from . import _python
from ._syntax import code_of as _code
from .names import canonical, is_library
from .values import Bound, ClassObj, Function, Instance, Lib, Unknown

if TYPE_CHECKING:
    from .interpreter import Interpreter, Scope

MAX_CALL_DEPTH = 60  # functions within functions (a recursion that does not end stops here)


class _Return(Exception):
    def __init__(self, value: Any):
        self.value = value


class Expressions:
    """Evaluating expressions and calls (needs the interpreter's error, tick, bind, world)."""

    # ---- expressions ---------------------------------------------------------------------

    def eval(self, node: ast.expr, scope: Scope) -> Any:
        self.tick(node)
        handler = self._EXPRESSIONS.get(type(node))
        if handler is None:
            raise self.refuse(node, f"{with_article(type(node).__name__)} expression", "rewrite it without it")
        return handler(self, node, scope)

    def _constant(self, node: ast.Constant, scope: Scope) -> Any:
        return node.value

    def _name(self, node: ast.Name, scope: Scope) -> Any:
        try:
            return scope.lookup(node.id)
        except KeyError:
            pass
        if node.id in self.builtins:
            return self.builtins[node.id]
        return self.world.undefined(node.id, scope, self.where(node))

    def _attribute(self, node: ast.Attribute, scope: Scope) -> Any:
        return self.attribute(self.eval(node.value, scope), node.attr, node)

    def attribute(self, owner: Any, name: str, node: ast.AST) -> Any:
        if isinstance(owner, Unknown):
            return owner
        if isinstance(owner, Lib):
            return owner.path.rpartition(".")[2] if name == "__name__" else self.world.lib_attribute(owner, name)
        if isinstance(owner, Instance):
            return self._instance_attribute(owner, name, node)
        if isinstance(owner, ClassObj):
            try:
                return owner.lookup(name)
            except KeyError:
                if name in ("__name__", "__qualname__"):
                    return owner.name
                raise self.error(f"class {owner.name} has no attribute '{name}'", node) from None
        if name == "__class__" and not _python.is_plain(owner):  # m.__class__.__name__
            return self.world.type_of(owner)
        if isinstance(owner, (int, float, str, list, tuple, dict, bool, type(None))):
            return _python.method(owner, name, self, node)
        return self.world.attribute(owner, name, self.where(node))

    def _instance_attribute(self, owner: Instance, name: str, node: ast.AST) -> Any:
        if name in owner.attrs:
            return owner.attrs[name]
        try:
            value = owner.cls.lookup(name)
        except KeyError:
            if name == "__class__":
                return owner.cls
            raise self.error(f"{owner.cls.name} object has no attribute '{name}'", node) from None
        if isinstance(value, Function):
            if value.is_property:
                return self.call(value, [owner], {}, node)
            if "staticmethod" in value.decorators:
                return value
            if "classmethod" in value.decorators:
                return Bound(value, owner.cls)
            return Bound(value, owner)
        return value

    def _subscript(self, node: ast.Subscript, scope: Scope) -> Any:
        owner = self.eval(node.value, scope)
        index = self.eval(node.slice, scope)
        if isinstance(owner, Unknown):
            return owner
        if isinstance(owner, Lib):  # a type hint: Optional[int], List[nn.Module]
            return owner
        if isinstance(owner, (list, tuple, str, dict, range)):
            return _python.get_item(owner, index, self, node)
        return self.world.get_item(owner, index, self.where(node))

    def _slice(self, node: ast.Slice, scope: Scope) -> Any:
        parts = [None if p is None else self.eval(p, scope) for p in (node.lower, node.upper, node.step)]
        return slice(*parts)

    def _sequence(self, node: ast.List | ast.Tuple | ast.Set, scope: Scope) -> Any:
        items: list[Any] = []
        for element in node.elts:
            if isinstance(element, ast.Starred):
                spread = self.iterate(self.eval(element.value, scope), element)
                if isinstance(spread, Unknown):
                    return spread
                items.extend(spread)
            else:
                items.append(self.eval(element, scope))
            _python.check_size(len(items), self, node)
        if isinstance(node, ast.Tuple):
            return tuple(items)
        if isinstance(node, ast.Set):
            return _python.make_set(items, self, node)
        return items

    def _dict(self, node: ast.Dict, scope: Scope) -> Any:
        result: dict[Any, Any] = {}
        for key, value in zip(node.keys, node.values):
            if key is None:  # {**other}
                other = self.eval(value, scope)
                if isinstance(other, Unknown):
                    return other
                result.update(other)
            else:
                _python.set_item(result, self.eval(key, scope), self.eval(value, scope), self, node)
        return result

    def _bool_op(self, node: ast.BoolOp, scope: Scope) -> Any:
        value: Any = None
        for operand in node.values:
            value = self.eval(operand, scope)
            test = self.truth(value, operand)
            if isinstance(test, Unknown):  # `norm or nn.LayerNorm(8)`: which one is not known
                return Unknown(f"`{_code(node)}` depends on a value not known from the code ({test.why})",
                               test.where, maybe_module=True)
            if isinstance(node.op, ast.And) != test:
                return value
        return value

    def _named_expr(self, node: ast.NamedExpr, scope: Scope) -> Any:
        value = self.eval(node.value, scope)
        self.bind(node.target, value, scope)
        return value

    def _bin_op(self, node: ast.BinOp, scope: Scope) -> Any:
        return self.binary(node.op, self.eval(node.left, scope), self.eval(node.right, scope), node)

    def binary(self, op: ast.operator, left: Any, right: Any, node: ast.AST) -> Any:
        if isinstance(left, Unknown):
            return left
        if isinstance(right, Unknown):
            return right
        if _python.is_plain(left) and _python.is_plain(right):
            return _python.binary(op, left, right, self, node)
        return self.world.binary(type(op).__name__, left, right, self.where(node))

    def in_place(self, op: ast.operator, left: Any, right: Any, node: ast.AST) -> Any:
        """``a += b``: a list, or a ModuleList or Sequential, grows in place (so another name
        for it sees the change, as in Python); anything else is ``a = a + b``."""
        if isinstance(op, ast.Add) and isinstance(left, list) and not isinstance(right, Unknown):
            items = self.iterate(right, node)
            if isinstance(items, Unknown):
                return Unknown(items.why, items.where, maybe_module=True)
            _python.check_size(len(left) + len(items), self, node)
            self.charge(len(items), node)
            left.extend(items)
            return left
        if isinstance(left, Unknown) or isinstance(right, Unknown) or _python.is_plain(left):
            return self.binary(op, left, right, node)
        return self.world.binary(type(op).__name__, left, right, self.where(node), in_place=True)

    def _unary_op(self, node: ast.UnaryOp, scope: Scope) -> Any:
        operand = self.eval(node.operand, scope)
        if isinstance(operand, Unknown):
            return operand
        if isinstance(node.op, ast.Not):
            test = self.truth(operand, node.operand)
            return test if isinstance(test, Unknown) else not test
        if _python.is_plain(operand):
            return _python.unary(node.op, operand, self, node)
        return self.world.unary(type(node.op).__name__, operand, self.where(node))

    def _compare(self, node: ast.Compare, scope: Scope) -> Any:
        left = self.eval(node.left, scope)
        result: Any = True
        for op, right_node in zip(node.ops, node.comparators):
            right = self.eval(right_node, scope)
            outcome = _python.compare(op, left, right, self, node)
            if isinstance(outcome, Unknown):
                return outcome
            if not outcome:
                return False
            left = right
        return result

    def _if_exp(self, node: ast.IfExp, scope: Scope) -> Any:
        test = self.truth(self.eval(node.test, scope), node.test)
        if isinstance(test, Unknown):  # `nn.Linear(d, n) if n > 0 else nn.Identity()`: which one is not known
            return Unknown(f"`{_code(node.test)}` (line {getattr(node.test, 'lineno', '?')}) is not known from the "
                           f"code ({test.why})", test.where, maybe_module=True)
        return self.eval(node.body if test else node.orelse, scope)

    def _lambda(self, node: ast.Lambda, scope: Scope) -> Any:
        return self.function(node, scope)

    def _joined_str(self, node: ast.JoinedStr, scope: Scope) -> Any:
        parts = []
        for value in node.values:
            if isinstance(value, ast.Constant):
                parts.append(str(value.value))
                continue
            item = self.eval(value.value, scope)
            if isinstance(item, Unknown):
                return item
            spec = "" if value.format_spec is None else self.eval(value.format_spec, scope)
            if isinstance(spec, Unknown):  # f"{x:{width}}" with width unknown: the text is too
                return spec
            parts.append(_python.format_value(item, spec, value.conversion, self, node))
        return _python.checked_str("".join(parts), self, node)

    def _comprehension(self, node: ast.ListComp | ast.SetComp | ast.GeneratorExp | ast.DictComp, scope: Scope) -> Any:
        from .interpreter import Scope

        inner = Scope(scope)
        results: list[Any] = []
        unknown = self._generate(node, node.generators, 0, inner, results)
        if unknown is not None:
            return unknown
        if isinstance(node, ast.DictComp):
            return dict(results)
        if isinstance(node, ast.SetComp):
            return _python.make_set(results, self, node)
        return results

    def _generate(self, node: Any, generators: list[ast.comprehension], i: int, scope: Scope,
                  results: list[Any]) -> Unknown | None:
        if i == len(generators):
            if isinstance(node, ast.DictComp):
                results.append((self.eval(node.key, scope), self.eval(node.value, scope)))
            else:
                results.append(self.eval(node.elt, scope))
            _python.check_size(len(results), self, node)
            return None
        generator = generators[i]
        items = self.iterate(self.eval(generator.iter, scope), generator.iter)
        if isinstance(items, Unknown):
            return items
        for item in items:
            self.tick(generator.iter)
            self.bind(generator.target, item, scope)
            tests = [self.truth(self.eval(test, scope), test) for test in generator.ifs]
            unknown = next((t for t in tests if isinstance(t, Unknown)), None)
            if unknown is not None:
                return unknown
            if all(tests):
                unknown = self._generate(node, generators, i + 1, scope, results)
                if unknown is not None:
                    return unknown
        return None

    def _starred(self, node: ast.Starred, scope: Scope) -> Any:
        raise self.refuse(node, "a starred expression here", "spread a list only in a call or a list")

    def _call(self, node: ast.Call, scope: Scope) -> Any:
        function = self.eval(node.func, scope)
        args: list[Any] = []
        for arg in node.args:
            if isinstance(arg, ast.Starred):
                spread = self.iterate(self.eval(arg.value, scope), arg)
                if isinstance(spread, Unknown):
                    return spread if not isinstance(function, Lib) else self.world.unknown_call(function, spread)
                args.extend(spread)
            else:
                args.append(self.eval(arg, scope))
        kwargs: dict[str, Any] = {}
        for keyword in node.keywords:
            value = self.eval(keyword.value, scope)
            if keyword.arg is not None:
                kwargs[keyword.arg] = value
            elif isinstance(value, Unknown):
                return value
            elif isinstance(value, dict):
                kwargs.update({str(k): v for k, v in value.items()})
            else:
                raise self.error(f"**{_code(keyword.value)} is not a dict", keyword.value)
        return self.call(function, args, kwargs, node)

    _EXPRESSIONS: dict[type, Callable[..., Any]] = {
        ast.Constant: _constant, ast.Name: _name, ast.Attribute: _attribute, ast.Subscript: _subscript,
        ast.Slice: _slice, ast.List: _sequence, ast.Tuple: _sequence, ast.Set: _sequence, ast.Dict: _dict,
        ast.BoolOp: _bool_op, ast.NamedExpr: _named_expr, ast.BinOp: _bin_op, ast.UnaryOp: _unary_op,
        ast.Compare: _compare, ast.IfExp: _if_exp, ast.Lambda: _lambda, ast.JoinedStr: _joined_str,
        ast.ListComp: _comprehension, ast.SetComp: _comprehension, ast.GeneratorExp: _comprehension,
        ast.DictComp: _comprehension, ast.Starred: _starred, ast.Call: _call,
    }

    # ---- functions -----------------------------------------------------------------------

    def function(self, node: ast.FunctionDef | ast.Lambda, scope: Scope) -> Function:
        spec = node.args
        defaults = [self.eval(d, scope) for d in spec.defaults]
        kw_defaults = {a.arg: self.eval(d, scope) for a, d in zip(spec.kwonlyargs, spec.kw_defaults) if d is not None}
        decorators = tuple(_code(d) for d in getattr(node, "decorator_list", ()))
        name = getattr(node, "name", "<lambda>")
        return Function(node, scope, name, defaults, kw_defaults, tuple(d.split("(")[0].rpartition(".")[2]
                                                                        for d in decorators))

    def call(self, function: Any, args: list[Any], kwargs: dict[str, Any], node: ast.AST) -> Any:
        if isinstance(function, Unknown):
            return function
        if isinstance(function, Function):
            return self.call_function(function, args, kwargs, node)
        if isinstance(function, Bound):
            if isinstance(function.function, Function):
                return self.call_function(function.function, [function.owner, *args], kwargs, node)
            return self.call(function.function, [function.owner, *args], kwargs, node)
        if isinstance(function, ClassObj):
            return self.world.instantiate(function, args, kwargs, self.where(node))
        if isinstance(function, _python.Builtin):
            try:
                return function(args, kwargs, node)
            except (IndexError, KeyError):  # (builtins read their arguments by position)
                raise self.error(f"{function.name}() is missing arguments", node) from None
        return self.world.call(function, args, kwargs, self.where(node))

    def call_function(self, function: Function, args: list[Any], kwargs: dict[str, Any], node: ast.AST) -> Any:
        if self.depth >= MAX_CALL_DEPTH:
            raise self.error(f"functions call each other more than {MAX_CALL_DEPTH} deep (a recursion that does "
                             f"not end?) in {function.name}()", node)
        from .interpreter import Frame, Scope

        scope = Scope(function.scope)
        _bind_arguments(self, function, args, kwargs, scope, node)
        self.depth += 1
        self.frames.append(Frame(function, args[0] if args else None))
        try:
            if isinstance(function.node, ast.Lambda):
                result = self.eval(function.node.body, scope)
            else:
                _declare(function.node, scope)
                try:
                    self.block(function.node.body, scope)
                    result = None
                except _Return as returned:
                    result = returned.value
            frame = self.frames[-1]
            return frame.uncertain if frame.uncertain is not None else result
        finally:
            self.frames.pop()
            self.depth -= 1

    def current_method(self) -> tuple[ClassObj, Any] | None:
        """The class and ``self`` of the method running, for ``super()``."""
        for frame in reversed(self.frames):
            if frame.function is not None and frame.function.cls is not None:
                return frame.function.cls, frame.first
        return None

    # ---- truth and iteration -------------------------------------------------------------

    def truth(self, value: Any, node: ast.AST) -> bool | Unknown:
        if isinstance(value, Unknown):
            return value
        if _python.is_plain(value) or isinstance(value, (list, tuple, dict, range, set)):
            return bool(value)
        if isinstance(value, (Function, Bound, ClassObj, Instance, _python.Builtin)):
            return True
        if isinstance(value, Lib):
            if is_library(canonical(value.path)):
                return True
            return Unknown(f"'{value.path}' comes from a module that is not in the code", self.where(node))
        return self.world.truth(value, self.where(node))

    def iterate(self, value: Any, node: ast.AST) -> list[Any] | Unknown:
        if isinstance(value, Unknown):
            return value
        if isinstance(value, (list, tuple, str)):
            return list(value)
        if isinstance(value, dict):
            return list(value)
        if isinstance(value, range):
            _python.check_size(_python.range_size(value), self, node)
            return list(value)
        if isinstance(value, set):
            return list(value)
        return self.world.iterate(value, self.where(node))



def _bind_arguments(interp: Interpreter, function: Function, args: list[Any], kwargs: dict[str, Any],
                    scope: Scope, node: ast.AST) -> None:
    """Python's rules for matching a call's arguments to a function's parameters."""
    spec = function.node.args
    positional = [*spec.posonlyargs, *spec.args]
    names = [a.arg for a in positional]
    given = dict(zip(names, args))
    extra = list(args[len(names):])
    if extra and spec.vararg is None:
        raise interp.error(f"{function.name}() takes {len(names)} positional arguments but {len(args)} were given",
                           node)
    rest: dict[str, Any] = {}
    keyword_names = set(names[len(spec.posonlyargs):]) | {a.arg for a in spec.kwonlyargs}
    for key, value in kwargs.items():
        if key in keyword_names:
            if key in given:
                raise interp.error(f"{function.name}() got multiple values for argument '{key}'", node)
            given[key] = value
        elif spec.kwarg is not None:
            rest[key] = value
        else:
            raise interp.error(f"{function.name}() got an unexpected keyword argument '{key}'", node)
    defaults = dict(zip(names[len(names) - len(function.defaults):], function.defaults))
    for name in names:
        if name not in given:
            if name not in defaults:
                raise interp.error(f"{function.name}() is missing its argument '{name}'", node)
            given[name] = defaults[name]
    for arg in spec.kwonlyargs:
        if arg.arg not in given:
            if arg.arg not in function.kw_defaults:
                raise interp.error(f"{function.name}() is missing its keyword argument '{arg.arg}'", node)
            given[arg.arg] = function.kw_defaults[arg.arg]
    scope.vars.update(given)
    if spec.vararg is not None:
        scope.vars[spec.vararg.arg] = tuple(extra)
    if spec.kwarg is not None:
        scope.vars[spec.kwarg.arg] = rest


def _declare(node: ast.FunctionDef, scope: Scope) -> None:
    """``global`` and ``nonlocal`` apply to the whole function, wherever they are written."""
    for statement in ast.walk(node):
        if isinstance(statement, ast.Global):
            scope.globals.update(statement.names)
        elif isinstance(statement, ast.Nonlocal):
            scope.nonlocals.update(statement.names)


