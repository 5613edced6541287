"""The sizing fields of POST /api/count, checked one by one: the memory estimate's set-up,
LoRA adapters, a GPU (from the accelerator table, or a memory size) and training tokens.

Every field is checked here before any arithmetic, so a bad one is a 400 that names it
(``'memory.context' must be a whole number from 1 to 1,000,000,000, got -3``) and every
number is bounded: the library then computes what the command line computes for the same
options (cli/_sizing_args.py's _memory, _fit and _compute), and nothing else.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from fractions import Fraction
from typing import Any

MAX_WHOLE = 1_000_000_000  # batch and context, as the command line bounds them (memory.MAX_BATCH)
MAX_RANK = 65_536  # far above any LoRA rank in use (PEFT's examples stop at 256)
MAX_TOKENS = 10**16  # training tokens: Llama 3 used 1.5×10^13
MAX_TEXT = 200  # a GPU's name, a memory size, LoRA's targets
MAX_GPU_MEMORY = 1 << 50  # 1 PiB: no accelerator comes near
TOP_FIELDS = ("lora", "gpu", "gpu_memory", "tokens", "mfu")
LORA_FIELDS = ("r", "targets", "alpha", "bias")
_REGEX = set("*+?()[]{}|\\^$")  # as cli/_count.py: targets with one of these are one regex, else names


class FieldError(Exception):
    """A field the request gets wrong: its name and what was expected."""


def _shown(value: Any) -> str:
    text = json.dumps(value)
    return text if len(text) <= 40 else f"{text[:37]}..."


def whole(value: Any, name: str, least: int, most: int) -> int:
    """A whole number in [least, most]; JSON's 1.5e13 (a float with no fraction) reads as one."""
    if isinstance(value, float) and value.is_integer() and not math.isinf(value):
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not least <= value <= most:
        raise FieldError(f"{name!r} must be a whole number from {least:,} to {most:,}, got {_shown(value)}")
    return value


def choice(value: Any, name: str, choices: tuple[str, ...] | list[str]) -> str:
    if not isinstance(value, str) or value not in choices:
        raise FieldError(f"{name!r} must be one of {', '.join(choices)}, got {_shown(value)}")
    return value


def text(value: Any, name: str) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_TEXT:
        raise FieldError(f"{name!r} must be a non-empty string of at most {MAX_TEXT} characters, got {_shown(value)}")
    return value.strip()


def memory_options(value: Any) -> dict[str, Any]:
    """``memory``: true, or an object of memory.estimate's keywords, each checked."""
    from ..memory import DTYPE_BITS, KV_DTYPES, OPTIMIZERS

    if value is True:
        return {}
    checks: dict[str, Callable[[Any, str], Any]] = {
        "batch": lambda v, n: whole(v, n, 1, MAX_WHOLE),
        "context": lambda v, n: whole(v, n, 1, MAX_WHOLE),
        "dtype": lambda v, n: choice(v, n, tuple(DTYPE_BITS)),
        "kv_dtype": lambda v, n: choice(v, n, KV_DTYPES),
        "optimizer": lambda v, n: choice(v, n, tuple(OPTIMIZERS)),
        "parallel": lambda v, n: _object(v, n),  # parallel_setup checks its fields (a 422 naming one)
    }
    if not isinstance(value, dict) or set(value) - set(checks):
        raise FieldError(f"'memory' must be true or an object with {', '.join(checks)}")
    return {key: checks[key](item, f"memory.{key}") for key, item in value.items() if item is not None}


def _object(value: Any, name: str) -> dict:
    if not isinstance(value, dict):
        raise FieldError(f"{name!r} must be an object, got {_shown(value)}")
    return value


def lora_options(value: Any) -> dict[str, Any] | None:
    """``lora``: {"r": 16, "targets": "q_proj,v_proj" | [...] | "all-linear", "alpha", "bias"}
    → count()'s lora= (PEFT's keywords), read as the command line reads --lora-targets."""
    if value is None:
        return None
    if not isinstance(value, dict) or set(value) - set(LORA_FIELDS) or "r" not in value or "targets" not in value:
        raise FieldError(f"'lora' must be an object with r and targets (and optionally alpha, bias), "
                         f"got {_shown(value)}")
    r = whole(value["r"], "lora.r", 1, MAX_RANK)
    targets = value["targets"]
    if isinstance(targets, list) and targets and len(targets) <= 64:
        names = [text(t, "lora.targets") for t in targets]
    else:
        raw = text(targets, "lora.targets")
        regex = _REGEX & set(raw) or raw.lower() == "all-linear"
        names = raw if regex else [n.strip() for n in raw.split(",") if n.strip()]
        if not names:
            raise FieldError(f"'lora.targets' must name the layers to adapt (q_proj,v_proj or all-linear), "
                             f"got {_shown(raw)}")
    options = {"r": r, "target_modules": names, "bias": choice(value.get("bias") or "none", "lora.bias",
                                                               ("none", "all", "lora_only"))}
    alpha = value.get("alpha")
    if alpha is not None:
        if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not 0 < alpha <= 1e6:
            raise FieldError(f"'lora.alpha' must be a number from 0 to 1,000,000, got {_shown(alpha)}")
        options["lora_alpha"] = alpha
    return options


