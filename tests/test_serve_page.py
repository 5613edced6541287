"""The calculator page end to end, in Debian's headless Chromium driven by Playwright: type
the first seed's network and see each layer's arithmetic and 2,515; break it and see the
error at its line while the last good table stays; switch the convention; follow a shared
link; export. Every request must stay on 127.0.0.1. Screenshots go to test-artifacts/.

Expected numbers are hand arithmetic from the seeds and the frameworks' documented
conventions, never the tool's output.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import ROOT
from test_serve_api import running_server

ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = Path("/usr/bin/chromium")
# --headless comes from launch(headless=True); the others keep Chromium from calling home.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
WAIT_MS = 10_000

SEED = """name: deeplizard-cnn
input: [20, 20, 3]
layers:
  - Conv2D: {filters: 2, kernel_size: 3, padding: same}
  - Conv2D: {filters: 3, kernel_size: 3, padding: same}
  - Flatten
  - Dense: 2"""
# The seed's hand arithmetic: weights = inputs × outputs (filters × 3×3), plus one bias per filter or node.
SEED_LAYERS = {"conv2d": (3 * (2 * 3 * 3) + 2, "3×3×3×2 + 2 = 56"),
               "conv2d_1": (2 * (3 * 3 * 3) + 3, "3×3×2×3 + 3 = 57"),
               "dense": (20 * 20 * 3 * 2 + 2, "1,200×2 + 2 = 2,402")}
SEED_TOTAL = "2,515"
BATCHNORM = "Input(4, 4, 3) | BatchNormalization()"
EDITOR = "#editor-host .cm-content"  # CodeMirror's editable area (editor.js); #spec mirrors its text


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed (pip install playwright)")
    if not CHROMIUM.exists():
        pytest.skip("no /usr/bin/chromium (apt-get install -y chromium chromium-driver)")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def site(browser) -> Iterator[tuple[str, object, list[str]]]:
    """(address, browser context, requests refused because they left the server)."""
    with running_server() as base:
        context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
        escaped: list[str] = []

        def only_local(route):
            if route.request.url.startswith(base):
                route.continue_()
            else:
                escaped.append(route.request.url)
                route.abort()

        context.route("**/*", only_local)
        try:
            yield base, context, escaped
        finally:
            context.close()
        assert escaped == [], f"requests left 127.0.0.1: {escaped}"


def expect():
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect


def total(page, key: str = "total_params"):
    return page.locator(f'#totals [data-total="{key}"] b')


def layer_row(page, name: str):
    return page.locator(f'#layers tbody tr[data-layer="{name}"]')


def type_lines(page, text: str) -> None:
    """Types ``text`` key by key into the editor. Enter indents the new line as the editor
    sees fit; Shift+Home selects that indentation, so the line typed replaces it."""
    for n, line in enumerate(text.splitlines()):
        if n:
            page.keyboard.press("Enter")
            page.keyboard.press("Shift+Home")
        page.keyboard.type(line)


def error_mark(page, line: int):
    """The editor's error mark on ``line`` (1-based)."""
    return page.locator(f"{EDITOR} .cm-line").nth(line - 1).locator(".cm-lintRange-error, .cm-lintPoint-error")

def pick(page, name: str) -> None:
    """Start from the example or zoo model of this file name (the option's text is its title)."""
    option = page.locator(f'#start option[data-name="{name}"]')
    expect()(option).to_have_count(1, timeout=WAIT_MS)
    page.select_option("#start", value=option.get_attribute("value"))


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"serve_{name}.png"), full_page=True)


