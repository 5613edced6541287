"""Well-known accelerators: memory and peak dense tensor throughput, from their vendors'
datasheets, for ``--gpu`` (compute time, and what fits).

Peak FLOP/s are **dense**: without 2:4 structured sparsity. NVIDIA's datasheets print the
sparse figure with an asterisk ("shown with sparsity; specifications 1/2 lower without"),
so the dense figure is half the printed one. ``bf16`` is the 16-bit tensor peak (bf16 and
fp16 are the same with fp32 accumulation); ``fp8`` is None where the chip has no fp8 tensor
cores. Memory is the datasheet's "GB" read as GiB (2^30 bytes): HBM and GDDR capacities are
binary (an A100 40GB holds 40 GiB, of which the driver reports 40,441 MiB free of ECC and
its own use); what the driver and CUDA context keep (about 0.5-1 GiB) is not subtracted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import LearnableError

GIB = 1 << 30
TERA = 10**12


@dataclass(frozen=True, slots=True)
class Accelerator:
    name: str
    memory: int  # bytes
    bf16: int  # peak dense bf16/fp16 tensor FLOP/s
    fp8: int | None  # peak dense fp8 tensor FLOP/s; None: no fp8 tensor cores
    source: str

    def peak(self, dtype: str | None) -> int:
        """The peak for a number format: fp8's where the chip has one, else the 16-bit one."""
        if dtype == "fp8":
            if self.fp8 is None:
                raise LearnableError(f"the {self.name} has no fp8 tensor cores; use --dtype bf16, or give "
                                     "--peak-flops")
            return self.fp8
        return self.bf16


def _tflops(text: str) -> int:
    """``989.5`` TFLOP/s as an exact int of FLOP/s."""
    whole, _, tenths = text.partition(".")
    return int(whole) * TERA + int((tenths or "0").ljust(12, "0")[:12])


ACCELERATORS = {
    # NVIDIA A100 Tensor Core GPU datasheet (nvidia-a100-datasheet-us-nvidia-1758950-r4-web.pdf):
    # BFLOAT16 Tensor Core 312 TFLOPS (624* with sparsity); 40GB HBM2 or 80GB HBM2e; no FP8.
    "a100-40gb": Accelerator("A100 40GB", 40 * GIB, _tflops("312"), None, "NVIDIA A100 datasheet"),
    "a100-80gb": Accelerator("A100 80GB", 80 * GIB, _tflops("312"), None, "NVIDIA A100 datasheet"),
    # NVIDIA H100 Tensor Core GPU datasheet: H100 SXM BF16 1,979* / FP8 3,958* TFLOPS, 80GB;
    # H100 PCIe BF16 1,513* / FP8 3,026*, 80GB (* with sparsity; 1/2 lower without).
    "h100-sxm": Accelerator("H100 SXM", 80 * GIB, _tflops("989.5"), _tflops("1979"), "NVIDIA H100 datasheet"),
    "h100-pcie": Accelerator("H100 PCIe", 80 * GIB, _tflops("756.5"), _tflops("1513"), "NVIDIA H100 datasheet"),
    # NVIDIA H200 Tensor Core GPU datasheet: H200 SXM 141GB HBM3e, BF16 1,979* / FP8 3,958* TFLOPS.
    "h200": Accelerator("H200 SXM", 141 * GIB, _tflops("989.5"), _tflops("1979"), "NVIDIA H200 datasheet"),
    # NVIDIA L4 Tensor Core GPU datasheet: 24GB GDDR6, BF16 242* / FP8 485* TFLOPS.
    "l4": Accelerator("L4", 24 * GIB, _tflops("121"), _tflops("242.5"), "NVIDIA L4 datasheet"),
    # NVIDIA Ada Lovelace GPU architecture whitepaper, Appendix A (GeForce RTX 4090): 24GB GDDR6X;
    # peak BF16 tensor TFLOPS with FP32 accumulate 165.2 (330.4 sparse), FP8 with FP32 accumulate
    # 330.3 (660.6 sparse). (With FP16 accumulate the 16-bit figure doubles; training uses FP32.)
    "rtx-4090": Accelerator("RTX 4090", 24 * GIB, _tflops("165.2"), _tflops("330.3"),
                            "NVIDIA Ada Lovelace architecture whitepaper"),
    # AMD Instinct MI300X data sheet: 192GB HBM3; peak BF16 1,307.4 TFLOPS (2,614.9 with sparsity),
    # FP8 2,614.9 (5,229.8 with sparsity).
    "mi300x": Accelerator("MI300X", 192 * GIB, _tflops("1307.4"), _tflops("2614.9"), "AMD Instinct MI300X data sheet"),
    # Google Cloud TPU v5e documentation (cloud.google.com/tpu/docs/v5e): peak compute per chip
    # 197 TFLOPs (bf16), 393 TOPs (int8), HBM 16 GB; no fp8.
    "tpu-v5e": Accelerator("TPU v5e", 16 * GIB, _tflops("197"), None, "Google Cloud TPU v5e documentation"),
}
ALIASES = {"a100": "a100-80gb", "h100": "h100-sxm", "h200-sxm": "h200", "4090": "rtx-4090", "rtx4090": "rtx-4090",
           "v5e": "tpu-v5e"}


def accelerator(name: str) -> Accelerator:
    key = name.strip().lower().replace("_", "-").replace(" ", "-")
    key = ALIASES.get(key, key)
    if key not in ACCELERATORS:
        import difflib

        near = difflib.get_close_matches(key, [*ACCELERATORS, *ALIASES], n=1)
        hint = f"; did you mean {near[0]}?" if near else ""
        raise LearnableError(f"unknown accelerator {name!r}: known are {', '.join(ACCELERATORS)}{hint} "
                             "(or give --gpu-memory and --peak-flops)")
    return ACCELERATORS[key]


_UNITS = {"": 1, "b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12,
          "kib": 1 << 10, "mib": 1 << 20, "gib": GIB, "tib": 1 << 40}
_SIZE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*", re.IGNORECASE)


def memory_size(text: str) -> int:
    """``80GiB`` → 85,899,345,920 bytes; ``24GB`` → 24,000,000,000 (GB are 10^9, GiB 2^30)."""
    match = _SIZE.fullmatch(text)
    unit = match and match.group(2).lower()
    if not match or unit not in _UNITS:
        raise LearnableError(f"a memory size is a number and a unit (GiB, GB, MiB, MB, B), e.g. 80GiB; got {text!r}")
    whole, _, frac = match.group(1).partition(".")
    scale = _UNITS[unit]
    size = int(whole) * scale + int(frac or "0") * scale // 10 ** len(frac)
    if size < 1:
        raise LearnableError(f"a memory size must be at least one byte, got {text!r}")
    return size
