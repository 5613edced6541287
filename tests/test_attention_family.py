"""Attention and transformer layers: hand arithmetic first, then Keras and PyTorch as oracles.

Expected counts are written as arithmetic from the frameworks' documented tensors
(CONVENTIONS.md §1 gives the verified totals they must reach); the differential tests build
the same layer in Keras (on keras.Input tensors, never compiled) and in torch (run forward
on zeros) and compare every tensor's name, shape and size, the output shape and the
printed arithmetic. A seeded sweep covers heads, key/value sizes, output_shape, biases,
kdim/vdim, add_bias_kv, d_model/nhead/dim_feedforward, norm_first and num_layers. No
expected number is taken from learnable's output.
"""

from __future__ import annotations

import dataclasses
import os
import random
import warnings
from typing import Any

import pytest
from conftest import assert_formulas_hold, run_cli, sweep

import learnable

os.environ.setdefault("KERAS_BACKEND", "torch")

E = 512


def spec(type_name: str, kwargs: dict[str, Any], *shapes: list) -> dict[str, Any]:
    """One layer named ``x`` on one input (``input``) or several (``in0``, ``in1``, ...)."""
    if len(shapes) == 1:
        return {"input": list(shapes[0]), "layers": [{type_name: {**kwargs, "name": "x"}}]}
    names = [f"in{i}" for i in range(len(shapes))]
    return {"inputs": dict(zip(names, map(list, shapes))),
            "layers": [{type_name: {**kwargs, "name": "x", "inputs": names}}]}


def row(type_name: str, kwargs: dict[str, Any], *shapes: list, convention: str | None = None):
    return learnable.count(spec(type_name, kwargs, *shapes), convention=convention).layer("x")


# ---- (1) per-layer tables: hand arithmetic --------------------------------------------

