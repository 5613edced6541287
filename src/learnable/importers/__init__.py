"""Importers: a framework's model or a model file → the same Graph a spec becomes.

Each importer lives in its own module and imports its framework there, only when a user
hands over such an object or file; nothing else in learnable imports a framework. An
importer is a table (framework class or op → rule + how to read its attributes), so an
imported ``nn.Conv2d`` goes through the same rule as a spec's ``Conv2d``; what has no rule
is still counted, from its own tensors (the ``Tensors`` rule).
"""

from __future__ import annotations

from importlib import import_module
from pathlib import Path
from typing import Any

from ..errors import SpecError
from ..graph import Graph

# framework → (module, package to install, class-module prefixes that identify its objects)
_FRAMEWORKS = {
    "torch": ("torch_module", "torch", ("torch.",)),
    "keras": ("keras_model", "keras", ("keras.", "keras_core.", "tf_keras.")),
    "onnx": ("onnx_model", "onnx", ("onnx.",)),
}
# model files → (importer module, the extra that reads them)
_FILES = {
    ".onnx": ("onnx_model", "onnx"),
    ".safetensors": ("hf_folder", None),  # a lone file, or one shard of a Hugging Face folder
    ".pt": ("checkpoint", "torch"), ".pth": ("checkpoint", "torch"), ".bin": ("checkpoint", "torch"),
    ".ckpt": ("checkpoint", "torch"),
    ".gguf": ("gguf_file", "gguf"),
    ".keras": ("keras_file", None),  # its config.json needs nothing; a Lambda's tensors need h5py
    ".h5": ("keras_file", "h5"), ".hdf5": ("keras_file", "h5"),  # .weights.h5 too
}
# Hugging Face: a model folder, its config.json, its model.safetensors.index.json
_HF_FOLDER = ("hf_folder", None)


def framework_of(source: Any) -> str | None:
    """Whose object this is, judged by its classes' modules (no framework is imported).

    The class nearest the object decides: on the torch backend a Keras model is also an
    nn.Module, but it is Keras's."""
    for cls in type(source).__mro__:
        module = getattr(cls, "__module__", "") or ""
        for name, (_, _, prefixes) in _FRAMEWORKS.items():
            if module == prefixes[0].rstrip(".") or module.startswith(prefixes):
                return name
    return None


def model_file(source: Any) -> Path | None:
    path = Path(source) if isinstance(source, (str, Path)) else None
    if path is None:
        return None
    return path if path.suffix.lower() in _FILES or _hf_path(path) else None


def _hf_path(path: Path) -> bool:
    name = path.name.lower()
    return name == "config.json" or name.endswith(".safetensors.index.json") or _is_folder(path)


def _is_folder(path: Path) -> bool:
    try:
        return path.is_dir()
    except (OSError, ValueError):  # spec text is no path: a name too long, a NUL byte
        return False


def import_graph(source: Any, **options: Any) -> Graph | None:
    """The Graph of a framework object or model file, or None when ``source`` is neither."""
    path = model_file(source)
    if path is not None:
        module, extra = _FILES.get(path.suffix.lower()) or _HF_FOLDER
        return _importer(module, extra).file_graph(path, **options)
    framework = framework_of(source)
    if framework is None:
        return None
    module, extra, _ = _FRAMEWORKS[framework]
    return _importer(module, extra).to_graph(source, **options)


def _importer(module: str, extra: str | None) -> Any:
    try:
        return import_module(f".{module}", __name__)
    except ImportError as err:
        if extra and err.name and err.name.split(".")[0] == extra:
            raise SpecError(f"reading this needs {extra}: pip install 'learnable[{extra}]'") from None
        raise


def require(module: str, extra: str) -> Any:
    """A framework an importer needs only for some inputs (torch, for .pt checkpoints but
    not .safetensors), or an error naming the extra to install."""
    try:
        return import_module(module)
    except ImportError:
        raise SpecError(f"reading this needs {extra}: pip install 'learnable[{extra}]'") from None
