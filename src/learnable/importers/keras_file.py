"""Keras model files → the Graph, without Keras: nothing is unpickled or deserialized, no
code runs.

- ``.keras`` (Keras 3): a zip of ``config.json``, ``metadata.json`` and ``model.weights.h5``.
  The zip's directory is checked first (member sizes, no absolute or ``..`` paths), then
  ``config.json`` alone is read, bounded, and followed as the model (``_keras_config``).
  Only a layer the config cannot explain (a Lambda, a custom object) sends the reader to
  ``model.weights.h5``, for that layer's tensor shapes (with h5py, the ``h5`` extra).
- ``.h5`` / ``.hdf5`` full-model files (Keras 2, and Keras 3's legacy ``model.save('m.h5')``):
  the ``model_config`` attribute, followed the same way; the weights' shapes for what it
  cannot explain.
- ``.weights.h5`` and other weights-only files: no model to follow, so one row per layer,
  counted from its tensors' shapes, nested models as blocks. Which weights train is not
  stored: all are counted as trainable, except what Keras 2 names as a BatchNormalization's
  statistics (``moving_mean``, ``moving_variance``), and the report says so.
"""

from __future__ import annotations

import io
import json
import struct
import zipfile
from pathlib import Path
from typing import Any, BinaryIO

from .._text import with_article
from ..errors import Location, SpecError
from ..graph import BlockInfo, Graph, make_node
from ..rules import KERAS, lookup
from . import _keras_h5
from ._keras_config import config_graph

MAX_CONFIG = 64 * 1024 * 1024  # a config lists layers and arguments: 64 MB of it is not a real model
MAX_MEMBERS = 10_000
_STATISTICS = ("moving_mean", "moving_variance")  # Keras 2's names for BatchNormalization's non-trainable weights


def file_graph(path: Path, *, input_shape: Any = None, convention: str | None = None, **options: Any) -> Graph:
    where = Location(str(path))
    if not path.is_file():
        raise SpecError("no such file", where)
    with _keras_h5.damaged_as_error(where):  # h5py is read lazily, inside config_graph too
        if path.suffix.lower() == ".keras":
            return _keras_zip(path, where, input_shape, convention)
        return _h5(path, where, input_shape, convention)


# ---- .keras: a zip --------------------------------------------------------------------------------


def _keras_zip(path: Path, where: Location, input_shape: Any, convention: str | None) -> Graph:
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError):  # "zip file version 25.5"
        raise SpecError("is not a .keras file: not a zip archive", where) from None
    with archive:
        members = {info.filename: info for info in _checked_members(archive, where)}
        if "config.json" not in members:
            raise SpecError("is not a Keras 3 .keras file: the zip holds no config.json", where)
        config = _json(_read_member(archive, members["config.json"], where), where, "config.json")
        lookup_weights = _zip_weights(archive, members.get("model.weights.h5"), where)
        return config_graph(config, where, weights=lookup_weights, weights_file="model.weights.h5",
                            input_shape=input_shape, convention=convention)


def _checked_members(archive: zipfile.ZipFile, where: Location) -> list[zipfile.ZipInfo]:
    infos = archive.infolist()
    if len(infos) > MAX_MEMBERS:
        raise SpecError(f"is a zip of {len(infos):,} members; a .keras file holds three", where)
    for info in infos:
        name = info.filename
        if name.startswith(("/", "\\")) or ".." in name.replace("\\", "/").split("/") or ":" in name:
            raise SpecError(f"holds a zip member with an unsafe path: {name[:80]!r}", where)
    return infos


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, where: Location) -> bytes:
    """A member's bytes, its declared size checked first and the read bounded whatever it
    declares (a zip bomb declares a small size and inflates past it)."""
    if info.file_size > MAX_CONFIG:
        raise SpecError(f"declares {with_article(format(info.file_size, ','))}-byte {info.filename}; more than "
                        f"{MAX_CONFIG:,} bytes is "
                        "not a real model's config", where)
    try:
        with archive.open(info) as member:
            data = member.read(MAX_CONFIG + 1)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError) as err:
        raise SpecError(f"cannot read {info.filename} from the zip: {err}", where) from None
    if len(data) > MAX_CONFIG:
        raise SpecError(f"has {with_article(info.filename)} that inflates past {MAX_CONFIG:,} bytes", where)
    return data


def _json(data: bytes | str, where: Location, what: str) -> Any:
    try:
        return json.loads(data)
    except (UnicodeDecodeError, ValueError, RecursionError):  # RecursionError: "[[[[...": nested too deep
        raise SpecError(f"has {with_article(what)} that is not JSON", where) from None


