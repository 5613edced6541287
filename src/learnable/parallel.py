"""Training at scale: the memory one GPU holds under data parallelism with ZeRO (or FSDP),
tensor and pipeline parallelism, CPU offload and activation recomputation, each term an
expression that shows its arithmetic.

Model states (Rajbhandari et al. 2020, "ZeRO", §3 and Figure 1): mixed-precision Adam keeps
2Ψ bytes of 16-bit weights, 2Ψ of 16-bit gradients and KΨ of optimizer state (K = 12: the
fp32 master copy, momentum and variance), Ψ the parameters. Over N_d data-parallel GPUs
  ZeRO-0 (DDP; FSDP NO_SHARD)      (2 + 2 + K)Ψ
  ZeRO-1 (optimizer states)        2Ψ + 2Ψ + KΨ/N_d
  ZeRO-2 (FSDP SHARD_GRAD_OP)      2Ψ + (2 + K)Ψ/N_d
  ZeRO-3 (FSDP FULL_SHARD)         (2 + 2 + K)Ψ/N_d, plus the largest layer gathered whole with
                                   its gradients while it runs (DeepSpeed's 4 × largest layer)
Gradients and optimizer state are of the trainable parameters (LoRA's adapters alone); fp32
training keeps 4-byte weights, gradients and state and no master copy. Tensor (t) and
pipeline (p) parallelism split the model across t × p GPUs, taken as even (Megatron splits
each transformer layer's matrices t ways and the layers p ways; embeddings and norms are
not split so evenly). CPU offload (ZeRO-Offload, Ren et al. 2021) moves the gradients, the
master copy and the optimizer state to the host; offloading the parameters too
(ZeRO-Infinity, ZeRO-3 only) leaves the GPU only the layer it gathers.

Activations per transformer layer (Korthikanti et al. 2022, "Reducing Activation
Recomputation in Large Transformer Models", Table 2), in bytes for 16-bit activations with
s tokens, micro-batch b, width h, a attention heads, tensor-parallel size t:
  no recomputation                      sbh(34 + 5as/h)
    tensor parallel                     sbh(10 + 24/t + 5as/(ht))
    tensor + sequence parallel          sbh(34 + 5as/h)/t
  selective (attention core recomputed) sbh(10 + 24/t); with sequence parallel 34sbh/t
  full (each layer's input kept)        2sbh
Under 1F1B pipelining the first stage keeps p micro-batches of its L/p layers in flight: L
layers' worth (§4.2.3), so the term is L × the per-layer figure whatever p. L, h and a are
read from the layers that declare them (``kv_cache: {..., query_heads, hidden}``; Hugging
Face decoder configs do); without them the activations are not known, never zero.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from .errors import LearnableError
from .expr import Expr, ceil_div, floor_div, num, product, total
from .report import Report

ZERO_STAGES = (0, 1, 2, 3)
OFFLOADS = ("optimizer", "params")
RECOMPUTE = ("none", "selective", "full")


@dataclass(frozen=True, slots=True)
class Parallel:
    """A training set-up: ``gpus`` in all = data × ``tp`` × ``pp``; ZeRO stage ``zero``;
    ``offload`` to the CPU; activation ``recompute``; ``seq`` tokens a sequence and
    ``micro_batch`` sequences a GPU for the activations."""

    gpus: int = 1
    zero: int = 0
    tp: int = 1
    pp: int = 1
    offload: str | None = None
    recompute: str = "none"
    sequence_parallel: bool = False
    seq: int | None = None
    micro_batch: int = 1

    @property
    def dp(self) -> int:
        return self.gpus // (self.tp * self.pp)

    def to_dict(self) -> dict:
        return {**asdict(self), "dp": self.dp}


def parallel_setup(value: Parallel | Mapping[str, Any]) -> Parallel:
    """A Parallel from itself or a mapping (a request's JSON), checked: one-line errors."""
    if not isinstance(value, Parallel):
        if not isinstance(value, Mapping) or set(value) - set(Parallel.__slots__):
            raise LearnableError(f"parallel must be a mapping of {', '.join(Parallel.__slots__)}, got {value!r}")
        value = Parallel(**value)
    for name in ("gpus", "tp", "pp", "micro_batch") + (("seq",) if value.seq is not None else ()):
        n = getattr(value, name)
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise LearnableError(f"{name} must be a whole number ≥ 1, got {n!r}")
    if value.gpus % (value.tp * value.pp):
        raise LearnableError(f"gpus ({value.gpus}) must be a multiple of tp × pp ({value.tp} × {value.pp})")
    if value.zero not in ZERO_STAGES or isinstance(value.zero, bool):
        raise LearnableError(f"zero must be one of 0, 1, 2, 3, got {value.zero!r}")
    if value.offload is not None and value.offload not in OFFLOADS:
        raise LearnableError(f"offload must be one of {', '.join(OFFLOADS)}, got {value.offload!r}")
    if value.offload == "params" and value.zero != 3:
        raise LearnableError("offloading the parameters needs ZeRO-3 (zero 3): only then are they partitioned")
    if value.recompute not in RECOMPUTE:
        raise LearnableError(f"recompute must be one of {', '.join(RECOMPUTE)}, got {value.recompute!r}")
    if not isinstance(value.sequence_parallel, bool):
        raise LearnableError(f"sequence_parallel must be true or false, got {value.sequence_parallel!r}")
    return value


def per_gpu_terms(report: Report, dtype: str, optimizer: str, setup: Parallel):
    """(terms on each GPU, terms each GPU's process keeps on the CPU, notes)."""
    from .memory import DTYPE_BITS, OPTIMIZERS, Term, _bytes

    if report.lora is not None and dtype in ("int8", "int4"):
        raise LearnableError("parallel training of a quantized (QLoRA) base is not estimated: use --dtype bf16")
    states, _ = OPTIMIZERS[optimizer]
    mixed = dtype in ("fp16", "bf16")
    bits = DTYPE_BITS[dtype]
    gpu, cpu = [], []
    kept = cpu if setup.offload else gpu  # ZeRO-Offload: gradients, master copy and state on the host
    z = setup.zero
    (cpu if setup.offload == "params" else gpu).append(
        Term(f"weights ({_split(report.total_params, setup, z >= 3)}, {dtype})",
             _bytes(_share(report.total_params, setup, z >= 3), bits), "weights"))
    trainable = report.trainable_params
    kept.append(Term(f"gradients ({_split(trainable, setup, z >= 2, 'trainable params')}, {dtype})",
                     _bytes(_share(trainable, setup, z >= 2), bits), "gradients"))
    if mixed:
        kept.append(Term(f"fp32 master copy ({_split(trainable, setup, z >= 1)})",
                         _bytes(_share(trainable, setup, z >= 1), 32), "master_weights"))
    if states:
        state_bits = 32 if mixed else bits
        kept.append(Term(f"{optimizer} state ({states} × {_split(trainable, setup, z >= 1)}, "
                         f"{'fp32' if mixed else dtype})",
                         product(num(states), _bytes(_share(trainable, setup, z >= 1), state_bits)),
                         "optimizer_state"))
    if z == 3:
        largest = max((row.params for row in report.layers), default=0)
        gpu.append(Term(f"largest layer gathered with its gradients ({largest:,} params / tp {setup.tp}, {dtype})",
                        product(num(2), _bytes(ceil_div(num(largest), num(setup.tp)), bits)), "gathered_layer"))
    activations, notes = activation_term(report, dtype, setup)
    gpu += activations
    return gpu, cpu, notes


def _share(count: int, setup: Parallel, sharded: bool) -> Expr:
    """``⌈Ψ/(t×p×N_d)⌉``: one GPU's share, model-parallel ways and, when ZeRO shards it, N_d."""
    ways = [n for n in (setup.tp, setup.pp) + ((setup.dp,) if sharded else ()) if n > 1]
    return ceil_div(num(count), product(*map(num, ways))) if ways else num(count)


def _split(count: int, setup: Parallel, sharded: bool, noun: str = "params") -> str:
    ways = [f"{name} {n}" for name, n in (("tp", setup.tp), ("pp", setup.pp)) if n > 1]
    ways += [f"ZeRO-{setup.zero} over {setup.dp} data-parallel GPUs"] if sharded and setup.dp > 1 else []
    return f"{count:,} {noun}" + (f" / {' × '.join(ways)}" if ways else "")


def transformer_dims(report: Report) -> tuple[int, int, int] | None:
    """(layers L, width h, heads a) from the layers that declare them, when all agree."""
    declared = [row.kv_cache for row in report.layers
                if row.kv_cache is not None and row.kv_cache.hidden and row.kv_cache.query_heads]
    shapes = {(kv.hidden, kv.query_heads) for kv in declared}
    if len(shapes) != 1:
        return None
    (h, a), = shapes
    return len(declared), h, a


def activation_term(report: Report, dtype: str, setup: Parallel):
    """Korthikanti et al.'s activations, L × per layer, or a note saying why not."""
    from .memory import Term

    if setup.seq is None:
        return [], ("activations per GPU need the sequence length (--seq N; --batch is the micro-batch a GPU)",)
    dims = transformer_dims(report)
    if dims is None:
        note = ("activations per GPU not known: no layer declares its attention's query heads and width "
                "(kv_cache: {query_heads, hidden}); Hugging Face decoder configs do")
        return [], (note,)
    if dtype not in ("fp16", "bf16"):
        return [], (f"activations per GPU are Korthikanti et al.'s for 16-bit activations; not estimated in {dtype}",)
    layers, h, a = dims
    s, b, t = num(setup.seq), num(setup.micro_batch), setup.tp
    sbh = [s, b, num(h)]
    core = product(num(5), num(a), s, s, b)  # 5as²b: scores, softmax, its dropout mask and output
    rest = product(num(34), *sbh)
    sp = setup.sequence_parallel and t > 1
    if setup.recompute == "full":
        per, what = product(num(2), *sbh), "2sbh: each layer's input"
    elif setup.recompute == "selective":
        per, what = (ceil_div(rest, num(t)), "34sbh/t") if sp else (_tp(sbh, t), "sbh(10 + 24/t)")
    elif sp:
        per, what = ceil_div(total(rest, core), num(t)), "sbh(34 + 5as/h)/t"
    elif t > 1:
        per, what = total(_tp(sbh, t), ceil_div(core, num(t))), "sbh(10 + 24/t + 5as/(ht))"
    else:
        per, what = total(rest, core), "sbh(34 + 5as/h)"
    label = (f"activations ({layers} layers × {what}, Korthikanti et al. 2022; s {setup.seq:,}, b {setup.micro_batch},"
             f" h {h:,}, a {a}{f', t {t}' if t > 1 else ''}, {setup.recompute} recomputation)")
    return [Term(label, product(num(layers), per), "activations")], ()


def _tp(sbh: list[Expr], t: int) -> Expr:
    """sbh(10 + 24/t): layer norms, dropout masks and the sublayers' inputs are not split."""
    return total(product(num(10), *sbh), ceil_div(product(num(24), *sbh), num(t)))


def deepspeed_terms(report: Report, setup: Parallel):
    """DeepSpeed's own estimator (deepspeed/runtime/zero/stage_1_and_2.py and stage3.py,
    estimate_zero2/3_model_states_mem_needs, one node, zero_init on) for ZeRO-2 and -3:
    its per-GPU and per-CPU bytes, to compare. Since DeepSpeed PR #5099 (2024) ZeRO-2's GPU
    figure is 2Ψ + 18Ψ/N (16-bit weights; 16-bit and fp32 gradients, fp32 master copy and
    Adam state partitioned); its docs still print the earlier 4Ψ + 16Ψ/N."""
    from .memory import Term

    if setup.zero not in (2, 3) or setup.tp * setup.pp > 1:
        return ()
    psi, n = num(report.total_params), num(setup.gpus)
    buffer = (num(3), num(2))  # additional_buffer_factor 1.5, as ×3/2 (DeepSpeed takes int() of it)
    if setup.zero == 2:
        if setup.offload:
            gpu, cpu = product(num(2), psi), product(psi, num(max(4 * setup.gpus, 16)), buffer[0])
        else:
            gpu = total(product(num(2), psi), floor_div(product(num(18), psi), n))
            cpu = product(psi, num(4), n, buffer[0])
    else:
        largest = product(num(4), num(max((row.params for row in report.layers), default=0)))
        if setup.offload == "params":
            gpu, cpu = largest, product(psi, num(18), buffer[0])
        elif setup.offload:
            gpu, cpu = total(largest, floor_div(product(num(2), psi), n)), product(psi, num(16), buffer[0])
        else:
            gpu = total(largest, floor_div(product(num(18), psi), n))
            cpu = product(largest, n, buffer[0])
    cpu = floor_div(cpu, buffer[1])
    where = f"ZeRO-{setup.zero}, {setup.gpus} GPUs, offload {setup.offload or 'none'}"
    return (Term(f"DeepSpeed's estimate per GPU ({where})", gpu, "deepspeed_gpu"),
            Term(f"DeepSpeed's estimate per CPU ({where}; additional_buffer_factor 1.5)", cpu, "deepspeed_cpu"))
