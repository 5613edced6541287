"""Model code as learners paste it, counted without any framework and checked against the
framework itself.

tests/code_corpus/ holds the snippets (original code written in the forms of public
tutorials: see its README.md) and manifest.yaml how to count each; the environment variable
LEARNABLE_CORPUS names another corpus directory to check instead (such as a local copy of
verbatim tutorial code, whose manifest records provenance: repo, path, commit, lines, url).
tests/code_oracle.py runs each snippet with PyTorch or Keras for the truth. learnable reads
the same files in a subprocess where torch, keras, tensorflow and jax cannot be imported, so
nothing in its answer can come from running the code.

- test_manifest_describes_every_snippet: the manifest and the files agree (no framework).
- test_oracle_builds_every_snippet: every snippet builds with its framework here.
- test_learnable_matches_the_framework: learnable's report against the oracle, row by row.
"""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import code_oracle
from code_oracle import CORPUS, load_manifest, snippet_path

ROOT = Path(__file__).resolve().parent.parent
ENTRIES = load_manifest()
IDS = [entry["file"] for entry in ENTRIES]
# The keys of a manifest entry, in order. An original snippet says which kind of public code it
# is written after (style); a verbatim one where it was cut from (repo, path, commit, lines, url).
ORIGINAL_KEYS = ["file", "framework", "style", "model", "input", "integer_input", "values", "oracle_setup", "notes"]
VERBATIM_KEYS = ["file", "framework", "repo", "path", "commit", "lines", "url", "model", "input", "integer_input",
                 "values", "oracle_setup", "notes"]
ORIGINAL_LINES = (20, 150)  # an original snippet's length, as a pasted cell or file
NO_ORACLE_KEYS = ["expected_total", "why_no_oracle"]
NO_FORWARD = "records no output shapes"  # what an entry's notes say when forward() needs more than x
BATCH = 2  # code_oracle runs forward on zeros of shape (BATCH, *input)


def _require_framework(entry: dict[str, Any]) -> None:
    module = {"torch": "torch", "keras": "keras"}[entry["framework"]]
    pytest.importorskip(module, reason=f"{entry['file']} is {entry['framework']} code: its oracle needs "
                                       f"{module} installed (pip install -e '.[test]')")


_FACTS: dict[str, dict[str, Any]] = {}


def oracle(entry: dict[str, Any]) -> dict[str, Any]:
    """code_oracle.facts, once per snippet per test session."""
    if entry["file"] not in _FACTS:
        _FACTS[entry["file"]] = code_oracle.facts(entry)
    return _FACTS[entry["file"]]


# --------------------------------------------------------------------------- the manifest

def _keys(entry: dict[str, Any]) -> list[str]:
    return ORIGINAL_KEYS if "style" in entry else VERBATIM_KEYS


def test_manifest_files_are_the_corpus():
    on_disk = sorted(path.name for path in CORPUS.glob("*.py"))
    assert sorted(IDS) == on_disk, f"every snippet in {CORPUS} has one manifest entry, and back"
    assert len(ENTRIES) >= 45
    assert {entry["framework"] for entry in ENTRIES} == {"keras", "torch"}
    assert len({tuple(_keys(entry)) for entry in ENTRIES}) == 1, "a corpus is all original or all verbatim"


@pytest.mark.parametrize("entry", ENTRIES, ids=IDS)
def test_manifest_describes_every_snippet(entry):
    where = entry["file"]
    keys = _keys(entry)
    extra = [key for key in entry if key not in keys + NO_ORACLE_KEYS]
    assert [key for key in entry if key in keys] == keys and not extra, f"{where}: keys {list(entry)}"
    assert re.fullmatch(r"(keras|torch)_[a-z0-9_]+\.py", where), f"{where}: framework_what_it_is.py"
    assert where.startswith(entry["framework"] + "_"), where
    text = snippet_path(entry).read_text(encoding="utf-8")
    if keys is ORIGINAL_KEYS:
        assert isinstance(entry["style"], str) and entry["style"].strip(), f"{where}: style says what it is written after"
        low, high = ORIGINAL_LINES
        assert low <= len(text.splitlines()) <= high, f"{where}: {len(text.splitlines())} lines, not {low} to {high}"
    else:
        assert re.fullmatch(r"[0-9a-f]{40}", entry["commit"]), f"{where}: commit {entry['commit']!r}"
        ranges = [tuple(map(int, part.split("-"))) if "-" in part else (int(part), int(part))
                  for part in entry["lines"].split(",")]
        assert all(a <= b for a, b in ranges) and all(b < c for (_, b), (c, _) in zip(ranges, ranges[1:])), where
        assert len(text.splitlines()) == sum(b - a + 1 for a, b in ranges), f"{where}: lines {entry['lines']}"
    ast.parse(text, filename=where)  # runnable Python as printed
    assert entry["input"] is None or all(isinstance(d, int) and d > 0 for d in entry["input"]), where
    if entry["framework"] == "torch":
        assert entry["input"] is not None, f"{where}: PyTorch code states no input: the manifest must"
    assert isinstance(entry["values"], dict) and isinstance(entry["oracle_setup"], str), where
    if entry["values"]:
        assert entry["oracle_setup"], f"{where}: values without an oracle_setup defining them"
    if any(key in entry for key in NO_ORACLE_KEYS):
        assert all(entry.get(key) for key in NO_ORACLE_KEYS), f"{where}: expected_total needs why_no_oracle"
        assert entry["framework"] == "keras", f"{where}: only Keras code may go without its oracle"


