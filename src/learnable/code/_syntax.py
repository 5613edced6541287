"""What the syntax alone says: the code of a node for a message, and what a piece of code
would set (the reader marks it as not known when that code is not taken because its
condition is not known)."""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator

# Methods that change the object they are called on: its name is marked too.
_MUTATING = frozenset({"append", "extend", "insert", "add", "update", "add_module", "register_buffer",
                       "register_parameter", "setdefault", "pop", "remove", "clear", "__setitem__"})


def assigned_targets(statements: Iterable[ast.stmt]) -> list[ast.expr]:
    """Every name, attribute or item the statements assign, and every object they change
    through a method (``layers.append(...)``, ``model.add(...)``), outside nested functions."""
    targets: list[ast.expr] = []
    for node in _walk(statements):
        if isinstance(node, ast.Assign):
            targets.extend(node.targets)
        elif isinstance(node, (ast.AugAssign, ast.AnnAssign, ast.NamedExpr)):
            targets.append(node.target)
        elif isinstance(node, ast.For):
            targets.append(node.target)
        elif isinstance(node, ast.With):
            targets.extend(i.optional_vars for i in node.items if i.optional_vars is not None)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            targets.append(ast.copy_location(ast.Name(node.name, ast.Store()), node))
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            targets.extend(ast.copy_location(ast.Name((a.asname or a.name).split(".")[0], ast.Store()), node)
                           for a in node.names if a.name != "*")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if node.func.attr in _MUTATING or node.func.attr == "add":
                targets.append(node.func.value)
    return [t for t in targets if isinstance(t, (ast.Name, ast.Attribute, ast.Subscript, ast.Tuple, ast.List))]


_TRAINING = frozenset({"requires_grad", "requires_grad_", "trainable"})


def sets_training(statements: Iterable[ast.stmt]) -> ast.AST | None:
    """The first place the statements freeze or unfreeze something (``p.requires_grad = False``,
    ``m.requires_grad_(False)``, ``layer.trainable = False``), or None."""
    for node in _walk(statements):
        if isinstance(node, ast.Attribute) and node.attr in _TRAINING and (
                isinstance(node.ctx, ast.Store) or node.attr == "requires_grad_"):
            return node
    return None


def has_jump(statements: Iterable[ast.stmt], *, returns: bool = False, breaks: bool = False) -> bool:
    """Whether the statements hold a ``return`` (of this function) or a ``break``/``continue``
    (of the loop around them, not of a loop inside them)."""
    for node in _walk(statements, into_loops=not breaks):
        if returns and isinstance(node, ast.Return):
            return True
        if breaks and isinstance(node, (ast.Break, ast.Continue)):
            return True
    return False


def _walk(statements: Iterable[ast.stmt], into_loops: bool = True) -> Iterator[ast.AST]:
    stack: list[ast.AST] = list(statements)
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            continue  # their bodies run only when called
        if not into_loops and isinstance(node, (ast.For, ast.While)):
            stack.extend(node.orelse)
            stack.append(node.iter if isinstance(node, ast.For) else node.test)
            continue
        stack.extend(ast.iter_child_nodes(node))


def code_of(node: ast.AST | None, limit: int = 60) -> str:
    """The code of ``node`` on one line, shortened for a message."""
    if node is None:
        return ""
    try:
        text = " ".join(ast.unparse(node).split())
    except Exception:  # noqa: BLE001 (an odd node: the message still names its place)
        return type(node).__name__
    return text if len(text) <= limit else text[:limit - 1] + "…"
