"""The exercise page's routes (docs/exercises.md), run in the server's workers as a count is.

``POST /api/exercise`` ``{level, seed, count}`` draws a sheet; ``POST /api/exercise/check``
``{sheet, answers}`` marks a student's answers; ``GET /exercise/sheet.html?level=&seed=&count=``
is the printable sheet ``learnable exercise --format html`` writes. Every field is checked
before anything is drawn: a level of :data:`LEVELS`, a seed of 0 to 2^63 − 1 (a number, or
its digits as a string: a browser's numbers are exact only to 2^53), at most
:data:`MAX_COUNT` networks; anything else is one 400 line naming the field.
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any
from urllib.parse import parse_qs

from ..exercises.levels import LEVELS
from .api import RequestError

MAX_COUNT = 50  # a sheet of 50 branches networks is marked in about 4 s, under a count's 10 s
MAX_SEED = 2**63 - 1
MAX_ANSWER_CHARS = 200  # an answer is a number, a shape or a few layer names
ROUTES = {"/api/exercise": "exercise", "/api/exercise/check": "check"}  # POST path → worker route
SHEET_PATH = "/exercise/sheet.html"


def sheet_request(body: bytes) -> dict[str, Any]:
    """POST /api/exercise: the sheet's JSON (schema_version 1), worked answers included."""
    from ..exercises import exercise

    level, seed, count = _drawn(_object(body, ("level", "seed", "count")), "")
    return exercise(level, seed, count).to_dict()


def check_request(body: bytes) -> dict[str, Any]:
    """POST /api/exercise/check: each answer marked, as ``learnable check --format json``."""
    from ..errors import LearnableError
    from ..exercises import check
    from ..exercises.render import marks_dict

    request = _object(body, ("sheet", "answers"))
    sheet, answers = request.get("sheet"), request.get("answers")
    if not isinstance(sheet, dict) or not isinstance(sheet.get("exercises"), list):
        raise RequestError(400, "'sheet' must be the sheet's JSON object, as POST /api/exercise answers it")
    level, seed, _ = _drawn({"level": sheet.get("level"), "seed": sheet.get("seed"),
                             "count": len(sheet["exercises"])}, "sheet.")
    try:
        return marks_dict(check({**sheet, "level": level, "seed": seed}, _answers(answers)))
    except LearnableError as err:
        raise RequestError(400, str(err)) from None


def printable_request(body: bytes) -> dict[str, Any]:
    """The printable sheet's HTML (the server sends it as the page, under :data:`SHEET_CSP`)."""
    from ..exercises import exercise
    from ..exercises.render import render_html

    return {"html": render_html(exercise(*_drawn(_object(body, ("level", "seed", "count")), "")))}


HANDLERS = {"exercise": sheet_request, "check": check_request, "sheet": printable_request}


def sheet_query(path: str) -> bytes:
    """GET /exercise/sheet.html?level=conv&seed=1&count=10 → the worker's request body."""
    query = parse_qs(path.partition("?")[2])  # the path is bounded by the head's 16 KiB
    return json.dumps({key: values[-1] for key, values in query.items()}).encode("utf-8")


def _sheet_csp() -> str:
    """The printable sheet's one inline <style>, allowed by its hash; no script at all."""
    from ..exercises.render import SHEET_CSS

    digest = base64.b64encode(hashlib.sha256(SHEET_CSS.encode("utf-8")).digest()).decode("ascii")
    return (f"default-src 'none'; style-src 'sha256-{digest}'; base-uri 'none'; form-action 'none'; "
            "frame-ancestors 'none'")


def sheet_headers() -> dict[str, str]:
    return {"Content-Type": "text/html; charset=utf-8", "Content-Security-Policy": _sheet_csp()}


# --- checking a request ---------------------------------------------------------------------

def _object(body: bytes, fields: tuple[str, ...]) -> dict[str, Any]:
    try:
        request = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as err:
        raise RequestError(400, f"the request body is not JSON: {err}") from None
    if not isinstance(request, dict):
        raise RequestError(400, f"the request body must be a JSON object with {', '.join(fields)}")
    unknown = sorted(set(request) - set(fields))
    if unknown:
        raise RequestError(400, f"unknown field {unknown[0]!r}; the fields are {', '.join(fields)}")
    return request


def _drawn(request: dict[str, Any], prefix: str) -> tuple[str, int, int]:
    """(level, seed, count), each checked; ``prefix`` names where they were read."""
    level = request.get("level")
    if level not in LEVELS:
        raise RequestError(400, f"'{prefix}level' must be one of {', '.join(LEVELS)}, got "
                                f"{json.dumps(level)[:40]}")
    seed = _whole(request.get("seed", 0), f"{prefix}seed", MAX_SEED)
    count = _whole(request.get("count", 10), f"{prefix}count", MAX_COUNT, least=1)
    return level, seed, count


def _whole(value: Any, name: str, most: int, least: int = 0) -> int:
    """A whole number from least to most, sent as a number or as its digits."""
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit() and len(value) <= 20:
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool) or not least <= value <= most:
        raise RequestError(400, f"'{name}' must be a whole number from {least} to {most:,}, got "
                                f"{json.dumps(value)[:40]}")
    return value


def _answers(answers: Any) -> dict[str, Any]:
    """Question id → the text typed (or a number, or a list of names); empty ones dropped."""
    if not isinstance(answers, dict):
        raise RequestError(400, "'answers' must be an object of question id → answer, such as {\"e1.q1\": \"112\"}")
    given = {}
    for key, value in answers.items():
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            value = ", ".join(value)
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise RequestError(400, f"answers: {key[:20]!r}: an answer is text or a number")
        if len(str(value)) > MAX_ANSWER_CHARS:
            raise RequestError(400, f"answers: {key[:20]!r}: over {MAX_ANSWER_CHARS} characters")
        if str(value).strip():
            given[key] = value
    return given
