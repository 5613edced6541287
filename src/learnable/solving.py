"""The largest (or smallest) value of one spec parameter that meets a budget:
``learnable.solve(spec, "params <= 5e6", "width")``.

The search is a binary search only where the quantity is monotone in the parameter over
the range. That is proven when the quantity is a polynomial there (fitted and checked as
in formulas.py): the polynomial's step difference Δ(x) = q(x + step) − q(x) keeps one sign
beyond the Cauchy bound of its roots, and is evaluated exactly at every value of the range
below it. Otherwise it is checked on a sample of the range (and said so), and where even the
sample goes up and down, every value is counted (a range of at most MAX_SCAN values). The
answer and its neighbour are always counted by the engine itself, so the crossing shown is
the engine's, not the polynomial's.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from itertools import pairwise
from typing import Any

from ._polyfit import Axis, SymbolicError, fit
from .formulas import Sampler
from .polynomial import Polynomial, interpolate_1d

QUANTITIES = ("params", "trainable", "macs", "memory")
DEFAULT_RANGE = "1..100000"
MAX_SCAN = 2_000  # values counted one by one where the quantity is not monotone
MAX_EXACT = 200_000  # values of Δ evaluated to prove monotonicity
SAMPLE = 64
_BUDGET = re.compile(r"\s*([a-z_]+)\s*(<=|>=|<|>|≤|≥)\s*(\S.*?)\s*")
_SUFFIXES = {"k": 10**3, "m": 10**6, "b": 10**9, "g": 10**9, "t": 10**12}
_OPS = {"≤": "<=", "≥": ">="}


@dataclass(frozen=True)
class Solution:
    """``value``: the largest (``<=``, ``<``) or smallest (``>=``, ``>``) value meeting the
    budget, None if none does; ``count`` the quantity there; ``neighbour`` the next value
    past it (None at the range's end) and ``neighbour_count`` its quantity."""

    quantity: str
    op: str
    budget: int
    axis: Axis
    value: int | None
    count: int | None
    neighbour: int | None
    neighbour_count: int | None
    method: str  # how the search knew where to look
    polynomial: Polynomial | None = None
    fixed: Mapping[str, Any] | None = None

    @property
    def largest(self) -> bool:
        return self.op in ("<=", "<")

    def to_dict(self) -> dict:
        return {"quantity": self.quantity, "op": self.op, "budget": self.budget, "variable": self.axis.name,
                "range": {"lo": self.axis.lo, "hi": self.axis.hi, "step": self.axis.step},
                "goal": "largest" if self.largest else "smallest", "value": self.value, "count": self.count,
                "next_value": self.neighbour, "next_count": self.neighbour_count, "method": self.method,
                "polynomial": self.polynomial and self.polynomial.to_dict(), "fixed": dict(self.fixed or {})}

    def lines(self) -> list[str]:
        name, q = self.axis.name, self.quantity
        goal = f"{'largest' if self.largest else 'smallest'} {name} in {self.axis.lo:,}..{self.axis.hi:,}"
        step = f" (step {self.axis.step:,})" if self.axis.step != 1 else ""
        out = [f"{goal}{step} with {q} {self.op} {self.budget:,}:"]
        if self.value is None:
            out.append(f"  none: at {name} = {self.neighbour:,} {q} = {self.neighbour_count:,}")
        else:
            out.append(f"  {name} = {self.value:,}: {q} = {self.count:,}")
            if self.neighbour is None:
                out.append("  (the range's end: widen it to look further)")
            else:
                out.append(f"  {name} = {self.neighbour:,}: {q} = {self.neighbour_count:,} (over the budget)"
                           if self.largest else
                           f"  {name} = {self.neighbour:,}: {q} = {self.neighbour_count:,} (short of the budget)")
        if self.polynomial is not None:
            out.append(f"  {q}({name}) = {self.polynomial}")
        return [*out, f"  search: {self.method}"]


def parse_budget(text: str) -> tuple[str, str, int]:
    """``params <= 5e6`` → ("params", "<=", 5000000); memory takes sizes (``8GiB``)."""
    match = _BUDGET.fullmatch(text or "")
    if not match or match[1] not in QUANTITIES:
        raise SymbolicError(f"a budget is QUANTITY OP NUMBER with QUANTITY one of {', '.join(QUANTITIES)} and OP "
                            f"<=, <, >= or >: e.g. \"params <= 5e6\", \"memory <= 8GiB\"; got {text!r}")
    quantity, op, amount = match[1], _OPS.get(match[2], match[2]), match[3]
    if quantity == "memory" and amount[-1:].isalpha():
        from .accelerators import memory_size

        return quantity, op, memory_size(amount)
    return quantity, op, _amount(amount, text)


def _amount(text: str, budget: str) -> int:
    clean = text.replace(",", "").replace("_", "")
    scale = _SUFFIXES.get(clean[-1:].lower(), 1)
    try:
        value = Decimal(clean[:-1] if scale > 1 else clean) * scale
    except InvalidOperation:
        value = Decimal(-1)
    if value < 0 or value != value.to_integral_value() or value > 10**30:
        raise SymbolicError(f"the budget {budget!r}: {text!r} is not a whole number (5e6, 5M, 1.4T, 2,048)")
    return int(value)


def solve(source: Any, budget: str, variable: str, *, within: str | None = None,
          values: Mapping[str, Any] | None = None, data_format: str | None = None, convention: str | None = None,
          memory: Mapping[str, Any] | None = None) -> Solution:
    """The largest (or, for ``>=``/``>``, smallest) value of the spec's param ``variable``
    in ``within`` (``"1..100000"``, ``"64..8192:64"``) whose count meets ``budget`` (``"params
    <= 5e6"``, ``"macs <= 1e9"``, ``"memory <= 8GiB"``); the other params as the spec sets
    them or as ``values`` does. ``memory`` holds :func:`learnable.memory.estimate`'s options
    (dtype, batch, optimizer: training memory with an optimizer, inference without)."""
    quantity, op, amount = parse_budget(budget)
    sampler = Sampler(source, [variable], {variable: within or DEFAULT_RANGE}, values, data_format, convention)
    axis = sampler.axes[0]
    count = _quantity(sampler, quantity, dict(memory or {}))
    polynomial, direction, method = _direction(count, axis, quantity)
    meets = _meets(op, amount)
    xs = range(axis.lo, axis.hi + 1, axis.step)
    if direction is None:
        found = [x for x in xs if meets(count(x))]
        value = (found[-1] if op in ("<=", "<") else found[0]) if found else None
    else:
        value = _search(xs, lambda x: meets(count(x)), op in ("<=", "<"))
    fixed = {k: v for k, v in {**sampler.spec.params, **(values or {})}.items() if k != variable}
    return _solution(quantity, op, amount, axis, value, count, method, polynomial, fixed)


def _quantity(sampler: Sampler, quantity: str, memory: dict):
    def count(x: int) -> int:
        _, report = sampler.report((x,))
        if quantity == "macs":
            if report.macs_unknown:
                raise SymbolicError(f"the MACs of {', '.join(report.macs_unknown[:3])} are not known: no MACs budget")
            return report.total_macs
        if quantity == "memory":
            from .memory import estimate

            result = estimate(report, **memory)
            return result.training_bytes if memory.get("optimizer") else result.inference_bytes
        return report.total_params if quantity == "params" else report.trainable_params
    return count


def _meets(op: str, amount: int):
    return {"<=": lambda q: q <= amount, "<": lambda q: q < amount,
            ">=": lambda q: q >= amount, ">": lambda q: q > amount}[op]


def _direction(count, axis: Axis, quantity: str) -> tuple[Polynomial | None, int | None, str]:
    """(the polynomial, +1 rising / −1 falling / None neither, how it is known)."""
    polynomial = None
    try:
        polynomial = fit(lambda p: {quantity: count(p[0])}, [axis], lambda key: key).polynomials[quantity]
        sign = _proven(polynomial, axis)
        if sign is not None:
            return polynomial, sign, (f"binary search; {quantity} is a polynomial over the range (checked at "
                                      f"further points) and its step difference never changes sign: monotone")
    except SymbolicError:
        pass
    xs = range(axis.lo, axis.hi + 1, axis.step)
    sample = sorted({xs[i * (len(xs) - 1) // SAMPLE] for i in range(SAMPLE + 1)})
    counts = [count(x) for x in sample]
    rises, falls = all(a <= b for a, b in pairwise(counts)), all(a >= b for a, b in pairwise(counts))
    if rises or falls:
        return polynomial, 1 if rises else -1, (f"binary search; {quantity} is monotone on a sample of {len(sample)} "
                                                "values of the range (not proven between them)")
    if len(xs) <= MAX_SCAN:
        return polynomial, None, f"every value counted ({len(xs):,}): {quantity} is not monotone over the range"
    i = next(i for i in range(1, len(counts) - 1) if (counts[i] - counts[i - 1]) * (counts[i + 1] - counts[i]) < 0)
    raise SymbolicError(f"{quantity} is not monotone in {axis.name} over {axis.lo:,}..{axis.hi:,} ({sample[i - 1]:,}: "
                        f"{counts[i - 1]:,}, {sample[i]:,}: {counts[i]:,}, {sample[i + 1]:,}: {counts[i + 1]:,}) and "
                        f"the range has {len(xs):,} values to count one by one (at most {MAX_SCAN:,}): narrow it")


def _proven(polynomial: Polynomial, axis: Axis) -> int | None:
    """+1 / −1 when q(x + step) − q(x) is ≥ 0 / ≤ 0 at every x of the range; None otherwise
    or when too many values lie below the bound of its roots to evaluate."""
    degree = polynomial.degree(axis.name)
    xs = list(range(degree + 1))
    delta = interpolate_1d(xs, [polynomial([x + axis.step]) - polynomial([x]) for x in xs])
    while len(delta) > 1 and delta[-1] == 0:
        delta.pop()
    if len(delta) == 1:
        return 1 if delta[0] >= 0 else -1
    bound = 1 + max(abs(c / delta[-1]) for c in delta[:-1])  # Cauchy: every real root lies within it
    last = min(axis.hi - axis.step, int(bound) + 1)
    below = range(axis.lo, last + 1, axis.step)
    if len(below) > MAX_EXACT:
        return None
    sign = 1 if delta[-1] > 0 else -1
    evaluate = lambda x: sum(c * Fraction(x) ** k for k, c in enumerate(delta))
    return sign if all(sign * evaluate(x) >= 0 for x in below) else None


def _search(xs: range, meets, largest: bool) -> int | None:
    """The largest (or smallest) x meeting a predicate that changes at most once along xs."""
    first, last = meets(xs[0]), meets(xs[-1])
    if largest and last or not largest and first:
        return xs[-1] if largest else xs[0]
    if first == last:
        return None
    good, bad = (0, len(xs) - 1) if first else (len(xs) - 1, 0)
    while abs(good - bad) > 1:
        mid = (good + bad) // 2
        good, bad = (mid, bad) if meets(xs[mid]) else (good, mid)
    return xs[good]


def _solution(quantity, op, amount, axis, value, count, method, polynomial, fixed) -> Solution:
    largest = op in ("<=", "<")
    if value is None:
        edge = axis.lo if largest else axis.lo + (axis.hi - axis.lo) // axis.step * axis.step
        return Solution(quantity, op, amount, axis, None, None, edge, count(edge), method, polynomial, fixed)
    neighbour = value + axis.step if largest else value - axis.step
    if not axis.lo <= neighbour <= axis.hi:
        return Solution(quantity, op, amount, axis, value, count(value), None, None, method, polynomial, fixed)
    return Solution(quantity, op, amount, axis, value, count(value), neighbour, count(neighbour), method,
                    polynomial, fixed)
