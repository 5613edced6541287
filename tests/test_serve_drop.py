"""POST /api/file: a model file dropped on the page, counted from its header alone.

Each file is written in tmp_path by its own library (safetensors, gguf-py's GGUFWriter,
Keras's model.save, torch.onnx.export); the request carries only what static/drop.js sends
(a safetensors header, a GGUF header and tensor table, a .keras zip's config.json, an ONNX
model whose large initializers' bytes are cut out). Oracles: the framework's own counts
(PyTorch's parameters(), Keras's count_params(), the numpy arrays written) and the CLI's
report for the whole file, which the server's must equal row for row.
"""

from __future__ import annotations

import json
import struct
import zipfile

import pytest
from test_serve_api import request, running_server

import learnable
from learnable.serve import _drop

np = pytest.importorskip("numpy")


@pytest.fixture(scope="module")
def base():
    with running_server() as address:
        yield address


def file_body(parts: list[tuple[str, str, int, bytes]], **options) -> bytes:
    """What drop.js sends: one JSON line, then each part's bytes."""
    files = [{"name": name, "kind": kind, "size": size, "length": len(data)} for name, kind, size, data in parts]
    return json.dumps({"files": files, **options}).encode() + b"\n" + b"".join(p[3] for p in parts)


def post_file(base: str, parts, **options) -> tuple[int, dict]:
    status, payload, _ = request(base, "/api/file", file_body(parts, **options),
                                 headers={"Content-Type": "application/octet-stream"})
    return status, payload


def rows(report: dict) -> list[tuple]:
    return [(row["name"], row["params"], row.get("trainable"), row.get("output_shape")) for row in report["layers"]]


def assert_same_as_cli(payload: dict, path) -> None:
    """The server's report from the header equals the CLI's from the whole file."""
    whole = learnable.count(path).to_dict()
    assert payload["report"]["total_params"] == whole["total_params"]
    assert rows(payload["report"]) == rows(whole)
    assert payload["report"]["notes"] == whole["notes"]


# ---- safetensors ------------------------------------------------------------------------


def safetensors_part(path) -> tuple[str, str, int, bytes]:
    data = path.read_bytes()
    (length,) = struct.unpack("<Q", data[:8])
    return path.name, "safetensors", len(data), data[:8 + length]


def test_safetensors_header_counts_as_the_whole_file(base, tmp_path):
    torch = pytest.importorskip("torch")
    save_file = pytest.importorskip("safetensors.torch").save_file
    model = torch.nn.Sequential(torch.nn.Linear(300, 200), torch.nn.ReLU(), torch.nn.Linear(200, 10))
    path = tmp_path / "mlp.safetensors"
    save_file(model.state_dict(), str(path))
    part = safetensors_part(path)
    assert len(part[3]) < 1024 < part[2]  # the header, not the weights
    status, payload = post_file(base, [part])
    assert status == 200, payload
    assert payload["report"]["total_params"] == sum(p.numel() for p in model.parameters())
    assert payload["report"]["total_params"] == 300 * 200 + 200 + 200 * 10 + 10
    assert payload["file"] == {"names": ["mlp.safetensors"], "sent_bytes": len(part[3]), "file_bytes": part[2]}
    assert payload["source"] == "file"
    assert_same_as_cli(payload, path)


def test_safetensors_header_checked_against_the_file_size(base, tmp_path):
    torch = pytest.importorskip("torch")
    save_file = pytest.importorskip("safetensors.torch").save_file
    path = tmp_path / "one.safetensors"
    save_file({"w": torch.zeros(64, 64)}, str(path))
    name, kind, size, data = safetensors_part(path)
    status, payload = post_file(base, [(name, kind, size - 100, data)])  # a file too short for its tensors
    assert status == 422 and "data offsets" in payload["error"]["message"]
    status, payload = post_file(base, [(name, kind, size, data[:-5])])  # a header cut short
    assert status == 422 and "were sent" in payload["error"]["message"]


# ---- GGUF -------------------------------------------------------------------------------


