"""Coverage-guided fuzz target (atheris) for the binary readers: safetensors, a ``.pt``
zip, ONNX protobuf, GGUF, a ``.keras`` zip and HDF5.

    python fuzz/corpus.py fuzz/corpus-files --files      # small valid files of each kind
    python fuzz/fuzz_files.py fuzz/corpus-files -max_total_time=3600 -timeout=20

The body is ``target.count_file``: the first byte picks the suffix (so the reader) and the
renderer, the rest is written to a file in a private temporary folder and counted as
``learnable count`` would. A one-line LearnableError is the right answer to bad bytes;
anything else is a crash, written to ``crash-*``. See fuzz/README.md.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import atheris

os.environ.setdefault("KERAS_BACKEND", "torch")
sys.path.insert(0, str(Path(__file__).resolve().parent))  # target.py beside this file

with atheris.instrument_imports(include=["learnable", "target"]):
    from target import count_file

FOLDER = tempfile.mkdtemp(prefix="learnable-fuzz-files-")


def file_input(data: bytes) -> None:
    count_file(data, FOLDER)


def main(argv: list[str]) -> None:
    atheris.Setup(argv, file_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main(sys.argv)