def test_type_the_seed_break_it_switch_and_share(site):
    base, context, _ = site
    page = context.new_page()
    page.goto(base)
    check = expect()
    check(total(page)).to_have_text(SEED_TOTAL, timeout=WAIT_MS)  # the page opens on the first seed
    # start from the zoo, then type the seed over it
    pick(page, "zoo:lenet5")
    # LeNet-5: 5×5×1×6 + 6, 5×5×6×16 + 16, 400×120 + 120, 120×84 + 84, 84×10 + 10
    check(total(page)).to_have_text(f"{156 + 2416 + 48120 + 10164 + 850:,}", timeout=WAIT_MS)
    editor = page.locator(EDITOR)
    editor.click()
    page.keyboard.press("Control+A")
    page.keyboard.press("Delete")
    type_lines(page, SEED)
    check(total(page)).to_have_text(SEED_TOTAL, timeout=WAIT_MS)
    for name, (params, formula) in SEED_LAYERS.items():
        row = layer_row(page, name)
        check(row).to_contain_text(formula)
        assert f"{params:,}" in row.inner_text()
    assert layer_row(page, "flatten").locator("td").nth(2).inner_text() == "(1200,)"  # 20×20×3
    assert page.locator("#chart .bar-row").count() == len(SEED_LAYERS)
    assert page.locator("#diagram svg rect").count() == 5
    assert "(20, 20, 2)" in page.locator("#diagram svg").text_content()
    shot(page, "seed")
    seed_link = page.url
    assert "#spec=" in seed_link

    _break_and_fix(page, editor)
    _switch_convention(page, editor)
    _follow(context, seed_link, SEED_TOTAL)
    shared = context.new_page()
    shared.goto(page.url)  # the BatchNorm spec, counted as PyTorch counts it
    check(total(shared)).to_have_text("6", timeout=WAIT_MS)
    check(total(shared, "total_buffers")).to_have_text("7")
    assert shared.locator("#convention").input_value() == "pytorch"
    shot(shared, "shared_link")


def _break_and_fix(page, editor) -> None:
    check = expect()
    lines = SEED.splitlines()
    lines[4] = "  - Conv2D: {filters: 3, kernel_size: 30}"  # line 5: larger than its 20×20 input
    editor.fill("\n".join(lines))
    error = page.locator("#error")
    check(error).to_be_visible(timeout=WAIT_MS)
    check(error).to_contain_text("line 5")
    check(error).to_contain_text("kernel 30×30 is larger than its input 20×20")
    check(error_mark(page, 5)).to_have_count(1)
    check(page.locator(".cm-lint-marker-error")).to_be_visible()
    # the last good result stays, marked as such
    check(page.locator("#result")).to_have_class("result-pane stale")
    assert total(page).inner_text() == SEED_TOTAL
    check(layer_row(page, "dense")).to_contain_text("1,200×2 + 2 = 2,402")
    shot(page, "error")
    lines[4] = "  - Dence: 2"  # a misspelt type, line 5 again; then line 7
    editor.fill("\n".join(lines[:4] + lines[5:] + ["  - Dence: 2"]))
    check(error_mark(page, 7)).to_have_count(1, timeout=WAIT_MS)
    check(page.locator("#error")).to_contain_text("did you mean 'Dense'")
    editor.fill(SEED)
    check(page.locator("#error")).to_be_hidden(timeout=WAIT_MS)
    check(page.locator(".cm-lintRange-error, .cm-lintPoint-error")).to_have_count(0)
    check(page.locator("#result")).to_have_class("result-pane")


def _switch_convention(page, editor) -> None:
    check = expect()
    editor.fill(BATCHNORM)
    page.select_option("#convention", "keras")
    # Keras: gamma, beta, moving_mean, moving_variance, 3 channels each; the moving statistics non-trainable
    check(total(page)).to_have_text(f"{4 * 3}", timeout=WAIT_MS)
    check(total(page, "non_trainable_params")).to_have_text(f"{2 * 3}")
    check(total(page, "total_buffers")).to_have_count(0)
    assert "Non-trainable" in page.locator("#layers thead").inner_text()
    page.select_option("#convention", "pytorch")
    # PyTorch: weight and bias are parameters; running_mean, running_var (3 each) and num_batches_tracked buffers
    check(total(page)).to_have_text(f"{2 * 3}", timeout=WAIT_MS)
    check(total(page, "total_buffers")).to_have_text(f"{2 * 3 + 1}")
    check(page.locator("#layers thead")).to_contain_text("Buffers")
    check(page.locator("#convention-text")).to_contain_text("PyTorch")
    assert "convention=pytorch" in page.url
    shot(page, "convention")


def _follow(context, link: str, expected_total: str) -> None:
    page = context.new_page()
    page.goto(link)
    expect()(total(page)).to_have_text(expected_total, timeout=WAIT_MS)
    assert page.locator("#spec").input_value() == SEED
    page.close()


def seeded_page(site):
    """A new page with the first seed typed in and counted (2,515)."""
    base, context, _ = site
    page = context.new_page()
    page.goto(base)
    page.locator(EDITOR).fill(SEED)
    expect()(total(page)).to_have_text(SEED_TOTAL, timeout=WAIT_MS)
    return page


