"""Tensors that are no layer: ViT's class token and position embedding (``Parameter``), and
a module's own buffer (``Buffer``: BERT's ``position_ids``).

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

``Buffer`` is PyTorch's ``self.register_buffer(name, tensor)`` held by a module beside its
submodules (BERT's embeddings keep ``position_ids``, an index table): state, not a parameter,
so PyTorch's ``parameters()`` leaves it out and ``buffers()`` lists it. Its one tensor,
``buffer``, counts as buffers, never as parameters. Keras has no buffers (it keeps such
state as non-trainable weights), so the rule is PyTorch's only.
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
    """The stored tensor's sizes, all known; () for a scalar (CLIP's ``logit_scale``)."""
    if isinstance(value, (list, tuple)) and not value:
        return ()
    dims = shape(value)
    if None in dims:
        raise ArgumentError(None, f"must be the stored tensor's sizes, all known, got {value!r}")
    return dims


def _weight(name: str, stored: tuple[int, ...], buffer: bool = False) -> Weight:
    return Weight(name, tuple(num(d, f"d_{i}") for i, d in enumerate(stored, start=1)), not buffer, buffer)


def _parameter(a: Mapping[str, Any], shapes: Sequence[Shape], ctx: Context) -> Inference:
    stored = a["shape"]
    out = stored
    if a["batch_axis"]:
        if not stored:
            raise RuleError("batch_axis=true reads the first axis as the batch, and a scalar has none; leave "
                            "batch_axis out")
        if stored[0] != 1:
            raise RuleError(f"batch_axis=true reads the first axis of shape {shape_text(stored)} as the batch, "
                            f"so its size must be 1, not {stored[0]}")
        if len(stored) == 1:
            raise RuleError("batch_axis=true leaves no axis of shape (1,) for one example; give the tensor an "
                            "axis more, or leave batch_axis out")
        out = stored[1:]
    return Inference(out, (_weight("weight", stored),), macs=NO_MACS)


def _buffer(a: Mapping[str, Any], shapes: Sequence[Shape], ctx: Context) -> Inference:
    return Inference(a["shape"], (_weight("buffer", a["shape"], buffer=True),), macs=NO_MACS)


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
register(Rule(
    name="Buffer", family="parameter", infer=_buffer, args=(Arg("shape", _stored_shape),), arity=(0, 0),
    framework=PYTORCH, packs_positional=True,
    doc="PyTorch self.register_buffer(name, torch.zeros(...)): a module's own state tensor of the stored shape "
        "(BERT's position_ids), d_1×d_2×… elements counted as buffers, not parameters; takes no input, "
        "outputs the stored shape.",
))
