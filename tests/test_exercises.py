"""Exercises and the marking of a student's work. Expected numbers are hand arithmetic on
the drawn network's knobs (each test first asserts the network it writes arithmetic for)."""

from __future__ import annotations

import json
import re

import pytest

import learnable
from learnable.cli import main
from learnable.errors import LearnableError
from learnable.exercises import LEVELS, check, exercise
from learnable.exercises.render import render_html, render_json, render_markdown


@pytest.mark.parametrize("level", list(LEVELS))
def test_same_seed_same_sheet_other_seed_other_sheet(level: str) -> None:
    first, again, other = exercise(level, 7, 10), exercise(level, 7, 10), exercise(level, 8, 10)
    assert render_json(first) == render_json(again)
    assert render_json(first) != render_json(other)


@pytest.mark.parametrize("level", list(LEVELS))
def test_worked_answers_evaluate_to_the_expected_answer(level: str) -> None:
    """The last line of a count's worked answer is arithmetic: evaluated here, it is the answer."""
    for q in exercise(level, 3, 10).questions:
        if q.kind in ("params", "total", "macs"):
            line = next(w for w in q.worked if w.startswith((f"{q.layer}: ", "total: ", "MACs: ")))
            arithmetic, _, result = line.split(": ", 1)[1].rpartition(" = ")
            arithmetic = arithmetic or result
            assert eval(arithmetic.replace(",", "").replace("×", "*")) == q.expected, (q.id, line)
            assert int(result.replace(",", "")) == q.expected


def _sheet(level: str, seed: int, first: list[str]):
    sheet = exercise(level, seed, 1)
    assert list(sheet.exercises[0].layers[:len(first)]) == first  # the network the arithmetic below is for
    return sheet, {q.id: q for q in sheet.questions}


CONV = ["input: 24 × 24 × 3", "conv2d: Conv2D(filters=4, kernel_size=3, strides=1, padding='valid')",
        "conv2d_1: Conv2D(filters=8, kernel_size=1, strides=1, padding='same')", "flatten: Flatten()",
        "dense: Dense(units=2)"]


def _marks(sheet, answers):
    return {m.question: m for m in check(sheet, answers)}


def test_each_classic_mistake_is_named() -> None:
    sheet, q = _sheet("conv", 1, CONV)
    assert [(k.id, k.kind, k.layer) for k in q.values()][:4] == [
        ("e1.q1", "params", "conv2d"), ("e1.q2", "output_shape", "conv2d"), ("e1.q3", "output_shape", "conv2d_1"),
        ("e1.q4", "params", "conv2d_1")]
    marks = _marks(sheet, {"e1.q1": 3 * 3 * 3 * 4,  # bias left out
                           "e1.q2": "24 x 24 x 4",  # 'valid' read as 'same'
                           "e1.q3": "22 x 22 x 8",  # right
                           "e1.q4": (1 * 1 * 8 + 1) * 8,  # its own 8 channels, not conv2d's 4
                           "e1.q5": (3 * 3 * 3 + 1) * 4 + (1 * 1 * 4 + 1) * 8 + (8 + 1) * 2})  # flatten: channels only
    assert marks["e1.q1"].mistake == "bias left out" and "bias: 4 was left out" in marks["e1.q1"].first_wrong_step
    assert marks["e1.q2"].mistake == "padding ignored" and "24 − 3 + 1 = 22" in marks["e1.q2"].first_wrong_step
    assert marks["e1.q3"].ok is True
    assert marks["e1.q4"].mistake == "input channels of the wrong layer"
    assert marks["e1.q5"].mistake == "flatten size wrong"


def test_off_by_one_and_padding_carried_into_the_flatten() -> None:
    sheet, _ = _sheet("conv", 1, CONV)
    marks = _marks(sheet, {"e1.q2": "21x21x4",  # 24 − 3 = 21: the + 1 left out
                           "e1.q5": (3 * 3 * 3 + 1) * 4 + (1 * 1 * 4 + 1) * 8 + (24 * 24 * 8 + 1) * 2})
    assert marks["e1.q2"].mistake == "off-by-one in a shape"
    assert marks["e1.q5"].mistake == "padding ignored"
    assert marks["e1.q5"].first_wrong_step.startswith("dense: 7,746")  # (22×22×8 + 1)×2


