"""Memory: parameter bytes by dtype, activations per layer, and estimates for inference
and for training, each term an expression that shows its arithmetic.

Inference holds the weights (and PyTorch's buffers) and, at its peak, the activations that
are alive at once: a layer's output lives from the layer that makes it to the last layer
that reads it. Training holds the weights, a gradient for each trainable parameter, the
optimizer's state and every layer's output, kept for the backward pass:
  SGD            no state                    momentum   one buffer per parameter
  Adam, AdamW    exp_avg and exp_avg_sq, plus a 0-d float32 ``step`` per parameter tensor
                 (torch 2.13 keeps it as a tensor)
With --dtype fp16/bf16 training is mixed precision: 16-bit weights and gradients, an fp32
master copy of the trainable weights and fp32 optimizer state (2 + 2 + 4 + 8 = 16 bytes
per parameter for Adam, as in the ZeRO paper). int8 and int4 are for inference: int8
activations are int8 too; int4 is weight-only, with fp16 activations.
Activations are estimates (in-place operations, views and what each framework chooses
to save for backward change them); the parameter terms are exact.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .errors import LearnableError
from .expr import Expr, ceil_div, num, product, total
from .report import LayerRow, Report

DTYPE_BITS = {"fp32": 32, "fp16": 16, "bf16": 16, "int8": 8, "int4": 4}
ACTIVATION_DTYPE = {"fp32": "fp32", "fp16": "fp16", "bf16": "bf16", "int8": "int8", "int4": "fp16"}
# Optimizer → state tensors kept per trainable parameter, and whether it keeps a step tensor.
OPTIMIZERS = {"sgd": (0, False), "momentum": (1, False), "adam": (2, True), "adamw": (2, True)}
STEP_BYTES = 4  # a 0-d float32 tensor


@dataclass(frozen=True, slots=True)
class Term:
    label: str
    bytes: Expr  # the arithmetic that gives the bytes

    def to_dict(self) -> dict:
        return {"label": self.label, "bytes": self.bytes.value, "formula": str(self.bytes)}


@dataclass(frozen=True, slots=True)
class MemoryEstimate:
    dtype: str
    batch: int
    optimizer: str | None
    activations: tuple[int | None, ...]  # bytes of each layer's output, in report order
    inference: tuple[Term, ...]
    training: tuple[Term, ...] = ()
    unknown: tuple[str, ...] = ()  # layers whose output size is unknown: the estimates leave them out

    @property
    def inference_bytes(self) -> int:
        return sum(t.bytes.value for t in self.inference)

    @property
    def training_bytes(self) -> int:
        return sum(t.bytes.value for t in self.training)

    def to_dict(self) -> dict:
        return {
            "dtype": self.dtype, "batch": self.batch, "optimizer": self.optimizer,
            "activations": list(self.activations),
            "inference": [t.to_dict() for t in self.inference], "inference_bytes": self.inference_bytes,
            "training": [t.to_dict() for t in self.training],
            "training_bytes": self.training_bytes if self.training else None,
            "unknown": list(self.unknown),
        }


def estimate(report: Report, *, dtype: str = "fp32", batch: int = 1, optimizer: str | None = None) -> MemoryEstimate:
    """The memory ``report``'s network needs at ``batch`` examples in ``dtype``; with an
    ``optimizer`` ("sgd", "momentum", "adam", "adamw"), for training too."""
    _check(dtype, batch, optimizer)
    act = ACTIVATION_DTYPE[dtype]
    sizes = [_values(row) for row in report.layers]
    inference = [*_weight_terms(report, dtype), _peak_term(report, sizes, act, batch)]
    training = _training_terms(report, dtype, optimizer, sizes, batch) if optimizer else ()
    return MemoryEstimate(
        dtype, batch, optimizer,
        activations=tuple(None if s is None else batch * s.value * DTYPE_BITS[act] // 8 for s in sizes),
        inference=tuple(inference), training=tuple(training),
        unknown=tuple(row.name for row, s in zip(report.layers, sizes) if s is None),
    )


# A batch bigger than any machine holds: bounded before the arithmetic, so a 5,000-digit batch
# is one line, not Python's "Exceeds the limit (4300 digits)" advice to call sys.set_int_max_str_digits().
MAX_BATCH = 1_000_000_000


def _check(dtype: str, batch: int, optimizer: str | None) -> None:
    if not isinstance(dtype, str) or dtype not in DTYPE_BITS:  # (values may come from a request's JSON)
        raise LearnableError(f"dtype must be one of {', '.join(DTYPE_BITS)}, got {dtype!r}")
    if isinstance(batch, bool) or not isinstance(batch, int) or not 1 <= batch <= MAX_BATCH:
        # (a batch of 5,000 digits cannot even be written: repr raises past 4,300 digits)
        got = f"{batch!r}" if not isinstance(batch, int) or -10**12 < batch < 10**12 else "a larger number"
        raise LearnableError(f"batch must be a whole number from 1 to {MAX_BATCH:,}, got {got}")
    if optimizer is not None and (not isinstance(optimizer, str) or optimizer not in OPTIMIZERS):
        raise LearnableError(f"optimizer must be one of {', '.join(OPTIMIZERS)}, got {optimizer!r}")
    if optimizer is not None and dtype in ("int8", "int4"):
        raise LearnableError(f"training in {dtype} is not estimated: use fp32, or fp16/bf16 for mixed precision")


def _bytes(values: Expr | int, bits: int) -> Expr:
    """``values × 4`` bytes; int4 packs two values a byte: ``⌈values/2⌉``."""
    if bits >= 8:
        return product(values, num(bits // 8))
    return ceil_div(values, num(8 // bits))


def _values(row: LayerRow) -> Expr | None:
    """Values in a layer's output for one example: ``24×24×64``."""
    if row.activations is None:
        return None
    return product(*(num(d) for d in row.output_shape)) if len(row.output_shape) > 1 else num(row.activations)


