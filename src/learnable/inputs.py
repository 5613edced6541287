"""A model's inputs as the user states them, for code and PyTorch models: one example's
shape (batch excluded), its dtype, and the keyword it is passed by.

Every form ``count(input_shape=...)`` takes ends here, as a list of :class:`InputSpec`:

- ``(3, 224, 224)`` or ``8``: one input, passed first;
- ``"3x224x224"``, ``"128:int"`` (token ids), ``"input_ids=128:int"``: the same as text, as
  ``--input`` takes it; ``:float`` says a float input where the name suggests ids;
- a list of those: several inputs in order, a named one passed by keyword;
- ``{"input_ids": "128:int", "pixel_values": (3, 224, 224)}``: inputs by keyword.

A dtype left unsaid is ``None``: the reader decides (the PyTorch trace by the forward's
parameter name, ``*_ids`` and ``*_mask`` taking integers, else float and then integers).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .errors import SpecError

INT, FLOAT = "int", "float"
_DTYPES = {"int": INT, "long": INT, "ids": INT, "float": FLOAT}
_FORMS = ("one example's shape, batch excluded, in positive integers such as (3, 224, 224) or '3x224x224' "
          "('128:int' for token ids), a list of them, or a dict of them by keyword such as "
          "{'input_ids': '128:int'}")


@dataclass(frozen=True)
class InputSpec:
    shape: tuple[int, ...]
    dtype: str | None = None  # INT (token ids), FLOAT, or None: not said
    name: str | None = None  # the keyword it is passed by; None: by position

    def __str__(self) -> str:
        text = "x".join(map(str, self.shape)) + (f":{self.dtype}" if self.dtype else "")
        return f"{self.name}={text}" if self.name else text


def parse_input(text: str, what: str = "--input") -> InputSpec:
    """``[NAME=]SIZES[:int|:float]``: ``input_ids=128:int`` → InputSpec((128,), "int", "input_ids")."""
    name, equals, rest = text.strip().rpartition("=")
    name = name.strip()
    if equals and not name.isidentifier():
        raise SpecError(f"{what} {text!r}: before '=' write the forward's argument name, e.g. input_ids=128:int")
    sizes, colon, kind = rest.strip().partition(":")
    if colon and kind.strip().lower() not in _DTYPES:
        raise SpecError(f"{what} {text!r}: after the sizes, write :int for token ids or :float (e.g. 128:int)")
    parts = re.split(r"[x,×\s]+", sizes.strip().strip("()[]"))
    if not parts or not all(p.isdigit() and int(p) > 0 and len(p) < 19 for p in parts):
        raise SpecError(f"{what} must be sizes such as 3x224x224 (NAME=3x224x224 for a keyword input), got {text!r}")
    return InputSpec(tuple(int(p) for p in parts), _DTYPES[kind.strip().lower()] if colon else None, name or None)


def input_specs(value: Any, integer: bool = False, what: str = "input_shape") -> list[InputSpec] | None:
    """Every form above → the inputs in order (positional first as given, then keywords);
    ``integer`` makes the unsaid dtypes INT (``integer_input=True``)."""
    if value is None:
        return None
    if isinstance(value, Mapping):
        specs = [_one(item, what, str(name)) for name, item in value.items()]
    elif _is_shape(value) or isinstance(value, str):
        specs = [_one(value, what)]
    elif isinstance(value, (list, tuple)) and value:
        specs = [_one(item, what) for item in value]
    else:
        raise SpecError(f"{what} must be {_FORMS}, got {value!r}")
    names = [s.name for s in specs if s.name]
    if twice := sorted({n for n in names if names.count(n) > 1}):
        raise SpecError(f"{what}: the input '{twice[0]}' is given twice")
    specs = [s for s in specs if not s.name] + [s for s in specs if s.name]
    return [InputSpec(s.shape, INT, s.name) if integer and s.dtype is None else s for s in specs]


def _one(item: Any, what: str, name: str | None = None) -> InputSpec:
    if isinstance(item, str):
        spec = parse_input(item, what)
        if name and spec.name and spec.name != name:
            raise SpecError(f"{what}: the input '{name}' is given as {item!r}, which names '{spec.name}'")
        return InputSpec(spec.shape, spec.dtype, name or spec.name)
    if not _is_shape(item):
        raise SpecError(f"{what} must be {_FORMS}, got {item!r}")
    return InputSpec((item,) if isinstance(item, int) else tuple(item), None, name)


def _is_shape(value: Any) -> bool:
    dims = [value] if isinstance(value, int) and not isinstance(value, bool) else value
    return isinstance(dims, (list, tuple)) and bool(dims) and all(
        isinstance(d, int) and not isinstance(d, bool) and 0 < d < 2**62 for d in dims)


def plain(specs: list[InputSpec], what: str = "input_shape") -> tuple[list[tuple[int, ...]], bool]:
    """The shapes in order and whether any is integer, for a reader that passes inputs by
    position and takes one dtype (model code): a named input is refused."""
    if named := [s.name for s in specs if s.name]:
        raise SpecError(f"{what}: inputs by name ({named[0]}=...) are for PyTorch models, whose forward is traced; "
                        "model code takes its inputs in order: give the shapes alone")
    return [s.shape for s in specs], any(s.dtype == INT for s in specs)
