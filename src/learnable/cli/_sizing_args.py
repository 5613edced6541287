"""The compute, memory, throughput and parallel options of ``learnable count`` (and memory of
``sweep`` and ``solve``): their argument groups, the types that read their values, and what they
ask of memory.py, compute.py and fit.py (imported only when asked)."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from ..errors import SpecError

# The --dtype and --optimizer choices (memory.py; kept here so --help imports nothing more).
DTYPES = ("fp32", "fp16", "bf16", "fp8", "int8", "int4")
KV_DTYPE_NAMES = ("fp32", "fp16", "bf16", "fp8", "int8")
OPTIMIZER_NAMES = ("sgd", "momentum", "adam", "adamw")
MAX_OPTION = 1_000_000_000  # memory.MAX_BATCH (not imported here so --help imports nothing more)


def _whole(text: str, least: int) -> int:
    """A whole-number option from ``least`` to MAX_OPTION; its digits are bounded before int()
    reads them (past 4,300 digits int() raises, telling the user to call sys.set_int_max_str_digits)."""
    value = int(text) if text.isascii() and text.isdigit() and len(text) <= 10 else -1
    if not least <= value <= MAX_OPTION:
        shown = repr(text) if len(text) <= 24 else f"{text[:12]!r}… ({len(text):,} characters)"
        raise argparse.ArgumentTypeError(f"must be a whole number from {least} to {MAX_OPTION:,}, got {shown}")
    return value


def _positive(text: str) -> int:
    return _whole(text, 1)


def _depth(text: str) -> int:
    return _whole(text, 0)


def _add_cost_options(parser: argparse.ArgumentParser) -> None:
    cost = parser.add_argument_group("compute and memory (docs/compute.md says what is counted)")
    cost.add_argument("--macs", action="store_true",
                      help="add each layer's multiply-accumulates for one example, and the FLOPs")
    cost.add_argument("--paper-macs", action="store_true",
                      help="MACs as papers count them: convolutions and fully connected layers only (no "
                           "normalization, pooling or attention scores); the footer says what was left out. "
                           "Implies --macs")
    cost.add_argument("--flops-per-mac", type=int, choices=(1, 2), default=2,
                      help="FLOPs per MAC in the total: 2 (torch.utils.flop_counter, default) or 1 (fvcore, "
                           "most papers)")
    cost.add_argument("--receptive-field", action="store_true",
                      help="add each layer's receptive field (size, jump, start) in input pixels")
    _add_memory_options(cost)


def _add_memory_options(cost: argparse._ArgumentGroup) -> None:
    cost.add_argument("--memory", action="store_true",
                      help="estimate memory: each layer's activations, inference peak, and training with "
                           "--optimizer")
    cost.add_argument("--batch", type=_positive, default=1, metavar="N", help="batch size for --memory (default 1)")
    cost.add_argument("--dtype", choices=tuple(DTYPES),
                      help="number format for --memory (default: as a GGUF or quantized file stores its weights, "
                           "else fp32; fp16/bf16 training is mixed precision)")
    cost.add_argument("--context", type=_positive, metavar="N",
                      help="add the KV cache at N tokens of context (per sequence; --batch sequences)")
    cost.add_argument("--kv-dtype", choices=tuple(KV_DTYPE_NAMES),
                      help="number format of the KV cache (default: the activations')")
    cost.add_argument("--optimizer", choices=tuple(OPTIMIZER_NAMES),
                      help="add a training estimate: weights, gradients, optimizer state, activations")
    _add_parallel_options(cost)


def _add_parallel_options(cost: argparse._ArgumentGroup) -> None:
    """Training at scale (parallel.py): what one GPU holds; --batch is the micro-batch per GPU."""
    cost.add_argument("--gpus", type=_positive, metavar="N",
                      help="GPUs training together (data parallel × --tp × --pp): with --optimizer, memory per GPU; "
                           "with --tokens, the time (default 1)")
    cost.add_argument("--zero", type=int, choices=(0, 1, 2, 3),
                      help="ZeRO stage: 0 DDP (FSDP NO_SHARD), 1 optimizer state, 2 and gradients "
                           "(SHARD_GRAD_OP), 3 and weights (FULL_SHARD); default 0")
    cost.add_argument("--tp", type=_positive, metavar="N", help="tensor-parallel size (default 1)")
    cost.add_argument("--pp", type=_positive, metavar="N", help="pipeline-parallel size (default 1)")
    cost.add_argument("--offload", choices=("optimizer", "params"),
                      help="keep gradients, master copy and optimizer state on the CPU (params: the weights too, "
                           "ZeRO-3)")
    cost.add_argument("--recompute", choices=("none", "selective", "full"),
                      help="activation recomputation for the per-GPU activations (default none)")
    cost.add_argument("--sequence-parallel", action="store_true",
                      help="split the activations tensor parallelism leaves whole (Megatron's sequence parallel)")
    cost.add_argument("--seq", type=_positive, metavar="N",
                      help="tokens a sequence, for the per-GPU activations (Korthikanti et al. 2022)")


_PARALLEL = ("gpus", "zero", "tp", "pp", "offload", "recompute", "seq")


def _parallel(args: argparse.Namespace) -> dict | None:
    """estimate()'s parallel= from the --gpus ... --seq options, when any is given."""
    given = {name: getattr(args, name) for name in _PARALLEL if getattr(args, name) is not None}
    if not given and not args.sequence_parallel:
        return None
    if set(given) == {"gpus"} and args.optimizer is None and args.tokens:
        return None  # the GPUs of --tokens' time, not a training set-up
    if args.optimizer is None:
        raise SpecError("--gpus, --zero, --tp, --pp, --offload, --recompute and --seq are for training: "
                        "add --optimizer (e.g. adamw) for the memory per GPU, or --tokens D for the time")
    return {**given, "sequence_parallel": args.sequence_parallel, "micro_batch": args.batch}


