"""The verdict on each claim: what it was matched to, the computed value, its arithmetic,
and ✓ or ✗ with the rule that judged it (:mod:`.checks`)."""

from __future__ import annotations

from .._text import shape_text
from ..report import LayerRow, Report
from ..rules._kinds import CONVOLUTION
from .checks import check_count, check_macs, check_shape
from .matching import normalise, undecorated
from .quantities import Claimed
from .result import AuditRow, AuditTotal, Claim, Target

# What each claimed total is compared with: the report's quantity for each kind.
TOTAL_PARTS = {"total_params": "params", "trainable_params": "trainable", "non_trainable_params": "non_trainable"}
_MAX_SUM_TERMS = 8  # a longer sum is written "sum of N layers"


def row_verdicts(claim: Claim, target: Target | None, flops: bool) -> list[AuditRow]:
    rows = [_verdict(claim, quantity, value, target, flops) for quantity, value in claim.values.items()]
    if claim.shape:
        rows.append(_shape_verdict(claim, target))
    return rows


def _verdict(claim: Claim, quantity: str, value: Claimed, target: Target | None, flops: bool) -> AuditRow:
    base = {"claim": claim.name, "line": claim.line, "quantity": quantity, "claimed_text": value.text, "claimed": value.exact}
    if target is None:
        ok = value.value == 0 and quantity == "params"
        verdict = "not matched to a layer; it claims no parameters" if ok else \
            f"{_unmatched(claim)}, and no layer with parameters left to match by order"
        return AuditRow(**base, ok=ok, verdict=verdict)
    matched = _matched(target)
    where = {"matched_by": target.how, "layer": target.label, "type": target.type}
    if quantity == "macs":
        ok, computed, convention, verdict = check_macs(value, target.layers, flops)
        return AuditRow(**base, ok=ok, verdict=f"{verdict}; {matched}", computed=computed,
                        formula=_macs_formula(target.layers, convention, computed), **where)
    computed = sum(getattr(layer, quantity) for layer in target.layers)
    one = target.layers[0] if len(target.layers) == 1 else None
    ok, verdict = check_count(value, computed, one)
    terms = [getattr(layer, quantity) for layer in target.layers if getattr(layer, quantity)]
    formula = "" if not computed else one.formula if one is not None and quantity == "params" \
        else _sum_formula(terms, computed)
    return AuditRow(**base, ok=ok, verdict=f"{verdict}; {matched}" if verdict else matched, computed=computed,
                    formula=formula, **where)


def _shape_verdict(claim: Claim, target: Target | None) -> AuditRow:
    base = {"claim": claim.name, "line": claim.line, "quantity": "output_shape", "claimed_text": claim.shape, "claimed": None}
    if target is None:
        return AuditRow(**base, ok=False, verdict=_unmatched(claim))
    ok, verdict = check_shape(claim.shape, target.output_shape)
    computed = shape_text(target.output_shape) if target.output_shape is not None else None
    return AuditRow(**base, ok=ok, verdict=f"{verdict}; {_matched(target)}" if verdict else _matched(target),
                    matched_by=target.how, layer=target.label, type=target.type, computed=computed)


def _unmatched(claim: Claim) -> str:
    written = undecorated(claim.name).strip()
    name = written if normalise(written) == normalise(claim.name) or "+" in claim.name else claim.name.strip()
    return f"no layer named '{name}', nor a block or a stage"


def _matched(target: Target) -> str:
    return {"block": "matched to the block by name", "prefix": "matched to the layers under that name",
            "sum": "matched by order, to the layers whose parameters add up to it"}.get(
        target.how, f"matched by {target.how}")


def _macs_formula(layers: tuple[LayerRow, ...], convention: str, computed: int) -> str:
    """The sum behind a compute value, in the convention it was judged by."""
    terms = [t for t in (_layer_macs(layer, convention) for layer in layers) if t]
    if len(layers) == 1 and not convention.startswith("FLOPs") and terms == [layer.macs for layer in layers]:
        return layers[0].macs_formula
    total = _sum_formula(terms, None)
    return f"2 × ({total}) = {computed:,}" if convention.startswith("FLOPs") else total


def _layer_macs(layer: LayerRow, convention: str) -> int:
    if "convolutions only" in convention:
        return sum(m for kind, m in layer.macs_by_kind if kind == CONVOLUTION)
    return (layer.paper_macs if "fully connected" in convention else layer.macs) or 0


def claimed_sum(rows: list[AuditRow]) -> int | None:
    """What the claimed parameter rows add up to (None without any, or with a rounded one)."""
    claimed = [r.claimed for r in rows if r.quantity == "params"]
    return None if not claimed or None in claimed else sum(claimed)


def check_total(report: Report, claim: Claim, kind: str, value: Claimed, claimed_sum: int | None,
                 unclaimed: int, flops: bool) -> AuditTotal:
    if kind == "total_macs":
        ok, computed, convention, verdict = check_macs(value, report.layers, flops or "flop" in claim.name.casefold())
        return AuditTotal(claim.name, kind, int(value.value), claim.line, computed,
                          _macs_formula(report.layers, convention, computed), ok, verdict, value.text)
    terms = [getattr(layer, TOTAL_PARTS[kind]) for layer in report.layers if getattr(layer, TOTAL_PARTS[kind])]
    computed = sum(terms)
    ok, rule = check_count(value, computed)
    verdict = ("agrees with the sum of the layers" + (f" ({rule})" if rule else "")) if ok else rule
    adds_up = None
    if kind == "total_params" and claimed_sum is not None:
        adds_up = value.agrees(claimed_sum)[0]
        if not adds_up:
            verdict += (f"{', but' if ok else ';'} the claimed rows add up to {claimed_sum:,}, "
                        f"{_gap(claimed_sum, int(value.value))} their own total")
            if unclaimed:  # then the rows cannot add up: say why
                verdict += f" ({unclaimed} {'layer' if unclaimed == 1 else 'layers'} with parameters not claimed)"
    return AuditTotal(claim.name, kind, int(value.value), claim.line, computed, _sum_formula(terms, computed), ok,
                      verdict, value.text, claimed_sum if kind == "total_params" else None, adds_up)


def _gap(value: int, reference: int) -> str:
    return f"{abs(reference - value):,} {'short of' if value < reference else 'more than'}"


def _sum_formula(terms: list[int], total: int | None) -> str:
    total = sum(terms) if total is None else total
    if len(terms) > _MAX_SUM_TERMS:
        return f"sum of {len(terms)} layers = {total:,}"
    if len(terms) < 2:
        return f"{total:,}"
    return " + ".join(f"{t:,}" for t in terms) + f" = {total:,}"

