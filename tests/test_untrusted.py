"""Untrusted input: each protection has a test here (or in test_errors.py, test_checkpoints.py,
test_import_onnx.py, test_robustness.py) that fails if the protection is removed.

Here: a spec cannot make learnable open (or write) any other file; ONNX external data is
never opened, even when it points outside the model's folder; safetensors headers are
checked before use; spec files and streams are read within their size limit.
"""

from __future__ import annotations

import errno
import json
import os
import struct
import subprocess
import sys
import threading
import time
from contextlib import contextmanager

import pytest
from conftest import learnable_command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import learnable

# ---- watching which files are opened ------------------------------------------------------------

_opened: list[tuple[str, bool]] | None = None  # (path, for writing) while a test watches
_watching = 0  # the thread whose opens count (not the FIFO watcher's)
_WRITES = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC


def _audit(event: str, args: tuple) -> None:
    # Python's audit hook sees every open() from Python code (builtins.open, io, os.open,
    # pathlib, importlib.resources); it cannot be removed, so it records only while asked.
    if event == "open" and _opened is not None and threading.get_ident() == _watching:
        path, mode, flags = args
        writes = bool((flags or 0) & _WRITES) or bool(set(mode or "") & set("wax+"))
        _opened.append((os.fsdecode(path) if isinstance(path, (str, bytes)) else str(path), writes))


sys.addaudithook(_audit)


@contextmanager
def files_opened():
    global _opened, _watching
    _opened, _watching = [], threading.get_ident()
    try:
        yield _opened
    finally:
        _opened = None


@contextmanager
def fifo_watch(path):
    """A FIFO at ``path`` that notices being opened for reading from any code, C++ included:
    a writer can open a FIFO without blocking only once a reader has. The list it yields
    gets True then; the reader sees end-of-file at once, so nothing hangs."""
    os.mkfifo(path)
    seen: list[bool] = []
    stop = threading.Event()

    def watch() -> None:
        while not stop.is_set():
            try:
                fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
            except OSError as err:  # ENXIO: no reader yet
                if err.errno != errno.ENXIO:
                    raise
                time.sleep(0.005)
                continue
            seen.append(True)
            os.close(fd)

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    try:
        yield seen
    finally:
        stop.set()
        thread.join()


def test_the_watchers_see_a_reader(tmp_path):
    """The two watchers below can fail: each notices an ordinary read."""
    with fifo_watch(tmp_path / "fifo") as seen, files_opened() as opened:
        with open(tmp_path / "fifo", "rb") as file:
            assert file.read() == b""
        deadline = time.monotonic() + 5
        while not seen and time.monotonic() < deadline:
            time.sleep(0.01)
    assert seen and opened == [(str(tmp_path / "fifo"), False)]


# ---- a spec cannot make learnable read or write another file --------------------------------------

SECRET_SPEC = "input: [7]\nlayers: [{Dense: 1000}]\n"  # if it were ever read, 7×1000 + 1000 would show


def hostile_specs(secret) -> dict[str, object]:
    relative = "../../secret"  # from the working directory set below
    return {
        "yaml !include": f"input: [3]\nlayers:\n  - !include {relative}.yaml\n",
        "yaml custom tag on a value": f"input: !!python/object/apply:builtins.open ['{secret}.yaml']\nlayers: [Flatten]\n",
        "input is a path": {"input": f"{relative}.yaml", "layers": ["Flatten"]},
        "layer is a path": {"input": [3], "layers": [f"{relative}.yaml"]},
        "layer is a zoo name": {"input": [3], "layers": [f"zoo:{relative}"]},
        "block is a path": {"input": [3], "blocks": {"b": f"{relative}.yaml"}, "layers": ["b"]},
        "json $ref": json.dumps({"input": [3], "$ref": f"{relative}.yaml", "layers": ["Flatten"]}),
        "compact open()": f"Input(3) | Dense(len(open('{relative}.yaml').read()))",
        "compact import": f"Input(3) | Dense(__import__('pathlib').Path('{secret}.yaml').stat().st_size)",
        "zoo, absolute": f"zoo:{secret}",  # (zoo folder / '/abs/secret.yaml') would be that very file
        "zoo, relative": f"zoo:{os.path.relpath(secret, learnable.__path__[0] + '/zoo')}",
    }


