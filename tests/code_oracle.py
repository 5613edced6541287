"""The framework oracle for the code corpus (tests/code_corpus/, or the directory that the
environment variable LEARNABLE_CORPUS names): what PyTorch or Keras itself says about each
snippet's model.

This is test code, so it runs each snippet with the real framework: ``facts(entry)`` executes
the snippet (after the entry's ``oracle_setup``) in a fresh namespace, picks the model, and
returns the framework's own numbers. learnable must reproduce them without running anything.

The snippets are written as learners paste them (the lines that load or show data, imports of
TensorFlow, Keras 2 spellings), so running them needs a few stand-ins, all installed only while
a snippet runs and removed afterwards:

- ``tensorflow`` (not installed: Keras 3 runs on PyTorch here): ``tensorflow.keras`` and
  ``tf.keras`` are keras 3 and ``tensorflow.keras.X`` is ``keras.X``; ``keras_core`` (the
  name Keras 3 had before its release) is keras 3 too. Other TensorFlow APIs are not
  there: ``tf.data`` (and ``import tensorflow.data``) gives a no-op stand-in, for the input
  pipelines of the snippets; ``tf.shape`` raises.
- modules the snippets import only to load or show data (torchvision, IPython, gdown),
  when they are not installed: stand-ins whose every attribute is a no-op.
- ``keras.utils.plot_model`` (needs pydot and graphviz): a no-op.
- ``os.environ`` (some snippets set ``KERAS_BACKEND``) and the working directory (a fresh
  temporary one) are restored afterwards; printed output and warnings are swallowed.
"""

from __future__ import annotations

import ast
import contextlib
import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import io
import math
import os
import sys
import tempfile
import types
import warnings
from pathlib import Path
from typing import Any, Iterator

import yaml

os.environ.setdefault("KERAS_BACKEND", "torch")

# The corpus checked: tests/code_corpus/ (the committed one), or the directory that the
# environment variable LEARNABLE_CORPUS names (any other corpus with its own manifest.yaml).
CORPUS = Path(os.environ.get("LEARNABLE_CORPUS") or Path(__file__).resolve().parent / "code_corpus").resolve()
MANIFEST = CORPUS / "manifest.yaml"

# Imported by snippets only to load, transform or show data; replaced when not installed.
DATA_ONLY_MODULES = frozenset({"torchvision", "IPython", "gdown"})
# TensorFlow's input pipeline (tf.data.Dataset..., tf.data.AUTOTUNE): snippets use it only to
# feed data, so the tensorflow stand-in gives it as a no-op stand-in too.
TENSORFLOW_DATA_ONLY = frozenset({"data"})
_SNIPPET_MODULE = "__code_corpus__"


def load_manifest() -> list[dict[str, Any]]:
    return yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))


def snippet_path(entry: dict[str, Any]) -> Path:
    return CORPUS / entry["file"]


def facts(entry: dict[str, Any]) -> dict[str, Any]:
    """The framework's facts for one manifest entry (see torch_facts / keras_facts)."""
    if entry["framework"] == "torch":
        return torch_facts(entry)
    if entry["framework"] == "keras":
        return keras_facts(entry)
    raise ValueError(f"{entry['file']}: unknown framework {entry['framework']!r}")


# --------------------------------------------------------------------------- PyTorch

