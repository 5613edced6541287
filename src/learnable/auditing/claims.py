"""The claims in a table: each row's name and what it claims, read by its columns.

A row claims each quantity its columns hold (:mod:`.columns`), read as printed
(:mod:`.quantities`); a row named after a quantity (``Number of parameters``, ``FLOPs``)
claims it for the whole network, from the column ``--column`` names or the only cell with a
number; ``Total params: ...`` lines beneath a summary are rows too.
"""

from __future__ import annotations

import re

from ..errors import Location, SpecError
from .columns import Columns, choose, quantity_named, read_columns, role_of, scale_of, total_kind
from .quantities import Claimed, parse
from .result import Claim
from .tables import Table, read_table

MAX_TEXT = 10_000_000  # characters: a torchinfo printout of a 100,000-layer network fits
MAX_NAME = 1_000
USAGE = ("expected a table of layer and claimed count, such as '| Layer | Parameters |' or 'Layer,Parameters', "
         "or a Keras, torchsummary or torchinfo summary")


def read(text: str, source_name: str | None, column: str | None = None) -> tuple[Table, list[Claim], bool, list[str]]:
    """The table, its claims, whether compute is claimed as FLOPs, and the columns left out."""
    if len(text) > MAX_TEXT:
        raise SpecError(f"the claims are {len(text):,} characters long, more than the {MAX_TEXT:,} read",
                        Location(source_name))
    table = read_table(text)
    if table is None:
        raise SpecError(f"no table found; {USAGE}", Location(source_name))
    if table.rows:
        claims, flops, ignored = _table_claims(table, column, source_name)
    elif column is not None:
        raise SpecError(f"--column {column}: the text has no table with columns, only total lines",
                        Location(source_name))
    else:
        claims, flops, ignored = [], False, []
    claims += [_total_line(number, label, value, source_name) for number, label, value in table.totals
               if total_kind(label)]  # not "Params size (MB): 46.76"
    if not claims:
        raise SpecError(f"the table has no rows; {USAGE}", Location(source_name))
    return table, claims, flops, ignored


def _table_claims(table: Table, column: str | None, source_name: str | None) -> tuple[list[Claim], bool, list[str]]:
    """The claims of the table's rows, read by its columns."""
    columns, has_header = read_columns(table.header, table.rows[0][1])
    header = table.header or (table.rows[0][1] if has_header else None)
    if column is not None:
        choose(columns, header, column, Location(source_name))
    flops = bool(header and "macs" in columns.claims and "flop" in header[columns.claims["macs"][0]].casefold())
    claims, used = [], set()
    repeated = [cell.casefold() for cell in header] if header else None
    for number, cells in table.rows[has_header:]:
        if [cell.casefold() for cell in cells] == repeated:  # a long table's header printed again
            continue
        where = Location(source_name, number)
        claim = _quantity_row(cells, columns, header, where, used) or _claim(number, cells, columns, source_name)
        claims += [claim] if claim is not None else []
    ignored = [name for name in columns.ignored
               if not any(i < len(header) and header[i].strip() == name for i in used)]
    return claims, flops, ignored


def _quantity_row(cells: list[str], columns: Columns, header: list[str] | None, where: Location,
                  used: set[int]) -> Claim | None:
    """A row named after what it claims (``Number of parameters``, ``FLOPs``) in a table of
    networks: its number sits in the chosen column (``--column``), or in the only cell
    that holds one (its index is added to ``used``)."""
    name = _plain(cells[columns.name]) if len(cells) > columns.name else ""
    quantity = quantity_named(name)
    if quantity is None or not header:
        return None
    scale = scale_of(name)
    if columns.chosen is not None:
        index = columns.chosen
    else:
        found = [i for i, cell in enumerate(cells) if i != columns.name and _parses(cell)]
        if len(found) > 1:
            names = ", ".join(f"'{header[i]}'" for i in found if i < len(header))
            raise SpecError(f"the row '{name}' claims a number in several columns ({names}); name the one for this "
                            "network with --column NAME", where)
        if not found:
            return None
        index = found[0]
    value = _number(name, _plain(cells[index]) if index < len(cells) else "", quantity, scale, where)
    used.add(index)
    return Claim(name, where.line or 0, {quantity: value}) if value is not None else None


def _parses(cell: str) -> bool:
    try:
        return parse(_plain(cell)) is not None
    except ValueError:
        return False


def _claim(number: int, cells: list[str], columns: Columns, source_name: str | None) -> Claim | None:
    name = _plain(cells[columns.name]) if len(cells) > columns.name else ""
    if len(name) > MAX_NAME:
        raise SpecError(f"a row's name is {len(name):,} characters long; no layer's name is", Location(source_name, number))
    if not name and len(cells) > 1:  # nothing to match it to (a paper's unnamed last row)
        return None
    values: dict[str, Claimed] = {}
    shape = ""
    for quantity, (index, scale) in columns.claims.items():
        cell = _plain(cells[index]) if -len(cells) <= index < len(cells) and len(cells) > 1 else ""
        if quantity == "output_shape":
            shape = "" if cell in ("", "-", "--", "—") else cell
            continue
        value = _number(name, cell, quantity, scale, Location(source_name, number))
        if value is not None:
            values[quantity] = value
    if not values and not shape:
        if name and not columns.claims.get("params") and len(cells) < 2:
            row = f"the row '{name}'"
            raise SpecError(f"{row} claims nothing; {USAGE}", Location(source_name, number))
        return None
    return Claim(name, number, values, shape)


def _number(name: str, cell: str, quantity: str, scale: int, where: Location) -> Claimed | None:
    row = f"the row '{_cut(name)}'" if name else "a row"
    try:
        claimed = parse(cell, scale)
    except ValueError:
        what = {"macs": "a number of operations"}.get(quantity, "a number of parameters")
        raise SpecError(f"{row} claims '{_cut(cell)}', which is not {what}; write it as 18494, 18,494, 25.6M or 3.8e9 "
                        "(a blank or - for no claim)", where) from None
    if claimed is not None and claimed.step is not None and claimed.step < 1:
        raise SpecError(f"{row} claims '{_cut(cell)}', which is not a whole number; give its unit (25.6M), or the "
                        "column's in its header (Parameters (millions))", where)
    return claimed


def _total_line(number: int, label: str, value: str, source_name: str | None) -> Claim:
    """``Total params: 54,410`` or ``Total mult-adds (G): 1.81`` as a claim row."""
    quantity = "macs" if role_of(label) == "macs" else "params"
    claimed = _number(label, value, quantity, scale_of(label), Location(source_name, number))
    return Claim(label, number, {quantity: claimed} if claimed else {})


def _cut(text: str, limit: int = 60) -> str:
    """A cell quoted in a message, cut short: an error is one line, not the cell's 200 KB."""
    return text if len(text) <= limit else text[:limit] + "…"


def _plain(cell: str) -> str:
    """A cell without Markdown emphasis or code marks."""
    return re.sub(r"^([*_`]{1,3})(.+?)\1$", r"\2", cell.strip()).strip()


