"""The page as a person sees it: the seed, VGG-16 and ResNet-50 from the zoo, a pasted PyTorch
class and a small Llama config.json, at desktop (1400×1000) and phone (390×844) widths, in
light and dark. Each view: nothing wider than the phone's screen outside the scroll areas
meant for it, the largest layer's name and exact count whole on screen, sizes in human
units, and no serious or critical axe-core violation. Screenshots go to test-artifacts/.

axe-core (MPL-2.0) is not vendored: the test installs it from the npm registry into
~/.cache/learnable-tests once (AXE_CORE_JS names another copy), and skips the contrast
check with the reason where neither npm nor a copy is at hand. Expected counts are the
papers' and the frameworks' published figures or hand arithmetic, never the tool's output.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import test_serve_page as serve_page
from test_serve_page import ARTIFACTS, EDITOR, LLAMA_CONFIG, WAIT_MS, expect, pick, total

browser, site = serve_page.browser, serve_page.site  # its fixtures: Chromium, and a server with only-local routes

AXE_CACHE = Path.home() / ".cache" / "learnable-tests"
DESKTOP, PHONE = {"width": 1400, "height": 1000}, {"width": 390, "height": 844}
# Scroll areas the page means to scroll sideways: the layer table, the diagram, the editor.
SCROLLERS = ".scroll, figure.diagram, .editor, .bars.all"

TINY_NET = """import torch.nn as nn

class TinyClassifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Linear(784, 256)
        self.classifier_with_a_rather_long_descriptive_name = nn.Linear(256, 10)

    def forward(self, x):
        return self.classifier_with_a_rather_long_descriptive_name(self.features(x).relu())