def test_exports(site):
    page = seeded_page(site)
    texts = {}
    for fmt in ("markdown", "csv", "json", "latex"):
        with page.expect_download() as download:
            page.click(f'button[data-export="{fmt}"]')
        texts[fmt] = Path(download.value.path()).read_text(encoding="utf-8")
        assert download.value.suggested_filename.startswith("deeplizard-cnn.")
    assert "| conv2d | Conv2D | (20, 20, 2) | 56 | 3×3×3×2 + 2 = 56 |" in texts["markdown"]
    assert "conv2d_1,Conv2D,\"(20, 20, 3)\",57," in texts["csv"]
    assert '"total_params": 2515' in texts["json"]
    assert r"2{,}515" in texts["latex"]
    with page.expect_download() as download:
        page.click("#export-png")
    png = Path(download.value.path()).read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])
    # drawn at twice 960 px wide: a 64 px title band, a 24 px row for each of the 3 layers with
    # parameters, a 56 px band for the axis and its label (chart.js)
    assert (width, height) == (2 * 960, 2 * (64 + 3 * 24 + 56))
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "serve_chart_export.png").write_bytes(png)


def test_the_macs_toggle_shows_the_macs_the_report_carries(site):
    page = seeded_page(site)
    if not page.evaluate("fetch('/api/count', {method: 'POST', headers: {'Content-Type': 'application/json'}, "
                         "body: JSON.stringify({spec: 'Input(2) | Dense(1)'})}).then(r => r.json())"
                         ".then(p => 'macs' in p.report.layers[1])"):
        pytest.skip("this learnable's report carries no MACs yet")
    toggle = page.locator("#option-macs input")
    expect()(toggle).to_be_visible()
    assert "MACs" not in page.locator("#layers thead").inner_text()
    toggle.check()
    # one multiply-accumulate per weight per output position: (20×20×2)×(3×3×3), (20×20×3)×(3×3×2), 1,200×2
    macs = {"conv2d": 20 * 20 * 2 * 3 * 3 * 3, "conv2d_1": 20 * 20 * 3 * 3 * 3 * 2, "dense": 1200 * 2}
    expect()(page.locator("#layers thead")).to_contain_text("MACs")
    for name, value in macs.items():
        assert f"{value:,}" in layer_row(page, name).inner_text()
    expect()(total(page, "total_macs")).to_have_text(f"{sum(macs.values()):,}")
    assert "show=macs" in page.url
    shot(page, "macs")


def test_the_memory_toggle_shows_each_term_with_its_arithmetic(site):
    page = seeded_page(site)
    toggle = page.locator("#option-memory input")
    expect()(toggle).to_be_visible()
    toggle.check()
    page.locator("#batch").fill("32")  # counted as typed: no change event, no Tab
    page.locator("#optimizer").select_option("adamw")
    memory = page.locator("#memory")
    # the seed's 2,515 parameters: 4 bytes each in fp32, as weights, gradients, and twice for Adam;
    # shown in KiB as the CLI prints them (10,060 / 1,024 = 9.82; 20,120 / 1,024 = 19.65), exact on hover
    expect()(memory).to_contain_text("weights (2,515 params, fp32): 2,515×4 = 9.8 KiB", timeout=WAIT_MS)
    expect()(memory).to_contain_text("gradients (2,515 trainable params, fp32): 2,515×4 = 9.8 KiB")
    expect()(memory).to_contain_text("adamw state (exp_avg and exp_avg_sq, fp32): 2×(2,515×4) = 19.6 KiB")
    assert memory.locator(".bytes[title='10,060 bytes']").count() >= 2
    expect()(memory).to_contain_text("Training memory (adamw)")
    shot(page, "memory")


CIFAR_NET = """import torch.nn as nn
import torch.nn.functional as F

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 6, 5)
        self.pool = nn.MaxPool2d(2, 2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x)))
        x = self.pool(F.relu(self.conv2(x)))
        x = torch.flatten(x, 1)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)

net = Net()
"""
# (5×5×3 + 1)×6 + (5×5×6 + 1)×16 + (400 + 1)×120 + (120 + 1)×84 + (84 + 1)×10
CIFAR_TOTAL = f"{456 + 2416 + 48120 + 10164 + 850:,}"


def test_pasted_model_code_counts_and_takes_an_input_shape(site):
    base, context, _ = site
    page = context.new_page()
    page.goto(base)
    page.fill(EDITOR, CIFAR_NET)
    expect()(total(page)).to_have_text(CIFAR_TOTAL, timeout=WAIT_MS)
    expect()(page.locator("#code-options")).to_be_visible()
    expect()(page.locator("#total-notes")).to_contain_text("no input shape")
    page.fill("#code-input", "3x32x32")
    expect()(layer_row(page, "flatten")).to_contain_text("(400,)", timeout=WAIT_MS)
    expect()(page.locator("#total-notes")).not_to_contain_text("no input shape")
    assert "input=3x32x32" in page.url
    shot(page, "pasted_code")


