"""The audit of a published table: a paper's, a tutorial's, a README's, or a summary printed
by Keras, torchsummary or torchinfo, checked row by row against the network's own count.

CLAIMS is the first table in a text, in whatever form it was pasted (:mod:`.tables`): its
header says what each column claims (:mod:`.columns`: parameters, trainable, FLOPs / MACs /
mult-adds, output size; a column it cannot read is named and left out), numbers are read as
printed (:mod:`.quantities`: ``25.6M`` is judged at the precision printed; blanks and dashes
claim nothing), rows are matched to layers, blocks, stages or the model by name and then by
order (:mod:`.matching`), and each claimed quantity gets its verdict (:mod:`.checks`). Rows
named ``Total``, ``Trainable params``, ``Non-trainable params``, ``Total mult-adds`` (and the
row naming the model) are checked against the totals. The result is plain data
(:mod:`.result`); :mod:`learnable.render.audit` shows it.
"""

from __future__ import annotations

import sys
from pathlib import Path

from ..errors import Location, SpecError
from ..report import Report
from .claims import read
from .columns import total_kind
from .matching import match_claims, networks_table, stated_type
from .quantities import Claimed
from .result import SCHEMA_VERSION, AuditResult, AuditRow, AuditTotal, Claim
from .verdicts import check_total, claimed_sum, row_verdicts

__all__ = ["SCHEMA_VERSION", "AuditResult", "AuditRow", "AuditTotal", "Claim", "audit", "audit_file",
           "parse_claims", "read_claims"]

_FOR_TOTAL = {"params": "total_params", "trainable": "trainable_params", "non_trainable": "non_trainable_params",
              "macs": "total_macs"}


def audit(report: Report, claims_text: str, source_name: str | None = None, column: str | None = None,
          row: str | None = None) -> AuditResult:
    """Check the claims in ``claims_text`` against ``report``.

    ``column`` names the column that holds this network's claims, in a table with one
    column per network (VGG's "A" to "E", ResNet's "18-layer" to "152-layer"); ``row`` the row
    that is this network, in a table of networks naming it otherwise. ``source_name``
    (the claims file's name) places errors. Raises :class:`~learnable.errors.SpecError` for
    a text without a table, a column not in it, or a cell that is not a number."""
    table, claims, flops, ignored = read(claims_text, source_name, column)
    rows_claimed = [c for c in claims if not total_kind(c.name)]
    targets = match_claims(report, rows_claimed, row)
    if row is not None and not any(t is not None and t.how == "model" for t in targets):
        shown = ", ".join(f"'{c.name}'" for c in rows_claimed[:8])
        raise SpecError(f"--row {row}: no row of that name; the rows are {shown}", Location(source_name))
    rows, total_claims = [], [(c, total_kind(c.name)) for c in claims if total_kind(c.name)]
    names_model = networks_table(rows_claimed, targets)
    summary = any(stated_type(c.name) for c in rows_claimed)
    other_networks, containers = [], []
    for claim, target in zip(rows_claimed, targets, strict=True):
        if target is not None and target.how == "model":
            total_claims.append((claim, "total_params"))
        elif target is None and names_model:  # a table of networks: this row is another one's
            other_networks.append(claim.name)
        elif target is None and summary and not any(v.value for v in claim.values.values()):
            # a summary's row for a container (Sequential, BasicBlock): its layers are rows
            containers.append(claim.name)
        else:
            rows += row_verdicts(claim, target, flops)
    rows_sum = claimed_sum(rows)
    matched = {id(layer) for t in targets if t is not None and t.how != "model" for layer in t.layers}
    not_claimed = tuple(layer for layer in report.layers if layer.params and id(layer) not in matched)
    totals = tuple(check_total(report, claim, kind, value, rows_sum, len(not_claimed), flops)
                   for claim, row_kind in total_claims for kind, value in _totals_of(claim, row_kind))
    return AuditResult(tuple(rows), totals, not_claimed, report.total_params, report.name, source_name,
                       report.convention, table.form, tuple(ignored), tuple(other_networks), tuple(containers))


def _totals_of(claim: Claim, kind: str) -> list[tuple[str, Claimed]]:
    """What a total row claims: a row named Total (or the model) claims the total of each of
    its columns; ``Trainable params`` and ``Total mult-adds`` rows their one total."""
    if kind == "total_params":
        return [(_FOR_TOTAL[quantity], value) for quantity, value in claim.values.items()]
    value = claim.values.get(_part(kind)) or claim.values.get("params")
    return [(kind, value)] if value is not None else []


def read_claims(path: str | Path) -> str:
    """A claims file's text, or a SpecError saying why it cannot be read."""
    from ..spec import decode

    name = str(path)
    try:
        data = sys.stdin.buffer.read() if name == "-" else Path(path).read_bytes()
        return decode(data, "<stdin>" if name == "-" else name, "a table of claims (Markdown or CSV)")
    except FileNotFoundError:
        raise SpecError("no such file", Location(name)) from None
    except IsADirectoryError:
        raise SpecError("is a directory, not a claims file", Location(name)) from None
    except OSError as err:
        raise SpecError(f"cannot be read: {err.strerror or err}", Location(name)) from None


def audit_file(report: Report, path: str | Path, column: str | None = None, row: str | None = None) -> AuditResult:
    """:func:`audit` of a claims file (``-``: standard input)."""
    return audit(report, read_claims(path), "<stdin>" if str(path) == "-" else str(path), column, row)


def parse_claims(text: str, source_name: str | None = None) -> list[Claim]:
    """The claim rows of the first table in ``text`` (totals among them)."""
    return read(text, source_name)[1]


def _part(kind: str) -> str:
    return {v: k for k, v in _FOR_TOTAL.items()}[kind]


