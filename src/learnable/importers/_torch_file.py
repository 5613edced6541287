"""A ``.pt`` checkpoint's tensors, counted only from the bytes the file holds.

``torch.load(weights_only=True, mmap=True)`` runs no pickled code, and maps every storage
from the file instead of reading it. What it does not check is whether the numbers add up:
a tensor is a *view* (offset, sizes, strides) of a storage, and a crafted view can claim far
more elements than the storage has. So, before and after loading:

- **the zip first** (a ``.pt`` is a zip): at most ``MAX_MEMBERS`` members, and none that
  inflates: a compressed member (``torch.save`` stores, never compresses) may declare at most
  ``MAX_INFLATED`` bytes in all, and the pickle at most ``MAX_PICKLE``. PyTorch reads the pickle
  and small records whole into memory at their declared size, so a 2 MB deflated member of
  4 GB is refused here, before ``torch.load``;
- **containers are walked with a stack**, not recursion, at most ``MAX_NESTING`` deep;
- **every tensor is a dense view of bytes in the file**: strided (no sparse or meta
  tensor, which hold no such bytes), no stride 0 on an axis longer than 1 (an ``expand``:
  one element counted a trillion times), no axis whose steps overlap another's, inside its
  storage; and no two tensors share bytes, unless they are the same view of the same storage
  (tied weights, counted once). All storages are slices of one mapping of the file, so their
  addresses compare directly, and the elements counted never exceed the file's bytes.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterator
from itertools import pairwise
from pathlib import Path
from typing import Any

from .._text import with_article
from ..errors import Location, SpecError
from . import require

MAX_MEMBERS = 500_000  # one per storage; a real state dict has thousands
MAX_PICKLE = 100 * 1024 * 1024  # names, shapes and strides: as the safetensors header bound
MAX_INFLATED = 64 * 1024 * 1024  # compressed members in all, at their declared size
MAX_NESTING = 64  # {"model": {"state_dict": {...}}} is three

# (name, shape, dtype, bytes), as checkpoint.Tensor
Tensor = tuple[str, tuple[int, ...], str, int]


def tensors(path: Path) -> list[Tensor]:
    where = Location(str(path))
    check_zip(path, where)
    torch = require("torch", "torch")
    try:
        data = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
    except Exception as err:  # pickle.UnpicklingError for anything but tensors and containers
        raise SpecError(load_error(err), where) from None
    found, spans, seen = [], [], set()
    for name, tensor in state_items(data, torch, where):
        span = _span(name, tensor, torch, where)
        if span is not None:
            key = (span[0], tuple(tensor.shape), tuple(tensor.stride()), tensor.dtype)
            if key in seen:  # tied: the same view of the same bytes under a second name
                continue
            seen.add(key)
            spans.append((*span, name))
        found.append((name, tuple(tensor.shape), str(tensor.dtype).removeprefix("torch."),
                      tensor.numel() * tensor.element_size()))
    _check_disjoint(spans, where)
    if not found:
        raise SpecError("holds no tensors", where)
    return found


# torch's own message runs to 1,100 characters, with ANSI bold and advice to load with
# weights_only=False (which runs any code the file holds): we say what was refused instead.
_REFUSED = re.compile(r"WeightsUnpickler error: (.*?)(?: was not an allowed global by default| Please|\n|$)")
_GLOBAL = re.compile(r"GLOBAL (\S+)")
_CONTROL = re.compile(r"\x1b\[[0-9;]*[A-Za-z]|[\x00-\x1f\x7f]")


def load_error(err: Exception) -> str:
    """One line for a file ``torch.load(weights_only=True)`` refuses: what it holds that
    weights-only loading refuses (a global's name where torch names one), and why we will
    not load it otherwise."""
    text = str(err)
    refused = _REFUSED.search(text)
    reason = _CONTROL.sub(" ", refused.group(1)).strip().rstrip(".") if refused else ""
    if refused is None and "Weights only load failed" not in text:
        first = _CONTROL.sub(" ", text.strip().splitlines()[0] if text.strip() else type(err).__name__)
        return f"cannot be read as a PyTorch state dict with weights_only=True: {_shortened(first.strip())}"
    named = _GLOBAL.search(reason)
    if named:
        held = f"the Python object {named.group(1)}, which loading with weights_only=True refuses"
    else:
        held = "data that loading with weights_only=True refuses" + (f" ({_shortened(reason)})" if reason else "")
    return (f"holds {held}; learnable never unpickles arbitrary objects (they can run code): save the "
            "tensors alone (model.state_dict()) or as .safetensors")


def _shortened(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else f"{text[:limit]}…"


def check_zip(path: Path, where: Location) -> None:
    """The zip's directory, before PyTorch inflates anything. A file that is not a zip is
    left to ``torch.load`` (which refuses it with ``mmap=True``)."""
    size = path.stat().st_size
    try:
        with path.open("rb") as file:
            end = zipfile._EndRecData(file)  # the entry count, before ZipFile builds an object per entry
        if end is None:
            return
        if end[zipfile._ECD_ENTRIES_TOTAL] > MAX_MEMBERS:
            raise SpecError(f"is a zip of {end[zipfile._ECD_ENTRIES_TOTAL]:,} members; a PyTorch checkpoint "
                            f"of more than {MAX_MEMBERS:,} is refused", where)
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError) as err:  # "zip file version 25.5"
        raise SpecError(f"is not a readable zip (a PyTorch checkpoint is one): {err}", where) from None
    inflated = 0
    for member in members:
        if member.compress_type == zipfile.ZIP_STORED:
            if member.file_size != member.compress_size or member.header_offset + member.compress_size > size:
                raise SpecError(f"has a zip member '{member.filename}' whose sizes do not fit the file", where)
        else:
            inflated += member.file_size
        if member.filename.endswith("data.pkl") and member.file_size > MAX_PICKLE:
            raise SpecError(f"declares {with_article(format(member.file_size, ','))}-byte pickle "
                            f"('{member.filename}'); more than "
                            f"{MAX_PICKLE:,} is not a state dict", where)
    if inflated > MAX_INFLATED:
        raise SpecError(f"has compressed zip members that declare {inflated:,} bytes (more than {MAX_INFLATED:,}); "
                        "torch.save stores its members uncompressed", where)


def state_items(data: Any, torch: Any, where: Location) -> Iterator[tuple[str, Any]]:
    """Every tensor in a (possibly nested) state dict, in order: {"model": {...}}, lists.

    A container is followed once, at its first name: a pickle can reference one list from
    many places (40 levels of ``[a, a]`` are 2^40 paths in a 2 KB file, which never ended);
    a second reference holds the same tensors, tied, as a tensor's second name is."""
    stack: list[tuple[str, Any, int]] = [("", data, 0)]
    followed: set[int] = set()  # ids of containers; ``data`` keeps them all alive
    while stack:
        prefix, value, depth = stack.pop()
        if isinstance(value, torch.Tensor):
            yield prefix.rstrip("."), value
            continue
        if not isinstance(value, (dict, list, tuple)) or id(value) in followed:
            continue
        followed.add(id(value))
        items = value.items() if isinstance(value, dict) else enumerate(value)
        children = [(f"{prefix}{key}.", item) for key, item in items
                    if isinstance(item, (torch.Tensor, dict, list, tuple))]  # numbers and text hold no tensor
        if children and depth >= MAX_NESTING:
            raise SpecError(f"nests containers more than {MAX_NESTING} deep (at {_quoted(prefix.rstrip('.'))}); "
                            "a state dict nests a few", where)
        stack.extend((name, item, depth + 1) for name, item in reversed(children))


def _span(name: str, tensor: Any, torch: Any, where: Location) -> tuple[int, int] | None:
    """The bytes [start, end) the tensor's elements occupy in the mapped file, or None for
    a tensor of no elements."""
    if tensor.layout != torch.strided or tensor.is_meta:
        layout = str(tensor.layout).removeprefix('torch.')
        what = "on the meta device" if tensor.is_meta else f"{with_article(layout)} tensor"
        raise SpecError(f"tensor {_quoted(name)} is {what}: the file holds no dense data for it to be counted "
                        "from", where)
    if tensor.numel() == 0:
        return None
    extent = 0  # the largest element offset the view reaches
    for size, stride in sorted(((s, d) for s, d in zip(tensor.shape, tensor.stride(), strict=True) if s > 1),
                               key=lambda axis: axis[1]):
        if stride == 0:
            raise SpecError(f"tensor {_quoted(name)} is an expanded view (stride 0): its {tensor.numel():,} "
                            "elements repeat fewer held in the file; save a copy (.contiguous()) to count it", where)
        if stride <= extent:
            raise SpecError(f"tensor {_quoted(name)} is a view whose elements overlap (strides "
                            f"{list(tensor.stride())}); its count is not what the file holds", where)
        extent += (size - 1) * stride
    storage, itemsize = tensor.untyped_storage(), tensor.element_size()
    start = storage.data_ptr() + tensor.storage_offset() * itemsize
    end = start + (extent + 1) * itemsize
    if not storage.data_ptr() <= start <= end <= storage.data_ptr() + storage.nbytes():
        raise SpecError(f"tensor {_quoted(name)} runs past its storage ({storage.nbytes():,} bytes)", where)
    return start, end


def _check_disjoint(spans: list[tuple[int, int, str]], where: Location) -> None:
    """No two tensors over the same bytes (tied weights, the same view twice, were merged
    before): two views of one 100-element storage are not 120 parameters."""
    for (_, end, first), (start, _, second) in pairwise(sorted(spans)):
        if start < end:
            raise SpecError(f"tensors {_quoted(first)} and {_quoted(second)} are views over the same bytes of "
                            "the file; their counts would add up to more than it holds", where)


def _quoted(name: str, limit: int = 80) -> str:
    """A name from the file, quoted and shortened: one line, whatever it holds."""
    text = name if len(name) <= limit else f"{name[:limit]}…"
    return repr(text)