HAND = [
    # Keras MultiHeadAttention: query, key, value, attention_output kernels + biases.
    ("MultiHeadAttention", {"num_heads": 8, "key_dim": 64}, [[10, E], [10, E]],
     3 * (E * 8 * 64 + 8 * 64) + 8 * 64 * E + E, 1_050_624, (10, E)),
    ("MultiHeadAttention", {"num_heads": 2, "key_dim": 16, "value_dim": 8, "output_shape": 20},
     [[5, 40], [7, 24], [7, 30]],
     40 * 2 * 16 + 2 * 16 + 30 * 2 * 16 + 2 * 16 + 24 * 2 * 8 + 2 * 8 + 2 * 8 * 20 + 20, 3_044, (5, 20)),
    ("MultiHeadAttention", {"num_heads": 2, "key_dim": 16}, [[5, 40], [7, 24]],
     40 * 32 + 32 + 2 * (24 * 32 + 32) + 2 * 16 * 40 + 40, 4_232, (5, 40)),
    ("MultiHeadAttention", {"num_heads": 8, "key_dim": 64, "use_bias": False}, [[10, E]],
     4 * E * E, 1_048_576, (10, E)),
    ("MultiHeadAttention", {"num_heads": 8, "key_dim": 16}, [[10, E]],
     3 * (E * 8 * 16 + 8 * 16) + 8 * 16 * E + E, 263_040, (10, E)),
    ("MultiHeadAttention", {"num_heads": 2, "key_dim": 16, "use_gate": True}, [[5, 40], [7, 24]],
     4_232 + 40 * 2 * 16 + 2 * 16, 5_544, (5, 40)),
    ("MultiHeadAttention", {"num_heads": 2, "key_dim": 16, "output_shape": [3, 4]}, [[5, 40], [7, 24]],
     40 * 32 + 32 + 2 * (24 * 32 + 32) + 2 * 16 * 3 * 4 + 3 * 4, None, (5, 3, 4)),
    # PyTorch nn.MultiheadAttention: 4E² + 4E whatever num_heads.
    ("nn.MultiheadAttention", {"embed_dim": E, "num_heads": 8}, [[10, E]], 4 * E * E + 4 * E, 1_050_624, (10, E)),
    ("nn.MultiheadAttention", {"embed_dim": E, "num_heads": 64}, [[10, E]], 4 * E * E + 4 * E, 1_050_624, (10, E)),
    ("nn.MultiheadAttention", {"embed_dim": E, "num_heads": 8, "bias": False}, [[10, E]],
     4 * E * E, 1_048_576, (10, E)),
    ("nn.MultiheadAttention", {"embed_dim": E, "num_heads": 8, "add_bias_kv": True}, [[10, E]],
     4 * E * E + 4 * E + 2 * E, 1_051_648, (10, E)),
    ("nn.MultiheadAttention", {"embed_dim": E, "num_heads": 8, "kdim": 256, "vdim": 128}, [[10, E], [7, 256], [7, 128]],
     E * E + E * 256 + E * 128 + 3 * E + E * E + E, 722_944, (10, E)),
    ("nn.MultiheadAttention", {"embed_dim": E, "num_heads": 8, "add_zero_attn": True}, [[10, E]],
     4 * E * E + 4 * E, 1_050_624, (10, E)),
    # Keras Attention / AdditiveAttention: scalars, or one scale per query feature.
    ("Attention", {}, [[5, 16], [7, 16]], 0, 0, (5, 16)),
    ("Attention", {"use_scale": True}, [[5, 16], [7, 16]], 1, 1, (5, 16)),
    ("Attention", {"use_scale": True, "score_mode": "concat"}, [[5, 16], [7, 8], [7, 16]], 1 + 1, None, (5, 8)),
    ("AdditiveAttention", {}, [[5, 16], [7, 16]], 16, 16, (5, 16)),
    ("AdditiveAttention", {"use_scale": False}, [[5, 16], [7, 16]], 0, None, (5, 16)),
    # PyTorch transformer layers: self_attn + linear1 + linear2 + norms.
    ("TransformerEncoderLayer", {"d_model": E, "nhead": 8, "dim_feedforward": 2048}, [[10, E]],
     (4 * E * E + 4 * E) + (E * 2048 + 2048) + (2048 * E + E) + 2 * (2 * E), 3_152_384, (10, E)),
    ("TransformerEncoderLayer", {"d_model": E, "nhead": 8, "bias": False}, [[10, E]],
     4 * E * E + E * 2048 + 2048 * E + 2 * E, 3_146_752, (10, E)),
    ("TransformerDecoderLayer", {"d_model": E, "nhead": 8}, [[7, E], [10, E]],
     2 * (4 * E * E + 4 * E) + (E * 2048 + 2048) + (2048 * E + E) + 3 * (2 * E), 4_204_032, (7, E)),
    ("TransformerEncoder", {"encoder_layer": {"TransformerEncoderLayer": [E, 8]}, "num_layers": 6}, [[10, E]],
     6 * 3_152_384, 18_914_304, (10, E)),
    ("TransformerEncoder", {"encoder_layer": {"TransformerEncoderLayer": [E, 8]}, "num_layers": 6,
                            "norm": {"LayerNorm": [E]}}, [[10, E]], 6 * 3_152_384 + 2 * E, None, (10, E)),
    ("TransformerDecoder", {"decoder_layer": {"TransformerDecoderLayer": [E, 8]}, "num_layers": 6}, [[7, E], [10, E]],
     6 * 4_204_032, None, (7, E)),
    ("Transformer", {}, [[10, E], [7, E]], 6 * 3_152_384 + 2 * E + 6 * 4_204_032 + 2 * E, 44_140_544, (7, E)),
]


@pytest.mark.parametrize("type_name, kwargs, shapes, arithmetic, verified, output_shape", HAND,
                         ids=[f"{h[0]}-{i}" for i, h in enumerate(HAND)])
def test_hand_arithmetic(type_name, kwargs, shapes, arithmetic, verified, output_shape):
    got = row(type_name, kwargs, *shapes)
    assert verified in (None, arithmetic), "the arithmetic must reach CONVENTIONS.md's verified count"
    assert (got.params, got.trainable, got.output_shape) == (arithmetic, arithmetic, output_shape)
    assert_formulas_hold(got)


def test_compact_and_yaml_nesting_agree():
    compact = learnable.count("Input(10, 512) | nn.TransformerEncoder(nn.TransformerEncoderLayer(512, 8), 6)")
    yaml = learnable.count("input: [10, 512]\nlayers:\n  - TransformerEncoder: "
                           "{encoder_layer: {TransformerEncoderLayer: [512, 8]}, num_layers: 6}\n")
    assert compact.total_params == yaml.total_params == 6 * 3_152_384
    names = [w.name for w in compact.layers[-1].weights]
    assert names[:4] == ["layers.0.self_attn.in_proj_weight", "layers.0.self_attn.in_proj_bias",
                         "layers.0.self_attn.out_proj.weight", "layers.0.self_attn.out_proj.bias"]
    assert names[-1] == "layers.5.norm2.bias" and len(names) == 6 * 12


