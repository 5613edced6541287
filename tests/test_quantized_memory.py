"""Quantized checkpoints' memory with no --dtype: the weights as the file stores them (packed,
by each format's layout) and their quantization metadata as a term of its own.

Oracles: hand arithmetic written as arithmetic, per format, from the layouts cited in
test_quantized.py's builders (reused here); and the file's own byte sizes: the nbytes of
the arrays written to the safetensors file, which the two terms must add up to.
"""

from __future__ import annotations

from math import ceil

import pytest
from conftest import evaluate_formula, run_cli
from test_quantized import GPTQ_CONFIG, awq, bnb4, bnb8, gptq, quantized_folder, save  # skips without numpy

import learnable
from learnable.memory import estimate


def _terms(path) -> dict:
    memory = estimate(learnable.count(str(path)))
    assert memory.dtype == "as stored"
    terms = {t.key: t for t in memory.inference if t.key in ("weights", "quantization_metadata")}
    for term in terms.values():  # the arithmetic shown gives the bytes
        assert evaluate_formula(f"{term.bytes} = {term.bytes.value:,}") == term.bytes.value
    return terms


def _nbytes(tensors: dict) -> int:
    return sum(array.nbytes for array in tensors.values())


def test_gptq_4bit_group_128_by_hand(tmp_path):
    tensors = gptq("proj", 4096, 4096, bits=4, group=128)
    terms = _terms(save(tmp_path / "gptq.safetensors", tensors))
    # qweight: 4,096×4,096 values, 8 to an int32; scales fp16 and qzeros int32 per group of
    # 128 inputs (32 groups); g_idx one int32 per input.
    assert terms["weights"].bytes.value == 4096 * 4096 * 4 // 8
    assert str(terms["weights"].bytes) == "(16,777,216/8)×4"
    assert terms["quantization_metadata"].bytes.value == 32 * 4096 * 2 + 32 * 512 * 4 + 4096 * 4
    assert sum(t.bytes.value for t in terms.values()) == _nbytes(tensors)
    label = terms["quantization_metadata"].label
    assert "GPTQ 4-bit, group 128: " in label and "scales F16" in label and "qzeros I32" in label
    assert f"{8 * (32 * 4096 * 2 + 32 * 512 * 4 + 4096 * 4) / 4096 ** 2:.4g} bits per quantized weight" in label


