"""A reader of the Python that model code is written in: statements and expressions
evaluated over values the reader understands, with nothing ever executed.

The subset is what model definitions use: assignments, arithmetic, ``if``/``for``/``while``,
comprehensions, functions with defaults, ``*args`` and ``**kwargs``, classes with methods,
``return``. Python's own values (ints, strings, lists, dicts) are used as they are; what the
code does with a framework object (a layer, a tensor, a module) is the world's to say
(``reader.py``): calls, attributes, operators and subscripts on those are passed to it.

What the code does not determine is :class:`Unknown`. A branch or loop that depends on such
a value is not taken; every name and attribute it would have set becomes Unknown, with the
reason, so a count that needs one of them is refused with that reason, never guessed.

Work is bounded: a step budget (every statement and expression), a call depth, and sizes of
numbers, strings and lists, each refused with a message that says which limit and where.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterable
from typing import Any

from .._text import with_article
from ..errors import LearnableError, Location, SpecError
from . import _python
from ._expressions import MAX_CALL_DEPTH, Expressions, _Return
from ._syntax import assigned_targets, code_of, has_jump, sets_training
from .values import ClassObj, Function, Instance, Lib, Unknown

MAX_STEPS = 3_000_000  # statements and expressions evaluated; a 100-line model takes a few thousand


class _Break(Exception):
    pass


class _Continue(Exception):
    pass


class Scope:
    """The names of a module, a function call, a class body or a comprehension."""

    __slots__ = ("vars", "parent", "is_class", "globals", "nonlocals")

    def __init__(self, parent: Scope | None = None, is_class: bool = False):
        self.vars: dict[str, Any] = {}
        self.parent = parent
        self.is_class = is_class
        self.globals: set[str] = set()
        self.nonlocals: set[str] = set()

    def lookup(self, name: str) -> Any:
        scope: Scope | None = self
        first = True
        while scope is not None:
            if (first or not scope.is_class) and name in scope.vars:
                return scope.vars[name]
            first = False
            scope = scope.parent
        raise KeyError(name)

    def module(self) -> Scope:
        scope = self
        while scope.parent is not None:
            scope = scope.parent
        return scope

    def assign(self, name: str, value: Any) -> None:
        if name in self.globals:
            self.module().vars[name] = value
        elif name in self.nonlocals:
            scope = self.parent
            while scope is not None and (scope.is_class or name not in scope.vars):
                scope = scope.parent
            (scope or self).vars[name] = value
        else:
            self.vars[name] = value


class Frame:
    """One function call: set when a ``return`` was skipped under an unknown condition, so
    the call's result is not known either."""

    __slots__ = ("uncertain", "function", "first")

    def __init__(self, function: Function | None = None, first: Any = None) -> None:
        self.uncertain: Unknown | None = None
        self.function = function  # the function running (for super(): its class and self)
        self.first = first


