"""Numbers as tables print them, and whether a computed count agrees with one.

A paper prints ``25.6M``, ``138`` under "Parameters (millions)", ``3.8×10^9``, ``~0.39B``; a
summary prints ``1,179,776``. A number written in full is a claim of that exact count. A
number with a scale (a unit after it or in its column's header, a decimal point, an
exponent) claims the count *to the precision printed*: its last printed digit is the step.
It agrees with a count that rounds to it at that step (25.6M: 25,550,000 to 25,649,999), or
that truncates to it (papers often cut digits rather than round: 25.6M also agrees with
25,690,000, and the verdict says it was truncated). Blanks and dashes are no claim.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction

# A unit after a number or in a header: thousand, million, billion (G for giga), trillion.
SCALES = {"k": 10**3, "thousand": 10**3, "thousands": 10**3, "m": 10**6, "mil": 10**6, "million": 10**6,
          "millions": 10**6, "b": 10**9, "g": 10**9, "billion": 10**9, "billions": 10**9, "t": 10**12,
          "trillion": 10**12}
SCALE_LETTER = {10**3: "K", 10**6: "M", 10**9: "B", 10**12: "T"}
MAX_POWER = 30  # 10^30 is more than any network's count; a larger exponent is no count
NO_CLAIM = {"", "-", "--", "—", "–", "n/a", "na", "?", "…", "(recursive)"}
_SUPERSCRIPTS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻", "0123456789-")
_NUMBER = re.compile(
    r"(?P<approx>~|≈|about\s+|approx\.?\s*)?"
    r"(?P<digits>\d{1,3}(?:(?P<sep>[,_ '\u2009\u202f\u00a0])\d{3})?(?:(?P=sep)\d{3})*(?:\.\d+)?|\d*\.\d+|\d+)"
    r"\s*(?:(?:[×x*]\s*10\s*\^?\s*(?P<power>[-+]?\d+))|(?:[eE](?P<exp>[-+]?\d+)))?"
    r"\s*(?P<unit>[KkMmBbGgTt]|thousands?|millions?|billions?|trillion)?"
    r"\s*(?:flops?|macs?|mult-adds|multiply-adds|madds|params|parameters|weights)?",
    re.IGNORECASE,
)
# A superscript after a number is a footnote (138²), unless it is a power of ten (10⁹).
_SUPERSCRIPT_NOTE = re.compile(r"(?<!10)(?<!\^)[⁰¹²³⁴⁵⁶⁷⁸⁹]+$")
_FOOTNOTE = re.compile(r"[*†‡§]+$|\[\d+\]$")


@dataclass(frozen=True, slots=True)
class Claimed:
    """A number as printed: its value and the step of its last printed digit (None: exact)."""

    text: str
    value: Fraction
    step: Fraction | None = None
    approximate: bool = False
    unit: int | None = None  # the unit printed (10**6 for M, in the cell or the header), if any
    figures: int | None = None  # significant figures, when a scaled whole number ends in zeros (15300M: 3)

    @property
    def exact(self) -> int | None:
        """The value as a whole number, when it is one."""
        return int(self.value) if self.value.denominator == 1 else None

    def agrees(self, computed: int) -> tuple[bool, str]:
        """Whether ``computed`` agrees with this claim, and the rule that judged it."""
        if self.step is None:
            return computed == self.value, ""
        rounded, truncated = _rounded(computed, self.step), (computed // self.step) * self.step
        precision = f"to the printed {self._written(self.step)}"
        if rounded == self.value:
            return True, f"{computed:,} is {self._written(rounded)} rounded {precision}"
        if truncated == self.value:
            return True, (f"{computed:,} is {self._written(truncated)} truncated {precision} "
                          f"(rounded: {self._written(rounded)})")
        if self.figures is not None:  # 15300 (million): perhaps rounded to 3 significant figures
            coarse = self.step * 10 ** (len(str(self.exact_digits)) - self.figures)
            if _rounded(computed, coarse) == self.value:
                return True, (f"{computed:,} is {self._written(self.value)} rounded to {self.figures} significant "
                              f"figures (the trailing zeros of {self.text} read as rounding)")
        return False, f"{computed:,} is {self._written(rounded)} rounded {precision}"

    @property
    def exact_digits(self) -> int:
        """The printed number in steps: 15300 for 15300 (million)."""
        return int(self.value / self.step) if self.step else int(self.value)

    @property
    def written(self) -> str:
        """The claim with its unit, wherever it was printed: ``15300`` under "Million
        Mult-Adds" → ``15,300M``."""
        return self.text if self.step is None or self.unit is None else self._written(self.value)

    def shown(self, computed: int) -> str:
        """``computed`` written at this claim's precision, for a verdict."""
        return f"{computed:,}" if self.step is None else self._written(_rounded(computed, self.step))

    def _written(self, value: Fraction) -> str:
        """A value in this claim's unit and precision: 25,600,000 → ``25.6M``."""
        return _written(value, self.step or Fraction(1), max(abs(self.value), self.step or 1), self.unit)


