"""Exact multivariate polynomials with rational coefficients, and interpolation on a grid.

A hand-written type rather than sympy: a count as a formula of a spec's knobs needs only
sums of monomials with :class:`fractions.Fraction` coefficients, evaluation, and a printed
form in the house style (``9w² + 1,234w + 10``). That is a dict of exponent tuples; sympy
would be a heavy optional dependency with its own printing, and the core stays standard
library only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction

_SUPERSCRIPT = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")


@dataclass(frozen=True)
class Polynomial:
    """``sum(coefficient × Π variable^exponent)``: ``terms`` maps an exponent tuple (one
    exponent per name of ``variables``) to a non-zero Fraction."""

    variables: tuple[str, ...]
    terms: Mapping[tuple[int, ...], Fraction]

    @classmethod
    def constant(cls, variables: Sequence[str], value: int | Fraction) -> Polynomial:
        zero = (0,) * len(variables)
        return cls(tuple(variables), {zero: Fraction(value)} if value else {})

    def __call__(self, values: Mapping[str, int | Fraction] | Sequence[int | Fraction]) -> Fraction:
        """The value at a point: ``{"w": 64}`` or the values in the order of ``variables``."""
        point = [values[name] for name in self.variables] if isinstance(values, Mapping) else list(values)
        total = Fraction(0)
        for exponents, coefficient in self.terms.items():
            term = coefficient
            for value, exponent in zip(point, exponents):
                term *= Fraction(value) ** exponent
            total += term
        return total

    def __add__(self, other: Polynomial) -> Polynomial:
        terms = dict(self.terms)
        for exponents, coefficient in other.terms.items():
            terms[exponents] = terms.get(exponents, Fraction(0)) + coefficient
        return Polynomial(self.variables, {e: c for e, c in terms.items() if c})

    def degree(self, name: str) -> int:
        i = self.variables.index(name)
        return max((e[i] for e in self.terms), default=0)

    @property
    def is_constant(self) -> bool:
        return all(not any(e) for e in self.terms)

    def divided_by(self, name: str) -> Polynomial | None:
        """This polynomial over the variable ``name``, when every term holds it; else None."""
        i = self.variables.index(name)
        if not self.terms or any(e[i] == 0 for e in self.terms):
            return None
        return Polynomial(self.variables, {(*e[:i], e[i] - 1, *e[i + 1:]): c for e, c in self.terms.items()})

    def ordered(self) -> list[tuple[tuple[int, ...], Fraction]]:
        """Terms by total degree, highest first, then by the variables' order."""
        return sorted(self.terms.items(), key=lambda item: (-sum(item[0]), [-e for e in item[0]]))

    def __str__(self) -> str:
        if not self.terms:
            return "0"
        glue = "" if all(len(v) == 1 for v in self.variables) else "·"
        text = ""
        for exponents, coefficient in self.ordered():
            sign = "−" if coefficient < 0 else "+"
            body = _term(abs(coefficient), exponents, self.variables, glue)
            text = f"−{body}" if not text and sign == "−" else f"{text} {sign} {body}" if text else body
        return text

    def to_dict(self) -> dict:
        """``{"variables", "terms": [[coefficient, {name: exponent}]], "text"}``: a whole
        coefficient is a JSON integer, any other the string ``"p/q"`` (exact)."""
        terms = [[_json_number(c), {n: x for n, x in zip(self.variables, e) if x}] for e, c in self.ordered()]
        return {"variables": list(self.variables), "terms": terms, "text": str(self)}


def _term(coefficient: Fraction, exponents: tuple[int, ...], variables: tuple[str, ...], glue: str) -> str:
    powers = [name + (str(x).translate(_SUPERSCRIPT) if x > 1 else "") for name, x in zip(variables, exponents) if x]
    monomial = glue.join(powers) if glue else "".join(powers)
    number = f"{coefficient.numerator:,}" + (f"/{coefficient.denominator:,}" if coefficient.denominator != 1 else "")
    if not monomial:
        return number
    if coefficient == 1:
        return monomial
    if coefficient.denominator != 1:
        number = f"({number})"
    return f"{number}{glue}{monomial}"


def _json_number(value: Fraction) -> int | str:
    return value.numerator if value.denominator == 1 else f"{value.numerator}/{value.denominator}"


# ---- interpolation ---------------------------------------------------------------------


def interpolate_1d(xs: Sequence[int], ys: Sequence[Fraction]) -> list[Fraction]:
    """The monomial coefficients c₀ … cₙ of the polynomial of degree ≤ n through the n + 1
    points (Newton's divided differences, then expanded): exact, in Fractions."""
    n = len(xs)
    table = [Fraction(y) for y in ys]
    for level in range(1, n):
        for i in range(n - 1, level - 1, -1):
            table[i] = (table[i] - table[i - 1]) / (xs[i] - xs[i - level])
    coefficients = [Fraction(0)] * n
    for k in range(n - 1, -1, -1):  # Horner on the Newton form: p = a_k + (x − x_k)·p
        shifted = [Fraction(0)] + coefficients[:-1]
        coefficients = [s - xs[k] * c for s, c in zip(shifted, coefficients)]
        coefficients[0] += table[k]
    return coefficients


def interpolate(variables: Sequence[str], axes: Sequence[Sequence[int]],
                values: Mapping[tuple[int, ...], int]) -> Polynomial:
    """The polynomial through ``values`` on the tensor grid ``axes`` (one list of points per
    variable): 1-D interpolation along each axis in turn, which is exact on a product grid."""
    table: dict[tuple[int, ...], Fraction] = {key: Fraction(v) for key, v in values.items()}
    for axis, points in enumerate(axes):
        lines: dict[tuple, dict[int, Fraction]] = {}
        for key, value in table.items():
            lines.setdefault(key[:axis] + key[axis + 1:], {})[key[axis]] = value
        table = {}
        for rest, line in lines.items():
            coefficients = interpolate_1d(list(points), [line[x] for x in points])
            for exponent, coefficient in enumerate(coefficients):
                table[rest[:axis] + (exponent,) + rest[axis:]] = coefficient
    return Polynomial(tuple(variables), {e: c for e, c in table.items() if c})
