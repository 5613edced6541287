"""Dense (Keras), Linear (PyTorch) and TransposedLinear (GPT-2's Conv1D): ``inputs × outputs + biases``.

Keras's Dense acts on the last axis only (CONVENTIONS.md §1): on an H×W×C input it gives
H×W×units with a C×units kernel shared across positions, so the count does not depend on
H or W. This is the seeds' "if the previous layer was a dense layer, the input to the
conv layer is the number of nodes". nn.Linear does the same with ``in_features``.
MACs: each output value is a dot product over the inputs, ``(H×W×units)×(C)``; with
LoRA, the two factors are applied too (x·A, then ·B), as Keras computes it.
TransposedLinear is Hugging Face's ``Conv1D(nf, nx)`` (transformers.pytorch_utils, GPT-2's
attention and MLP): despite its name a Linear whose weight is stored (in, out), ``nx × nf``,
as Keras stores a Dense kernel; it computes ``x @ weight + bias``, so it counts as a Linear.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from ..errors import RuleError
from ..expr import num, product, total
from ._args import Arg, anything, boolean, optional, positive
from ._base import (
    POINTWISE,
    Context,
    Inference,
    Rule,
    Shape,
    Weight,
    kernel_and_bias,
    known_dims,
    output_macs,
    shape_text,
)
from ._registry import PYTORCH, register


def dense(x: Shape, units: int, use_bias: bool, ctx: Context) -> Inference:
    if not x:
        raise RuleError("needs an input with at least one axis")
    d = x[-1]
    if d is None:
        raise RuleError(
            f"needs a known last dimension, but its input {shape_text(x)} ends in None; "
            "give the input a fixed size or reduce it first (e.g. global pooling)"
        )
    weights = kernel_and_bias(ctx, (), num(d, "inputs"), num(units, "units"), use_bias)
    out = (*x[:-1], units)
    dims = known_dims(x[:-1])
    macs = None if dims is None else output_macs((*dims, num(units, "units")), (num(d, "inputs"),))
    return Inference(out, weights, macs=macs)


def _keras(a: Mapping[str, Any], shapes: Sequence[Shape], ctx: Context) -> Inference:
    inference = dense(shapes[0], a["units"], a["use_bias"], ctx)
    return with_lora(inference, a["lora_rank"], ctx) if a["lora_rank"] else inference


def with_lora(inference: Inference, rank: int, ctx: Context) -> Inference:
    """Keras LoRA: the kernel (inputs × units) is frozen and two trainable factors are
    added, lora_kernel_a (inputs × r) and lora_kernel_b (r × units)."""
    kernel, *rest = inference.weights
    d, units = kernel.dims[-2], kernel.dims[-1]
    frozen = Weight(kernel.name, kernel.dims, trainable=False)
    factors = (Weight("lora_kernel_a", (d, num(rank, "r"))), Weight("lora_kernel_b", (num(rank, "r"), units)))
    positions = known_dims(inference.output_shape[:-1])
    if inference.macs is not None and positions is not None:  # x·kernel + (x·A)·B, per position
        lora = product(*positions, total(product(d, num(rank)), product(num(rank), units)))
        inference = replace(inference, macs=total(inference.macs, lora))
    note = "Keras LoRA freezes the kernel and trains two rank-r factors; PyTorch's nn.Linear has no LoRA"
    if ctx.pytorch:
        note += "; counted as Keras counts it"
        kernel = Weight("kernel", (d, units), trainable=False)
        return replace(inference, weights=(kernel, *rest, *factors), note=note)
    return replace(inference, weights=(frozen, *rest, *factors), note=note)


def _torch(a: Mapping[str, Any], shapes: Sequence[Shape], ctx: Context) -> Inference:
    x = shapes[0]
    if x and x[-1] is not None and x[-1] != a["in_features"]:
        raise RuleError(f"in_features={a['in_features']} but its input {shape_text(x)} has {x[-1]} features on its last axis")
    if x and x[-1] is None:  # nn.Linear states its input size, so an unknown one is known here
        x = (*x[:-1], a["in_features"])
    return dense(x, a["out_features"], a["bias"], ctx)


register(Rule(
    name="Dense", family="dense", infer=_keras, field=POINTWISE,
    args=(Arg("units", positive), Arg("activation", anything, None), Arg("use_bias", boolean, True),
          Arg("lora_rank", optional(positive), None), Arg("lora_alpha", anything, None)),
    doc="Keras Dense: kernel (inputs × units) + bias (units), on the last axis; with lora_rank r, "
        "the kernel is frozen and lora_kernel_a (inputs × r) + lora_kernel_b (r × units) are trained.",
))
register(Rule(
    name="Linear", family="dense", infer=_torch, framework=PYTORCH, field=POINTWISE,
    args=(Arg("in_features", positive), Arg("out_features", positive), Arg("bias", boolean, True)),
    doc="PyTorch nn.Linear: weight (out_features × in_features) + bias (out_features).",
))


def _transposed(a: Mapping[str, Any], shapes: Sequence[Shape], ctx: Context) -> Inference:
    x, nx, nf = shapes[0], a["nx"], a["nf"]
    if x and x[-1] is not None and x[-1] != nx:
        raise RuleError(f"nx={nx} but its input {shape_text(x)} has {x[-1]} features on its last axis")
    inference = dense((*x[:-1], nx) if x else x, nf, True, ctx)
    # stored (in, out) in both conventions: x @ weight, as Keras's kernel
    stored = (num(nx, "nx"), num(nf, "nf"))
    weights = (Weight("weight" if ctx.pytorch else "kernel", stored), Weight("bias", (num(nf, "nf"),)))
    return replace(inference, weights=weights)


register(Rule(
    name="TransposedLinear", family="dense", infer=_transposed, framework=PYTORCH, field=POINTWISE,
    args=(Arg("nf", positive), Arg("nx", positive)),
    doc="Hugging Face's Conv1D(nf, nx) (GPT-2): a Linear stored (in, out), weight (nx × nf) + bias (nf); "
        "x @ weight + bias on the last axis, MACs as a Linear's.",
))
