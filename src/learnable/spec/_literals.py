"""Argument values of the compact form, read from the syntax tree without running code.

Literals (numbers, strings, tuples, lists, dicts, True/False/None) and exact arithmetic on
integers such as ``64 * 7 * 7``, ``d // heads``, ``2 ** 10``, ``d / heads`` and ``n / 8 * 16``
are computed with fractions.Fraction, so a fraction on the way costs nothing; a result that is
not a whole number (``7 / 2``, ``2 ** -1``) is a Quotient, which a rate takes and a size refuses,
showing the arithmetic. Anything else (``tf.nn.relu``, ``HeNormal()``) is kept as opaque text,
acceptable only where it cannot change a count (an activation).
"""

from __future__ import annotations

import ast
import copy
import operator
import warnings
from collections.abc import Mapping
from fractions import Fraction
from typing import Any

from ..errors import Location, SpecError
from ..rules._args import LayerCall, Opaque, Quotient


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
        if isinstance(operand, Quotient):  # -(1 / 2) stays exact
            return _value(operand.exact if isinstance(node.op, ast.UAdd) else -operand.exact, node, where, names)
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


def _exact(value: Any) -> int | Fraction | None:
    """An operand of exact arithmetic: an integer, or a fraction an earlier ``/`` or ``**`` gave."""
    if isinstance(value, Quotient):
        return value.exact
    return value if isinstance(value, int) and not isinstance(value, bool) else None


_OPERATORS = (ast.Add, ast.Sub, ast.Mult, ast.FloorDiv, ast.Div, ast.Pow)
_APPLY = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
          ast.FloorDiv: operator.floordiv, ast.Div: operator.truediv}


def _arithmetic(node: ast.BinOp, where: Location, names: Mapping[str, Any] | None) -> Any:
    """Exact rational arithmetic: ``n / 8 * 16`` is 8 for n = 4, whatever the fraction on the way."""
    a, b = _exact(literal(node.left, where, names)), _exact(literal(node.right, where, names))
    if a is None or b is None:
        return Opaque(ast.unparse(node))
    if isinstance(node.op, (ast.FloorDiv, ast.Div)) and b == 0:
        raise SpecError(f"division by zero in {ast.unparse(node)!r}", where)
    if isinstance(node.op, ast.Pow):
        result = _power(a, b, node, where)
    else:
        result = _APPLY[type(node.op)](Fraction(a) if isinstance(node.op, ast.Div) else a, b)
    return _value(result, node, where, names)


def _power(a: int | Fraction, b: int | Fraction, node: ast.expr, where: Location) -> int | Fraction:
    text = ast.unparse(node)
    if b.denominator != 1:
        raise SpecError(f"{text!r} has an exponent that is not a whole number", where)
    if a == 0 and b < 0:
        raise SpecError(f"division by zero in {text!r}", where)
    bits = max(abs(a.numerator).bit_length(), a.denominator.bit_length()) - 1
    if bits and abs(b) * bits > _MAX_INT.bit_length():  # before computing it
        grows = (abs(a) > 1) == (b > 0)  # 2 ** 200 grows; 2 ** -200 and (1 / 3) ** 100 shrink
        raise SpecError(f"{text!r} is {'too large' if grows else 'too fine a fraction'}", where)
    return Fraction(a) ** int(b) if b < 0 else a ** int(b)  # 2 ** -1 is the fraction 1/2


def _value(result: int | Fraction, node: ast.expr, where: Location, names: Mapping[str, Any] | None) -> Any:
    """A whole result as an int; any other as a Quotient showing the arithmetic."""
    if abs(result.numerator) > _MAX_INT:
        raise SpecError(f"{ast.unparse(node)!r} is too large", where)
    if result.denominator > _MAX_INT:
        raise SpecError(f"{ast.unparse(node)!r} is too fine a fraction", where)
    if result.denominator == 1:
        return int(result)
    text, values = ast.unparse(node), ast.unparse(_ValuesOf(names or {}).visit(copy.deepcopy(node)))
    shown = text if values == text else f"{text} = {values}"
    divides = any(isinstance(n, ast.Div) for n in ast.walk(node))
    why = "not a whole number" + (" (// rounds down)" if divides else "")
    return Quotient(result, f"{shown} = {float(result):g}", why)


class _ValuesOf(ast.NodeTransformer):
    """``d / heads`` as ``768 / 7``: the parameters' values, to show the arithmetic."""

    def __init__(self, names: Mapping[str, Any]):
        self.names = names

    def visit_Name(self, node: ast.Name) -> ast.expr:
        value = self.names.get(node.id)
        if isinstance(value, Quotient):  # a fraction a parameter holds, by its value
            return ast.Constant(float(value))
        return ast.Constant(value) if _is_number(value) else node


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
