"""docs/sizing.md's learnable table is what learnable computes now (the page cannot drift),
and accelerate's count differs from learnable's by what the page says: no LM head (it
builds AutoModel), plus the rotary buffers (inv_freq and original_inv_freq, head_dim/2
floats each), by hand arithmetic."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the repository root: `benchmarks`
from benchmarks.sizing import CONFIGS, accelerate_rows, learnable_figures, learnable_table, rules_of_thumb_table


def test_the_page_shows_learnables_figures():
    page = (ROOT / "docs" / "sizing.md").read_text(encoding="utf-8")
    assert learnable_table() in page
    assert rules_of_thumb_table() in page  # the published rules, evaluated on learnable's counts


def test_the_learnable_figures_by_hand():
    llama = learnable_figures("Llama-3-8B")
    assert llama["params"] == 8_030_261_248  # Meta's model card: 8.03B
    assert llama["kv_cache"] == 2 * 32 * 8 * 128 * 8192 * 2  # K and V × layers × kv heads × head × tokens × bf16
    assert llama["weights_bf16"] == llama["params"] * 2


@pytest.mark.parametrize("name", list(CONFIGS))
def test_accelerate_counts_the_base_model_and_its_buffers(name):
    pytest.importorskip("accelerate")
    pytest.importorskip("transformers")
    config = CONFIGS[name]
    float32 = accelerate_rows(name)[0]
    head = config["vocab_size"] * config["hidden_size"]  # lm_head: not in AutoModel
    rotary = 2 * (config["hidden_size"] // config["num_attention_heads"] // 2)  # inv_freq + original_inv_freq
    assert float32[0] == "float32"
    assert float32[2] == (learnable_figures(name)["params"] - head + rotary) * 4
