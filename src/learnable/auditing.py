"""The audit of a claimed parameter table: a table someone published (a tutorial, a paper,
a README) checked row by row against the network's own count.

CLAIMS is the first table in a text: a Markdown table (lines with ``|``; prose, comments and
code around it are ignored) or CSV / tab-separated lines. Each row is a layer and its
claimed count (``Layer | Parameters``); the header row, the thousands separators
(``1,179,776``, ``1 179 776``, ``1_179_776``) and a ``Total`` row are optional. Rows named
``Trainable params`` / ``Non-trainable params`` are checked against those totals.

Rows are matched to layers by name first (case-insensitive, ignoring separators and
decorations: ``Conv_2 + ReLU`` → ``conv_2``, ``FC_2 (Output)`` → ``fc_2``), then by order
between the rows matched by name, among the layers that have parameters. The result is
plain data; :mod:`learnable.render.audit` shows it.
"""

from __future__ import annotations

import csv
import difflib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import Location, SpecError
from .report import LayerRow, Report

SCHEMA_VERSION = 1
# Totals a claims table may state, by their normalised row name → the report's quantity.
TOTAL_KINDS = {"total_params": "total", "trainable_params": "trainable", "non_trainable_params": "nontrainable"}
_MAX_SUM_TERMS = 8  # a longer sum is written "sum of N layers"


@dataclass(frozen=True, slots=True)
class Claim:
    """One row of the claims table, as written."""

    name: str
    claimed: int
    line: int  # 1-based, in the claims text


@dataclass(frozen=True, slots=True)
class AuditRow:
    """A claimed layer row and its verdict. ``layer`` is None when no layer matched."""

    claim: str
    claimed: int
    line: int
    ok: bool
    verdict: str  # why ✓ or ✗, and how the row was matched
    matched_by: str | None = None  # "name" or "order"
    layer: str | None = None
    type: str = ""
    params: int | None = None
    formula: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"claim": self.claim, "line": self.line, "claimed": self.claimed, "layer": self.layer,
                "type": self.type, "params": self.params, "formula": self.formula,
                "matched_by": self.matched_by, "ok": self.ok, "verdict": self.verdict}


@dataclass(frozen=True, slots=True)
class AuditTotal:
    """A claimed total (``kind``: total_params, trainable_params or non_trainable_params)."""

    claim: str
    kind: str
    claimed: int
    line: int
    computed: int
    formula: str  # the sum over the layers, e.g. "320 + 18,496 = 18,816"
    ok: bool
    verdict: str
    claimed_rows_sum: int | None = None  # total_params only: what the claimed layer rows add up to
    adds_up: bool | None = None  # total_params only, with at least one claimed layer row

    def to_dict(self) -> dict[str, Any]:
        return {"claim": self.claim, "line": self.line, "kind": self.kind, "claimed": self.claimed,
                "computed": self.computed, "formula": self.formula, "ok": self.ok, "verdict": self.verdict,
                "claimed_rows_sum": self.claimed_rows_sum, "adds_up": self.adds_up}


@dataclass(frozen=True)
class AuditResult:
    """Every claim with its verdict, the claimed totals, and the layers no claim mentions.

    JSON keys (``schema_version`` 1)::

        {schema_version, name, claims_source, convention, ok, disagreements,
         rows: [{claim, line, claimed, layer, type, params, formula, matched_by, ok, verdict}],
         totals: [{claim, line, kind, claimed, computed, formula, ok, verdict,
                   claimed_rows_sum, adds_up}],
         not_claimed: [{layer, type, params, formula}],
         total_params}
    """

    rows: tuple[AuditRow, ...]
    totals: tuple[AuditTotal, ...]
    not_claimed: tuple[LayerRow, ...]
    total_params: int
    name: str | None = None
    claims_source: str | None = None
    convention: str = "keras"

    @property
    def disagreements(self) -> int:
        return sum(not r.ok for r in self.rows) + sum(not t.ok for t in self.totals)

    @property
    def ok(self) -> bool:
        """True when every claim agrees (the CLI exits with status 1 otherwise)."""
        return self.disagreements == 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": SCHEMA_VERSION,
            "name": self.name,
            "claims_source": self.claims_source,
            "convention": self.convention,
            "ok": self.ok,
            "disagreements": self.disagreements,
            "rows": [r.to_dict() for r in self.rows],
            "totals": [t.to_dict() for t in self.totals],
            "not_claimed": [{"layer": r.name, "type": r.type, "params": r.params, "formula": r.formula}
                            for r in self.not_claimed],
            "total_params": self.total_params,
        }


