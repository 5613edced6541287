"""Embeddings: Embedding (Keras), Embedding, EmbeddingBag, ScaledEmbedding and
RotaryEmbedding (PyTorch).

One table of vectors, ``rows × width``, all trainable (CONVENTIONS.md §1):
  Keras    embeddings (input_dim, output_dim); mask_zero changes nothing.
  PyTorch  weight (num_embeddings, embedding_dim); the padding_idx row is still counted
           (it only gets no gradient), and EmbeddingBag holds the same table.
The input holds integer ids: Embedding adds a last axis of the vector width, (seq,) →
(seq, width); EmbeddingBag reduces each bag, (n,) → (width,). Keras's LoRA (lora_rank=r)
freezes the table and adds lora_embeddings_a (input_dim, r) and lora_embeddings_b
(r, output_dim), which PyTorch has no module for.

Two of Hugging Face's (transformers 5):
- ScaledEmbedding is an Embedding whose forward multiplies by a constant (Gemma's
  ``*TextScaledWordEmbedding`` by √hidden, BART's ``*ScaledWordEmbedding``): the same table,
  one multiply per output value, and Gemma keeps the scale as a 0-d buffer ``embed_scale``.
- RotaryEmbedding (``*RotaryEmbedding``, RoPE) learns nothing: it keeps the inverse
  frequencies, ``dim / 2`` values, as buffers (``inv_freq``, and transformers 5 adds a copy,
  ``original_inv_freq``, for dynamic scaling) and turns positions into the cos and sin
  tables, (positions, dim). MACs: position × frequency, ``positions × dim/2`` (cos and sin
  are not MACs). Keras Hub's RotaryEmbedding computes its frequencies and keeps no weights.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from math import prod
from typing import Any

from ..errors import ArgumentError, RuleError
from ..expr import num, product
from ._args import Arg, anything, boolean, choice, integer, number, optional, positive
from ._base import NO_MACS, Context, Inference, Rule, Shape, Weight, per_value_macs, shape_text
from ._registry import PYTORCH, register
from .norm import foreign


def _table(rows: int, width: int, ctx: Context, trainable: bool = True) -> Weight:
    if ctx.pytorch:
        return Weight("weight", (num(rows, "num_embeddings"), num(width, "embedding_dim")), trainable)
    return Weight("embeddings", (num(rows, "input_dim"), num(width, "output_dim")), trainable)


def _keras(a: Mapping[str, Any], shapes: Sequence[Shape], ctx: Context) -> Inference:
    rows, width, rank = a["input_dim"], a["output_dim"], a["lora_rank"]
    shape = (*shapes[0], width)
    if not rank:
        return Inference(shape, (_table(rows, width, ctx),), macs=NO_MACS)
    r = num(rank, "r")
    rows_, width_ = num(rows, "input_dim"), num(width, "output_dim")
    weights = (Weight("embeddings", (rows_, width_), False),
               Weight("lora_embeddings_a", (rows_, r)), Weight("lora_embeddings_b", (r, width_)))
    note = foreign("Keras", "PyTorch", "torch.nn has no LoRA embedding") if ctx.pytorch else ""
    # A lookup costs nothing; the LoRA update is a row of A (r values) times B, per id.
    ids = None if None in shapes[0] else prod(shapes[0])
    macs = None if ids is None else product(num(ids), r, width_)
    return Inference(shape, weights, note=note, macs=macs)


register(Rule(
    name="Embedding", family="embedding", infer=_keras,
    args=(Arg("input_dim", positive), Arg("output_dim", positive), Arg("embeddings_initializer", anything, None),
          Arg("embeddings_regularizer", anything, None), Arg("embeddings_constraint", anything, None),
          Arg("mask_zero", boolean, False), Arg("weights", anything, None), Arg("lora_rank", optional(positive), None),
          Arg("lora_alpha", anything, None), Arg("quantization_config", anything, None),
          Arg("input_length", anything, None)),  # Keras 2's; Keras 3 warns and ignores it
    doc="Keras Embedding: embeddings (input_dim × output_dim); the output adds a last axis of output_dim.",
))


def _check_padding(padding_idx: int | None, rows: int) -> None:
    if padding_idx is not None and not -rows <= padding_idx < rows:
        raise RuleError(f"padding_idx={padding_idx} must be within num_embeddings={rows} (from {-rows} to {rows - 1})")


def _torch(a: Mapping[str, Any], shapes: Sequence[Shape], ctx: Context) -> Inference:
    rows, width = a["num_embeddings"], a["embedding_dim"]
    _check_padding(a["padding_idx"], rows)
    # _freeze is what Embedding.from_pretrained(freeze=True) passes: the table stops learning.
    return Inference((*shapes[0], width), (_table(rows, width, ctx, not a["_freeze"]),), macs=NO_MACS)


_NORMS = (Arg("max_norm", optional(number), None), Arg("norm_type", number, 2.0),
          Arg("scale_grad_by_freq", boolean, False))
register(Rule(
    name="Embedding", family="embedding", infer=_torch, framework=PYTORCH,
    args=(Arg("num_embeddings", positive), Arg("embedding_dim", positive), Arg("padding_idx", optional(integer), None),
          *_NORMS, Arg("sparse", boolean, False), Arg("_weight", anything, None), Arg("_freeze", boolean, False),
          Arg("device", anything, None), Arg("dtype", anything, None)),
    doc="PyTorch nn.Embedding: weight (num_embeddings × embedding_dim); the padding_idx row still counts.",
))


def _torch_bag(a: Mapping[str, Any], shapes: Sequence[Shape], ctx: Context) -> Inference:
    x, rows, width = shapes[0], a["num_embeddings"], a["embedding_dim"]
    if len(x) != 1:  # torch takes (batch, bag) ids, or flat ids with offsets, which a spec cannot give
        raise RuleError(f"expects a 1-D input of ids (one bag per example, batch excluded), got shape {shape_text(x)}")
    _check_padding(a["padding_idx"], rows)
    note = "" if ctx.pytorch else foreign("PyTorch", "Keras", "it has no EmbeddingBag")
    return Inference((width,), (_table(rows, width, Context(convention=PYTORCH)),), note=note, macs=NO_MACS)


register(Rule(
    name="EmbeddingBag", family="embedding", infer=_torch_bag, framework=PYTORCH,
    args=(Arg("num_embeddings", positive), Arg("embedding_dim", positive), *_NORMS,
          Arg("mode", choice("sum", "mean", "max"), "mean"), Arg("sparse", boolean, False),
          Arg("_weight", anything, None),
          Arg("include_last_offset", boolean, False), Arg("padding_idx", optional(integer), None),
          Arg("device", anything, None), Arg("dtype", anything, None)),
    doc="PyTorch nn.EmbeddingBag: weight (num_embeddings × embedding_dim); each bag of ids → one vector.",
))


def _scaled(a: Mapping[str, Any], shapes: Sequence[Shape], ctx: Context) -> Inference:
    inference = _torch(a, shapes, ctx)
    buffer = (Weight("embed_scale", (), trainable=False, buffer=True),) if a["scale_buffer"] else ()
    return replace(inference, weights=(*inference.weights, *buffer), macs=per_value_macs(inference.output_shape))


register(Rule(
    name="ScaledEmbedding", family="embedding", infer=_scaled, framework=PYTORCH,
    args=(Arg("num_embeddings", positive), Arg("embedding_dim", positive), Arg("padding_idx", optional(integer), None),
          Arg("embed_scale", optional(number), None), Arg("scale_buffer", boolean, True),
          Arg("_freeze", boolean, False)),
    doc="An nn.Embedding whose output is multiplied by embed_scale (Hugging Face's *ScaledWordEmbedding): "
        "weight (num_embeddings × embedding_dim), + the 0-d buffer embed_scale with scale_buffer; "
        "one MAC per output value.",
))


def _frequency_buffers(value: Any) -> tuple[str, ...]:
    names = (value,) if isinstance(value, str) else value
    if not isinstance(names, (list, tuple)) or not all(isinstance(n, str) and n for n in names):
        raise ArgumentError(None, f"must name the inverse-frequency buffers, such as ['inv_freq'], got {value!r}")
    return tuple(names)


def _rotary(a: Mapping[str, Any], shapes: Sequence[Shape], ctx: Context) -> Inference:
    dim = a["dim"]
    if dim % 2:
        raise RuleError(f"dim={dim} must be even: it holds dim / 2 frequencies, each for a cos and a sin")
    positions = shapes[1] if len(shapes) > 1 else shapes[0][:-1]  # (x, position_ids), or x alone
    half = num(dim // 2, "dim/2")
    buffers = tuple(Weight(name, (half,), trainable=False, buffer=True) for name in a["buffers"]) if ctx.pytorch else ()
    macs = None if None in positions else product(*(num(p) for p in positions), half)
    return Inference((*positions, dim), buffers, macs=macs)


register(Rule(
    name="RotaryEmbedding", family="embedding", infer=_rotary, framework=PYTORCH, arity=(1, 2),
    args=(Arg("dim", positive), Arg("buffers", _frequency_buffers, ("inv_freq",))),
    doc="Rotary position embedding (RoPE): no parameters; each of buffers holds dim / 2 inverse frequencies; "
        "(x, position_ids) → cos/sin tables (positions × dim); MACs positions × dim/2.",
))