CASES = list(hostile_specs("/x"))


@pytest.fixture
def secret(tmp_path, monkeypatch):
    (tmp_path / "secret.yaml").write_text(SECRET_SPEC)
    workdir = tmp_path / "work" / "dir"
    workdir.mkdir(parents=True)
    monkeypatch.chdir(workdir)
    learnable.count("Input(3) | Dense(2)")  # imports done before watching
    return tmp_path / "secret"


@pytest.mark.parametrize("case", CASES)
def test_a_spec_cannot_name_another_file(case, secret):
    spec = hostile_specs(str(secret))[case]
    before = sorted(p.name for p in secret.parent.rglob("*"))
    with files_opened() as opened, pytest.raises(learnable.LearnableError):
        learnable.count(spec)
    assert not [path for path, _ in opened if "secret" in path], opened
    assert not [path for path, writes in opened if writes], opened
    assert sorted(p.name for p in secret.parent.rglob("*")) == before


def test_a_name_that_looks_like_a_path_is_only_a_name(secret):
    with files_opened() as opened:
        report = learnable.count({"name": "../../secret.yaml", "input": [3],
                                  "layers": [{"Dense": {"units": 2, "name": "../../secret.yaml"}}]})
    assert report.total_params == 3 * 2 + 2 and not opened


# ---- ONNX: external data is never opened, wherever it points -------------------------------------


def onnx_with_external_weight(location: str):
    pytest.importorskip("onnx")
    from onnx import TensorProto, helper

    weight = TensorProto(name="w", data_type=TensorProto.FLOAT, dims=[3, 5], data_location=TensorProto.EXTERNAL)
    for key, value in (("location", location), ("offset", "0"), ("length", str(3 * 5 * 4))):
        weight.external_data.add(key=key, value=value)
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["y"])], "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 5])], [weight])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


@pytest.mark.parametrize("location", ["../secret.bin", "SECRET_ABSOLUTE"])
def test_onnx_external_data_outside_the_model_is_never_opened(tmp_path, location):
    onnx = pytest.importorskip("onnx")
    secret = tmp_path / "secret.bin"
    location = str(secret) if location == "SECRET_ABSOLUTE" else location
    (tmp_path / "models").mkdir()
    path = tmp_path / "models" / "model.onnx"
    onnx.save_model(onnx_with_external_weight(location), str(path))
    learnable.count(path)  # (imports, before watching; the FIFO does not exist yet: never read)
    with fifo_watch(secret) as read_by_anyone, files_opened() as opened:
        report = learnable.count(path)
    assert report.total_params == 3 * 5
    assert not read_by_anyone and not [p for p, _ in opened if "secret" in p], opened


# ---- safetensors: the header is checked before it is used -----------------------------------------


def safetensors_bytes(header: object, data: bytes = b"", *, length: int | None = None) -> bytes:
    raw = header if isinstance(header, bytes) else json.dumps(header).encode()
    return struct.pack("<Q", len(raw) if length is None else length) + raw + data


def tensor(offsets, dtype="F32", shape=(2,)):
    return {"dtype": dtype, "shape": list(shape), "data_offsets": offsets}


SAFETENSORS_CASES = {
    "length one past the end": (safetensors_bytes({}, length=3), "declares a 3-byte header in a 10-byte file"),
    "length 2**64 - 1": (safetensors_bytes({}, length=2**64 - 1), "declares an 18,446,744,073,709,551,615-byte header"),
    "nested too deep": (safetensors_bytes(b"[" * 100_000 + b"]" * 100_000), "header that is not JSON"),
    "offsets past the data": (safetensors_bytes({"w": tensor([0, 8])}, bytes(4)), "data offsets [0, 8] that do not fit"),
    "offsets negative": (safetensors_bytes({"w": tensor([-8, 0])}, bytes(8)), "data offsets [-8, 0]"),
    "offsets floats": (safetensors_bytes({"w": tensor([0.0, 8.0])}, bytes(8)), "data offsets [0.0, 8.0]"),
    "offsets true": (safetensors_bytes({"w": tensor([True, 9])}, bytes(9)), "data offsets [True, 9]"),
    "overlapping": (safetensors_bytes({"a": tensor([0, 8]), "b": tensor([4, 12])}, bytes(12)), "'a' and 'b' overlap"),
    "the same bytes twice": (safetensors_bytes({"a": tensor([0, 8]), "b": tensor([0, 8])}, bytes(8)), "overlap"),
    "dtype a list": (safetensors_bytes({"w": tensor([0, 8], dtype=["F32"])}, bytes(8)), "bad dtype or shape"),
    "shape negative": (safetensors_bytes({"w": tensor([0, 0], shape=(-1, 0))}), "bad dtype or shape"),
    "shape past the file": (safetensors_bytes({"w": tensor([0, 8], shape=[10**4000] * 200)}, bytes(8)),
                            "data offsets [0, 8] that do not fit"),
}


