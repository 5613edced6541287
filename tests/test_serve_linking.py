"""The page's editor and its linked views, in Debian's headless Chromium (as test_serve_page):
CodeMirror's highlighting of YAML and Python, a layer chosen in the table, the graph or the
editor shown in the other two, and the panel with its arithmetic and both conventions' counts.

Expected numbers are hand arithmetic; expected lines are found in the text typed, by the
words the layer is written with, never taken from the server's answer.
"""

from __future__ import annotations

import re
from urllib.parse import urlencode

import test_serve_page
from test_serve_page import BATCHNORM, CIFAR_NET, EDITOR, SEED, SEED_TOTAL, WAIT_MS, expect, layer_row, shot, total

browser, site = test_serve_page.browser, test_serve_page.site  # the page tests' fixtures


LINKED = re.compile(r"\blinked\b")


def line_of(text: str, words: str, occurrence: int = 1) -> int:
    """The 1-based line of ``text`` where ``words`` appear the ``occurrence``-th time."""
    lines = [n for n, line in enumerate(text.splitlines(), 1) if words in line]
    return lines[occurrence - 1]


def cursor_line(page) -> int:
    return page.evaluate("(() => { const s = LearnableEditor.view.state; "
                         "return s.doc.lineAt(s.selection.main.head).number; })()")


def typed(site, text: str):
    """A page opened on a shared link to ``text`` (the address carries the spec)."""
    base, context, _ = site
    page = context.new_page()
    page.goto(f"{base.rstrip('/')}/#{urlencode({'spec': text})}")
    page.locator("#status:has-text('params'), #error:visible").first.wait_for(timeout=WAIT_MS)
    assert page.locator("#spec").input_value() == text
    return page


def test_seed_highlighted_and_linked_both_ways(site):
    page = typed(site, SEED)
    check = expect()
    check(total(page)).to_have_text(SEED_TOTAL, timeout=WAIT_MS)
    # YAML highlighting: each layer type is a key
    check(page.locator(f"{EDITOR} .tok-propertyName", has_text="Conv2D")).to_have_count(2)
    assert page.evaluate("LearnableEditor.language()") == "yaml"

    # the 2nd row (the first Conv2D) → the 2nd graph node, and the editor's cursor on its line
    page.locator("#layers tbody tr").nth(1).click()
    nodes = page.locator("#diagram g.node")
    check(nodes.nth(1)).to_have_class(LINKED)
    assert page.locator("#diagram g.linked").count() == 1
    assert cursor_line(page) == line_of(SEED, "Conv2D: {filters: 2")
    check(page.locator(f"{EDITOR} .cm-activeLine")).to_contain_text("filters: 2")

    # a graph node → its row, its line and the panel: (3×3×2 + 1)×3 = 57 in both conventions
    page.locator('#diagram g.node[data-layer="conv2d_1"]').click()
    check(layer_row(page, "conv2d_1")).to_have_class(LINKED)
    assert cursor_line(page) == line_of(SEED, "Conv2D: {filters: 3")
    panel = page.locator("#layer-panel")
    check(panel).to_contain_text("3×3×2×3 + 3 = 57")
    assert (3 * 3 * 2 + 1) * 3 == 57
    conventions = panel.locator("table.conventions tbody tr")
    check(conventions.nth(0)).to_contain_text("Keras")
    check(conventions.nth(0)).to_contain_text("57")
    check(conventions.nth(1)).to_contain_text("PyTorch")
    check(conventions.nth(1)).to_contain_text("57")
    check(panel).to_contain_text("Both conventions count this layer alike")
    check(panel.locator("details summary")).to_contain_text("Conv2D: a Keras layer")
    shot(page, "linked_graph")

    # the keyboard: in the focused table, ↓ chooses the next layer (flatten: no parameters) and
    # ↑ comes back, the editor's cursor following each
    page.locator(".scroll[role=region]").focus()
    page.keyboard.press("ArrowDown")
    check(layer_row(page, "flatten")).to_have_class(LINKED)
    assert cursor_line(page) == line_of(SEED, "- Flatten")
    page.keyboard.press("ArrowUp")
    check(layer_row(page, "conv2d_1")).to_have_class(LINKED)

    # the cursor moved onto the Dense line → its row and node
    page.locator(f"{EDITOR} .cm-line").nth(line_of(SEED, "Dense") - 1).click()
    check(layer_row(page, "dense")).to_have_class(LINKED)
    check(page.locator('#diagram g.node[data-layer="dense"]')).to_have_class(LINKED)
    check(panel).to_contain_text("1,200×2 + 2 = 2,402")  # 20×20×3 inputs × 2 + 2

    # hovering a row lights its editor line without moving the cursor
    layer_row(page, "flatten").hover()
    check(page.locator(f"{EDITOR} .cm-linked-line")).to_contain_text("Flatten")
    assert cursor_line(page) == line_of(SEED, "Dense")