def gpu(value: Any):
    """``gpu``: a name from the accelerator table (aliases too: h100, a100, 4090)."""
    from ..accelerators import ACCELERATORS, accelerator
    from ..errors import LearnableError

    if value is None:
        return None
    name = text(value, "gpu")
    try:
        return accelerator(name)
    except LearnableError:
        raise FieldError(f"'gpu' must be one of {', '.join(ACCELERATORS)}, got {_shown(value)}") from None


def gpu_memory(value: Any) -> int | None:
    """``gpu_memory``: a size with its unit ("24GiB", "80GB"), or a number of bytes."""
    from ..accelerators import memory_size
    from ..errors import LearnableError

    if value is None:
        return None
    if isinstance(value, str) and len(value) <= 32:
        try:
            size = memory_size(value)
        except LearnableError:
            size = -1
    else:
        size = value if isinstance(value, int) and not isinstance(value, bool) else -1
    if not 1 <= size <= MAX_GPU_MEMORY:
        raise FieldError(f"'gpu_memory' must be a size such as \"24GiB\" or \"80GB\" (at most 1 PiB), or bytes; "
                         f"got {_shown(value)}")
    return size


def mfu(value: Any) -> Fraction | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= 1:
        raise FieldError(f"'mfu' must be a fraction in (0, 1], e.g. 0.4; got {_shown(value)}")
    return Fraction(str(value))  # 0.4 as 2/5, as the command line reads --mfu 0.4


def sizing(request: dict[str, Any]) -> dict[str, Any]:
    """The top-level sizing fields, checked: lora, gpu (an Accelerator), gpu_memory (bytes),
    tokens, mfu. Fields that need another say so."""
    found = {"lora": lora_options(request.get("lora")), "gpu": gpu(request.get("gpu")),
             "gpu_memory": gpu_memory(request.get("gpu_memory")), "mfu": mfu(request.get("mfu")),
             "tokens": None if request.get("tokens") is None else whole(request["tokens"], "tokens", 1, MAX_TOKENS)}
    if found["mfu"] is not None and found["gpu"] is None:
        raise FieldError("'mfu' is the fraction of a GPU's peak: it needs 'gpu' (a name from the table)")
    return found


def estimates(report, memory: dict[str, Any] | None, found: dict[str, Any]) -> dict[str, Any]:
    """The memory estimate, what fits on the GPU, and the compute, as the command line computes
    them for the same options (each None where not asked)."""
    from ..memory import estimate

    asked = memory is not None or found["gpu"] or found["gpu_memory"] or found["tokens"]
    options = dict(memory or {})
    result: dict[str, Any] = {"memory": estimate(report, **options) if asked else None, "fit": None, "compute": None}
    options.pop("parallel", None)
    accelerator, size = found["gpu"], found["gpu_memory"]
    if accelerator or size:
        from ..fit import fit

        result["fit"] = fit(report, size or accelerator.memory, gpu=accelerator.name if accelerator else None,
                            **options)
    if accelerator or found["tokens"] or options.get("context"):
        result["compute"] = _compute(report, options, found, (memory or {}).get("parallel"))
    return result


def _compute(report, options: dict[str, Any], found: dict[str, Any], parallel: Any):
    from ..compute import DEFAULT_MFU, Throughput, compute

    accelerator, throughput = found["gpu"], None
    if accelerator:
        gpus = parallel.get("gpus", 1) if isinstance(parallel, dict) else 1
        throughput = Throughput(accelerator.peak(options.get("dtype")), found["mfu"] or DEFAULT_MFU, gpus,
                                accelerator.name, accelerator.source)
    return compute(report, context=options.get("context"), tokens=found["tokens"], throughput=throughput)


def accelerators() -> list[dict[str, Any]]:
    """GET /api/info's table of accelerators, for the page's GPU picker."""
    from ..accelerators import ACCELERATORS

    return [{"key": key, "name": a.name, "memory_bytes": a.memory, "bf16_flops": a.bf16, "fp8_flops": a.fp8,
             "source": a.source} for key, a in ACCELERATORS.items()]
