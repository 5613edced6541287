"""Does it fit? The largest batch (and, for inference, the largest context) that fits in a
GPU's memory, solved from the memory estimate's terms (memory.py), and the term that
dominates.

Every term is either fixed (weights, buffers, gradients, the optimizer's state: they do not
depend on the batch) or the batch times its value at batch 1 (the KV cache, the activations):
memory(B) = fixed + B × per_example, so the largest batch is ⌊(memory − fixed)/per_example⌋,
worked out, not searched. With a context the KV cache per sequence is Σ bytes per token ×
min(C, window) over its groups of alike layers, a piecewise-linear function of C, and the
largest context at the chosen batch is solved on its linear pieces (one per distinct window).
The activations are those of one forward pass over the sequence the network was counted on
(a language model's prefill of L tokens: --input N to change), held at that length.
"""

from __future__ import annotations

from dataclasses import dataclass

from ._memory_inference import KV_BYTES
from .expr import Expr, floor_div, minus, num, total
from .memory import MemoryEstimate, Term, estimate
from .report import KVCache, Report

PER_EXAMPLE = ("kv_cache", "activations")  # the terms that are the batch × their batch-1 value


@dataclass(frozen=True, slots=True)
class Fit:
    """The largest batch of ``what`` ("inference" or "training") that fits in ``memory`` bytes."""

    what: str
    memory: int
    fixed: tuple[Term, ...]
    per_example: tuple[Term, ...]  # at batch 1
    max_batch: int | None  # None: no term grows with the batch (any batch fits the fixed terms)
    batch_formula: Expr | None
    context: int | None = None  # the context the KV cache was taken at
    max_context: int | None = None  # at ``context_batch`` sequences; None: not asked, or not known
    context_batch: int = 1
    context_formula: str = ""
    context_unbounded: bool = False  # every layer's cache stops at a window, and the most fits

    @property
    def fixed_bytes(self) -> int:
        return sum(t.bytes.value for t in self.fixed)

    @property
    def per_example_bytes(self) -> int:
        return sum(t.bytes.value for t in self.per_example)

    def total(self, batch: int) -> int:
        """The bytes at ``batch``, from the linear terms."""
        return self.fixed_bytes + batch * self.per_example_bytes

    def largest(self, batch: int | None = None) -> tuple[str, str, int]:
        """(key, label, bytes) of the largest term at ``batch`` (default: the largest that fits, or 1)."""
        batch = batch or max(self.max_batch or 1, 1)
        terms = [(t.key, t.label, t.bytes.value) for t in self.fixed]
        terms += [(t.key, t.label, batch * t.bytes.value) for t in self.per_example]
        return max(terms, key=lambda t: t[2])

    def to_dict(self) -> dict:
        key, label, size = self.largest()
        return {
            "memory_bytes": self.memory, "fixed_bytes": self.fixed_bytes, "per_example_bytes": self.per_example_bytes,
            "fixed": [t.to_dict() for t in self.fixed], "per_example": [t.to_dict() for t in self.per_example],
            "max_batch": self.max_batch, "batch_formula": None if self.batch_formula is None else str(self.batch_formula),
            "largest_term": {"key": key, "label": label, "bytes": size},
            "context": self.context, "max_context": self.max_context, "context_batch": self.context_batch,
            "context_formula": self.context_formula or None, "context_unbounded": self.context_unbounded,
        }


@dataclass(frozen=True, slots=True)
class FitReport:
    """JSON's ``fit``: for a GPU (or a memory size), inference and, with an optimizer, training."""

    memory: int
    gpu: str | None
    inference: Fit
    training: Fit | None = None

    def to_dict(self) -> dict:
        return {"memory_bytes": self.memory, "gpu": self.gpu, "inference": self.inference.to_dict(),
                "training": None if self.training is None else self.training.to_dict()}


