"""The HTML report as a reader sees it and prints it, in Debian's Chromium (issue 20, part 2):
it prints whole (no inner scroll box, every row laid out, a PDF), no label is cut without its
full text as a tooltip, the totals cards are compact, the header says what fits the network,
and the totals are the published ones.

Each report is made as a user makes it: ``learnable count X --format html --macs --memory``.
Screenshots (desktop and print) and the PDFs are kept in test-artifacts/ to be looked at.
"""

from __future__ import annotations

import json
import math
import re

import pytest
from conftest import EXAMPLES, run_cli
from test_latex_html import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, _playwright

# A small Llama: head_dim 64 / 4 = 16, grouped queries (2 key-value heads), untied head.
LLAMA = {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "vocab_size": 1000, "hidden_size": 64,
         "intermediate_size": 128, "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2,
         "tie_word_embeddings": False, "rms_norm_eps": 1e-6, "max_position_embeddings": 128}
LLAMA_LAYER = (64 * 64 + 2 * (64 * 2 * 16) + 64 * 64  # q, k, v, o: no bias
               + 3 * 64 * 128  # gate, up, down
               + 2 * 64)  # two RMSNorm weights
EXPECTED_TOTAL = {
    # examples/simple_cnn.yaml, by hand: conv 3×3×1×32 + 32, conv 3×3×32×64 + 64, dense 9,216×128 + 128, 128×10 + 10
    "seed": (3 * 3 * 1 * 32 + 32) + (3 * 3 * 32 * 64 + 64) + (9216 * 128 + 128) + (128 * 10 + 10),
    # Keras documentation, Applications table: VGG16, 138.4M; keras.io/api/applications/vgg/ and
    # count_params() of keras.applications.VGG16() give 138,357,544
    "vgg16": 138_357_544,
    # embedding + 2 decoder layers + final norm + LM head
    "llama": 1000 * 64 + 2 * LLAMA_LAYER + 64 + 64 * 1000,
}
# The header line, written by hand: Keras's spec and Keras's VGG16 are channels_last (height, width,
# channels); a transformer has no spatial data format, so its header says nothing of one.
EXPECTED_SUB = {"seed": "7 layers · data format channels_last",  # input, 2 conv, pool, flatten, 2 dense
                "vgg16": "23 layers · data format channels_last"}  # input, 13 conv, 5 pool, flatten, 3 dense
A4_CONTENT = (210 - 2 * 12) / 25.4 * 96, (297 - 2 * 12) / 25.4 * 96  # px at 96 dpi inside 12 mm margins
LONG_NAME = "classifier_" + "very_long_dense_layer_name_" * 3 + "end"


def _source(case: str, tmp_path) -> str:
    if case == "seed":
        return str(EXAMPLES / "simple_cnn.yaml")
    if case == "vgg16":
        return "zoo:vgg16"
    if case == "long_name":  # a name longer than any label has room for
        spec = (EXAMPLES / "simple_cnn.yaml").read_text(encoding="utf-8").replace("name: fc_1", f"name: {LONG_NAME}")
        (tmp_path / "long.yaml").write_text(spec, encoding="utf-8")
        return str(tmp_path / "long.yaml")
    (tmp_path / "config.json").write_text(json.dumps(LLAMA), encoding="utf-8")
    return str(tmp_path / "config.json")


@pytest.fixture(scope="module")
def browser():
    sync_api = _playwright()
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def report_page(browser, tmp_path, request):
    """A function opening one case's report at desktop width; the page is closed after the test."""
    pages = []

    def open_report(case: str):
        source = _source(case, tmp_path)
        result = run_cli("count", source, "--format", "html", "--macs", "--memory")
        assert result.returncode == 0, result.stderr
        path = tmp_path / f"{case}.html"
        path.write_text(result.stdout, encoding="utf-8")
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        pages.append(page)
        page.goto(path.as_uri())
        return page, source

    yield open_report
    for page in pages:
        page.close()


CASES = ["seed", "vgg16", "llama"]