# --------------------------------------------------------------------------- the oracle

@pytest.mark.parametrize("entry", ENTRIES, ids=IDS)
def test_oracle_builds_every_snippet(entry):
    _require_framework(entry)
    facts = oracle(entry)
    where = entry["file"]
    assert facts["total"]["params"] > 0, f"{where}: {facts['total']}"
    if entry["framework"] == "torch":
        assert facts["modules"], f"{where}: no modules"
        if NO_FORWARD in entry["notes"]:
            assert facts["forward_error"], f"{where}: forward ran: take '{NO_FORWARD}' out of its notes"
        else:
            assert facts["forward_error"] is None, f"{where}: forward on zeros{(BATCH, *entry['input'])} " \
                                                   f"failed: {facts['forward_error']}"
            assert any(m["output_shape"] for m in facts["modules"].values()), f"{where}: no shape recorded"
    elif facts["hand_counted"]:
        assert entry.get("expected_total"), where
    else:
        assert facts["layers"] is not None, where
        if facts["layers"]:  # a bare Layer (the subclassing guide's Linear) has none
            assert sum(layer["params"] for layer in facts["layers"]) == facts["total"]["params"], \
                f"{where}: the top-level layers' counts do not add up to the model's"


# --------------------------------------------------------------------------- learnable against it

_COUNT_ALL = r"""
import json, sys, traceback
for name in ("torch", "keras", "tensorflow", "jax"):
    sys.modules[name] = None  # import fails: learnable must read the code, not run it
import learnable

out = {}
for entry in json.loads(sys.stdin.read()):
    kwargs = {}
    if entry["input"] is not None:
        kwargs["input_shape"] = entry["input"]
    if entry["model"] is not None:
        kwargs["model"] = entry["model"]
    if entry["values"]:
        kwargs["values"] = entry["values"]
    if entry["integer_input"]:
        kwargs["integer_input"] = True
    try:
        out[entry["file"]] = learnable.count(entry["path"], **kwargs).to_dict()
    except learnable.LearnableError as err:
        out[entry["file"]] = {"error": str(err)}
    except Exception:
        out[entry["file"]] = {"crash": traceback.format_exc()}
print("CODE-CORPUS-REPORTS " + json.dumps(out))
"""


@pytest.fixture(scope="module")
def reports() -> dict[str, dict[str, Any]]:
    """learnable's report for every snippet, from one subprocess without the frameworks."""
    payload = [{"file": entry["file"], "path": str(snippet_path(entry)), "input": entry["input"],
                "model": entry["model"], "values": entry["values"], "integer_input": entry["integer_input"]}
               for entry in ENTRIES]
    proc = subprocess.run([sys.executable, "-c", _COUNT_ALL], input=json.dumps(payload), capture_output=True,
                          text=True, cwd=ROOT, timeout=600)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("CODE-CORPUS-REPORTS ")]
    if proc.returncode or not lines:
        pytest.fail(f"the learnable subprocess failed (exit {proc.returncode}):\n{proc.stderr[-4000:]}")
    return json.loads(lines[-1].partition(" ")[2])


def _shape(value: Any) -> tuple | None:
    return None if value is None else tuple(value)


@pytest.mark.parametrize("entry", ENTRIES, ids=IDS)
def test_learnable_matches_the_framework(entry, reports):
    _require_framework(entry)
    where = entry["file"]
    report = reports[where]
    assert "crash" not in report, f"{where}: learnable crashed:\n{report.get('crash')}"
    assert "error" not in report, f"{where}: learnable could not count it: {report.get('error')}"
    facts = oracle(entry)
    if entry["framework"] == "torch":
        _compare_torch(where, report, facts)
    else:
        _compare_keras(where, report, facts)


