"""How shapes, windows and sizes are written in reports and messages."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Sequence


def shape_text(shape: Sequence[int | None]) -> str:
    dims = ", ".join("None" if d is None else str(d) for d in shape)
    return f"({dims},)" if len(shape) == 1 else f"({dims})"


def output_shape_text(shape: Sequence[int | None]) -> str:
    """A table's shape cell: empty where no shape was traced (a checkpoint's tensors, a
    model counted without an input: ``()`` or every size unknown), else :func:`shape_text`."""
    return "" if all(d is None for d in shape) else shape_text(shape)


def dims_text(dims: Sequence[int | None]) -> str:
    """``3×3`` for a window or a spatial size."""
    return "×".join("None" if d is None else str(d) for d in dims)


# Words spoken with a leading consonant sound though spelt with a vowel ("a unit", "a one-off"),
# and letters whose name starts with a vowel sound ("an LSTM", "an RNN").
_CONSONANT_VOWELS = ("uni", "use", "usu", "uti", "one", "eu", "ubi")
_VOWEL_LETTERS = frozenset("AEFHILMNORSX")


def article(word: str) -> str:
    """``a`` or ``an`` before ``word`` as it is read aloud: ``an average``, ``a unit``,
    ``an 8-bit``, ``an 11,000-byte``, ``an RNN``, ``a GRU``."""
    text = word.lstrip("'\"`(")
    if not text:
        return "a"
    digits = re.match(r"[0-9][0-9,]*", text)
    if digits:  # eight..., eleven..., eighteen... (11 and 18 thousand, million, ...)
        number = digits.group().replace(",", "").rstrip(",")
        return "an" if number[0] == "8" or (number[:2] in ("11", "18") and len(number) % 3 == 2) else "a"
    acronym = re.match(r"[A-Z]{2,}(?![a-z])", text)
    if acronym:
        return "an" if text[0] in _VOWEL_LETTERS else "a"
    lower = text.lower()
    if lower.startswith(_CONSONANT_VOWELS):
        return "a"
    return "an" if lower[0] in "aeiou" else "a"


def with_article(word: object) -> str:
    """``word`` with its article: ``with_article("average")`` is ``an average``."""
    text = str(word)
    return f"{article(text)} {text}"


def human(size: int) -> str:
    """``97.5 MiB``: binary units, one decimal, computed in integers."""
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if size >= scale:
            tenths = (size * 10 + scale // 2) // scale
            return f"{tenths // 10:,}.{tenths % 10} {unit}"
    return f"{size:,} B"


# What a name from a spec or a model file may hold that must not reach an output as it is:
# C0 controls but tab and newline, DEL, C1 controls (a terminal's ESC sequences), Unicode's
# line and paragraph separators, the bidirectional controls that reorder what a reader sees
# (U+202E, "Trojan Source"), zero-width joiners and byte-order marks, and lone surrogates,
# which no UTF-8 writer can encode (every format crashed on a layer named "\ud800").
_HIDDEN = ("\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff"
           "\ud800-\udfff")
_HIDDEN_TEXT = re.compile(f"[{_HIDDEN}]")


def visible(text: str) -> str:
    """``text`` with each hidden character written as Python writes it (``\\u202e``,
    ``\\ud800``, ``\\x1b``): shown, never obeyed, and always encodable."""
    return _HIDDEN_TEXT.sub(lambda m: repr(m.group())[1:-1], text)


def json_visible(text: str) -> str:
    """JSON text with each hidden character as its ``\\uXXXX`` escape. They can stand only
    inside strings, where the escape reads back as the same character: lossless, and
    encodable (json's encoder with ensure_ascii=False leaves surrogates and U+202E raw)."""
    return _HIDDEN_TEXT.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def visible_output(function: Callable[..., str]) -> Callable[..., str]:
    """A renderer whose text is passed through :func:`visible` before anyone writes it."""
    @functools.wraps(function)
    def render(*args, **kwargs) -> str:
        return visible(function(*args, **kwargs))
    return render


def json_output(function: Callable[..., str]) -> Callable[..., str]:
    """A JSON renderer whose text is passed through :func:`json_visible`."""
    @functools.wraps(function)
    def render(*args, **kwargs) -> str:
        return json_visible(function(*args, **kwargs))
    return render
