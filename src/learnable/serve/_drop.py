"""POST /api/file: a model file dropped on the page, counted from the few bytes the page sends.

The page (static/drop.js) reads only what a count needs and sends that, never the weights:
a ``config.json`` or ``*.safetensors.index.json`` as text; a safetensors file's first 8 bytes
and its JSON header; a GGUF file's header and tensor table; a ``.keras`` zip's
``config.json`` member; an ONNX model with each large initializer's bytes cut out (its
dims, type and name kept, and the length its data had, marked as external data at
:data:`STRIPPED`). Each is handed to the reader the CLI uses for the whole file, with the
file's size for the checks that need it, so the count is the one ``learnable count FILE``
prints. Nothing is written to disk, and nothing here opens a path.

The body is one line of JSON (the options of /api/count, ``spec`` aside, and ``files``: each
part's ``name``, ``kind``, ``size`` (the whole file's bytes) and ``length`` (the bytes sent)),
a newline, then the parts' bytes one after another.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

from .._text import with_article
from ..errors import Location, SpecError
from . import api

MAX_FILE_REQUEST_BYTES = 32 * 1024 * 1024  # a GGUF header with a 150,000-token vocabulary is ~8 MB
MAX_PARTS = 1024  # a config, an index and the shards' headers (the largest checkpoints have a few hundred)
KINDS = ("config", "index", "safetensors", "gguf", "keras", "onnx")
STRIPPED = "learnable:not-sent"  # the external-data location drop.js gives an initializer whose bytes it kept
_TEXT_FIELDS = {"spec", "input", "model", "values"}  # for text; a file states its own model


def file_request(body: bytes) -> dict[str, Any]:
    """The same payload /api/count answers for a spec, its ``source`` "file", plus ``file``:
    what was sent against the files' sizes. Raises :class:`api.RequestError`."""
    request, parts = _split(body)
    sent = sum(len(data) for _, data in parts)
    total = sum(entry["size"] for entry, _ in parts)

    def make_graph(convention: str | None, data_format: str | None):
        graph = files_graph(parts, convention)
        return replace(graph, convention=convention) if convention else graph

    payload = api.answer(request, make_graph, "file")
    payload["file"] = {"names": [entry["name"] for entry, _ in parts], "sent_bytes": sent, "file_bytes": total}
    return payload