def test_weights_are_named_as_each_framework_names_them():
    keras = row("MultiHeadAttention", {"num_heads": 2, "key_dim": 16, "value_dim": 8, "output_shape": 20},
                [5, 40], [7, 24], [7, 30])
    assert [(w.name, w.shape) for w in keras.weights] == [
        ("query/kernel", (40, 2, 16)), ("query/bias", (2, 16)), ("key/kernel", (30, 2, 16)), ("key/bias", (2, 16)),
        ("value/kernel", (24, 2, 8)), ("value/bias", (2, 8)),
        ("attention_output/kernel", (2, 8, 20)), ("attention_output/bias", (20,)),
    ]
    kwargs = {"embed_dim": 8, "num_heads": 2, "kdim": 4, "vdim": 6, "add_bias_kv": True}
    torch_form = row("nn.MultiheadAttention", kwargs, [5, 8], [3, 4], [3, 6])
    assert [(w.name, w.shape) for w in torch_form.weights] == [
        ("q_proj_weight", (8, 8)), ("k_proj_weight", (8, 4)), ("v_proj_weight", (8, 6)), ("in_proj_bias", (3 * 8,)),
        ("bias_k", (1, 1, 8)), ("bias_v", (1, 1, 8)), ("out_proj.weight", (8, 8)), ("out_proj.bias", (8,)),
    ]


def notes(type_name: str, kwargs: dict[str, Any], *shapes: list) -> tuple[str, str, bool]:
    pair = learnable.compare_conventions(spec(type_name, kwargs, *shapes)).rows[-1]
    return pair.keras.note, pair.pytorch.note, pair.differs


def test_conventions_explain_themselves():
    keras, pytorch, differs = notes("MultiHeadAttention", {"num_heads": 8, "key_dim": 64}, [10, E])
    assert not differs and keras == "" and "per head" in pytorch and "nn.MultiheadAttention(512, 8)" in pytorch
    keras, pytorch, differs = notes("MultiHeadAttention", {"num_heads": 8, "key_dim": 16}, [10, E])
    assert not differs and "no exact PyTorch equivalent" in pytorch and "8×16 = 128" in pytorch
    keras, pytorch, differs = notes("nn.MultiheadAttention", {"embed_dim": E, "num_heads": 8}, [10, E])
    assert pytorch == "" and "MultiHeadAttention(8, key_dim=64)" in keras
    keras, pytorch, _ = notes("nn.MultiheadAttention", {"embed_dim": E, "num_heads": 8, "add_bias_kv": True}, [10, E])
    assert "no add_bias_kv" in keras and pytorch == ""
    keras, pytorch, _ = notes("TransformerEncoderLayer", {"d_model": 8, "nhead": 2}, [10, 8])
    assert "Keras 3 has no TransformerEncoderLayer" in keras and pytorch == ""
    keras, pytorch, _ = notes("Attention", {"use_scale": True}, [5, 8], [7, 8])
    assert keras == "" and "PyTorch has no such module" in pytorch


def test_cli_explains_the_convention():
    source = "Input(10, 16) | nn.TransformerEncoderLayer(16, 2, 32) | MultiHeadAttention(2, 4)"
    for convention, expected in (("keras", "Keras 3 has no TransformerEncoderLayer"),
                                 ("pytorch", "no exact PyTorch equivalent"),
                                 ("both", "Keras 3 has no TransformerEncoderLayer")):
        flags = ("--explain",) if convention != "both" else ()
        result = run_cli("count", source, "--convention", convention, *flags)
        assert result.returncode == 0, result.stderr
        assert expected in result.stdout, (convention, result.stdout)


def test_params_do_not_depend_on_sequence_length():
    for length in (1, 7, None):
        keras = row("MultiHeadAttention", {"num_heads": 2, "key_dim": 3}, [length, 6])
        assert keras.params == 3 * (6 * 2 * 3 + 2 * 3) + 2 * 3 * 6 + 6
        assert row("nn.MultiheadAttention", {"embed_dim": 6, "num_heads": 2}, [length, 6]).params == 4 * 6 * 6 + 4 * 6