@pytest.mark.parametrize("bits", [2, 3, 4, 8])
def test_gptq_bits_with_a_bias(tmp_path, bits):
    tensors = gptq("proj", 256, 128, bits=bits, group=64, bias=True)
    terms = _terms(save(tmp_path / "gptq.safetensors", tensors))
    assert terms["weights"].bytes.value == 256 * 128 * bits // 8 + 128 * 2  # packed + fp16 bias
    assert terms["quantization_metadata"].bytes.value == 4 * 128 * 2 + 4 * (128 * bits // 32) * 4 + 256 * 4
    assert sum(t.bytes.value for t in terms.values()) == _nbytes(tensors)


def test_awq_4bit(tmp_path):
    tensors = awq("up_proj", 256, 512, group=64)
    terms = _terms(save(tmp_path / "awq.safetensors", tensors))
    assert terms["weights"].bytes.value == 256 * 512 * 4 // 8
    assert terms["quantization_metadata"].bytes.value == 4 * 512 * 2 + 4 * 64 * 4  # scales + qzeros, no g_idx
    assert sum(t.bytes.value for t in terms.values()) == _nbytes(tensors)
    assert "AWQ 4-bit, group 64 4 bits/weight" in terms["weights"].label


def test_bitsandbytes_8bit(tmp_path):
    terms = _terms(save(tmp_path / "int8.safetensors", bnb8("fc", 300, 200)))
    assert terms["weights"].bytes.value == 300 * 200
    assert terms["quantization_metadata"].bytes.value == 200 * 4 + 1  # SCB fp32 per row, weight_format


@pytest.mark.parametrize("nested", [True, False], ids=["double-quantized", "fp32-absmax"])
def test_bitsandbytes_nf4(tmp_path, nested):
    tensors = bnb4("q_proj", 256, 128, nested=nested, bias=True)
    terms = _terms(save(tmp_path / "nf4.safetensors", tensors))
    blocks = 256 * 128 // 64
    assert terms["weights"].bytes.value == 256 * 128 // 2 + 128 * 2
    state = tensors["q_proj.weight.quant_state.bitsandbytes__nf4"].size  # the JSON's bytes
    absmax = blocks * 1 + ceil(blocks / 256) * 4 + 256 * 4 if nested else blocks * 4
    assert terms["quantization_metadata"].bytes.value == absmax + 16 * 4 + state
    assert sum(t.bytes.value for t in terms.values()) == _nbytes(tensors)


@pytest.mark.parametrize("block", [True, False], ids=["blockwise", "per-tensor"])
def test_fp8(tmp_path, block):
    torch = pytest.importorskip("torch")
    safetensors_torch = pytest.importorskip("safetensors.torch")
    tensors = {"down.weight": torch.zeros(300, 256, dtype=torch.float8_e4m3fn)}
    if block:
        tensors["down.weight_scale_inv"] = torch.zeros(ceil(300 / 128), ceil(256 / 128))
    else:
        tensors |= {"down.weight_scale": torch.zeros(1), "down.input_scale": torch.zeros(1)}
    safetensors_torch.save_file(tensors, tmp_path / "fp8.safetensors")
    terms = _terms(tmp_path / "fp8.safetensors")
    assert terms["weights"].bytes.value == 300 * 256 * 1
    assert terms["quantization_metadata"].bytes.value == (3 * 2 * 4 if block else 4 + 4)
    assert sum(t.bytes.value for t in terms.values()) == sum(t.nbytes for t in tensors.values())


def _folder_nbytes(folder) -> int:
    from safetensors import safe_open

    with safe_open(str(folder / "model.safetensors"), "np") as file:
        return sum(file.get_tensor(name).nbytes for name in file.keys())  # noqa: SIM118 (safe_open is no dict)


@pytest.mark.parametrize("config", [GPTQ_CONFIG, None], ids=["config-rows", "tensor-rows"])
def test_gptq_llama_folder_is_the_files_bytes(tmp_path, config):
    quantized_folder(tmp_path, lambda name, i, o: gptq(name, i, o, group=32), config)
    if config is None:
        (tmp_path / "config.json").unlink()  # the tensors alone
    terms = _terms(tmp_path)
    linears = 2 * (64 * 64 + 2 * 32 * 64 + 64 * 64 + 3 * 64 * 96)  # q, k, v, o, gate, up, down, 2 layers
    rest = 300 * 64 + 2 * 2 * 64 + 64 + 300 * 64  # embeddings, 2 norms a layer, final norm, head: fp16
    assert terms["weights"].bytes.value == linears * 4 // 8 + rest * 2
    assert sum(t.bytes.value for t in terms.values()) == _folder_nbytes(tmp_path)


def test_awq_and_nf4_llama_folders_are_the_files_bytes(tmp_path):
    awq_dir, nf4_dir = tmp_path / "awq", tmp_path / "nf4"
    awq_dir.mkdir(), nf4_dir.mkdir()
    quantized_folder(awq_dir, lambda name, i, o: awq(name, i, o, group=32),
                     {"quant_method": "awq", "bits": 4, "group_size": 32})
    quantized_folder(nf4_dir, lambda name, i, o: bnb4(name, i, o),
                     {"quant_method": "bitsandbytes", "load_in_4bit": True, "bnb_4bit_quant_type": "nf4"})
    for folder in (awq_dir, nf4_dir):
        terms = _terms(folder)
        assert sum(t.bytes.value for t in terms.values()) == _folder_nbytes(folder)


def test_a_chosen_dtype_is_not_the_stored_bytes(tmp_path):
    path = save(tmp_path / "gptq.safetensors", gptq("proj", 256, 128))
    memory = estimate(learnable.count(path), dtype="fp16")
    assert memory.dtype == "fp16" and not any(t.key == "quantization_metadata" for t in memory.inference)
    assert next(t for t in memory.inference if t.key == "weights").bytes.value == 256 * 128 * 2


def test_cli_and_json_show_both_terms(tmp_path):
    import json

    path = save(tmp_path / "gptq.safetensors", gptq("proj", 256, 128, group=64))
    result = run_cli("count", path, "--memory")
    assert result.returncode == 0, result.stderr
    assert f"(32,768/8)×4 = {256 * 128 // 2:,} B" in result.stdout
    data = json.loads(run_cli("count", path, "--memory", "--format", "json").stdout)
    keys = [t["key"] for t in data["memory"]["inference"]]
    assert "weights" in keys and "quantization_metadata" in keys
