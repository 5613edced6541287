"""Coverage-guided fuzz target (atheris) for ``learnable serve``'s request parsing: raw
bytes as a client sends them (request line, headers, Content-Length, Transfer-Encoding,
JSON bodies, several requests on one connection), read by ``serve/_http.py`` from an
in-memory stream, no socket, and each body for ``/api/count`` counted as a worker counts it.

    python fuzz/corpus.py fuzz/corpus-serve --serve
    python fuzz/fuzz_serve.py fuzz/corpus-serve -max_total_time=600 -timeout=20

The body is ``target.serve_bytes``: the parser's ``HttpError`` and the API's
``RequestError`` (a 4xx/5xx, one line) are the right answers to bad bytes; anything else is a
crash, written to ``crash-*``. See fuzz/README.md.
"""

from __future__ import annotations

import sys
from pathlib import Path

import atheris

sys.path.insert(0, str(Path(__file__).resolve().parent))  # target.py beside this file

with atheris.instrument_imports(include=["learnable", "target"]):
    from target import serve_bytes


def request_input(data: bytes) -> None:
    serve_bytes(data)


def main(argv: list[str]) -> None:
    atheris.Setup(argv, request_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main(sys.argv)
