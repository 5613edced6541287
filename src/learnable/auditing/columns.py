"""What each column of a claims table holds, read from its header.

A column is the row's name, or a claim of one quantity: ``params``, ``trainable``,
``non_trainable``, ``macs`` (FLOPs, MACs, mult-adds: which convention is found when checked)
or ``output_shape``. A unit in the header scales its numbers: ``Parameters (millions)``,
``Params (M)``, ``GFLOPs``, ``FLOPs (×10^9)``. A column none of these is named in the result
and left out, never read as parameters. Without a header the first column names the row and
the last one claims its parameters.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..errors import Location, SpecError
from .matching import normalise, undecorated
from .quantities import SCALES, parse

# Most specific first: "Non-trainable params" is not "params", "Output size" is not a count.
_ROLES = (
    ("ignored", re.compile(r"%|percent|share|fraction|ratio|relative", re.IGNORECASE)),  # "% of params"
    ("non_trainable", re.compile(r"non[-\s_]?trainable|frozen", re.IGNORECASE)),
    ("trainable", re.compile(r"trainable", re.IGNORECASE)),
    ("macs", re.compile(r"flop|mac|mult|madd|multiply|\bops\b|operations", re.IGNORECASE)),
    # "Output Shape", "output size", "Shape"; not "Filter Shape", "Activation" or "Feature maps" (a count)
    ("output_shape", re.compile(r"output|^\s*(shape|size)\s*$|feature\s*map\s*size", re.IGNORECASE)),
    ("params", re.compile(r"param|weight|\bcount\b|number\s+of|learnable|^\s*#\s*$", re.IGNORECASE)),
    ("name", re.compile(r"layer|name|module|model|network|stage|block|type|architecture|method|operator",
                        re.IGNORECASE)),
)
_UNIT = re.compile(r"[(\[]\s*(?:in\s+)?(?P<unit>k|m|mil|b|g|t|thousands?|millions?|billions?|trillions?)\s*[)\]]"
                   r"|[(\[]\s*(?:[×x]\s*)?10\s*\^?\s*(?P<power>\d+|[⁰¹²³⁴⁵⁶⁷⁸⁹]+)\s*[)\]]"
                   r"|\b(?P<prefix>[KMGT])(?:flops?|macs?|mult-adds|params)\b", re.IGNORECASE)


_PREFIXES = {"kilo": 10**3, "mega": 10**6, "giga": 10**9, "tera": 10**12}


@dataclass
class Columns:
    """Which cell holds what: ``name`` is an index; ``claims`` maps a quantity to
    (cell index, scale); ``ignored`` are the headers of the columns left out."""

    name: int = 0
    claims: dict[str, tuple[int, int]] = field(default_factory=dict)
    ignored: list[str] = field(default_factory=list)
    chosen: int | None = None  # the column --column names: this network's, in a table of several


def choose(columns: Columns, header: list[str] | None, wanted: str, where: Location) -> None:
    """Make the column headed ``wanted`` the one that claims (its quantity, parameters by
    default), in place of any other claiming the same."""
    names = [cell.strip() for cell in header or []]
    keys = [re.sub(r"[^0-9a-z]", "", name.casefold()) for name in names]
    key = re.sub(r"[^0-9a-z]", "", wanted.casefold())
    starting = [i for i, k in enumerate(keys) if k.startswith(key)] if key not in keys else [keys.index(key)]
    if len(starting) != 1:  # "FLOPs" finds "FLOPs (G)"; two such columns are not one
        shown = ", ".join(f"'{n}'" for n in names if n) or "none: the table has no header row"
        raise SpecError(f"--column {wanted}: no column of that name; the columns are {shown}", where)
    index = starting[0]
    role = role_of(names[index]) or "params"
    columns.claims = {q: c for q, c in columns.claims.items() if c[0] != index and q != role}
    columns.claims[role if role != "name" else "params"] = (index, scale_of(names[index]))
    columns.ignored = [c for c in columns.ignored if c != names[index]]
    columns.chosen = index


def read_columns(header: list[str] | None, first: list[str]) -> tuple[Columns, bool]:
    """The columns, and whether ``first`` (the first row) is itself a header row."""
    if header is None and _looks_like_header(first):
        header = first
        is_header = True
    else:
        is_header = False
    if header is None:
        return Columns(0, {"params": (len(first) - 1, 1)} if len(first) > 1 else {}), False
    return _from_header(header), is_header


def _looks_like_header(cells: list[str]) -> bool:
    if len(cells) < 2:
        return False
    for cell in cells[1:]:
        try:
            if parse(cell) is not None:
                return False
        except ValueError:
            pass
    return any(role_of(cell) for cell in cells)


_QUANTITY_ROW = (
    ("macs", re.compile(r"(total\s*)?[gmkt]?(flops?|macs?|mult-adds|multiply-adds|madds)(\s*[(\[].*[)\]])?",
                        re.IGNORECASE)),
    ("params", re.compile(r"(total\s*|number\s+of\s+|no\.?\s*|num\.?\s*|#\s*)?(learnable\s+)?"
                          r"(params|parameters|weights)(\s*[(\[].*[)\]])?", re.IGNORECASE)),
)


def quantity_named(name: str) -> str | None:
    """The quantity a row named after it claims (``FLOPs``, ``Number of parameters (M)``)."""
    for quantity, pattern in _QUANTITY_ROW:
        if pattern.fullmatch(name.strip()):
            return quantity
    return None


def role_of(header: str) -> str | None:
    for role, pattern in _ROLES:
        if pattern.search(header):
            return None if role == "ignored" else role
    return None


def scale_of(header: str) -> int:
    """The unit a header states for its numbers (1 when none)."""
    match = _UNIT.search(header)
    if not match:  # "Million Mult-Adds", "Parameters in millions", torchinfo's "(Units.GIGABYTES)"
        word = re.search(r"\b(thousand|million|billion|trillion)s?\b|\b(kilo|mega|giga|tera)", header, re.IGNORECASE)
        if word is None:
            return 1
        return SCALES[word[1].casefold()] if word[1] else _PREFIXES[word[2].casefold()]
    if match["power"]:
        return 10 ** int(match["power"].translate(str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹", "0123456789")))
    unit = (match["unit"] or match["prefix"]).casefold()
    return SCALES.get(unit, SCALES.get(unit.rstrip("s"), 1))


def _from_header(header: list[str]) -> Columns:
    columns = Columns(name=-1)
    for index, cell in enumerate(header):
        role = role_of(cell)
        if role == "name" and columns.name < 0:
            columns.name = index
        elif role and role != "name" and role not in columns.claims:
            columns.claims[role] = (index, scale_of(cell))
        elif cell.strip():
            columns.ignored.append(cell.strip())
    if columns.name < 0:  # the row names sit in the first column that claims nothing
        taken = {index for index, _ in columns.claims.values()}
        columns.name = next((i for i in range(len(header)) if i not in taken), 0)
        if header[columns.name].strip() in columns.ignored:
            columns.ignored.remove(header[columns.name].strip())
    return columns


def total_kind(name: str) -> str | None:
    """The total a row named ``name`` claims (``Total params``, ``Trainable params``, ``Total
    mult-adds (G)``, ``FLOPs``, ``Number of parameters``), or None for a row of layers."""
    key = normalise(undecorated(name))
    named = quantity_named(name)  # a row named after what it claims: "FLOPs", "Number of parameters"
    if named:
        return "total_macs" if named == "macs" else "total_params"
    if re.fullmatch(r"total(multadds|macs|flops|multiplyadds|madds|operations)", key):
        return "total_macs"
    key = re.sub(r"(params|parameters|weights|count)$", "", key).removeprefix("learnable")
    key = key.removeprefix("total") if key in ("totaltrainable", "totalnontrainable") else key
    kinds = {"total": "total_params", "trainable": "trainable_params", "nontrainable": "non_trainable_params"}
    return kinds.get(key) or ("total_params" if key in ("totals", "sum", "totalnumber") else None)
