"""Hugging Face transformers' own module classes → rules, for the PyTorch importer.

transformers writes its layers as plain ``nn.Module`` classes (every ``*RMSNorm``, GPT-2's
``Conv1D``, the rotary embeddings, the fused MoE experts), so torch.nn's table misses them.
They are matched here by class name and by the tensors they hold, never by importing
transformers: a class whose name fits but whose tensors do not is left to the ``Tensors``
rule, and the importer still checks that the rule lists exactly the module's tensors (and,
with a trace, its output shape). Readers return the rule's arguments, or None.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from torch import nn

from ..rules import Rule, lookup

Kwargs = dict[str, Any]


def _params(m: nn.Module) -> dict[str, tuple[int, ...]]:
    return {n: tuple(t.shape) for n, t in m.named_parameters(recurse=False)}


def _buffers(m: nn.Module) -> dict[str, tuple[int, ...]]:
    return {n: tuple(t.shape) for n, t in m.named_buffers(recurse=False)}


def _weightless(m: nn.Module) -> bool:
    return not _params(m) and not _buffers(m)


def _rms_norm(m: nn.Module) -> Kwargs | None:
    """LlamaRMSNorm, Qwen3's q_norm, Gemma's (1 + weight): one weight (d,), no shift.
    T5LayerNorm is one too (no mean, no bias), as are other ``*LayerNorm`` classes that keep
    T5's ``variance_epsilon``."""
    params = _params(m)
    if _buffers(m) or set(params) != {"weight"} or len(params["weight"]) != 1:
        return None
    return {"normalized_shape": params["weight"]}


def _layer_norm(m: nn.Module) -> Kwargs | None:
    """OLMo's LayerNorm without affine weights (``normalized_shape`` only), or weight and bias (d,)."""
    params, shape = _params(m), getattr(m, "normalized_shape", None)
    if _buffers(m):
        return None
    if not params:
        ok = isinstance(shape, (tuple, list)) and shape and all(isinstance(d, int) for d in shape)
        return {"normalized_shape": tuple(shape), "elementwise_affine": False} if ok else None
    if set(params) <= {"weight", "bias"} and "weight" in params and len(set(params.values())) == 1:
        return {"normalized_shape": params["weight"], "bias": "bias" in params}
    return None


def _conv1d(m: nn.Module) -> Kwargs | None:
    """GPT-2's Conv1D(nf, nx): weight (nx, nf), bias (nf)."""
    nf, nx = getattr(m, "nf", None), getattr(m, "nx", None)
    fits = _params(m) == {"weight": (nx, nf), "bias": (nf,)} and not _buffers(m)
    return {"nf": nf, "nx": nx} if fits else None


def _rotary(m: nn.Module) -> Kwargs | None:
    """No parameters; inverse-frequency buffers, all (dim / 2,)."""
    buffers = _buffers(m)
    sizes = set(buffers.values())
    if _params(m) or len(sizes) != 1 or len(next(iter(sizes))) != 1:
        return None
    return {"dim": 2 * next(iter(sizes))[0], "buffers": tuple(buffers)}


def _scaled_embedding(m: nn.Module) -> Kwargs | None:
    """An nn.Embedding times a constant; Gemma keeps it as a 0-d buffer too."""
    buffers = _buffers(m)
    if not isinstance(m, nn.Embedding) or buffers not in ({}, {"embed_scale": ()}):
        return None
    scale = getattr(m, "scalar_embed_scale", getattr(m, "embed_scale", None))
    return {"num_embeddings": m.num_embeddings, "embedding_dim": m.embedding_dim, "padding_idx": m.padding_idx,
            "embed_scale": scale if isinstance(scale, (int, float)) else None, "scale_buffer": bool(buffers)}


def _experts(m: nn.Module) -> Kwargs | None:
    """3-D tensors stacked over the experts; the layout (which axis is in, which out) from
    the module's ``is_transposed``, else from the shapes."""
    params = _params(m)
    up = params.get("gate_up_proj") or params.get("up_proj")
    down = params.get("down_proj")
    if up is None or down is None or len(up) != 3 or len(down) != 3 or _buffers(m):
        return None
    gated, ways = "gate_up_proj" in params, getattr(m, "is_transposed", None)
    for transposed in (False, True) if ways is None else (bool(ways),):
        e, h, i = (down[0], down[2], down[1]) if transposed else down
        if up == ((e, h, (1 + gated) * i) if transposed else (e, (1 + gated) * i, h)):
            k = _top_k(m)
            return {"num_experts": e, "hidden_size": h, "intermediate_size": i, "gated": gated,
                    "bias": "down_proj_bias" in params, "transposed": transposed,
                    **({"active": f"{k} of {e}"} if k is not None and k <= e else {
                        "note": "top_k (experts per token) not known: the MACs are every expert's"})}
    return None