def _rows(report: dict[str, Any]) -> tuple[dict[str, dict], dict[str, dict]]:
    return {row["name"]: row for row in report["layers"]}, {row["name"]: row for row in report["blocks"]}


def _compare_torch(where: str, report: dict[str, Any], facts: dict[str, Any]) -> None:
    total = facts["total"]
    ours = (report["total_params"], report["trainable_params"], report["total_buffers"])
    assert ours == (total["params"], total["trainable"], total["buffers"]), \
        f"{where}: learnable's (params, trainable, buffers) {ours} != torch {tuple(total.values())}"
    layers, blocks = _rows(report)
    followed = not report.get("notes")  # counted from the constructors (said in notes): no shapes
    for path, module in facts["modules"].items():
        row = layers.get(path) or blocks.get(path)
        if row is None and _inside_a_row(path, layers):
            continue  # a module one rule counts whole (nn.TransformerEncoder's layers, MHA's out_proj)
        assert row is not None, f"{where}: torch module {path} ({module['type']}) is not a row of the report"
        kind = "layer" if path in layers else "block"
        label = f"{where}: {kind} {path} ({module['type']})"
        # A tied tensor (nanoGPT: lm_head.weight is transformer.wte.weight) is counted by torch in
        # both modules; the report may count it in one of them only, as the total does.
        allowed = {module["params"], module["params"] - module["tied"]}
        assert row["params"] in allowed, f"{label}: params {row['params']} != torch {module['params']}" + (
            f" (of which {module['tied']} tied to another module)" if module["tied"] else "")
        assert row["buffers"] == module["buffers"], f"{label}: buffers {row['buffers']} != torch {module['buffers']}"
        ours_shape = _shape(row["output_shape"])
        if (followed and module["output_shape"] is not None and module["output_batch"] == BATCH
                and ours_shape is not None and None not in ours_shape):
            assert ours_shape == module["output_shape"], \
                f"{label}: output shape {ours_shape} != torch {module['output_shape']}"
    for name, row in layers.items():
        if name in facts["own"]:  # a module's own tensor (a class token, a buffer): its own row, its size
            assert row["params"] + row["buffers"] == facts["own"][name], \
                f"{where}: row {name} ({row['type']}) holds {row['params'] + row['buffers']} values, " \
                f"torch's tensor {facts['own'][name]}"
        elif name not in facts["modules"]:  # F.relu, torch.flatten, x + y, "<path> (call 2)", the input
            assert row["params"] == 0 and row["buffers"] == 0, \
                f"{where}: row {name} ({row['type']}) is no module of torch's, yet has " \
                f"{row['params']} params, {row['buffers']} buffers"


def _inside_a_row(path: str, layers: dict[str, Any]) -> bool:
    """Whether a module lies inside one the report counts as one row."""
    parent = path.rpartition(".")[0]
    while parent:
        if parent in layers:
            return True
        parent = parent.rpartition(".")[0]
    return False


def _compare_keras(where: str, report: dict[str, Any], facts: dict[str, Any]) -> None:
    total = facts["total"]
    ours = (report["total_params"], report["trainable_params"], report["non_trainable_params"])
    source = "the hand count" if facts["hand_counted"] else "Keras"
    assert ours == (total["params"], total["trainable"], total["non_trainable"]), \
        f"{where}: learnable's (params, trainable, non-trainable) {ours} != {source} {tuple(total.values())}"
    if facts["layers"] is None:
        return
    layers, blocks = _rows(report)
    for layer in facts["layers"]:
        name = layer["name"]
        row = layers.get(name) or blocks.get(name)
        assert row is not None, f"{where}: Keras layer {name} ({layer['class']}) is not a row of the report"
        label = f"{where}: {'layer' if name in layers else 'block'} {name} ({layer['class']})"
        split = (row["params"], row["trainable"], row["non_trainable"])
        keras_split = (layer["params"], layer["trainable"], layer["non_trainable"])
        assert split == keras_split, f"{label}: (params, trainable, non-trainable) {split} != Keras {keras_split}"
        if layer["output_shape"] is not None:
            assert _shape(row["output_shape"]) == tuple(layer["output_shape"]), \
                f"{label}: output shape {_shape(row['output_shape'])} != Keras {tuple(layer['output_shape'])}"
