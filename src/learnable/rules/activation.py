"""Activation layers: elementwise, no parameters, the input's shape, no multiply-accumulates
(a nonlinearity is not a MAC; docs/compute.md says how peers count it).

(PReLU learns slopes and belongs with the layers that own weights.) Arguments are
declared so a misspelt one is caught, even though none of them changes a count. Keras
3.15's layers add no other activation (PReLU aside); everything else is
``Activation(name)``. PyTorch's list is ``torch.nn.modules.activation`` in torch 2.13.

Elementwise stands for any other weightless function of one tensor that keeps its shape,
written as code rather than as a layer (``torch.exp(x)``, ``x.sqrt()``, ``x ** 2``,
``x.abs()``, ``torch.clamp(x, 0, 1)``): ``function`` names it in the row's note, and it
counts as an activation does (no MACs, even where the function multiplies, as ``x ** 2``).

Two PyTorch activations change or check the shape: GLU halves its dim (a · σ(b) over the
two halves, so the size must be even), and Softmax2d takes (C, H, W), or (C, L) that
PyTorch reads as unbatched, since shapes here exclude the batch.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .._text import shape_text
from ..errors import ArgumentError, RuleError
from ..expr import num, quotient
from ._args import REQUIRED, Arg, anything, integer
from ._base import NO_MACS, POINTWISE, Context, Inference, Rule, Shape, ShapeNote
from ._registry import PYTORCH, register
from .merge import torch_dim
from .structure import identity_rule


def _optional(*names: str) -> tuple[Arg, ...]:
    return tuple(Arg(n, anything, None) for n in names)


_DOC = "{}: an activation; no parameters, the input's shape."

_KERAS = {
    "Activation": (Arg("activation", anything),),
    "ReLU": _optional("max_value", "negative_slope", "threshold"),
    "LeakyReLU": _optional("negative_slope", "alpha"),  # alpha: Keras 2's name, still accepted
    "ELU": _optional("alpha"),
    "Softmax": _optional("axis"),
}
for _name, _args in _KERAS.items():
    identity_rule(_name, *_args, family="activation", doc=_DOC.format(f"Keras {_name}"))

# In the order of each module's signature, so positional values bind as in PyTorch
# (``nn.ReLU(True)`` is inplace=True, as pasted from torchvision).
_TORCH = {
    "ReLU": ("inplace",), "ReLU6": ("inplace",), "SELU": ("inplace",), "SiLU": ("inplace",),
    "Mish": ("inplace",), "Hardswish": ("inplace",), "Hardsigmoid": ("inplace",),
    "Sigmoid": (), "Tanh": (), "Softsign": (), "Tanhshrink": (), "LogSigmoid": (),
    "LeakyReLU": ("negative_slope", "inplace"), "ELU": ("alpha", "inplace"), "CELU": ("alpha", "inplace"),
    "GELU": ("approximate",), "Softmax": ("dim",), "LogSoftmax": ("dim",),
    "Softmin": ("dim",), "Softplus": ("beta", "threshold"),
    # min_value/max_value: Hardtanh's deprecated spellings, still accepted by torch 2.13
    "Hardtanh": ("min_val", "max_val", "inplace", "min_value", "max_value"),
    "Hardshrink": ("lambd",), "Softshrink": ("lambd",), "RReLU": ("lower", "upper", "inplace"),
}
for _name, _names in _TORCH.items():
    identity_rule(_name, *_optional(*_names), framework=PYTORCH, family="activation",
                  doc=_DOC.format(f"PyTorch nn.{_name}"))
identity_rule("Threshold", Arg("threshold", anything, REQUIRED), Arg("value", anything, REQUIRED),
              *_optional("inplace"), framework=PYTORCH, family="activation",
              doc=_DOC.format("PyTorch nn.Threshold (threshold and value are required)"))


def _glu(a: Mapping[str, Any], shapes: Sequence[Shape], ctx: Context) -> Inference:
    x, dim = shapes[0], a["dim"]
    i = torch_dim(dim, x)
    if x[i] is None:
        return Inference(x, macs=NO_MACS)
    if x[i] % 2:
        raise RuleError(f"halves dim {dim}, so its size must be even, but it is {x[i]}")
    half = quotient(num(x[i], "n"), num(2))
    return Inference((*x[:i], half.value, *x[i + 1:]), shape_notes=(ShapeNote(f"dim {dim}", half),), macs=NO_MACS)


def _softmax2d(a: Mapping[str, Any], shapes: Sequence[Shape], ctx: Context) -> Inference:
    if len(shapes[0]) not in (2, 3):
        raise RuleError(f"expects (channels, height, width), batch excluded, got shape {shape_text(shapes[0])}")
    return Inference(shapes[0], macs=NO_MACS)


register(Rule(
    name="GLU", family="activation", framework=PYTORCH, infer=_glu, args=(Arg("dim", integer, -1),), field=POINTWISE,
    doc="PyTorch nn.GLU: no parameters; halves dim (the batch is dim 0; the last by default), whose size must be even.",
))
register(Rule(
    name="Softmax2d", family="activation", framework=PYTORCH, infer=_softmax2d, args=(), field=POINTWISE,
    doc="PyTorch nn.Softmax2d: no parameters; a softmax over the channels of a (C, H, W) input.",
))


def _text(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ArgumentError(None, f"must name the function as text, such as 'exp' or 'x ** 2', got {value!r}")
    return value.strip()


def _elementwise(a: Mapping[str, Any], shapes: Sequence[Shape], ctx: Context) -> Inference:
    return Inference(shapes[0], macs=NO_MACS, note=f"elementwise {a['function']}")


register(Rule(
    name="Elementwise", family="activation", infer=_elementwise, args=(Arg("function", _text),), field=POINTWISE,
    doc="A weightless function of one tensor, value by value (torch.exp, x.sqrt(), x ** 2, x.abs(), torch.clamp): "
        "no parameters, the input's shape, no MACs (as an activation); `function` is shown in the row's note.",
))