def fit(report: Report, memory: int, *, gpu: str | None = None, dtype: str | None = None, batch: int = 1,
        optimizer: str | None = None, context: int | None = None, kv_dtype: str | None = None) -> FitReport:
    """What fits in ``memory`` bytes with the set-up memory.estimate takes (at batch 1)."""
    one = estimate(report, dtype=dtype, batch=1, optimizer=optimizer, context=context, kv_dtype=kv_dtype)
    inference = _fit("inference", one.inference, memory)
    if context is not None and one.kv_per_token is not None:
        inference = _with_context(inference, report, one, batch)
    training = _fit("training", one.training, memory) if optimizer else None
    return FitReport(memory, gpu, inference, training)


def _fit(what: str, terms: tuple[Term, ...], memory: int) -> Fit:
    fixed = tuple(t for t in terms if t.key not in PER_EXAMPLE)
    per = tuple(t for t in terms if t.key in PER_EXAMPLE)
    fixed_bytes = sum(t.bytes.value for t in fixed)
    per_bytes = sum(t.bytes.value for t in per)
    if not per_bytes:
        return Fit(what, memory, fixed, per, None, None)
    if fixed_bytes > memory:
        return Fit(what, memory, fixed, per, 0, None)
    formula = floor_div(minus(num(memory), num(fixed_bytes)), total(*(num(t.bytes.value) for t in per)))
    return Fit(what, memory, fixed, per, formula.value, formula)


def _groups(report: Report) -> dict[KVCache, int]:
    groups: dict[KVCache, int] = {}
    for row in report.layers:
        if row.kv_cache is not None:
            groups[row.kv_cache] = groups.get(row.kv_cache, 0) + 1
    return groups


def _with_context(base: Fit, report: Report, one: MemoryEstimate, batch: int) -> Fit:
    """The largest context at ``batch`` sequences: fixed + batch × (activations + KV(C)) ≤ memory."""
    size = KV_BYTES[one.kv_dtype]
    # (window or None, bytes per token of context) for each group of alike layers
    groups = [(kv.window, kv.per_token * n * size) for kv, n in _groups(report).items()]
    activations = sum(t.bytes.value for t in base.per_example if t.key == "activations")
    room = base.memory - base.fixed_bytes - batch * activations
    budget = room // batch if room >= 0 else -1  # KV bytes one sequence may hold
    if budget < 0:  # nothing is left for a cache: say what overflows, not a negative budget
        where = (f"{base.memory:,} − {base.fixed_bytes:,} − {batch:,}×{activations:,} = {room:,} B: no room for a "
                 "KV cache")
    else:
        where = (f"⌊({base.memory:,} − {base.fixed_bytes:,} − {batch:,}×{activations:,})/{batch:,}⌋ = {budget:,} B "
                 f"for each sequence's KV cache")
    found, unbounded, how = _solve_context(groups, budget)
    return Fit(base.what, base.memory, base.fixed, base.per_example, base.max_batch, base.batch_formula,
               one.context, found, batch, f"{where}; {how}", unbounded)


def _solve_context(groups: list[tuple[int | None, int]], budget: int) -> tuple[int | None, bool, str]:
    """The largest C with Σ bytes × min(C, window) ≤ budget, on the linear pieces between
    windows: (C, unbounded, arithmetic)."""
    if budget < 0:
        return 0, False, "the fixed terms and the activations alone do not fit"
    edges = sorted({w for w, _ in groups if w})
    start = 0
    for end in [*edges, None]:
        saturated = sum(b * w for w, b in groups if w and w <= start)  # caches already full at C ≥ start
        growing = sum(b for w, b in groups if not w or w > start)  # bytes per further token
        if not growing:
            return None, True, f"every layer's cache stops at its window: {saturated:,} B ≤ {budget:,} B at any context"
        c = (budget - saturated) // growing
        if end is None or c <= end:
            c = max(c, 0)
            text = f"C = ⌊({budget:,} − {saturated:,})/{growing:,}⌋ = {c:,}" if saturated else \
                f"C = ⌊{budget:,}/{growing:,}⌋ = {c:,}"
            return c, False, text
        start = end
    raise AssertionError("unreachable")