def _top_k(m: nn.Module) -> int | None:
    """Experts per token, where the module says (``top_k``, or its config's ``num_experts_per_tok``)."""
    for value in (getattr(m, "top_k", None), getattr(getattr(m, "config", None), "num_experts_per_tok", None)):
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
    return None


_EXPERT_COUNTS = ("num_experts", "n_routed_experts", "num_local_experts", "num_experts_total")


def _router(m: nn.Module) -> Kwargs | None:
    """weight (E, H), maybe a bias (E), maybe e_score_correction_bias (E) as a buffer; E
    must be the module's own number of experts (a gate that is no router has none)."""
    params, buffers = _params(m), _buffers(m)
    weight = params.get("weight")
    if weight is None or len(weight) != 2 or not any(getattr(m, n, None) == weight[0] for n in _EXPERT_COUNTS):
        return None
    e = weight[0]
    if set(params) - {"weight", "bias"} or params.get("bias", (e,)) != (e,) or buffers not in (
            {}, {"e_score_correction_bias": (e,)}):
        return None
    return {"num_experts": e, "hidden_size": weight[1], "bias": "bias" in params, "correction_bias": bool(buffers)}


def _drop_path(m: nn.Module) -> Kwargs | None:
    """timm's DropPath, torchvision's StochasticDepth: dropout of whole residual branches,
    the identity in inference."""
    p = getattr(m, "drop_prob", getattr(m, "p", None))
    return {"p": p if isinstance(p, (int, float)) and 0 <= p <= 1 else 0.5} if _weightless(m) else None


def _constant(kwargs: Kwargs) -> Callable[[nn.Module], Kwargs | None]:
    return lambda m: dict(kwargs) if _weightless(m) else None


# transformers/activations.py: what each computes, as torch.nn's module or as the function
_TANH = {"approximate": "tanh"}
_ACTIVATIONS: dict[str, tuple[str, Kwargs]] = {
    "GELUActivation": ("nn.GELU", {}), "GELUTanh": ("nn.GELU", _TANH), "PytorchGELUTanh": ("nn.GELU", _TANH),
    "NewGELUActivation": ("nn.GELU", _TANH), "FastGELUActivation": ("nn.GELU", _TANH),
    "AccurateGELUActivation": ("nn.GELU", _TANH), "SiLUActivation": ("nn.SiLU", {}), "MishActivation": ("nn.Mish", {}),
    "LinearActivation": ("nn.Identity", {}),
    "QuickGELUActivation": ("Elementwise", {"function": "x * sigmoid(1.702 * x)"}),
    "ClippedGELUActivation": ("Elementwise", {"function": "clip(gelu(x), min, max)"}),
    "LaplaceActivation": ("Elementwise", {"function": "0.5 * (1 + erf((x - mu) / (sigma * sqrt(2))))"}),
    "ReLUSquaredActivation": ("Elementwise", {"function": "relu(x) ** 2"}),
    "SqrtSoftplusActivation": ("Elementwise", {"function": "sqrt(softplus(x))"}),
}

# (class name pattern, rule, reader), tried in order: T5LayerNorm before the LayerNorms
_TABLE: tuple[tuple[re.Pattern[str], str, Callable[[nn.Module], Kwargs | None]], ...] = (
    (re.compile(r"(RMSNorm|T5LayerNorm)$"), "nn.RMSNorm", _rms_norm),
    (re.compile(r"LayerNorm$"), "nn.RMSNorm", lambda m: _rms_norm(m) if hasattr(m, "variance_epsilon") else None),
    (re.compile(r"LayerNorm$"), "nn.LayerNorm", _layer_norm),
    (re.compile(r"^Conv1D$"), "nn.TransposedLinear", _conv1d),
    (re.compile(r"RotaryEmbedding$"), "nn.RotaryEmbedding", _rotary),
    (re.compile(r"ScaledWordEmbedding$"), "nn.ScaledEmbedding", _scaled_embedding),
    (re.compile(r"Experts$"), "nn.Experts", _experts),
    (re.compile(r"(Router|Gate)$"), "nn.Router", _router),
    (re.compile(r"(DropPath|StochasticDepth)$"), "nn.Dropout", _drop_path),
    *((re.compile(f"^{name}$"), rule, _constant(kwargs)) for name, (rule, kwargs) in _ACTIVATIONS.items()),
)


def transformers_rule(module: nn.Module) -> tuple[Rule, Kwargs] | None:
    """The rule and its arguments for a module of transformers' (by its class's name and
    its tensors), or None."""
    name = type(module).__name__
    for pattern, rule, read in _TABLE:
        if pattern.search(name) and (kwargs := read(module)) is not None:
            return lookup(rule), kwargs
    return None
