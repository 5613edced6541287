"""The exercise page's routes (POST /api/exercise, /api/exercise/check, GET the printable
sheet) through a real server, and the page in Debian's headless Chromium: draw a sheet,
answer one question right and one with the bias dropped, check, see both marks.

Expected numbers are hand arithmetic on the drawn network's knobs (the network is asserted
first), never the tool's output.
"""

from __future__ import annotations

import base64
import hashlib
import re
import urllib.request

import pytest
from test_exercises import CONV
from test_serve_api import request, running_server
from test_serve_page import WAIT_MS, browser, expect, shot, site  # noqa: F401 (fixtures)

from learnable.exercises import LEVELS
from learnable.serve._files import static_file

CONV_PARAMS = (3 * 3 * 3 + 1) * 4  # conv2d: 3×3 kernel, 3 input channels, 4 filters, a bias each
NO_BIAS = 3 * 3 * 3 * 4


@pytest.fixture(scope="module")
def base():
    with running_server() as address:
        yield address


def _sheet(base: str, **fields) -> dict:
    status, payload, _ = request(base, "/api/exercise", {"level": "conv", "seed": 1, "count": 1, **fields})
    assert status == 200, payload
    return payload


def test_a_sheet_and_its_marking(base) -> None:
    sheet = _sheet(base)
    assert sheet["exercises"][0]["layers"][:len(CONV)] == CONV  # the network the arithmetic is for
    q1 = sheet["exercises"][0]["questions"][0]
    assert (q1["id"], q1["layer"], q1["expected"]) == ("e1.q1", "conv2d", CONV_PARAMS)
    status, marked, _ = request(base, "/api/exercise/check",
                                {"sheet": sheet, "answers": {"e1.q1": str(NO_BIAS), "e1.q2": "22x22x4", "e1.q3": ""}})
    assert status == 200, marked
    marks = {m["question"]: m for m in marked["marks"]}
    assert marks["e1.q1"]["ok"] is False and marks["e1.q1"]["mistakes"] == ["bias left out"]
    assert marks["e1.q1"]["first_wrong_step"] == "bias: 4 was left out"
    assert marks["e1.q2"]["ok"] is True and marks["e1.q3"]["ok"] is None
    assert marked["right"] == 1 and marked["questions"] == len(sheet["exercises"][0]["questions"])


def test_a_seed_past_a_browsers_exact_numbers_is_taken_as_digits(base) -> None:
    top = str(2**63 - 1)
    sheet = _sheet(base, seed=top, level="dense")
    assert sheet["seed"] == 2**63 - 1
    status, marked, _ = request(base, "/api/exercise/check", {"sheet": {**sheet, "seed": top}, "answers": {}})
    assert status == 200 and marked["right"] == 0


@pytest.mark.parametrize(("fields", "names"), [
    ({"level": "nope"}, "'level' must be one of dense"),
    ({"seed": 2**63}, "'seed' must be a whole number from 0"),
    ({"seed": -1}, "'seed'"), ({"seed": "1e3"}, "'seed'"), ({"seed": 1.5}, "'seed'"), ({"seed": True}, "'seed'"),
    ({"count": 51}, "'count' must be a whole number from 1 to 50"), ({"count": 0}, "'count'"),
    ({"answers": 1}, "unknown field 'answers'"),
])
def test_bad_fields_are_one_400_line(base, fields, names) -> None:
    status, payload, _ = request(base, "/api/exercise", {"level": "conv", **fields})
    assert status == 400 and names in payload["error"]["message"]
    assert "\n" not in payload["error"]["message"]


def test_a_bad_check_is_one_400_line(base) -> None:
    sheet = _sheet(base)
    cases = [({"sheet": {**sheet, "seed": 2}, "answers": {}}, "its networks differ"),
             ({"sheet": sheet, "answers": {"e9.q1": "1"}}, "no question 'e9.q1'"),
             ({"sheet": sheet, "answers": {"e1.q1": "9" * 201}}, "over 200 characters"),
             ({"sheet": sheet, "answers": {"e1.q1": {"a": 1}}}, "an answer is text or a number"),
             ({"sheet": {**sheet, "exercises": sheet["exercises"] * 51}, "answers": {}}, "'sheet.count'"),
             ({"sheet": "conv", "answers": {}}, "'sheet' must be the sheet's JSON object")]
    for body, message in cases:
        status, payload, _ = request(base, "/api/exercise/check", body)
        assert status == 400 and message in payload["error"]["message"], (message, payload)
    status, marked, _ = request(base, "/api/exercise/check", {"sheet": sheet, "answers": {"e1.q1": "1O8"}})
    assert status == 200 and "not a whole number" in marked["marks"][0]["verdict"]  # a typo marks its line


