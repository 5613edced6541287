"""The audit's plain data: each claim with its verdict, the claimed totals, what was left out.

JSON keys (``schema_version`` 2; version 1 had one count per row, always parameters)::

    {schema_version, name, claims_source, form, convention, ok, disagreements,
     rows: [{claim, line, quantity, claimed, claimed_text, layer, type, computed, formula,
             matched_by, ok, verdict}],
     totals: [{claim, line, kind, claimed, claimed_text, computed, formula, ok, verdict,
               claimed_rows_sum, adds_up}],
     not_claimed: [{layer, type, params, formula}],
     ignored_columns, other_networks, containers, total_params}

``quantity`` is "params", "trainable", "non_trainable", "macs" or "output_shape";
``claimed`` is the number the printed text stands for (``25.6M`` → 25600000; null for a
shape) and ``computed`` learnable's (an int, or a shape's text). A row naming a block, a
stage or several layers is matched to all of them (``layer`` says which); ``matched_by`` is
"name", "block", "prefix", "model", "order" or "sum".
In a table of several networks (one row names this one), ``other_networks`` are the rows
that name none of its layers: claims about other networks, not checked. ``containers`` are
a summary's rows for modules that hold layers (torchinfo's ``Sequential: 1-5 ... --``): they
claim no count, and the layers inside are rows of their own.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..report import LayerRow
from .quantities import Claimed

SCHEMA_VERSION = 2


@dataclass(frozen=True, slots=True)
class Claim:
    """One row of the claims table, as written: its name and what it claims."""

    name: str
    line: int  # 1-based, in the claims text
    values: Mapping[str, Claimed] = field(default_factory=dict)  # quantity → number
    shape: str = ""  # the output shape as printed

    @property
    def claimed(self) -> int | None:
        """The claimed parameter count, when the row claims an exact one."""
        params = self.values.get("params")
        return None if params is None else params.exact


@dataclass(frozen=True, slots=True)
class Target:
    """What a claim row was matched to: one layer, or several (a block, a stage, the model)."""

    label: str
    how: str
    layers: tuple[LayerRow, ...]
    type: str = ""
    output_shape: tuple[int | None, ...] | None = None


@dataclass(frozen=True, slots=True)
class AuditRow:
    """One claimed quantity of one row, and its verdict. ``layer`` is None when no layer matched."""

    claim: str
    line: int
    quantity: str
    claimed_text: str
    claimed: int | None
    ok: bool
    verdict: str  # why ✓ or ✗, and how the row was matched
    matched_by: str | None = None
    layer: str | None = None
    type: str = ""
    computed: int | str | None = None
    formula: str = ""

    @property
    def params(self) -> int | None:
        return self.computed if self.quantity == "params" else None

    def to_dict(self) -> dict[str, Any]:
        return {"claim": self.claim, "line": self.line, "quantity": self.quantity, "claimed": self.claimed,
                "claimed_text": self.claimed_text, "layer": self.layer, "type": self.type,
                "computed": self.computed, "formula": self.formula, "matched_by": self.matched_by,
                "ok": self.ok, "verdict": self.verdict}


@dataclass(frozen=True, slots=True)
class AuditTotal:
    """A claimed total: ``kind`` is total_params, trainable_params, non_trainable_params or total_macs."""

    claim: str
    kind: str
    claimed: int
    line: int
    computed: int
    formula: str  # the sum over the layers, e.g. "320 + 18,496 = 18,816"
    ok: bool
    verdict: str
    claimed_text: str = ""
    claimed_rows_sum: int | None = None  # total_params only: what the claimed layer rows add up to
    adds_up: bool | None = None  # total_params only, with at least one claimed layer row

    def to_dict(self) -> dict[str, Any]:
        return {"claim": self.claim, "line": self.line, "kind": self.kind, "claimed": self.claimed,
                "claimed_text": self.claimed_text, "computed": self.computed, "formula": self.formula,
                "ok": self.ok, "verdict": self.verdict, "claimed_rows_sum": self.claimed_rows_sum,
                "adds_up": self.adds_up}


@dataclass(frozen=True)
class AuditResult:
    """Every claim with its verdict, the claimed totals, and the layers no claim mentions."""

    rows: tuple[AuditRow, ...]
    totals: tuple[AuditTotal, ...]
    not_claimed: tuple[LayerRow, ...]
    total_params: int
    name: str | None = None
    claims_source: str | None = None
    convention: str = "keras"
    form: str = ""  # how the table was written: markdown, csv, tab, box (Keras 3), aligned, lines
    ignored_columns: tuple[str, ...] = ()
    other_networks: tuple[str, ...] = ()  # rows of a table of networks that name another network
    containers: tuple[str, ...] = ()  # a summary's rows for modules holding layers, claiming no count

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
            "form": self.form,
            "convention": self.convention,
            "ok": self.ok,
            "disagreements": self.disagreements,
            "rows": [r.to_dict() for r in self.rows],
            "totals": [t.to_dict() for t in self.totals],
            "not_claimed": [{"layer": r.name, "type": r.type, "params": r.params, "formula": r.formula}
                            for r in self.not_claimed],
            "ignored_columns": list(self.ignored_columns),
            "other_networks": list(self.other_networks),
            "containers": list(self.containers),
            "total_params": self.total_params,
        }