def test_gguf_header_counts_as_the_whole_file(base, tmp_path):
    from test_gguf import llama_tensors, size, write_gguf

    from learnable.importers._gguf_header import read_header
    from learnable.importers.gguf_file import SIZES

    path = tmp_path / "tiny.gguf"
    tensors = llama_tensors()
    write_gguf(path, tensors)
    data = path.read_bytes()
    header = read_header(path, SIZES)
    sent = data[:header.data_offset]  # the header and tensor table (and alignment's zero padding)
    assert len(sent) < len(data) // 10
    status, payload = post_file(base, [(path.name, "gguf", len(data), sent)], memory=True)
    assert status == 200, payload
    learned = sum(size(shape) for name, (shape, _) in tensors.items() if "rope_freqs" not in name)
    assert payload["report"]["total_params"] == learned
    assert_same_as_cli(payload, path)
    status, payload = post_file(base, [(path.name, "gguf", len(data), sent[: len(sent) // 2])])
    assert status == 422 and "GGUF" in payload["error"]["message"]


# ---- .keras -----------------------------------------------------------------------------


def test_keras_config_counts_as_the_whole_file(base, tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras")
    model = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Conv2D(8, 3), keras.layers.BatchNormalization(),
                              keras.layers.Flatten(), keras.layers.Dense(10)])
    path = tmp_path / "cnn.keras"
    model.save(path)
    with zipfile.ZipFile(path) as archive:
        config = archive.read("config.json")
    status, payload = post_file(base, [(path.name, "keras", path.stat().st_size, config)])
    assert status == 200, payload
    assert payload["report"]["total_params"] == model.count_params()
    assert payload["report"]["total_params"] == (3 * 3 * 1 * 8 + 8) + 4 * 8 + (26 * 26 * 8 * 10 + 10)
    assert_same_as_cli(payload, path)


# ---- ONNX -------------------------------------------------------------------------------


def stripped_onnx(path) -> bytes:
    """What drop.js sends: each initializer over 16 KB keeps its dims, type and name, and
    states its data's length as external data the server never opens."""
    onnx = pytest.importorskip("onnx")
    model = onnx.load(str(path))
    for tensor in model.graph.initializer:
        if len(tensor.raw_data) > 16 * 1024:
            length = len(tensor.raw_data)
            tensor.ClearField("raw_data")
            tensor.data_location = onnx.TensorProto.EXTERNAL
            for key, value in (("location", _drop.STRIPPED), ("length", str(length))):
                entry = tensor.external_data.add()
                entry.key, entry.value = key, value
    return model.SerializeToString()


def test_onnx_skeleton_counts_as_the_whole_file(base, tmp_path):
    torch = pytest.importorskip("torch")
    from test_import_onnx import export

    model = torch.nn.Sequential(torch.nn.Conv2d(3, 16, 3), torch.nn.ReLU(), torch.nn.Flatten(),
                                torch.nn.Linear(16 * 30 * 30, 10))
    path = export(model.eval(), (torch.zeros(1, 3, 32, 32),), tmp_path / "cnn.onnx")
    sent = stripped_onnx(path)
    assert len(sent) < 4096 < path.stat().st_size
    status, payload = post_file(base, [(path.name, "onnx", path.stat().st_size, sent)])
    assert status == 200, payload
    assert payload["report"]["total_params"] == sum(p.numel() for p in model.parameters())
    assert_same_as_cli(payload, path)


# ---- Hugging Face folders and configs ----------------------------------------------------


LLAMA = {"model_type": "llama", "architectures": ["LlamaForCausalLM"], "vocab_size": 64, "hidden_size": 32,
         "intermediate_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2,
         "tie_word_embeddings": False}
# by hand: embeddings and head 64×32 each; per layer q, o 32×32, k, v 32×16 (2 heads of 8),
# gate, up 32×64, down 64×32, two RMSNorms of 32; a final norm of 32
LLAMA_TOTAL = 2 * 64 * 32 + 2 * (2 * 32 * 32 + 2 * 32 * 16 + 3 * 32 * 64 + 2 * 32) + 32


def test_a_folder_config_index_and_shard_headers(base, tmp_path):
    save_file = pytest.importorskip("safetensors.torch").save_file
    transformers = pytest.importorskip("transformers")
    model = transformers.LlamaForCausalLM(transformers.LlamaConfig(**{k: v for k, v in LLAMA.items()
                                                                      if k not in ("model_type", "architectures")}))
    assert sum(p.numel() for p in model.parameters()) == LLAMA_TOTAL
    state = {k: v.contiguous() for k, v in model.state_dict().items()}
    names = sorted(state)
    shards = {"model-00001-of-00002.safetensors": names[: len(names) // 2],
              "model-00002-of-00002.safetensors": names[len(names) // 2:]}
    for shard, keys in shards.items():
        save_file({k: state[k] for k in keys}, str(tmp_path / shard))
    index = {"metadata": {}, "weight_map": {k: shard for shard, keys in shards.items() for k in keys}}
    (tmp_path / "model.safetensors.index.json").write_text(json.dumps(index))
    (tmp_path / "config.json").write_text(json.dumps(LLAMA))
    parts = [("config.json", "config", len(json.dumps(LLAMA)), json.dumps(LLAMA).encode()),
             ("model.safetensors.index.json", "index", len(json.dumps(index)), json.dumps(index).encode()),
             *(safetensors_part(tmp_path / shard) for shard in shards)]
    status, payload = post_file(base, parts)
    assert status == 200, payload
    assert payload["report"]["total_params"] == LLAMA_TOTAL
    whole = learnable.count(tmp_path / "model.safetensors.index.json").to_dict()
    assert rows(payload["report"]) == rows(whole)
    status, payload = post_file(base, parts[:3])  # a shard the index names is missing
    assert status == 422 and "not dropped" in payload["error"]["message"]


def test_a_config_alone(base):
    text = json.dumps(LLAMA).encode()
    status, payload = post_file(base, [("config.json", "config", len(text), text)])
    assert status == 200, payload
    assert payload["report"]["total_params"] == LLAMA_TOTAL


# ---- the request itself -----------------------------------------------------------------


@pytest.mark.parametrize(("body", "words"), [
    (b'{"files": []}\n', "1 to"),
    (b'{"files": [{"name": "a", "kind": "pt", "size": 1, "length": 0}]}\n', "kind"),
    (b'{"files": [{"name": "a", "kind": "gguf", "size": 9, "length": 4}]}\nab', "add up"),
    (b'{"files": [{"name": "a", "kind": "gguf", "size": 1, "length": 2}]}\nab', "no more than"),
    (b'{"spec": "x", "files": []}\n', "unknown field 'spec'"),
    (b'{"files": []}', "a newline"),
])
def test_malformed_file_requests_are_refused(base, body, words):
    status, payload, _ = request(base, "/api/file", body, headers={"Content-Type": "application/octet-stream"})
    assert status == 400 and words in payload["error"]["message"]


def test_the_file_route_has_its_own_size_limit(base):
    over = _drop.MAX_FILE_REQUEST_BYTES + 1
    status, payload, _ = request(base, "/api/file", b"", headers={"Content-Type": "application/octet-stream",
                                                                   "Content-Length": str(over)})
    assert status == 413 and f"{_drop.MAX_FILE_REQUEST_BYTES:,}" in payload["error"]["message"]
    status, _, _ = request(base, "/api/count", b"x" * (300 * 1024))  # a spec's limit is unchanged
    assert status == 413
