"""Coverage-guided fuzz target (atheris) for the code reader: Python model code, parsed and
read, never run.

    python fuzz/corpus.py fuzz/corpus-code --code      # seeds: tests/code_corpus/ and the tests' code
    python fuzz/fuzz_code.py fuzz/corpus-code -max_total_time=3600 -timeout=20

The body is ``target.count_code`` (one byte picks the input shape and the renderer, the rest
is the code); any exception but a one-line LearnableError is a crash, written to
``crash-*``. See fuzz/README.md.
"""

from __future__ import annotations

import sys
from pathlib import Path

import atheris

sys.path.insert(0, str(Path(__file__).resolve().parent))  # target.py beside this file

with atheris.instrument_imports(include=["learnable", "target"]):
    from target import count_code


def main(argv: list[str]) -> None:
    atheris.Setup(argv, count_code)
    atheris.Fuzz()


if __name__ == "__main__":
    main(sys.argv)
