"""Sources → :class:`ModelSpec`: a spec file, a spec string, a compact string, or a dict."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, BinaryIO

from ..errors import Location, SpecError
from . import zoo
from .document import TOP_KEYS, parse_json, parse_yaml, spec_from_mapping
from .model import LayerSpec, ModelSpec

__all__ = ["LayerSpec", "ModelSpec", "load", "parse_text"]

MAX_FILE_BYTES = 16 * 1024 * 1024  # a spec is a few KB; anything this large is a mistake
_SPEC_SUFFIXES = {".yaml": "yaml", ".yml": "yaml", ".json": "json"}
_TOP_KEY_LINE = re.compile(rf"^[\"']?({'|'.join(TOP_KEYS)})[\"']?\s*:", re.MULTILINE)


def load(source: Any) -> ModelSpec:
    """A path, a spec or compact string, or a spec mapping → ModelSpec."""
    if isinstance(source, ModelSpec):
        return source
    if isinstance(source, Mapping):
        return spec_from_mapping(source, None)
    if isinstance(source, os.PathLike):
        return load_file(Path(source))
    if not isinstance(source, str):
        raise SpecError(f"cannot count {type(source).__name__}: give a spec file, a spec string or a dict")
    if source.startswith(zoo.PREFIX):
        return parse_text(zoo.text(source), source, "yaml")
    if _looks_like_path(source):
        return load_file(Path(source))
    return parse_text(source, None)


# Model files that a later release will import; until then, say so rather than guess.
# Model files the importers do not read (those they read never reach the spec reader).
_MODEL_SUFFIXES = {".pb", ".tflite"}


def _looks_like_path(text: str) -> bool:
    if any(c in text for c in "\n(|\0"):
        return False
    suffix = Path(text).suffix.lower()
    return (suffix in {*_SPEC_SUFFIXES, *_MODEL_SUFFIXES, ".txt", ".py"} or "/" in text or os.sep in text
            or os.path.exists(text))


def load_file(path: Path) -> ModelSpec:
    name = str(path)
    if path.suffix.lower() in _MODEL_SUFFIXES:
        raise SpecError(
            f"is a {path.suffix} model file, a format learnable does not read; it reads .onnx, .safetensors, "
            ".pt, .keras, .h5, .gguf and Hugging Face folders (export a TensorFlow model to ONNX, or count "
            "the Keras model)", Location(name))
    try:
        if path.is_dir():
            raise SpecError("is a directory, not a spec file", Location(name))
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise SpecError(f"is {size:,} bytes; specs larger than {MAX_FILE_BYTES:,} bytes are refused", Location(name))
        with path.open("rb") as file:
            data = read_bounded(file, name)
    except FileNotFoundError:
        raise SpecError("no such file", Location(name)) from None
    except (OSError, ValueError) as err:  # ValueError: a name the OS cannot hold
        raise SpecError(f"cannot be read: {getattr(err, 'strerror', None) or err}", Location(name)) from None
    return parse_text(decode(data, name), name, _SPEC_SUFFIXES.get(path.suffix.lower()))


def read_bounded(file: BinaryIO, name: str) -> bytes:
    """At most MAX_FILE_BYTES from a file or a stream. The size a file states is not enough:
    /dev/zero, a pipe or a /proc file states 0 and never ends."""
    data = file.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise SpecError(f"holds more than {MAX_FILE_BYTES:,} bytes; specs larger than that are refused", Location(name))
    return data


def decode(data: bytes, name: str, expected: str = "a spec (YAML, JSON or compact text)") -> str:
    """Bytes from a file or standard input → text, or a clear error for binary data."""
    if b"\0" in data:
        raise SpecError(f"is a binary file, not {expected}", Location(name))
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise SpecError(f"is not UTF-8 text (byte {err.start})", Location(name)) from None


def parse_text(text: str, source: str | None, kind: str | None = None) -> ModelSpec:
    """Parse text as ``kind`` ("yaml", "json", "compact"), or guess from its content."""
    text = text.removeprefix("\ufeff")
    if not text.strip():
        raise SpecError("the spec is empty", Location(source))
    kind = kind or _guess_kind(text)
    if kind == "json":
        return parse_json(text, source)
    if kind == "yaml":
        return parse_yaml(text, source)
    from .compact import parse_compact  # (its parser imports ast: a YAML spec does not need it)

    return parse_compact(text, source)


def _guess_kind(text: str) -> str:
    """A spec has top-level keys such as ``layers:`` (YAML, of which JSON is a subset, so
    ``{input: [3], layers: [...]}`` reads too); a compact form is a list of calls."""
    if text.lstrip().startswith("{") or _TOP_KEY_LINE.search(text):
        return "yaml"
    return "compact"
