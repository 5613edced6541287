"""Inference memory terms read from what the graph declares: the KV cache of the layers
that say what they keep per token (report.KVCache), and the weights as the source stores
them (report.Stored). memory.py puts them beside the other terms."""

from __future__ import annotations

from collections.abc import Sequence

from .expr import Expr, num, product, quotient, total
from .report import KVCache, Report, Stored

KV_BYTES = {"fp32": 4, "fp16": 2, "bf16": 2, "fp8": 1, "int8": 1}
METADATA = "metadata"  # a Stored format ending so: quantization metadata, a term of its own


def kv_terms(report: Report, context: int, batch: int, kv_dtype: str):
    """(the KV cache term, or none; its bytes per token; notes). Layers alike are grouped:
    ``2×80×8×128×8,192×1×2``: keys and values × layers × heads × head size × tokens × batch
    × bytes; a windowed layer holds min(context, window) tokens."""
    from .memory import Term

    groups: dict[KVCache, int] = {}
    for row in report.layers:
        if row.kv_cache is not None:
            groups[row.kv_cache] = groups.get(row.kv_cache, 0) + 1
    if not groups:
        note = (f"KV cache at {context:,} tokens not known: no layer declares what it caches (kv_cache:); "
                "Hugging Face decoder configs do")
        return [], None, (note,)
    size = KV_BYTES[kv_dtype]
    cache = total(*(product(*_factors(kv, n), num(min(context, kv.window or context)), num(batch), num(size))
                    for kv, n in groups.items()))
    per_token = total(*(product(*_factors(kv, n), num(size)) for kv, n in groups.items()))
    windows = sorted({kv.window for kv in groups if kv.window})
    windowed = sum(n for kv, n in groups.items() if kv.window)
    shown = f"; {windowed:,} layers keep at most their window of {', '.join(f'{w:,}' for w in windows)} tokens" \
        if windows else ""
    label = (f"KV cache ({_what(groups)} × tokens × batch × bytes: {context:,} tokens, batch {batch:,}, "
             f"{kv_dtype}{shown})")
    per = Term(f"KV cache per token of context ({_what(groups)} × bytes, {kv_dtype})", per_token,
               "kv_cache_per_token")
    return [Term(label, cache, "kv_cache")], per, ()


def _factors(kv: KVCache, layers: int) -> list[Expr]:
    dims = num(kv.dims[0]) if len(kv.dims) == 1 else total(*map(num, kv.dims))
    return [num(kv.tensors), num(layers), num(kv.heads), dims]


def _what(groups: dict[KVCache, int]) -> str:
    kinds = {"keys and values" if kv.tensors == 2 else "latents" for kv in groups}
    latent = any(len(kv.dims) > 1 for kv in groups)
    dims = "(latent + rope) size" if latent else "head size"
    return f"{' and '.join(sorted(kinds))} × layers × {'kv heads' if not latent else 'heads'} × {dims}"


def all_stored(report: Report) -> bool:
    """Whether the source says how every layer holding parameters or buffers stores them."""
    held = [row for row in report.layers if row.params or row.buffers]
    return bool(held) and all(row.stored for row in held)


def stored_terms(report: Report) -> list:
    """The weights (and buffers) as stored, by format: ``Q4_K: 16,777,216/256×144``; the
    quantization metadata (scales, zeros, absmax) as a term of its own."""
    from .memory import Term

    formats: dict[str, list[Stored]] = {}
    for row in report.layers:
        for s in row.stored:
            formats.setdefault(s.format, []).append(s)
    weights = {f: v for f, v in formats.items() if not f.endswith(METADATA)}
    terms = [Term(f"weights as stored ({_legend(weights)})", total(*(_format_bytes(v) for v in weights.values())),
                  "weights")]
    metadata = {f: v for f, v in formats.items() if f.endswith(METADATA)}
    if metadata:
        terms.append(Term(f"quantization metadata as stored ({_metadata_legend(metadata, weights)})",
                          total(*(_format_bytes(v) for v in metadata.values())), "quantization_metadata"))
    return terms


def _metadata_legend(metadata: dict[str, list[Stored]], weights: dict[str, list[Stored]]) -> str:
    """``GPTQ 4-bit, group 128: scales F16, qzeros I32, g_idx I32; 0.3125 bits per quantized
    weight``: a metadata format is ``<scheme>: <tensor> <dtype> metadata``, its scheme a weight's."""
    schemes: dict[str, list[str]] = {}
    for name in metadata:
        scheme, _, tensor = name.removesuffix(METADATA).strip().rpartition(": ")
        schemes.setdefault(scheme, []).append(tensor)
    shown = "; ".join(f"{s}: {', '.join(t)}" if s else ", ".join(t) for s, t in schemes.items())
    quantized = sum(e.elements for s in schemes if s in weights for e in weights[s])
    extra = sum(e.bytes for v in metadata.values() for e in v)
    return f"{shown}; {8 * extra / quantized:.4g} bits per quantized weight" if quantized else shown


def _format_bytes(entries: Sequence[Stored]) -> Expr:
    """One format's bytes: elements/block × bytes per block where every tensor fills whole
    blocks of one layout, else each tensor's bytes."""
    layouts = {(s.block, s.block_bytes) for s in entries}
    elements = sum(s.elements for s in entries)
    if len(layouts) == 1 and all(s.elements % s.block == 0 for s in entries):
        block, size = layouts.pop()
        if block == 1:
            return product(num(elements), num(size))
        return product(quotient(num(elements), num(block)), num(size))
    return num(sum(s.bytes for s in entries))


def _legend(formats: dict[str, list[Stored]]) -> str:
    """``Q4_K 4.5 bits/weight, F32 32 bits/weight``."""
    parts = []
    for name, entries in formats.items():
        elements = sum(s.elements for s in entries)
        bits = 8 * sum(s.bytes for s in entries) / elements if elements else 0
        parts.append(f"{name} {bits:.4g} bits/weight")
    return ", ".join(parts)