@pytest.mark.parametrize("type_name, kwargs, shapes, message", [
    ("nn.MultiheadAttention", {"embed_dim": 10, "num_heads": 3}, [[4, 10]], "divisible"),
    ("nn.TransformerEncoderLayer", {"d_model": 10, "nhead": 3}, [[4, 10]], "divisible"),
    ("nn.TransformerEncoder", {"encoder_layer": {"Linear": [10, 10]}, "num_layers": 2}, [[4, 10]],
     "must be a TransformerEncoderLayer"),
    ("MultiHeadAttention", {"num_heads": 2, "key_dim": 4}, [[4, None]], "unknown"),
    ("Attention", {}, [[4, 8]], "inputs"),
])
def test_local_errors(type_name, kwargs, shapes, message):
    with pytest.raises(learnable.LearnableError, match=message):
        row(type_name, kwargs, *shapes)


# ---- (2) differential tests: Keras --------------------------------------------------------


def keras_build(cls_name: str, kwargs: dict[str, Any], shapes: list, list_call: bool = False):
    """The layer built on keras.Input tensors: (layer, output shape without batch)."""
    keras = pytest.importorskip("keras")
    tensors = [keras.Input(tuple(s)) for s in shapes]
    layer = getattr(keras.layers, cls_name)(**kwargs)
    out = layer(tensors) if list_call else layer(*tensors)
    return layer, tuple(out.shape[1:])


def keras_runs(cls_name: str, kwargs: dict[str, Any], shapes: list, list_call: bool) -> bool:
    """Keras builds the layer, runs it on zeros, and computes the shape it reported."""
    keras, np = pytest.importorskip("keras"), pytest.importorskip("numpy")
    try:
        _, reported = keras_build(cls_name, kwargs, shapes, list_call)
        layer = getattr(keras.layers, cls_name)(**kwargs)
        arrays = [np.zeros((1, *(d or 3 for d in s)), "float32") for s in shapes]
        with warnings.catch_warnings():  # Keras warns of a softmax over a size-1 axis, which tiny sweeps make
            warnings.simplefilter("ignore", UserWarning)
            out = layer(arrays) if list_call else layer(*arrays)
    except Exception:  # noqa: BLE001 - Keras raises ValueError or backend errors alike
        return False
    computed = tuple(out.shape[1:])
    return len(reported) == len(computed) and all(r in (None, c) for r, c in zip(reported, computed))


def assert_keras_row(got, layer, output_shape) -> None:
    """Every number of a row against Keras; names as the weight's path under the layer."""
    from frameworks import assert_row_matches_keras

    prefix = layer.name + "/"
    assert all(w.path.startswith(prefix) for w in layer.weights), [w.path for w in layer.weights]
    assert [w.name for w in got.weights] == [w.path[len(prefix):] for w in layer.weights]
    # The shared helper compares Keras's short names (`kernel`), so give it those.
    short = tuple(dataclasses.replace(w, name=w.name.rpartition("/")[2]) for w in got.weights)
    assert_row_matches_keras(dataclasses.replace(got, weights=short), layer, output_shape)


def keras_mha_case(rng: random.Random) -> tuple[dict[str, Any], list]:
    heads, key_dim = rng.randint(1, 4), rng.randint(1, 6)
    kwargs: dict[str, Any] = {"num_heads": heads, "key_dim": key_dim, "use_bias": rng.random() < 0.7}
    # About half the layers have nn.MultiheadAttention as an exact equivalent: query size = heads × key_dim.
    twin = rng.random() < 0.5
    if not twin and rng.random() < 0.5:
        kwargs["value_dim"] = rng.randint(1, 6)
    if not twin and rng.random() < 0.4:
        kwargs["output_shape"] = rng.choice([rng.randint(1, 9), [rng.randint(1, 3), rng.randint(1, 3)]])
    if not twin and rng.random() < 0.2:
        kwargs["use_gate"] = True
    q = heads * key_dim if twin else rng.randint(1, 12)
    query, value = [rng.choice([None, rng.randint(1, 5)]), q], [rng.randint(1, 5), rng.choice([q, rng.randint(1, 8)])]
    if rng.random() < 0.15:  # a 2-D attention over (rows, columns) positions
        query, value = [3, *query], [3, *value]
        if rng.random() < 0.5:
            kwargs["attention_axes"] = rng.choice([2, -2, [1, 2]])
    if rng.random() < 0.2:
        return kwargs, [query]  # self-attention
    key = [[*value[:-1], rng.randint(1, 8)]] if rng.random() < 0.4 else []
    return kwargs, [query, value, *key]


