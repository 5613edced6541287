"""The calculator's sizing fields (POST /api/count): a pasted config.json, memory's context,
dtype and KV dtype, LoRA, a GPU or a memory size, training tokens and MFU.

The server must answer what the library answers for the same inputs: the oracle for each
field is the Python API on the same config.json written to a file (learnable.count,
memory.estimate, fit.fit, compute.compute), and hand arithmetic where a figure is short
enough to write (the KV cache per token, LoRA's adapters as PEFT counts them). Bad values
are a 400 that names the field.
"""

from __future__ import annotations

import json
from fractions import Fraction

import pytest
from test_serve_api import count, running_server

import learnable
from learnable.accelerators import accelerator
from learnable.compute import Throughput, compute
from learnable.fit import fit
from learnable.memory import estimate

# A small Llama: 2 layers, width 256, 8 query heads of 32, 2 key/value heads (GQA).
LLAMA = {"model_type": "llama", "architectures": ["LlamaForCausalLM"], "hidden_size": 256,
         "intermediate_size": 688, "num_hidden_layers": 2, "num_attention_heads": 8, "num_key_value_heads": 2,
         "vocab_size": 1000, "max_position_embeddings": 4096}
LAYERS, KV_HEADS, HEAD_DIM, WIDTH = 2, 2, 256 // 8, 256
LORA = {"r": 8, "targets": "q_proj,v_proj"}
PEFT_LORA = {"r": 8, "target_modules": ["q_proj", "v_proj"]}


@pytest.fixture(scope="module")
def base():
    with running_server() as address:
        yield address


@pytest.fixture(scope="module")
def config_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("llama") / "config.json"
    path.write_text(json.dumps(LLAMA), encoding="utf-8")
    return path


def sized(base, **fields) -> dict:
    status, payload = count(base, json.dumps(LLAMA, indent=2), **fields)
    assert status == 200, payload
    return payload


def test_a_pasted_config_counts_as_the_file_does(base, config_file):
    payload = sized(base)
    report = learnable.count(config_file)
    assert payload["source"] == "config"
    assert payload["report"]["total_params"] == report.total_params
    assert [row["params"] for row in payload["report"]["layers"]] == [row.params for row in report.layers]


def test_memory_context_dtype_and_kv_dtype_are_the_librarys(base, config_file):
    options = {"batch": 3, "context": 8192, "dtype": "bf16", "kv_dtype": "fp8", "optimizer": "adamw"}
    payload = sized(base, memory=options)
    assert payload["memory"] == json.loads(json.dumps(estimate(learnable.count(config_file), **options).to_dict()))
    # by hand: keys and values × layers × kv heads × head size × 1 byte (fp8)
    per_token = 2 * LAYERS * KV_HEADS * HEAD_DIM * 1
    assert payload["memory"]["kv_cache_per_token"]["bytes"] == per_token
    kv = next(t for t in payload["memory"]["inference"] if t["key"] == "kv_cache")
    assert kv["bytes"] == per_token * 8192 * 3


