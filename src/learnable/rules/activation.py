"""Activation layers: elementwise, no parameters, the input's shape.

(PReLU learns slopes and belongs with the layers that own weights.) Arguments are
declared so a misspelt one is caught, even though none of them changes a count.
"""

from __future__ import annotations

from ._args import Arg, anything
from ._registry import PYTORCH
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
    "Hardtanh": ("min_val", "max_val", "inplace"), "Hardshrink": ("lambd",), "Softshrink": ("lambd",),
    "Threshold": ("threshold", "value", "inplace"), "RReLU": ("lower", "upper", "inplace"),
}
for _name, _names in _TORCH.items():
    identity_rule(_name, *_optional(*_names), framework=PYTORCH, family="activation",
                  doc=_DOC.format(f"PyTorch nn.{_name}"))
