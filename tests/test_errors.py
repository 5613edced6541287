"""Bad input: one clear message naming the place and the problem, exit status 2, no traceback."""

from __future__ import annotations

import pytest

import learnable
from conftest import run_cli

# (source, fragments the message must contain)
COMPACT_CASES = {
    "unknown type": ("Input(8) | Dence(3)", ["layer 2", "unknown layer type 'Dence'", "did you mean 'Dense'"]),
    "missing argument": ("Input(8) | Dense()", ["Dense 'dense' (layer 2", "argument 'units' is required"]),
    "negative": ("Input(8) | Dense(-3)", ["argument 'units' must be a positive integer, got -3"]),
    "zero": ("Input(8, 8, 1) | Conv2D(0, 3)", ["Conv2D 'conv2d'", "argument 'filters' must be a positive integer, got 0"]),
    "float": ("Input(8) | Dense(2.5)", ["argument 'units' must be an integer, got 2.5"]),
    "string number": ("Input(8, 8, 1) | Conv2D(4, '3')", ["argument 'kernel_size' must be an integer, got '3'"]),
    "bool": ("Input(8) | Dense(True)", ["argument 'units' must be an integer, got True"]),
    "misspelt argument": ("Input(8, 8, 1) | Conv2D(4, 3, stride=2)", ["argument 'stride' is not an argument", "did you mean 'strides'"]),
    "kernel too large": ("Input(3, 3, 1) | Conv2D(8, 5)", ["Conv2D 'conv2d' (layer 2", "on input (3, 3, 1)", "kernel 5×5 is larger than its input 3×3 with padding 'valid'", "use padding 'same'"]),
    "dilated kernel too large": ("Input(5, 5, 1) | Conv2D(8, 3, dilation_rate=3)", ["dilated kernel 7×7 (3×3 with dilation 3×3)"]),
    "pool too large": ("Input(1, 1, 4) | MaxPooling2D(2)", ["MaxPooling2D", "pool window 2×2 is larger than its input 1×1"]),
    "dense of unknown": ("Input(10, None) | Dense(3)", ["Dense 'dense'", "needs a known last dimension", "(10, None)"]),
    "flatten of unknown": ("Input(None, None, 3) | Flatten() | Dense(10)", ["Dense 'dense' (layer 3", "on input (None,)", "needs a known last dimension"]),
    "conv of unknown channels": ("Input(8, 8, None) | Conv2D(4, 3)", ["number of input channels", "unknown"]),
    "wrong rank": ("Input(28, 28) | Conv2D(4, 3)", ["expects a 3-D input (height, width, channels", "got shape (28, 28)"]),
    "groups": ("Input(8, 8, 6) | Conv2D(8, 3, groups=4)", ["6 input channels cannot be split into groups=4"]),
    "strides with dilation": ("Input(9, 9, 1) | Conv2D(4, 3, strides=2, dilation_rate=2)", ["not supported by Keras"]),
    "no input": ("Dense(3)", ["Dense 'dense' (layer 1, line 1, column 1) has no input", "input: [shape]"]),
    "torch in_channels": ("Input(3, 32, 32) | nn.Conv2d(4, 8, 3)", ["in_channels=4 but its input has 3 channels"]),
    "torch same with stride": ("Input(3, 8, 8) | nn.Conv2d(3, 8, 3, stride=2, padding='same')", ["padding='same' is not supported for strided"]),
    "torch linear in_features": ("Input(10) | nn.Linear(12, 3)", ["in_features=12 but its input (10,) has 10"]),
    "reshape": ("Input(10) | Reshape((3, 4))", ["cannot reshape (10,) (10 values) to (3, 4) (12 values)"]),
    "not calls": ("1 + 2", ["expected a layer call such as Dense(10), found '1 + 2'"]),
    "syntax": ("Input(8) | Dense(3", ["not a list of layer calls"]),
    "functional api": ("Input(8) | Dense(3)(x)", ["functional-API calls"]),
    "statement": ("x = 3", ["the code builds no model"]),
}


def assert_error(source, fragments) -> None:
    with pytest.raises(learnable.LearnableError) as caught:
        learnable.count(source)
    message = str(caught.value)
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in {message!r}"


