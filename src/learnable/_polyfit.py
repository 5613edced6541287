"""Finding the exact polynomial a count is, from the counts themselves.

Why interpolation and not polynomials flowing through the rules: shapes pass through
floor, ceil and max (strides, ``same`` padding, pooling), and a repeat count changes the
network's structure, so a symbolic value type would have to give up at each of them. The
engine's exact integer counts, taken at enough points, fix the polynomial exactly: a
polynomial of degree ≤ d in one variable is fixed by d + 1 values, and in several by their
tensor-product grid. The degree in each variable is found by taking points until the
(d + 1)-th finite differences vanish twice; the fit is then checked at many further points
(random ones across the whole range, its far corner and the spec's own values), so a count
that is not a polynomial (a floor, a max) is caught with a point that shows it, never
returned as a formula.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from math import comb, prod

from .errors import LearnableError
from .polynomial import Polynomial, interpolate, interpolate_1d

MAX_DEGREE = 8  # in each variable: a network's count is rarely past degree 3 (a 3-D input's side)
MAX_VARIABLES = 4
MAX_GRID = 2_000  # counts on the tensor-product grid
CHECKS = 24  # random points the fit is checked at, besides the far corner and the spec's values
# A whole-number range as written on the command line: 1..64, 64..4096:64
_RANGE = re.compile(r"\s*(-?\d{1,12})\s*\.\.\s*(-?\d{1,12})\s*(?::\s*(\d{1,12}))?\s*")

Values = Mapping[Hashable, int]


class SymbolicError(LearnableError):
    """A count that cannot be given as a polynomial over the range asked for, and why."""


@dataclass(frozen=True)
class Axis:
    """One variable: its name, its range lo..hi in steps of ``step``, and the value the
    spec gives it (the others are held there while one's degree is found)."""

    name: str
    lo: int
    hi: int
    step: int
    base: int

    def points(self, n: int) -> list[int]:
        """The first n values of the range (fewer when it has fewer)."""
        return list(range(self.lo, self.hi + 1, self.step)[:n])

    @property
    def size(self) -> int:
        return (self.hi - self.lo) // self.step + 1

    def random(self, rng: random.Random) -> int:
        return self.lo + self.step * rng.randrange(self.size)

    def __str__(self) -> str:
        return f"{self.name} = {self.lo:,}..{self.hi:,}" + (f" in steps of {self.step:,}" if self.step != 1 else "")


def parse_range(text: str, where: str) -> tuple[int, int, int]:
    """``1..64`` or ``64..4096:64`` → (lo, hi, step)."""
    match = _RANGE.fullmatch(text)
    if not match:
        raise SymbolicError(f"{where}: write a range as LO..HI or LO..HI:STEP (e.g. 1..64, 64..4096:64), got {text!r}")
    lo, hi, step = int(match[1]), int(match[2]), int(match[3] or 1)
    if hi <= lo or step < 1:
        raise SymbolicError(f"{where}: the range {text.strip()} is empty: write LO..HI with LO < HI and STEP ≥ 1")
    return lo, hi, step


@dataclass(frozen=True)
class Fit:
    polynomials: dict[Hashable, Polynomial]
    grid: tuple[tuple[int, ...], ...]  # the points of each variable the polynomials were fitted through
    checked: int  # further points every polynomial was checked at


def fit(measure: Callable[[tuple[int, ...]], Values], axes: Sequence[Axis],
        describe: Callable[[Hashable], str], seed: int = 0) -> Fit:
    """The polynomial of every quantity ``measure`` gives at a point (a tuple of the axes'
    values), fitted on a grid and checked beyond it; SymbolicError when a quantity is not one."""
    degrees = [_degree(measure, axes, i, describe) for i in range(len(axes))]
    failure = ""
    for _ in range(2):  # a degree seen at the spec's values may be higher elsewhere: one more try, a degree up
        grid = tuple(tuple(axis.points(d + 1)) for axis, d in zip(axes, degrees))
        if prod(map(len, grid)) > MAX_GRID:
            raise SymbolicError(f"a fit of degrees {degrees} would count the spec {prod(map(len, grid)):,} times "
                                f"(at most {MAX_GRID:,}): ask for fewer variables at once")
        polynomials = _interpolated(measure, axes, grid)
        checked, failure = _verify(polynomials, measure, axes, grid, describe, seed)
        if not failure:
            return Fit(polynomials, grid, checked)
        degrees = [d + 1 for d in degrees]
        if max(degrees) > MAX_DEGREE or any(len(g) == axis.size for g, axis in zip(grid, axes)):
            break
    raise SymbolicError(failure)


def _interpolated(measure: Callable, axes: Sequence[Axis], grid: tuple[tuple[int, ...], ...]) -> dict:
    points = list(_product(grid))
    samples = [measure(point) for point in points]
    names = [axis.name for axis in axes]
    return {key: interpolate(names, grid, {p: _value(s, key) for p, s in zip(points, samples)})
            for key in _common(samples)}


def _value(values: Values, key: Hashable) -> int | None:
    return values.get(key, 0 if _zero_when_absent(key) else None)


def _common(samples: Sequence[Values]) -> list:
    """The quantities every sample has (a group's sums and size are 0 where it has no layer),
    in the order they first appear (a network's order)."""
    seen = dict.fromkeys(key for values in samples for key in values)
    return [key for key in seen if all(_value(values, key) is not None for values in samples)]


def _product(grid: Sequence[Sequence[int]]) -> list[tuple[int, ...]]:
    from itertools import product

    return list(product(*grid))


def _degree(measure: Callable, axes: Sequence[Axis], i: int, describe: Callable) -> int:
    """The degree in axis i, the others at the spec's values: the least d whose (d + 1)-th
    differences at the first two places are zero for every quantity."""
    axis = axes[i]
    xs = axis.points(MAX_DEGREE + 3)
    ys: list[Values] = []
    for n, x in enumerate(xs):
        ys.append(measure(_at(axes, i, x)))
        if n < 2:
            continue
        common = _common(ys)
        if all(_difference(ys, key, n - 1, 0) == 0 and _difference(ys, key, n - 1, 1) == 0 for key in common):
            return n - 2
    if len(xs) < MAX_DEGREE + 3:
        raise SymbolicError(f"{axis} has {len(xs)} values: too few to tell a polynomial; widen its range")
    raise SymbolicError(_not_polynomial_1d(xs, ys, axis, describe))


def _at(axes: Sequence[Axis], i: int, x: int) -> tuple[int, ...]:
    return tuple(x if j == i else axis.base for j, axis in enumerate(axes))


def _difference(ys: Sequence[Values], key: Hashable, order: int, start: int) -> int:
    """The forward difference Δ^order at ``start`` (equally spaced points)."""
    return sum((-1) ** (order - m) * comb(order, m) * _value(ys[start + m], key) for m in range(order + 1))


def _not_polynomial_1d(xs: Sequence[int], ys: Sequence[Values], axis: Axis, describe: Callable) -> str:
    """Which quantity is no polynomial of degree ≤ MAX_DEGREE, at which point."""
    n = MAX_DEGREE + 1
    for key in _common(ys):
        coefficients = interpolate_1d(xs[:n], [_value(y, key) for y in ys[:n]])
        for x, y in zip(xs[n:], ys[n:]):
            predicted = sum(c * x ** k for k, c in enumerate(coefficients))
            if predicted != _value(y, key):
                return (f"{describe(key)} is not a polynomial in {axis.name} over {axis.lo:,}..{axis.hi:,} (degree ≤ "
                        f"{MAX_DEGREE} tried): the polynomial through {axis.name} = {_listed(xs[:n])} gives "
                        f"{_number(predicted)} at {axis.name} = {x:,}, the count is {_value(y, key):,}{_lattice_hint(axis)}")
    return f"the counts are not a polynomial in {axis.name} over {axis.lo:,}..{axis.hi:,}"


def _lattice_hint(axis: Axis) -> str:
    return (f" (a stride or a floor division makes a count a polynomial only on every k-th value: try "
            f"{axis.name}={axis.lo}..{axis.hi}:{2 * axis.step}, or a narrower range)")


def _verify(polynomials: Mapping, measure: Callable, axes: Sequence[Axis], grid: Sequence[Sequence[int]],
            describe: Callable, seed: int) -> tuple[int, str]:
    """Every polynomial at the check points: (how many points, "" or what failed where)."""
    rng = random.Random(seed)
    points = {tuple(axis.hi for axis in axes), tuple(axis.base for axis in axes)}
    points = {p for p in points if all(a.lo <= v <= a.hi and (v - a.lo) % a.step == 0 for a, v in zip(axes, p))}
    points |= {tuple(axis.random(rng) for axis in axes) for _ in range(CHECKS)}
    points -= set(_product(grid))
    for point in sorted(points):
        values = measure(point)
        for key, polynomial in polynomials.items():
            actual = _value(values, key)
            if actual is None:
                continue
            predicted = polynomial(point)
            if predicted != actual:
                return len(points), _mismatch(key, polynomial, point, predicted, actual, axes, grid, describe)
        if any(key not in polynomials and _zero_when_absent(key) and value for key, value in values.items()):
            return len(points), (f"the network's structure at {_where(axes, point)} has layers that the fit's "
                                 f"points do not: give a range where the same layers exist throughout")
    return len(points), ""


def _zero_when_absent(key: Hashable) -> bool:
    """Totals, a group's sums and its number of layers are 0 where it has no layer; a single
    layer's own quantity is simply not there."""
    return isinstance(key, tuple) and key[0] in ("count", "sum")


def _mismatch(key, polynomial, point, predicted, actual, axes, grid, describe) -> str:
    fitted = ", ".join(f"{a.name} = {_listed(g)}" for a, g in zip(axes, grid))
    return (f"{describe(key)} is not a polynomial in {', '.join(a.name for a in axes)} over "
            f"{'; '.join(f'{a.lo:,}..{a.hi:,}' for a in axes)}: the polynomial {polynomial} through the counts at "
            f"{fitted} gives {_number(predicted)} at {_where(axes, point)}, the count is {actual:,}"
            + (_lattice_hint(axes[0]) if len(axes) == 1 else ""))


def _where(axes: Sequence[Axis], point: Sequence[int]) -> str:
    return ", ".join(f"{a.name} = {v:,}" for a, v in zip(axes, point))


def _listed(xs: Sequence[int]) -> str:
    return ", ".join(f"{x:,}" for x in xs) if len(xs) <= 4 else f"{xs[0]:,}, {xs[1]:,}, …, {xs[-1]:,}"


def _number(value) -> str:
    return f"{value.numerator:,}" if value.denominator == 1 else f"{value.numerator:,}/{value.denominator:,}"