def test_the_printable_sheet_is_the_clis_page_under_a_strict_policy(base) -> None:
    with urllib.request.urlopen(base + "exercise/sheet.html?level=conv&seed=1&count=2") as answer:
        page, policy = answer.read().decode("utf-8"), answer.headers["Content-Security-Policy"]
        assert answer.headers["Content-Type"].startswith("text/html")
    assert page.count("<h2>") == 2 and "Answer key" in page and "<script" not in page
    style = re.search(r"<style>(.*?)</style>", page, re.DOTALL)[1]
    digest = base64.b64encode(hashlib.sha256(style.encode("utf-8")).digest()).decode()
    assert f"style-src 'sha256-{digest}'" in policy and "script-src" not in policy and "default-src 'none'" in policy
    status, payload, _ = request(base, "/exercise/sheet.html?level=conv&count=99")
    assert status == 400 and "'count'" in payload["error"]["message"]
    assert request(base, "/api/exercise")[0] == 405


def test_the_pages_levels_are_the_exercises_levels() -> None:
    html = static_file("/exercise.html")[0].decode("utf-8")
    assert re.findall(r'<option value="([a-z]+)"', html) == list(LEVELS)
    assert 'href="exercise.html"' in static_file("/index.html")[0].decode("utf-8")
    script = static_file("/exercise.js")[0].decode("utf-8")
    assert "innerHTML" not in script and "insertAdjacentHTML" not in script  # data goes in as text


def drawn(served):
    """The exercise page with the sheet of one conv exercise, seed 1, drawn (not the one drawn on load)."""
    address, context, _ = served
    page = context.new_page()
    page.goto(address + "exercise.html")
    page.select_option("#level", "conv")
    page.fill("#seed", "1")
    page.fill("#count", "1")
    page.click("#generate")
    expect()(page.locator(".exercise")).to_have_count(1, timeout=WAIT_MS)
    return page, context


def test_the_page_marks_a_right_answer_and_names_a_dropped_bias(site) -> None:  # noqa: F811
    page, context = drawn(site)
    check = expect()
    first = page.locator('.question[data-question="e1.q1"]')
    check(first).to_contain_text("How many parameters does conv2d (Conv2D) have in Keras", timeout=WAIT_MS)
    check(page.locator(".exercise pre")).to_contain_text(CONV[1])
    first.locator("input").fill(str(NO_BIAS))
    page.locator('.question[data-question="e1.q2"] input').fill("22 x 22 x 4")
    page.click("#check")
    check(first.locator(".verdict")).to_have_text("wrong", timeout=WAIT_MS)
    check(first.locator(".mistake")).to_have_text("bias left out")
    check(first.locator(".step")).to_have_text("first wrong step: bias: 4 was left out")
    check(page.locator('.question[data-question="e1.q2"] .verdict')).to_have_text("right")
    check(page.locator("#score")).to_contain_text("1 of ")
    page.click("#show-answers")
    check(first.locator(".worked b")).to_have_text(f"{CONV_PARAMS:,}")
    check(first.locator(".worked")).to_contain_text(f"= {CONV_PARAMS:,}")
    shot(page, "exercise")
    with context.expect_page() as popup:
        page.click("#print")
    sheet = popup.value
    sheet.wait_for_load_state()
    assert sheet.locator("h2").count() == 1
    assert sheet.locator(".key").evaluate("e => getComputedStyle(e).breakBefore") == "page"  # its style ran


def test_the_address_keeps_the_sheet(site) -> None:  # noqa: F811
    """A drawn sheet's address (level, seed, count) opens the same sheet for whoever follows it."""
    page, context = drawn(site)
    check = expect()
    check(page.locator(".exercise pre")).to_contain_text(CONV[1], timeout=WAIT_MS)
    shared = page.url
    assert shared.endswith("#level=conv&seed=1&count=1")
    other = context.new_page()
    other.goto(shared)
    check(other.locator(".exercise")).to_have_count(1, timeout=WAIT_MS)
    check(other.locator(".exercise pre")).to_contain_text(CONV[1], timeout=WAIT_MS)
    assert other.locator("#seed").input_value() == "1"
