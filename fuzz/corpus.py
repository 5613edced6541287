"""Write the seed corpus of ``fuzz_spec.py``: the examples, the zoo, and a few hand-written
specs that reach the corners (blocks, repeats, shared layers, graphs, pasted code); with
``--code``, that of ``fuzz_code.py``: the code corpus of the tests, each with every input;
with ``--audit``, that of ``fuzz_audit.py``: claims tables and printed summaries; with
``--files``, that of ``fuzz_files.py``: small valid model files of each kind, written by
their own frameworks (torch, onnx, gguf, keras, h5py, safetensors; a missing one is skipped);
with ``--serve``, that of ``fuzz_serve.py``: raw HTTP requests.

    python fuzz/corpus.py fuzz/corpus
    python fuzz/corpus.py fuzz/corpus-code --code
    python fuzz/corpus.py fuzz/corpus-audit --audit
    python fuzz/corpus.py fuzz/corpus-files --files
    python fuzz/corpus.py fuzz/corpus-serve --serve

Each seed is the first byte (reader and format, see ``target.split``; input shape and
format for code, ``target.split_code``) and the text.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
KIND_BYTE = {"auto": 0, "yaml": 1, "json": 2, "compact": 3}

EXTRA = {
    "compact": [
        "Input(28, 28, 1) | Conv2D(32, 3, padding='same') | MaxPooling2D(2) | Flatten() | Dense(10)",
        ("Input(3, 32, 32)\nnn.Conv2d(3, 8, 3, stride=2)\nnn.BatchNorm2d(8)\nnn.ReLU(True)\nnn.Flatten()\n"
         "nn.Linear(8 * 15 * 15, 10)"),
        ("model = keras.Sequential([\n    layers.Input(shape=(100,)),\n    layers.Embedding(1000, 64),\n"
         "    layers.Bidirectional(layers.LSTM(32, return_sequences=True)),\n    layers.Dense(5)\n])\nmodel.summary()"),
        "Input(None, 16) | MultiHeadAttention(4, 8, inputs=['input', 'input']) | LayerNormalization()",
        "nn.Sequential(OrderedDict([('fc1', nn.Linear(4, 8)), ('act', nn.GELU()), ('fc2', nn.Linear(8, 2))]))",
    ],
    "yaml": [
        "input: [8]\nlayers:\n  - Dense: {units: 4, name: a}\n  - Dense: {shares: a, inputs: [a]}\n",
        ("inputs: {x: [4, 4, 2], y: [4, 4, 2]}\nlayers:\n  - Add: {inputs: [x, y], name: s}\n"
         "  - Concatenate: {inputs: [s, x]}\n  - GlobalMaxPooling2D\n"),
        ("input: [16]\nblocks:\n  mlp:\n    params: {width: ~, n: 2}\n    layers:\n"
         "      - Dense: {units: $width, repeat: $n}\n      - \"Dense(width * 2)\"\n"
         "layers:\n  - mlp: {width: 8, repeat: 3}\n  - mlp: {width: 4, trainable: false}\n"),
        "input: [3]\nlayers: [&d {Dense: 4}, *d]\n",
    ],
    "json": ['{"input": [10, 3], "convention": "pytorch", "layers": [{"LSTM": 8}, {"Dense": {"units": 2}}]}'],
}


def seeds() -> dict[str, list[str]]:
    """Texts by reader: the repository's specs and the extras."""
    found = {kind: list(texts) for kind, texts in EXTRA.items()}
    for path in sorted([*(ROOT / "examples").glob("*.yaml"), *(ROOT / "src/learnable/zoo").glob("*.yaml")]):
        found["yaml"].append(path.read_text(encoding="utf-8"))
    for path in sorted((ROOT / "examples").glob("*.txt")):
        found["compact"].append(path.read_text(encoding="utf-8"))
    return found


def write(folder: Path) -> int:
    """One file per seed and reader: its own reader, and the guess a CLI user gets."""
    folder.mkdir(parents=True, exist_ok=True)
    written = 0
    for kind, texts in seeds().items():
        for text in texts:
            for head in {KIND_BYTE[kind], KIND_BYTE["auto"]}:
                data = bytes([head]) + text.encode("utf-8")
                (folder / hashlib.sha1(data).hexdigest()).write_bytes(data)
                written += 1
    return written


def write_code(folder: Path) -> int:
    """The code corpus's snippets, each with every input the first byte can pick."""
    folder.mkdir(parents=True, exist_ok=True)
    written = 0
    for path in sorted((ROOT / "tests" / "code_corpus").glob("*.py")):
        for head in range(6):
            data = bytes([head]) + path.read_bytes()
            (folder / hashlib.sha1(data).hexdigest()).write_bytes(data)
            written += 1
    return written


