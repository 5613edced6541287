"""A student's answers as question id → answer: JSON ``{"e1.q1": 56}``, or a table as
``audit`` reads it (Markdown, CSV, aligned rows: :func:`learnable.auditing.parse_claims`), whose rows
are question ids (``e1.q1 | 56``) or layers (``e1 conv2d | 56 | 20×20×2``; ``conv2d`` alone is
exercise 1; ``e1 total`` the total)."""

from __future__ import annotations

import json
import re
from typing import Any

from ..auditing import parse_claims
from ..auditing.matching import normalise
from ..errors import SpecError
from .generate import Sheet

_ROW = re.compile(r"^(?:(e\d+)(?:\.(q\d+))?[\s/:.-]*)?(.*)$", re.IGNORECASE)


def read_answers(sheet: Sheet, text: str, source: str | None = None) -> dict[str, Any]:
    stripped = text.strip()
    if stripped.startswith("{"):
        try:
            data = json.loads(stripped)
        except json.JSONDecodeError as err:
            raise SpecError(f"{source or 'answers'}: line {err.lineno}: not JSON: {err.msg}") from None
        return {str(k): v for k, v in data.items()}
    given: dict[str, Any] = {}
    for claim in parse_claims(text, source):
        exercise, question, layer = _ROW.match(claim.name.strip()).groups()
        params = claim.values.get("params")
        number = params.exact if params is not None else None
        if question:
            given[f"{exercise.lower()}.{question.lower()}"] = number if number is not None else claim.shape
            continue
        _by_layer(sheet, (exercise or "e1").lower(), normalise(layer), claim, given)
    return given


def _by_layer(sheet: Sheet, exercise: str, layer: str, claim: Any, given: dict[str, Any]) -> None:
    params, macs = claim.values.get("params"), claim.values.get("macs")
    for q in (q for e in sheet.exercises if e.id == exercise for q in e.questions):
        if q.kind == "total" and layer == "total" and params is not None:
            given[q.id] = params.exact
        elif q.layer is None or normalise(q.layer) != layer:
            continue
        elif q.kind == "params" and params is not None and q.convention == "keras":
            given[q.id] = params.exact
        elif q.kind == "output_shape" and claim.shape:
            given[q.id] = claim.shape
        elif q.kind == "macs" and macs is not None:
            given[q.id] = macs.exact
