"""``models.py:Net``: a model defined in the user's own Python file.

This runs that file, as ``python models.py`` would, so it is for files you trust; spec
files, by contrast, are never run. ``Net`` may be a class (called with no arguments), a
function returning a model, or a model object defined in the file.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

from ..errors import Location, SpecError

_REFERENCE = re.compile(r"^(?P<path>.+\.py):(?P<name>[A-Za-z_]\w*)$")


def is_reference(source: Any) -> bool:
    return isinstance(source, str) and _REFERENCE.match(source) is not None


def load_model(reference: str) -> Any:
    match = _REFERENCE.match(reference)
    path, name = Path(match["path"]), match["name"]
    where = Location(str(path))
    if not path.is_file():
        raise SpecError("no such file", where)
    module = _run(path, where)
    if not hasattr(module, name):
        raise SpecError(f"defines no '{name}'", where)
    target = getattr(module, name)
    if not callable(target) or _is_model(target):
        return target
    try:
        return target()
    except TypeError as err:
        raise SpecError(f"'{name}' cannot be built with no arguments ({err}); define a function that builds it",
                        where) from None
    except Exception as err:  # the user's own code failed: say where in their file, not our traceback
        raise _failed(err, path, f"building '{name}' raised") from None


def _is_model(obj: Any) -> bool:
    """An nn.Module or a Keras model is callable too: take it as it is."""
    return not isinstance(obj, type) and hasattr(obj, "parameters" if hasattr(obj, "forward") else "count_params")


def _run(path: Path, where: Location) -> Any:
    import importlib.util  # (not at the top: every count checks is_reference, few run a file)

    spec = importlib.util.spec_from_file_location(f"learnable_user_{path.stem}", path)
    if spec is None or spec.loader is None:
        raise SpecError("cannot be loaded as Python", where)
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(path.parent.resolve()))  # so the file may import its neighbours
    try:
        spec.loader.exec_module(module)
    except SyntaxError as err:
        raise SpecError(f"is not valid Python: {err.msg}", Location(str(path), err.lineno, err.offset)) from None
    except (Exception, SystemExit) as err:  # (SystemExit: a file that calls sys.exit() or argparse's error())
        raise _failed(err, path, "raised") from None
    finally:
        sys.path.pop(0)
    return module


def _failed(err: BaseException, path: Path, what: str) -> SpecError:
    """``bad.py:3: raised ValueError: boom``: the deepest line of the user's file in the
    traceback (the error may come from a library it called), and the error in one line."""
    import traceback

    here = path.resolve()
    stack = traceback.extract_tb(err.__traceback__)
    frames = [f for f in stack if Path(f.filename).resolve() == here]
    line = frames[-1].lineno if frames else None
    message = str(err).strip().splitlines()
    detail = f"{type(err).__name__}: {message[0]}" if message else type(err).__name__
    in_keras = any("keras" in Path(f.filename).parts for f in stack)
    if isinstance(err, ImportError) and err.name == "tensorflow" and in_keras:
        detail += ("; Keras 3 runs on TensorFlow unless KERAS_BACKEND names another backend: "
                   "KERAS_BACKEND=jax (installed with learnable[keras]) or torch")
    return SpecError(f"{what} {detail}", Location(str(path), line))
