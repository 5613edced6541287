"""A GGUF file's header and tensor table, read within bounds; tensor data is never read.

The layout (llama.cpp's docs/gguf.md, version 2 and 3): the magic ``GGUF``, a u32 version,
u64 tensor and metadata counts, the metadata (key string, u32 value type, value), then per
tensor its name, u32 dimension count, u64 sizes (ne[0] first: the innermost, contiguous
axis), u32 ggml type and u64 offset from the start of the aligned data section. Strings
are a u64 length and UTF-8 bytes. Big-endian files are read as such.

gguf-py's own ``GGUFReader`` memory-maps the file and reads no tensor data either, but
trusts every count: a 37-byte file declaring an array of 2^62 bytes keeps it looping (and
allocating) without end. Here every count is checked against the bytes left before it is
followed, so time and memory stay within the file's size. The tests check this reader
against GGUFReader on files written by gguf-py's GGUFWriter.
"""

from __future__ import annotations

import mmap
import struct
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

from .._text import with_article
from ..errors import Location, SpecError

VERSIONS = (2, 3)  # version 1 (u32 counts) was dropped by llama.cpp in 2023
MAX_DIMS = 4  # GGML_MAX_DIMS
MAX_NESTING = 4  # arrays of arrays: gguf-py writes none; a deeper one is not a real file
MAX_TENSORS = 1_000_000  # as a spec's layers: a real model has a few thousand (one row per module)
SMALL_ARRAY = 1024  # numeric arrays this short keep their values (per-layer head counts)
DEFAULT_ALIGNMENT = 32
# GGUF value types → struct codes; 8 is a string, 9 an array.
_SCALARS = {0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f", 7: "?", 10: "Q", 11: "q", 12: "d"}
STRING, ARRAY = 8, 9


@dataclass(frozen=True)
class Array:
    """A metadata array: its item type, its length, and its values when short and numeric."""

    item_type: int
    length: int
    values: tuple | None = None


@dataclass(frozen=True)
class TensorInfo:
    name: str
    ne: tuple[int, ...]  # ggml order: ne[0] is the innermost axis
    type: int  # ggml type id
    offset: int  # from the start of the data section
    nbytes: int = 0  # filled in once the type's block size is known


@dataclass(frozen=True)
class Header:
    version: int
    metadata: dict[str, object]
    tensors: tuple[TensorInfo, ...]
    data_offset: int
    file_size: int


class _Cursor:
    """Reads values in order from the mapped file; nothing past its end."""

    def __init__(self, buf: mmap.mmap | bytes, order: str, where: Location) -> None:
        self.buf, self.order, self.where, self.pos = buf, order, where, 0

    @property
    def left(self) -> int:
        return len(self.buf) - self.pos

    def fail(self, problem: str) -> SpecError:
        return SpecError(f"{problem} (at byte {self.pos:,}); not a valid GGUF file", self.where)

    def take(self, code: str, what: str) -> int | float | bool:
        size = struct.calcsize(code)
        if size > self.left:
            raise self.fail(f"ends inside {what}: the file is truncated")
        (value,) = struct.unpack_from(self.order + code, self.buf, self.pos)
        self.pos += size
        return value

    def string(self, what: str) -> str:
        length = self.take("Q", what)
        if length > self.left:
            raise self.fail(f"{what} declares {with_article(format(length, ','))}-byte string with "
                            f"{self.left:,} bytes left")
        raw = self.buf[self.pos:self.pos + length]
        self.pos += length
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            raise self.fail(f"{what} is not UTF-8") from None

    def count(self, what: str, least: int) -> int:
        """A declared number of items, each at least ``least`` bytes, that the rest of the
        file can hold: the bound that keeps a crafted count from running for ever."""
        n = self.take("Q", what)
        if n * least > self.left:
            raise self.fail(f"declares {with_article(what)} count of {n:,}, more than its {self.left:,} "
                            f"remaining bytes can "
                            "hold (truncated?)")
        return n


def read_header(path: Path, sizes: dict[int, tuple[str, int, int]]) -> Header:
    """The header of the GGUF file at ``path``; ``sizes`` maps each ggml type id to its
    (name, block size, bytes per block), gguf-py's GGML_QUANT_SIZES."""
    where = Location(str(path))
    try:
        with path.open("rb") as file:
            if path.stat().st_size < 24:  # magic, version, two counts
                raise SpecError("is too short to be a GGUF file", where)
            with mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ) as buf:
                return _read(buf, where, sizes, len(buf))
    except FileNotFoundError:
        raise SpecError("no such file", where) from None
    except (OSError, ValueError) as err:  # a directory, a file the OS cannot map
        raise SpecError(f"cannot be read: {getattr(err, 'strerror', None) or err}", where) from None


