"""What the code's own text says before it is read: whose framework it is written for, the
library names a cell without imports means by convention, and the values the user gives
(``--set``) as the objects the code will find."""

from __future__ import annotations

import ast
from typing import Any

from ..rules import KERAS, PYTORCH
from ..rules._registry import frameworks_of
from .names import TORCH
from .values import ClassObj, Instance


# The names code uses for the libraries by convention (import torch.nn as nn, ...).
ALIASES = {"nn": "torch.nn", "F": "torch.nn.functional", "torch": "torch", "optim": "torch.optim",
            "keras": "keras", "layers": "keras.layers", "tf": "tensorflow", "K": "keras.backend", "ops": "keras.ops",
            "np": "numpy", "math": "math", "models": "keras.models"}


def nested(values: dict[str, Any]) -> dict[str, Any]:
    """``{"input_lang.n_words": 4345}`` → input_lang, an object whose n_words is 4345."""
    result: dict[str, Any] = {}
    for key, value in values.items():
        head, *path = str(key).split(".")
        if not path:
            result[head] = value
            continue
        obj = result.get(head)
        if not isinstance(obj, Instance):
            obj = result[head] = Instance(ClassObj(head, (), {}))
        for part in path[:-1]:
            inner = obj.attrs.get(part)
            if not isinstance(inner, Instance):
                inner = obj.attrs[part] = Instance(ClassObj(part, (), {}))
            obj = inner
        obj.attrs[path[-1]] = value
    return result


def framework(tree: ast.Module) -> str:
    """Whose code this is, from what it imports (PyTorch's when it imports torch and no
    Keras); without imports (a pasted cell), from the names it uses (``nn.``, ``layers.Dense``)."""
    keras = torch = False
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
        for name in names:
            head = name.split(".")[0]
            torch |= head in ("torch", "torchvision")
            keras |= head in ("keras", "tensorflow", "tf_keras", "keras_core")
    if torch or keras:
        return TORCH if torch and not keras else KERAS
    return _framework_from_names(tree)


def _framework_from_names(tree: ast.Module) -> str:
    """No imports: the conventional names (``nn.Linear``, ``keras.Input``, ``layers.Dense``)
    and the layer names (Conv2d is PyTorch's, Conv2D Keras's) decide."""
    torch = keras = 0
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.attr[:1].isupper():
            torch += node.value.id in ("nn", "torch")
            keras += node.value.id in ("keras", "layers", "tf")
        if isinstance(node, ast.Call):
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            owners = frameworks_of(name) if name else frozenset()
            torch += owners == {PYTORCH}
            keras += owners == {KERAS}
    return TORCH if torch > keras else KERAS
