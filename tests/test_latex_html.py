"""The LaTeX and HTML renderers: golden files, escaping, no network, a notebook's HTML, and
the HTML report opened in a real headless Chromium.

Rewrite the golden files only on purpose: ``pytest tests/test_latex_html.py --update-golden``,
then read the diff.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from conftest import EXAMPLES, ROOT

import learnable
from learnable.render import FORMATS, render
from learnable.render.html import SVG_NS
from learnable.render.latex import latex_text
from learnable.report import LayerRow, Report

GOLDEN = Path(__file__).parent / "golden"
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = Path("/usr/bin/chromium")
# Chromium's own network chatter is refused on a closed machine; these flags keep it quiet.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]

CASES = {
    "simple_cnn.latex.tex": ("latex", False),
    "simple_cnn.explain.latex.tex": ("latex", True),
    "simple_cnn.html": ("html", False),
}
HOSTILE = "a_b&c%$"


@pytest.fixture(scope="module")
def resnet50() -> Report:
    return learnable.count("zoo:resnet50")


@pytest.mark.parametrize("golden", CASES, ids=list(CASES))
def test_rendering_matches_golden(golden, request):
    fmt, explain = CASES[golden]
    text = render(learnable.count(EXAMPLES / "simple_cnn.yaml"), fmt, explain=explain)
    path = GOLDEN / golden
    if request.config.getoption("--update-golden"):
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")


def test_latex_and_html_are_formats():
    assert {"latex", "html"} <= set(FORMATS)


def hostile_report() -> Report:
    layers = (
        LayerRow("in<put>", "Input", (4,), 0, 0, 0, "0"),
        LayerRow(HOSTILE, "Dense", (2,), 10, 10, 0, "4×2 + 2 = 10", inputs=("in<put>",)),
        LayerRow("x{y}~z^w\\v#", "Dense", (1,), 3, 3, 0, "2×1 + 1 = 3", inputs=(HOSTILE,)),
    )
    return Report(layers, name="net_&_<b>\"quoted\"</b>")


def _unescaped_ampersands(line: str) -> int:
    return len(re.findall(r"(?<!\\)&", line))


def test_latex_escapes_hostile_names():
    assert latex_text(HOSTILE) == r"a\_b\&c\%\$"
    assert latex_text("x{y}~z^w\\v#") == r"x\{y\}\textasciitilde{}z\textasciicircum{}w\textbackslash{}v\#"
    text = render(hostile_report(), "latex", explain=True)
    assert r"a\_b\&c\%\$ & Dense" in text
    # "<" and ">" typeset as ¡ and ¿ in LaTeX's default OT1 encoding: written as commands
    assert r'\caption{net\_\&\_\textless{}b\textgreater{}"quoted"\textless{}/b\textgreater{}}' in text
    # every row has exactly one cell separator fewer than its columns: no name split a row
    rows = [line for line in text.splitlines() if line.endswith(r"\\") and "multicolumn" not in line]
    assert {_unescaped_ampersands(line) for line in rows} == {5}  # 6 columns with --explain


def test_latex_arithmetic_is_math_and_numbers_keep_their_commas():
    text = render(learnable.count(EXAMPLES / "simple_cnn.yaml"), "latex", explain=True)
    assert r"9{,}216$\times$128 + 128 = 1{,}179{,}776" in text
    assert r"$\lfloor$(24 $-$ 2)/2$\rfloor$ + 1 = 12" in text
    assert not re.search("[×−⌊⌋⌈⌉]", text)
    assert r"\toprule" in text and r"\midrule" in text and r"\bottomrule" in text
    assert text.splitlines()[0].startswith("%") and "booktabs" in text.splitlines()[0]


def test_latex_depth_shows_the_block_tree(resnet50):
    text = render(resnet50, "latex", depth=2)
    assert r"    conv2 & stack (block) & (56, 56, 256) & 220{,}032 \\" in text
    assert r"    \quad conv\_block & conv\_block (block) & (56, 56, 256) & 76{,}928 \\" in text
    assert r"    \quad \quad 0\_conv & Conv2D & (56, 56, 256) & 16{,}640 \\" in text


def test_html_escapes_every_name():
    page = render(hostile_report(), "html")
    assert "<put>" not in page and '<b>"quoted"' not in page
    assert "in&lt;put&gt;" in page and "a_b&amp;c%$" in page and "&lt;b&gt;&quot;quoted&quot;" in page
    for svg in re.findall(r"<svg.*?</svg>", page, re.DOTALL):
        ET.fromstring(svg)  # well-formed: nothing a name holds broke the markup


@pytest.mark.parametrize("source", ["simple_cnn", "resnet50"])
def test_html_needs_no_network(source, resnet50):
    report = resnet50 if source == "resnet50" else learnable.count(EXAMPLES / "simple_cnn.yaml")
    page = render(report, "html", explain=True)
    assert set(re.findall(r"https?://[^\s\"'<>)]*", page)) == {SVG_NS}
    assert not re.search(r"<(script|link|img|iframe)\b|@import|@font-face|\bsrc=", page)
    assert set(re.findall(r"url\(([^)]*)\)", page)) <= {"#lrn-arrow"}


def test_repr_html_is_the_compact_report():
    report = learnable.count(EXAMPLES / "simple_cnn.yaml")
    html = report._repr_html_()
    assert "<table>" in html and "1,179,776" in html and "9,216×128 + 128 = 1,179,776" in html
    assert 'class="chart"' in html and 'class="diagram"' not in html
    assert "<html" not in html  # a fragment for a notebook's cell, its style scoped to .lrn
    css = re.search(r"<style>(.*?)</style>", html, re.DOTALL).group(1)
    selectors = re.findall(r"(?m)^([^{}\n]+)\{", css)
    assert selectors and all(s.startswith((".lrn", "@media")) for s in selectors)


def _playwright():
    """Playwright's sync API, or a skip that says what is missing."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed (pip install playwright)")
    if not CHROMIUM.exists():
        pytest.skip("no /usr/bin/chromium (apt-get install -y chromium chromium-driver)")
    return sync_api