@pytest.mark.parametrize("dtype", ["fp8", "int4"])
def test_quantized_weights_are_the_librarys(base, config_file, dtype):
    payload = sized(base, memory={"dtype": dtype, "context": 4096})
    expected = estimate(learnable.count(config_file), dtype=dtype, context=4096).to_dict()
    assert payload["memory"]["inference"] == expected["inference"]
    weights = payload["memory"]["inference"][0]
    params = payload["report"]["total_params"]
    assert weights["bytes"] == (params if dtype == "fp8" else (params + 1) // 2)  # 8 bits, or two a byte


@pytest.mark.parametrize("targets", ["q_proj,v_proj", ["q_proj", "v_proj"]])
def test_lora_is_peft_arithmetic_and_the_librarys(base, config_file, targets):
    payload = sized(base, lora={"r": 8, "targets": targets}, memory={"optimizer": "adamw", "dtype": "bf16"})
    # PEFT: A (r × in) and B (out × r) per adapted Linear: q 256→256, v 256→64
    adapters = LAYERS * (8 * (WIDTH + WIDTH) + 8 * (WIDTH + KV_HEADS * HEAD_DIM))
    assert payload["report"]["trainable_params"] == adapters == 13_312
    report = learnable.count(config_file, lora=PEFT_LORA)
    assert payload["report"]["total_params"] == report.total_params
    assert payload["memory"]["training"] == estimate(report, optimizer="adamw", dtype="bf16").to_dict()["training"]


def test_all_linear_lora_with_int4_is_qlora(base, config_file):
    payload = sized(base, lora={"r": 16, "targets": "all-linear", "alpha": 32}, memory={"dtype": "int4",
                                                                                       "optimizer": "adamw"})
    report = learnable.count(config_file, lora={"r": 16, "target_modules": "all-linear", "lora_alpha": 32})
    assert payload["report"]["trainable_params"] == report.trainable_params
    assert payload["memory"]["training"] == estimate(report, dtype="int4", optimizer="adamw").to_dict()["training"]


def test_a_gpu_from_the_table_gives_what_fits(base, config_file):
    options = {"batch": 2, "context": 32_768, "dtype": "bf16", "optimizer": "adamw"}
    payload = sized(base, memory=options, gpu="h100", lora=LORA)
    gpu = accelerator("h100")
    expected = fit(learnable.count(config_file, lora=PEFT_LORA), gpu.memory, gpu=gpu.name, **options)
    assert payload["fit"] == json.loads(json.dumps(expected.to_dict()))
    assert payload["fit"]["memory_bytes"] == 80 * 2**30 and payload["fit"]["gpu"] == "H100 SXM"
    assert payload["fit"]["inference"]["max_context"] is not None


def test_a_memory_size_of_ones_own(base, config_file):
    payload = sized(base, memory={"context": 4096}, gpu_memory="24GiB")
    expected = fit(learnable.count(config_file), 24 * 2**30, context=4096)
    assert payload["fit"] == json.loads(json.dumps(expected.to_dict()))
    assert payload["fit"]["gpu"] is None


def test_tokens_and_mfu_give_the_librarys_compute(base, config_file):
    payload = sized(base, memory={"context": 4096, "dtype": "bf16"}, gpu="a100-80gb", tokens=1.5e12, mfu=0.5)
    gpu = accelerator("a100-80gb")
    throughput = Throughput(gpu.peak("bf16"), Fraction(1, 2), 1, gpu.name, gpu.source)
    expected = compute(learnable.count(config_file), context=4096, tokens=1_500_000_000_000, throughput=throughput)
    assert payload["compute"] == json.loads(json.dumps(expected.to_dict()))
    n = payload["report"]["total_params"]
    assert payload["compute"]["training"]["six_nd"]["flops"] == 6 * n * 1_500_000_000_000  # 6·N·D by hand


def test_tokens_alone_give_the_flops_without_a_time(base):
    payload = sized(base, tokens=10**9)
    assert payload["compute"]["training"]["throughput"] is None
    assert payload["compute"]["training"]["six_nd"]["flops"] == 6 * payload["report"]["total_params"] * 10**9


def test_info_lists_the_accelerators_and_dtypes(base):
    from test_serve_api import request

    _, info, _ = request(base, "/api/info")
    h100 = next(a for a in info["accelerators"] if a["key"] == "h100-sxm")
    assert h100["memory_bytes"] == 80 * 2**30 and h100["name"] == "H100 SXM"
    assert {"fp8", "int4"} <= set(info["dtypes"]) and "fp8" in info["kv_dtypes"]


@pytest.mark.parametrize(("fields", "words"), [
    ({"memory": {"context": 0}}, "'memory.context' must be a whole number from 1 to 1,000,000,000, got 0"),
    ({"memory": {"context": 10**10}}, "'memory.context' must be a whole number"),
    ({"memory": {"context": "8k"}}, "'memory.context' must be a whole number"),
    ({"memory": {"batch": 2.5}}, "'memory.batch' must be a whole number"),
    ({"memory": {"batch": True}}, "'memory.batch' must be a whole number"),
    ({"memory": {"dtype": "fp64"}}, "'memory.dtype' must be one of fp32, fp16, bf16, fp8, int8, int4"),
    ({"memory": {"kv_dtype": "int4"}}, "'memory.kv_dtype' must be one of fp32, fp16, bf16, fp8, int8"),
    ({"memory": {"optimizer": "lion"}}, "'memory.optimizer' must be one of sgd"),
    ({"memory": {"seq": 5}}, "'memory' must be true or an object with batch"),
    ({"memory": {"parallel": 8}}, "'memory.parallel' must be an object"),
    ({"lora": {"r": 0, "targets": "q_proj"}}, "'lora.r' must be a whole number from 1 to 65,536"),
    ({"lora": {"r": 8}}, "'lora' must be an object with r and targets"),
    ({"lora": {"r": 8, "targets": ""}}, "'lora.targets' must be a non-empty string"),
    ({"lora": {"r": 8, "targets": ","}}, "'lora.targets' must name the layers to adapt"),
    ({"lora": {"r": 8, "targets": "q" * 201}}, "at most 200 characters"),
    ({"lora": {"r": 8, "targets": "q_proj", "bias": "some"}}, "'lora.bias' must be one of none, all, lora_only"),
    ({"lora": {"r": 8, "targets": "q_proj", "alpha": -1}}, "'lora.alpha' must be a number"),
    ({"gpu": "h1000"}, "'gpu' must be one of a100-40gb"),
    ({"gpu": 80}, "'gpu' must be a non-empty string"),
    ({"gpu_memory": "lots"}, "'gpu_memory' must be a size such as \"24GiB\""),
    ({"gpu_memory": "9" * 40}, "'gpu_memory' must be a size"),
    ({"gpu_memory": "2PiB"}, "'gpu_memory' must be a size"),
    ({"tokens": 0}, "'tokens' must be a whole number from 1 to 10,000,000,000,000,000"),
    ({"tokens": 1e17}, "'tokens' must be a whole number"),
    ({"mfu": 1.5, "gpu": "h100"}, "'mfu' must be a fraction in (0, 1]"),
    ({"mfu": 0.4}, "'mfu' is the fraction of a GPU's peak: it needs 'gpu'"),
])
def test_each_bad_field_is_one_400_naming_it(base, fields, words):
    status, payload = count(base, json.dumps(LLAMA), **fields)
    assert status == 400, payload
    assert words in payload["error"]["message"]


@pytest.mark.parametrize(("fields", "words"), [
    ({"lora": {"r": 8, "targets": "nothing_here"}}, "match no layer"),
    ({"memory": {"dtype": "fp8", "optimizer": "adam"}}, "training in fp8 is not estimated"),
    ({"memory": {"dtype": "fp8"}, "gpu": "a100"}, "has no fp8 tensor cores"),
    ({"memory": {"parallel": {"gpus": 3, "tp": 2}, "optimizer": "adam"}}, "must be a multiple of tp"),
])
def test_combinations_the_library_refuses_are_422_with_its_words(base, fields, words):
    status, payload = count(base, json.dumps(LLAMA), **fields)
    assert status == 422 and words in payload["error"]["message"]


def test_a_config_of_a_family_without_a_spec_is_refused_not_built(base):
    status, payload = count(base, json.dumps({"model_type": "opt", "hidden_size": 512}))
    assert status == 422
    assert "model_type 'opt' has no spec in learnable" in payload["error"]["message"]
    assert "learnable count config.json" in payload["error"]["message"]