def unit_hint(claimed: int, computed: int) -> str:
    """For an exact claim that is the count in thousands, millions or billions (``138`` for
    138,357,544): the unit the table left out."""
    for scale, word in ((10**3, "thousand"), (10**6, "million"), (10**9, "billion")):
        if claimed and Claimed(str(claimed), Fraction(claimed * scale), Fraction(scale)).agrees(computed)[0]:
            return f" ({claimed:,} {word}? then say so in the header: (in {word}s))"
    return ""


def parse(text: str, scale: int = 1) -> Claimed | None:
    """The number in a table cell, or None for a cell that claims nothing (blank, ``-``).

    ``scale`` is the column's unit (10**6 under "Parameters (millions)"). Raises ValueError
    for a cell that is neither."""
    cell = _FOOTNOTE.sub("", _SUPERSCRIPT_NOTE.sub("", text.strip())).translate(_SUPERSCRIPTS).strip()
    if cell.casefold() in NO_CLAIM:
        return None
    match = _NUMBER.fullmatch(cell)
    if not match:
        raise ValueError(text)
    digits = match["digits"].replace(match["sep"] or "\0", "")
    power = int(match["power"] or match["exp"] or 0)
    if abs(power) > MAX_POWER:
        raise ValueError(text)
    unit = SCALES[match["unit"].casefold()] if match["unit"] else 1
    decimals = len(digits.partition(".")[2])
    value = Fraction(digits) * Fraction(10) ** power * unit * scale
    scaled = decimals or power or unit != 1 or scale != 1
    step = Fraction(10) ** (power - decimals) * unit * scale if scaled else None
    printed_unit = unit * scale if unit * scale > 1 and not power else None
    figures = None
    if printed_unit and not decimals and digits.rstrip("0") != digits and digits.strip("0"):
        figures = len(digits.rstrip("0"))
    return Claimed(text.strip(), value, step, bool(match["approx"]), printed_unit, figures)


def _rounded(computed: int, step: Fraction) -> Fraction:
    """``computed`` rounded half up to a multiple of ``step``."""
    return ((computed + step / 2) // step) * step


def _written(value: Fraction, step: Fraction, reference: Fraction, unit: int | None = None) -> str:
    """``value`` at the precision ``step``, in the printed ``unit`` or else the one that suits
    ``reference``: 25,600,000 with a step of 100,000 → ``25.6M``; the step itself → ``0.1M``."""
    scale = unit if unit in SCALE_LETTER else \
        max((s for s in SCALE_LETTER if s <= step * 1000 and s <= reference), default=1)
    decimals = 0
    while step / scale * 10**decimals < 1:
        decimals += 1
    number = value / scale
    text = f"{float(number):,.{decimals}f}" if decimals else f"{int(number):,}"
    return text + SCALE_LETTER.get(scale, "")
