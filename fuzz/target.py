"""The fuzz target's body, without atheris: ``fuzz_spec.py`` runs it under libFuzzer, and
``tests/test_fuzz.py`` replays the inputs in ``regressions/`` through it on every test run.

Each input is one byte that picks the reader and the output format, then the text. The
text goes through the same steps as ``learnable count``: parse, build the graph, infer
shapes and counts, render. A :class:`~learnable.LearnableError` with a one-line message is
the right answer to bad input; any other exception is a crash.
"""

from __future__ import annotations

from learnable import engine
from learnable.errors import LearnableError
from learnable.render import render
from learnable.spec import parse_text
from learnable.spec.build import build_graph

# The first byte's low two bits pick the reader (None: guess from the text, as the CLI does);
# the next bits pick a renderer, so each format meets every report the readers produce.
KINDS = (None, "yaml", "json", "compact")
FORMATS = ("json", "table", "csv", "markdown", "latex", "html")


def split(data: bytes) -> tuple[str | None, str, str]:
    """(reader, format, text) of one fuzz input."""
    head = data[0] if data else 0
    # "replace": mutated bytes still make text; strict decoding is tested elsewhere (decode()).
    text = data[1:].decode("utf-8", "replace")
    return KINDS[head & 3], FORMATS[(head >> 2) % len(FORMATS)], text


def count_text(data: bytes) -> None:
    """Paths are never followed (the readers get the text itself): a run reads no file."""
    kind, fmt, text = split(data)
    try:
        report = engine.run(build_graph(parse_text(text, None, kind)))
        render(report, fmt, explain=True, depth=2)
    except LearnableError as err:
        message = str(err)
        # A user error must say something, on one line (the CLI prints it as one).
        if not message.strip() or len(message.splitlines()) != 1:
            raise AssertionError(f"bad error message {message!r}") from None


# ---- the code reader ------------------------------------------------------------------------

# The first byte of a code input picks the input shape given (as --input would) and the format.
INPUTS = (None, (3, 32, 32), (28, 28, 1), (16,), (1, 28, 28), (8, 8))


def split_code(data: bytes) -> tuple[tuple | None, bool, str, str]:
    """(input shape, token ids?, format, code) of one fuzz input."""
    head = data[0] if data else 0
    text = data[1:].decode("utf-8", "replace")
    return INPUTS[head % len(INPUTS)], bool(head & 8), FORMATS[(head >> 4) % len(FORMATS)], text


def count_code(data: bytes) -> None:
    """Python model code through the code reader (never run), counted and rendered."""
    from learnable.code import read_code

    shape, integer, fmt, text = split_code(data)
    try:
        report = engine.run(read_code(text, None, input_shape=shape, integer_input=integer))
        render(report, fmt, explain=True, depth=2)
    except LearnableError as err:
        message = str(err)
        if not message.strip() or len(message.splitlines()) != 1:
            raise AssertionError(f"bad error message {message!r}") from None
