"""Compute per token and for training: MACs per token at a context, training FLOPs for D
tokens two ways (6·N·D and the per-layer sum), and the time they take at a throughput.

**Per token at context C**, read from the graph's layers: a network counted on one sequence
of L tokens does, in each layer, work that grows with L (projections, MLPs, norms, the head:
MACs/L per token) and work that grows with L×L (the scores q·kᵀ and the weighted sum of the
values: a layer's ``attention`` MACs, and ``matmul`` MACs between two computed tensors, which
is how attention written out as MatMuls counts). One token that attends to C tokens does
MACs/(L×L) × C of the latter, or MACs/(L×L) × min(C, window) in a layer whose block keeps a
sliding window (its ``kv_cache``). So per token = Σ linear/L + Σ attention/(L×L) × keys. A
mixture of experts' layers are counted on its active path already (report.py), so this is the
active path's too. It needs a network whose input is one sequence of token ids (a language
model from a Hugging Face config, GGUF file, or code with ``--input N:int``).

**Training FLOPs for D tokens**, side by side:
  6·N·D       Kaplan et al. 2020 (C ≈ 6N per token: forward 2N, backward twice the forward) and
              Hoffmann et al. 2022; N here is the parameters a token uses (all of them in a dense
              network, the active path's in a mixture), embeddings included, as Brown et al. 2020
              (Table D.1) and Hoffmann et al. count N. Kaplan et al. leave the embeddings out: that
              N is shown too. 6·N·D leaves out attention's q·kᵀ and ·v and counts the embedding
              lookups as if they were matrix products.
  per layer   3 × 2 × (forward MACs per token at the training sequence length) × D: 2 FLOPs per
              MAC, and forward + backward = 3 forwards (the backward computes gradients for both
              inputs and weights, twice the forward's work), with the attention term included.
**Time** = FLOPs / (GPUs × peak FLOP/s × MFU), MFU the model FLOPs utilization: the fraction
of the peak a training run achieves (0.4 by default, typical of large dense training; PaLM
reported 46.2%, Chowdhery et al. 2022).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from .errors import LearnableError
from .expr import Expr, num, product, quotient, total
from .report import Report
from .rules._kinds import ATTENTION, MATMUL

EMBEDDINGS = ("Embedding", "ScaledEmbedding")  # a lookup table: params, no MACs
INPUTS = ("Input", "InputLayer")
WEIGHTS = ("Parameter", "Constant")  # a MatMul by one of these is a linear layer, not attention
DEFAULT_MFU = Fraction(2, 5)


@dataclass(frozen=True, slots=True)
class PerToken:
    """The MACs one token costs at ``context`` tokens, from a report counted on ``sequence``."""

    context: int
    sequence: int
    macs: Expr  # Σ linear/L + Σ attention/(L×L) × keys
    linear: int  # of those, the part that does not grow with the context
    attention: int  # the part that does: q·kᵀ and the weighted sum

    def to_dict(self) -> dict:
        return {"context": self.context, "sequence": self.sequence, "macs": self.macs.value,
                "formula": str(self.macs), "linear_macs": self.linear, "attention_macs": self.attention}


def sequence_length(report: Report) -> int | None:
    """L: the tokens of a network whose one input is a sequence of token ids, shape (L,)."""
    inputs = [row for row in report.layers if row.type in INPUTS]
    if len(inputs) != 1 or len(inputs[0].output_shape) != 1:
        return None
    return inputs[0].output_shape[0]


def per_token(report: Report, context: int | None = None) -> PerToken:
    """MACs per token at ``context`` (default: the counted sequence), read layer by layer."""
    length = sequence_length(report)
    if length is None:
        raise LearnableError("MACs per token need a network whose input is one sequence of token ids, shape "
                             "(tokens,): a language model (a Hugging Face config or folder, a GGUF file, or code "
                             "with --input N:int)")
    if report.macs_unknown:
        raise LearnableError(f"MACs per token are not known: {len(report.macs_unknown):,} layer(s) have unknown "
                             f"MACs ({', '.join(report.macs_unknown[:3])})")
    context = length if context is None else context
    linear, by_keys = _split(report, context)
    square = length * length
    if linear % length or any(macs % square for macs in by_keys.values()):
        raise LearnableError(f"MACs per token are not known: some layer's MACs are not a multiple of the "
                             f"{length:,} tokens (or {length:,}² for attention) it was counted on")
    seq = num(length, "L")
    parts = [quotient(num(linear), seq)] + [product(quotient(num(macs), product(seq, seq)), num(keys))
                                            for keys, macs in sorted(by_keys.items())]
    attention = sum(macs // square * keys for keys, macs in by_keys.items())
    return PerToken(context, length, total(*parts), linear // length, attention)


def _split(report: Report, context: int) -> tuple[int, dict[int, int]]:
    """(MACs that grow with L, {keys a token attends to: MACs that grow with L×L})."""
    types = {row.name: row.type for row in report.layers}
    windows = {row.block: row.kv_cache.window for row in report.layers if row.kv_cache and row.kv_cache.window}
    linear, by_keys = 0, {}
    for row in report.layers:
        kinds = dict(row.macs_by_kind)
        square = kinds.get(ATTENTION, 0)
        if kinds.get(MATMUL) and not any(types.get(name) in WEIGHTS for name in row.inputs):
            square += kinds[MATMUL]
        linear += row.macs - square
        if square:
            keys = min(context, windows.get(row.block) or context)
            by_keys[keys] = by_keys.get(keys, 0) + square
    return linear, by_keys


@dataclass(frozen=True, slots=True)
class Throughput:
    """What trains: ``gpus`` × ``peak`` FLOP/s each, at ``mfu`` of it."""

    peak: int
    mfu: Fraction = DEFAULT_MFU
    gpus: int = 1
    name: str = ""  # the accelerator's, "" for an explicit --peak-flops
    source: str = ""

    @property
    def flops(self) -> Fraction:
        return self.gpus * self.peak * self.mfu

    def seconds(self, flops: int) -> float:
        return float(flops / self.flops)

    def text(self) -> str:
        each = f"{self.peak / 1e12:,.1f} TFLOP/s peak" + (f", {self.source}" if self.source else "")
        return f"{self.gpus:,} × {self.name or 'GPU'} ({each}) × MFU {float(self.mfu):g}"

    def to_dict(self) -> dict:
        return {"gpu": self.name or None, "gpus": self.gpus, "peak_flops": self.peak, "mfu": float(self.mfu),
                "source": self.source or None, "flops": float(self.flops)}


@dataclass(frozen=True, slots=True)
class Training:
    """Training FLOPs for ``tokens`` tokens: 6·N·D and the per-layer sum, and their time."""

    tokens: int
    params: int  # N: the parameters a token uses, embeddings included
    embedding: int  # of those, the embedding tables' (Kaplan et al.'s N leaves them out)
    six_nd: Expr
    per_layer: Expr | None  # None: the MACs per token are not known
    throughput: Throughput | None = None

    @property
    def six_nd_non_embedding(self) -> Expr:
        return product(num(6), num(self.params - self.embedding), num(self.tokens))

    def to_dict(self) -> dict:
        time = self.throughput
        return {
            "tokens": self.tokens, "n": self.params, "n_non_embedding": self.params - self.embedding,
            "six_nd": {"flops": self.six_nd.value, "formula": str(self.six_nd)},
            "six_nd_non_embedding": {"flops": self.six_nd_non_embedding.value,
                                     "formula": str(self.six_nd_non_embedding)},
            "per_layer": None if self.per_layer is None else {"flops": self.per_layer.value,
                                                               "formula": str(self.per_layer)},
            "throughput": None if time is None else time.to_dict(),
            "seconds": None if time is None else {
                "six_nd": time.seconds(self.six_nd.value),
                "per_layer": None if self.per_layer is None else time.seconds(self.per_layer.value)},
        }


def training(report: Report, tokens: int, per: PerToken | None, throughput: Throughput | None = None) -> Training:
    """6·N·D and, where the MACs per token are known, 3 × 2 × MACs per token × D."""
    n = report.active_params
    embedding = sum(row.active_total for row in report.layers if row.type in EMBEDDINGS)
    d = num(tokens, "D")
    per_layer = product(num(3), num(2), num(per.macs.value), d) if per else None
    return Training(tokens, n, embedding, product(num(6), num(n, "N"), d), per_layer, throughput)


@dataclass(frozen=True, slots=True)
class Compute:
    """Everything ``--tokens``, ``--gpu`` and ``--context`` ask of the compute: JSON's ``compute``."""

    per_token: PerToken | None
    flops_per_mac: int
    training: Training | None = None
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        per = self.per_token
        return {
            "per_token": None if per is None else per.to_dict(),
            "flops_per_token": None if per is None else per.macs.value * self.flops_per_mac,
            "flops_per_mac": self.flops_per_mac,
            "training": None if self.training is None else self.training.to_dict(),
            "notes": list(self.notes),
        }


def compute(report: Report, *, context: int | None = None, tokens: int | None = None,
            throughput: Throughput | None = None, flops_per_mac: int = 2) -> Compute:
    """Per-token MACs at ``context``, and with ``tokens`` the training FLOPs and their time."""
    notes: list[str] = []
    try:
        per = per_token(report, context)
    except LearnableError as err:
        per, notes = None, [str(err)]
    train = None
    if tokens is not None:
        if per is None:
            notes.append("the per-layer training FLOPs need the MACs per token: only 6·N·D is given")
        train = training(report, tokens, per, throughput)
    return Compute(per, flops_per_mac, train, tuple(notes))