@pytest.mark.parametrize("case", COMPACT_CASES, ids=list(COMPACT_CASES))
def test_api_error_messages(case):
    assert_error(*COMPACT_CASES[case])


@pytest.mark.parametrize("case", ["unknown type", "kernel too large", "not calls", "no input"])
def test_cli_exits_2_with_one_line(case):
    source, fragments = COMPACT_CASES[case]
    result = run_cli("count", source)
    assert result.returncode == 2
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("learnable: error: ")
    assert fragments[0] in lines[0]


GRAPH = {"inputs": {"a": [8, 8, 3], "b": [8, 8, 3]}}


def graph(*layers) -> dict:
    return {**GRAPH, "layers": list(layers)}


SPEC_CASES = {
    "add mismatch": (
        graph({"Conv2D": {"filters": 4, "kernel_size": 3, "name": "c", "inputs": "a"}}, {"Add": {"inputs": ["c", "b"]}}),
        ["Add 'add' (layer 2) on input (6, 6, 4), (8, 8, 3)", "incompatible shapes"],
    ),
    "concat mismatch": (
        graph({"Conv2D": {"filters": 4, "kernel_size": 3, "name": "c", "inputs": "a"}}, {"Concatenate": {"inputs": ["c", "b"]}}),
        ["Concatenate", "differ on axis 1, which is not the joined axis -1"],
    ),
    "unknown input name": (
        graph({"Conv2D": {"filters": 4, "kernel_size": 3, "inputs": ["aa"]}}),
        ["input 'aa' is not the name of any layer", "did you mean 'a'"],
    ),
    "cycle": (
        graph({"Dense": {"units": 3, "name": "x", "inputs": ["z"]}}, {"Dense": {"units": 3, "name": "y", "inputs": ["x"]}},
              {"Add": {"name": "z", "inputs": ["y", "a"]}}),
        ["the layers form a cycle", "x → y → z → x"],
    ),
    "self reference": (graph({"Dense": {"units": 3, "name": "x", "inputs": ["x"]}}), ["'x' (layer 1) takes its own output"]),
    "duplicate name": (graph({"Dense": {"units": 3, "name": "x"}}, {"Dense": {"units": 3, "name": "x"}}), ["Dense 'x' (layer 2): layer name 'x' is already used by layer 1"]),
    "merge arity": (graph({"Subtract": {"inputs": ["a"]}}), ["Subtract 'subtract' (layer 1) takes 2 inputs, got 1"]),
    "top key": ({"input": [3], "layer": ["Flatten"]}, ["unknown key 'layer'", "did you mean 'layers'"]),
    "no layers": ({"input": [3]}, ["'layers:' must be a non-empty list"]),
    "several keys": ({"input": [3], "layers": [{"Dense": 3, "name": "d"}]}, ["layer 1 has several keys (Dense, name)"]),
    "bad item": ({"input": [3], "layers": [42]}, ["layer 1 must be a type name"]),
    "bad shape": ({"input": [3, -1], "layers": ["Flatten"]}, ["argument 'shape' must be a positive integer, got -1"]),
    "both inputs": ({"input": [3], "inputs": {"a": [3]}, "layers": ["Flatten"]}, ["either 'input:'"]),
    "data format": ({"input": [3], "data_format": "nchw", "layers": ["Flatten"]}, ["must be channels_last or channels_first"]),
}


@pytest.mark.parametrize("case", SPEC_CASES, ids=list(SPEC_CASES))
def test_spec_error_messages(case):
    assert_error(*SPEC_CASES[case])


