"""A sheet as Markdown, as a printable HTML page (questions, then the answer key after a page
break), or as JSON for a learning platform (schema_version 1: each question's id, kind,
layer, expected answer and worked answer); marks as text or JSON."""

from __future__ import annotations

import json
from html import escape

from .answers import shape_text
from .generate import Sheet
from .levels import DESCRIPTIONS
from .marking import Mark


def render_markdown(sheet: Sheet, answers: bool = False) -> str:
    lines = [f"# Exercises: {DESCRIPTIONS[sheet.level]} (level {sheet.level}, seed {sheet.seed})", ""]
    for e in sheet.exercises:
        lines += [f"## Exercise {e.id[1:]}", "", "```", *e.layers, "```", ""]
        lines += [f"{q.id}. {q.prompt}" for q in e.questions] + [""]
    if answers:
        lines += ["# Answers", ""]
        for q in sheet.questions:
            lines += [f"**{q.id}**: {_expected(q.expected)}", "", *(f"- {w}" for w in q.worked), ""]
    return "\n".join(lines).rstrip() + "\n"


def render_json(sheet: Sheet, answers: bool = True) -> str:
    return json.dumps(sheet.to_dict(), indent=2, ensure_ascii=False) + "\n"


SHEET_CSS = (  # the server allows this one inline style by its hash (serve/_exercise.py)
    "body{font:14px/1.5 system-ui,sans-serif;max-width:46rem;margin:2rem auto;color:#1f2328}"
    "pre{background:#f6f8fa;padding:.5rem .75rem;border-radius:4px}.key{break-before:page}"
    "ol{padding-left:1.5rem}li{margin:.2rem 0}.worked{color:#424a53;margin:0 0 .6rem 0}"
    "@media print{body{margin:0}}")


def render_html(sheet: Sheet, answers: bool = True) -> str:
    title = escape(f"Exercises: {DESCRIPTIONS[sheet.level]} (level {sheet.level}, seed {sheet.seed})")
    head = f"<!doctype html><html><head><meta charset='utf-8'><title>{title}</title><style>{SHEET_CSS}</style>"
    parts = [head + f"</head><body><h1>{title}</h1>"]
    for e in sheet.exercises:
        parts.append(f"<h2>Exercise {escape(e.id[1:])}</h2><pre>{escape(chr(10).join(e.layers))}</pre><ol>")
        parts += [f"<li id='{escape(q.id)}'>{escape(q.prompt)}</li>" for q in e.questions]
        parts.append("</ol>")
    if answers:
        parts.append("<section class='key'><h1>Answer key</h1>")
        for q in sheet.questions:
            worked = "<br>".join(escape(w) for w in q.worked)
            parts.append(f"<p><b>{escape(q.id)}</b>: {escape(_expected(q.expected))}</p>"
                         f"<p class='worked'>{worked}</p>")
        parts.append("</section>")
    return "".join(parts) + "</body></html>\n"


def marks_dict(marks: list[Mark]) -> dict:
    """The marks' JSON (schema_version 1), for ``learnable check --format json`` and the page."""
    return {"schema_version": 1, "right": sum(1 for m in marks if m.ok), "questions": len(marks),
            "marks": [m.to_dict() for m in marks]}


def render_marks(marks: list[Mark], form: str = "text") -> str:
    if form == "json":
        return json.dumps(marks_dict(marks), indent=2, ensure_ascii=False) + "\n"
    lines = []
    for m in marks:
        sign = "✓" if m.ok else "·" if m.ok is None else "✗"
        lines.append(f"{sign} {m.question}: {m.verdict if not m.ok else _expected(m.expected)}")
        if m.first_wrong_step:
            lines.append(f"    first wrong step: {m.first_wrong_step}")
    lines.append(f"{sum(1 for m in marks if m.ok)} of {len(marks)} right")
    return "\n".join(lines) + "\n"


def _expected(value) -> str:
    if isinstance(value, list) and value and isinstance(value[0], int):
        return shape_text(value)
    if isinstance(value, list):
        return ", ".join(value) or "none"
    return f"{value:,}"
