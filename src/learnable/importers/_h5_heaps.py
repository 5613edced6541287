"""HDF5 global heaps, checked before h5py reads a string from one.

Keras keeps its model_config (and h5py its variable-length strings) in a file's global heap
collections ("GCOL"). libhdf5 walks a collection's objects by their declared sizes, and an
object with index 0 and size 0 (a run of zero bytes, as a damaged or crafted file holds)
moves the walk by nothing: it loops forever in native code, where no Python timeout reaches
(HDF5's H5HG__cache_heap_deserialize; found by fuzz/fuzz_files.py). So each collection is
walked here first, the same way, and one that would never end is refused.
"""

from __future__ import annotations

import struct
from typing import Any, BinaryIO

from .._text import with_article
from ..errors import Location, SpecError

_SIGNATURE = b"GCOL\x01\x00\x00\x00"  # signature, version 1, three reserved bytes
_CHUNK = 4 * 1024 * 1024
_MIN_COLLECTION = 4096  # HDF5 never writes a smaller one (H5HG_MINSIZE)


def check_global_heaps(source: Any, where: Location) -> None:
    """``source``: a path or a readable, seekable binary file (a member of a .keras zip)."""
    if hasattr(source, "read"):
        start = source.tell()
        try:
            _scan(source, where)
        finally:
            source.seek(start)
        return
    with open(source, "rb") as file:
        _scan(file, where)


def _scan(file: BinaryIO, where: Location) -> None:
    """Every collection's signature, read in chunks that overlap by a header's length."""
    offset, tail = 0, b""
    file.seek(0)
    while chunk := file.read(_CHUNK):
        data, base = tail + chunk, offset - len(tail)
        found = data.find(_SIGNATURE)
        while found != -1:
            _check_collection(file, base + found, where)
            found = data.find(_SIGNATURE, found + 1)
        offset += len(chunk)
        tail = data[-(len(_SIGNATURE) - 1):]
        file.seek(offset)


def _check_collection(file: BinaryIO, at: int, where: Location) -> None:
    file.seek(at + 8)
    head = file.read(8)
    if len(head) < 8:
        return
    (size,) = struct.unpack("<Q", head)  # a length: 8 bytes in every file h5py writes
    if size < _MIN_COLLECTION:
        return  # not a collection libhdf5 would read as one
    end = file.seek(0, 2)
    file.seek(at + 16)
    body = file.read(min(size, end - at) - 16)  # what the file holds of it, whatever it declares
    position = 0
    while position + 16 <= len(body):  # as libhdf5 walks it: index, references, reserved, size
        index, _, _, length = struct.unpack_from("<HHIQ", body, position)
        need = 16 + (length + 7) // 8 * 8 if index else length
        # libhdf5 steps by need: 0 never moves, and a size past the collection wraps its
        # pointer around (C arithmetic) to somewhere before the end. A valid heap has neither.
        if need == 0 or position + need > size - 16:
            what = "no size" if need == 0 else f"{length:,} bytes in {with_article(format(size, ','))}-byte collection"
            raise SpecError(f"has a damaged HDF5 global heap at byte {at:,} (an object of {what}); "
                            "HDF5 could read it forever", where)
        position += need
