"""The figures of docs/sizing.md: learnable's memory estimate beside accelerate's
``estimate-memory`` and the published rules of thumb, on Llama-3-8B and Mixtral-8x7B.

    PYTHONPATH=src python benchmarks/sizing.py        # prints the page's tables

The configs are the published config.json fields the counts read (no hub access).
accelerate's side runs its own code in-process: ``gather_data`` from
accelerate/commands/estimate.py, with ``create_empty_model`` (which asks the hub for the
config) replaced by the same construction from the local config (AutoModel.from_config in
float32 under ``init_empty_weights``). tests/test_sizing_doc.py checks that the page's
learnable table is what learnable computes now.
"""

from __future__ import annotations

import json
import tempfile
from argparse import Namespace
from pathlib import Path

import learnable
from learnable.memory import estimate

# meta-llama/Meta-Llama-3-8B and mistralai/Mixtral-8x7B-v0.1, config.json (the fields that count)
CONFIGS = {
    "Llama-3-8B": {"model_type": "llama", "hidden_size": 4096, "intermediate_size": 14336,
                   "num_attention_heads": 32, "num_hidden_layers": 32, "num_key_value_heads": 8,
                   "vocab_size": 128256, "max_position_embeddings": 8192, "rope_theta": 500000.0,
                   "rms_norm_eps": 1e-05, "tie_word_embeddings": False},
    "Mixtral-8x7B": {"model_type": "mixtral", "hidden_size": 4096, "intermediate_size": 14336,
                     "num_attention_heads": 32, "num_hidden_layers": 32, "num_key_value_heads": 8,
                     "vocab_size": 32000, "max_position_embeddings": 32768, "rope_theta": 1e6,
                     "rms_norm_eps": 1e-05, "num_local_experts": 8, "num_experts_per_tok": 2,
                     "sliding_window": None, "tie_word_embeddings": False},
}
CONTEXT = 8192  # tokens of KV cache, batch 1
GIB = 2**30


def gib(value: float) -> str:
    return f"{value / GIB:.2f}"


def learnable_figures(name: str) -> dict[str, int]:
    """Bytes by what learnable's estimate holds, from the config alone (no torch)."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "config.json"
        path.write_text(json.dumps(CONFIGS[name]))
        report = learnable.count(str(path))
    infer = estimate(report, dtype="bf16", context=CONTEXT)
    fp32 = estimate(report, dtype="fp32", optimizer="adam")
    mixed = estimate(report, dtype="bf16", optimizer="adam")

    def term(memory, key: str, where: str = "inference") -> int:
        return sum(t.bytes.value for t in getattr(memory, where) if t.key == key)

    def states(memory) -> int:  # everything but the activations kept for backward
        return memory.training_bytes - term(memory, "activations", "training")

    return {"params": report.total_params, "weights_fp32": report.total_params * 4,
            "weights_bf16": term(infer, "weights"), "kv_cache": term(infer, "kv_cache"),
            "adam_fp32": states(fp32), "adam_mixed": states(mixed),
            "activations_backward": term(mixed, "activations", "training")}


LEARNABLE_ROWS = (
    ("parameters", "params", str),
    ("weights, fp32 (GiB)", "weights_fp32", gib),
    ("weights, bf16 (GiB)", "weights_bf16", gib),
    (f"KV cache, {CONTEXT:,} tokens, batch 1, bf16 (GiB)", "kv_cache", gib),
    ("Adam, fp32: weights + gradients + 2 states + step (GiB)", "adam_fp32", gib),
    ("Adam, bf16 mixed: + fp32 master copy (GiB)", "adam_mixed", gib),
)


def learnable_table() -> str:
    """The page's learnable table: one column per model."""
    figures = {name: learnable_figures(name) for name in CONFIGS}
    lines = ["| learnable | " + " | ".join(CONFIGS) + " |", "|---|" + "---:|" * len(CONFIGS)]
    for label, key, shown in LEARNABLE_ROWS:
        cells = [f"{figures[n][key]:,}" if shown is str else shown(figures[n][key]) for n in CONFIGS]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def accelerate_rows(name: str) -> list:
    """accelerate's own gather_data on the meta model built from the local config."""
    import torch
    import transformers
    from accelerate import init_empty_weights
    from accelerate.commands import estimate as acc

    config = transformers.AutoConfig.for_model(**CONFIGS[name])

    def local_model(model_name, library_name=None, trust_remote_code=False, access_token=None):
        with init_empty_weights():  # as create_empty_model does, float32, AutoModel: no LM head
            return transformers.AutoModel.from_config(config, dtype=torch.float32)

    original = acc.create_empty_model
    acc.create_empty_model = local_model
    try:
        args = Namespace(model_name=name, library_name="transformers", trust_remote_code=False,
                         dtypes=["float32", "float16", "int8", "int4"])
        return acc.gather_data(args)  # [dtype, largest layer, total size, training sizes]
    finally:
        acc.create_empty_model = original


def accelerate_table() -> str:
    lines = ["| accelerate `estimate-memory` | " + " | ".join(CONFIGS) + " |", "|---|" + "---:|" * len(CONFIGS)]
    data = {name: accelerate_rows(name) for name in CONFIGS}
    for i, dtype in enumerate(["float32", "float16", "int8", "int4"]):
        lines.append(f"| total size, {dtype} (GiB) | " + " | ".join(gib(data[n][i][2]) for n in CONFIGS) + " |")
    for i, dtype in enumerate(["float32", "float16"]):
        lines.append(f"| \"Training using Adam\", {dtype} (GiB) | "
                     + " | ".join(gib(max(data[n][i][3].values())) for n in CONFIGS) + " |")
    lines.append("| largest layer, float32 (GiB) | " + " | ".join(gib(data[n][0][1]) for n in CONFIGS) + " |")
    params = {n: int(data[n][0][2]) // 4 for n in CONFIGS}
    lines.append("| parameters counted (float32 bytes / 4) | " + " | ".join(f"{params[n]:,}" for n in CONFIGS) + " |")
    return "\n".join(lines)


def rules_of_thumb_table() -> str:
    """EleutherAI's Transformer Math 101 and llm-analysis's KV formula, on learnable's counts."""
    rows = []
    for name, config in CONFIGS.items():
        f = learnable_figures(name)
        layers, kv_heads = config["num_hidden_layers"], config["num_key_value_heads"]
        head = config["hidden_size"] // config["num_attention_heads"]
        kv = layers * 2 * 1 * CONTEXT * head * kv_heads * 2  # llm-analysis: 2·b·s·(h/a)·n_kv·bytes a layer
        rows.append((name, gib(1.2 * f["params"] * 2), gib(16 * f["params"]), gib(kv)))
    lines = ["| rule | " + " | ".join(r[0] for r in rows) + " |", "|---|" + "---:|" * len(rows)]
    lines.append("| Transformer Math 101: inference ≈ 1.2 × fp16 weights (GiB) | "
                 + " | ".join(r[1] for r in rows) + " |")
    lines.append("| Transformer Math 101: mixed-precision AdamW, 16 bytes/param (GiB) | "
                 + " | ".join(r[2] for r in rows) + " |")
    lines.append(f"| llm-analysis KV cache, {CONTEXT:,} tokens, fp16 (GiB) | " + " | ".join(r[3] for r in rows) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(learnable_table(), end="\n\n")
    print(accelerate_table(), end="\n\n")
    print(rules_of_thumb_table())