def torch_facts(entry: dict[str, Any]) -> dict[str, Any]:
    """``{"framework": "torch", "model": type name, "total": {params, trainable, buffers},
    "modules": {path: {type, params, trainable, buffers, tied, output_shape, output_batch}},
    "own": {name: numel}, "forward_error"}``.

    ``modules`` has every path of ``model.named_modules()`` but the root, in that order, with
    ``sum(p.numel() for p in m.parameters())`` (a tensor shared inside the module once) and
    its buffers; ``tied`` is how much of that the module shares with a module outside it
    (nanoGPT's ``lm_head.weight`` is ``transformer.wte.weight``): torch counts it in both,
    the model's total once. ``output_shape`` is the first tensor of the module's first call's
    output, batch dropped, from one forward pass in eval mode under ``torch.no_grad()`` on
    zeros of shape ``(2, *input)`` (``torch.long`` when ``integer_input``); None when the
    module was not called. ``output_batch`` is that tensor's first size: 2 when the module
    ran per example, something else for a module applied to a tensor without the batch
    (nanoGPT's position embedding of ``arange(t)``). ``own`` has each tensor a module holds
    directly, beside its submodules (a class token, a buffer), by its full name
    (``embed.cls_token``) and size. ``forward_error`` is None, or why that forward pass failed
    (then no shapes)."""
    import torch
    from torch import nn

    with _sandbox() as run:
        namespace = run(entry)
        model = _pick_torch_model(entry, namespace)
        shapes: dict[str, tuple | None] = {}
        forward_error = None
        handles = []
        for path, module in model.named_modules():
            if path:
                shapes[path] = None
                handles.append(module.register_forward_hook(_shape_hook(shapes, path)))
        try:
            if entry.get("input") is None:
                raise ValueError("the manifest entry states no input shape")
            dtype = torch.long if entry.get("integer_input") else torch.float32
            model.eval()
            with torch.no_grad():
                model(torch.zeros((2, *entry["input"]), dtype=dtype))
        except Exception as err:  # the snippet's own forward: any failure is a fact to report
            forward_error = f"{type(err).__name__}: {err}"
            shapes = dict.fromkeys(shapes)
        finally:
            for handle in handles:
                handle.remove()

    def count(module: nn.Module) -> tuple[int, int, int]:
        params = list(module.parameters())  # shared (tied) tensors once
        return (sum(p.numel() for p in params), sum(p.numel() for p in params if p.requires_grad),
                sum(b.numel() for b in module.buffers()))

    owners: dict[int, set[str]] = {}  # parameter -> the modules that hold it directly
    for path, module in model.named_modules():
        for parameter in module._parameters.values():
            if parameter is not None:
                owners.setdefault(id(parameter), set()).add(path)

    def tied(path: str, module: nn.Module) -> int:
        """Parameters of this module that a module outside it holds too (weight tying)."""
        inside = lambda owner: owner == path or owner.startswith(path + ".")  # noqa: E731
        return sum(p.numel() for p in module.parameters() if not all(inside(o) for o in owners[id(p)]))

    modules = {}
    for path, module in model.named_modules():
        if path:
            params, trainable, buffers = count(module)
            shape, batch = shapes[path] or (None, None)
            modules[path] = {"type": type(module).__name__, "params": params, "trainable": trainable,
                             "buffers": buffers, "tied": tied(path, module), "output_shape": shape,
                             "output_batch": batch}
    own = {f"{path}.{name}" if path else name: tensor.numel()
           for path, module in model.named_modules()
           for name, tensor in [*module.named_parameters(recurse=False), *module.named_buffers(recurse=False)]}
    params, trainable, buffers = count(model)
    return {"framework": "torch", "model": type(model).__name__,
            "total": {"params": params, "trainable": trainable, "buffers": buffers},
            "modules": modules, "own": own, "forward_error": forward_error}



def _shape_hook(shapes: dict[str, tuple | None], path: str):
    """Records (shape[1:], shape[0]) of the first tensor of the module's first output."""
    def hook(module, args, output):
        if shapes[path] is None:
            tensor = _first_tensor(output)
            if tensor is not None and tensor.dim() > 0:
                shapes[path] = (tuple(tensor.shape[1:]), tensor.shape[0])
    return hook


def _first_tensor(value: Any):
    import torch

    if isinstance(value, torch.Tensor):
        return value
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, (tuple, list)):
        for item in value:
            found = _first_tensor(item)
            if found is not None:
                return found
    return None


def _pick_torch_model(entry: dict[str, Any], namespace: dict[str, Any]):
    from torch import nn

    if entry.get("model"):
        model = eval(entry["model"], namespace)  # noqa: S307 - the manifest's own expression
    else:
        model = _last_assigned(entry, namespace, nn.Module, skip=nn.modules.loss._Loss)
        if model is None:
            classes = [value for value in namespace.values() if isinstance(value, type)
                       and issubclass(value, nn.Module) and value.__module__ == _SNIPPET_MODULE]
            if not classes:
                raise LookupError(f"{entry['file']}: no nn.Module instance or class at top level")
            model = classes[-1]()  # the last class defined, with no arguments
    if not isinstance(model, nn.Module):
        raise TypeError(f"{entry['file']}: the model is a {type(model).__name__}, not an nn.Module")
    return model


# --------------------------------------------------------------------------- Keras

def keras_facts(entry: dict[str, Any]) -> dict[str, Any]:
    """``{"framework": "keras", "model": name, "total": {params, trainable, non_trainable},
    "layers": [{name, class, params, trainable, non_trainable, output_shape}]}``.

    ``layers`` is ``model.layers`` (top level) in order; for a model that is a plain Layer
    (the subclassing guide), its direct sublayers. ``output_shape`` is
    ``tuple(layer.output.shape[1:])`` where Keras has one output for the layer, else None.
    For an entry with ``expected_total`` (Keras 3 cannot build it) the facts are that
    hand-written total and ``"layers": None``, with ``"hand_counted": True``."""
    if entry.get("expected_total"):
        total = _evaluate_arithmetic(entry["expected_total"])
        return {"framework": "keras", "model": None, "hand_counted": True,
                "total": {"params": total, "trainable": total, "non_trainable": 0}, "layers": None}
    import keras

    keras.backend.clear_session()  # layer names start afresh: dense, dense_1, ...
    with _sandbox() as run:
        namespace = run(entry)
        model = _pick_keras_model(entry, namespace)
        if isinstance(model, keras.Model):
            layers = list(model.layers)
        else:
            layers = list(model._flatten_layers(include_self=False, recursive=False))
        rows = []
        for layer in layers:
            params, trainable, frozen = _keras_counts(layer)
            rows.append({"name": layer.name, "class": type(layer).__name__, "params": params,
                         "trainable": trainable, "non_trainable": frozen,
                         "output_shape": _keras_output_shape(layer)})
        params, trainable, frozen = _keras_counts(model)
    return {"framework": "keras", "model": model.name, "hand_counted": False,
            "total": {"params": params, "trainable": trainable, "non_trainable": frozen}, "layers": rows}