def audit(report: Report, claims_text: str, source_name: str | None = None) -> AuditResult:
    """Check the claims in ``claims_text`` (a Markdown table or CSV) against ``report``.

    ``source_name`` (the claims file's name) places errors. Raises
    :class:`~learnable.errors.SpecError` for a text without a table or with a count that
    is not a whole number.
    """
    claims = parse_claims(claims_text, source_name)
    layer_claims = [c for c in claims if _total_kind(c.name) is None]
    matches = match_claims(report, layer_claims)
    rows = tuple(_verdict(report, claim, *matches[i]) for i, claim in enumerate(layer_claims))
    matched = {r.layer for r in rows}
    not_claimed = tuple(layer for layer in report.layers if layer.params and layer.name not in matched)
    claimed_sum = sum(c.claimed for c in layer_claims) if layer_claims else None
    totals = tuple(_check_total(report, c, _total_kind(c.name), claimed_sum, len(not_claimed)) for c in claims
                   if _total_kind(c.name) is not None)
    return AuditResult(rows, totals, not_claimed, report.total_params, report.name, source_name, report.convention)


def read_claims(path: str | Path) -> str:
    """A claims file's text, or a SpecError saying why it cannot be read."""
    from .spec import decode

    name = str(path)
    try:
        return decode(Path(path).read_bytes(), name, "a table of claims (Markdown or CSV)")
    except FileNotFoundError:
        raise SpecError("no such file", Location(name)) from None
    except IsADirectoryError:
        raise SpecError("is a directory, not a claims file", Location(name)) from None
    except OSError as err:
        raise SpecError(f"cannot be read: {err.strerror or err}", Location(name)) from None


def audit_file(report: Report, path: str | Path) -> AuditResult:
    """:func:`audit` of a claims file (Markdown or CSV)."""
    return audit(report, read_claims(path), str(path))


def normalise(name: str) -> str:
    """``Conv_2`` → ``conv2``: lower case, letters and digits only."""
    return re.sub(r"[^0-9a-z]", "", name.casefold())


def undecorated(name: str) -> str:
    """``Conv_2 + ReLU`` → ``Conv_2``; ``FC_2 (Output)`` → ``FC_2``."""
    name = re.sub(r"\([^)]*\)|\[[^\]]*\]", " ", name)
    return re.split(r"\+|→|->|\bwith\b", name)[0]


def match_claims(report: Report, claims: list[Claim]) -> list[tuple[int | None, str | None]]:
    """For each claim: the index of its layer in ``report.layers`` (or None) and how it was
    matched ("name" or "order")."""
    layers = report.layers
    taken: set[int] = set()
    found: list[tuple[int | None, str | None]] = [(None, None)] * len(claims)
    for i, claim in enumerate(claims):
        j = _by_name(layers, claim.name, taken)
        if j is not None:
            found[i] = (j, "name")
            taken.add(j)
    segment: list[int] = []
    low = -1
    for i in range(len(claims) + 1):
        if i < len(claims) and found[i][0] is None:
            segment.append(i)
            continue
        high = found[i][0] if i < len(claims) else len(layers)
        for k, j in _by_order(layers, [claims[c] for c in segment], low, high, taken):
            found[segment[k]] = (j, "order")
            taken.add(j)
        segment, low = [], high
    return found


def _by_name(layers: tuple[LayerRow, ...], name: str, taken: set[int]) -> int | None:
    wanted = {normalise(name), normalise(undecorated(name))} - {""}
    for j, layer in enumerate(layers):
        if j not in taken and normalise(layer.name) in wanted:
            return j
    return None


