"""The fuzz targets: bounded runs in CI (20 s of atheris on specs, 10 s on sweeps, audits and
model files, 15 s on pasted code), and every input that ever crashed replayed, with the
behaviour each fix gave written out by hand."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys

import pytest
from conftest import ROOT
from hypothesis import given, settings
from hypothesis import strategies as st

import learnable

FUZZ = ROOT / "fuzz"
sys.path.insert(0, str(FUZZ))
from target import count_file, count_text, serve_bytes, split_file

REGRESSIONS = sorted(p for p in (FUZZ / "regressions").iterdir() if p.is_file())
FILE_REGRESSIONS = sorted((FUZZ / "regressions" / "files").iterdir())
SERVE_REGRESSIONS = sorted((FUZZ / "regressions" / "serve").iterdir())


@pytest.mark.parametrize("path", REGRESSIONS, ids=[p.name for p in REGRESSIONS])
def test_inputs_that_once_crashed_end_in_a_report_or_a_clear_error(path):
    count_text(path.read_bytes())  # raises on anything but a report or a one-line LearnableError


def test_a_nul_in_yaml_is_one_line_naming_its_place():
    # PyYAML's own message spans two lines ("...\n  in "<unicode string>", position 26").
    with pytest.raises(learnable.LearnableError) as caught:
        learnable.count("input: [3]\nlayers: [Flatten]\x00\n")
    assert str(caught.value) == ("line 2, column 18: YAML does not allow the character U+0000 "
                                 "(control characters are not allowed); remove it")


def test_pipes_after_a_vertical_tab_still_separate_layers():
    # "\v" inside a string is a line break to str.splitlines but not to Python's tokenizer:
    # the pipes' rows and the lines they were looked up in disagreed (IndexError).
    report = learnable.count("Input(4) | Dense(2, name='a\vb') | Dense(3)")
    assert [row.params for row in report.layers] == [0, 4 * 2 + 2, 2 * 3 + 3]
    assert report.layers[1].name == "a\vb"


def test_an_error_quoting_a_control_character_stays_on_one_line():
    # A name is the user's text: escaped in the message, so it can neither break the line
    # nor send escape sequences to the terminal.
    spec = {"input": [3], "layers": [{"Dense": {"units": 2, "name": "x\n\x1b[2J"}},
                                     {"Dense": {"units": 2, "name": "x\n\x1b[2J"}}]}
    with pytest.raises(learnable.LearnableError) as caught:
        learnable.count(spec)
    assert str(caught.value) == ("Dense 'x\\n\\x1b[2J' (layer 2): layer name 'x\\n\\x1b[2J' is already used by "
                                 "layer 1; names must be unique")


# Characters a string literal may hold raw that str.splitlines, or Unicode, calls line breaks.
BREAKERS = "\v\f\x1c\x1d\x1e\x85\u2028\u2029"
names = st.text(alphabet="ab |,()[]=#" + BREAKERS, max_size=6)


@settings(max_examples=150, deadline=None)
@given(st.integers(1, 6), st.lists(st.tuples(st.integers(1, 5), names), min_size=1, max_size=8),
       st.lists(st.sampled_from([" | ", "\n", "\n| ", ", ", "\r\n", " |\n  "]), min_size=8, max_size=8))
def test_compact_layers_keep_their_names_and_counts_whatever_the_names_hold(features, layers, separators):
    """The compact reader rewrites the text before parsing it (pipes, indentation): names
    holding pipes, brackets and line-break-like characters must come through as written."""
    calls = [f"Dense({units}, name='n{i}{name}')" for i, (units, name) in enumerate(layers)]
    text = f"Input({features})" + "".join(sep + call for sep, call in zip(separators, calls))
    report = learnable.count(text)
    widths = [features] + [units for units, _ in layers]
    assert report.total_params == sum(a * b + b for a, b in zip(widths, widths[1:]))
    assert [row.name for row in report.layers[1:]] == [f"n{i}{name}" for i, (_, name) in enumerate(layers)]


needs_atheris = pytest.mark.skipif(
    importlib.util.find_spec("atheris") is None,
    reason="atheris is not installed (the test extra installs it on Linux x86-64; see fuzz/README.md)")


@needs_atheris
def test_twenty_seconds_of_fuzzing_find_no_crash(tmp_path):
    sys.path.insert(0, str(FUZZ))
    from corpus import write

    write(tmp_path / "corpus")
    assert_fuzzing_finds_no_crash("fuzz_spec.py", tmp_path, seconds=20, timeout=10)


@needs_atheris
def test_ten_seconds_of_fuzzing_sweeps_find_no_crash(tmp_path):
    (tmp_path / "corpus").mkdir()
    # A generous timeout: a fuzzed repeat may ask for a network of 600,000 layers.
    assert_fuzzing_finds_no_crash("fuzz_sweep.py", tmp_path, seconds=10, timeout=120)


@needs_atheris
@pytest.mark.parametrize("script, seeds, seconds", [
    ("fuzz_code.py", "write_code", 15),  # the code reader
    ("fuzz_audit.py", "write_audit", 10),  # claims tables and printed summaries
    ("fuzz_files.py", "write_files", 10),  # model files
    ("fuzz_serve.py", "write_serve", 10),  # the server's request parsing
])
def test_seconds_of_fuzzing_each_reader_find_no_crash(tmp_path, script, seeds, seconds):
    sys.path.insert(0, str(FUZZ))
    import corpus

    getattr(corpus, seeds)(tmp_path / "corpus")
    assert_fuzzing_finds_no_crash(script, tmp_path, seconds=seconds, timeout=20)


def assert_fuzzing_finds_no_crash(script: str, tmp_path, seconds: int, timeout: int) -> None:
    # No RSS limit here: libFuzzer reads the peak from getrusage, which a child forked from
    # this pytest process inherits (2 GB and more once the framework tests have run), so it
    # reported an out-of-memory that was pytest's. fuzz/README.md's long runs keep the limit.
    command = [sys.executable, str(FUZZ / script), str(tmp_path / "corpus"), f"-max_total_time={seconds}",
               f"-timeout={timeout}", "-rss_limit_mb=0", f"-artifact_prefix={tmp_path}/"]
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, env=env, check=False)
    crashes = list(tmp_path.glob("crash-*")) + list(tmp_path.glob("timeout-*")) + list(tmp_path.glob("oom-*"))
    assert result.returncode == 0 and not crashes, result.stderr[-4000:]
    assert "Done" in result.stderr  # libFuzzer's closing line: it really ran


def test_a_block_name_filled_from_a_number_is_refused_where_it_is_written():
    # Found by the fuzzer: "name: $filters" with filters = 16 reached the planner as a
    # number (TypeError). A filled-in name is checked as a written one is.
    spec = "input: [4]\nblocks:\n  b:\n    params: {n: ~}\n    layers:\n      - Dense: {units: 2, name: $n}\nlayers:\n  - b: {n: 16}\n"
    with pytest.raises(learnable.LearnableError) as caught:
        learnable.count(spec)
    assert str(caught.value) == "line 6: name must be a non-empty string, got 16"
    ok = spec.replace("name: $n", "name: d$n")  # text around a parameter makes a name
    assert [row.name for row in learnable.count(ok).layers] == ["input", "b/d16"]


# ---- model files (fuzz_files.py) ------------------------------------------------------------------

@pytest.mark.parametrize("path", FILE_REGRESSIONS, ids=[p.name for p in FILE_REGRESSIONS])
def test_model_files_that_once_crashed_end_in_a_report_or_a_clear_error(path, tmp_path):
    count_file(path.read_bytes(), str(tmp_path))  # raises on anything but a report or a one-line LearnableError


# What each kept file gives now, worked out from the file (its seed: fuzz/corpus.py's write_files).
FILE_OUTCOMES = {
    # libhdf5 loops forever walking a global heap with an object of size 0, or one whose size
    # wraps its pointer (2^64 - 1 bytes): refused before h5py opens the file
    "h5-global-heap-object-of-no-size": "has a damaged HDF5 global heap at byte 2,048 (an object of no size)",
    "h5-global-heap-object-past-its-collection": ("has a damaged HDF5 global heap at byte 2,048 (an object of "
                                                  "18,446,744,073,709,551,615 bytes in a 4,096-byte collection)"),
    "h5-object-header-past-its-buffer": "is a damaged HDF5 file: h5py cannot read it (Unable to synchronously open",
    "h5-keras-call-on-no-tensor": "layer 'dense_3' has a call (inbound node 0) on no Keras tensor",
    "h5-keras-dense-with-no-inbound-nodes": "layer 'dense_3' (Dense) has no inbound nodes",
    "h5-layer-names-vlen-sequence-crashed-libhdf5": "is a layer learnable has no rule for",  # (its class, mutated)
    "h5-weight-named-datatype-not-dataset": "is a layer learnable has no rule for",
    # its model_config declares 3.4 GB (h5py allocated it): read in a child with 1 GiB of address space
    "h5-vlen-string-declaring-gigabytes": "needs more than 1 GiB to read (HDF5 allocates what the file declares)",
    "onnx-graph-name-not-utf8": "holds a name or string that is not UTF-8",
    "onnx-initializer-data-type-33": "initializer 'w' has dims [2×3] and data type 33",
    "pt-weights-only-refusal-with-no-reason": "holds data that loading with weights_only=True refuses;",
    "pt-zip-version-25.5": "is not a readable zip (a PyTorch checkpoint is one): zip file version 25.5",
}


@pytest.mark.frameworks
@pytest.mark.parametrize("name", sorted(FILE_OUTCOMES))
def test_each_kept_model_file_gives_its_one_line(name, tmp_path):
    pytest.importorskip({"h5": "h5py", "onnx": "onnx", "pt": "torch"}[name.split("-")[0]])
    suffix, _, body = split_file((FUZZ / "regressions" / "files" / name).read_bytes())
    (tmp_path / f"model{suffix}").write_bytes(body)
    with pytest.raises(learnable.LearnableError) as caught:
        learnable.count(str(tmp_path / f"model{suffix}"))
    assert FILE_OUTCOMES[name] in str(caught.value) and "\n" not in str(caught.value)


@pytest.mark.frameworks
def test_a_damaged_string_attribute_that_crashed_libhdf5_leaves_the_config_counted(tmp_path):
    """weight_names stored as a variable-length sequence where Keras writes strings: libhdf5
    crashed (SIGSEGV) reading it. Refused unread, the weights are not shown and the config
    counts alone: Dense(3) and Dense(2) on 4 inputs."""
    pytest.importorskip("h5py")
    suffix, _, body = split_file((FUZZ / "regressions/files/h5-weight-names-vlen-sequence-crashed-libhdf5")
                                 .read_bytes())
    (tmp_path / f"model{suffix}").write_bytes(body)
    assert learnable.count(str(tmp_path / f"model{suffix}")).total_params == (4 * 3 + 3) + (3 * 2 + 2)


@pytest.mark.frameworks
def test_a_vlen_string_declaring_gigabytes_is_refused_within_a_gibibyte():
    """model_config's variable-length string declares 0xCBCBCBCB bytes (3.4 GB) at an address past
    the file: h5py allocated them (3.3 GB measured) before libhdf5 found nothing there. Read in a
    child process with 1 GiB of address space, it is one line, and neither process grows past it."""
    pytest.importorskip("h5py")
    path = FUZZ / "regressions" / "files" / "h5-vlen-string-declaring-gigabytes"
    code = ("import resource, sys, tempfile; sys.path.insert(0, sys.argv[2]); from target import count_file; "
            "count_file(open(sys.argv[1], 'rb').read(), tempfile.mkdtemp()); "
            "hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM:')][0].split()[1]; "
            "print(hwm, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    # the parent's peak from VmHWM, not ru_maxrss: Linux keeps ru_maxrss across exec, so that
    # would be the peak of the pytest process that started this one (2.6 GB in the full suite)
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    result = subprocess.run([sys.executable, "-c", code, str(path), str(FUZZ)], capture_output=True, text=True,
                            timeout=120, env=env, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    parent, child = (int(kib) for kib in result.stdout.split()[-2:])
    # KiB: 1 GiB, and the child's imports
    assert parent < 1024 * 1024 and child < 1024 * 1024 + 300 * 1024, (parent, child, result.stderr[-2000:])


# ---- the server's requests (fuzz_serve.py) --------------------------------------------------------

@pytest.mark.parametrize("path", SERVE_REGRESSIONS, ids=[p.name for p in SERVE_REGRESSIONS])
def test_requests_that_once_crashed_end_in_an_answer_or_a_refusal(path):
    serve_bytes(path.read_bytes())  # raises on anything but an answer or a one-line 4xx/5xx refusal


def test_a_json_body_nested_too_deep_is_a_400_not_a_bug():
    # Found by reading what fuzz_serve.py reaches: json.loads raised RecursionError, which the
    # worker answered as a 500 "a bug, please report it".
    assert serve_bytes((FUZZ / "regressions/serve/json-body-nested-100000-deep").read_bytes()) == [400]
    from learnable.serve import api

    with pytest.raises(api.RequestError) as caught:
        api.count_request(b"[" * 100_000)
    assert (caught.value.status, caught.value.message) == (400, "the request body is JSON nested too deep to read")


def test_a_lone_surrogate_in_yaml_text_or_a_vary_value_is_one_line():
    # Found by fuzz_sweep.py once it drew surrogates: PyYAML's C reader raised UnicodeEncodeError.
    # A shell decodes an argument's undecodable bytes to them (surrogateescape), so --vary meets them.
    from learnable.cli._commands import _vary

    with pytest.raises(learnable.LearnableError) as caught:
        learnable.count("input: [4]\nlayers: [\ud800]\n")
    assert str(caught.value) == "line 2, column 10: U+D800 is a lone surrogate, not a character (undecodable " \
                                "bytes?); remove it"
    with pytest.raises(learnable.LearnableError) as caught:
        _vary("a.b=1,\udcff")
    assert str(caught.value).startswith("--vary a.b:1:3: U+DCFF is a lone surrogate")
