"""Embeddings: Embedding (Keras), Embedding and EmbeddingBag (PyTorch).

One table of vectors, ``rows × width``, all trainable (CONVENTIONS.md §1):
  Keras    embeddings (input_dim, output_dim); mask_zero changes nothing.
  PyTorch  weight (num_embeddings, embedding_dim); the padding_idx row is still counted
           (it only gets no gradient), and EmbeddingBag holds the same table.
The input holds integer ids: Embedding adds a last axis of the vector width, (seq,) →
(seq, width); EmbeddingBag reduces each bag, (n,) → (width,). Keras's LoRA (lora_rank=r)
freezes the table and adds lora_embeddings_a (input_dim, r) and lora_embeddings_b
(r, output_dim), which PyTorch has no module for.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from math import prod
from typing import Any

from ..errors import RuleError
from ..expr import num, product
from ._args import Arg, anything, boolean, choice, integer, number, optional, positive
from ._base import NO_MACS, Context, Inference, Rule, Shape, Weight, shape_text
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
