"""Issue 20, part 3: the CLI and API as a newcomer meets them. Each expectation is written
by hand (hand arithmetic, English grammar) or read from the framework itself."""

from __future__ import annotations

import re

import pytest

import learnable
from conftest import EXAMPLES, run_cli
from learnable._text import with_article

SEED = str(EXAMPLES / "simple_cnn.yaml")


def test_repr_is_one_short_line_and_str_the_table():
    report = learnable.count(SEED)
    total = (3 * 3 * 1 + 1) * 32 + (3 * 3 * 32 + 1) * 64 + (12 * 12 * 64 + 1) * 128 + (128 + 1) * 10
    assert repr(report) == f"<Report 'simple-cnn': {total:,} params ({total:,} trainable), 7 layers>"
    assert "conv_2" in str(report) and "18,496" in str(report)
    unnamed = learnable.count("Input(3) | Dense(2)")
    assert repr(unnamed) == f"<Report: {3 * 2 + 2} params ({3 * 2 + 2} trainable), 2 layers>"


@pytest.mark.parametrize(("word", "expected"), [
    ("average", "an average"), ("max", "a max"), ("int", "an int"), ("unit", "a unit"), ("8-bit", "an 8-bit"),
    ("11-digit", "an 11-digit"), ("110-digit", "a 110-digit"), ("18,000-byte", "an 18,000-byte"),
    ("1,800-byte", "a 1,800-byte"), ("RNN", "an RNN"), ("GRU", "a GRU"), ("Keras", "a Keras"), ("one-hot", "a one-hot"),
])
def test_article_follows_the_sound(word, expected):
    assert with_article(word) == expected


# "a" before a word read with a vowel sound; "a un..."/"a one"/"a use..." are read with a consonant.
A_BEFORE_VOWEL = re.compile(r"\ba (?!uni|use|usu|one|eu)[aeiouAEIOU8]\w*")


def test_no_template_writes_a_before_a_vowel():
    """Every layer type's explanation, the place templates compose most sentences."""
    from learnable.explain import explain
    from learnable.render.explain import render_markdown
    from learnable.rules._registry import all_rules

    found = {}
    for name in dict.fromkeys(rule.name for rule in all_rules()):
        text = render_markdown(explain(name))
        found.update({name: m.group() for m in A_BEFORE_VOWEL.finditer(text)})
    assert not found
    assert "an average over each window" in render_markdown(explain("AveragePooling2D"))


def test_explain_without_a_type_lists_families_and_types_within_the_width():
    result = run_cli("explain")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    for family in ("conv:", "pooling:", "recurrent:", "attention:", "norm:"):
        assert family in lines
    for name in ("Conv2D", "Conv2d", "LSTM", "MultiheadAttention", "BatchNormalization", "AvgPool2d"):
        assert re.search(rf"\b{name}\b", result.stdout), name
    narrow = run_cli("explain", columns=60)
    assert narrow.returncode == 0 and max(map(len, narrow.stdout.splitlines())) <= 60


@pytest.mark.parametrize(("code", "reference", "line", "error"), [
    ("import math\nx = 1\nraise ValueError('boom')\nmodel = None\n", "model", 3, "raised ValueError: boom"),
    ("def model():\n    return 1 / 0\n", "model", 2, "building 'model' raised ZeroDivisionError: division by zero"),
    ("import sys\n\nsys.exit(3)\n", "model", 3, "raised SystemExit: 3"),
])
def test_a_users_file_that_fails_is_one_line(tmp_path, code, reference, line, error):
    """FILE.py:NAME runs the user's own file by design; its failure names the file and line."""
    path = tmp_path / "mine.py"
    path.write_text(code, encoding="utf-8")
    result = run_cli("count", f"{path}:{reference}")
    assert result.returncode == 2
    assert result.stderr == f"learnable: error: {path}:{line}: {error}\n"
    assert "Traceback" not in result.stderr


def test_input_on_a_spec_says_where_the_input_goes():
    result = run_cli("count", SEED, "--input", "3x32x32")
    assert result.returncode == 2 and result.stderr.count("\n") == 1
    assert "--input (input_shape= in Python) is for model code and framework models" in result.stderr
    assert "a spec states its input itself (input: [...]" in result.stderr


def test_keras_without_its_backend_says_which_to_pick(tmp_path):
    import importlib.util
    import os
    import subprocess

    from conftest import learnable_command

    if importlib.util.find_spec("keras") is None or importlib.util.find_spec("tensorflow") is not None:
        pytest.skip("needs Keras 3 installed without TensorFlow, its default backend")
    (tmp_path / "k.py").write_text("import keras\nmodel = keras.Sequential([keras.layers.Dense(2)])\n")
    env = {**os.environ, "KERAS_BACKEND": "tensorflow"}
    result = subprocess.run([learnable_command(), "count", "k.py:model"], capture_output=True, text=True,
                            cwd=tmp_path, env=env, timeout=120)
    assert result.returncode == 2, result.stderr[:3000]
    assert result.stderr.startswith(
        "learnable: error: k.py:1: raised ModuleNotFoundError: No module named 'tensorflow'")
    assert "KERAS_BACKEND=jax" in result.stderr and result.stderr.count("\n") == 1


