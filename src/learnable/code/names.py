"""Library names as the code writes them → one spelling per object.

Code reaches the same class many ways (``tf.keras.layers.Dense``,
``tensorflow.keras.layers.core.Dense``, ``keras.src.layers.Dense``, ``from keras.layers
import Dense``; ``torch.nn.modules.conv.Conv2d``, ``nn.Conv2d``): the reader looks each up by
one canonical path, ``keras.layers.Dense`` or ``torch.nn.Conv2d``.
"""

from __future__ import annotations

import re

KERAS, TORCH = "keras", "torch"

_KERAS_ROOTS = ("tensorflow.keras", "tensorflow.python.keras", "tf_keras", "keras_core", "keras.src", "keras")
# Keras 2's submodules of keras.layers and keras.models, which now all live at the top.
_KERAS_LAYER_MODULE = re.compile(r"^keras\.layers\.(?:[a-z_]+\.)+(?=[A-Z])")
_TORCH_MODULE = re.compile(r"^torch\.nn\.modules\.[a-z_]+\.")


def canonical(path: str) -> str:
    """``tf.keras.layers.core.Dense`` → ``keras.layers.Dense``; ``torch.nn.modules.conv.Conv2d``
    → ``torch.nn.Conv2d``; ``keras.models.Sequential`` → ``keras.Sequential``."""
    for root in _KERAS_ROOTS:
        if path == root or path.startswith(root + "."):
            path = "keras" + path[len(root):]
            break
    path = _KERAS_LAYER_MODULE.sub("keras.layers.", path)
    if path.startswith("keras.models.") or path.startswith("keras.engine."):
        name = path.rpartition(".")[2]
        if name in ("Sequential", "Model", "Functional"):
            path = f"keras.{name}"
    if path in ("keras.layers.Layer", "keras.engine.base_layer.Layer"):
        path = "keras.Layer"
    path = _TORCH_MODULE.sub("torch.nn.", path)
    return path


def framework_of(path: str) -> str | None:
    """Whose object a canonical path names: "keras", "torch", or None (another library)."""
    head = path.split(".")[0]
    if head == "keras":
        return KERAS
    if head in ("torch", "torchvision", "torchaudio"):
        return TORCH
    return None


# Libraries whose objects the reader knows are objects (a function, a class, a module), so
# that `if torch.cuda.is_available:` is true; a name from another module (the code's own
# `from config import FREEZE`) is a value not known from the code.
_LIBRARIES = frozenset({
    "torch", "torchvision", "torchaudio", "keras", "tensorflow", "tf_keras", "keras_core", "numpy", "math", "einops",
    "functools", "collections", "typing", "typing_extensions", "copy", "dataclasses", "abc", "enum", "itertools",
    "operator", "os", "sys", "random", "time", "json", "re", "glob", "pathlib", "warnings", "logging", "argparse",
    "timm", "transformers", "torchinfo", "torchsummary", "matplotlib", "pandas", "sklearn", "scipy", "PIL", "tqdm",
})


def is_library(path: str) -> bool:
    """Whether ``path`` (canonical) names an object of a library the reader knows of."""
    return path.split(".")[0] in _LIBRARIES


def snake_case(name: str) -> str:
    """A class name as Keras names its objects (``MaxPooling2D`` → ``max_pooling2d``,
    ``ReLU`` → ``re_lu``): keras.src.utils.naming.to_snake_case."""
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()
