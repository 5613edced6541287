"""Python model code, read and never run → the Graph a spec becomes.

``read_code(text)`` parses the code with ``ast`` and reads it (``interpreter.py``) in a world
that knows what Keras and PyTorch objects are (``reader.py``): layers, models, modules,
tensors and their operations. Nothing the code says is executed, imported or evaluated;
work is bounded. The model counted is the one named (``model=``: a name or a call such as
``"ResNet(BasicBlock, [2, 2, 2, 2])"``), else the last model the code builds at its top
level, else the last model class it defines, made with no arguments.

This module only tells code from other text; the reader is imported when code is read.
"""

from __future__ import annotations

import ast
import os
import re
from pathlib import Path
from typing import Any

from ..errors import Location, SpecError

# Lines that only code has: a cheap test before parsing. A block statement makes text code
# even when it does not parse (its error is then Python's, not the compact form's).
_BLOCK = re.compile(r"^[ \t]*(?:def |class |for |while |if |with |try:|async |@)", re.MULTILINE)
_CODE_LINE = re.compile(r"^[ \t]*(?:import |from |[\w.\[\], *]+[ \t]*(?:[-+*/%@&|^]|//|\*\*|<<|>>)?=[^=])",
                        re.MULTILINE)
_FRAMEWORKS = ("torch", "keras", "tensorflow", "tf_keras", "keras_core", "torchvision")


def read_code(text: str, source: str | None = None, **options: Any) -> Any:
    """The Graph of the model ``text`` builds (see :func:`learnable.code.read.read_code`)."""
    from .read import read_code as read

    return read(text, source, **options)


def code_source(source: Any) -> tuple[str, str | None] | None:
    """(the code, its file name) when ``source`` is model code: a ``.py`` file (not
    ``FILE.py:NAME``, which is run) or Python text; else None."""
    if isinstance(source, os.PathLike) or (isinstance(source, str) and "\n" not in source
                                           and source.lower().endswith(".py")):
        path = Path(source)
        if path.suffix.lower() != ".py":
            return None
        return _read(path), str(path)
    if isinstance(source, str) and looks_like_code(source):
        return source, None
    return None


def settable_names(text: str, source: str | None = None) -> set[str]:
    """The names ``values``/``--set`` can give (see :func:`._source.settable`)."""
    from ._source import settable
    from .read import parse

    return settable(parse(text, source))


def _read(path: Path) -> str:
    from ..spec import decode, read_bounded

    name = str(path)
    try:
        if path.is_dir():
            raise SpecError("is a directory, not a Python file", Location(name))
        with path.open("rb") as file:
            data = read_bounded(file, name)
    except FileNotFoundError:
        raise SpecError("no such file", Location(name)) from None
    except (OSError, ValueError) as err:
        raise SpecError(f"cannot be read: {getattr(err, 'strerror', None) or err}", Location(name)) from None
    return decode(data, name, "Python code")


def looks_like_code(text: str) -> bool:
    """Python code rather than learnable's compact form: it imports a framework, or has
    statements a list of layer calls does not (functions, classes, loops, assignments other
    than ``model = Sequential(...)``, ``layer(...)(x)`` or ``model[0].freeze()`` calls)."""
    block = _BLOCK.search(text) is not None
    if not block and not _CODE_LINE.search(text) and ")(" not in text:
        return False
    from ..spec._literals import quiet_parse

    try:
        tree = quiet_parse(text, "exec")
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return block or _CODE_LINE.search(text) is not None  # broken code gets Python's message
    return any(_is_code(statement) for statement in tree.body)


def _is_code(statement: ast.stmt) -> bool:
    if isinstance(statement, (ast.Import, ast.ImportFrom)):
        names = [a.name for a in statement.names] if isinstance(statement, ast.Import) else [statement.module or ""]
        return any(name.split(".")[0] in _FRAMEWORKS for name in names)
    if isinstance(statement, ast.Assign) and isinstance(statement.value, ast.Call):
        return _called(statement.value) != "Sequential"
    if isinstance(statement, ast.Expr):
        return not _layer_calls(statement.value)
    return not isinstance(statement, ast.Pass)


def _layer_calls(node: ast.expr) -> bool:
    """What the compact form takes: calls of dotted names (``nn.Conv2d(3, 6, 5)``,
    ``model.add(...)``), names, and ``|``, tuples and lists of them."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        return True  # a | b is the compact form's own syntax, whatever it holds
    if isinstance(node, (ast.Tuple, ast.List)):
        return all(_layer_calls(e) for e in node.elts)
    if isinstance(node, ast.Call):
        return _dotted(node.func)
    return _dotted(node)


def _dotted(node: ast.expr) -> bool:
    while isinstance(node, ast.Attribute):
        node = node.value
    return isinstance(node, ast.Name)


def _called(call: ast.Call) -> str:
    func = call.func
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")


__all__ = ["code_source", "looks_like_code", "read_code", "settable_names"]