def header_from_bytes(data: bytes, file_size: int, where: Location, sizes: dict[int, tuple[str, int, int]]) -> Header:
    """The header from the file's first bytes (at least its header and tensor table: what the
    calculator's page sends), the tensors checked against the whole file's ``file_size``."""
    if len(data) < 24 or file_size < len(data):
        raise SpecError("is too short to be a GGUF file", where)
    return _read(data, where, sizes, file_size)


def _read(buf: mmap.mmap | bytes, where: Location, sizes: dict[int, tuple[str, int, int]], file_size: int) -> Header:
    if buf[:4] != b"GGUF":
        raise SpecError(f"does not start with GGUF's magic (found {bytes(buf[:4])!r}); not a GGUF file", where)
    order = "<"
    (version,) = struct.unpack_from("<I", buf, 4)
    if version & 0xFFFF == 0:  # written on a big-endian machine (gguf-py's test too)
        order, (version,) = ">", struct.unpack_from(">I", buf, 4)
    if version not in VERSIONS:
        raise SpecError(f"is GGUF version {version:,}; this reader knows versions 2 and 3", where)
    cursor = _Cursor(buf, order, where)
    cursor.pos = 8
    tensor_count = cursor.count("tensor", 8 + 4 + 4 + 8)  # name length, dims, type, offset
    if tensor_count > MAX_TENSORS:
        raise cursor.fail(f"declares {tensor_count:,} tensors; learnable reads at most {MAX_TENSORS:,}")
    kv_count = cursor.count("metadata", 8 + 4 + 1)  # key length, type, smallest value
    metadata = _metadata(cursor, kv_count)
    infos = [_tensor_info(cursor) for _ in range(tensor_count)]
    alignment = _alignment(metadata, cursor)
    data_offset = -(-cursor.pos // alignment) * alignment
    tensors = _sized(infos, sizes, alignment, max(file_size - data_offset, 0), cursor)
    return Header(version, metadata, tensors, data_offset, file_size)


def _metadata(cursor: _Cursor, count: int) -> dict[str, object]:
    metadata: dict[str, object] = {}
    for _ in range(count):
        key = cursor.string("a metadata key")
        if key in metadata:
            raise cursor.fail(f"metadata key '{_short(key)}' appears twice")
        metadata[key] = _value(cursor, cursor.take("I", f"the type of '{_short(key)}'"), key, 0)
    return metadata


def _value(cursor: _Cursor, kind: int, key: str, depth: int) -> object:
    if kind in _SCALARS:
        return cursor.take(_SCALARS[kind], f"the value of '{_short(key)}'")
    if kind == STRING:
        return cursor.string(f"the value of '{_short(key)}'")
    if kind != ARRAY:
        raise cursor.fail(f"metadata '{_short(key)}' has value type {kind}, which GGUF does not define")
    if depth >= MAX_NESTING:
        raise cursor.fail(f"metadata '{_short(key)}' nests arrays more than {MAX_NESTING} deep")
    item = cursor.take("I", f"the item type of '{_short(key)}'")
    least = struct.calcsize(_SCALARS[item]) if item in _SCALARS else 8 if item == STRING else 12
    length = cursor.count(f"'{_short(key)}' item", least)
    if item in _SCALARS:  # skipped in one step; short ones kept (head counts per layer)
        values = None
        if length <= SMALL_ARRAY:
            values = struct.unpack_from(f"{cursor.order}{length}{_SCALARS[item]}", cursor.buf, cursor.pos)
        cursor.pos += length * least
        return Array(item, length, values)
    if item == STRING:
        _skip_strings(cursor, length, key)
    else:
        for _ in range(length):  # arrays of arrays: walked, not kept
            _value(cursor, item, key, depth + 1)
    return Array(item, length)


def _skip_strings(cursor: _Cursor, length: int, key: str) -> None:
    """Past an array of strings (a vocabulary of 150,000 tokens, its merges): lengths only,
    nothing decoded or kept."""
    u64, pos, end = struct.Struct(cursor.order + "Q"), cursor.pos, len(cursor.buf)
    for _ in range(length):
        if pos + 8 > end:  # also after a length that ran past the end
            break
        pos += 8 + u64.unpack_from(cursor.buf, pos)[0]
    else:
        if pos <= end:
            cursor.pos = pos
            return
    raise cursor.fail(f"ends inside the strings of '{_short(key)}': the file is truncated")


def _tensor_info(cursor: _Cursor) -> TensorInfo:
    name = cursor.string("a tensor name")
    n_dims = cursor.take("I", f"the dimension count of tensor '{_short(name)}'")
    if n_dims > MAX_DIMS:
        raise cursor.fail(f"tensor '{_short(name)}' has {n_dims:,} dimensions; ggml tensors have at most {MAX_DIMS}")
    ne = tuple(cursor.take("Q", f"the sizes of tensor '{_short(name)}'") for _ in range(n_dims))
    if any(dim >= 2**63 for dim in ne):  # ggml's ne are int64_t: this one is negative there
        raise cursor.fail(f"tensor '{_short(name)}' has a size of 2^63 or more, which ggml cannot hold")
    kind = cursor.take("I", f"the type of tensor '{_short(name)}'")
    offset = cursor.take("Q", f"the offset of tensor '{_short(name)}'")
    return TensorInfo(name, ne, kind, offset)


def _alignment(metadata: dict[str, object], cursor: _Cursor) -> int:
    value = metadata.get("general.alignment", DEFAULT_ALIGNMENT)
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0 or value & (value - 1):
        raise cursor.fail(f"general.alignment is {value!r}, not a power of two")
    return value


def _sized(infos: list[TensorInfo], sizes: dict[int, tuple[str, int, int]], alignment: int, data_size: int,
           cursor: _Cursor) -> tuple[TensorInfo, ...]:
    """Each tensor with its bytes, checked: a known type, whole blocks per row, aligned,
    inside the file, no two named twice or sharing bytes (each would be counted twice)."""
    tensors, names = [], set()
    for info in infos:
        if info.name in names:
            raise cursor.fail(f"tensor '{_short(info.name)}' appears twice")
        names.add(info.name)
        if info.type not in sizes:
            raise cursor.fail(f"tensor '{_short(info.name)}' has ggml type {info.type:,}, which the gguf package "
                              "installed does not know (a newer quantization? upgrade gguf)")
        type_name, block, type_size = sizes[info.type]
        row = info.ne[0] if info.ne else 1
        if row % block:
            raise cursor.fail(f"tensor '{_short(info.name)}' has rows of {row:,} weights, not a multiple of "
                              f"{type_name}'s block of {block}")
        nbytes = _nbytes(info.ne, block, type_size, data_size)
        if info.offset % alignment or info.offset + nbytes > data_size:
            shape = "×".join(map(str, info.ne))
            raise cursor.fail(f"tensor '{_short(info.name)}' ({type_name} {shape}) at data offset {info.offset:,} "
                              f"does not fit the {data_size:,} bytes of data aligned to {alignment} (truncated?)")
        tensors.append(TensorInfo(info.name, info.ne, info.type, info.offset, nbytes))
    spans = sorted((t.offset, t.offset + t.nbytes, t.name) for t in tensors if t.nbytes)
    for (_, end, first), (start, _, second) in pairwise(spans):
        if start < end:
            raise cursor.fail(f"tensors '{_short(first)}' and '{_short(second)}' overlap in the data section")
    return tuple(tensors)


def _nbytes(ne: tuple[int, ...], block: int, type_size: int, limit: int) -> int:
    """Bytes stored: whole blocks of each row; limit + 1 once past the data (four u64 sizes
    multiply out to 256 bits)."""
    if 0 in ne:
        return 0
    nbytes = type_size * ((ne[0] if ne else 1) // block)
    for dim in ne[1:]:
        nbytes *= dim
        if nbytes > limit:
            return limit + 1
    return nbytes


def _short(name: str) -> str:
    """A name from the file as a message quotes it: a key may be megabytes long."""
    return name if len(name) <= 100 else name[:100] + "…"