def _add_throughput_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group(
        "training compute, time and what fits (MACs per token at --context; docs/compute.md)")
    group.add_argument("--tokens", type=_count_text, metavar="D",
                       help="training tokens: FLOPs as 6·N·D and as the per-layer sum, side by side (15e12, 1.4T, "
                            "300B)")
    group.add_argument("--gpu", metavar="NAME",
                       help="an accelerator from the table (a100-40gb, a100-80gb, h100-sxm, h100-pcie, h200, l4, "
                            "rtx-4090, mi300x, tpu-v5e): its peak dense FLOP/s (bf16; fp8 with --dtype fp8) for "
                            "the time, and its memory for the largest batch and context that fit")
    group.add_argument("--peak-flops", type=_count_text, metavar="F",
                       help="peak FLOP/s of one GPU, instead of --gpu's (989.5e12, 312T)")
    group.add_argument("--mfu", type=_fraction, metavar="U",
                       help="model FLOPs utilization: the fraction of the peak training achieves (default 0.4)")
    group.add_argument("--gpu-memory", metavar="SIZE",
                       help="memory of one GPU for what fits, instead of --gpu's (24GiB, 80GB)")


_SUFFIXES = {"k": 10**3, "m": 10**6, "b": 10**9, "g": 10**9, "t": 10**12, "p": 10**15}


def _count_text(text: str) -> int:
    """``15e12``, ``1.4T``, ``300B``, ``2,048`` → an exact int."""
    from decimal import Decimal, InvalidOperation

    clean = text.strip().replace(",", "").replace("_", "")
    scale = _SUFFIXES.get(clean[-1:].lower(), 1) if clean else 1
    try:
        value = Decimal(clean[:-1] if scale > 1 else clean) * scale
    except InvalidOperation:
        value = Decimal(0)
    if value < 1 or value != value.to_integral_value():
        raise argparse.ArgumentTypeError(f"must be a whole number ≥ 1 (15e12, 1.4T, 300B), got {text!r}")
    return int(value)


def _fraction(text: str):
    from fractions import Fraction

    try:
        value = Fraction(text.strip())
    except (ValueError, ZeroDivisionError):
        value = Fraction(0)
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f"must be a fraction in (0, 1], e.g. 0.4; got {text!r}")
    return value



def _memory(args: argparse.Namespace, reports: Sequence) -> list | None:
    """The memory estimate of each report, when any of the memory options asks for one."""
    parallel = _parallel(args)
    if not (args.memory or args.optimizer or args.batch != 1 or args.dtype or args.context or args.kv_dtype):
        return None
    from ..memory import estimate

    return [estimate(report, dtype=args.dtype, batch=args.batch, optimizer=args.optimizer, context=args.context,
                     kv_dtype=args.kv_dtype, parallel=parallel) for report in reports]


def _show(args: argparse.Namespace, report):
    """What to add to the table, from the compute and memory options."""
    from ..render._columns import Show

    memory = _memory(args, [report])
    return Show(macs=args.macs or args.paper_macs, flops_per_mac=args.flops_per_mac, paper_macs=args.paper_macs,
                receptive_field=args.receptive_field, memory=memory and memory[0], compute=_compute(args, report),
                fit=_fit(args, report))


def _gpu(args: argparse.Namespace):
    from ..accelerators import accelerator

    return accelerator(args.gpu) if args.gpu else None


def _compute(args: argparse.Namespace, report):
    """MACs per token (with --context and --macs, or any training option), training FLOPs
    and time."""
    asked = args.tokens or args.gpu or args.peak_flops or args.mfu
    if not (asked or (args.context and (args.macs or args.paper_macs))):
        return None
    from ..compute import DEFAULT_MFU, Throughput, compute

    gpu = _gpu(args)
    if (args.peak_flops or args.mfu or (args.gpus or 1) != 1 and args.tokens) and not (gpu or args.peak_flops):
        raise SpecError("the time of --tokens on --gpus, and --mfu, need a throughput: --gpu NAME or --peak-flops F")
    throughput = None
    if gpu or args.peak_flops:
        peak = args.peak_flops or gpu.peak(args.dtype)
        throughput = Throughput(peak, args.mfu or DEFAULT_MFU, args.gpus or 1, gpu.name if gpu else "",
                                "" if args.peak_flops or not gpu else gpu.source)
    return compute(report, context=args.context, tokens=args.tokens, throughput=throughput,
                   flops_per_mac=args.flops_per_mac)


def _fit(args: argparse.Namespace, report):
    """The largest batch and context that fit --gpu's memory or --gpu-memory."""
    if not (args.gpu or args.gpu_memory):
        return None
    from ..accelerators import memory_size
    from ..fit import fit

    gpu = _gpu(args)
    memory = memory_size(args.gpu_memory) if args.gpu_memory else gpu.memory
    return fit(report, memory, gpu=gpu.name if gpu else None, dtype=args.dtype, batch=args.batch,
               optimizer=args.optimizer, context=args.context, kv_dtype=args.kv_dtype)

