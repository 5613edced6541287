"""Models with several inputs, each with its shape, dtype and keyword (learnable/inputs.py,
importers/_torch_trace.py): T5 by keyword (encoder and decoder ids), Whisper (float features
beside integer decoder ids), GPT-2 with its attention mask (whose mask code reads values, so
a model with real tensors is run itself, on zeros).

The oracle is torch: ``parameters()`` for the totals, and a real forward on CPU (batch 2,
the same inputs by the same keywords) for every row's output shape; a row without a shape
is one the real forward never calls. The models are built small from transformers' config
classes, on CPU (GPT-2's trace needs real tensors)."""

from __future__ import annotations

import json
import re
import textwrap
import warnings

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
from conftest import run_cli

import learnable
from learnable.errors import SpecError
from learnable.inputs import INT, input_specs

pytestmark = pytest.mark.frameworks

# ---- transformers models, traced with named inputs ----------------------------------------------


def build(model_type: str, auto: str = "AutoModel", **fields):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        transformers.logging.set_verbosity_error()
        config = transformers.AutoConfig.for_model(model_type, **fields)
        torch.manual_seed(0)
        return getattr(transformers, auto).from_config(config).eval()


def gpt2():
    return build("gpt2", "AutoModelForCausalLM", vocab_size=128, n_embd=64, n_layer=2, n_head=4, n_positions=64)


MODELS = {  # name → (model, input_shape as the user states it, the real inputs' (shape, dtype) by keyword)
    "t5": (lambda: build("t5", vocab_size=128, d_model=64, d_ff=96, num_layers=2, num_heads=4, d_kv=16,
                         decoder_start_token_id=0),
           {"input_ids": "8:int", "decoder_input_ids": "4:int"}),
    "whisper": (lambda: build("whisper", vocab_size=128, d_model=64, encoder_layers=1, decoder_layers=1,
                              encoder_attention_heads=4, decoder_attention_heads=4, encoder_ffn_dim=96,
                              decoder_ffn_dim=96, num_mel_bins=16, max_source_positions=20, max_target_positions=16,
                              pad_token_id=0, bos_token_id=1, eos_token_id=2, decoder_start_token_id=1),
                ["input_features=16x40", "decoder_input_ids=4:int"]),  # float features: 2 × max_source_positions
    "gpt2": (gpt2, {"input_ids": "8:int", "attention_mask": "8:int"}),
}


def real_inputs(input_shape, batch: int = 2) -> dict:
    """Zeros of each stated shape and dtype, by keyword, with a batch."""
    return {s.name: torch.zeros((batch, *s.shape), dtype=torch.long if s.dtype == INT else torch.float32)
            for s in input_specs(input_shape)}


def first_shape(output):
    if isinstance(output, torch.Tensor):
        return tuple(output.shape)
    items = output.values() if isinstance(output, dict) else output if isinstance(output, (tuple, list)) else ()
    return next((s for s in map(first_shape, items) if s is not None), None)


def real_calls(model, inputs: dict) -> dict[str, list]:
    """Each module's output shape at each call of a real CPU forward, batch axis dropped."""
    names, calls = {id(m): n for n, m in model.named_modules()}, {}

    def record(module, args, output):
        shape = first_shape(output)
        calls.setdefault(names[id(module)], []).append(shape and shape[1:])

    handles = [m.register_forward_hook(record) for m in model.modules()]
    try:
        with torch.no_grad():
            model(**inputs)
    finally:
        for handle in handles:
            handle.remove()
    return calls


@pytest.mark.parametrize("name", sorted(MODELS))
def test_named_inputs_trace_every_row(name):
    make, input_shape = MODELS[name]
    model = make()
    report = learnable.count(model, input_shape=input_shape)
    assert report.total_params == sum(p.numel() for p in model.parameters())
    assert report.total_buffers == sum(b.numel() for b in model.buffers())
    calls = real_calls(model, real_inputs(input_shape))
    never = []
    for row in report.layers:
        if row.type in ("Parameter", "Buffer"):
            continue
        match = re.fullmatch(r"(.*) \(call (\d+)\)", row.name)
        path, k = (match[1], int(match[2]) - 1) if match else (row.name, 0)
        if path not in calls:
            never.append(row.name)
            assert row.output_shape == () and "never called" in row.note, row.name
            continue
        assert row.output_shape == calls[path][k], (row.name, row.output_shape, calls[path][k])
        assert "counted from its own tensors" not in row.note, (row.name, row.note)
    # T5Model's `shared` embedding: its encoder and decoder each call their own embed_tokens, tied to it;
    # GPT-2's attention applies its dropout's p functionally, never calling the module
    assert never == {"t5": ["shared"], "whisper": [],
                     "gpt2": ["transformer.h.0.attn.attn_dropout", "transformer.h.1.attn.attn_dropout"]}[name]