@pytest.mark.frameworks
@pytest.mark.parametrize("seed", sweep(70))
def test_keras_multi_head_attention_sweep(seed):
    kwargs, shapes = keras_mha_case(random.Random(seed))
    keras_shapes = shapes * 2 if len(shapes) == 1 else shapes  # Keras calls self-attention as layer(x, x)
    assert keras_runs("MultiHeadAttention", kwargs, keras_shapes, list_call=False)
    layer, output_shape = keras_build("MultiHeadAttention", kwargs, keras_shapes)
    assert_keras_row(row("MultiHeadAttention", kwargs, *shapes, convention="keras"), layer, output_shape)
    torch_side = row("MultiHeadAttention", kwargs, *shapes, convention="pytorch")
    torch_mha = equivalent_torch_mha(kwargs, keras_shapes)
    if torch_mha is None:
        assert "no exact PyTorch equivalent" in torch_side.note
        assert_keras_row(torch_side, layer, output_shape)  # counted as Keras counts it
    else:
        assert "per head" in torch_side.note
        assert_row_matches_torch_mha(torch_side, torch_mha, keras_shapes)


def equivalent_torch_mha(kwargs: dict[str, Any], shapes: list):
    """nn.MultiheadAttention holding exactly this Keras layer's weights, or None."""
    torch = pytest.importorskip("torch")
    q = shapes[0][-1]
    value_dim = kwargs.get("value_dim") or kwargs["key_dim"]
    out = kwargs.get("output_shape")
    if (len(shapes[0]) != 2 or kwargs.get("use_gate") or out not in (None, q, [q])
            or kwargs["num_heads"] * kwargs["key_dim"] != q or kwargs["num_heads"] * value_dim != q):
        return None
    key = shapes[2] if len(shapes) > 2 else shapes[1]
    return torch.nn.MultiheadAttention(q, kwargs["num_heads"], bias=kwargs["use_bias"],
                                       kdim=key[-1], vdim=shapes[1][-1], batch_first=True)


def assert_row_matches_torch_mha(got, module, shapes: list) -> None:
    """Keras's input order is (query, value, key); torch's is (query, key, value)."""
    from frameworks import assert_row_matches_torch

    query, value = shapes[0], shapes[1]
    key = shapes[2] if len(shapes) > 2 else value
    computed = torch_forward(module, [query, key, value], batch_first=True)
    expected = (None, *computed[1:]) if query[0] is None else computed  # an unknown length stays unknown
    assert_row_matches_torch(got, module, expected)


@pytest.mark.frameworks
@pytest.mark.parametrize("cls_name, kwargs, shapes", [
    ("Attention", {}, [[5, 8], [7, 6], [7, 8]]),
    ("Attention", {"use_scale": True}, [[5, 8], [7, 8]]),
    ("Attention", {"score_mode": "concat"}, [[None, 8], [None, 8]]),
    ("Attention", {"use_scale": True, "score_mode": "concat"}, [[5, 1], [7, 6], [7, 8]]),
    ("Attention", {}, [[2, 5, 8], [2, 7, 8]]),
    ("AdditiveAttention", {}, [[5, 8], [7, 6], [7, 8]]),
    ("AdditiveAttention", {"use_scale": False}, [[5, 8], [7, 8]]),
    ("AdditiveAttention", {}, [[5, 1], [7, 6], [7, 8]]),
    ("AdditiveAttention", {}, [[8], [8]]),
])
def test_keras_dot_attention(cls_name, kwargs, shapes):
    layer, output_shape = keras_build(cls_name, kwargs, shapes, list_call=True)
    assert keras_runs(cls_name, kwargs, shapes, list_call=True)
    for convention in ("keras", "pytorch"):
        assert_keras_row(row(cls_name, kwargs, *shapes, convention=convention), layer, output_shape)