def _keras_counts(layer: Any) -> tuple[int, int, int]:
    trainable = sum(math.prod(w.shape) for w in layer.trainable_weights)
    frozen = sum(math.prod(w.shape) for w in layer.non_trainable_weights)
    return layer.count_params(), trainable, frozen


def _keras_output_shape(layer: Any) -> tuple | None:
    try:
        output = layer.output  # raises for a layer never called symbolically, or called twice
    except (AttributeError, ValueError, RuntimeError):
        return None
    shape = getattr(output, "shape", None)
    return None if shape is None else tuple(shape[1:])


def _pick_keras_model(entry: dict[str, Any], namespace: dict[str, Any]):
    import keras

    if entry.get("model"):
        model = eval(entry["model"], namespace)  # noqa: S307 - the manifest's own expression
    else:
        model = _last_assigned(entry, namespace, keras.Model)
        if model is None:
            raise LookupError(f"{entry['file']}: no keras.Model at top level; name one in the manifest")
    if not isinstance(model, keras.layers.Layer):
        raise TypeError(f"{entry['file']}: the model is a {type(model).__name__}, not a Keras model or layer")
    return model


def _evaluate_arithmetic(text: str) -> int:
    """An expected_total: integers, + - * and parentheses only."""
    def value(node: ast.AST) -> int:
        if isinstance(node, ast.Expression):
            return value(node.body)
        if isinstance(node, ast.Constant) and type(node.value) is int:
            return node.value
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub, ast.Mult)):
            left, right = value(node.left), value(node.right)
            return left + right if isinstance(node.op, ast.Add) else left - right if isinstance(node.op, ast.Sub) \
                else left * right
        raise ValueError(f"expected_total {text!r}: only integers, + - * and parentheses")
    return value(ast.parse(text, mode="eval"))


# --------------------------------------------------------------------------- running a snippet

def _last_assigned(entry: dict[str, Any], namespace: dict[str, Any], kind: type, skip: type | None = None):
    """The value of the top-level name assigned last (by its last assignment in the snippet)
    that holds a ``kind`` instance now (not a ``skip`` one: a loss is no model), or None."""
    tree = ast.parse(snippet_path(entry).read_text(encoding="utf-8"))
    order: dict[str, int] = {}
    for index, statement in enumerate(tree.body):
        targets: list[ast.AST] = []
        if isinstance(statement, ast.Assign):
            targets = list(statement.targets)
        elif isinstance(statement, (ast.AnnAssign, ast.AugAssign)):
            targets = [statement.target]
        for target in targets:
            for node in ast.walk(target):
                if isinstance(node, ast.Name):
                    order.pop(node.id, None)
                    order[node.id] = index
    for name in reversed(order):
        value = namespace.get(name)
        if isinstance(value, kind) and not (skip is not None and isinstance(value, skip)):
            return value
    return None


@contextlib.contextmanager
def _sandbox() -> Iterator[Any]:
    """Yields ``run(entry) -> namespace`` with the stand-ins installed; removes them after."""
    saved_modules = dict(sys.modules)
    saved_environ = dict(os.environ)
    saved_cwd = os.getcwd()
    saved_meta_path = list(sys.meta_path)
    restore_keras = _patch_keras()
    finder = _StandInFinder()
    sys.meta_path.insert(0, finder)
    workdir = tempfile.TemporaryDirectory(prefix="code_corpus_")
    try:
        os.chdir(workdir.name)
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()), \
                contextlib.redirect_stderr(io.StringIO()):
            warnings.simplefilter("ignore")
            yield _run
    finally:
        os.chdir(saved_cwd)
        workdir.cleanup()
        sys.meta_path[:] = saved_meta_path
        for name in [*finder.made, _SNIPPET_MODULE]:
            if name not in saved_modules:
                sys.modules.pop(name, None)
        for name, module in saved_modules.items():
            if sys.modules.get(name) is not module:
                sys.modules[name] = module
        os.environ.clear()
        os.environ.update(saved_environ)
        restore_keras()


