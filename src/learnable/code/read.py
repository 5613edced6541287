"""Reading model code: parse, run the reader, choose the model (see the package docstring)."""

from __future__ import annotations

import ast
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from ..errors import LearnableError, Location, SpecError
from ..graph import Graph
from ..inputs import input_specs, plain
from ..spec._literals import quiet_parse
from ._source import check_values
from .names import TORCH
from .reader import Reader
from .values import ClassObj, Layer, Module, Unknown

MAX_CODE_BYTES = 1_000_000  # model files are tens of kilobytes; the largest in transformers is ~200 KB


def read_code(text: str, source: str | None = None, *, model: str | None = None,
              input_shape: Sequence[Any] | None = None, integer_input: bool = False,
              values: Mapping[str, Any] | None = None, data_format: str | None = None) -> Graph:
    """The Graph of the model ``text`` builds. ``input_shape``: one example's shape (or a
    list of them), for code that states none; ``values``: names the code leaves unknown (or
    whose value should change), e.g. ``{"num_classes": 10}``."""
    tree = parse(text, source)
    check_values(dict(values or {}), tree, _names_in(model))
    reader = Reader(text, source, tree, dict(values or {}), data_format)
    shapes, integer = _shapes(input_shape)
    integer_input = integer_input or integer
    reader.option_inputs = list(shapes or [])
    try:
        reader.run(tree)
        chosen = _choose(reader, tree, model, source)
        if reader.used_option_inputs:  # taken by a keras.Input the code left without a shape
            shapes = None
        if reader.framework == TORCH and _is_torch(chosen):
            graph = reader.torch_model.graph(chosen, shapes, integer_input, _where(chosen, source))
        else:
            graph = reader.keras_model.graph(chosen, shapes, integer_input, _where(chosen, source))
        return replace(graph, notes=(*graph.notes, *reader.notes)) if reader.notes else graph
    except RecursionError:
        raise SpecError("the code is nested too deeply to read", Location(source)) from None


def parse(text: str, source: str | None) -> ast.Module:
    size = len(text.encode(errors="ignore"))
    if size > MAX_CODE_BYTES:
        raise SpecError(f"is {size:,} bytes of code; code larger than {MAX_CODE_BYTES:,} bytes is refused",
                        Location(source))
    try:
        return quiet_parse(text, "exec")
    except SyntaxError as err:
        raise SpecError(f"is not valid Python: {err.msg}", Location(source, err.lineno, err.offset)) from None
    except (ValueError, MemoryError, RecursionError) as err:
        raise SpecError(f"cannot be read as Python: {err}", Location(source)) from None


# ---- which model --------------------------------------------------------------------------


def _choose(reader: Reader, tree: ast.Module, model: str | None, source: str | None) -> Any:
    if model is not None:
        return _named(reader, model, source)
    held = [v for v in reader.scope.vars.values() if isinstance(v, (Module, Layer)) and id(v) in reader.finished]
    held.sort(key=lambda v: reader.finished[id(v)])
    modules = [v for v in held if isinstance(v, Module)]
    # the last one built, passing over a module that holds nothing (a loss written as a class)
    chosen = next((v for v in reversed(modules) if v.children or v.params or v.outputs is not None), None)
    chosen = chosen or next(reversed(modules), None)
    chosen = chosen or next((v for v in reversed(held) if v.rule.name != "Tensors"), None)
    if chosen is not None:
        return chosen
    classes = [v for v in reader.scope.vars.values() if isinstance(v, ClassObj) and _is_model_class(v)]
    if classes:
        return _instantiate(reader, classes[-1], source)
    raise SpecError("the code builds no model: define or build one (a Keras model, or an nn.Module), or name it "
                    "with --model", Location(source))


def _names_in(model: str | None) -> set[str]:
    """The names a --model expression uses (``Big(n)``: n, which --set may give)."""
    try:
        expression = quiet_parse(model, "eval") if model else None
    except (SyntaxError, ValueError):
        return set()  # (refused with its message where the model is chosen)
    return {n.id for n in ast.walk(expression) if isinstance(n, ast.Name)} if expression else set()


def _named(reader: Reader, model: str, source: str | None) -> Any:
    try:
        expression = quiet_parse(model, "eval")
    except (SyntaxError, ValueError):
        raise SpecError(f"--model {model!r} is not a name or a call such as Net(10)", Location(source)) from None
    value = reader.interp.eval(expression.body, reader.scope)
    if isinstance(value, ClassObj):
        return _instantiate(reader, value, source)
    if isinstance(value, Unknown):
        raise SpecError(f"--model {model!r}: {value.why}", value.where or Location(source))
    if not isinstance(value, (Module, Layer)):
        raise SpecError(f"--model {model!r} is not a model the code builds", Location(source))
    return value


def _instantiate(reader: Reader, cls: ClassObj, source: str | None) -> Any:
    try:
        return reader.interp.call(cls, [], {}, cls.where or Location(source))
    except SpecError as err:
        if "is missing its" in str(err):
            raise SpecError(f"{cls.name} needs arguments to be built ({str(err).rpartition(': ')[2]}); name the model "
                            f"with them, e.g. --model '{cls.name}(...)'", cls.where) from None
        raise


def _is_model_class(cls: ClassObj) -> bool:
    from .names import canonical

    bases = [canonical(b) for b in cls.library_bases()]
    return any(b.startswith("torch.nn.") or b in ("keras.Model", "keras.Layer", "keras.layers.Layer",
                                                  "keras.Sequential") for b in bases)


def _is_torch(value: Any) -> bool:
    return isinstance(value, (Module, Layer)) and value.framework == TORCH


def _shapes(input_shape: Any) -> tuple[list[tuple] | None, bool]:
    """The inputs' shapes in order, and whether one is stated as token ids ("128:int")."""
    specs = input_specs(input_shape)
    return (None, False) if specs is None else plain(specs)


def _where(value: Any, source: str | None) -> Location:
    return getattr(value, "where", None) or Location(source)


__all__ = ["LearnableError", "read_code"]
