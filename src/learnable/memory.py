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
With LoRA adapters (lora.py) only the adapters are trainable, so gradients and optimizer
state are theirs alone. QLoRA is --dtype int4 (or int8) with LoRA: as bitsandbytes
quantizes a model for it, the Linear layers' weights (but the output head's) are stored
at 4 (8) bits and everything else, the adapters too, in bf16; the adapters train in mixed
precision (bf16 gradients, fp32 master copy and fp32 optimizer state). Quantization
constants (NF4's block scales) are not in this estimate.
Activations are estimates (in-place operations, views and what each framework chooses
to save for backward change them); the parameter terms are exact.

Weights are in the chosen ``dtype`` (fp8: one byte, bf16 activations), or, with no dtype,
as the source stores them where every layer's storage is known (a GGUF file's types by
their blocks: Q4_K is 256 weights in 144 bytes, 4.5 bits each; a quantized checkpoint's
packed weights, and their scales, zeros and absmax as a separate term), else fp32.
The KV cache at a ``context`` of tokens is read from the layers that declare what they keep
(``kv_cache``: keys and values of heads × head size, or MLA's one latent, up to a sliding
window): Σ tensors × layers × heads × head size × tokens × batch × bytes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ._memory_inference import all_stored, kv_terms, stored_terms
from .errors import LearnableError
from .expr import Expr, ceil_div, num, product, total
from .report import LayerRow, Report

DTYPE_BITS = {"fp32": 32, "fp16": 16, "bf16": 16, "fp8": 8, "int8": 8, "int4": 4}
ACTIVATION_DTYPE = {"fp32": "fp32", "fp16": "fp16", "bf16": "bf16", "fp8": "bf16", "int8": "int8", "int4": "fp16"}
KV_DTYPES = ("fp32", "fp16", "bf16", "fp8", "int8")  # a cache entry is at least a byte
STORED = "as stored"  # the dtype's name when the weights are counted as the source stores them
# Optimizer → state tensors kept per trainable parameter, and whether it keeps a step tensor.
OPTIMIZERS = {"sgd": (0, False), "momentum": (1, False), "adam": (2, True), "adamw": (2, True)}
STEP_BYTES = 4  # a 0-d float32 tensor


@dataclass(frozen=True, slots=True)
class Term:
    label: str
    bytes: Expr  # the arithmetic that gives the bytes
    key: str = ""  # stable, for JSON: weights, buffers, kv_cache, activations, gradients, ...

    def to_dict(self) -> dict:
        return {"key": self.key, "label": self.label, "bytes": self.bytes.value, "formula": str(self.bytes)}


@dataclass(frozen=True, slots=True)
class MemoryEstimate:
    dtype: str
    batch: int
    optimizer: str | None
    activations: tuple[int | None, ...]  # bytes of each layer's output, in report order
    inference: tuple[Term, ...]
    training: tuple[Term, ...] = ()
    unknown: tuple[str, ...] = ()  # layers whose output size is unknown: the estimates leave them out
    context: int | None = None  # tokens of context for the KV cache
    kv_dtype: str | None = None
    kv_per_token: Term | None = None  # the cache's bytes per token of context, all layers
    notes: tuple[str, ...] = ()  # what could not be estimated, and why
    parallel: Any = None  # the training set-up at scale (parallel.Parallel), when given
    per_gpu: tuple[Term, ...] = ()  # what one GPU holds under it
    cpu: tuple[Term, ...] = ()  # what each GPU's process keeps on the host (offload)
    deepspeed: tuple[Term, ...] = ()  # DeepSpeed's own estimator, to compare (ZeRO-2/3)

    @property
    def inference_bytes(self) -> int:
        return sum(t.bytes.value for t in self.inference)

    @property
    def training_bytes(self) -> int:
        return sum(t.bytes.value for t in self.training)

    @property
    def per_gpu_bytes(self) -> int:
        return sum(t.bytes.value for t in self.per_gpu)

    def to_dict(self) -> dict:
        return {
            "dtype": self.dtype, "batch": self.batch, "optimizer": self.optimizer,
            "activations": list(self.activations),
            "inference": [t.to_dict() for t in self.inference], "inference_bytes": self.inference_bytes,
            "training": [t.to_dict() for t in self.training],
            "training_bytes": self.training_bytes if self.training else None,
            "unknown": list(self.unknown), "context": self.context, "kv_dtype": self.kv_dtype,
            "kv_cache_per_token": None if self.kv_per_token is None else self.kv_per_token.to_dict(),
            "notes": list(self.notes), **self._parallel_dict(),
        }

    def _parallel_dict(self) -> dict:
        if self.parallel is None:
            return {}
        return {"parallel": self.parallel.to_dict(), "per_gpu": [t.to_dict() for t in self.per_gpu],
                "per_gpu_bytes": self.per_gpu_bytes, "cpu": [t.to_dict() for t in self.cpu],
                "cpu_bytes": sum(t.bytes.value for t in self.cpu), "deepspeed": [t.to_dict() for t in self.deepspeed]}