def test_a_failing_trace_shows_the_real_error_in_one_line():
    """Positions past GPT-2's n_positions: on zeros, torch's own IndexError in the position
    embedding, from the integer attempt the inputs state (not a float attempt's)."""
    model = gpt2()
    with pytest.raises(SpecError) as caught:
        learnable.count(model, input_shape={"input_ids": "100:int", "attention_mask": "100:int"})
    assert str(caught.value).startswith(
        "GPT2LMHeadModel: its forward failed on zeros with input input_ids=(1, 100) int64, attention_mask=(1, 100) "
        "int64, in transformer.wpe (Embedding, given (1, 100)): IndexError: index out of range in self")
    assert "\n" not in str(caught.value)
    with pytest.raises(IndexError, match="index out of range in self"):  # the oracle: torch's own forward
        model(**real_inputs({"input_ids": "100:int", "attention_mask": "100:int"}, batch=1))


class Ids(torch.nn.Module):  # its forward fails after the embedding, on integer ids
    def __init__(self):
        super().__init__()
        self.embed = torch.nn.Embedding(10, 4)

    def forward(self, input_ids):
        return self.embed(input_ids).view(-1, 3)


class Unnamed(Ids):
    def forward(self, x):
        return self.embed(x).view(-1, 3)


@pytest.mark.parametrize("model, name", [(Ids(), "input_ids"), (Unnamed(), "x")],
                         ids=["by its name", "by the attempt that went further"])
def test_the_error_is_the_integer_attempts(model, name):
    """input_ids is integers by its name (no float attempt); an unnamed input is tried as
    float, then as integers, and the integer attempt went further: its error is shown, not the
    float one's (an Embedding refusing float indices)."""
    with pytest.raises(RuntimeError) as real:  # the oracle: torch's own error on integer ids
        model(torch.zeros(1, 8, dtype=torch.long))
    with pytest.raises(SpecError) as caught:
        learnable.count(model, input_shape=(8,))
    assert str(caught.value).startswith(f"{type(model).__name__}: its forward failed on the meta device with input "
                                        f"(1, 8) int64 (as {name}): RuntimeError: ")
    assert str(real.value).split(";")[0].split("\n")[0] in str(caught.value)
    assert "\n" not in str(caught.value)


def test_a_meta_model_whose_forward_reads_values_names_the_remedy():
    with torch.device("meta"):
        model = gpt2()
    with pytest.raises(SpecError, match="Tensor.item.. cannot be called on meta tensors; it reads tensor values, "
                                        "which a model built on the meta device has none of: build it on the CPU"):
        learnable.count(model, input_shape={"input_ids": "8:int", "attention_mask": "8:int"})


def test_a_keyword_the_forward_does_not_take():
    with torch.device("meta"):
        model = gpt2()
    with pytest.raises(SpecError, match=re.escape(
            "GPT2LMHeadModel: its forward takes no input named 'input_id'; did you mean 'input_ids'")):
        learnable.count(model, input_shape={"input_id": "8:int"})
    with pytest.raises(SpecError, match="the input 'input_ids' is given both by position and by name"):
        learnable.count(model, input_shape=["8:int", "input_ids=8:int"])


# ---- the command line ---------------------------------------------------------------------------

TWO_INPUTS = textwrap.dedent("""
    import torch
    from torch import nn

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 4, 3)
            self.embed = nn.Embedding(10, 4)

        def forward(self, pixels, ids=None, scale=None):
            return self.conv(pixels).mean((2, 3)) * scale + self.embed(ids).mean(1)

    net = Net()
""")


@pytest.mark.parametrize("inputs", [
    ["--input", "3x8x8", "--input", "ids=5:int", "--input", "scale=1"],
    ["--input", "3x8x8", "--input", "5:int", "--input", "1:float"],  # in order, each with its dtype
])
def test_cli_inputs_by_keyword_and_dtype(tmp_path, inputs):
    (tmp_path / "two.py").write_text(TWO_INPUTS)
    result = run_cli("count", f"{tmp_path / 'two.py'}:net", *inputs, "--format", "json")
    assert result.returncode == 0, result.stderr
    layers = {layer["name"]: layer for layer in json.loads(result.stdout)["layers"]}
    assert (layers["conv"]["output_shape"], layers["embed"]["output_shape"]) == ([4, 6, 6], [5, 4])
    assert (layers["conv"]["params"], layers["embed"]["params"]) == (3 * 3 * 3 * 4 + 4, 10 * 4)
