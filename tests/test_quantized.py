"""Quantized checkpoints: a layer's parameters are the model's (out × in + bias), not its packed storage.

The tensors are laid out the way each library serializes them (layouts cited beside each
builder); the oracles are the unquantized layer's shape (out × in, by hand), byte sizes by
hand arithmetic, and for whole models PyTorch's own parameters() of the model built by
transformers on the meta device.
"""

from __future__ import annotations

import json
from math import ceil

import pytest
from conftest import evaluate_formula, run_cli

import learnable

np = pytest.importorskip("numpy")
safetensors_numpy = pytest.importorskip("safetensors.numpy")


def gptq(prefix: str, inputs: int, outputs: int, bits: int = 4, group: int = 64, bias: bool = False) -> dict:
    """AutoGPTQ QuantLinear's buffers: qweight int32 (in×bits/32, out), qzeros int32
    (⌈in/group⌉, out×bits/32), scales fp16 (⌈in/group⌉, out), g_idx int32 (in,)."""
    groups = ceil(inputs / group)
    tensors = {f"{prefix}.qweight": np.zeros((inputs * bits // 32, outputs), np.int32),
               f"{prefix}.qzeros": np.zeros((groups, outputs * bits // 32), np.int32),
               f"{prefix}.scales": np.zeros((groups, outputs), np.float16),
               f"{prefix}.g_idx": np.arange(inputs, dtype=np.int32) // group}
    return tensors | ({f"{prefix}.bias": np.zeros(outputs, np.float16)} if bias else {})


def awq(prefix: str, inputs: int, outputs: int, bits: int = 4, group: int = 64) -> dict:
    """AutoAWQ WQLinear_GEMM: qweight int32 (in, out×bits/32), qzeros int32 (in/group,
    out×bits/32), scales fp16 (in/group, out); no g_idx saved."""
    return {f"{prefix}.qweight": np.zeros((inputs, outputs * bits // 32), np.int32),
            f"{prefix}.qzeros": np.zeros((inputs // group, outputs * bits // 32), np.int32),
            f"{prefix}.scales": np.zeros((inputs // group, outputs), np.float16)}


def bnb8(prefix: str, inputs: int, outputs: int) -> dict:
    """bitsandbytes Linear8bitLt._save_to_state_dict: int8 weight (out, in), SCB float32
    (out,), weight_format uint8 scalar (0: row-major)."""
    return {f"{prefix}.weight": np.zeros((outputs, inputs), np.int8), f"{prefix}.SCB": np.zeros(outputs, np.float32),
            f"{prefix}.weight_format": np.zeros((), np.uint8)}


def bnb4(prefix: str, inputs: int, outputs: int, kind: str = "nf4", blocksize: int = 64, nested: bool = True,
         bias: bool = False) -> dict:
    """bitsandbytes Linear4bit: weight packed two per byte, ((n + 1) // 2, 1) uint8
    (functional.quantize_4bit), and QuantState.as_dict(packed=True) under ``weight.``:
    absmax (one per block; uint8 when double-quantized, with nested_absmax float32 per 256
    blocks and nested_quant_map float32 (256,)), quant_map float32 (16,), and the other
    fields as JSON bytes in quant_state.bitsandbytes__<type> (utils.pack_dict_to_tensor)."""
    n = outputs * inputs
    blocks = ceil(n / blocksize)
    state = {"quant_type": kind, "blocksize": blocksize, "dtype": "bfloat16", "shape": [outputs, inputs]}
    w = f"{prefix}.weight"
    tensors = {w: np.zeros(((n + 1) // 2, 1), np.uint8), f"{w}.quant_map": np.zeros(16, np.float32)}
    if nested:
        state |= {"nested_blocksize": 256, "nested_dtype": "float32", "nested_offset": 0.0}
        tensors |= {f"{w}.absmax": np.zeros(blocks, np.uint8),
                    f"{w}.nested_absmax": np.zeros(ceil(blocks / 256), np.float32),
                    f"{w}.nested_quant_map": np.zeros(256, np.float32)}
    else:
        tensors[f"{w}.absmax"] = np.zeros(blocks, np.float32)
    tensors[f"{w}.quant_state.bitsandbytes__{kind}"] = np.frombuffer(json.dumps(state).encode(), np.uint8).copy()
    return tensors | ({f"{prefix}.bias": np.zeros(outputs, np.float16)} if bias else {})


def save(path, tensors: dict) -> str:
    safetensors_numpy.save_file(tensors, str(path))
    return str(path)


def stored_elements(tensors: dict) -> int:
    """What a counter of stored tensors reports: the bug."""
    return sum(int(np.prod(t.shape)) for t in tensors.values())


@pytest.mark.parametrize("bits", [2, 3, 4, 8])
def test_gptq_layer_is_out_times_in_plus_bias(tmp_path, bits):
    tensors = gptq("proj", 256, 128, bits=bits, group=64, bias=True)
    report = learnable.count(save(tmp_path / "gptq.safetensors", tensors))
    row = report.layer("proj")
    assert (row.type, row.params, row.macs) == ("Linear (GPTQ)", 128 * 256 + 128, 128 * 256)
    assert evaluate_formula(row.formula) == row.params
    assert report.total_params == 128 * 256 + 128 != stored_elements(tensors)  # packed: not the model's count
    qweight = 256 * bits // 32 * 128 * 4  # int32: 4 bytes per 32/bits values
    assert f"GPTQ {bits}-bit, group 64: 128×256 = 32,768 params" in row.note
    assert f"qweight {256 * bits // 32}×128 I32 = {qweight:,} bytes ({bits} bits/weight)" in row.note
    assert f"bias 128 F16 = {128 * 2} bytes" in row.note
    overhead = 4 * 128 * 2 + 4 * (128 * bits // 32) * 4 + 256 * 4  # scales fp16 + qzeros int32 + g_idx int32
    assert "quantization metadata, not parameters: " in row.note and f"= {overhead:,} bytes" in row.note


def test_awq_layer_packs_along_the_outputs(tmp_path):
    report = learnable.count(save(tmp_path / "awq.safetensors", awq("mlp.up_proj", 256, 512)))
    row = report.layer("mlp.up_proj")
    assert (row.type, row.params, row.formula) == ("Linear (AWQ)", 512 * 256, "512×256 = 131,072")
    assert f"AWQ 4-bit, group 64: 512×256 = {512 * 256:,} params" in row.note
    assert f"qweight 256×64 I32 = {256 * 64 * 4:,} bytes (4 bits/weight)" in row.note
    assert f"scales 4×512 F16 = {4 * 512 * 2:,} bytes" in row.note


def test_bitsandbytes_8bit(tmp_path):
    report = learnable.count(save(tmp_path / "int8.safetensors", bnb8("fc", 300, 200)))
    row = report.layer("fc")
    assert (row.type, row.params) == ("Linear (bitsandbytes)", 200 * 300)
    assert f"weight 200×300 I8 = {200 * 300:,} bytes (8 bits/weight)" in row.note
    assert f"SCB 200 F32 = {200 * 4:,} bytes" in row.note and "weight_format scalar U8 = 1 bytes" in row.note


@pytest.mark.parametrize("nested", [True, False])
def test_bitsandbytes_4bit_with_a_bias_knows_its_shape(tmp_path, nested):
    tensors = bnb4("q_proj", 256, 128, nested=nested, bias=True)
    report = learnable.count(save(tmp_path / "nf4.safetensors", tensors))
    row = report.layer("q_proj")
    assert (row.type, row.params) == ("Linear (bitsandbytes)", 128 * 256 + 128)
    assert stored_elements(tensors) < row.params  # packed: what other tools report
    assert f"bitsandbytes 4-bit nf4, blocks of 64{', double-quantized absmax' if nested else ''}" in row.note
    assert f"weight {128 * 256 // 2:,}×1 U8 = {128 * 256 // 2:,} bytes (4 bits/weight)" in row.note
    assert "absmax" in row.note and "quant_state.bitsandbytes__nf4" in row.note


def test_bitsandbytes_4bit_without_a_bias_counts_its_elements(tmp_path):
    report = learnable.count(save(tmp_path / "fp4.safetensors", bnb4("o_proj", 96, 64, kind="fp4")))
    row = report.layer("o_proj")
    assert row.params == 64 * 96
    assert f"2×{64 * 96 // 2:,} = {64 * 96:,} params (two per byte" in row.note


@pytest.mark.parametrize("block", [True, False])
def test_fp8_weights_and_their_scales(tmp_path, block):
    torch = pytest.importorskip("torch")
    safetensors_torch = pytest.importorskip("safetensors.torch")
    out, inp = 300, 256
    tensors = {"down.weight": torch.zeros(out, inp, dtype=torch.float8_e4m3fn)}
    if block:  # transformers FP8Linear: weight_scale_inv (⌈out/128⌉, ⌈in/128⌉) float32
        tensors["down.weight_scale_inv"] = torch.zeros(ceil(out / 128), ceil(inp / 128))
    else:  # compressed-tensors: one scale per tensor, and a static input scale
        tensors |= {"down.weight_scale": torch.zeros(1), "down.input_scale": torch.zeros(1)}
    safetensors_torch.save_file(tensors, tmp_path / "fp8.safetensors")
    row = learnable.count(str(tmp_path / "fp8.safetensors")).layer("down")
    assert (row.type, row.params) == ("Linear (fp8)", out * inp)
    assert f"weight 300×256 F8_E4M3 = {out * inp:,} bytes (8 bits/weight)" in row.note
    if block:  # ⌈300/b⌉ = 3 for b from 100 to 149: only the config says 128
        assert "a 3×2 grid (weight_block_size not given)" in row.note
        assert f"weight_scale_inv 3×2 F32 = {3 * 2 * 4} bytes" in row.note
        from learnable import engine
        from learnable.importers import checkpoint

        tensors = checkpoint.safetensors_tensors(tmp_path / "fp8.safetensors")
        config = {"quant_method": "fp8", "weight_block_size": [128, 128]}
        row = engine.run(checkpoint.tensor_graph(tensors, quantization=config)).layer("down")
        assert "fp8 F8_E4M3, blocks of 128×128: 300×256" in row.note
        config["weight_block_size"] = [64, 128]  # ⌈300/64⌉ = 5 rows of scales, not 3
        row = engine.run(checkpoint.tensor_graph(tensors, quantization=config)).layer("down")
        assert row.params == out * inp + 3 * 2 and "not (⌈300/64⌉, ⌈256/128⌉)" in row.note
    else:
        assert "one scale per tensor" in row.note and "input_scale 1 F32 = 4 bytes" in row.note


def test_a_pytorch_state_dict_reads_alike(tmp_path):
    torch = pytest.importorskip("torch")
    tensors = {name: torch.from_numpy(array) for name, array in gptq("proj", 256, 128).items()}
    torch.save(tensors, tmp_path / "gptq.pt")
    row = learnable.count(str(tmp_path / "gptq.pt")).layer("proj")
    assert (row.type, row.params) == ("Linear (GPTQ)", 128 * 256)
    assert "qweight 32×128 int32" in row.note


# Hostile: shapes that look quantized but do not fit the layout are counted as stored, with a note.
HOSTILE = {
    "qweight rows not a whole number of inputs for the config's bits":
        ({"l.qweight": ((7, 64), np.int32), "l.scales": ((1, 64), np.float16)}, "in = 7×32/3 is not whole"),
    "qzeros packed for other bits": (
        {"l.qweight": ((24, 64), np.int32), "l.qzeros": ((8, 4), np.int32), "l.scales": ((8, 64), np.float16)},
        "qzeros is 8×4, not (8, 64×3/32)"),
    "qweight not int32": ({"l.qweight": ((32, 64), np.float16), "l.scales": ((2, 64), np.float16)}, "not int32"),
    "qweight of one axis": ({"l.qweight": ((32,), np.int32), "l.scales": ((2, 64), np.float16)}, "not a 2-D"),
    "no scales": ({"l.qweight": ((32, 64), np.int32)}, "has no scales"),
    "int8 weight with a SCB of the wrong length":
        ({"l.weight": ((8, 16), np.int8), "l.SCB": ((9,), np.float32)}, "SCB is 9, not (8,)"),
    "4-bit state without its weight": ({"l.weight.absmax": ((4,), np.float32)}, "has no weight"),
    "4-bit weight and a bias that does not divide it": (
        {"l.weight": ((50, 1), np.uint8), "l.weight.absmax": ((2,), np.float32),
         "l.weight.quant_map": ((16,), np.float32), "l.bias": ((7,), np.float16)}, "in = 100/7 is not whole"),
}


@pytest.mark.parametrize("case", HOSTILE)
def test_inconsistent_shapes_are_counted_as_stored_with_a_note(tmp_path, case):
    layout, problem = HOSTILE[case]
    tensors = {name: np.zeros(shape, dtype) for name, (shape, dtype) in layout.items()}
    config = {"quant_method": "gptq", "bits": 3, "group_size": 32}
    path = save(tmp_path / "bad.safetensors", tensors)
    from learnable import engine
    from learnable.importers import checkpoint, quantized

    graph = checkpoint.tensor_graph(checkpoint.safetensors_tensors(tmp_path / "bad.safetensors"), quantization=config)
    report = engine.run(graph)
    assert report.total_params == stored_elements(tensors)
    notes = " ".join(row.note for row in report.layers)
    assert "looks quantized" in notes and problem in notes and "counted as stored" in notes
    assert not any(isinstance(quantized.recognise(m, config), quantized.QuantizedLinear)
                   for m in quantized.group(checkpoint.safetensors_tensors(tmp_path / "bad.safetensors")).values())
    result = run_cli("count", path)
    assert result.returncode == 0 and "Traceback" not in result.stderr


# A tiny Llama, its linears GPTQ- or bitsandbytes-quantized, in a folder with its config.
torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")


def tiny_llama_config(**fields):
    return transformers.LlamaConfig(vocab_size=300, hidden_size=64, intermediate_size=96, num_hidden_layers=2,
                                    num_attention_heads=4, num_key_value_heads=2, head_dim=16, pad_token_id=0,
                                    bos_token_id=0, eos_token_id=0, **fields)


def quantized_folder(folder, quantize, quantization_config: dict | None, **fields) -> int:
    """The model's tensors as a quantizer writes them: every linear in the decoder layers
    quantized, the embeddings, norms and head kept in fp16 (as GPTQ and bitsandbytes keep
    lm_head). Returns the oracle: parameters() of the model built on the meta device."""
    config = tiny_llama_config(**fields)
    with torch.device("meta"):
        model = transformers.LlamaForCausalLM(config)
    tensors, quantized_names = {}, set()
    for name, module in model.named_modules():
        if isinstance(module, torch.nn.Linear) and name.startswith("model.layers."):
            tensors |= quantize(name, module.in_features, module.out_features)
            quantized_names |= {f"{name}.weight", f"{name}.bias"}
    for name, param in model.named_parameters():
        if name not in quantized_names:
            tensors[name] = np.zeros(tuple(param.shape), np.float16)
    safetensors_numpy.save_file(tensors, str(folder / "model.safetensors"))
    data = config.to_dict() | ({"quantization_config": quantization_config} if quantization_config else {})
    (folder / "config.json").write_text(json.dumps(data))
    oracle = sum(p.numel() for p in model.parameters())
    assert stored_elements(tensors) != oracle  # the packed count is the bug this guards against
    return oracle


GPTQ_CONFIG = {"quant_method": "gptq", "bits": 4, "group_size": 32, "desc_act": False, "sym": True}


@pytest.mark.parametrize("config", [GPTQ_CONFIG, None], ids=["with-quantization-config", "from-the-tensors"])
def test_gptq_llama_folder_reconciles_with_the_config(tmp_path, config):
    oracle = quantized_folder(tmp_path, lambda name, i, o: gptq(name, i, o, group=32), config)
    report = learnable.count(str(tmp_path))
    assert report.total_params == oracle
    notes = " ".join(report.notes)
    assert f"they hold the config's {oracle:,} parameters exactly" in notes
    linears = 2 * 7  # q, k, v, o, gate, up, down in each of 2 layers
    assert f"quantized (GPTQ 4-bit, group 32): {linears} linear layers hold" in notes
    rows = [row for row in report.layers if "GPTQ 4-bit" in row.note]  # the config's rows, with their storage
    assert len(rows) == linears and all(row.type == "Linear" for row in rows)
    down = report.layer("layers/layer_2/mlp/down_proj")
    assert (down.params, down.formula) == (64 * 96, "64×96 = 6,144")  # out × in
    assert f"GPTQ 4-bit, group 32: 64×96 = 6,144 params; stored qweight 12×64 I32 = {12 * 64 * 4:,} bytes" in down.note


def test_gptq_llama_file_alone_counts_the_same(tmp_path):
    oracle = quantized_folder(tmp_path, lambda name, i, o: gptq(name, i, o, group=32), None)
    report = learnable.count(str(tmp_path / "model.safetensors"))  # the shard names the folder
    assert report.total_params == oracle
    (tmp_path / "config.json").unlink()
    report = learnable.count(str(tmp_path))  # no config: the tensors alone
    assert report.total_params == oracle
    q = report.layer("model.layers.0.self_attn.q_proj")
    assert (q.type, q.params, q.formula) == ("Linear (GPTQ)", 64 * 64, "64×64 = 4,096")
    k = report.layer("model.layers.1.self_attn.k_proj")
    assert k.params == 32 * 64 and f"qweight 8×32 I32 = {8 * 32 * 4:,} bytes" in k.note


def test_bitsandbytes_4bit_llama_folder_reconciles_with_the_config(tmp_path):
    config = {"quant_method": "bitsandbytes", "load_in_4bit": True, "bnb_4bit_quant_type": "nf4",
              "bnb_4bit_use_double_quant": True}
    oracle = quantized_folder(tmp_path, lambda name, i, o: bnb4(name, i, o), config)
    report = learnable.count(str(tmp_path))
    assert report.total_params == oracle
    assert "bitsandbytes 4-bit nf4, blocks of 64, double-quantized absmax" in " ".join(report.notes)


def test_a_folder_with_a_damaged_layer_is_counted_as_stored(tmp_path):
    def quantize(name, i, o):
        tensors = gptq(name, i, o, group=32)
        if name == "model.layers.1.mlp.down_proj":
            tensors[f"{name}.qzeros"] = np.zeros((3, 5), np.int32)  # 5 ≠ 64×4/32
        return tensors

    oracle = quantized_folder(tmp_path, quantize, GPTQ_CONFIG)
    report = learnable.count(str(tmp_path))
    down = 96 // 8 * 64 + 3 * 5 + 3 * 64 + 96  # qweight + qzeros + scales + g_idx, as stored
    assert report.total_params == oracle - 64 * 96 + down
    assert "counted from the stored tensors, not the config" in " ".join(report.notes)
    row = report.layer("model.layers.1.mlp.down_proj")
    assert "looks quantized" in row.note and "qzeros is 3×5, not (3, 64×4/32)" in row.note