def _run(entry: dict[str, Any]) -> dict[str, Any]:
    path = snippet_path(entry)
    # A real module, in sys.modules while the sandbox lasts: @dataclass looks its class's module up.
    module = types.ModuleType(_SNIPPET_MODULE)
    module.__file__ = str(path)
    sys.modules[_SNIPPET_MODULE] = module
    namespace = module.__dict__
    if entry.get("oracle_setup"):
        exec(compile(entry["oracle_setup"], f"<oracle_setup of {entry['file']}>", "exec"), namespace)  # noqa: S102
    exec(compile(path.read_text(encoding="utf-8"), str(path), "exec"), namespace)  # noqa: S102
    return namespace


def _patch_keras():
    """plot_model as a no-op, and keras's own lazy ``tensorflow`` handles told that TensorFlow
    is absent (as it is), so that keras never uses the stand-in; returns the undo."""
    try:
        import keras.utils
        from keras.src.utils import module_utils
    except ImportError:
        return lambda: None
    plot_model = keras.utils.plot_model
    lazy = [(value, value.module, value._available) for value in vars(module_utils).values()
            if isinstance(value, module_utils.LazyModule) and value.name.partition(".")[0] == "tensorflow"]
    keras.utils.plot_model = lambda *args, **kwargs: None
    for value, module, available in lazy:
        if module is None:
            value._available = False  # keras itself must not take the stand-in for TensorFlow

    def restore() -> None:
        keras.utils.plot_model = plot_model
        for value, module, available in lazy:
            value.module, value._available = module, available
    return restore


class _Anything:
    """A stand-in value: every attribute, call, item and iteration gives another (or nothing)."""

    def __getattr__(self, name: str) -> _Anything:
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        return _Anything()

    def __call__(self, *args: Any, **kwargs: Any) -> _Anything:
        return _Anything()

    def __getitem__(self, key: Any) -> _Anything:
        return _Anything()

    def __iter__(self):
        return iter(())


class _StandInModule(types.ModuleType):
    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        return _Anything()


class _TensorFlowStandIn(types.ModuleType):
    """``tensorflow`` whose ``keras`` is keras 3 and nothing else."""

    def __getattr__(self, name: str) -> Any:
        if name == "keras":
            return importlib.import_module("keras")
        if name in TENSORFLOW_DATA_ONLY:
            return importlib.import_module(f"tensorflow.{name}")  # a no-op stand-in, as imported
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        raise AttributeError(f"the test stand-in for tensorflow has only tf.keras (keras 3), not tf.{name}")


class _Alias(types.ModuleType):
    """A module that reads every attribute from a real one (tensorflow.keras.layers ->
    keras.layers), so that the real module's own attributes are never touched."""

    def __init__(self, name: str, target: str) -> None:
        super().__init__(name)
        self.__target = target

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        return getattr(importlib.import_module(self.__target), name)


class _StandInFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """tensorflow (tf.keras only), tensorflow.keras[.X] and keras_core[.X] as aliases of keras
    3; tensorflow's other submodules and the data-only modules that are not installed as
    no-op stand-ins. ``made`` lists every module it created."""

    def __init__(self) -> None:
        self.made: list[str] = []

    def find_spec(self, fullname: str, path: Any = None, target: Any = None):
        root = fullname.partition(".")[0]
        if root in ("tensorflow", "keras_core"):
            alias = _keras_alias(fullname)
            if alias is not None and importlib.util.find_spec(alias) is None:
                return None  # tensorflow.keras.nothing: a plain ModuleNotFoundError
            return importlib.machinery.ModuleSpec(fullname, self, is_package=True)
        if root in DATA_ONLY_MODULES:
            if root not in self.made:  # a real one wins
                if fullname != root or self._installed(root):
                    return None
            return importlib.machinery.ModuleSpec(fullname, self, is_package=True)
        return None

    def _installed(self, name: str) -> bool:
        sys.meta_path.remove(self)
        try:
            return importlib.util.find_spec(name) is not None
        finally:
            sys.meta_path.insert(0, self)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        name = spec.name
        self.made.append(name)
        alias = _keras_alias(name)
        if alias is not None:
            module: types.ModuleType = _Alias(name, alias)
        elif name == "tensorflow":
            module = _TensorFlowStandIn(name)
        else:
            module = _StandInModule(name)
        return module

    def exec_module(self, module: types.ModuleType) -> None:
        pass


def _keras_alias(name: str) -> str | None:
    """The keras module that ``name`` stands for (keras_core.ops -> keras.ops), or None."""
    for prefix in ("keras_core", "tensorflow.keras"):
        if name == prefix or name.startswith(prefix + "."):
            return "keras" + name[len(prefix):]
    return None
