"""The first table in a text, as rows of cells: whatever form it was pasted in.

- Markdown (``| Layer | Parameters |``), CSV and tab-separated lines: as written;
- a Keras 3 ``summary()`` (rich's box drawing, a name wrapped onto a second line joined back);
- text in aligned columns: a Keras 2 ``summary()``, torchsummary and torchinfo output, or a
  table typed with spaces: its header line names the columns, and each cell belongs to the
  header it sits under (numbers are right-aligned under their header, names left-aligned);
- lines such as ``Total params: 54,410 (212.54 KB)`` or ``Total mult-adds (G): 1.81``
  anywhere in the text are totals, whatever the form of the table above them.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from itertools import pairwise

_SEPARATOR_ROW = re.compile(r"^\|?\s*:?-+:?\s*(\|\s*:?-+:?\s*)*\|?$")
_RULE = re.compile(r"^\s*[-=_─━┄╌]{3,}\s*$")
_BOX = "│┃"
_BOX_TEXT = re.compile(r"[^\s┏┡├└┗╇┳┻┼┴┬─━┃│┓┩┤┘┛╭╮╯╰]")
_CELL = re.compile(r"\S+(?: \S+)*")  # text between runs of two or more spaces
# The label is bounded and possessive, so a long line without a colon fails at once.
_TOTAL_LINE = re.compile(r"\s*(?P<label>(?:total|trainable|non-trainable|#?\s?params|parameters|[gm]?flops|[gm]?macs|"
                         r"mult-adds)[\w #().\-]{0,80}+):(?P<value>[^:]*)", re.IGNORECASE)
_HEADER_WORDS = re.compile(r"layer|name|module|param|output|shape|flop|mac|mult", re.IGNORECASE)


@dataclass
class Table:
    """Rows of cells with their 1-based line numbers; ``header`` when the form has one for sure."""

    form: str  # "markdown", "csv", "tab", "box" or "aligned"
    rows: list[tuple[int, list[str]]]
    header: list[str] | None = None
    totals: list[tuple[int, str, str]] = field(default_factory=list)  # (line, label, value) outside the table


def read_table(text: str) -> Table | None:
    """The first table in ``text``, or None when there is none."""
    lines = text.splitlines()
    tabs = any("\t" in line for line in lines)
    table = (_box(lines) if any(c in text for c in _BOX) else None) or _markdown(lines) \
        or (None if tabs else _aligned(lines)) or _delimited(lines)
    totals = _total_lines(lines)
    total_lines = {t[0] for t in totals}
    if table is not None and all(number in total_lines for number, _ in table.rows):
        table = None  # "Total params: 25,636,712" lines alone: totals, not a CSV of "Total params: 25" and "636,712"
    if table is None:
        return Table("lines", [], None, totals) if totals else None
    in_table = {number for number, _ in table.rows}
    table.totals = [t for t in totals if t[0] not in in_table]
    return table


def _first_run(lines: list[str], is_row, comment: str | None = None) -> list[tuple[int, str]]:
    """The first run of consecutive table lines: text before and after is not the table.
    Comment lines (CSV's ``#``) inside the run do not end it."""
    run: list[tuple[int, str]] = []
    for number, line in enumerate(lines, 1):
        if comment and line.lstrip().startswith(comment):
            continue
        if is_row(line):
            run.append((number, line.strip()))
        elif run:
            break
    return run


def _markdown(lines: list[str]) -> Table | None:
    if not any("|" in line for line in lines):
        return None
    rows = []
    for number, line in _first_run(lines, lambda s: "|" in s):
        if _SEPARATOR_ROW.match(line):
            continue
        line = line.removeprefix("|")
        line = line[:-1] if line.endswith("|") and not line.endswith("\\|") else line
        rows.append((number, [cell.replace("\\|", "|").strip() for cell in re.split(r"(?<!\\)\|", line)]))
    return Table("markdown", rows) if rows else None


def _delimited(lines: list[str]) -> Table | None:
    delimiter = "\t" if any("\t" in line for line in lines) else ","
    rows = []
    for number, line in _first_run(lines, lambda s: delimiter in s, comment="#"):
        cells = [cell.strip() for cell in next(csv.reader([line], delimiter=delimiter))]
        rows.append((number, _rejoin_thousands(cells) if delimiter == "," else cells))
    return Table("tab" if delimiter == "\t" else "csv", rows) if rows else None


def _rejoin_thousands(cells: list[str]) -> list[str]:
    """``FC_1,1,179,776`` (an unquoted count with separators) → ``FC_1``, ``1,179,776``."""
    if len(cells) > 2 and re.fullmatch(r"\d{1,3}", cells[1]) and all(re.fullmatch(r"\d{3}", c) for c in cells[2:]):
        return [cells[0], ",".join(cells[1:])]
    return cells


def _box(lines: list[str]) -> Table | None:
    """A table drawn with box characters (Keras 3's summary): ┃ header cells, │ body cells,
    a rule between rows; the lines of one row (a name wrapped onto a second line) are joined."""
    header: list[str] | None = None
    rows: list[tuple[int, list[str]]] = []
    current: tuple[int, list[str]] | None = None
    for number, line in enumerate(lines, 1):
        if not _BOX_TEXT.search(line):  # a rule: the row above is complete
            rows += [current] if current else []
            current = None
            if rows and ("└" in line or "┗" in line):
                break
            continue
        if not any(c in line for c in _BOX):
            if rows or current:
                break
            continue
        cells = [c.strip() for c in re.split(f"[{_BOX}]", line.strip())[1:-1]]
        if "┃" in line:
            header = _joined(header, cells)
        else:
            current = (number, cells) if current is None else (current[0], _joined(current[1], cells))
    rows += [current] if current else []
    return Table("box", rows, header) if header and rows else None


def _joined(above: list[str] | None, below: list[str]) -> list[str]:
    if above is None:
        return below
    return [f"{a} {b}".strip() for a, b in zip(above, below, strict=False)]


def _aligned(lines: list[str]) -> Table | None:
    """Columns aligned with spaces, under a header line such as ``Layer (type)  Output Shape
    Param #`` (Keras 2, torchsummary, torchinfo)."""
    start = next((i for i, line in enumerate(lines) if _is_header(line)), None)
    if start is None:
        return None
    columns = [(m.start(), m.end()) for m in _CELL.finditer(lines[start])]
    header = [lines[start][a:b] for a, b in columns]
    rows: list[tuple[int, list[str]]] = []
    spaced = _blank_separated(lines[start + 1:])
    follows = False  # the line above was a row (no blank line between)
    for number, line in enumerate(lines[start + 1:], start + 2):
        if not line.strip() or _RULE.match(line):
            follows = False
            continue
        if _TOTAL_LINE.match(line) or not _CELL.search(line):
            break
        cells = _under(line, columns)
        if not any(cells[1:]) and _CELL.search(line).end() > columns[1][0]:
            break  # prose after the table
        if rows and (follows and spaced or not any(cells[1:]) and cells[0]):  # a row wrapped onto this line
            rows[-1] = (rows[-1][0], [_rejoined(a, b) for a, b in zip(rows[-1][1], cells, strict=True)])
        elif [c.casefold() for c in cells] != [h.casefold() for h in header]:  # a header repeated: not a row
            rows.append((number, cells))
        follows = True
    return Table("aligned", rows, header) if rows else None


def _blank_separated(lines: list[str]) -> bool:
    """Whether rows are set apart by blank lines (Keras 2's summary), so that a line right
    under a row continues it (Keras 2 wraps a long name or shape onto the next line)."""
    body = []
    for line in lines:
        if _TOTAL_LINE.match(line):
            break
        body.append(bool(line.strip()) and not _RULE.match(line))
    return any(not a and b for a, b in pairwise(body[1:])) and body.count(False) * 3 >= body.count(True)


def _rejoined(above: str, below: str) -> str:
    """A cell wrapped mid-word joins without a space (``BatchNormal`` + ``ization)``)."""
    if not below:
        return above
    glue = "" if above[-1:].isalnum() and below[:1].isalnum() or below[:1] in ")]" else " "
    return f"{above}{glue}{below}"


def _is_header(line: str) -> bool:
    cells = _CELL.findall(line)
    return len(cells) >= 2 and sum(bool(_HEADER_WORDS.search(c)) for c in cells) >= 2 and "|" not in line


def _under(line: str, columns: list[tuple[int, int]]) -> list[str]:
    """Each cell of ``line`` under the header column it overlaps most (else the nearest); as
    many cells as columns go one to each, in order (a row narrower than its header)."""
    found = list(_CELL.finditer(line))
    if len(found) == len(columns):
        return [match.group() for match in found]
    cells = [""] * len(columns)
    for match in found:
        a, b = match.span()
        overlaps = [min(b, end) - max(a, begin) for begin, end in columns]
        best = max(range(len(columns)), key=lambda i: (overlaps[i], -abs((a + b) / 2 - sum(columns[i]) / 2)))
        cells[best] = f"{cells[best]} {match.group()}".strip()
    return cells


def _total_lines(lines: list[str]) -> list[tuple[int, str, str]]:
    """``Total params: 54,410 (212.54 KB)`` → (line, "Total params", "54,410")."""
    found = []
    for number, line in enumerate(lines, 1):
        match = _TOTAL_LINE.fullmatch(line)
        if match and "|" not in line:
            value = match["value"].strip()
            if value.endswith(")"):  # "54,410 (212.54 KB)": the size in memory follows the count
                value = value[:value.rfind("(")].strip()
            if value:
                found.append((number, match["label"].strip(), value))
    return found
