"""A model file dropped on the calculator page, in Debian's headless Chromium: the browser
reads the header (or config) itself and sends only that to /api/file, never the weights.

Each file is written by its own library in tmp_path; the page's total must be the
framework's own count (PyTorch's parameters(), Keras's count_params(), the arrays written),
and every request body must be at most the header's size plus the JSON line (1 KiB).
Screenshots go to test-artifacts/.
"""

from __future__ import annotations

import json
import struct
import zipfile

import pytest
from test_serve_page import EDITOR, WAIT_MS, browser, expect, shot, site, total

FIXTURES = (browser, site)  # the page tests' fixtures, which pytest finds in this module by their names

JSON_LINE = 1024  # the request's first line: the options and each file's name, kind and sizes


def opened(site):
    base, context, _ = site
    page = context.new_page()
    sent: list[int] = []
    page.on("request", lambda r: sent.append(len(r.post_data_buffer or b"")) if r.url.endswith("/api/file") else None)
    page.goto(base)
    expect()(total(page)).to_have_text("2,515", timeout=WAIT_MS)  # the seed counted: the page is ready
    return page, sent


def choose(page, *paths) -> None:
    page.set_input_files("#drop-input", [str(p) for p in paths])


def test_a_safetensors_file_of_megabytes_sends_its_header(site, tmp_path):
    torch = pytest.importorskip("torch")
    save_file = pytest.importorskip("safetensors.torch").save_file
    model = torch.nn.Sequential(torch.nn.Linear(1024, 1024), torch.nn.GELU(), torch.nn.Linear(1024, 512))
    path = tmp_path / "mlp.safetensors"
    save_file(model.state_dict(), str(path))
    header = 8 + struct.unpack("<Q", path.read_bytes()[:8])[0]
    assert path.stat().st_size > 6_000_000
    page, sent = opened(site)
    choose(page, path)
    expected = sum(p.numel() for p in model.parameters())
    assert expected == 1024 * 1024 + 1024 + 1024 * 512 + 512
    expect()(total(page)).to_have_text(f"{expected:,}", timeout=WAIT_MS)
    assert len(sent) == 1 and header < sent[0] <= header + JSON_LINE
    expect()(page.locator("#drop-note")).to_contain_text("the weights stayed on your computer")
    expect()(page.locator("#drop-note")).to_contain_text("of 6.3 MB")
    # the editor still holds the seed: the result says it is the file's, not the text's
    expect()(page.locator("#source-note")).to_contain_text("Counted from mlp.safetensors")
    expect()(page.locator('#layers tbody tr[data-layer="0"] td').nth(2)).to_have_text("")  # no shape traced
    shot(page, "drop_safetensors")
    page.fill(EDITOR, "Input(4) | Dense(2)")
    expect()(total(page)).to_have_text(f"{4 * 2 + 2:,}", timeout=WAIT_MS)
    expect()(page.locator("#source-note")).to_be_hidden()


def test_a_file_dropped_on_the_page(site):
    """A DataTransfer made in the page: a 4 MB safetensors file of one 1,000×1,000 F32 tensor."""
    page, sent = opened(site)
    page.evaluate("""() => {
      const header = new TextEncoder().encode(JSON.stringify(
        {w: {dtype: "F32", shape: [1000, 1000], data_offsets: [0, 4000000]}}));
      const length = new Uint8Array(8);
      new DataView(length.buffer).setBigUint64(0, BigInt(header.length), true);
      const file = new File([length, header, new Uint8Array(4000000)], "dropped.safetensors");
      const transfer = new DataTransfer();
      transfer.items.add(file);
      document.body.dispatchEvent(new DragEvent("drop", {dataTransfer: transfer, bubbles: true, cancelable: true}));
    }""")
    expect()(total(page)).to_have_text(f"{1000 * 1000:,}", timeout=WAIT_MS)
    header = 8 + len(json.dumps({"w": {"dtype": "F32", "shape": [1000, 1000], "data_offsets": [0, 4000000]}},
                                separators=(",", ":")))
    assert len(sent) == 1 and header < sent[0] <= header + JSON_LINE


def test_gguf_keras_and_onnx_send_their_headers(site, tmp_path, monkeypatch):
    from test_gguf import llama_tensors, size, write_gguf

    from learnable.importers._gguf_header import read_header
    from learnable.importers.gguf_file import SIZES

    page, sent = opened(site)
    gguf = tmp_path / "tiny.gguf"
    tensors = llama_tensors()
    write_gguf(gguf, tensors)
    choose(page, gguf)
    learned = sum(size(shape) for name, (shape, _) in tensors.items() if "rope_freqs" not in name)
    expect()(total(page)).to_have_text(f"{learned:,}", timeout=WAIT_MS)
    header = read_header(gguf, SIZES).data_offset  # the table ends at most 31 bytes of padding before
    assert header - 32 < sent[-1] <= header + JSON_LINE
    shot(page, "drop_gguf")

    monkeypatch.setenv("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras")
    model = keras.Sequential([keras.Input((32, 32, 3)), keras.layers.Conv2D(16, 3), keras.layers.Flatten(),
                              keras.layers.Dense(10)])
    path = tmp_path / "cnn.keras"
    model.save(path)
    with zipfile.ZipFile(path) as archive:
        config = len(archive.read("config.json"))
    choose(page, path)
    expect()(total(page)).to_have_text(f"{model.count_params():,}", timeout=WAIT_MS)
    assert config < sent[-1] <= config + JSON_LINE < path.stat().st_size

    torch = pytest.importorskip("torch")
    from test_import_onnx import export

    net = torch.nn.Sequential(torch.nn.Conv2d(3, 16, 3), torch.nn.ReLU(), torch.nn.Flatten(),
                              torch.nn.Linear(16 * 30 * 30, 10))
    onnx_path = export(net.eval(), (torch.zeros(1, 3, 32, 32),), tmp_path / "cnn.onnx")
    choose(page, onnx_path)
    expect()(total(page)).to_have_text(f"{sum(p.numel() for p in net.parameters()):,}", timeout=WAIT_MS)
    assert sent[-1] < 8 * 1024 < onnx_path.stat().st_size // 10
    expect()(page.locator("#drop-note")).to_contain_text("the weights stayed on your computer")
    shot(page, "drop_onnx")


def test_an_unknown_file_is_refused_with_a_line(site, tmp_path):
    page, sent = opened(site)
    path = tmp_path / "weights.npz"
    path.write_bytes(b"PK\x03\x04" + b"\0" * 100)
    choose(page, path)
    expect()(page.locator("#error")).to_contain_text("learnable count FILE", timeout=WAIT_MS)
    assert sent == []