@pytest.mark.frameworks
@pytest.mark.parametrize("cls_name, kwargs, shapes", [
    ("MultiHeadAttention", {"num_heads": 2, "key_dim": 4}, [[5, 40], [3, 7, 24]]),  # ranks differ
    ("MultiHeadAttention", {"num_heads": 2, "key_dim": 4}, [[5, 40], [7, 24], [8, 24]]),  # key length
    ("MultiHeadAttention", {"num_heads": 2, "key_dim": 4}, [[40], [24]]),  # no sequence axis
    ("MultiHeadAttention", {"num_heads": 2, "key_dim": 4, "attention_axes": 1}, [[4, 5, 12], [4, 6, 6]]),
    ("MultiHeadAttention", {"num_heads": 2, "key_dim": 4, "attention_axes": -1}, [[4, 5, 12], [4, 6, 6]]),
    ("MultiHeadAttention", {"num_heads": 2, "key_dim": 4, "attention_axes": 2}, [[4, 5, 12], [4, 6, 6]]),
    ("MultiHeadAttention", {"num_heads": 2, "key_dim": 4, "attention_axes": 1}, [[4, 5, 12], [4, 5, 6]]),
    ("Attention", {}, [[5, 8], [7, 6]]),  # dot scores need equal query and key sizes
    ("Attention", {}, [[5, 8], [7, 6], [9, 8]]),  # one value per key
    ("Attention", {}, [[2, 5, 8], [3, 7, 8]]),
    ("Attention", {}, [[5, 8], [2, 7, 8]]),  # runs, but not at the shape Keras reports
    ("AdditiveAttention", {}, [[5, 8], [7, 6]]),
    ("AdditiveAttention", {}, [[5, 8], [7, 6], [7, 1]]),
])
def test_keras_decides_what_is_valid(cls_name, kwargs, shapes):
    list_call = cls_name != "MultiHeadAttention"
    if keras_runs(cls_name, kwargs, shapes, list_call):
        layer, output_shape = keras_build(cls_name, kwargs, shapes, list_call)
        assert_keras_row(row(cls_name, kwargs, *shapes, convention="keras"), layer, output_shape)
    else:
        with pytest.raises(learnable.LearnableError):
            row(cls_name, kwargs, *shapes)


# ---- (2) differential tests: PyTorch ------------------------------------------------------


def torch_forward(module, shapes: list, batch_first: bool) -> tuple[int, ...]:
    """Run on zeros with a batch of 1 (an unknown length becomes 3); the output's shape
    without its batch axis, which is the first or the second as batch_first says."""
    torch = pytest.importorskip("torch")
    sizes = [[d or 3 for d in s] for s in shapes]
    zeros = [torch.zeros(1, *s) if batch_first else torch.zeros(s[0], 1, *s[1:]) for s in sizes]
    with torch.no_grad():
        out = module(*zeros)
    out = out[0] if isinstance(out, tuple) else out  # MultiheadAttention returns (output, weights)
    return tuple(out.shape[1:]) if batch_first else (out.shape[0], *out.shape[2:])


def torch_mha_case(rng: random.Random) -> tuple[dict[str, Any], list]:
    heads, head_dim = rng.randint(1, 4), rng.randint(1, 4)
    embed = heads * head_dim
    kwargs: dict[str, Any] = {
        "embed_dim": embed, "num_heads": heads, "bias": rng.random() < 0.7, "add_bias_kv": rng.random() < 0.25,
        "add_zero_attn": rng.random() < 0.15, "batch_first": rng.random() < 0.5,
    }
    inputs = rng.randint(1, 3)
    kdim = rng.choice([embed, rng.randint(1, 8)]) if inputs > 1 else embed
    vdim = rng.choice([embed, rng.randint(1, 8)]) if inputs > 2 else kdim  # two inputs: value = key
    if kdim != embed or rng.random() < 0.2:
        kwargs["kdim"] = kdim
    if vdim != embed or rng.random() < 0.2:
        kwargs["vdim"] = vdim
    length, memory = rng.randint(1, 5), rng.randint(1, 5)
    return kwargs, [[length, embed], [memory, kdim], [memory, vdim]][:inputs]


def torch_qkv(shapes: list) -> list:
    """learnable's 1-3 inputs (query, key, value) as the three torch needs."""
    key = shapes[1] if len(shapes) > 1 else shapes[0]
    return [shapes[0], key, shapes[2] if len(shapes) > 2 else key]


@pytest.mark.frameworks
@pytest.mark.parametrize("seed", sweep(60))
def test_torch_multihead_attention_sweep(seed):
    torch = pytest.importorskip("torch")
    from frameworks import assert_row_matches_torch

    kwargs, shapes = torch_mha_case(random.Random(1000 + seed))
    module = torch.nn.MultiheadAttention(**kwargs)
    output_shape = torch_forward(module, torch_qkv(shapes), kwargs["batch_first"])
    ours = row("nn.MultiheadAttention", kwargs, *shapes)
    assert_row_matches_torch(ours, module, output_shape)
    as_keras = row("nn.MultiheadAttention", kwargs, *shapes, convention="keras")
    if kwargs["add_bias_kv"] or kwargs["add_zero_attn"]:
        assert as_keras.weights == ours.weights and "Keras's MultiHeadAttention has no" in as_keras.note
        return
    # Keras's equivalent: key_dim = value_dim = E / num_heads, called with (query, value, key).
    heads = kwargs["num_heads"]
    query, key, value = torch_qkv(shapes)
    layer, keras_shape = keras_build("MultiHeadAttention", {"num_heads": heads, "key_dim": kwargs["embed_dim"] // heads,
                                                            "use_bias": kwargs["bias"]}, [query, value, key])
    assert keras_shape == output_shape
    assert_keras_row(as_keras, layer, keras_shape)