"""

# name: (how to open it, title, largest layer, its count, total)
VIEWS = {
    "seed": (None, "deeplizard-cnn", "dense", 20 * 20 * 3 * 2 + 2, 2_515),
    # VGG-16's fc1: 7×7×512 inputs × 4,096 + 4,096 (Simonyan & Zisserman 2014, config D: 138,357,544)
    "vgg16": ("zoo:vgg16", "vgg16", "fc1", 7 * 7 * 512 * 4096 + 4096, 138_357_544),
    # Keras's ResNet50 (keras.applications.ResNet50: 25,636,712): the largest are conv5's 3×3
    # convolutions, 3×3×512×512 + 512, the first of them named first (the classifier: 2,049,000)
    "resnet50": ("zoo:resnet50", "resnet50", "conv5/conv_block/residual/2_conv", 3 * 3 * 512 * 512 + 512, 25_636_712),
    "pasted": (TINY_NET, "TinyClassifier", "features", 784 * 256 + 256, 784 * 256 + 256 + 256 * 10 + 10),
    # the embedding and the head: 1,000 × 256 each; no view's count is larger
    "llama": (json.dumps(LLAMA_CONFIG, indent=2), "LlamaForCausalLM", None, 1000 * 256, None),
}


def axe_source() -> str | None:
    named = os.environ.get("AXE_CORE_JS")
    path = Path(named) if named else AXE_CACHE / "node_modules" / "axe-core" / "axe.min.js"
    if not path.exists() and not named and shutil.which("npm"):
        AXE_CACHE.mkdir(parents=True, exist_ok=True)
        subprocess.run(["npm", "install", "--no-save", "--no-audit", "--no-fund", "--prefix", str(AXE_CACHE),
                        "axe-core@4"], capture_output=True, timeout=180, check=False)
    return path.read_text(encoding="utf-8") if path.exists() else None


@pytest.fixture(scope="module")
def axe() -> str:
    source = axe_source()
    if source is None:
        pytest.skip("axe-core not at hand: no npm to install it and no AXE_CORE_JS")
    return source


def open_view(page, base: str, how: str | None) -> None:
    page.goto(base)
    expect()(total(page)).not_to_have_text("", timeout=WAIT_MS)
    if how is None:
        return
    if how.startswith("zoo:"):
        pick(page, how)
    else:
        page.fill(EDITOR, how)


def wide_elements(page, scrollers: str = SCROLLERS) -> list[str]:
    """Elements whose right edge passes the viewport, outside the scroll areas meant for it."""
    return page.evaluate("""(scrollers) => {
      const width = document.documentElement.clientWidth;
      return [...document.querySelectorAll("body *")].filter((el) => {
        const box = el.getBoundingClientRect();
        return box.width > 0 && box.right > width + 1 && !el.closest(scrollers) && !el.closest("option, select");
      }).map((el) => `${el.tagName.toLowerCase()}#${el.id}.${el.className}: right ${Math.round(el.getBoundingClientRect().right)}`);
    }""", scrollers)


def check_largest(page, name: str | None, count: int) -> None:
    row = page.locator("#chart .bar-row").first
    expect()(row.locator(".bar-value")).to_have_text(f"{count:,}", timeout=WAIT_MS)
    for part in (".bar-value", ".bar-label"):
        whole = row.locator(part).evaluate("el => el.scrollWidth <= el.clientWidth + 1 && "
                                           "el.getBoundingClientRect().right <= document.documentElement.clientWidth")
        assert whole, f"the largest layer's {part} is cut or off-screen"
    if name is not None:
        expect()(row.locator(".bar-label")).to_have_text(name)
    assert str(count) in row.get_attribute("title").replace(",", "")


def serious_violations(page, source: str) -> list[str]:
    page.evaluate(source)  # through DevTools, not an inline script: the page's CSP stays as it is
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:3]}"
            for v in result["violations"] if v["impact"] in ("serious", "critical")]


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
@pytest.mark.parametrize("view", list(VIEWS))
def test_each_view_fits_reads_and_passes_axe(site, axe, view, viewport, scheme):
    base, context, _ = site
    page = context.new_page()
    page.set_viewport_size(viewport)
    page.emulate_media(color_scheme=scheme)
    how, title, largest, count, all_params = VIEWS[view]
    open_view(page, base, how)
    check = expect()
    check(page.locator("#model-name")).to_have_text(title, timeout=WAIT_MS)
    assert page.title() == f"{title} · learnable"
    if all_params is not None:
        check(total(page)).to_have_text(f"{all_params:,}", timeout=WAIT_MS)
    check_largest(page, largest, count)
    assert page.locator('#totals [data-total="active_params"]').count() == 0  # no mixture of experts here
    assert "Active params" not in page.locator("#layers thead").inner_text()
    assert wide_elements(page) == [], "overflows the viewport"
    assert serious_violations(page, axe) == []
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"view_{view}_{'phone' if viewport is PHONE else 'desktop'}_{scheme}.png"),
                    full_page=True)


def test_memory_in_human_units_with_exact_bytes_and_folded_formulas(site):
    base, context, _ = site
    page = context.new_page()
    page.goto(base)
    page.fill(EDITOR, json.dumps(LLAMA_CONFIG))
    page.locator("#option-memory input").check()
    page.fill("#batch", "64")  # as typed, without Tab
    page.fill("#context", "4096")
    # KV cache: 2 (K and V) × 2 layers × 2 kv heads × 32 × 4 bytes (fp32) × 4,096 tokens × 64 = 256 MiB
    kv = page.locator("#memory [data-line='kv-total']")
    expect()(kv).to_contain_text("= 256.0 MiB", timeout=WAIT_MS)
    expect()(kv.locator(".bytes")).to_have_attribute("title", f"{2 * 2 * 2 * 32 * 4 * 4096 * 64:,} bytes")
    raw = re.findall(r"\d{1,3}(?:,\d{3}){2,} (?:B|bytes)\b", page.locator("#result").inner_text())
    assert raw == [], "sizes of a million bytes or more shown raw"
    for text in page.locator("#memory .folded").all_inner_texts():
        shown = text.split(" show all")[0]
        assert len(shown) <= 161, f"a formula of {len(shown)} characters is not folded"
    toggles = page.locator("#memory .fold-toggle")
    if toggles.count():
        toggles.first.click()
        expect()(toggles.first).to_have_text("show less")


def test_bytes_follow_the_cli_rule(site):
    """The page's humanBytes against the CLI's learnable._text.human for the same sizes."""
    from learnable._text import human

    base, context, _ = site
    page = context.new_page()
    page.goto(base)
    sizes = [0, 1, 1023, 1024, 1535, 1536, 10_060, 2**20 - 1, 5_160_938_368, 85_899_345_920, 2**40 * 3 + 7,
             405 * 10**9 * 2, 2**53 + 1]
    shown = page.evaluate("(sizes) => sizes.map((s) => LearnableUnits.humanBytes(BigInt(s)))", [str(s) for s in sizes])
    assert shown == [human(s) for s in sizes]
    # and the figure the issue quotes: 5,160,938,368 bytes / 2^30 = 4.806… GiB
    assert shown[sizes.index(5_160_938_368)] == "4.8 GiB"


def test_errors_name_their_position_once(site):
    base, context, _ = site
    page = context.new_page()
    page.goto(base)
    page.fill(EDITOR, "input: [1\nlayers: [")
    error = page.locator("#error")
    expect()(error).to_be_visible(timeout=WAIT_MS)
    text = error.inner_text()
    assert text.lower().count("line 2") == 1, text
    assert text.startswith("Line 2, column")


def test_zoo_picker_shows_titles_counts_and_groups(site):
    base, context, _ = site
    page = context.new_page()
    page.goto(base)
    vgg = page.locator('#start option[data-name="zoo:vgg16"]')
    expect()(vgg).to_have_count(1, timeout=WAIT_MS)
    text = vgg.inner_text()
    assert "VGG16" in text and "138,357,544 params" in text and "Simonyan & Zisserman 2014" in text  # the paper's
    groups = page.locator("#start optgroup").evaluate_all("gs => gs.map((g) => g.label)")
    assert groups == ["Examples", "Zoo: convolutional networks", "Zoo: transformers"]
    gpt2 = page.locator('#start optgroup[label="Zoo: transformers"] option[data-name="zoo:gpt2_small"]')
    assert "124,439,808 params" in gpt2.inner_text()  # Hugging Face GPT2Model.num_parameters()


def test_chart_scales_and_more(site):
    base, context, _ = site
    page = context.new_page()
    page.goto(base)
    pick(page, "zoo:resnet50")
    check = expect()
    rows = page.locator("#chart .bar-row")
    check(rows).to_have_count(15, timeout=WAIT_MS)
    more = page.locator("#chart .chart-more")
    check(more).to_contain_text("… and ")
    more.locator("button").click()
    assert rows.count() > 15
    page.click('#chart button[data-scale="share"]')
    # the largest layer's share: 2,359,808 / 25,636,712 = 9.20%
    check(rows.first.locator(".bar-value")).to_have_text("9.2%")
    page.click('#chart button[data-scale="log"]')
    check(page.locator('#chart button[data-scale="log"]')).to_have_attribute("aria-pressed", "true")


def test_keyboard_reaches_the_controls_with_a_visible_focus(site):
    base, context, _ = site
    page = context.new_page()
    page.goto(base)
    expect()(total(page)).not_to_have_text("", timeout=WAIT_MS)
    seen = []
    for _ in range(12):
        page.keyboard.press("Tab")
        seen.append(page.evaluate("""() => { const el = document.activeElement;
          const style = getComputedStyle(el);
          return [el.id || el.tagName, style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0]; }"""))
    assert ["start", True] in seen
    assert all(visible for _, visible in seen), str(seen)


def test_chart_notes_count_in_words_and_untraced_shapes_stay_empty(site):
    """VGG-16 has 13 convolutions and 3 dense layers with parameters: the chart shows 15, so
    "1 more layer" (not "1 more layers"). Code without an input traces no pooling shape: its
    cell is empty, as the CLI's, not "(None, None, None)"."""
    base, context, _ = site
    page = context.new_page()
    open_view(page, base, "zoo:vgg16")
    expect()(page.locator("#chart .chart-more")).to_contain_text(f"… and {13 + 3 - 15} more layer with parameters",
                                                               timeout=WAIT_MS)
    page.fill(EDITOR, """import torch.nn as nn

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 6, 5)
        self.pool = nn.MaxPool2d(2, 2)

    def forward(self, x):
        return self.pool(self.conv(x))
""")
    expect()(total(page)).to_have_text(f"{5 * 5 * 3 * 6 + 6:,}", timeout=WAIT_MS)
    cells = page.locator('#layers tbody tr[data-layer="pool"] td')
    expect()(cells.nth(2)).to_have_text("")
    expect()(page.locator('#layers tbody tr[data-layer="conv"] td').nth(2)).to_have_text("(6, None, None)")
    expect()(page.locator("#chart")).to_contain_text("1 layer without parameters is not shown")


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_exercise_page_fits_a_phone_and_passes_axe(site, axe, scheme):
    """The exercise sheet with its worked answers shown, at a phone's width: nothing wider than
    the screen but the networks' listings (they scroll), and readable in both schemes."""
    base, context, _ = site
    page = context.new_page()
    page.set_viewport_size(PHONE)
    page.emulate_media(color_scheme=scheme)
    page.goto(base + "exercise.html")
    expect()(page.locator(".exercise").first).to_be_visible(timeout=WAIT_MS)
    page.click("#show-answers")
    expect()(page.locator(".worked").first).to_be_visible()
    assert wide_elements(page, ".exercise pre") == [], "overflows the viewport"
    assert serious_violations(page, axe) == []
    page.screenshot(path=str(ARTIFACTS / f"exercise_phone_{scheme}.png"), full_page=True)