def test_resnet50_report_in_headless_chromium(resnet50, tmp_path):
    sync_api = _playwright()
    page_file = tmp_path / "resnet50.html"
    page_file.write_text(render(resnet50, "html"), encoding="utf-8")
    requests: list[str] = []
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("request", lambda request: requests.append(request.url))
            page.goto(page_file.as_uri())
            _check_report(page, resnet50)
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "resnet50_report.png"), full_page=True)
        finally:
            browser.close()
    assert [url for url in requests if not url.startswith("file:")] == []
    assert (ARTIFACTS / "resnet50_report.png").stat().st_size > 10_000


def _check_report(page, report: Report) -> None:
    for selector in ("h1", "table", "svg.chart", "svg.diagram"):
        element = page.locator(selector)
        assert element.count() == 1, selector
        assert element.is_visible(), selector
        box = element.bounding_box()
        assert box and box["width"] > 100 and box["height"] > 100 or selector == "h1", (selector, box)
    assert page.locator("h1").inner_text() == "resnet50"
    assert "25,636,712" in page.locator(".cards").inner_text()
    # the table: every layer and block use (the tree fully open), with the arithmetic
    assert page.locator("table tbody tr").count() == len(report.layers) + len(report.blocks)
    assert "7×7×3×64 + 64 = 9,472" in page.locator("table").inner_text()
    # the chart: the 15 largest layers, largest first, each with its exact count
    with_params = [layer for layer in report.layers if layer.params]
    assert len(with_params) > 15 and page.locator("svg.chart rect").count() == 15
    first = page.locator("svg.chart g").first.text_content()
    assert f"{3 * 3 * 512 * 512 + 512:,} (" in first  # a 3×3 conv of conv5, the largest layer
    assert "predictions" in page.locator("svg.chart").text_content()  # 2,048×1,000 + 1,000, among the 15
    assert f"{2048 * 1000 + 1000:,} (" in page.locator("svg.chart").text_content()
    assert f"{len(with_params) - 15} (" in page.locator("figure figcaption").first.inner_text()
    # the diagram: one box per layer, the edges labelled with shapes, side-by-side branches
    assert page.locator("svg.diagram rect").count() == len(report.layers)
    assert "(56, 56, 256)" in page.locator("svg.diagram").text_content()
    xs = {page.locator("svg.diagram rect").nth(i).get_attribute("x") for i in range(12)}
    assert len(xs) == 2