def _by_order(layers: tuple[LayerRow, ...], claims: list[Claim], low: int, high: int,
              taken: set[int]) -> list[tuple[int, int]]:
    """Claims between two rows matched by name ↔ the layers between those rows' layers.

    They pair in order with the layers that have parameters. When the claims also list
    layers without parameters (``Max Pool | 0``), and the non-zero claims are exactly as
    many as the layers with parameters, zero claims pair with the next layer without."""
    span = [j for j in range(low + 1, high) if j not in taken]
    with_params = [j for j in span if layers[j].params]
    nonzero = [c for c in claims if c.claimed]
    if len(claims) == len(with_params) or len(nonzero) != len(with_params):
        return list(zip(range(len(claims)), with_params))
    pairs, cursor = [], 0
    for k, claim in enumerate(claims):
        p = next((p for p in range(cursor, len(span)) if bool(layers[span[p]].params) == bool(claim.claimed)), None)
        if p is not None:
            pairs.append((k, span[p]))
            cursor = p + 1
    return pairs


def _verdict(report: Report, claim: Claim, index: int | None, how: str | None) -> AuditRow:
    if index is None:
        return AuditRow(claim.name, claim.claimed, claim.line, False, _unmatched_reason(report, claim.name))
    layer = report.layers[index]
    matched = f"matched by {how}"
    if claim.claimed == layer.params:
        verdict = matched
    else:
        verdict = f"{_difference(claim.claimed, layer.params)}{_dropped_weight(claim.claimed, layer)}; {matched}"
    return AuditRow(claim.name, claim.claimed, claim.line, claim.claimed == layer.params, verdict, how,
                    layer.name, layer.type, layer.params, layer.formula if layer.params else "")


def _difference(claimed: int, computed: int) -> str:
    gap = abs(computed - claimed)
    side = "short of" if claimed < computed else "more than"
    return f"claimed {claimed:,}, {gap:,} {side} the computed {computed:,}"


def _dropped_weight(claimed: int, layer: LayerRow) -> str:
    """The commonest slip in a published table: one tensor (usually the bias) left out."""
    for weight in layer.weights:
        if not weight.buffer and layer.params - weight.size == claimed:
            return f" (the count without its {weight.name}, {weight.size:,})"
    return ""


def _unmatched_reason(report: Report, name: str) -> str:
    names = {normalise(layer.name): layer.name for layer in report.layers}
    close = difflib.get_close_matches(normalise(undecorated(name)), list(names), n=1)
    hint = f"; did you mean '{names[close[0]]}'?" if close else ""
    return f"no layer named '{undecorated(name).strip()}', and no layer with parameters left to match by order{hint}"


def _total_kind(name: str) -> str | None:
    key = normalise(undecorated(name))
    key = re.sub(r"(params|parameters|weights|count)$", "", key).removesuffix("learnable")
    key = key.removeprefix("total") if key in ("totaltrainable", "totalnontrainable") else key
    for kind, prefix in TOTAL_KINDS.items():
        if key == prefix:
            return kind
    return "total_params" if key in ("totals", "sum", "totalnumber") else None


def _check_total(report: Report, claim: Claim, kind: str, claimed_sum: int | None, unclaimed: int) -> AuditTotal:
    part = {"total_params": "params", "trainable_params": "trainable", "non_trainable_params": "non_trainable"}[kind]
    terms = [getattr(layer, part) for layer in report.layers if getattr(layer, part)]
    computed = sum(terms)
    formula = _sum_formula(terms, computed)
    ok = claim.claimed == computed
    verdict = "agrees with the sum of the layers" if ok else _difference(claim.claimed, computed)
    adds_up = None
    if kind == "total_params" and claimed_sum is not None:
        adds_up = claimed_sum == claim.claimed
        if not adds_up:
            verdict += (f"{', but' if ok else ';'} the claimed rows add up to {claimed_sum:,}, "
                        f"{_gap(claimed_sum, claim.claimed)} their own total")
            if unclaimed:  # then the rows cannot add up: say why
                verdict += f" ({unclaimed} {'layer' if unclaimed == 1 else 'layers'} with parameters not claimed)"
    return AuditTotal(claim.name, kind, claim.claimed, claim.line, computed, formula, ok, verdict,
                      claimed_sum if kind == "total_params" else None, adds_up)


def _gap(value: int, reference: int) -> str:
    return f"{abs(reference - value):,} {'short of' if value < reference else 'more than'}"


def _sum_formula(terms: list[int], total: int) -> str:
    if len(terms) > _MAX_SUM_TERMS:
        return f"sum of {len(terms)} layers = {total:,}"
    if len(terms) < 2:
        return f"{total:,}"
    return " + ".join(f"{t:,}" for t in terms) + f" = {total:,}"


