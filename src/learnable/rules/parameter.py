"""Learnable tensors that are no layer: ViT's class token and position embedding.

PyTorch ``nn.Parameter(torch.zeros(1, 1, 768))`` and Keras ``self.add_weight(shape=(1, 1,
768))`` store a tensor of any shape, which forward()/call() then uses beside the layers'
outputs (``torch.cat([cls, x], dim=1)``, ``x + pos``, ``x @ W``). Its node takes no input
and is not the network's input: its one weight, ``weight`` of the stored shape, is what it
outputs. With ``batch_axis`` the stored first axis is 1 and stands for the batch it is
broadcast over (``cls.expand(B, -1, -1)``), so one example sees ``shape[1:]``; otherwise the
example sees the stored shape (a tensor used as it is, such as ``x @ W``).

Both frameworks count it as a parameter, trainable unless frozen (``requires_grad=False``,
``trainable=False``): Keras in ``count_params()`` and ``trainable_weights``, PyTorch in
``parameters()``. So the conventions agree. No MACs: nothing is computed. Its receptive
field is unknown (it reads no input). The rule is registered under both frameworks' names,
as Dropout is, so a Parameter says nothing about whose names a spec uses, and a spec in
PyTorch's names still counts in PyTorch's convention.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .._text import shape_text
from ..errors import ArgumentError, RuleError
from ..expr import num
from ._args import Arg, boolean, shape
from ._base import NO_MACS, Context, Inference, Rule, Shape, Weight
from ._registry import KERAS, PYTORCH, register


def _stored_shape(value: Any) -> tuple[int, ...]:
    dims = shape(value)
    if None in dims:
        raise ArgumentError(None, f"must be the stored tensor's sizes, all known, got {value!r}")
    return dims


def _parameter(a: Mapping[str, Any], shapes: Sequence[Shape], ctx: Context) -> Inference:
    stored = a["shape"]
    out = stored
    if a["batch_axis"]:
        if stored[0] != 1:
            raise RuleError(f"batch_axis=true reads the first axis of shape {shape_text(stored)} as the batch, "
                            f"so its size must be 1, not {stored[0]}")
        if len(stored) == 1:
            raise RuleError("batch_axis=true leaves no axis of shape (1,) for one example; give the tensor an "
                            "axis more, or leave batch_axis out")
        out = stored[1:]
    weight = Weight("weight", tuple(num(d, f"d_{i}") for i, d in enumerate(stored, start=1)))
    return Inference(out, (weight,), macs=NO_MACS)


_ARGS = (Arg("shape", _stored_shape), Arg("batch_axis", boolean, False))
_DOC = ("{}: a learnable tensor of the stored shape, one weight d_1×d_2×…, trainable unless frozen; takes no "
        "input. With batch_axis the first axis (size 1) is the batch it broadcasts over: the output is shape[1:].")
for _framework, _how in ((KERAS, "Keras self.add_weight(shape=...)"),
                         (PYTORCH, "PyTorch nn.Parameter(torch.zeros(...))")):
    register(Rule(
        name="Parameter", family="parameter", infer=_parameter, args=_ARGS, arity=(0, 0), framework=_framework,
        packs_positional=True,  # Parameter(1, 1, 768) as torch.zeros(1, 1, 768)
        doc=_DOC.format(_how),
    ))
