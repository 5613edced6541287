"""Outputs safe to open (issue 19, item 5): whatever a layer's name holds, every renderer writes
text that encodes to UTF-8, shows hidden characters instead of obeying them, and cannot be
read as a formula (CSV), a tag or a link (Markdown), or a command (LaTeX)."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import subprocess
import sys

import pytest

import learnable
from learnable.compare import compare_reports
from learnable.explain import explain
from learnable.render import audit as audit_render
from learnable.render import compare as compare_render
from learnable.render import explain as explain_render
from learnable.render import render
from learnable.render.sweep import render_sweep

SURROGATE = "\ud800"  # a lone surrogate: no UTF-8 writer can encode it
RLO = "\u202e"  # right-to-left override: reorders what a reader sees ("Trojan Source")
HIDDEN = f"a{SURROGATE}b{RLO}c\x1b[2Jd\u2066e"
SHOWN = ("\\ud800", "\\u202e", "\\x1b", "\\u2066")


def net(name: str = HIDDEN) -> dict:
    return {"name": name, "input": [10], "layers": [{"Dense": {"units": 5, "name": name}}, {"Dense": 2}]}


def assert_safe(text: str) -> None:
    text.encode("utf-8")  # raised UnicodeEncodeError before: every format crashed on the surrogate
    assert not any(char in text for char in (SURROGATE, RLO, "\x1b", "\u2066")), text
    for escape in SHOWN:  # LaTeX writes the backslash as \textbackslash{}
        assert escape in text or escape.replace("\\", r"\textbackslash{}") in text, (escape, text)


@pytest.mark.parametrize("fmt", ["table", "markdown", "csv", "latex", "html"])
def test_every_count_format_shows_hidden_characters(fmt):
    assert_safe(render(learnable.count(net()), fmt, explain=True))


def test_json_escapes_hidden_characters_and_reads_back_the_same_name():
    text = render(learnable.count(net()), "json")
    text.encode("utf-8")
    assert SURROGATE not in text and RLO not in text and "\\ud800" in text and "\\u202e" in text
    data = json.loads(text)
    assert data["name"] == HIDDEN and data["layers"][1]["name"] == HIDDEN  # lossless: \uXXXX is JSON's escape


def test_the_rich_table_shows_hidden_characters():
    from learnable.render.table import render_text

    assert_safe(render_text(learnable.count(net())))


@pytest.mark.parametrize("fmt", ["table", "markdown", "csv", "json"])
def test_convention_both_shows_hidden_characters(fmt):
    text = render(learnable.compare_conventions(net()), fmt)
    text.encode("utf-8")
    assert SURROGATE not in text and RLO not in text and "\\u202e" in text


@pytest.mark.parametrize("fmt", ["table", "markdown", "json"])
def test_compare_shows_hidden_characters(fmt):
    comparison = compare_reports(learnable.count(net()), learnable.count(net("other")))
    text = getattr(compare_render, f"render_{fmt}")(comparison)
    text.encode("utf-8")
    assert SURROGATE not in text and RLO not in text and "\\u202e" in text


@pytest.mark.parametrize("fmt", ["table", "markdown", "csv", "json"])
def test_sweep_shows_hidden_characters(fmt):
    variants = list(learnable.sweep(net(), {"dense.units": [2, 3]}))
    text = render_sweep(["dense.units"], variants, fmt)
    text.encode("utf-8")
    assert SURROGATE not in text and RLO not in text and ("\\u202e" in text or fmt == "csv")  # CSV has no name


@pytest.mark.parametrize("fmt", ["table", "markdown", "json"])
def test_audit_shows_hidden_characters(tmp_path, fmt):
    claims = tmp_path / "claims.md"  # a file holds UTF-8, so no surrogate: the network's name has one
    claims.write_text(f"| Layer | Params |\n|---|---:|\n| x{RLO}y\x1b[2J | 7 |\n", encoding="utf-8")
    text = audit_render.render_audit(learnable.audit(net(), claims), fmt)
    text.encode("utf-8")
    assert SURROGATE not in text and RLO not in text and "\\u202e" in text


@pytest.mark.parametrize("render_explanation", ["render_text", "render_markdown", "render_json"])
def test_explain_shows_hidden_characters(render_explanation):
    explanation = dataclasses.replace(explain("Dense"), name=HIDDEN, doc=HIDDEN)
    text = getattr(explain_render, render_explanation)(explanation)
    text.encode("utf-8")
    assert SURROGATE not in text and RLO not in text and "\\u202e" in text


@pytest.mark.parametrize("fmt", ["table", "json", "markdown", "csv", "latex", "html"])
def test_the_command_writes_a_surrogate_name_in_every_format(tmp_path, fmt):
    spec = tmp_path / "net.json"
    spec.write_text('{"input": [10], "layers": [{"Dense": {"units": 5, "name": "a\\ud800b"}}]}')
    result = subprocess.run([sys.executable, "-m", "learnable", "count", str(spec), "-f", fmt],
                            capture_output=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert b"Traceback" not in result.stderr and b"ud800" in result.stdout


# ---- CSV: OWASP's CSV injection advice ------------------------------------------------------

FORMULAS = ["=cmd|' /C calc'!A0", "+1+cmd|' /C calc'!A0", "-2+3+cmd|' /C calc'!A0", "@SUM(1+1)*cmd|' /C calc'!A0",
            "\t=1+1", "\r=1+1"]


def csv_rows(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


@pytest.mark.parametrize("name", FORMULAS)
def test_csv_text_cells_that_start_a_formula_start_with_a_quote(name):
    rows = csv_rows(render(learnable.count({"input": [4], "layers": [{"Dense": {"units": 3, "name": name}}]}), "csv"))
    cell = rows[1]["name"]
    assert cell.startswith("'") and cell[1:] == name.replace("\r", "\\r")
    assert rows[1]["params"] == str(4 * 3 + 3)  # numbers stay numbers


def test_csv_keeps_numbers_and_names_that_are_numbers():
    rows = csv_rows(render(learnable.count({"input": [4], "layers": [{"Dense": {"units": 3, "name": "-1"}},
                                                                       {"Dense": {"units": 2, "name": "x"}}]}), "csv"))
    assert rows[1]["name"] == "-1"  # a number is a value, not a formula
    assert [r["params"] for r in rows] == ["0", str(4 * 3 + 3), str(3 * 2 + 2)]


def test_sweep_and_convention_csv_quote_formulas_too():
    spec = {"input": [4], "layers": [{"Dense": {"units": 3, "name": "=1+1"}}]}
    sweep_rows = list(csv.reader(io.StringIO(render_sweep(["=1+1.units"], list(
        learnable.sweep(spec, {"=1+1.units": [2, 3]})), "csv"))))
    assert sweep_rows[0][0] == "'=1+1.units" and sweep_rows[1][:2] == ["2", str(4 * 2 + 2)]  # numbers stay
    both = csv_rows(render(learnable.compare_conventions(spec), "csv"))
    assert any(value == "'=1+1" for row in both for value in row.values())
    assert not any(value.startswith("=") for row in both for value in row.values())


# ---- Markdown, LaTeX, HTML --------------------------------------------------------------------

TAG = "<img src=x onerror=alert(1)>"
LINK = "[click](javascript:alert(1))"


def test_markdown_never_passes_a_tag_or_a_link():
    report = learnable.count({"name": TAG, "input": [4], "layers": [
        {"Dense": {"units": 3, "name": TAG}}, {"Dense": {"units": 2, "name": LINK}}]})
    texts = [render(report, "markdown", explain=True), render(learnable.compare_conventions(report.name and {
        "name": TAG, "input": [4], "layers": [{"Dense": {"units": 3, "name": TAG}}]}), "markdown"),
        compare_render.render_markdown(compare_reports(report, learnable.count(net("b"))))]
    for text in texts:
        assert "<img" not in text and "&lt;img src=x onerror=alert(1)&gt;" in text
    assert "](" not in texts[0] and "[click]\\(javascript:alert(1))" in texts[0]


def test_latex_writes_angle_brackets_bars_and_hidden_characters_as_text():
    text = render(learnable.count(net(f"a<b>|{RLO}")), "latex")
    assert r"a\textless{}b\textgreater{}\textbar{}\textbackslash{}u202e" in text and RLO not in text


def test_html_escapes_tags_and_shows_hidden_characters():
    text = render(learnable.count(net(f"<script>x</script>{RLO}{SURROGATE}")), "html")
    text.encode("utf-8")
    assert "<script>x" not in text and "&lt;script&gt;x&lt;/script&gt;\\u202e\\ud800" in text
