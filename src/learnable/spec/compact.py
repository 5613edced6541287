"""The compact form: layers as Python call syntax, parsed with ``ast`` and never executed.

    Input(28, 28, 1) | Conv2D(32, 3, activation='relu') | MaxPooling2D(2) | Flatten() | Dense(10)

Layers are separated by ``|``, commas or new lines. The body of a real
``keras.Sequential([...])`` or ``nn.Sequential(...)`` pastes as it is, with module prefixes
(``layers.``, ``keras.layers.``, ``nn.``), ``model.add(...)`` lines and imports.
Argument values are literals (numbers, strings, tuples, lists, True/False/None) and
integer arithmetic such as ``64 * 7 * 7``; anything else (``tf.nn.relu``) is kept as
opaque text, acceptable only where it cannot change a count (an activation).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from typing import Any

from ..errors import Location, SpecError
from ..rules._args import Opaque
from .model import LayerSpec, ModelSpec, split_graph_keys

_MAX_INT = 10**40  # arithmetic in arguments stays far below this; larger is a mistake
_SEQUENTIAL = "Sequential"


def parse_compact(text: str, source: str | None = None) -> ModelSpec:
    tree = _parse(text, source)
    model_name: list[str] = []
    calls = list(_calls_in_module(tree, source, model_name))
    if not calls:
        raise SpecError("no layers found: expected layer calls such as Input(28, 28, 1) | Dense(10)", Location(source))
    layers = tuple(_layer(call, i, source) for i, call in enumerate(calls, start=1))
    return ModelSpec(layers=layers, name=model_name[0] if model_name else None, source=source)


def parse_call(text: str, location: Location | None, index: int) -> LayerSpec:
    """One layer written as a call, e.g. a YAML item ``"Conv2D(32, 3, name='c1')"``."""
    tree = _parse(text, location.source if location else None)
    calls = list(_calls_in_module(tree, None, []))
    if len(calls) != 1:
        raise SpecError(f"expected one layer, found {len(calls)} in {text!r}", location)
    spec = _layer(calls[0], index, None)
    return LayerSpec(spec.type, spec.args, spec.kwargs, spec.name, spec.inputs, location, index)


def _parse(text: str, source: str | None) -> ast.Module:
    try:
        return ast.parse(text, mode="exec")
    except SyntaxError as err:
        where = Location(source, err.lineno, err.offset)
        raise SpecError(f"not a list of layer calls: {err.msg}", where) from None
    except (ValueError, MemoryError, RecursionError) as err:  # NUL bytes, absurd nesting
        raise SpecError(f"not a list of layer calls: {err}", Location(source)) from None


def _calls_in_module(tree: ast.Module, source: str | None, model_name: list[str]) -> Iterator[ast.expr]:
    for statement in tree.body:
        if isinstance(statement, (ast.Import, ast.ImportFrom)):
            continue  # pasted code often starts with its imports
        if isinstance(statement, ast.Expr):
            yield from _flatten(statement.value, source, model_name)
        elif isinstance(statement, ast.Assign) and _is_sequential(statement.value):
            yield from _flatten(statement.value, source, model_name)
        else:
            raise SpecError(
                f"expected layer calls, found a {type(statement).__name__} statement",
                _where(statement, source),
            )


def _flatten(node: ast.expr, source: str | None, model_name: list[str]) -> Iterator[ast.expr]:
    """Yield the layer calls inside ``a | b``, ``a, b``, ``[a, b]`` and Sequential(...)."""
    if _is_pipe(node):
        rights = []
        while _is_pipe(node):  # a | b | c nests to the left: walk it without recursion
            rights.append(node.right)
            node = node.left
        for part in (node, *reversed(rights)):
            yield from _flatten(part, source, model_name)
    elif isinstance(node, (ast.Tuple, ast.List)):
        for element in node.elts:
            yield from _flatten(element, source, model_name)
    elif _is_sequential(node):
        for keyword in node.keywords:
            if keyword.arg == "name" and isinstance(keyword.value, ast.Constant):
                model_name.append(str(keyword.value.value))
        for arg in node.args:
            yield from _flatten(arg, source, model_name)
    elif isinstance(node, ast.Call) and _dotted(node.func).endswith(".add") and len(node.args) == 1:
        yield from _flatten(node.args[0], source, model_name)  # model.add(Dense(10))
    elif isinstance(node, (ast.Call, ast.Name, ast.Attribute)):
        yield node
    else:
        raise SpecError(f"expected a layer call such as Dense(10), found {ast.unparse(node)!r}", _where(node, source))


def _is_pipe(node: ast.AST) -> bool:
    return isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr)


def _is_sequential(node: ast.AST) -> bool:
    return isinstance(node, ast.Call) and _dotted(node.func).rpartition(".")[2] == _SEQUENTIAL


def _dotted(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        head = _dotted(node.value)
        return f"{head}.{node.attr}" if head else ""
    return ""


def _where(node: ast.AST, source: str | None) -> Location:
    return Location(source, getattr(node, "lineno", None), getattr(node, "col_offset", -1) + 1 or None)


def _layer(node: ast.expr, index: int, source: str | None) -> LayerSpec:
    where = _where(node, source)
    if not isinstance(node, ast.Call):
        return LayerSpec(type=_type_name(node, where), location=where, index=index)
    if isinstance(node.func, ast.Call):
        raise SpecError(
            "functional-API calls such as Dense(10)(x) are not supported in the compact form; "
            "write a YAML spec with 'inputs:' for a graph",
            where,
        )
    args = tuple(_value(a, where) for a in node.args)
    kwargs: dict[str, Any] = {}
    for keyword in node.keywords:
        if keyword.arg is None:
            raise SpecError("**kwargs cannot be read in the compact form; write the arguments out", where)
        kwargs[keyword.arg] = _value(keyword.value, where)
    name, inputs = split_graph_keys(kwargs, where)
    return LayerSpec(_type_name(node.func, where), args, kwargs, name, inputs, where, index)


def _type_name(node: ast.expr, where: Location) -> str:
    name = _dotted(node)
    if not name:
        raise SpecError(f"expected a layer type name, found {ast.unparse(node)!r}", where)
    return name


def _value(node: ast.expr, where: Location) -> Any:
    """A literal argument value, computed without evaluating any code."""
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, (ast.Tuple, ast.List)):
        items = [_value(e, where) for e in node.elts]
        return tuple(items) if isinstance(node, ast.Tuple) else items
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        operand = _value(node.operand, where)
        if _is_number(operand):
            return -operand if isinstance(node.op, ast.USub) else operand
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub, ast.Mult, ast.FloorDiv)):
        return _arithmetic(node, where)
    if isinstance(node, ast.Starred):
        raise SpecError("*args cannot be read in the compact form; write the arguments out", where)
    return Opaque(ast.unparse(node))


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _arithmetic(node: ast.BinOp, where: Location) -> Any:
    left, right = _value(node.left, where), _value(node.right, where)
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in (left, right)):
        return Opaque(ast.unparse(node))
    if isinstance(node.op, ast.FloorDiv) and right == 0:
        raise SpecError(f"division by zero in {ast.unparse(node)!r}", where)
    result = {ast.Add: int.__add__, ast.Sub: int.__sub__, ast.Mult: int.__mul__,
              ast.FloorDiv: int.__floordiv__}[type(node.op)](left, right)
    if abs(result) > _MAX_INT:
        raise SpecError(f"{ast.unparse(node)!r} is too large", where)
    return result
