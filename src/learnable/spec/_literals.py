"""Argument values of the compact form, read from the syntax tree without running code.

Literals (numbers, strings, tuples, lists, dicts, True/False/None) and integer arithmetic such as
``64 * 7 * 7``, ``d // heads``, ``2 ** 10`` and ``d / heads`` are computed (a ``/`` whose result is
not a whole number is a fraction, which a rate takes and a size refuses, showing the arithmetic); anything else (``tf.nn.relu``, ``HeNormal()``) is kept as
opaque text, acceptable only where it cannot change a count (an activation).
"""

from __future__ import annotations

import ast
import warnings
from collections.abc import Mapping
from typing import Any, Self

from ..errors import Location, SpecError
from ..rules._args import LayerCall, Opaque


def quiet_parse(text: str, mode: str) -> ast.AST:
    """ast.parse without its SyntaxWarnings ("invalid decimal literal" for ``1if``), which
    Python prints to stderr: learnable reports on the text itself, in one line."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SyntaxWarning)
        return ast.parse(text, mode=mode)


_MAX_INT = 10**40  # arithmetic in arguments stays far below this; larger is a mistake


def literal(node: ast.expr, where: Location, names: Mapping[str, Any] | None = None) -> Any:
    """A literal argument value, computed without evaluating any code. ``names`` are the
    parameters of the block being expanded, the only names an expression may use."""
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name) and names and node.id in names:
        return names[node.id]
    if isinstance(node, (ast.Tuple, ast.List)):
        items = [literal(e, where, names) for e in node.elts]
        return tuple(items) if isinstance(node, ast.Tuple) else items
    if isinstance(node, ast.Dict) and all(isinstance(k, ast.Constant) for k in node.keys):
        return {k.value: literal(v, where, names) for k, v in zip(node.keys, node.values)}  # Rearrange's sizes
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        operand = literal(node.operand, where, names)
        if _is_number(operand):
            return -operand if isinstance(node.op, ast.USub) else operand
    if isinstance(node, ast.BinOp) and isinstance(node.op, _OPERATORS):
        return _arithmetic(node, where, names)
    if isinstance(node, ast.Starred):
        raise SpecError("*args cannot be read in the compact form; write the arguments out", where)
    if isinstance(node, ast.Call) and dotted(node.func) and all(k.arg for k in node.keywords):
        # A layer as an argument, Bidirectional(LSTM(64)); elsewhere (an initializer) it
        # stays a value that only an argument taking layers will accept.
        return LayerCall(dotted(node.func), tuple(literal(a, where, names) for a in node.args),
                         tuple((k.arg, literal(k.value, where, names)) for k in node.keywords))
    return Opaque(ast.unparse(node))


def dotted(node: ast.AST) -> str:
    """``keras.layers.Dense`` for a name or attribute chain, else ""."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        head = dotted(node.value)
        return f"{head}.{node.attr}" if head else ""
    return ""


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


class Quotient(float):
    """A ``/`` whose result is no whole number: a fraction where one is wanted (``Dropout(1 / 2)``);
    where a size is wanted the argument refuses it, and its text shows the arithmetic
    (``got d / heads = 768 / 7 = 109.714, not a whole number``)."""

    def __new__(cls, left: int, right: int, text: str) -> Self:
        quotient = super().__new__(cls, left / right)
        values = "" if text == f"{left} / {right}" else f" = {left} / {right}"
        quotient.text = f"{text}{values} = {left / right:g}, not a whole number (// rounds down)"
        return quotient

    def __str__(self) -> str:
        return self.text

    __repr__ = __str__


def _divide(left: int, right: int, text: str) -> int | Quotient:
    """``/`` on sizes: d / heads is a size when heads divides d."""
    return Quotient(left, right, text) if left % right else left // right


def _power(left: int, right: int, text: str, where: Location) -> int:
    if right < 0:
        raise SpecError(f"{text!r} has a negative exponent, so it is not a whole number", where)
    if abs(left) > 1 and right * (abs(left).bit_length() - 1) > _MAX_INT.bit_length():  # before computing it
        raise SpecError(f"{text!r} is too large", where)
    return left**right


_OPERATORS = (ast.Add, ast.Sub, ast.Mult, ast.FloorDiv, ast.Div, ast.Pow)


def _arithmetic(node: ast.BinOp, where: Location, names: Mapping[str, Any] | None) -> Any:
    left, right = literal(node.left, where, names), literal(node.right, where, names)
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in (left, right)):
        return Opaque(ast.unparse(node))
    text = ast.unparse(node)
    if isinstance(node.op, (ast.FloorDiv, ast.Div)) and right == 0:
        raise SpecError(f"division by zero in {text!r}", where)
    if isinstance(node.op, ast.Div):
        return _divide(left, right, text)
    elif isinstance(node.op, ast.Pow):
        result = _power(left, right, text, where)
    else:
        result = {ast.Add: int.__add__, ast.Sub: int.__sub__, ast.Mult: int.__mul__,
                  ast.FloorDiv: int.__floordiv__}[type(node.op)](left, right)
    if abs(result) > _MAX_INT:
        raise SpecError(f"{text!r} is too large", where)
    return result


def evaluate(text: str, where: Location, names: Mapping[str, Any]) -> Any:
    """``filters * 4`` with the block's parameters; Opaque when it is not such an expression."""
    try:
        tree = quiet_parse(text.strip(), "eval")
    except (SyntaxError, ValueError):
        return Opaque(text)
    return literal(tree.body, where, names)


def call_value(text: str, where: Location) -> Any:
    """A YAML string written as a call, ``"LSTM(32)"``, as the compact form reads it (a
    layer given as an argument); any other string stays a string."""
    stripped = text.strip()
    if "(" not in stripped or not stripped.endswith(")"):
        return text
    try:
        tree = quiet_parse(stripped, "eval")
    except (SyntaxError, ValueError):
        return text
    if not (isinstance(tree.body, ast.Call) and dotted(tree.body.func)):
        return text
    return literal(tree.body, where)
