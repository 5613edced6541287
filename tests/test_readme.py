"""README.md, true: every `$ learnable ...` command in a ```console block is run and its
output compared with what the README prints (only whitespace at line ends normalised), the
way tests/test_golden.py compares rendered output; every `learnable ...` line of a ```sh
block is run and must succeed. The files a README example only names (model.yaml,
model.safetensors, model.onnx, ...) are made here, small."""

from __future__ import annotations

import re
import shlex
import textwrap
from pathlib import Path

import pytest

from conftest import EXAMPLES, ROOT, run_cli

README = (ROOT / "README.md").read_text(encoding="utf-8")
FENCE = re.compile(r"^( *)```(\w*)\n(.*?)^\1```", re.M | re.S)

# The files the README's sh examples only name, made here small, each with the package that
# writes it (the test of a command skips where that package is missing).
MADE_WITH = {"model.onnx": "onnx", "model.Q4_K_M.gguf": "gguf", "model.keras": "keras", "models.py:Net": "torch",
             "models.py:whisper": "transformers"}


def _blocks(lang: str) -> list[str]:
    return [textwrap.dedent(body) for _, kind, body in FENCE.findall(README) if kind == lang]


def console_examples() -> list[tuple[str, str]]:
    """(command, the output printed under it) for every `$ ` line of a console block."""
    examples = []
    for body in _blocks("console"):
        for chunk in re.split(r"^\$ ", body, flags=re.M)[1:]:
            command, _, output = chunk.partition("\n")
            examples.append((command, output))
    return examples


def sh_commands() -> list[str]:
    commands = []
    for body in _blocks("sh"):
        for line in body.splitlines():
            command = line.split(" && ")[-1].split("  #")[0].strip()  # (after `pip install . &&`)
            if command.startswith("learnable "):
                commands.append(command)
    return commands


def _normal(text: str) -> list[str]:
    return [line.rstrip() for line in text.rstrip("\n").splitlines()]


def _args(command: str) -> list[str]:
    args = shlex.split(command, comments=True)
    assert args[0] == "learnable", command
    return args[1:]


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    """A folder with the files the README's commands name: its examples, cifar_net.py as
    the README prints it, a model.yaml, a model.safetensors and a Llama-3.1-8B config."""
    import json

    here = tmp_path_factory.mktemp("readme")
    (here / "examples").symlink_to(EXAMPLES, target_is_directory=True)
    code = next(body for body in _blocks("python") if body.startswith("# cifar_net.py"))
    (here / "cifar_net.py").write_text(code, encoding="utf-8")
    (here / "model.yaml").write_text((EXAMPLES / "simple_cnn.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    (here / "Llama-3.1-8B").mkdir()
    # Meta's published config.json for Llama-3.1-8B (the fields that size it).
    (here / "Llama-3.1-8B" / "config.json").write_text(json.dumps({
        "architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 4096,
        "intermediate_size": 14336, "num_attention_heads": 32, "num_hidden_layers": 32, "num_key_value_heads": 8,
        "vocab_size": 128256, "max_position_embeddings": 131072, "rms_norm_eps": 1e-05, "hidden_act": "silu",
        "tie_word_embeddings": False, "attention_bias": False, "mlp_bias": False, "rope_theta": 500000.0,
        "torch_dtype": "bfloat16"}), encoding="utf-8")
    _safetensors(here / "model.safetensors")
    return here


def _safetensors(path: Path) -> None:
    numpy = pytest.importorskip("numpy")
    save_file = pytest.importorskip("safetensors.numpy").save_file
    save_file({"encoder.0.weight": numpy.zeros((8, 4), numpy.float32), "encoder.0.bias": numpy.zeros(8, numpy.float32),
               "head.weight": numpy.zeros((2, 8), numpy.float32)}, str(path))


def test_the_readme_shows_commands():
    assert len(console_examples()) >= 5 and len(sh_commands()) >= 10
    named = " ".join(sh_commands())
    assert all(name in named for name in MADE_WITH), "a file made here is no longer in the README: drop it"


@pytest.mark.parametrize(("command", "output"), console_examples(), ids=[c for c, _ in console_examples()])
def test_console_example_prints_what_the_readme_shows(workdir, command, output):
    result = run_cli(*_args(command), cwd=workdir)
    assert result.returncode in (0, 1, 2), result.stderr  # (audit: 1 when a claim disagrees; errors: 2)
    assert _normal(result.stdout + result.stderr) == _normal(output)


@pytest.mark.parametrize("command", sh_commands())
def test_sh_example_runs(workdir, command):
    for name, package in MADE_WITH.items():
        if name in command:
            pytest.importorskip(package)
            MAKERS[name](workdir)
    result = run_cli(*_args(command), cwd=workdir)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip()


def _onnx(here: Path) -> None:
    import numpy
    from onnx import TensorProto, helper, numpy_helper, save

    weight = numpy_helper.from_array(numpy.zeros((4, 3), numpy.float32), "W")
    bias = numpy_helper.from_array(numpy.zeros(3, numpy.float32), "B")
    graph = helper.make_graph([helper.make_node("Gemm", ["x", "W", "B"], ["y"])], "g",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3])], [weight, bias])
    save(helper.make_model(graph), str(here / "model.onnx"))


def _gguf(here: Path) -> None:
    import gguf
    import numpy

    writer = gguf.GGUFWriter(str(here / "model.Q4_K_M.gguf"), "llama")
    writer.add_block_count(1)
    writer.add_tensor("token_embd.weight", numpy.zeros((16, 8), numpy.float32))
    writer.add_tensor("blk.0.attn_q.weight", numpy.zeros((8, 8), numpy.float32))
    writer.add_tensor("output_norm.weight", numpy.zeros(8, numpy.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


def _keras(here: Path) -> None:
    import keras

    keras.Sequential([keras.Input((8,)), keras.layers.Dense(4)]).save(str(here / "model.keras"))


def _models(here: Path) -> None:
    (here / "models.py").write_text((Path(__file__).parent / "readme_models.py").read_text(encoding="utf-8"))


MAKERS = {"model.onnx": _onnx, "model.Q4_K_M.gguf": _gguf, "model.keras": _keras, "models.py:Net": _models,
          "models.py:whisper": _models}