def test_the_keras_extra_brings_a_backend():
    """Keras 3 runs on TensorFlow, JAX or PyTorch (keras.io/getting_started); it installs none."""
    import tomllib

    from conftest import ROOT

    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    names = {re.split(r"[<>=\[ ]", requirement)[0] for requirement in extras["keras"]}
    assert "keras" in names and names & {"jax", "torch", "tensorflow"}


# ---- checkpoints: rows in module order, each module once, no shape where none was traced ----

ORDER = [1, 5, 0, 4, 9, 10, 2]


def _table_rows(stdout: str) -> list[list[str]]:
    """The table's rows as cells (split on runs of 2+ spaces), indentation kept in the first."""
    lines = stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.lstrip().startswith("─")) + 1
    rows = []
    for line in lines[start:]:
        if not line.strip():
            break
        indent = len(line) - len(line.lstrip()) - 1
        cells = re.split(r" {2,}", line.strip())
        rows.append([" " * indent + cells[0], *cells[1:]])
    return rows


def _save_layers(path, order):
    numpy = pytest.importorskip("numpy")
    save_file = pytest.importorskip("safetensors.numpy").save_file
    tensors = {}
    for i in order:
        tensors[f"layers.{i}.linear.weight"] = numpy.zeros((4, 3), numpy.float32)
        tensors[f"layers.{i}.linear.bias"] = numpy.zeros(4, numpy.float32)
        tensors[f"layers.{i}.norm.weight"] = numpy.zeros(4, numpy.float32)
    tensors["head.weight"] = numpy.zeros((2, 4), numpy.float32)
    save_file(tensors, str(path))


def _raw_safetensors(path, names_and_shapes):
    """A header written in the order given (the safetensors package sorts names; other
    writers need not), data zeros."""
    import json
    import struct
    from math import prod

    header, offset = {}, 0
    for name, shape in names_and_shapes:
        size = 4 * prod(shape)
        header[name] = {"dtype": "F32", "shape": list(shape), "data_offsets": [offset, offset + size]}
        offset += size
    raw = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(raw)) + raw + bytes(offset))


def test_checkpoint_rows_in_module_order_without_shapes(tmp_path):
    path = tmp_path / "m.safetensors"
    _save_layers(path, ORDER)
    result = run_cli("count", str(path), "--depth", "2")
    assert result.returncode == 0, result.stderr
    rows = _table_rows(result.stdout)
    per_layer = 4 * 3 + 4 + 4
    # head first: the safetensors package writes names sorted as text, and modules keep the file's order
    expected = [["head", "tensors", f"{2 * 4}"], ["layers", "module (block)", f"{len(ORDER) * per_layer:,}"]]
    for i in sorted(ORDER):
        expected += [[f"  {i}", "module (block)", f"{per_layer}"],
                     ["    linear", "tensors", f"{4 * 3 + 4}"], ["    norm", "tensors", "4"]]
    assert rows == expected  # three cells each: the shape cell is empty, not "()"


def test_checkpoint_in_a_writers_own_order(tmp_path):
    path = tmp_path / "raw.safetensors"
    _raw_safetensors(path, [(f"blocks.{i}.weight", (3, 3)) for i in ORDER] + [("blocks.1.bias", (3,))])
    rows = _table_rows(run_cli("count", str(path), "--depth", "1").stdout)
    assert [r[0].strip() for r in rows] == ["blocks", *map(str, sorted(ORDER))]
    assert rows[2] == ["  1", "tensors", f"{3 * 3 + 3}"]  # its weight and its bias, one row


def test_a_module_with_tensors_and_submodules_is_listed_once(tmp_path):
    path = tmp_path / "own.safetensors"
    _raw_safetensors(path, [("blk.scale", (4,)), ("other.weight", (5,)), ("blk.sub.weight", (2, 4)),
                            ("blk.sub2.weight", (3,))])
    shallow = _table_rows(run_cli("count", str(path)).stdout)
    assert shallow == [["blk", "module (block)", f"{4 + 2 * 4 + 3}"], ["other", "tensors", "5"]]
    deep = _table_rows(run_cli("count", str(path), "--depth", "1").stdout)
    assert deep == [["blk", "module (block)", f"{4 + 2 * 4 + 3}"], ["  scale", "tensors", "4"],
                    ["  sub", "tensors", f"{2 * 4}"], ["  sub2", "tensors", "3"], ["other", "tensors", "5"]]