class Interpreter(Expressions):
    """Evaluates one module's syntax tree. ``world`` gives framework objects their meaning."""

    def __init__(self, world: Any, source: str | None, text: str):
        self.world = world
        self.source = source
        self.lines = text.splitlines()
        self.steps = 0
        self.depth = 0
        self.frames: list[Frame] = [Frame()]
        self.loops: list[ast.For | ast.While] = []  # the loops being run, innermost last
        self.builtins = _python.builtins(self)

    # ---- places and errors ---------------------------------------------------------------

    def where(self, node: ast.AST | Location | None) -> Location:
        if isinstance(node, Location):  # a place the world already knows (a call it makes itself)
            return node
        line = getattr(node, "lineno", None)
        offset = getattr(node, "col_offset", None)
        column = None
        if line is not None and offset is not None and 0 < line <= len(self.lines):
            # ast counts columns in UTF-8 bytes; a user counts characters
            column = len(self.lines[line - 1].encode()[:offset].decode(errors="ignore")) + 1
        return Location(self.source, line, column)

    def error(self, message: str, node: ast.AST | None) -> SpecError:
        return SpecError(message, self.where(node))

    def refuse(self, node: ast.AST, what: str, remedy: str) -> SpecError:
        code = code_of(node)
        return self.error(f"{what} ({code}) is not read: {remedy}", node)

    def tick(self, node: ast.AST) -> None:
        self.charge(1, node)

    def charge(self, steps: int, node: ast.AST) -> None:
        self.steps += steps
        if self.steps > MAX_STEPS:
            raise self.error(f"reading the code takes more than {MAX_STEPS:,} steps (a loop that runs too long?); "
                             "learnable reads model code, not training loops over data", node)

    # ---- the module ----------------------------------------------------------------------

    def run(self, tree: ast.Module, scope: Scope) -> None:
        try:
            self.block(tree.body, scope)
        except _Return:
            pass
        except (_Break, _Continue):
            pass

    def block(self, statements: Iterable[ast.stmt], scope: Scope) -> None:
        for statement in statements:
            self.tick(statement)
            handler = self._STATEMENTS.get(type(statement))
            if handler is None:
                raise self.refuse(statement, f"{with_article(type(statement).__name__)} statement",
                                  "rewrite it with assignments, if, for, def and class")
            handler(self, statement, scope)

    # ---- statements ----------------------------------------------------------------------

    def _expr_statement(self, node: ast.Expr, scope: Scope) -> None:
        if isinstance(node.value, ast.Constant):  # a docstring
            return
        self.eval(node.value, scope)

    def _assign(self, node: ast.Assign, scope: Scope) -> None:
        value = self.eval(node.value, scope)
        for target in node.targets:
            self.bind(target, value, scope)

    def _ann_assign(self, node: ast.AnnAssign, scope: Scope) -> None:
        if node.value is not None:
            self.bind(node.target, self.eval(node.value, scope), scope)
        elif scope.is_class and isinstance(node.target, ast.Name):  # a dataclass field without a default
            scope.vars.setdefault("__annotations_order__", []).append(node.target.id)

    def _aug_assign(self, node: ast.AugAssign, scope: Scope) -> None:
        current = self.eval(node.target, scope)  # (the handlers read a Store target as a Load)
        value = self.in_place(node.op, current, self.eval(node.value, scope), node)
        self.bind(node.target, value, scope)

    def _if(self, node: ast.If, scope: Scope) -> None:
        test = self.truth(self.eval(node.test, scope), node.test)
        if isinstance(test, Unknown):
            self.skip([*node.body, *node.orelse], scope, test, node.test)
        elif test:
            self.block(node.body, scope)
        else:
            self.block(node.orelse, scope)

    def _for(self, node: ast.For, scope: Scope) -> None:
        items = self.iterate(self.eval(node.iter, scope), node.iter)
        if isinstance(items, Unknown):
            self.skip([node], scope, items, node.iter, loop_target=node.target)
            return
        broke = False
        self.loops.append(node)
        try:
            for item in items:
                self.tick(node)
                self.bind(node.target, item, scope)
                try:
                    self.block(node.body, scope)
                except _Break:
                    broke = True
                    break
                except _Continue:
                    continue
        finally:
            self.loops.pop()
        if not broke:
            self.block(node.orelse, scope)

    def _while(self, node: ast.While, scope: Scope) -> None:
        self.loops.append(node)
        try:
            self._loop(node, scope)
        finally:
            self.loops.pop()

    def _loop(self, node: ast.While, scope: Scope) -> None:
        while True:
            test = self.truth(self.eval(node.test, scope), node.test)
            if isinstance(test, Unknown):
                self.skip([node], scope, test, node.test)
                return
            if not test:
                self.block(node.orelse, scope)
                return
            self.tick(node)
            try:
                self.block(node.body, scope)
            except _Break:
                return
            except _Continue:
                continue

    def _with(self, node: ast.With, scope: Scope) -> None:
        for item in node.items:  # torch.no_grad(), a strategy scope: nothing that changes a count
            value = self.eval(item.context_expr, scope)
            if item.optional_vars is not None:
                self.bind(item.optional_vars, Unknown(f"the value of `with {code_of(item.context_expr)}`",
                                                     self.where(item.context_expr)) if not isinstance(value, Unknown)
                          else value, scope)
        self.block(node.body, scope)

    def _try(self, node: ast.Try, scope: Scope) -> None:
        # The body is read; handlers are for errors that reading never raises.
        try:
            self.block(node.body, scope)
            self.block(node.orelse, scope)
        finally:
            self.block(node.finalbody, scope)

    def _return(self, node: ast.Return, scope: Scope) -> None:
        value = None if node.value is None else self.eval(node.value, scope)
        raise _Return(value)

    def _raise(self, node: ast.Raise, scope: Scope) -> None:
        message = code_of(node.exc) if node.exc is not None else "raise"
        raise self.error(f"the code raises an error here ({message}) for the values it was given; check the "
                         "arguments the model is built with", node)

    def _function_def(self, node: ast.FunctionDef, scope: Scope) -> None:
        scope.assign(node.name, self.function(node, scope))

    def _class_def(self, node: ast.ClassDef, scope: Scope) -> None:
        bases = tuple(self.eval(b, scope) for b in node.bases)
        body = Scope(scope, is_class=True)
        self.block(node.body, body)
        namespace = {k: v for k, v in body.vars.items() if k != "__annotations_order__"}
        cls = ClassObj(node.name, bases, namespace, self.where(node))
        for value in namespace.values():
            if isinstance(value, Function):
                value.cls = cls  # for super() in its methods
        decorators = [code_of(d) for d in node.decorator_list]
        if any(d.split("(")[0].rpartition(".")[2] == "dataclass" for d in decorators):
            annotated = [s.target.id for s in node.body if isinstance(s, ast.AnnAssign) and isinstance(s.target, ast.Name)]
            cls.dataclass_fields = tuple(annotated)
        scope.assign(node.name, cls)

    def _import(self, node: ast.Import, scope: Scope) -> None:
        for alias in node.names:
            if alias.asname:
                scope.assign(alias.asname, Lib(alias.name))
            else:
                head = alias.name.split(".")[0]
                scope.assign(head, Lib(head))

    def _import_from(self, node: ast.ImportFrom, scope: Scope) -> None:
        module = "." * node.level + (node.module or "")
        for alias in node.names:
            if alias.name == "*":
                scope.vars.setdefault("__star_imports__", []).append(module)
                continue
            scope.assign(alias.asname or alias.name, Lib(f"{module}.{alias.name}"))

    def _global(self, node: ast.Global, scope: Scope) -> None:
        scope.globals.update(node.names)

    def _nonlocal(self, node: ast.Nonlocal, scope: Scope) -> None:
        scope.nonlocals.update(node.names)

    def _delete(self, node: ast.Delete, scope: Scope) -> None:
        for target in node.targets:
            self._delete_target(target, scope)

    def _delete_target(self, target: ast.expr, scope: Scope) -> None:
        """``del x``, ``del model.aux`` (a module no longer counted), ``del layers[-1]``."""
        if isinstance(target, ast.Name):
            scope.vars.pop(target.id, None)
        elif isinstance(target, (ast.Tuple, ast.List)):
            for element in target.elts:
                self._delete_target(element, scope)
        elif isinstance(target, ast.Attribute):
            owner = self.eval(target.value, scope)
            if isinstance(owner, (Instance, ClassObj)):
                (owner.attrs if isinstance(owner, Instance) else owner.namespace).pop(target.attr, None)
            elif not isinstance(owner, Unknown):
                self.world.delete_attribute(owner, target.attr, self.where(target))
        elif isinstance(target, ast.Subscript):
            owner = self.eval(target.value, scope)
            index = self.eval(target.slice, scope)
            if isinstance(owner, Unknown):
                return
            if isinstance(index, Unknown):
                raise self.error(f"`del {code_of(target)}`: which item is deleted is not known from the code "
                                 f"({index.why})", target)
            if isinstance(owner, (list, dict)):
                _python.delete_item(owner, index, self, target)
            else:
                self.world.delete_item(owner, index, self.where(target))

    def _nothing(self, node: ast.stmt, scope: Scope) -> None:
        pass

    def _break(self, node: ast.stmt, scope: Scope) -> None:
        raise _Break

    def _continue(self, node: ast.stmt, scope: Scope) -> None:
        raise _Continue

    _STATEMENTS: dict[type, Callable[..., None]] = {
        ast.Expr: _expr_statement, ast.Assign: _assign, ast.AnnAssign: _ann_assign, ast.AugAssign: _aug_assign,
        ast.If: _if, ast.For: _for, ast.While: _while, ast.With: _with, ast.Try: _try, ast.Return: _return,
        ast.Raise: _raise, ast.FunctionDef: _function_def, ast.ClassDef: _class_def, ast.Import: _import,
        ast.ImportFrom: _import_from, ast.Global: _global, ast.Nonlocal: _nonlocal, ast.Delete: _delete,
        ast.Pass: _nothing, ast.Assert: _nothing, ast.Break: _break, ast.Continue: _continue,
    }
    if hasattr(ast, "TryStar"):
        _STATEMENTS[ast.TryStar] = _try

    # ---- what an unknown condition leaves ------------------------------------------------

    def skip(self, statements: list[ast.stmt], scope: Scope, why: Unknown, test: ast.AST,
             loop_target: ast.AST | None = None) -> None:
        """Statements not taken because ``why`` is not known: whatever they would have set
        is not known either."""
        reason = Unknown(f"it is set under `{code_of(test)}` (line {getattr(test, 'lineno', '?')}), which is not "
                         f"known from the code ({why.why})", why.where, maybe_module=True)
        freezing = sets_training(statements)
        if freezing is not None:
            self.world.note(f"line {getattr(test, 'lineno', '?')}: `{code_of(test)}` is not known from the code "
                            f"({why.why}), so what it freezes or unfreezes (`{code_of(freezing)}`) is not known; "
                            "the trainable counts leave it out")
        targets = assigned_targets(statements)
        if loop_target is not None:
            targets = [loop_target, *targets]
        for target in targets:
            try:
                self.bind(target, reason, scope, quiet=True)
            except LearnableError:
                pass  # a target that cannot be set (a method's result): nothing to mark
        if has_jump(statements, returns=True):
            self.frames[-1].uncertain = reason
        if self.loops and has_jump(statements, breaks=True):
            # A break or continue not known to be taken: whatever the rest of the loop sets
            # is not known either, and the loop stops here.
            loop = self.loops[-1]
            for target in [*assigned_targets(loop.body), *([loop.target] if isinstance(loop, ast.For) else [])]:
                try:
                    self.bind(target, reason, scope, quiet=True)
                except LearnableError:
                    pass
            raise _Break

    # ---- binding -------------------------------------------------------------------------

    def bind(self, target: ast.AST, value: Any, scope: Scope, quiet: bool = False) -> None:
        if isinstance(target, ast.Name):
            scope.assign(target.id, value)
        elif isinstance(target, (ast.Tuple, ast.List)):
            self._unpack(target, value, scope, quiet)
        elif isinstance(target, ast.Attribute):
            owner = self.eval(target.value, scope)
            self.set_attribute(owner, target.attr, value, target)
        elif isinstance(target, ast.Subscript):
            owner = self.eval(target.value, scope)
            index = self.eval(target.slice, scope)
            self.set_item(owner, index, value, target)
        elif isinstance(target, ast.Starred):
            self.bind(target.value, value, scope, quiet)
        else:
            raise self.refuse(target, "this assignment target", "assign to names, attributes or items")

    def _unpack(self, target: ast.Tuple | ast.List, value: Any, scope: Scope, quiet: bool) -> None:
        names = target.elts
        if isinstance(value, Unknown) or quiet:
            for element in names:
                self.bind(element, value, scope, quiet)
            return
        items = self.iterate(value, target)
        if isinstance(items, Unknown):
            for element in names:
                self.bind(element, items, scope)
            return
        starred = [i for i, e in enumerate(names) if isinstance(e, ast.Starred)]
        if starred:
            i = starred[0]
            after = len(names) - i - 1
            if len(items) < len(names) - 1:
                raise self.error(f"cannot unpack {len(items)} values into {len(names)} names", target)
            parts = [*items[:i], list(items[i:len(items) - after]), *items[len(items) - after:]]
        elif len(items) != len(names):
            raise self.error(f"cannot unpack {len(items)} values into {len(names)} names", target)
        else:
            parts = items
        for element, item in zip(names, parts):
            self.bind(element, item, scope)

    def set_attribute(self, owner: Any, name: str, value: Any, node: ast.AST) -> None:
        if isinstance(owner, Unknown):
            return
        if isinstance(owner, (Instance, ClassObj)):
            (owner.attrs if isinstance(owner, Instance) else owner.namespace)[name] = value
            return
        self.world.set_attribute(owner, name, value, self.where(node))

    def set_item(self, owner: Any, index: Any, value: Any, node: ast.AST) -> None:
        if isinstance(owner, Unknown):
            return
        if isinstance(owner, (list, dict)):
            _python.set_item(owner, index, value, self, node)
            return
        self.world.set_item(owner, index, value, self.where(node))


__all__ = ["MAX_CALL_DEPTH", "Interpreter", "Scope"]
