"""Keras's HDF5 files through h5py, headers only: names, shapes and attributes; no tensor's
data is ever read.

- Keras 3 weights (``model.weights.h5`` inside a ``.keras`` file, ``.weights.h5``): a group
  per layer under ``layers/``, its tensors in ``vars/0``, ``vars/1``, ..., the layer's own
  name in the ``vars`` group's ``name`` attribute; a nested model's layers under its own
  ``layers/``. The group's name is Keras's attribute name, not the layer's.
- Keras 2 and legacy weights (``model.h5``, old ``.weights.h5``): a group per layer named in
  the ``layer_names`` attribute (of the root, or of ``model_weights`` in a full-model
  file), its tensors listed in the group's ``weight_names`` attribute.
- A full-model ``.h5`` also holds the model's config, as JSON, in the root's
  ``model_config`` attribute.

libhdf5 is not hardened against crafted files: a variable-length string declaring 4 GiB is
allocated before the heap it points into is read (3.3 GB measured, fuzz/fuzz_files.py). So
every h5py read runs in a child process (``read_file``, ``read_zip_member``) with 1 GiB of
address space beyond its imports and 15 s, and hands back plain data: the config's text and
the tensors' names and shapes.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from .._child import run_bounded
from .._text import with_article
from ..errors import Location, SpecError
from . import require
from ._h5_heaps import check_global_heaps

MAX_OBJECTS = 1_000_000  # groups and datasets walked: far past any real model
MAX_CONFIG = 64 * 1024 * 1024
CHILD_MEMORY = 1024**3  # bytes of address space a read may take beyond the interpreter and h5py
CHILD_SECONDS = 15.0  # a real model's names and shapes take well under a second

# a layer's path (outer/inner) → (tensor name, shape) of the tensors it holds itself
Index = dict[str, list[tuple[str, tuple[int, ...]]]]


def h5py_module() -> Any:
    return require("h5py", "h5")


def read_file(path: str, where: Location) -> tuple[str | None, Index | None, bool]:
    """A ``.h5`` file's (config text or None, weights index or None where a full-model file's
    weights cannot be read, whether the tensors carry their names), read in a bounded child."""
    return _bounded(_read_file, (path,), where)


def read_zip_member(archive: str, member: str, where: Location) -> Index:
    """The weights index of a ``.keras`` zip's ``model.weights.h5``, read in a bounded child."""
    return _bounded(_read_zip_member, (archive, member), where)


def _bounded(function: Any, args: tuple, where: Location) -> Any:
    if importlib.util.find_spec("h5py") is None:  # (or blocked): said before a child starts
        h5py_module()
    ran = run_bounded(function, args, seconds=CHILD_SECONDS, memory_bytes=CHILD_MEMORY, prepare=h5py_module)
    if ran.refused:
        raise SpecError(ran.refused)  # the child's one line, its place included
    if ran.bug:
        raise RuntimeError(f"learnable's HDF5 reader failed in its child process:\n{ran.bug}")
    if ran.memory or (ran.died is not None and ran.died < 0):
        # past RLIMIT_AS libhdf5 fails an allocation (h5py: MemoryError), or C code aborts on it
        raise SpecError(f"needs more than {CHILD_MEMORY // 1024**3} GiB to read (HDF5 allocates what the file "
                        f"declares); refused", where)
    if ran.timed_out:
        raise SpecError(f"takes more than {CHILD_SECONDS:g} s to read with HDF5; refused", where)
    if ran.died is not None:
        raise SpecError(f"stopped HDF5's reader (exit status {ran.died}); refused", where)
    return ran.value


def _read_file(path: str) -> tuple[str | None, Index | None, bool]:
    where = Location(path)
    with damaged_as_error(where), open_h5(path, where) as file:
        text = model_config(file, where)
        if text is None:
            return (None, *weights_index(file, where))
        try:
            return text, weights_index(file, where)[0], True
        except SpecError:
            return text, None, True  # a model saved without weights: the config alone is counted


def _read_zip_member(archive: str, member: str) -> Index:
    import zipfile

    from .keras_file import open_member

    where = Location(archive)
    with damaged_as_error(where), zipfile.ZipFile(archive) as opened, \
            open_member(opened, opened.getinfo(member), where) as found, open_h5(found, where) as file:
        return weights_index(file, where)[0]


def open_h5(source: Any, where: Location) -> Any:
    h5py = h5py_module()
    check_global_heaps(source, where)  # before libhdf5 reads one: a damaged one loops forever in C
    try:
        return h5py.File(source, "r")
    except (OSError, ValueError) as err:
        raise SpecError(f"is not an HDF5 file h5py can open ({str(err).splitlines()[0][:120]})", where) from None


@contextmanager
def damaged_as_error(where: Location) -> Iterator[None]:
    """An error h5py raises while reading (a KeyError "message size exceeds buffer end", an
    OSError "bad object header") means a damaged file, said in one line. An error raised
    by our own code is a bug and keeps its traceback: only h5py's frames are judged."""
    try:
        yield
    except (KeyError, OSError, RuntimeError, ValueError, TypeError) as err:
        if not _raised_in_h5py(err):
            raise
        text = str(err.args[0] if err.args else "").strip() or type(err).__name__  # KeyError's str() adds quotes
        if "memory allocation failed" in text:
            raise MemoryError from None  # libhdf5 met the child's limit (read_file): said as such by the parent
        raise SpecError(f"is a damaged HDF5 file: h5py cannot read it ({text.splitlines()[0][:120]})", where) from None