def test_both_conventions_differ_on_batchnorm(site):
    page = typed(site, BATCHNORM)
    check = expect()
    check(layer_row(page, "batch_normalization")).to_be_visible(timeout=WAIT_MS)
    layer_row(page, "batch_normalization").click()
    rows = page.locator("#layer-panel table.conventions tbody tr")
    # Keras: gamma, beta, moving mean and variance over 3 channels; PyTorch: weight and bias,
    # and running mean, running var and num_batches_tracked as buffers
    check(rows.nth(0)).to_contain_text(f"{4 * 3}")
    check(rows.nth(0)).to_contain_text(f"{2 * 3} non-trainable")
    check(rows.nth(1)).to_contain_text(f"{2 * 3 + 1} buffers")
    check(page.locator("#layer-panel")).to_contain_text("count this layer differently")
    # the compact form: the cursor goes to the layer's call on the one line
    assert cursor_line(page) == 1
    head = page.evaluate("LearnableEditor.view.state.selection.main.head")
    assert head == BATCHNORM.index("BatchNormalization")


def test_pasted_pytorch_class_python_and_linked(site):
    page = typed(site, CIFAR_NET)
    check = expect()
    check(layer_row(page, "conv2")).to_be_visible(timeout=WAIT_MS)
    assert page.evaluate("LearnableEditor.language()") == "python"
    check(page.locator(f"{EDITOR} .tok-keyword", has_text="class")).to_have_count(1)
    check(page.locator(f"{EDITOR} .tok-keyword", has_text="import").first).to_be_visible()
    layer_row(page, "conv2").click()
    # the layer's construction, not its call in forward()
    assert cursor_line(page) == line_of(CIFAR_NET, "self.conv2 = nn.Conv2d(")
    check(page.locator(f"{EDITOR} .cm-activeLine")).to_contain_text("nn.Conv2d(6, 16, 5)")
    # (5×5×6 + 1)×16 = 2,416, and PyTorch's own layer counts alike in Keras's convention
    check(page.locator("#layer-panel")).to_contain_text(f"{(5 * 5 * 6 + 1) * 16:,}")
    check(page.locator('#diagram g.node[data-layer="conv2"]')).to_have_class(LINKED)
    page.locator(f"{EDITOR} .cm-line").nth(line_of(CIFAR_NET, "self.fc1 = nn.Linear(") - 1).click()
    check(layer_row(page, "fc1")).to_have_class(LINKED)
    shot(page, "linked_code")


def test_broken_spec_marked_at_its_line(site):
    page = typed(site, SEED.replace("kernel_size: 3, padding: same}\n  - Flatten", "kernel_size: 30}\n  - Flatten"))
    check = expect()
    broken = line_of(SEED, "Conv2D: {filters: 3")
    mark = page.locator(f"{EDITOR} .cm-line").nth(broken - 1).locator(".cm-lintRange-error, .cm-lintPoint-error")
    check(mark).to_have_count(1, timeout=WAIT_MS)
    assert page.locator(".cm-lintRange-error, .cm-lintPoint-error").count() == 1
    check(page.locator("#editor-host .cm-lint-marker-error")).to_be_visible()
    shot(page, "editor_error")
