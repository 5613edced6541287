"""Exercises with worked answers, and the marking of a student's attempt (docs/exercises.md).

:func:`exercise` draws a sheet of small networks at a level (levels.py) from a seed, counts
them through the normal spec path, and asks questions whose worked answers are printed from
the rules' own expressions (answers.py). :func:`check` marks a student's answers and names
the classic mistake a wrong number comes from (mistakes.py, marking.py).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..errors import SpecError
from .generate import SCHEMA_VERSION, Exercise, Sheet, exercise
from .levels import LEVELS
from .marking import Mark, mark
from .student import read_answers

__all__ = ["LEVELS", "SCHEMA_VERSION", "Exercise", "Mark", "Sheet", "check", "exercise", "load_sheet"]


def load_sheet(source: Any) -> Sheet:
    """A sheet from its JSON (a path, the text, or the dict), drawn again from its level and
    seed; a sheet whose networks differ (another version drew it) is refused."""
    if isinstance(source, Sheet):
        return source
    data = source if isinstance(source, dict) else json.loads(_read(source, "sheet"))
    if not isinstance(data, dict) or data.get("kind") != "learnable.exercises":
        raise SpecError("sheet: not a learnable exercise sheet (make one with learnable exercise --format json)")
    sheet = exercise(data["level"], int(data["seed"]), len(data["exercises"]))
    if sheet.to_dict()["exercises"] != data["exercises"]:
        raise SpecError("sheet: its networks differ from what this version draws for its level and seed")
    return sheet


def check(sheet: Any, answers: Any) -> list[Mark]:
    """Mark ``answers`` (a dict of question id → answer, or a file / text: JSON or a table)."""
    loaded = load_sheet(sheet)
    given = answers if isinstance(answers, dict) else read_answers(loaded, _read(answers, "answers"))
    return mark(loaded, given)


def _read(source: Any, what: str) -> str:
    text = str(source)
    if "\n" in text or text.lstrip().startswith(("{", "|")):
        return text
    try:
        return Path(text).read_text(encoding="utf-8")
    except OSError as err:
        raise SpecError(f"{text}: cannot read the {what}: {err.strerror or err}") from None