SCROLL_BOXES = """() => [...document.querySelectorAll('body *')].filter(e => {
  const s = getComputedStyle(e);
  const scrolls = v => v === 'auto' || v === 'scroll';
  return (scrolls(s.overflowY) && e.scrollHeight > e.clientHeight + 1)
      || (scrolls(s.overflowX) && e.scrollWidth > e.clientWidth + 1);
}).map(e => e.tagName + '.' + e.className)"""


@pytest.mark.parametrize("case", CASES)
def test_the_report_prints_whole(case, report_page):
    page, _ = report_page(case)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"report_{case}_desktop.png"), full_page=True)
    page.emulate_media(media="print")
    page.set_viewport_size({"width": round(A4_CONTENT[0]), "height": round(A4_CONTENT[1])})
    assert page.evaluate(SCROLL_BOXES) == []
    # nothing wider than the paper: no cut-off chart, diagram or table column
    assert page.evaluate("document.documentElement.scrollWidth") <= round(A4_CONTENT[0])
    for svg in page.locator("svg").all():
        box = svg.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= A4_CONTENT[0] + 0.5, box
    rows = page.locator("table tbody tr")
    last = rows.nth(rows.count() - 1)
    names = page.evaluate("[...document.querySelectorAll('table tbody tr td:first-child')].map(td => td.innerText)")
    assert last.bounding_box()["height"] > 0 and last.is_visible()
    assert names[-1] == {"seed": "fc_2", "vgg16": "predictions", "llama": "lm_head"}[case]
    page.screenshot(path=str(ARTIFACTS / f"report_{case}_print.png"), full_page=True)
    height = page.evaluate("document.documentElement.scrollHeight")
    pdf = page.pdf(format="A4", margin={side: "12mm" for side in ("top", "right", "bottom", "left")},
                   print_background=True)
    (ARTIFACTS / f"report_{case}.pdf").write_bytes(pdf)
    pages = len(re.findall(rb"/Type\s*/Page(?!s)", pdf))
    # as many pages as the printed height needs, and a few more where a row or card moved to the next page
    estimate = math.ceil(height / A4_CONTENT[1])
    assert estimate <= pages <= estimate + max(1, estimate // 4), (pages, height)


@pytest.mark.parametrize("case", [*CASES, "long_name"])
def test_no_label_is_cut_without_its_full_name(case, report_page):
    page, source = report_page(case)
    result = run_cli("count", source, "--format", "json")
    names = {layer["name"] for layer in json.loads(result.stdout)["layers"]}
    labels = page.evaluate("""() => [...document.querySelectorAll(
        'svg.chart g > text:first-of-type, svg.diagram g > text:first-of-type')].map(t => {
      const title = t.querySelector('title');
      const shown = [...t.childNodes].filter(n => n.nodeType === 3).map(n => n.data).join('');
      const box = t.getBBox(), frame = t.closest('g').querySelector('rect');
      return {shown, title: title ? title.textContent : null, left: box.x, right: box.x + box.width,
              chart: !!t.closest('svg.chart'), frame: frame && !t.closest('svg.chart')
                ? [frame.x.baseVal.value, frame.x.baseVal.value + frame.width.baseVal.value] : null};
    })""")
    assert labels
    clipped = 0
    for label in labels:
        if label["shown"] in names:
            assert label["title"] is None or label["title"] == label["shown"], label
        else:  # shortened: the tooltip holds the whole name, which ends as the label does
            clipped += 1
            assert label["shown"].startswith("…") and label["title"] in names, label
            assert label["title"].endswith(label["shown"][1:]) and len(label["title"]) > len(label["shown"]), label
        assert label["left"] >= 0, label  # not cut at the chart's left edge
    # every text of a diagram's box, its name and its type and count, stays inside the box
    overflowing = page.evaluate("""[...document.querySelectorAll('svg.diagram g')].flatMap(g => {
      const rect = g.querySelector('rect'), left = rect.x.baseVal.value, right = left + rect.width.baseVal.value;
      return [...g.querySelectorAll('text')].map(t => t.getBBox())
        .filter(b => b.x < left || b.x + b.width > right).map(b => g.textContent);
    })""")
    assert overflowing == []
    if case in ("llama", "long_name"):  # names longer than a box or a chart label holds
        assert clipped, labels


@pytest.mark.parametrize("case", CASES)
def test_totals_cards_are_compact(case, report_page):
    page, _ = report_page(case)
    cards = page.evaluate("""() => [...document.querySelectorAll('.cards .card')].map(c => {
      const big = [...c.querySelectorAll('*')].filter(e => parseFloat(getComputedStyle(e).fontSize) > 14)
        .map(e => e.innerText);
      const value = c.querySelector('b');
      return {value: value.innerText, label: c.querySelector('span').innerText, big, width: c.offsetWidth,
              valueHeight: value.offsetHeight, valueSize: parseFloat(getComputedStyle(value).fontSize)};
    })""")
    title_size = page.evaluate("parseFloat(getComputedStyle(document.querySelector('h1')).fontSize)")
    by_label = {card["label"]: card for card in cards}
    # MACs, FLOPs and memory each get a card of their own, not a sentence
    assert {"Total params", "Total MACs", "Total FLOPs", "Inference memory"} <= set(by_label)
    for card in cards:
        assert len(card["value"]) <= 24 and card["value"].count(" ") <= 1, card  # a number, perhaps a unit
        assert all(len(text) <= 24 for text in card["big"]), card  # only a number is in large type
        assert card["valueSize"] <= title_size, card
        assert card["valueHeight"] <= 2 * card["valueSize"], card  # one line
        assert card["width"] <= 320, card
    assert re.fullmatch(r"\d[\d,]*\.\d (KiB|MiB|GiB)", by_label["Inference memory"]["value"])
    macs, flops = (int(by_label[label]["value"].replace(",", "")) for label in ("Total MACs", "Total FLOPs"))
    assert flops == 2 * macs  # the default convention, 2 FLOPs per multiply-accumulate
    if case == "seed":  # by hand: each output element of a conv or dense layer is one MAC per weight
        assert macs == 26 * 26 * 32 * (3 * 3 * 1) + 24 * 24 * 64 * (3 * 3 * 32) + 9216 * 128 + 128 * 10


@pytest.mark.parametrize("case", CASES)
def test_header_and_total(case, report_page):
    page, _ = report_page(case)
    sub = page.locator("p.sub").inner_text()
    if case == "llama":
        assert "data format" not in sub and re.fullmatch(r"\d+ layers", sub)
    else:
        assert sub == EXPECTED_SUB[case]
    total = page.locator(".card", has_text="Total params").locator("b").inner_text()
    assert total == f"{EXPECTED_TOTAL[case]:,}"
    # the chart's bars are linear, largest first: each bar's length is in proportion to its count
    bars = page.evaluate("""[...document.querySelectorAll('svg.chart g')].map(g => [
      g.querySelector('rect').width.baseVal.value,
      Number(g.querySelector('text:last-of-type').textContent.split(' ')[0].replaceAll(',', ''))])""")
    counts = [count for _, count in bars]
    assert counts == sorted(counts, reverse=True) and counts[0] > 0
    for width, count in bars:
        assert width == pytest.approx(max(1.5, bars[0][0] * count / counts[0]), abs=0.1)


def test_code_without_an_input_shows_no_untraced_shape(tmp_path):
    """Code counted from its constructors traces no pooling shape: the report's table, graph
    boxes and edges leave it out, as the terminal table does, instead of "(None, None, None)"."""
    code = tmp_path / "net.py"
    code.write_text("import torch.nn as nn\n\nclass Net(nn.Module):\n    def __init__(self):\n"
                    "        super().__init__()\n        self.conv = nn.Conv2d(3, 6, 5)\n"
                    "        self.pool = nn.MaxPool2d(2, 2)\n\n    def forward(self, x):\n"
                    "        return self.pool(self.conv(x))\n\nnet = Net()\n")
    done = run_cli("count", str(code), "--format", "html")
    assert done.returncode == 0, done.stderr
    assert "(None, None, None)" not in done.stdout
    assert "(6, None, None)" in done.stdout  # the channels are known: that shape is partly traced
    assert f"{5 * 5 * 3 * 6 + 6:,}" in done.stdout