def test_an_imported_model_without_input_shows_no_untraced_shape(tmp_path):
    pytest.importorskip("torch")
    (tmp_path / "cnn.py").write_text("import torch.nn as nn\n"
                                     "model = nn.Sequential(nn.Conv2d(3, 32, 3), nn.ReLU(), nn.Flatten(), "
                                     "nn.Linear(32, 10))\n")
    result = run_cli("count", "cnn.py:model", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    rows = {row[0]: row for row in _table_rows(result.stdout)}
    assert rows["0"] == ["0", "Conv2d", "(32, None, None)", f"{3 * 3 * 3 * 32 + 32}"]
    assert rows["2"] == ["2", "Flatten", "0"]  # its size depends on the input: no "(None,)"
    assert "(None,)" not in result.stdout


# ---- compare: within the terminal, every ≠ explained ------------------------------------------


def test_compare_resnet50_fits_the_terminal_and_explains_every_difference():
    from learnable.compare import compare_reports, explain_difference
    from learnable.render.compare import render_table

    keras, torch = learnable.count("zoo:resnet50"), learnable.count("zoo:resnet50_torch")
    comparison = compare_reports(keras, torch, labels=("zoo:resnet50", "zoo:resnet50_torch"))
    for match in comparison.differing:
        assert explain_difference(match, ("A", "B")), (match.a, match.b)
    conv1 = next(m for m in comparison.rows if m.a is not None and m.a.name == "conv1_conv")
    assert (conv1.a.params, conv1.b.params) == (7 * 7 * 3 * 64 + 64, 7 * 7 * 3 * 64)  # torchvision: bias=False
    assert explain_difference(conv1, ("A", "B")) == "B has no bias (A's: 64); the rest agrees"
    table = render_table(comparison, width=100)
    assert max(map(len, table.splitlines())) <= 100
    assert "Notes (numbers from the first such row):" in table and "convention [1]" in table
    assert "arithmetic" not in table and "buffers  " not in table.split("\n\n")[1]


def test_compare_on_the_command_line_fits_and_explain_adds_the_columns():
    narrow = run_cli("compare", "zoo:resnet50", "zoo:resnet50_torch", columns=90)
    assert narrow.returncode == 0, narrow.stderr
    assert max(map(len, narrow.stdout.splitlines())) <= 90
    wide = run_cli("compare", "zoo:resnet50", "zoo:resnet50_torch", "--explain", columns=400)
    header = next(line for line in wide.stdout.splitlines() if line.lstrip().startswith("Layer"))
    assert "Output shape" in header and "A arithmetic" in header
    assert "B buffers" in header and "A non-trainable" in header
    assert "Output shape" not in narrow.stdout and "B buffers" not in narrow.stdout
    assert "7×7×3×64 + 64 = 9,472" in wide.stdout


def test_a_norm_layer_in_one_model_only_says_it_may_be_folded():
    from learnable.compare import compare_reports, explain_difference

    with_bn = learnable.count("Input(8, 8, 3) | Conv2D(4, 3) | BatchNormalization() | Flatten() | Dense(2)")
    folded = learnable.count("Input(8, 8, 3) | Conv2D(4, 3) | Flatten() | Dense(2)")
    comparison = compare_reports(with_bn, folded)
    (bn,) = comparison.differing
    assert bn.a.params == 4 * 4 and bn.b is None
    assert explain_difference(bn, ("A", "B")) == (
        "only in A (B has no BatchNormalization here: folded into the layer before, or left out)")


# ---- --depth opens torch.nn's own composites ----------------------------------------------------


def test_depth_opens_an_imported_transformer_encoder(tmp_path):
    import json

    pytest.importorskip("torch")
    code = ("import torch.nn as nn\n"
            "model = nn.TransformerEncoder(nn.TransformerEncoderLayer(d_model=32, nhead=4, dim_feedforward=64), "
            "num_layers=2, enable_nested_tensor=False)\n")
    (tmp_path / "enc.py").write_text(code)
    namespace: dict = {}
    exec(code, namespace)  # the same module, built by torch here: the oracle
    module = namespace["model"]
    # a row per submodule of each encoder layer (layers.N.X); MultiheadAttention whole, by its rule
    expected = {name: sum(p.numel() for p in m.parameters()) for name, m in module.named_modules()
                if name.count(".") == 2}
    assert "layers.0.self_attn" in expected and "layers.1.linear2" in expected

    result = run_cli("count", "enc.py:model", "--depth", "3", "--format", "json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert {layer["name"]: layer["params"] for layer in data["layers"]} == expected
    blocks = {block["name"]: block["params"] for block in data["blocks"]}
    assert blocks["layers.0"] == sum(p.numel() for p in module.layers[0].parameters())
    assert data["total_params"] == sum(p.numel() for p in module.parameters())

    table = run_cli("count", "enc.py:model", "--depth", "3", cwd=tmp_path)
    rows = [row[0] for row in _table_rows(table.stdout)]
    assert rows[:4] == ["layers", "  0", "    self_attn", "    linear1"]
    whole = _table_rows(run_cli("count", "enc.py:model", cwd=tmp_path).stdout)
    assert [row[:2] for row in whole] == [["(top level)", "TransformerEncoder"]]  # one row by its rule
