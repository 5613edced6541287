"""What kind of work a layer's MACs are: the split papers need.

Papers count the multiply-adds of convolutions and fully connected layers only ("FLOPs" in
He et al. 2016, "mult-adds" in Howard et al. 2017); learnable's total also counts
normalization, pooling and the rest. Each rule declares the kind of its MACs (a family's
default, ``FAMILY_KINDS``, unless the rule says otherwise), and a rule whose MACs are work
of several kinds (an attention layer's projections and its scores) gives the split itself
(``Inference.macs_split``), so the report can total the MACs by kind and give the paper
figure, conv + fully connected.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from ..expr import Expr, num, product, total

CONVOLUTION = "convolution"  # Conv, depthwise, separable, transposed
FULLY_CONNECTED = "fully_connected"  # Dense/Linear, and the projections inside attention layers
ATTENTION = "attention"  # an attention layer's scores (Q·Kᵀ) and weighted sum of the values
MATMUL = "matmul"  # a product of two tensors the network computes (a @ b, Dot): not known which
RECURRENT = "recurrent"  # RNN, LSTM, GRU, ConvLSTM: their kernels at every step
NORMALIZATION = "normalization"  # BatchNorm, LayerNorm, ...: the scale and shift of every value
POOLING = "pooling"  # average pooling's sums (max pooling: 0)
OTHER = "other"  # resizing, rescaling, reductions; and the layers that do no MACs at all
KINDS = (CONVOLUTION, FULLY_CONNECTED, ATTENTION, MATMUL, RECURRENT, NORMALIZATION, POOLING, OTHER)
# A row whose MACs are of several kinds (its ``macs_by_kind`` says how they split).
MIXED = "mixed"

# What papers count: "multiply-adds" of the convolutional and fully connected layers.
PAPER_KINDS = (CONVOLUTION, FULLY_CONNECTED)

FAMILY_KINDS = {
    "conv": CONVOLUTION,
    "dense": FULLY_CONNECTED,
    "attention": ATTENTION,
    "transformer": ATTENTION,  # its rules split their MACs; this is only the layer's kind
    "recurrent": RECURRENT,
    "norm": NORMALIZATION,
    "pooling": POOLING,
}

Split = tuple[tuple[str, Expr], ...]  # (kind, MACs) pairs, in KINDS order, each kind once


def split(*parts: tuple[str, Expr]) -> Split:
    """The parts merged by kind (a kind met twice is summed), in KINDS order."""
    by_kind: dict[str, list[Expr]] = {}
    for kind, expr in parts:
        by_kind.setdefault(kind, []).append(expr)
    return tuple((kind, total(*by_kind[kind])) for kind in KINDS if kind in by_kind)


def merge(splits: Iterable[Split]) -> Split:
    return split(*(part for each in splits for part in each))


def scaled(factor: int | Expr, parts: Split) -> Split:
    """Each part times ``factor`` (a stack of identical layers, the steps of a sequence)."""
    factor = num(factor) if isinstance(factor, int) else factor
    return tuple((kind, product(factor, expr)) for kind, expr in parts)


def own_split(rule: Any, inference: Any) -> Split:
    """An inference's split: the one its rule gave, else all its MACs of the rule's kind;
    () when its MACs are not known. (A nested layer's, for the rule around it.)"""
    if inference.macs is None:
        return ()
    return inference.macs_split or ((rule.macs_kind, inference.macs),)


def label(kind: str) -> str:
    """``fully_connected`` → ``fully connected``: the kind as a sentence reads it."""
    return kind.replace("_", " ")


def kind_of(parts: Sequence[tuple[str, int]], default: str) -> str:
    """A row's kind: the one kind its MACs are (``default`` when they are none), else MIXED."""
    kinds = [kind for kind, macs in parts if macs]
    return default if not kinds else kinds[0] if len(kinds) == 1 else MIXED