def _zip_weights(archive: zipfile.ZipFile, info: zipfile.ZipInfo | None, where: Location) -> Any:
    """A lookup of a layer's tensors in model.weights.h5, opened only when first asked for."""
    if info is None:
        return None
    index: dict[str, Any] = {}

    def tensors(layer: str) -> list[tuple[str, tuple[int, ...]]] | None:
        if not index:
            index["found"] = _keras_h5.read_zip_member(str(archive.filename), info.filename, where)
        return _with_inner(index["found"], layer)

    return tensors


def open_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, where: Location) -> Any:
    """A member to hand h5py: a window on the zip's own bytes where it is stored
    uncompressed, as Keras stores it (zipfile's reader re-reads from the start on every
    backward seek, and h5py seeks back and forth)."""
    if info.compress_type != zipfile.ZIP_STORED or not isinstance(archive.filename, str):
        return archive.open(info)
    file = open(archive.filename, "rb")  # noqa: SIM115 (the window closes it)
    file.seek(info.header_offset)
    head = file.read(30)
    if len(head) < 30 or head[:4] != b"PK\x03\x04":
        file.close()
        raise SpecError(f"has a zip entry for {info.filename} that points at no member", where)
    name_length, extra_length = struct.unpack("<HH", head[26:30])
    return _Window(file, info.header_offset + 30 + name_length + extra_length, info.compress_size)


class _Window(io.RawIOBase):
    """Bytes ``start`` to ``start + size`` of an open file, read-only, as a file of their own."""

    def __init__(self, file: BinaryIO, start: int, size: int):
        self.file, self.start, self.size, self.position = file, start, size, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self.position, io.SEEK_END: self.size}[whence]
        self.position = max(0, base + offset)
        return self.position

    def readinto(self, buffer: Any) -> int:
        count = max(0, min(len(buffer), self.size - self.position))
        self.file.seek(self.start + self.position)
        data = self.file.read(count)
        buffer[:len(data)] = data
        self.position += len(data)
        return len(data)

    def close(self) -> None:
        self.file.close()
        super().close()


def _with_inner(index: _keras_h5.Index, layer: str) -> list[tuple[str, tuple[int, ...]]] | None:
    """A layer's tensors, those of layers inside it included (a custom layer's sub-layers)."""
    if layer not in index:
        return None
    inner = [(f"{key[len(layer) + 1:]}/{name}", shape) for key, found in index.items()
             if key.startswith(layer + "/") for name, shape in found]
    return index[layer] + inner


# ---- .h5: a full model or weights ------------------------------------------------------------------


def _h5(path: Path, where: Location, input_shape: Any, convention: str | None) -> Graph:
    text, index, named = _keras_h5.read_file(str(path), where)
    if text is None:
        return _weights_graph(index or {}, named, path.name, convention)
    config = _json(text, where, "model_config")

    def tensors(layer: str) -> list[tuple[str, tuple[int, ...]]] | None:
        return _with_inner(index or {}, layer)

    return config_graph(config, where, weights=tensors, weights_file=path.name, input_shape=input_shape,
                        convention=convention)


def _weights_graph(index: _keras_h5.Index, named: bool, name: str, convention: str | None) -> Graph:
    """One row per layer, counted from its tensors; a layer with layers inside is a block."""
    rule, nodes, blocks = lookup("Tensors"), [], {}
    parents = {key.rpartition("/")[0] for key in index if "/" in key}
    note = "a weights file: its shapes only" + ("" if named else "; which weights train is not stored (all counted "
                                                                   "as trainable)")
    for key, tensors in index.items():
        if key in parents and not tensors:
            continue
        parent = _block_of(key.rpartition("/")[0], blocks, key)
        rows = [(t, s, not (named and t.rpartition("/")[2].split(":")[0] in _STATISTICS), False) for t, s in tensors]
        nodes.append(make_node(rule, key, (), (), {"tensors": rows, "output_shape": (), "note": note},
                               input_shapes=(), block=parent, type_name="weights", index=len(nodes) + 1))
    if not nodes:
        raise SpecError("holds no Keras layers' weights", Location(name))
    untold = ("A Keras 3 weights file does not say which weights train: all are counted as trainable "
              "(BatchNormalization's statistics included).")
    return Graph(tuple(nodes), name=name, convention=convention or KERAS, blocks=tuple(blocks.values()),
                 notes=() if named else (untold,))


def _block_of(prefix: str, blocks: dict[str, BlockInfo], last: str) -> str | None:
    if not prefix:
        return None
    parent = _block_of(prefix.rpartition("/")[0], blocks, last)
    blocks[prefix] = BlockInfo(prefix, "model", parent, last)
    return prefix
