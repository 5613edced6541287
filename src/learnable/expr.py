"""Exact integer expressions that render their own arithmetic.

A count in learnable is never a bare number: it is an expression such as
``3×3×32×64 + 64`` whose value is computed from the very tree that prints it, so the
explanation a user reads cannot drift from the number. Values are Python ints, exact at
any size; there is no float anywhere.

Each literal may carry a symbol (``k_h``, ``C_in``, ``filters``) so the same expression
can also print as the general formula of its rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import prod

# Binding strength, for deciding where parentheses are needed.
_SUM, _PRODUCT, _ATOM = 1, 2, 3


class Expr:
    """An exact integer expression. Subclasses are immutable."""

    __slots__ = ()
    value: int
    precedence: int

    def render(self, *, symbolic: bool = False) -> str:
        raise NotImplementedError

    def __str__(self) -> str:
        return self.render()

    def _child(self, child: Expr, symbolic: bool, strength: int) -> str:
        text = child.render(symbolic=symbolic)
        return f"({text})" if child.precedence < strength else text


@dataclass(frozen=True, slots=True)
class Num(Expr):
    """A literal, optionally named by a symbol such as ``filters``."""

    value: int
    symbol: str | None = None
    precedence = _ATOM

    def render(self, *, symbolic: bool = False) -> str:
        if symbolic and self.symbol:
            return self.symbol
        return f"{self.value:,}"


@dataclass(frozen=True, slots=True)
class Product(Expr):
    factors: tuple[Expr, ...]
    precedence = _PRODUCT

    @property
    def value(self) -> int:
        return prod(f.value for f in self.factors)

    def render(self, *, symbolic: bool = False) -> str:
        return "×".join(self._child(f, symbolic, _ATOM) for f in self.factors)


@dataclass(frozen=True, slots=True)
class Difference(Expr):
    """``left − right``, as in an output size ``28 − 3 + 1``."""

    left: Expr
    right: Expr
    precedence = _SUM

    @property
    def value(self) -> int:
        return self.left.value - self.right.value

    def render(self, *, symbolic: bool = False) -> str:
        left = self._child(self.left, symbolic, _SUM)
        return f"{left} − {self._child(self.right, symbolic, _PRODUCT)}"


# How a Division rounds, and the brackets that say so.
EXACT, FLOOR, CEIL = "exact", "floor", "ceil"
_BRACKETS = {EXACT: ("(", ")"), FLOOR: ("⌊", "⌋"), CEIL: ("⌈", "⌉")}


@dataclass(frozen=True, slots=True)
class Division(Expr):
    """``(32/8)`` channels per group (exact: it never rounds), or ``⌊a/b⌋`` / ``⌈a/b⌉`` in
    the shape formulas. Always bracketed, so ``3×3×(32/8)×64`` reads unambiguously."""

    numerator: Expr
    denominator: Expr
    rounding: str = EXACT
    precedence = _ATOM

    def __post_init__(self) -> None:
        if self.denominator.value <= 0:
            raise ValueError(f"division by {self.denominator}")
        if self.rounding == EXACT and self.numerator.value % self.denominator.value:
            raise ValueError(f"{self.numerator}/{self.denominator} is not an exact integer")

    @property
    def value(self) -> int:
        quotient, remainder = divmod(self.numerator.value, self.denominator.value)
        return quotient + 1 if self.rounding == CEIL and remainder else quotient

    def render(self, *, symbolic: bool = False) -> str:
        num = self._child(self.numerator, symbolic, _ATOM)
        den = self._child(self.denominator, symbolic, _ATOM)
        left, right = _BRACKETS[self.rounding]
        return f"{left}{num}/{den}{right}"


@dataclass(frozen=True, slots=True)
class Sum(Expr):
    terms: tuple[Expr, ...]
    precedence = _SUM

    @property
    def value(self) -> int:
        return sum(t.value for t in self.terms)

    def render(self, *, symbolic: bool = False) -> str:
        if not self.terms:
            return "0"
        return " + ".join(self._child(t, symbolic, _SUM) for t in self.terms)


def num(value: int, symbol: str | None = None) -> Num:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"an expression literal must be an int, got {value!r}")
    return Num(value, symbol)


def as_expr(value: Expr | int) -> Expr:
    return value if isinstance(value, Expr) else num(value)


def product(*factors: Expr | int) -> Expr:
    """The product of the factors; a single factor is returned as it is, none is 1 (a scalar)."""
    items = tuple(as_expr(f) for f in factors)
    if not items:
        return num(1)
    return items[0] if len(items) == 1 else Product(items)


def total(*terms: Expr | int) -> Expr:
    """The sum of the terms; a single term is returned as it is, none is 0."""
    items = tuple(as_expr(t) for t in terms)
    if not items:
        return num(0)
    return items[0] if len(items) == 1 else Sum(items)


def quotient(numerator: Expr | int, denominator: Expr | int) -> Expr:
    """``numerator / denominator``, simplified to the numerator when dividing by one."""
    return _divide(numerator, denominator, EXACT)


def minus(left: Expr | int, right: Expr | int) -> Expr:
    return Difference(as_expr(left), as_expr(right))


def floor_div(numerator: Expr | int, denominator: Expr | int) -> Expr:
    """``⌊a/b⌋``, simplified to ``a`` when dividing by one."""
    return _divide(numerator, denominator, FLOOR)


def ceil_div(numerator: Expr | int, denominator: Expr | int) -> Expr:
    """``⌈a/b⌉``, simplified to ``a`` when dividing by one."""
    return _divide(numerator, denominator, CEIL)


def _divide(numerator: Expr | int, denominator: Expr | int, rounding: str) -> Expr:
    den = as_expr(denominator)
    return as_expr(numerator) if den.value == 1 else Division(as_expr(numerator), den, rounding)


def equation(expr: Expr) -> str:
    """``3×3×32×64 + 64 = 18,496``; a bare literal is shown once: ``64``."""
    text = expr.render()
    if isinstance(expr, Num):
        return text
    return f"{text} = {expr.value:,}"
