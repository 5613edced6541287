"""The compact form: layers as Python call syntax, parsed with ``ast`` and never executed.

    Input(28, 28, 1) | Conv2D(32, 3, activation='relu') | MaxPooling2D(2) | Flatten() | Dense(10)

Layers are separated by ``|``, commas or new lines. The body of a real
``keras.Sequential([...])`` or ``nn.Sequential(...)`` pastes as it is, with module prefixes
(``layers.``, ``keras.layers.``, ``nn.``), ``model.add(...)`` lines and imports.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from collections.abc import Iterator
from typing import Any

from ..errors import Location, SpecError
from ._literals import dotted, literal, quiet_parse
from .model import MAX_LAYERS, LayerSpec, ModelSpec, layer_spec, too_many

_SEQUENTIAL = "Sequential"


# What could begin a call: a name and "(". Every layer is one; a layer's arguments rarely hold
# calls (an initializer), so a quarter more than MAX_LAYERS of these is not a network. Counting
# them is one regex scan; parsing costs ~4 KB per call (16 MB of "D()" took gigabytes before any check).
# The scan starts only where a name starts: from every letter of a long word it was quadratic
# (20,000 letters in a name took 2.5 s; a 15 MB one would have taken days).
_CALL = re.compile(r"(?<![\w.])[A-Za-z_][\w.]*\s*\(")


def parse_compact(text: str, source: str | None = None) -> ModelSpec:
    calls = sum(1 for _ in _CALL.finditer(text))
    if calls > MAX_LAYERS + MAX_LAYERS // 4:
        raise SpecError(f"the compact form holds {calls:,} calls; a network of at most {MAX_LAYERS:,} layers "
                        "has far fewer", Location(source))
    reader = _Reader(text, source)
    try:
        layers = []
        for i, (call, name) in enumerate(reader.calls(), start=1):
            if i > MAX_LAYERS:  # before reading the rest
                raise SpecError(too_many(MAX_LAYERS, "lists more than"), Location(source))
            layers.append(reader.layer(call, i, name))
        layers = tuple(layers)
    except RecursionError:  # e.g. an argument of a thousand nested lists
        raise SpecError("the compact form is nested too deeply to read", Location(source)) from None
    if not layers:
        raise SpecError("no layers found: expected layer calls such as Input(28, 28, 1) | Dense(10)", Location(source))
    return ModelSpec(layers=layers, name=reader.model_name, source=source)


def parse_call(text: str, location: Location | None, index: int) -> LayerSpec:
    """One layer written as a call, e.g. a YAML item ``"Conv2D(32, 3, name='c1')"``."""
    reader = _Reader(text, None, location)
    calls = list(reader.calls())
    if len(calls) != 1:
        raise SpecError(f"expected one layer, found {len(calls)} in {text!r}", location)
    return reader.layer(*calls[0][:1], index)


class _Reader:
    """Reads one compact text; every location it reports points into that text."""

    def __init__(self, text: str, source: str | None, fixed: Location | None = None):
        self.source = source
        self.fixed = fixed  # a YAML item: every location is the item's own
        self.model_name: str | None = None
        self.layout = _Layout(text)
        self.tree = self._parse()

    def _parse(self) -> ast.Module:
        try:
            return quiet_parse(self.layout.text, "exec")
        except SyntaxError as err:
            where = self.fixed or Location(self.source, err.lineno, self.layout.column(err.lineno, (err.offset or 1) - 1))
            raise SpecError(f"not a list of layer calls: {err.msg}", where) from None
        except (ValueError, MemoryError, RecursionError) as err:  # NUL bytes, absurd nesting
            raise SpecError(f"not a list of layer calls: {err}", self.fixed or Location(self.source)) from None

    def where(self, node: ast.AST) -> Location:
        if self.fixed:
            return self.fixed
        line = getattr(node, "lineno", None)
        return Location(self.source, line, self.layout.column(line, getattr(node, "col_offset", None)))

    def calls(self) -> Iterator[tuple[ast.expr, str | None]]:
        """Each layer call, with the name an ``OrderedDict`` gives it (else None)."""
        for statement in self.tree.body:
            if isinstance(statement, (ast.Import, ast.ImportFrom)) or _is_housekeeping(statement):
                continue  # pasted code brings its imports, model.summary(), print(model), ...
            if isinstance(statement, ast.Expr):
                yield from self._flatten(statement.value)
            elif isinstance(statement, ast.Assign) and _is_sequential(statement.value):
                yield from self._flatten(statement.value)
            else:
                code = ast.unparse(statement).splitlines()[0]
                raise SpecError(f"expected layer calls, found the statement {code[:60]!r}", self.where(statement))

    def _flatten(self, node: ast.expr, name: str | None = None) -> Iterator[tuple[ast.expr, str | None]]:
        """The layer calls inside ``a | b``, ``a, b``, ``[a, b]``, Sequential(...) and
        ``OrderedDict([("conv1", Conv2d(...)), ...])``."""
        if _is_pipe(node):
            rights = []
            while _is_pipe(node):  # a | b | c nests to the left: walk it without recursion
                rights.append(node.right)
                node = node.left
            for part in (node, *reversed(rights)):
                yield from self._flatten(part)
        elif isinstance(node, (ast.Tuple, ast.List)):
            for element in node.elts:
                yield from self._flatten(element)
        elif _is_sequential(node):
            for keyword in node.keywords:
                if keyword.arg == "name" and isinstance(keyword.value, ast.Constant):
                    self.model_name = str(keyword.value.value)
                elif keyword.arg == "layers":  # keras.Sequential(layers=[...])
                    yield from self._flatten(keyword.value)
            for arg in node.args:
                yield from self._flatten(arg)
        elif _is_call_to(node, "OrderedDict") and len(node.args) == 1:
            yield from self._named(node.args[0])
        elif isinstance(node, ast.Call) and dotted(node.func).endswith(".add") and len(node.args) == 1:
            yield from self._flatten(node.args[0])  # model.add(Dense(10))
        elif isinstance(node, (ast.Call, ast.Name, ast.Attribute)):
            yield node, name
        else:
            raise SpecError(f"expected a layer call such as Dense(10), found {ast.unparse(node)!r}", self.where(node))

    def _named(self, pairs: ast.expr) -> Iterator[tuple[ast.expr, str | None]]:
        if not isinstance(pairs, (ast.List, ast.Tuple)):
            raise SpecError("OrderedDict(...) must hold a list of (name, layer) pairs", self.where(pairs))
        for pair in pairs.elts:
            if not (isinstance(pair, ast.Tuple) and len(pair.elts) == 2 and isinstance(pair.elts[0], ast.Constant)):
                raise SpecError("OrderedDict(...) must hold (name, layer) pairs", self.where(pair))
            yield from self._flatten(pair.elts[1], str(pair.elts[0].value))

    def layer(self, node: ast.expr, index: int, name: str | None = None) -> LayerSpec:
        where = self.where(node)
        if not isinstance(node, ast.Call):
            return LayerSpec(type=_type_name(node, where), name=name, location=where, index=index)
        if isinstance(node.func, ast.Call):
            raise SpecError(
                "functional-API calls such as Dense(10)(x) are not supported in the compact form; "
                "write a YAML spec with 'inputs:' for a graph",
                where,
            )
        args = tuple(literal(a, where) for a in node.args)
        kwargs: dict[str, Any] = {}
        for keyword in node.keywords:
            if keyword.arg is None:
                raise SpecError("**kwargs cannot be read in the compact form; write the arguments out", where)
            kwargs[keyword.arg] = literal(keyword.value, where)
        spec = layer_spec(_type_name(node.func, where), args, kwargs, where, index)
        return spec if spec.name or not name else spec.replace(name=name)


class _Layout:
    """The compact text rewritten as flat Python statements, and how to map columns back.

    Parsed as an expression, ``a | b | c | ...`` nests one level per layer and Python's
    parser gives up after a few thousand; so each top-level ``|`` becomes ``;`` (same
    column) and statements have no such limit. Lines may also start with ``|`` or be
    indented, as pasted code often is: that prefix is removed and remembered per line.
    """

    def __init__(self, text: str):
        self.shifts: dict[int, int] = {}  # line → columns removed from its start
        self.pipes: dict[int, list[int]] = {}  # line → columns of its top-level pipes, to become ";"
        self.text = self._rewrite(text)

    def _rewrite(self, text: str) -> str:
        # Lines as tokenize numbers them: split at "\n" only (str.splitlines also splits at
        # "\v", "\f", "\x1c", ..., and row numbers would then point at the wrong line).
        lines = io.StringIO(text).readlines()
        try:
            self._scan(text, lines)
        except (tokenize.TokenError, SyntaxError):
            pass  # keep the edits made so far; ast.parse reports the problem where it is
        for row, columns in self.pipes.items():
            # Each line is rebuilt once: replacing pipes one by one would copy a long
            # one-line network once per layer (quadratic time).
            chars = list(lines[row - 1])
            for col in columns:
                if chars[col:col + 1] == ["|"]:  # defensive: only ever a pipe becomes ";"
                    chars[col] = ";"
            lines[row - 1] = "".join(chars)
        for row, cut in self.shifts.items():
            lines[row - 1] = lines[row - 1][cut:]
        return "".join(lines)

    def _scan(self, text: str, lines: list[str]) -> None:
        depth, seen = 0, set()
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type in _LAYOUT_TOKENS:
                continue
            (row, col), first = token.start, token.start[0] not in seen
            seen.add(row)
            if depth == 0 and token.string == "|" and token.type == tokenize.OP:
                if first:  # a leading pipe: drop it with the indentation
                    self.shifts[row] = len(lines[row - 1]) - len(lines[row - 1][col + 1:].lstrip(" \t"))
                else:
                    self.pipes.setdefault(row, []).append(col)
            elif depth == 0 and first and col:
                self.shifts[row] = col
            depth += (token.string in "([{") - (token.string in ")]}") if token.type == tokenize.OP else 0

    def column(self, line: int | None, offset: int | None) -> int | None:
        """1-based column in the original text of a 0-based offset in the rewritten one."""
        if offset is None or offset < 0:
            return None
        return offset + 1 + self.shifts.get(line or 0, 0)


_LAYOUT_TOKENS = frozenset({tokenize.INDENT, tokenize.DEDENT, tokenize.NL, tokenize.NEWLINE,
                            tokenize.COMMENT, tokenize.ENDMARKER})


def _is_pipe(node: ast.AST) -> bool:
    return isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr)


def _is_sequential(node: ast.AST) -> bool:
    return _is_call_to(node, _SEQUENTIAL)


def _is_call_to(node: ast.AST, name: str) -> bool:
    return isinstance(node, ast.Call) and dotted(node.func).rpartition(".")[2] == name


# Calls in pasted code that are about the model, not layers of it.
_HOUSEKEEPING = frozenset({
    "summary", "compile", "fit", "evaluate", "predict", "build", "save", "save_weights",
    "load_weights", "load_state_dict", "eval", "train", "to", "cuda", "cpu", "count_params",
})


def _is_housekeeping(statement: ast.stmt) -> bool:
    """``model.summary()``, ``model.compile(...)``, ``print(model)`` and the like."""
    if not (isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call)):
        return False
    func = statement.value.func
    if isinstance(func, ast.Name):
        return func.id == "print"
    return isinstance(func, ast.Attribute) and func.attr in _HOUSEKEEPING


def _type_name(node: ast.expr, where: Location) -> str:
    name = dotted(node)
    if not name:
        raise SpecError(f"expected a layer type name, found {ast.unparse(node)!r}", where)
    return name