def test_batchnorm_moving_statistics_and_pooling_given_parameters() -> None:
    sheet, q = _sheet("branches", 1, ["input: 4 × 4 × 3"])
    bn = next(k for k in q.values() if k.layer == "bn" and k.convention == "pytorch")
    assert bn.expected == 2 * 32  # weight and bias of 16 + 16 concatenated channels
    mark = _marks(sheet, {bn.id: 4 * 32})[bn.id]
    assert mark.mistake == "BatchNorm's moving statistics" and "buffers" in mark.first_wrong_step
    conv = "conv2d: Conv2D(filters=2, kernel_size=3, padding='valid')"
    pool_sheet, pq = _sheet("pooling", 1, ["input: 8 × 8 × 1", conv, "average_pooling2d: AveragePooling2D(pool_size=2)"])
    none = next(k for k in pq.values() if k.kind == "no_params")
    assert _marks(pool_sheet, {none.id: ["flatten"]})[none.id].ok is False
    total = next(k for k in pq.values() if k.kind == "total")
    # the pooling window counted as a conv: 2×2×2×2 + 2
    wrong = (3 * 3 * 1 + 1) * 2 + (2 * 2 * 2 * 2 + 2) + (3 * 3 * 2 + 1) * 4
    assert _marks(pool_sheet, {total.id: wrong})[total.id].mistake == "pooling given parameters"


def test_a_table_of_answers_as_audit_reads_it(tmp_path) -> None:
    sheet, _ = _sheet("conv", 1, CONV)
    table = ("| Layer | Params | Output shape |\n|---|---:|---|\n| conv2d | 108 | 22×22×4 |\n"
             f"| conv2d_1 | 40 | 22×22×8 |\n| Total | {112 + 40 + (22 * 22 * 8 + 1) * 2:,} | |\n")
    marks = _marks(sheet, table)
    assert marks["e1.q1"].mistake == "bias left out"
    assert [marks[i].ok for i in ("e1.q2", "e1.q3", "e1.q4", "e1.q5")] == [True, True, True, True]
    assert marks["e1.q6"].ok is None


def test_cli_sheet_and_check(tmp_path, capsys) -> None:
    assert main(["exercise", "--level", "conv", "--seed", "1", "--count", "1", "--format", "json"]) == 0
    sheet = tmp_path / "sheet.json"
    sheet.write_text(capsys.readouterr().out)
    data = json.loads(sheet.read_text())
    assert data["schema_version"] == 1 and data["exercises"][0]["questions"][0]["id"] == "e1.q1"
    answers = tmp_path / "answers.json"
    answers.write_text(json.dumps({"e1.q1": 108}))
    assert main(["check", str(sheet), str(answers)]) == 1
    out = capsys.readouterr().out
    assert "bias left out at conv2d" in out and "0 of 6 right" in out
    assert main(["exercise", "--level", "dense", "--count", "0"]) == 2
    answers.write_text(json.dumps({"e9.q1": 1}))
    assert main(["check", str(sheet), str(answers)]) == 2
    assert "no question 'e9.q1'" in capsys.readouterr().err


def test_api_and_formats() -> None:
    sheet = learnable.exercise("pooling", seed=2, count=10)
    assert len(sheet.exercises) == 10
    md, page = render_markdown(sheet, True), render_html(sheet)
    assert md.count("## Exercise") == 10 and "# Answers" in md
    assert "break-before:page" in page and "<script" not in page
    assert re.search(r"zero padding keeps|− 3 \+ 1", md)
    with pytest.raises(LearnableError):
        learnable.exercise("nope")


def test_printable_sheet_in_headless_chromium(tmp_path) -> None:
    """The HTML sheet opened in Chromium: ten exercises, then the key on a page of its own."""
    from test_latex_html import CHROMIUM, CHROMIUM_ARGS, _playwright

    page_file = tmp_path / "sheet.html"
    page_file.write_text(render_html(exercise("conv", 1, 10)), encoding="utf-8")
    with _playwright().sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.goto(page_file.as_uri())
        assert page.locator("h2").count() == 10
        assert page.locator(".key").evaluate("e => getComputedStyle(e).breakBefore") == "page"
        page.screenshot(path=str(tmp_path / "sheet.png"), full_page=False)
        pdf = page.pdf()
        browser.close()
    assert pdf.count(b"/Type /Page") - pdf.count(b"/Type /Pages") >= 2


