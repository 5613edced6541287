"""The fuzz target's body, without atheris: ``fuzz_spec.py`` runs it under libFuzzer, and
``tests/test_fuzz.py`` replays the inputs in ``regressions/`` through it on every test run.

Each input is one byte that picks the reader and the output format, then the text. The
text goes through the same steps as ``learnable count``: parse, build the graph, infer
shapes and counts, render, and encode to UTF-8 as the CLI writes it (a lone surrogate that
reaches the output is a crash). A :class:`~learnable.LearnableError` with a one-line message
is the right answer to bad input; any other exception is a crash.
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
        _counted(engine.run(build_graph(parse_text(text, None, kind))), fmt)
    except LearnableError as err:
        _one_line(err)  # a user error must say something, on one line (the CLI prints it as one)


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
        _counted(engine.run(read_code(text, None, input_shape=shape, integer_input=integer)), fmt)
    except LearnableError as err:
        _one_line(err)


# ---- model files ----------------------------------------------------------------------------

# The first byte of a file input picks the suffix the bytes are saved under (so the reader the
# CLI would pick) and the format; the rest is the file. Each reader meets every kind of bytes.
SUFFIXES = (".safetensors", ".pt", ".onnx", ".gguf", ".keras", ".h5")


def split_file(data: bytes) -> tuple[str, str, bytes]:
    """(suffix, format, file bytes) of one fuzz input."""
    head = data[0] if data else 0
    return SUFFIXES[head % len(SUFFIXES)], FORMATS[(head // len(SUFFIXES)) % len(FORMATS)], data[1:]


def count_file(data: bytes, folder: str) -> None:
    """The bytes as a model file in ``folder`` (a private, otherwise empty directory: a
    ``.safetensors`` reader looks for a config.json beside it), counted and rendered."""
    import os

    import learnable

    suffix, fmt, body = split_file(data)
    path = os.path.join(folder, f"model{suffix}")
    with open(path, "wb") as file:
        file.write(body)
    try:
        _counted(learnable.count(path), fmt)
    except LearnableError as err:
        _one_line(err)
    finally:
        os.remove(path)


def _counted(report, fmt: str) -> None:
    # Encoded as the CLI writes it: a lone surrogate in a name is a crash here, not a pass.
    render(report, fmt, explain=True, depth=2).encode("utf-8")


def _one_line(err: LearnableError) -> None:
    message = str(err)
    if not message.strip() or len(message.splitlines()) != 1:
        raise AssertionError(f"bad error message {message!r}") from None
    message.encode("utf-8")


# ---- the server's request parsing ---------------------------------------------------------------

def serve_bytes(data: bytes) -> list[int]:
    """Raw bytes as a client would send them on one connection (request line, headers,
    Content-Length, a body; several requests back to back), read by the server's parser
    from an in-memory stream (no socket), each body that reaches ``/api/count`` counted as a
    worker counts it. Returns the statuses answered. Refused input must be the parser's
    ``HttpError`` (a 4xx/5xx status, one line) or the API's ``RequestError``; anything else
    is a crash."""
    import asyncio

    return asyncio.run(_serve_connection(data))


async def _serve_connection(data: bytes) -> list[int]:
    import asyncio

    from learnable.serve import _http, api

    reader = asyncio.StreamReader(limit=_http.MAX_HEAD_BYTES)  # as the server's start_server sets it
    reader.feed_data(data)
    reader.feed_eof()
    statuses: list[int] = []
    for _ in range(100):  # the server's requests_per_connection
        try:
            request = await _http.read_request(reader, wait_seconds=1, head_seconds=1, max_body=api.MAX_REQUEST_BYTES)
        except _http.HttpError as err:
            _refused(err.status, err.message)
            return [*statuses, err.status]
        if request is None:
            return statuses
        assert all(isinstance(v, str) for v in (request.method, request.path, request.version, *request.headers))
        statuses.append(_answered(request, api))
        _http.response_bytes(statuses[-1], b"{}", {"Content-Type": "application/json"}, keep_alive=request.keep_alive)
    return statuses


def _answered(request, api) -> int:
    """What the server answers a parsed request (its routing, the count a worker runs)."""
    import json

    if request.method != "POST" or request.path.split("?", 1)[0] != "/api/count" or request.body is None:
        return 404
    try:
        payload = api.count_request(request.body)
    except api.RequestError as err:
        _refused(err.status, err.message)
        return err.status
    json.dumps(payload, ensure_ascii=False).encode("utf-8")  # as the worker sends it
    return 200


def _refused(status: int, message: str) -> None:
    if not 400 <= int(status) < 600 or not message.strip() or len(message.splitlines()) != 1:
        raise AssertionError(f"bad refusal {status} {message!r}") from None
    message.encode("utf-8")