_NUMBER = re.compile(r"\d{1,3}(?:([,_ '\u2009\u202f\u00a0])\d{3})?(?:\1\d{3})*|\d+")
_SEPARATOR_ROW = re.compile(r"^\|?\s*:?-+:?\s*(\|\s*:?-+:?\s*)*\|?$")
_NAME_HEADER = re.compile(r"layer|name|module", re.IGNORECASE)
_COUNT_HEADER = re.compile(r"param|count|weight|#|number", re.IGNORECASE)
_USAGE = "expected a table of layer and claimed count, such as '| Layer | Parameters |' or 'Layer,Parameters'"


def parse_claims(text: str, source_name: str | None = None) -> list[Claim]:
    """The claims in the first table of ``text`` (Markdown, else CSV or tab-separated)."""
    lines = text.splitlines()
    markdown = any("|" in line for line in lines)
    rows = _markdown_rows(lines) if markdown else _delimited_rows(lines)
    if not rows:
        raise SpecError(f"no table found; {_USAGE}", Location(source_name))
    return _claims(rows, source_name)


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


def _markdown_rows(lines: list[str]) -> list[tuple[int, list[str]]]:
    rows = []
    for number, line in _first_run(lines, lambda s: "|" in s):
        if _SEPARATOR_ROW.match(line):
            continue
        line = line.removeprefix("|")
        line = line[:-1] if line.endswith("|") and not line.endswith("\\|") else line
        rows.append((number, [cell.replace("\\|", "|").strip() for cell in re.split(r"(?<!\\)\|", line)]))
    return rows


def _delimited_rows(lines: list[str]) -> list[tuple[int, list[str]]]:
    delimiter = "\t" if any("\t" in line for line in lines) else ","
    rows = []
    for number, line in _first_run(lines, lambda s: delimiter in s, comment="#"):
        cells = [cell.strip() for cell in next(csv.reader([line], delimiter=delimiter))]
        rows.append((number, _rejoin_thousands(cells) if delimiter == "," else cells))
    return rows


def _rejoin_thousands(cells: list[str]) -> list[str]:
    """``FC_1,1,179,776`` (an unquoted count with separators) → ``FC_1``, ``1,179,776``."""
    if len(cells) > 2 and re.fullmatch(r"\d{1,3}", cells[1]) and all(re.fullmatch(r"\d{3}", c) for c in cells[2:]):
        return [cells[0], ",".join(cells[1:])]
    return cells


def _claims(rows: list[tuple[int, list[str]]], source_name: str | None) -> list[Claim]:
    name_col, count_col = 0, -1
    first = rows[0][1]
    if len(first) > 1 and all(_number(cell) is None for cell in first[1:]):  # a header row
        name_col = next((i for i, c in enumerate(first) if _NAME_HEADER.search(c)), 0)
        count_col = next((i for i, c in enumerate(first) if _COUNT_HEADER.search(c) and i != name_col), -1)
        rows = rows[1:]
    claims = []
    for number, cells in rows:
        name = _plain(cells[name_col]) if len(cells) > name_col else ""
        count = _plain(cells[count_col]) if len(cells) > 1 and len(cells) > count_col else ""
        if not name and not count:
            continue
        claims.append(Claim(name, _count(name, count, Location(source_name, number)), number))
    if not claims:
        raise SpecError(f"the table has no rows; {_USAGE}", Location(source_name))
    return claims


def _plain(cell: str) -> str:
    """A cell without Markdown emphasis or code marks."""
    return re.sub(r"^([*_`]{1,3})(.+?)\1$", r"\2", cell.strip()).strip()


def _number(text: str) -> int | None:
    match = _NUMBER.fullmatch(_plain(text))
    return int(re.sub(r"\D", "", match.group())) if match else None


def _count(name: str, text: str, where: Location) -> int:
    value = _number(text)
    if value is None:
        row = f"the row '{name}'" if name else "a row"
        shown = f"'{text}'" if text else "nothing"
        raise SpecError(f"{row} claims {shown}, which is not a whole number of parameters; "
                        "write it as 18494 or 18,494 (0 for a layer without parameters)", where)
    return value