def _raised_in_h5py(err: BaseException) -> bool:
    trace = err.__traceback__
    while trace is not None and trace.tb_next is not None:
        trace = trace.tb_next
    return trace is not None and "h5py" in trace.tb_frame.f_code.co_filename.replace("\\", "/").split("/")


def attribute(attrs: Any, name: str, where: Location, default: Any = None) -> Any:
    """A text attribute's value, its size and type checked first: h5py allocates what the
    attribute's dataspace declares (elements × item size) before libhdf5 reads a byte."""
    if name not in attrs:
        return default
    found = attrs.get_id(name)
    elements = 1
    for dim in found.shape or ():
        elements *= dim
        if elements * found.dtype.itemsize > MAX_CONFIG:
            raise SpecError(f"has an attribute '{name}' whose shape {found.shape} declares more than "
                            f"{MAX_CONFIG:,} bytes; not a file Keras wrote", where)
    if elements == 0:
        return []  # Keras writes a layer's empty weight_names as an empty float array: nothing to read
    if found.get_type().get_class() != h5py_module().h5t.STRING:
        # Keras writes names and configs as strings; libhdf5 crashed (SIGSEGV) reading a damaged
        # variable-length sequence where a string was (fuzz/fuzz_files.py)
        raise SpecError(f"has an attribute '{name}' that is not text; not a file Keras wrote", where)
    return attrs[name]


def model_config(file: Any, where: Location) -> str | None:
    """The full-model file's config JSON, or None in a weights file (its size checked first)."""
    if "model_config" not in file.attrs:
        return None
    size = file.attrs.get_id("model_config").get_storage_size()
    if size > MAX_CONFIG:
        raise SpecError(f"holds {with_article(format(size, ','))}-byte model_config; more than {MAX_CONFIG:,} "
                        f"is not a real model", where)
    value = attribute(file.attrs, "model_config", where)
    value = value.decode("utf-8", "replace") if isinstance(value, bytes) else value
    if not isinstance(value, str):
        raise SpecError("has a model_config attribute that is not text", where)
    return value


def weights_index(file: Any, where: Location) -> tuple[Index, bool]:
    """Each layer's own tensors, keyed by its path; and whether the tensors carry their
    names (Keras 2's do, ``kernel``, ``moving_mean``; Keras 3's are numbered)."""
    walk = _Walk(where)
    if "layers" in file and isinstance(file["layers"], _group_type()):
        walk.keras3(file["layers"], "")
        return walk.index, False
    root = file.get("model_weights", file)
    if "layer_names" not in root.attrs:
        raise SpecError("holds no Keras weights (neither a layers/ group nor a layer_names attribute)", where)
    for name in _strings(attribute(root.attrs, "layer_names", where), where):
        walk.legacy(root, name)
    return walk.index, True


class _Walk:
    def __init__(self, where: Location):
        self.where, self.seen, self.index = where, 0, {}

    def _visit(self) -> None:
        self.seen += 1
        if self.seen > MAX_OBJECTS:
            raise SpecError(f"holds more than {MAX_OBJECTS:,} groups and tensors", self.where)

    def keras3(self, layers: Any, prefix: str) -> None:
        for key in layers:
            self._visit()
            group = layers[key]
            if not isinstance(group, _group_type()):
                continue
            name = _layer_name(group, key, self.where)
            path = prefix + name
            self.index[path] = self._tensors(group, "")
            if "layers" in group and isinstance(group["layers"], _group_type()):
                self.keras3(group["layers"], path + "/")

    def _tensors(self, group: Any, prefix: str) -> list[tuple[str, tuple[int, ...]]]:
        """Every tensor under a layer's group (a custom layer's sub-layers included), but
        not a nested model's layers: they are layers of their own."""
        found = []
        for key in group:
            self._visit()
            item = group[key]
            if isinstance(item, _group_type()):
                if not (prefix == "" and key == "layers"):
                    found += self._tensors(item, f"{prefix}{key}/")
            elif isinstance(item, h5py_module().Dataset):  # (not a named datatype, which holds no tensor)
                found.append((prefix + key, tuple(int(d) for d in item.shape or ())))
        return found

    def legacy(self, root: Any, name: str) -> None:
        self._visit()
        if name not in root:
            raise SpecError(f"lists layer '{name}' in layer_names but has no group for it", self.where)
        group = root[name]
        tensors = []
        for weight in _strings(attribute(group.attrs, "weight_names", self.where, []), self.where):
            self._visit()
            if weight not in group:
                raise SpecError(f"layer '{name}' lists weight '{weight}' but does not hold it", self.where)
            item = group[weight]
            if not isinstance(item, h5py_module().Dataset):
                raise SpecError(f"layer '{name}' lists weight '{weight}', which is not a tensor (a dataset)", self.where)
            tensors.append((weight, tuple(int(d) for d in item.shape or ())))
        self.index[name] = tensors


def _layer_name(group: Any, key: str, where: Location) -> str:
    """The layer's own name (the ``vars`` group's attribute); the group's key otherwise."""
    if "vars" in group:
        name = attribute(group["vars"].attrs, "name", where)
        name = name.decode("utf-8", "replace") if isinstance(name, bytes) else name
        if isinstance(name, str) and name:
            return name
    return key


def _strings(values: Any, where: Location) -> list[str]:
    try:
        return [v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v) for v in list(values)]
    except TypeError:
        raise SpecError("has a layer_names or weight_names attribute that is not a list of names", where) from None


def _group_type() -> type:
    return h5py_module().Group