def test_a_number_two_mistakes_give_names_both() -> None:
    """dense_1 is Dense(3) on 4 inputs: (4 + 1) × 3 = 15. Without the bias, 4 × 3 = 12; with
    the bias but 3 inputs (the width of the wrong layer), (3 + 1) × 3 = 12 too."""
    sheet, q = _sheet("dense", 10, ["input: 32", "dense: Dense(units=4, use_bias=True)",
                                    "dense_1: Dense(units=3, use_bias=True)"])
    asked = next(k for k in q.values() if k.kind == "params" and k.layer == "dense_1")
    assert asked.expected == (4 + 1) * 3
    mark = _marks(sheet, {asked.id: 4 * 3})[asked.id]
    assert mark.mistakes == ("bias left out", "input channels of the wrong layer")
    assert "either bias left out at dense_1" in mark.verdict and "or input channels of the wrong layer" in mark.verdict
    assert "bias: 3 was left out" in mark.first_wrong_step and "kernel: 4 × 3 = 12" in mark.first_wrong_step


def test_a_flatten_shape_prints_as_the_table_does_and_either_form_is_right() -> None:
    sheet, q = _sheet("pooling", 1, ["input: 8 × 8 × 1", "conv2d: Conv2D(filters=2, kernel_size=3, padding='valid')",
                                     "average_pooling2d: AveragePooling2D(pool_size=2)", "flatten: Flatten()"])
    flat = next(k for k in q.values() if k.kind == "output_shape" and k.layer == "flatten")
    size = (8 - 3 + 1) // 2 * ((8 - 3 + 1) // 2) * 2  # 3 × 3 × 2 after the pooling
    assert flat.expected == [size] and flat.worked[-1] == f"output shape: ({size},)"  # the table's (512,)
    assert f"**{flat.id}**: ({size},)" in render_markdown(sheet, True)
    for form in (str(size), f"({size},)", [size]):
        assert _marks(sheet, {flat.id: form})[flat.id].ok is True, form


def test_questions_read_without_brackets_in_brackets() -> None:
    for level in LEVELS:
        for question in exercise(level, 4, 3).questions:
            assert not re.search(r"\([^)]*\(", question.prompt), question.prompt
    prompts = [k.prompt for k in _sheet("conv", 1, CONV)[1].values()]
    assert "How many parameters does the whole network have in Keras, as count_params() counts them?" in prompts


def test_exercise_check_is_learnable_check(tmp_path, capsys) -> None:
    assert main(["exercise", "--level", "conv", "--seed", "1", "--count", "1", "--format", "json"]) == 0
    sheet = tmp_path / "sheet.json"
    sheet.write_text(capsys.readouterr().out)
    answers = tmp_path / "answers.md"
    answers.write_text(f"| Layer | Params |\n|---|---:|\n| conv2d | {3 * 3 * 3 * 4} |\n")
    assert main(["exercise", "check", str(sheet), str(answers)]) == 1
    sub = capsys.readouterr().out
    assert main(["check", str(sheet), str(answers)]) == 1
    assert capsys.readouterr().out == sub and "bias left out at conv2d" in sub
    assert main(["exercise", "check", str(sheet), str(answers), "--format", "json"]) == 1
    assert json.loads(capsys.readouterr().out)["marks"][0]["mistakes"] == ["bias left out"]
    assert main(["exercise"]) == 2
    assert "give --level" in capsys.readouterr().err


def test_the_command_line_levels_are_the_levels_and_a_count_loads_no_exercises() -> None:
    # cli/_exercises.py lists the levels itself so that the parser imports nothing of the
    # exercises package (every start-up builds the parser): the list must not drift.
    import subprocess
    import sys

    from learnable.cli._exercises import LEVEL_NAMES

    assert LEVEL_NAMES == tuple(LEVELS)
    script = "import sys; from learnable.cli import build_parser; build_parser(); print('learnable.exercises' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == "False", result.stderr