def _split(body: bytes) -> tuple[dict[str, Any], list[tuple[dict[str, Any], bytes]]]:
    line, newline, rest = body.partition(b"\n")
    if not newline:
        raise api.RequestError(400, "a file request is a line of JSON, a newline, then the files' bytes")
    try:
        request = json.loads(line.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as err:
        raise api.RequestError(400, f"the request's first line is not JSON: {err}") from None
    if not isinstance(request, dict):
        raise api.RequestError(400, "the request's first line must be a JSON object")
    files = request.pop("files", None)
    allowed = (set(api.FIELDS) | set(api.OPTIONS)) - _TEXT_FIELDS
    unknown = sorted(set(request) - allowed)
    if unknown:
        raise api.RequestError(400, f"unknown field {unknown[0]!r} in a file request; the fields are files, "
                                    f"{', '.join(sorted(allowed))}")
    entries = _entries(files)
    if sum(entry["length"] for entry in entries) != len(rest):
        raise api.RequestError(400, f"the files' lengths add up to {sum(e['length'] for e in entries):,} bytes, "
                                    f"but {len(rest):,} followed the JSON line")
    parts, start = [], 0
    for entry in entries:
        parts.append((entry, rest[start:start + entry["length"]]))
        start += entry["length"]
    return request, parts


def _entries(files: object) -> list[dict[str, Any]]:
    if not isinstance(files, list) or not files or len(files) > MAX_PARTS:
        raise api.RequestError(400, f"'files' must list 1 to {MAX_PARTS:,} files")
    entries = []
    for entry in files:
        if not isinstance(entry, dict) or set(entry) != {"name", "kind", "size", "length"}:
            raise api.RequestError(400, "each of 'files' is {name, kind, size, length}")
        if not isinstance(entry["name"], str) or entry["kind"] not in KINDS:
            raise api.RequestError(400, f"a file's kind is one of {', '.join(KINDS)}, got {entry['kind']!r}")
        if not all(isinstance(entry[k], int) and not isinstance(entry[k], bool) and entry[k] >= 0
                   for k in ("size", "length")) or entry["length"] > entry["size"]:
            raise api.RequestError(400, f"{entry['name'][:80]!r}: size and length must be whole numbers of bytes, "
                                        "the bytes sent no more than the file's")
        entries.append({**entry, "name": Path(entry["name"]).name[:255] or "file"})
    return entries


def files_graph(parts: list[tuple[dict[str, Any], bytes]], convention: str | None):
    """The Graph the CLI reads from the whole file (or the folder the files make up)."""
    kinds = sorted(entry["kind"] for entry, _ in parts)
    if len(parts) == 1 and kinds[0] in _READERS:
        entry, data = parts[0]
        return _READERS[kinds[0]](entry, data, Location(entry["name"]), convention)
    if "config" in kinds or "safetensors" in kinds or "index" in kinds:
        from ._drop_folder import folder_graph

        return folder_graph(parts)
    raise SpecError(f"drop one model file, or a Hugging Face folder's files; got {', '.join(kinds)}")


def _safetensors(entry: dict[str, Any], data: bytes, where: Location, convention: str | None):
    from ..importers import checkpoint

    return checkpoint.tensor_graph(safetensors_header(entry, data, where), name=entry["name"])


def safetensors_header(entry: dict[str, Any], data: bytes, where: Location) -> list:
    from ..importers import checkpoint

    length = checkpoint.header_length(data[:8], entry["size"], where)
    if len(data) != 8 + length:
        raise SpecError(f"declares {with_article(format(length, ','))}-byte header, but {len(data) - 8:,} bytes of it "
                        "were sent", where)
    return checkpoint.header_tensors(data[8:], entry["size"] - 8 - length, where)


def _gguf(entry: dict[str, Any], data: bytes, where: Location, convention: str | None):
    from ..importers import _importer
    from ..importers._gguf_header import header_from_bytes

    gguf_file = _importer("gguf_file", "gguf")
    return gguf_file.header_graph(header_from_bytes(data, entry["size"], where, gguf_file.SIZES), entry["name"])


def _keras(entry: dict[str, Any], data: bytes, where: Location, convention: str | None):
    """The .keras zip's config.json, followed as the CLI follows it; the weights file stays
    behind, so a layer only its weights explain (a Lambda) is refused by the reader."""
    from ..importers._keras_config import config_graph
    from ..importers.keras_file import MAX_CONFIG, _json

    if len(data) > MAX_CONFIG:
        raise SpecError(f"has a config.json over {MAX_CONFIG:,} bytes; not a real model's config", where)
    return config_graph(_json(data, where, "config.json"), where, weights=None, weights_file="model.weights.h5",
                        convention=convention)


def _onnx(entry: dict[str, Any], data: bytes, where: Location, convention: str | None):
    from ..importers import _importer

    onnx_model = _importer("onnx_model", "onnx")
    from google.protobuf.message import DecodeError
    from onnx import ModelProto

    model = ModelProto()
    try:
        model.ParseFromString(data)
    except (DecodeError, ValueError) as err:
        raise SpecError(f"is not an ONNX model: {str(err).splitlines()[0] if str(err) else 'not a ModelProto'}",
                        where) from None
    stripped = sum(1 for t in model.graph.initializer
                   if any(e.key == "location" and e.value == STRIPPED for e in t.external_data))
    try:
        graph = onnx_model.to_graph(model, name=entry["name"], where=where, convention=convention)
    except UnicodeDecodeError:
        raise SpecError("holds a name or string that is not UTF-8; not a valid ONNX file", where) from None
    if not stripped:
        return graph
    # the initializers the page kept on the user's computer are no external files; any the
    # file itself keeps in external data still are
    external = sum(t.data_location == 1 for t in model.graph.initializer)  # TensorProto.EXTERNAL
    note = onnx_model._EXTERNAL.format(external)
    notes = [n for n in graph.notes if n != note]
    if external > stripped:
        notes.append(onnx_model._EXTERNAL.format(external - stripped))
    return replace(graph, notes=tuple(notes))


_READERS = {"safetensors": _safetensors, "gguf": _gguf, "keras": _keras, "onnx": _onnx}