def write_audit(folder: Path) -> int:
    """Claims tables for ``fuzz_audit.py``: the examples' and papers', and the printed
    summaries of the audit tests, each after two bytes that pick the network and column."""
    sys.path.insert(0, str(ROOT / "tests"))
    import test_audit_printed as printed

    folder.mkdir(parents=True, exist_ok=True)
    texts = [path.read_text(encoding="utf-8") for path in sorted((ROOT / "examples").rglob("*.md"))]
    texts += [value for name, value in vars(printed).items() if name.isupper() and isinstance(value, str)]
    written = 0
    for text in texts:
        for head in (b"\0\0", b"\1\0", b"\2\1"):
            data = head + text.encode("utf-8")
            (folder / hashlib.sha1(data).hexdigest()).write_bytes(data)
            written += 1
    return written


def write_files(folder: Path) -> int:
    """Small valid files for ``fuzz_files.py``, each after the byte that picks its own
    suffix (``target.SUFFIXES``), in two formats."""
    import tempfile

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from target import SUFFIXES

    folder.mkdir(parents=True, exist_ok=True)
    written = 0
    with tempfile.TemporaryDirectory() as scratch:
        for suffix, writer in _FILE_WRITERS.items():
            path = Path(scratch) / f"seed{suffix}"
            try:
                writer(path)
            except ImportError:  # that framework is not installed: no seed of its kind
                continue
            for fmt in (0, 1):
                data = bytes([SUFFIXES.index(suffix) + len(SUFFIXES) * fmt]) + path.read_bytes()
                (folder / hashlib.sha1(data).hexdigest()).write_bytes(data)
                written += 1
    return written


def _safetensors(path: Path) -> None:
    import numpy as np
    from safetensors.numpy import save_file

    save_file({"fc.weight": np.zeros((3, 2), np.float32), "fc.bias": np.zeros(3, np.float32),
               "bn.running_mean": np.zeros(3, np.float16)}, str(path))


def _pt(path: Path) -> None:
    import torch

    model = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.BatchNorm1d(3))
    state = model.state_dict()
    torch.save({"model": state, "tied": [state["0.weight"]], "epoch": 1}, path)


def _onnx(path: Path) -> None:
    import numpy as np
    import onnx
    from onnx import helper, numpy_helper

    weight = numpy_helper.from_array(np.zeros((2, 3), np.float32), "w")
    bias = numpy_helper.from_array(np.zeros(3, np.float32), "b")
    nodes = [helper.make_node("Gemm", ["x", "w", "b"], ["h"]), helper.make_node("Relu", ["h"], ["y"])]
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [1, 2])],
                              [helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, [1, 3])], [weight, bias])
    onnx.save_model(helper.make_model(graph), str(path))


def _gguf(path: Path) -> None:
    import gguf
    import numpy as np

    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_block_count(1)
    writer.add_tensor("token_embd.weight", np.zeros((4, 2), np.float32))
    writer.add_tensor("blk.0.attn_norm.weight", np.zeros(2, np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


def _keras_model():
    import os

    os.environ.setdefault("KERAS_BACKEND", "torch")
    import keras

    inputs = keras.Input((4,))
    return keras.Model(inputs, keras.layers.Dense(2)(keras.layers.Dense(3, activation="relu")(inputs)))


def _keras(path: Path) -> None:
    _keras_model().save(path)


def _h5(path: Path) -> None:
    import h5py  # noqa: F401  (Keras writes .h5 through it)

    _keras_model().save(path)


def write_serve(folder: Path) -> int:
    """Raw requests for ``fuzz_serve.py``: what the page and curl send, and the corners of
    HTTP/1.1 the parser refuses (chunked, two lengths, a length in other digits, pipelining)."""
    folder.mkdir(parents=True, exist_ok=True)
    body = b'{"spec": "Input(28, 28, 1) | Conv2D(8, 3) | Flatten() | Dense(10)", "format": "markdown", "macs": true}'
    post = (b"POST /api/count HTTP/1.1\r\nHost: 127.0.0.1:8000\r\nContent-Type: application/json\r\n"
            b"Content-Length: %d\r\n\r\n%s")
    seeds = [
        b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n",
        b"GET /api/info HTTP/1.0\r\nHost: localhost\r\nConnection: close\r\n\r\n",
        post % (len(body), body),
        post % (len(body), body) + post % (2, b"{}"),
        (b'POST /api/count HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 40\r\n\r\n'
         b'{"spec": "input: [4]\\nlayers: [Dense: 2]", "memory": {"batch": 8}}'),
        b"POST /api/count HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
        b"POST /api/count HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}",
        "POST /api/count HTTP/1.1\r\nHost: x\r\nContent-Length: \u00b2\r\n\r\n{}".encode("utf-8"),
        b'POST /api/count HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: 9\r\n\r\n[[[[[[[[[',
    ]
    for data in seeds:
        (folder / hashlib.sha1(data).hexdigest()).write_bytes(data)
    return len(seeds)


_FILE_WRITERS = {".safetensors": _safetensors, ".pt": _pt, ".onnx": _onnx, ".gguf": _gguf, ".keras": _keras,
                 ".h5": _h5}


if __name__ == "__main__":
    target = Path(sys.argv[1])
    flags = sys.argv[2:]
    writer = (write_code if "--code" in flags else write_audit if "--audit" in flags
              else write_files if "--files" in flags else write_serve if "--serve" in flags else write)
    print(f"{writer(target)} seeds written to {target}")
