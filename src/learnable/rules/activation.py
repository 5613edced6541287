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
    "LeakyReLU": _optional("negative_slope"),
    "ELU": _optional("alpha"),
    "Softmax": _optional("axis"),
}
for _name, _args in _KERAS.items():
    identity_rule(_name, *_args, family="activation", doc=_DOC.format(f"Keras {_name}"))

_TORCH = {
    "ReLU": (), "ReLU6": (), "SELU": (), "SiLU": (), "Mish": (), "Sigmoid": (), "Tanh": (),
    "Hardswish": (), "Hardsigmoid": (), "Softsign": (), "Tanhshrink": (), "LogSigmoid": (),
    "LeakyReLU": ("negative_slope",), "ELU": ("alpha",), "CELU": ("alpha",),
    "GELU": ("approximate",), "Softmax": ("dim",), "LogSoftmax": ("dim",),
    "Softmin": ("dim",), "Softplus": ("beta", "threshold"), "Hardtanh": ("min_val", "max_val"),
    "Hardshrink": ("lambd",), "Softshrink": ("lambd",), "Threshold": ("threshold", "value"),
    "RReLU": ("lower", "upper"),
}
for _name, _names in _TORCH.items():
    identity_rule(_name, *_optional(*_names), framework=PYTORCH, family="activation",
                  doc=_DOC.format(f"PyTorch nn.{_name}"))