def estimate(report: Report, *, dtype: str | None = None, batch: int = 1, optimizer: str | None = None,
             context: int | None = None, kv_dtype: str | None = None, parallel: Any = None) -> MemoryEstimate:
    """The memory ``report``'s network needs at ``batch`` examples in ``dtype`` (None: the
    weights as the source stores them, where it says, else fp32); with an ``optimizer``
    ("sgd", "momentum", "adam", "adamw"), for training too (of LoRA's adapters alone where the
    report is fine-tuned with LoRA); with a ``context`` of tokens, the KV cache in ``kv_dtype``
    (default: the activations' dtype); with ``parallel`` (a parallel.Parallel or a mapping of its
    fields: gpus, zero, tp, pp, offload, recompute, ...), what one GPU holds (parallel.py)."""
    stored = dtype is None and all_stored(report)
    dtype = dtype or "fp32"
    _check(dtype, batch, optimizer, report.lora is not None)
    act = ACTIVATION_DTYPE[dtype]
    kv_dtype = kv_dtype or (act if act in KV_DTYPES else "fp16")
    _check_context(context, kv_dtype)
    sizes = [_values(row) for row in report.layers]
    weights = stored_terms(report) if stored else _weight_terms(report, dtype)
    kv, per_token, notes = kv_terms(report, context, batch, kv_dtype) if context else ([], None, ())
    inference = [*weights, *kv, _peak_term(report, sizes, act, batch)]
    training = _training_terms(report, dtype, optimizer, sizes, batch) if optimizer else ()
    scale = _at_scale(report, dtype, optimizer, parallel) if parallel is not None else {}
    return MemoryEstimate(
        STORED if stored else dtype, batch, optimizer,
        activations=tuple(None if s is None else batch * s.value * DTYPE_BITS[act] // 8 for s in sizes),
        inference=tuple(inference), training=tuple(training),
        unknown=tuple(row.name for row, s in zip(report.layers, sizes) if s is None),
        context=context, kv_dtype=kv_dtype if context else None, kv_per_token=per_token,
        notes=notes + scale.pop("notes", ()), **scale,
    )


# A batch bigger than any machine holds: bounded before the arithmetic, so a 5,000-digit batch
# is one line, not Python's "Exceeds the limit (4300 digits)" advice to call sys.set_int_max_str_digits().
MAX_BATCH = 1_000_000_000


def _at_scale(report: Report, dtype: str, optimizer: str | None, parallel: Any) -> dict:
    from .parallel import deepspeed_terms, parallel_setup, per_gpu_terms

    setup = parallel_setup(parallel)
    if optimizer is None:
        raise LearnableError("memory per GPU is for training: choose an optimizer (--optimizer adam)")
    gpu, cpu, notes = per_gpu_terms(report, dtype, optimizer, setup)
    return {"parallel": setup, "per_gpu": tuple(gpu), "cpu": tuple(cpu), "notes": notes,
            "deepspeed": deepspeed_terms(report, setup)}


def _check_context(context: int | None, kv_dtype: str) -> None:
    if context is not None and (isinstance(context, bool) or not isinstance(context, int) or context < 1):
        raise LearnableError(f"context must be a whole number of tokens ≥ 1, got {context!r}")
    if not isinstance(kv_dtype, str) or kv_dtype not in KV_DTYPES:
        raise LearnableError(f"kv_dtype must be one of {', '.join(KV_DTYPES)}, got {kv_dtype!r}")


def _check(dtype: str, batch: int, optimizer: str | None, lora: bool = False) -> None:
    if not isinstance(dtype, str) or dtype not in DTYPE_BITS:  # (values may come from a request's JSON)
        raise LearnableError(f"dtype must be one of {', '.join(DTYPE_BITS)}, got {dtype!r}")
    if isinstance(batch, bool) or not isinstance(batch, int) or not 1 <= batch <= MAX_BATCH:
        # (a batch of 5,000 digits cannot even be written: repr raises past 4,300 digits)
        got = f"{batch!r}" if not isinstance(batch, int) or -10**12 < batch < 10**12 else "a larger number"
        raise LearnableError(f"batch must be a whole number from 1 to {MAX_BATCH:,}, got {got}")
    if optimizer is not None and (not isinstance(optimizer, str) or optimizer not in OPTIMIZERS):
        raise LearnableError(f"optimizer must be one of {', '.join(OPTIMIZERS)}, got {optimizer!r}")
    if optimizer is not None and (dtype == "fp8" or dtype in ("int8", "int4") and not lora):
        raise LearnableError(f"training in {dtype} is not estimated: use fp32, or fp16/bf16 for mixed precision, "
                             f"or LoRA adapters on an int8/int4 base (QLoRA)")


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


def _qlora(report: Report, dtype: str) -> bool:
    return report.lora is not None and dtype in ("int8", "int4")


def _quantized(report: Report) -> int:
    """The values bitsandbytes quantizes for QLoRA: the Linear layers' weights, but the
    output head's (transformers leaves the output embeddings out)."""
    last = report.layers[-1].name if report.layers else None
    heads = {"lm_head", last}
    return sum(w.size for row in report.layers if row.type in ("Linear", "Dense") and row.name not in heads
               for w in row.weights if not (w.buffer or w.trainable) and w.name != "bias")


def _weight_terms(report: Report, dtype: str) -> list[Term]:
    bits = DTYPE_BITS[dtype]
    if _qlora(report, dtype):
        quantized = _quantized(report)
        rest = report.total_params - quantized
        terms = [Term(f"weights of the Linear layers ({quantized:,} params, {dtype})", _bytes(quantized, bits),
                      "weights"),
                 Term(f"other weights and the LoRA adapters ({rest:,} params, bf16)", _bytes(rest, 16), "weights")]
        return terms + _buffer_terms(report, "bf16")
    terms = [Term(f"weights ({report.total_params:,} params, {dtype})", _bytes(report.total_params, bits), "weights")]
    return terms + _buffer_terms(report, dtype)


def _buffer_terms(report: Report, dtype: str) -> list[Term]:
    bits = DTYPE_BITS[dtype]
    terms = []
    if report.total_buffers:
        # Running statistics are in the weights' float type; BatchNorm's num_batches_tracked
        # counter is an int64, 8 bytes, whatever the dtype.
        counters = sum(1 for row in report.layers for w in row.weights
                       if w.buffer and w.name.endswith("num_batches_tracked"))
        floats = report.total_buffers - counters
        parts = [_bytes(floats, bits)] * bool(floats) + [product(num(counters), num(8))] * bool(counters)
        terms.append(Term(f"buffers ({report.total_buffers:,}, {dtype}; int64 counters)" if counters
                          else f"buffers ({report.total_buffers:,}, {dtype})", total(*parts), "buffers"))
    return terms


def _peak_term(report: Report, sizes: Sequence[Expr | None], act: str, batch: int) -> Term:
    """The most activation bytes alive at once, walking the layers in order."""
    names, _ = _peak(report.layers, sizes)
    live = [sizes[i] for i in names]
    held = ", ".join(report.layers[i].name for i in names) if len(names) <= 3 else f"{len(names)} layers' outputs"
    label = f"activations at the peak ({held}), batch {batch}, {act}"
    return Term(label, _batch_bytes(batch, live, act), "activations")


def _peak(layers: Sequence[LayerRow], sizes: Sequence[Expr | None]) -> tuple[list[int], int]:
    """The layers whose outputs are alive together at the peak (their indices), and where.
    A layer's output is made while its inputs are still held; an input is freed after its
    last reader, and an output nothing reads is the network's, kept to the end."""
    index = {row.name: i for i, row in enumerate(layers)}
    last_use = list(range(len(layers)))
    for i, row in enumerate(layers):
        for source in _inputs(row, i, layers):
            last_use[index[source]] = max(last_use[index[source]], i)
        if row.type == "LoRA" and i + 1 < len(layers):
            # lora.py puts an adapter's row after its layer; nothing names it as an input, but its
            # output is added into its layer's at once: not a network output kept to the end
            last_use[i] = i + 1
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
    terms = _weight_terms(report, dtype)
    dtype = "bf16" if _qlora(report, dtype) else dtype  # QLoRA's adapters train in bf16 mixed precision
    mixed = dtype in ("fp16", "bf16")
    bits = DTYPE_BITS[dtype]
    trainable = report.trainable_params
    terms.append(Term(f"gradients ({trainable:,} trainable params, {dtype})", _bytes(trainable, bits), "gradients"))
    if mixed:
        terms.append(Term(f"fp32 master copy of the {trainable:,} trainable params", _bytes(trainable, 32),
                          "master_weights"))
    if states:
        kept = "momentum_buffer" if optimizer == "momentum" else "exp_avg and exp_avg_sq"
        state_bits = 32 if mixed else bits
        terms.append(Term(f"{optimizer} state ({kept}, {'fp32' if mixed else dtype})",
                          product(num(states), _bytes(trainable, state_bits)), "optimizer_state"))
    if step:
        tensors = sum(1 for row in report.layers for w in row.weights if w.trainable and not w.buffer)
        terms.append(Term(f"{optimizer} step (a 0-d float32 for each of {tensors:,} trainable tensors)",
                          product(num(tensors), num(STEP_BYTES)), "optimizer_step"))
    known = [s for s in sizes if s is not None]
    act = ACTIVATION_DTYPE[dtype]
    terms.append(Term(f"activations kept for backward (every layer's output, batch {batch}, {act})",
                      _batch_bytes(batch, known, act), "activations"))
    return terms
