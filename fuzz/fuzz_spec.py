"""Coverage-guided fuzz target (atheris) for the spec readers: YAML, JSON and the compact form.

    python fuzz/corpus.py fuzz/corpus                 # seed corpus from examples/ and the zoo
    python fuzz/fuzz_spec.py fuzz/corpus -max_total_time=3600 -timeout=10

The body is ``target.count_text`` (one byte picks the reader and the renderer, the rest is
the spec's text); any exception but a LearnableError is a crash, written to ``crash-*``.
See fuzz/README.md.
"""

from __future__ import annotations

import sys
from pathlib import Path

import atheris

sys.path.insert(0, str(Path(__file__).resolve().parent))  # target.py beside this file

with atheris.instrument_imports(include=["learnable", "target"]):
    from target import count_text


def main(argv: list[str]) -> None:
    atheris.Setup(argv, count_text)
    atheris.Fuzz()


if __name__ == "__main__":
    main(sys.argv)