def transformer_case(rng: random.Random) -> tuple[str, dict[str, Any], list, Any, bool]:
    """(type, spec arguments, input shapes, a function that builds the torch module, batch_first)."""
    nn = pytest.importorskip("torch").nn
    heads = rng.randint(1, 3)
    embed = heads * rng.randint(1, 4)
    layer = {"d_model": embed, "nhead": heads, "dim_feedforward": rng.randint(1, 12), "dropout": 0.0,
             "bias": rng.random() < 0.7, "norm_first": rng.random() < 0.5, "batch_first": rng.random() < 0.5}
    kind = rng.choice(["TransformerEncoderLayer", "TransformerDecoderLayer", "TransformerEncoder",
                       "TransformerDecoder", "Transformer"])
    shapes = [[rng.randint(1, 5), embed], [rng.randint(1, 5), embed]]
    if kind.endswith("Layer"):
        return kind, layer, shapes[: 1 + kind.startswith("TransformerDecoder")], lambda: getattr(nn, kind)(**layer), \
            layer["batch_first"]
    if kind == "Transformer":
        counts = {"num_encoder_layers": rng.randint(1, 2), "num_decoder_layers": rng.randint(1, 2)}
        return kind, {**layer, **counts}, shapes, lambda: nn.Transformer(**layer, **counts), layer["batch_first"]
    decoder = kind == "TransformerDecoder"
    inner, count, norm = kind + "Layer", rng.randint(1, 3), rng.random() < 0.4
    kwargs = {("decoder_layer" if decoder else "encoder_layer"): {inner: layer}, "num_layers": count}
    if norm:
        kwargs["norm"] = {"LayerNorm": [embed]}
    build = lambda: getattr(nn, kind)(getattr(nn, inner)(**layer), count, norm=nn.LayerNorm(embed) if norm else None)
    return kind, kwargs, shapes[: 1 + decoder], build, layer["batch_first"]


@pytest.mark.frameworks
@pytest.mark.filterwarnings("ignore::UserWarning")  # torch's nested-tensor advice for batch_first=False
@pytest.mark.parametrize("seed", sweep(50))
def test_torch_transformer_sweep(seed):
    from frameworks import assert_row_matches_torch

    kind, kwargs, shapes, build, batch_first = transformer_case(random.Random(2000 + seed))
    module = build()
    output_shape = torch_forward(module, shapes, batch_first)
    ours = row(kind, kwargs, *shapes)
    assert_row_matches_torch(ours, module, output_shape)
    as_keras = row(kind, kwargs, *shapes, convention="keras")
    assert as_keras.weights == ours.weights and f"Keras 3 has no {kind}" in as_keras.note


# The PyTorch signatures the invalid cases below use positionally.
NAMES = {
    "MultiheadAttention": ["embed_dim", "num_heads"],
    "TransformerEncoderLayer": ["d_model", "nhead", "dim_feedforward"],
    "TransformerDecoderLayer": ["d_model", "nhead", "dim_feedforward"],
    "Transformer": ["d_model", "nhead", "num_encoder_layers", "num_decoder_layers", "dim_feedforward"],
}