FILE_CASES = {
    "yaml syntax": ("bad.yaml", "input: [3]\nlayers:\n  - Dense: {units: 3\n  - Flatten\n",
                    ["bad.yaml:5", "YAML syntax error", "flow mapping at line 3, column 12"]),
    "yaml list": ("list.yaml", "- Dense: 3\n- Flatten\n", ["list.yaml: a spec must be a mapping with a 'layers:' list, got a list"]),
    "layer line": ("line.yaml", "input: [4, 4, 1]\nlayers:\n  - Flatten\n  - Conv2D: {filters: 2, kernel_size: 3}\n",
                   ["Conv2D 'conv2d' (layer 2, ", "line.yaml:4)", "expects a 3-D input"]),
    "duplicate key": ("dup.yaml", "input: [3]\nlayers:\n  - Dense: {units: 3, units: 4}\n", ["dup.yaml:3", "duplicate key 'units'"]),
    "empty": ("empty.yaml", "", ["empty.yaml", "empty"]),
    "blank compact": ("blank.txt", "  \n\n", ["blank.txt", "empty"]),
    "json syntax": ("bad.json", '{"input": [3], "layers": [}', ["bad.json:1:", "JSON syntax error"]),
    "json duplicate": ("dup.json", '{"input": [3], "input": [4], "layers": ["Flatten"]}', ["duplicate key 'input'"]),
    "compact file": ("model.txt", "Input(8)\nDense(3)\nDense(-1)\n", ["Dense 'dense_1' (layer 3, ", "model.txt:3:1)", "positive integer"]),
}


@pytest.mark.parametrize("case", FILE_CASES, ids=list(FILE_CASES))
def test_file_errors_name_file_and_line(case, tmp_path):
    name, text, fragments = FILE_CASES[case]
    (tmp_path / name).write_text(text)
    result = run_cli("count", name, cwd=tmp_path)
    assert result.returncode == 2, result.stdout
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in result.stderr, f"{fragment!r} not in {result.stderr!r}"


def test_missing_file(tmp_path):
    result = run_cli("count", "nowhere.yaml", cwd=tmp_path)
    assert result.returncode == 2
    assert "nowhere.yaml: no such file" in result.stderr


def test_binary_file(tmp_path):
    (tmp_path / "weights.yaml").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00")
    result = run_cli("count", "weights.yaml", cwd=tmp_path)
    assert result.returncode == 2
    assert "binary file" in result.stderr


def test_directory(tmp_path):
    (tmp_path / "d.yaml").mkdir()
    result = run_cli("count", "d.yaml", cwd=tmp_path)
    assert result.returncode == 2 and "is a directory" in result.stderr


def test_yaml_tags_never_construct_objects(tmp_path):
    marker = tmp_path / "pwned"
    spec = f"input: [3]\nlayers:\n  - !!python/object/apply:os.system ['touch {marker}']\n"
    (tmp_path / "evil.yaml").write_text(spec)
    result = run_cli("count", "evil.yaml", cwd=tmp_path)
    assert result.returncode == 2
    assert "YAML tag not allowed" in result.stderr and "evil.yaml:3" in result.stderr
    assert not marker.exists()


@pytest.mark.parametrize("code", [
    "__import__('os').system('touch {m}')",
    "import os\nos.system('touch {m}')",
    "Input(3) | Dense(open('{m}', 'w'))",
    "exec('open(\"{m}\", \"w\")')",
])
def test_compact_form_is_never_executed(code, tmp_path):
    marker = tmp_path / "pwned"
    result = run_cli("count", code.format(m=marker), cwd=tmp_path)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert not marker.exists()


def test_api_rejects_objects_it_cannot_count():
    with pytest.raises(learnable.LearnableError, match="cannot count list"):
        learnable.count([1, 2])


def test_python_syntax_warnings_do_not_reach_stderr():
    # "1if" is an "invalid decimal literal" SyntaxWarning to Python's parser, printed apart
    # from learnable's own one-line message.
    result = run_cli("count", "Input(4) | Dense(1if 1 else 2)")
    assert result.returncode == 2 and "SyntaxWarning" not in result.stderr
    assert result.stderr.count("\n") == 1


def test_a_dict_may_hold_any_int_and_numpy_integers():
    """A spec dict from Python: an int too long to print is refused with a message, not
    Python's ValueError; NumPy's integers count as the ints they are, its bool does not."""
    with pytest.raises(learnable.LearnableError, match="got a number of over 4,9[0-9]{2} digits"):
        learnable.count({"input": [4], "layers": [{"Dense": 10**5000}]})
    np = pytest.importorskip("numpy")
    assert learnable.count({"input": [np.int64(4)], "layers": [{"Dense": np.int32(3)}]}).total_params == (4 + 1) * 3
    with pytest.raises(learnable.LearnableError, match="must be an integer, got True"):
        learnable.count({"input": [4], "layers": [{"Dense": np.True_}]})