@pytest.mark.parametrize("case", SAFETENSORS_CASES)
def test_a_damaged_safetensors_header_is_one_clear_error(case, tmp_path):
    content, fragment = SAFETENSORS_CASES[case]
    path = tmp_path / "model.safetensors"
    path.write_bytes(content)
    with pytest.raises(learnable.LearnableError, match=fragment.replace("[", r"\[").replace("(", r"\(")):
        learnable.count(path)


def test_tensors_side_by_side_count_each(tmp_path):
    # The overlap check must not refuse neighbours: [0, 8) and [8, 20) touch, and an empty
    # tensor takes no bytes at all.
    header = {"a": tensor([0, 8]), "b": tensor([8, 20], shape=(3,)), "c": tensor([8, 8], shape=(0,))}
    (tmp_path / "side.safetensors").write_bytes(safetensors_bytes(header, bytes(20)))
    assert learnable.count(tmp_path / "side.safetensors").total_params == 2 + 3 + 0


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-2, 2**65) | st.floats() | st.text(max_size=6),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=12)
headers = st.dictionaries(st.sampled_from(["w", "a.b", "__metadata__", "", "x.running_mean"]),
                          st.fixed_dictionaries({"dtype": st.sampled_from(["F32", "I64", "F64", "X", 3]),
                                                 "shape": json_values, "data_offsets": json_values}) | json_values)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(header=headers | json_values, data=st.binary(max_size=64), cut=st.integers(0, 200))
def test_any_safetensors_header_ends_in_a_report_or_a_clear_error(tmp_path, header, data, cut):
    content = safetensors_bytes(header, data)
    path = tmp_path / "fuzz.safetensors"
    path.write_bytes(content[:cut] if cut < 8 else content)
    try:
        report = learnable.count(path)
    except learnable.LearnableError as err:
        assert str(err).strip() and len(str(err).splitlines()) == 1
    else:
        assert all(row.params >= 0 and row.buffers >= 0 for row in report.layers)


# ---- size limits: files and streams are read within them -----------------------------------------


def test_a_spec_file_over_16_mb_is_refused_unread(tmp_path):
    path = tmp_path / "huge.yaml"
    with path.open("wb") as file:
        file.truncate(16 * 1024 * 1024 + 1)  # sparse: no disk is used
    with pytest.raises(learnable.LearnableError, match="is 16,777,217 bytes; specs larger than 16,777,216"):
        learnable.count(path)


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
def test_a_file_that_never_ends_is_read_only_to_the_limit():
    # /dev/zero states a size of 0: a check of the stated size alone would read forever.
    with pytest.raises(learnable.LearnableError, match="holds more than 16,777,216 bytes"):
        learnable.count("/dev/zero")


def test_standard_input_over_16_mb_is_refused():
    result = subprocess.run([learnable_command(), "count", "-"], input=b"\0" * (16 * 1024 * 1024 + 1),
                            capture_output=True, timeout=60, check=False)
    assert result.returncode == 2 and b"holds more than 16,777,216 bytes" in result.stderr, result.stderr


# ---- what a report shows of the spec's own text ----------------------------------------------------


@pytest.mark.parametrize("fmt", ["table", "markdown"])
def test_a_name_cannot_send_escape_sequences_to_the_terminal(fmt):
    from learnable.render import render

    name = "n\x1b]0;pwned\x07\x1b[2J"  # set the window title, then clear the screen
    report = learnable.count({"name": name, "input": [3], "layers": [{"Dense": {"units": 2, "name": name}}]})
    text = render(report, fmt)
    assert "\x1b" not in text and "\x07" not in text
    assert "n\\x1b]0;pwned\\x07\\x1b[2J" in text  # still shown, escaped
