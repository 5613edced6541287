"""User-facing errors.

Every problem with the user's input is a :class:`LearnableError`: the CLI prints its
message on one line and exits with status 2. Any other exception is a bug in learnable
and keeps its traceback.

Rules raise the short, local :class:`RuleError` ("kernel 5×5 is larger than its input
3×3 ..."); the engine re-raises it as a :class:`LayerError` that adds which layer, where
in the source, and what its inputs were, the way ONNX's shape inference and einops do.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ._text import _HIDDEN


@dataclass(frozen=True, slots=True)
class Location:
    """Where something stands in the user's source: a file or a string, line, column."""

    source: str | None = None  # a file name, or None for text given directly
    line: int | None = None  # 1-based
    column: int | None = None  # 1-based

    def __str__(self) -> str:
        if self.source is not None:
            parts = [self.source]
            if self.line is not None:
                parts.append(str(self.line))
                if self.column is not None:
                    parts.append(str(self.column))
            return ":".join(parts)
        if self.line is None:
            return ""
        text = f"line {self.line}"
        if self.column is not None:
            text += f", column {self.column}"
        return text


# Characters that would break a message over lines, drive a terminal (ESC sequences), reorder
# what a reader sees (U+202E) or fail to encode (a lone surrogate): _text.py lists them.
_UNPRINTABLE = re.compile(f"[\n{_HIDDEN}]")


def one_line(text: str) -> str:
    """``text`` with every line break and control character escaped as Python writes it
    (``\\n``, ``\\x1b``): a message quotes the user's names, and they may hold anything."""
    return _UNPRINTABLE.sub(lambda m: repr(m.group())[1:-1], _bounded(text))


MAX_MESSAGE = 4_000  # characters: a message quoting a name of 60 MB (a .keras class name) was 60 MB


def _bounded(text: str) -> str:
    if len(text) <= MAX_MESSAGE:
        return text
    left = len(text) - MAX_MESSAGE + 500
    return f"{text[:MAX_MESSAGE - 1_000]}…({left:,} characters left out)…{text[-500:]}"


class LearnableError(Exception):
    """A problem with the user's input. The message says what, where, and a remedy.

    Its text is always one line without control characters, whatever the input quoted in
    it: the CLI prints it as ``learnable: error: ...`` and a spec may come from anyone."""

    exit_code = 2

    def __str__(self) -> str:
        return one_line(super().__str__())


class SpecError(LearnableError):
    """The source cannot be read or parsed: a missing file, bad YAML, a bad compact form."""

    def __init__(self, message: str, location: Location | None = None):
        where = str(location) if location else ""
        super().__init__(f"{where}: {message}" if where else message)
        self.location = location


class RuleError(LearnableError):
    """Raised by a layer rule; the engine adds the layer's identity and place."""


class ArgumentError(RuleError):
    """An argument of a layer is missing, unknown, or has a bad value."""

    def __init__(self, name: str | None, message: str):
        super().__init__(f"argument '{name}' {message}" if name else message)
        self.name = name


class LayerError(LearnableError):
    """A :class:`RuleError` placed: which layer, where it is, what it received.

    ``layer`` is the description of the layer and its place, ``problem`` what is wrong;
    tools that show errors beside the source (an audit, a web page) read them apart.
    """

    def __init__(self, layer: str, problem: str):
        super().__init__(f"{layer}: {problem}")
        self.layer = layer
        self.problem = problem


class GraphError(LearnableError):
    """The layers do not form a network: an unknown input name, a cycle, a duplicate name."""