# A small Llama: 2 layers, width 256, 8 query heads of 32 and 2 key/value heads (GQA).
LLAMA_CONFIG = {"model_type": "llama", "architectures": ["LlamaForCausalLM"], "hidden_size": 256,
                "intermediate_size": 688, "num_hidden_layers": 2, "num_attention_heads": 8,
                "num_key_value_heads": 2, "vocab_size": 1000}


def test_a_config_json_sized_for_a_gpu_with_lora(site, tmp_path):
    """Paste a Llama config.json, set a context, a GPU and LoRA: the KV cache is hand arithmetic,
    LoRA's adapters are PEFT's, and what fits is the library's fit() for the same inputs."""
    import json

    import learnable
    from learnable.accelerators import accelerator
    from learnable.fit import fit

    base, context, _ = site
    page = context.new_page()
    page.goto(base)
    page.fill(EDITOR, json.dumps(LLAMA_CONFIG, indent=2))
    check = expect()
    check(page.locator("#status")).to_contain_text("params", timeout=WAIT_MS)
    page.locator("#option-memory input").check()
    page.fill("#context", "8192")
    page.select_option("#dtype", "bf16")
    page.select_option("#gpu", "l4")
    page.fill("#lora-rank", "8")
    page.fill("#lora-targets", "q_proj,v_proj")
    # PEFT: A (r × in) + B (out × r) on each q_proj (256 → 256) and v_proj (256 → 64), 2 layers
    check(total(page, "trainable_params")).to_have_text(f"{2 * (8 * (256 + 256) + 8 * (256 + 64)):,}",
                                                        timeout=WAIT_MS)
    # keys and values × 2 layers × 2 kv heads × 32 (head size) × 2 bytes (bf16) = 512 B a token
    kv = page.locator("#memory [data-line='kv-per-token']")
    check(kv).to_contain_text(f"2×2×2×32×2 = {2 * 2 * 2 * 32 * 2} B")
    # 512 × 8,192 = 4,194,304 bytes = 4 MiB, exact on hover
    check(page.locator("#memory [data-line='kv-total']")).to_contain_text("= 4.0 MiB")
    check(page.locator("#memory [data-line='kv-total'] .bytes")).to_have_attribute("title", f"{512 * 8192:,} bytes")

    path = tmp_path / "config.json"
    path.write_text(json.dumps(LLAMA_CONFIG), encoding="utf-8")
    l4 = accelerator("l4")
    report = learnable.count(path, lora={"r": 8, "target_modules": ["q_proj", "v_proj"]})
    expected = fit(report, l4.memory, gpu=l4.name, dtype="bf16", context=8192).inference
    inference = page.locator("#fit [data-fit='inference']")
    check(page.locator("#fit h3")).to_contain_text("What fits on L4: 24.0 GiB")  # the L4's datasheet: 24 GB
    check(page.locator("#fit h3 .bytes")).to_have_attribute("title", f"{24 * 2**30:,} bytes")
    check(inference.locator("[data-line='max-batch']")).to_contain_text(f"= {expected.max_batch:,}")
    check(inference.locator("[data-line='max-context']")).to_contain_text(f"{expected.max_context:,} tokens")
    check(inference.locator("[data-line='dominates']")).to_contain_text(expected.largest()[1])
    check(inference.locator(".fits")).to_contain_text("✓ fits: batch 1 at context 8,192")
    page.fill("#tokens", "1e9")
    check(page.locator("#compute [data-line='six-nd']")).to_contain_text(
        f"6×{report.total_params:,}×1,000,000,000", timeout=WAIT_MS)
    check(page.locator("#compute [data-line='time']")).to_contain_text("1 × L4 at MFU 0.4")
    assert "gpu=l4" in page.url and "context=8192" in page.url
    shot(page, "sizing")
    shared = context.new_page()  # the address keeps the sizing
    shared.goto(page.url)
    check(shared.locator("#fit [data-fit='inference'] [data-line='max-batch']")).to_contain_text(
        f"= {expected.max_batch:,}", timeout=WAIT_MS)
    assert shared.locator("#gpu").input_value() == "l4"