def _batch_bytes(batch: int, values: Sequence[Expr], act: str) -> Expr:
    """``32×(26×26×32 + 24×24×64)×4``: activations are never packed below a byte."""
    if not values:
        return num(0)
    return product(*([num(batch)] if batch > 1 else []), total(*values), num(DTYPE_BITS[act] // 8))


def _weight_terms(report: Report, dtype: str) -> list[Term]:
    bits = DTYPE_BITS[dtype]
    terms = [Term(f"weights ({report.total_params:,} params, {dtype})", _bytes(report.total_params, bits))]
    if report.total_buffers:
        # Running statistics are in the weights' float type; BatchNorm's num_batches_tracked
        # counter is an int64, 8 bytes, whatever the dtype.
        counters = sum(1 for row in report.layers for w in row.weights
                       if w.buffer and w.name.endswith("num_batches_tracked"))
        floats = report.total_buffers - counters
        parts = [_bytes(floats, bits)] * bool(floats) + [product(num(counters), num(8))] * bool(counters)
        terms.append(Term(f"buffers ({report.total_buffers:,}, {dtype}; int64 counters)" if counters
                          else f"buffers ({report.total_buffers:,}, {dtype})", total(*parts)))
    return terms


def _peak_term(report: Report, sizes: Sequence[Expr | None], act: str, batch: int) -> Term:
    """The most activation bytes alive at once, walking the layers in order."""
    names, peak_at = _peak(report.layers, sizes)
    live = [sizes[i] for i in names]
    held = ", ".join(report.layers[i].name for i in names) if len(names) <= 3 else f"{len(names)} layers' outputs"
    label = f"activations at the peak ({held}), batch {batch}, {act}"
    return Term(label, _batch_bytes(batch, live, act))


def _peak(layers: Sequence[LayerRow], sizes: Sequence[Expr | None]) -> tuple[list[int], int]:
    """The layers whose outputs are alive together at the peak (their indices), and where.
    A layer's output is made while its inputs are still held; an input is freed after its
    last reader, and an output nothing reads is the network's, kept to the end."""
    index = {row.name: i for i, row in enumerate(layers)}
    last_use = list(range(len(layers)))
    for i, row in enumerate(layers):
        for source in _inputs(row, i, layers):
            last_use[index[source]] = max(last_use[index[source]], i)
    best: tuple[int, list[int], int] = (-1, [], 0)
    alive: set[int] = set()
    for i in range(len(layers)):
        alive.add(i)
        held = sorted(j for j in alive if sizes[j] is not None)
        amount = sum(sizes[j].value for j in held)
        if amount > best[0]:
            best = (amount, held, i)
        alive = {j for j in alive if last_use[j] > i or last_use[j] == j}
    return best[1], best[2]


def _inputs(row: LayerRow, i: int, layers: Sequence[LayerRow]) -> tuple[str, ...]:
    """A layer's inputs; an imported layer traced without wiring reads the one before it
    (an input, a Parameter, a Constant, and a buffer that model code uses read nothing)."""
    if row.inputs or i == 0 or row.type in ("Input", "InputLayer", "Parameter", "Constant", "buffer"):
        return row.inputs
    return (layers[i - 1].name,)


def _training_terms(report: Report, dtype: str, optimizer: str, sizes: Sequence[Expr | None],
                    batch: int) -> list[Term]:
    states, step = OPTIMIZERS[optimizer]
    mixed = dtype in ("fp16", "bf16")
    bits = DTYPE_BITS[dtype]
    trainable = report.trainable_params
    terms = _weight_terms(report, dtype)
    terms.append(Term(f"gradients ({trainable:,} trainable params, {dtype})", _bytes(trainable, bits)))
    if mixed:
        terms.append(Term(f"fp32 master copy of the {trainable:,} trainable params", _bytes(trainable, 32)))
    if states:
        kept = "momentum_buffer" if optimizer == "momentum" else "exp_avg and exp_avg_sq"
        state_bits = 32 if mixed else bits
        terms.append(Term(f"{optimizer} state ({kept}, {'fp32' if mixed else dtype})",
                          product(num(states), _bytes(trainable, state_bits))))
    if step:
        tensors = sum(1 for row in report.layers for w in row.weights if w.trainable and not w.buffer)
        terms.append(Term(f"{optimizer} step (a 0-d float32 for each of {tensors:,} trainable tensors)",
                          product(num(tensors), num(STEP_BYTES))))
    known = [s for s in sizes if s is not None]
    act = ACTIVATION_DTYPE[dtype]
    terms.append(Term(f"activations kept for backward (every layer's output, batch {batch}, {act})",
                      _batch_bytes(batch, known, act)))
    return terms
