"""Check my work: a student's answers marked question by question. A wrong number is
compared with the counts of the network with each classic mistake in it (mistakes.py); the
one it equals is named, with the first step of the worked answer that went wrong."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ..auditing.checks import check_shape, difference
from ..errors import SpecError
from . import answers
from .counted import Counted, count_spec
from .generate import Exercise, Sheet
from .mistakes import Mistake, candidates
from .questions import Question

_MAX_NAMED = 3  # a wrong number fits two mistakes now and then; more would be noise


@dataclass(frozen=True)
class Mark:
    question: str
    kind: str
    layer: str | None
    answer: Any
    expected: Any
    ok: bool | None  # None: not answered
    verdict: str
    mistake: str | None = None
    first_wrong_step: str = ""
    mistakes: tuple[str, ...] = ()  # every mistake the answer fits; mistake is the first

    def to_dict(self) -> dict[str, Any]:
        return {"question": self.question, "kind": self.kind, "layer": self.layer, "answer": self.answer,
                "expected": self.expected, "ok": self.ok, "verdict": self.verdict, "mistake": self.mistake,
                "first_wrong_step": self.first_wrong_step, "mistakes": list(self.mistakes)}


def mark(sheet: Sheet, given: dict[str, Any]) -> list[Mark]:
    """``given`` maps question ids to answers (an int, a shape, a list of names, or text)."""
    unknown = sorted(set(given) - {q.id for q in sheet.questions})
    if unknown:
        raise SpecError(f"answers: no question {unknown[0]!r} on this sheet (ids look like e1.q1)")
    return [_mark(e, q, given.get(q.id)) for e in sheet.exercises for q in e.questions]


def _mark(exercise: Exercise, q: Question, answer: Any) -> Mark:
    base = (q.id, q.kind, q.layer, answer, q.expected)
    if answer is None or answer == "":
        return Mark(*base, None, "not answered")
    if q.kind == "no_params":
        names = answer if isinstance(answer, list) else re.split(r"[,\s]+", str(answer).strip())
        missing, extra = set(q.expected) - set(names), set(names) - set(q.expected)
        ok = not missing and not extra
        verdict = "✓" if ok else "; ".join(filter(None, (
            f"{', '.join(sorted(missing))} also have none" if missing else "",
            f"{', '.join(sorted(extra))} have parameters" if extra else "")))
        pooled = not ok and any("pool" in n for n in extra)
        named = ("pooling given parameters",) if pooled else ()
        return Mark(*base, ok, verdict, (named or (None,))[0], "", named)
    if q.kind == "output_shape":
        ok, verdict = check_shape(_text(answer), tuple(q.expected))
        if ok:
            return Mark(*base, True, "✓" + (f" ({verdict})" if verdict else ""))
        return _diagnose(exercise, q, base, verdict, lambda c: check_shape(_text(answer), _shape(c, q))[0])
    number = _number(answer)
    if number is None:  # a typo marks its line, not the whole sheet
        return Mark(*base, False, f"{str(answer)[:40]!r} is not a whole number")
    if number == q.expected:
        return Mark(*base, True, "✓")
    return _diagnose(exercise, q, base, difference(number, q.expected), lambda c: _value(c, q) == number)


def _diagnose(exercise: Exercise, q: Question, base: tuple, verdict: str, matches) -> Mark:
    """Every classic mistake the wrong answer equals, named: one number can fit two (a dropped
    bias and one input channel too few give the same count), and the student made one of them."""
    right = count_spec(exercise.spec, q.convention)
    found = _distinct([m for m in candidates(exercise.spec, right, q.layer if q.kind != "total" else None)
                       if matches(m.counted)])
    if not found:
        return Mark(*base, False, f"{verdict}; worked answer: {q.worked[-1]}", None, _first_line(q))
    named = [f"{m.name} at {m.where} ({m.detail})" for m in found]
    text = f"{verdict}: {named[0]}" if len(named) == 1 else f"{verdict}: either {', or '.join(named)}"
    steps = list(dict.fromkeys(s for s in (first_wrong_step(q, right, m.counted) for m in found) if s))
    return Mark(*base, False, text, found[0].name, "; or ".join(steps), tuple(m.name for m in found))


def _distinct(found: list[Mistake]) -> list[Mistake]:
    """One of each name and place (two kernel sizes off by one are one mistake to a student)."""
    seen: dict[tuple[str, str], Mistake] = {}
    for m in found:
        seen.setdefault((m.name, m.where), m)
    return list(seen.values())[:_MAX_NAMED]


def first_wrong_step(q: Question, right: Counted, wrong: Counted) -> str:
    """The first step of the worked answer whose number the mistake changes."""
    if q.kind == "total":
        for r, w in zip(right.report.layers, wrong.report.layers, strict=False):
            if r.params != w.params:
                return f"{r.name}: {r.params:,} (the mistake gives {w.params:,})"
        return ""
    if q.kind == "output_shape":
        ours = answers.shape_answer(right.inference(q.layer), right.args(q.layer), right.row(q.layer).output_shape)
        theirs = answers.shape_answer(wrong.inference(q.layer), wrong.args(q.layer), wrong.row(q.layer).output_shape)
        return next((f"{a} (the mistake gives {b})" for a, b in zip(ours, theirs, strict=False) if a != b), "")
    if wrong.convention != right.convention:  # the layer's tensors are the same; what counts differs
        return q.worked[-1]
    if q.kind == "macs":
        return f"MACs: {answers.seed_equation(right.inference(q.layer).macs)}"
    mine = dict(answers.params_steps(wrong.inference(q.layer)))
    for label, expr in answers.params_steps(right.inference(q.layer)):
        if label not in mine:
            return f"{label}: {answers.seed_equation(expr)} was left out"
        if mine[label].value != expr.value:
            return f"{label}: {answers.seed_equation(expr)}, not {answers.seed_equation(mine[label])}"
    return ""


def _first_line(q: Question) -> str:
    return q.worked[0]


def _value(c: Counted, q: Question) -> int | None:
    if q.kind == "total":
        return c.report.total_params
    row = c.row(q.layer)
    return row.params if q.kind == "params" else row.macs


def _shape(c: Counted, q: Question) -> tuple:
    return c.row(q.layer).output_shape


def _text(answer: Any) -> str:
    return " ".join(str(a) for a in answer) if isinstance(answer, list | tuple) else str(answer)


def _number(answer: Any) -> int | None:
    if isinstance(answer, int) and not isinstance(answer, bool):
        return answer
    text = re.sub(r"[,_\s]", "", str(answer))
    return int(text) if re.fullmatch(r"-?\d{1,30}", text) else None


__all__ = ["Mark", "Mistake", "mark"]