@pytest.mark.frameworks
@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("type_name, args, kwargs, shapes, batch_first", [
    ("MultiheadAttention", [10, 3], {}, [[4, 10]], True),  # embed_dim not divisible by num_heads
    ("MultiheadAttention", [8, 2], {"kdim": 4}, [[4, 8]], False),  # self-attention, but key has 8 features
    ("MultiheadAttention", [8, 2], {}, [[4, 6]], True),
    ("MultiheadAttention", [8, 2], {}, [[5, 8], [3, 8], [4, 8]], False),  # key and value lengths differ
    ("MultiheadAttention", [8, 2], {"vdim": 4}, [[5, 8], [3, 8], [4, 4]], True),
    ("MultiheadAttention", [8, 2], {}, [[2, 5, 8]], True),  # an example of rank 3
    ("MultiheadAttention", [8, 2], {"kdim": 4, "vdim": 4}, [[5, 8], [3, 4]], True),
    ("TransformerEncoderLayer", [8, 2, 16], {}, [[5, 6]], False),
    ("TransformerDecoderLayer", [8, 2, 16], {}, [[5, 8], [3, 6]], False),
    ("TransformerDecoderLayer", [8, 2, 16], {}, [[5, 8], [3, 8]], True),
    ("Transformer", [8, 2, 1, 1, 16], {}, [[5, 8], [3, 6]], False),
    ("Transformer", [8, 2, 1, 1, 16], {}, [[5, 8], [3, 8]], False),
])
def test_torch_decides_what_is_valid(type_name, args, kwargs, shapes, batch_first):
    torch = pytest.importorskip("torch")
    from frameworks import assert_row_matches_torch

    layer_spec = spec("nn." + type_name, {**dict(zip(NAMES[type_name], args)), **kwargs, "batch_first": batch_first},
                      *shapes)
    try:
        module = getattr(torch.nn, type_name)(*args, **kwargs, batch_first=batch_first)
        inputs = torch_qkv(shapes) if type_name == "MultiheadAttention" else shapes
        output_shape = torch_forward(module, inputs, batch_first)
    except (AssertionError, RuntimeError, ValueError, IndexError):
        with pytest.raises(learnable.LearnableError):
            learnable.count(layer_spec)
        return
    assert_row_matches_torch(learnable.count(layer_spec).layer("x"), module, output_shape)


@pytest.mark.frameworks
def test_torch_refuses_an_empty_stack():
    torch = pytest.importorskip("torch")
    module = torch.nn.TransformerEncoder(torch.nn.TransformerEncoderLayer(8, 2, 16), 0, enable_nested_tensor=False)
    with pytest.raises(IndexError):  # torch builds it, then reads layers[0] on the first call
        module(torch.zeros(5, 1, 8))
    with pytest.raises(learnable.LearnableError, match="positive"):
        row("TransformerEncoder", {"encoder_layer": {"TransformerEncoderLayer": [8, 2, 16]}, "num_layers": 0}, [5, 8])


@pytest.mark.frameworks
@pytest.mark.filterwarnings("ignore::UserWarning")
def test_torch_transformer_with_custom_halves():
    nn = pytest.importorskip("torch").nn
    from frameworks import assert_row_matches_torch

    encoder = {"encoder_layer": {"TransformerEncoderLayer": [8, 4, 6]}, "num_layers": 2, "norm": {"LayerNorm": [8]}}
    decoder = {"decoder_layer": {"TransformerDecoderLayer": [8, 2, 5]}, "num_layers": 1}
    kwargs = {"d_model": 8, "nhead": 2, "dim_feedforward": 16, "custom_encoder": {"TransformerEncoder": encoder},
              "custom_decoder": {"TransformerDecoder": decoder}}
    module = nn.Transformer(
        8, 2, dim_feedforward=16,
        custom_encoder=nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 4, 6), 2, nn.LayerNorm(8)),
        custom_decoder=nn.TransformerDecoder(nn.TransformerDecoderLayer(8, 2, 5), 1),
    )
    shapes = [[5, 8], [3, 8]]
    assert_row_matches_torch(row("Transformer", kwargs, *shapes), module, torch_forward(module, shapes, False))


def test_an_optional_layer_may_be_none_or_a_call():
    layer = "nn.TransformerEncoderLayer(8, 2, 16)"
    one = (4 * 8 * 8 + 4 * 8) + (8 * 16 + 16) + (16 * 8 + 8) + 2 * 2 * 8
    for norm, extra in (("", 0), (", norm=None", 0), (", norm=nn.LayerNorm(8)", 2 * 8), (", nn.LayerNorm(8)", 2 * 8)):
        report = learnable.count(f"Input(5, 8) | nn.TransformerEncoder({layer}, 2{norm})")
        assert report.total_params == 2 * one + extra, norm
    yaml = {"encoder_layer": {"TransformerEncoderLayer": [8, 2, 16]}, "num_layers": 2, "norm": None}
    assert learnable.count({"input": [5, 8], "layers": [{"TransformerEncoder": yaml}]}).total_params == 2 * one
