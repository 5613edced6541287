"""What the code's own text says before it is read: whose framework it is written for, the
library names a cell without imports means by convention, and the values the user gives
(``--set``) as the objects the code will find."""

from __future__ import annotations

import ast
import builtins
from typing import Any

from ..errors import SpecError
from ..rules import KERAS, PYTORCH
from ..rules._args import suggest
from ..rules._registry import frameworks_of
from .names import TORCH
from .values import ClassObj, Instance


# The names code uses for the libraries by convention (import torch.nn as nn, ...).
ALIASES = {"nn": "torch.nn", "F": "torch.nn.functional", "torch": "torch", "optim": "torch.optim",
            "keras": "keras", "layers": "keras.layers", "tf": "tensorflow", "K": "keras.backend", "ops": "keras.ops",
            "np": "numpy", "math": "math", "models": "keras.models"}


def settable(tree: ast.Module) -> set[str]:
    """The names ``values``/``--set`` can give: those the code's top level assigns (in its
    ifs and loops too), and those it uses without defining anywhere (from a cell not
    pasted); not its functions, classes or imports."""
    top: set[str] = set()
    for statement in tree.body:
        if isinstance(statement, (ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef)):
            continue  # (what a function assigns is its own)
        for node in ast.walk(statement):
            if isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign, ast.For)):
                for target in node.targets if isinstance(node, ast.Assign) else [node.target]:
                    top.update(n.id for n in ast.walk(target) if isinstance(n, ast.Name))
    defined = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    defined |= {a.arg for a in ast.walk(tree) if isinstance(a, ast.arg)}
    made = _made_names(tree)
    used = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    return (top | (used - defined - made - set(ALIASES) - _BUILTINS)) - made


_BUILTINS = frozenset(dir(builtins))


def _made_names(tree: ast.Module) -> set[str]:
    """Names the code binds to a function, a class or an import."""
    made: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef)):
            made.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            made.update((a.asname or a.name).split(".")[0] for a in node.names)
    return made


def check_values(values: dict[str, Any], tree: ast.Module, also: set[str] = frozenset()) -> None:
    """Each ``--set NAME=VALUE`` names a value the code (or ``also``: the names --model
    uses) sets or leaves unknown: a typo is refused, not silently ignored."""
    names = settable(tree) | (also - _made_names(tree))
    for key in values:
        head = str(key).split(".")[0]
        if head not in names:
            made = head in _made_names(tree)
            raise SpecError(f"--set {key}: '{head}' is "
                            + ("a function, class or import of the code, not a value" if made else
                               f"not a name the code's top level sets or leaves to you{suggest(head, sorted(names))}")
                            + " (--set gives values such as num_classes=10)")


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
