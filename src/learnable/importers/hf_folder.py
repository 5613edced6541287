"""A Hugging Face model folder read as one model: ``config.json`` and the safetensors shards.

``DIR``, ``DIR/config.json``, ``DIR/model.safetensors.index.json`` and one shard all name the
folder. The config gives the architecture and the arithmetic (hf_config.py); every shard's
header (the index's shards, else every ``*.safetensors`` file; headers only, never the
weights) gives the stored tensors; the two are reconciled, and the graph says which it used:

- the config's count, when the stored tensors hold it exactly once the tensors a config does
  not describe are set aside: buffers saved with the weights (rotary ``inv_freq``, GPT-2's
  causal mask, DeepSeek-V3's ``e_score_correction_bias``) and a tied head stored twice;
- the stored tensors, row by module, when they do not (a layout the config does not say):
  the difference is said, with the names that explain it.

A quantized checkpoint (bitsandbytes, GPTQ, AWQ, fp8; quantized.py) holds each quantized
linear's out × in + bias parameters, whatever its packing, read with the config's
``quantization_config``; its scales, zeros and absmax are metadata, not parameters.

A folder without ``config.json``, or a lone ``.safetensors`` file, is its tensors alone.
"""

from __future__ import annotations

import json
from dataclasses import replace
from math import prod
from pathlib import Path
from typing import Any

from ..errors import Location, SpecError
from ..graph import Graph
from . import _stored, checkpoint, quantized
from .hf_config import MAX_CONFIG_BYTES, config_graph, is_hf_config, read_config

INDEX_SUFFIX = ".safetensors.index.json"
MAX_SHARDS = 10_000  # the largest published checkpoints have a few hundred
# Tensors checkpoints store beside the weights that PyTorch models keep as buffers, by the
# end of their name: (suffix, what it is, and when it is not a parameter).
_BUFFER_NAMES = (
    ("rotary_emb.inv_freq", "rotary embedding frequencies, computed from rope_theta: a buffer"),
    ("attn.bias", "GPT-2's causal mask: a buffer"),
    ("attn.masked_bias", "GPT-2's masking constant: a buffer"),
    ("e_score_correction_bias", ("the router's score correction (DeepSeek-V3): not a parameter if the model "
                                 "registers it as a buffer, as transformers does; updated by load balancing, "
                                 "not by gradients")),
)


def file_graph(path: Path, input_shape: Any = None, **options: Any) -> Graph:
    folder = path if path.is_dir() else path.parent
    if not path.exists():
        raise SpecError("no such file or folder", Location(str(path)))
    config_path = folder / "config.json"
    if path.name.lower() == "config.json":
        config = read_config(path)
        if not is_hf_config(config):
            return _spec_graph(path)
        return config_graph(config, str(path), input_shape)
    has_config = config_path.is_file()
    shards = _shards(path, folder, required=not has_config)
    if not has_config:
        return checkpoint.tensor_graph(_tensors(shards), name=folder.name if path.is_dir() else path.name)
    config = read_config(config_path)
    graph = config_graph(config, str(config_path), input_shape)
    if not shards:
        return graph
    return reconcile(graph, _tensors(shards), shards, str(folder), config.get("quantization_config"))


def _spec_graph(path: Path) -> Graph:
    """A spec that happens to be named config.json (it has no model_type): read as a spec."""
    from ..spec import load
    from ..spec.build import build_graph

    return build_graph(load(path), None, None)


def _shards(path: Path, folder: Path, required: bool) -> list[Path]:
    index = path if path.name.lower().endswith(INDEX_SUFFIX) else _index_in(folder)
    if index is not None:
        return _indexed_shards(index, folder)
    if path.is_file():
        return [path]
    shards = sorted(folder.glob("*.safetensors"))
    if not shards and required:
        raise SpecError("is a directory holding neither config.json nor any .safetensors file; not a Hugging Face "
                        "model folder", Location(str(folder)))
    return shards


def _index_in(folder: Path) -> Path | None:
    found = sorted(folder.glob("*" + INDEX_SUFFIX))
    return found[0] if len(found) == 1 else None


def _indexed_shards(index: Path, folder: Path) -> list[Path]:
    """The shard files an index's weight_map names: plain names in the folder, nothing else."""
    where = Location(str(index))
    if index.stat().st_size > MAX_CONFIG_BYTES:
        raise SpecError(f"is larger than {MAX_CONFIG_BYTES:,} bytes; not a safetensors index", where)
    try:
        data = json.loads(index.read_bytes().decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise SpecError("is not JSON; a safetensors index is", where) from None
    weight_map = data.get("weight_map") if isinstance(data, dict) else None
    if not isinstance(weight_map, dict) or not all(isinstance(v, str) for v in weight_map.values()):
        raise SpecError("has no 'weight_map' of tensor names to shard files; not a safetensors index", where)
    names = sorted(set(weight_map.values()))
    if len(names) > MAX_SHARDS:
        raise SpecError(f"names {len(names):,} shard files; more than {MAX_SHARDS:,} is not a real checkpoint", where)
    for name in names:
        if Path(name).name != name or not name.endswith(".safetensors"):
            raise SpecError(f"names a shard '{name}' that is not a .safetensors file in its folder", where)
        if not (folder / name).is_file():
            raise SpecError(f"names a shard '{name}' that is not in the folder", where)
    return [folder / name for name in names]


def _tensors(shards: list[Path]) -> list[checkpoint.Tensor]:
    tensors: list[checkpoint.Tensor] = []
    for shard in shards:
        tensors.extend(checkpoint.safetensors_tensors(shard))
        if len(tensors) > checkpoint.MAX_TENSORS:  # the same bound for a folder as for one file
            raise SpecError(f"its shards list more than {checkpoint.MAX_TENSORS:,} tensors (by {shard.name}); "
                            "not a model's folder", Location(str(shard.parent)))
    return tensors


def reconcile(graph: Graph, tensors: list[checkpoint.Tensor], shards: list[Path], folder: str,
              quantization: object = None) -> Graph:
    """The config's graph when the stored tensors hold its count, else the tensors' own.
    A quantized linear holds out × in + bias parameters, whatever its packing; its scales,
    zeros and absmax are not parameters (quantized.py)."""
    from .. import engine

    report = engine.run(graph)
    expected = report.total_params
    buffers = [(t, suffix, why) for t in tensors for suffix, why in _BUFFER_NAMES if t[0].endswith(suffix)]
    set_aside = {t[0] for t, _, _ in buffers}
    kept = [t for t in tensors if t[0] not in set_aside]
    groups = quantized.group(kept)
    stored, found = quantized.logical_count(groups, quantization)
    head = _stored_tied_head(graph, tensors, stored - expected)
    stored -= head
    where = f"{len(tensors):,} tensors in {len(shards):,} shard{'s' * (len(shards) != 1)}"
    nbytes = sum(t[3] for t in tensors)
    dtypes = ", ".join(sorted({t[2] for t in tensors}))
    notes = [_buffers_note(buffers)] if buffers else []
    if head:
        notes.append(f"lm_head.weight is stored though tied to the embeddings: {head:,} values counted once")
    if stored == expected:
        notes += [quantized.summary(list(found.values()))] if found else []
        graph = quantized.annotate(graph, found) if found else graph
        graph = _stored.attach(graph, groups, found, {row.name: row.params + row.buffers for row in report.layers})
        notes.append(f"{folder}: checked against the stored {where} ({dtypes}; {nbytes:,} bytes): they hold the "
                     f"config's {expected:,} parameters exactly; the rows are the config's")
        return replace(graph, notes=(*graph.notes, *notes))
    values = "parameters" if found else "values"
    notes.append(f"{folder}: the stored {where} hold {stored:,} {values}, the config describes {expected:,} "
                 f"({stored - expected:+,}); counted from the stored tensors, not the config")
    counted = checkpoint.tensor_graph(kept, name=Path(folder).name, quantization=quantization)
    return replace(counted, notes=(*counted.notes, *notes))


def _stored_tied_head(graph: Graph, tensors: list[checkpoint.Tensor], surplus: int) -> int:
    """Some checkpoints store a tied head's weight under its own name too: the same values."""
    tied = any(node.shares and node.name == "lm_head" for node in graph.nodes)
    head = next((prod(t[1]) for t in tensors if t[0] == "lm_head.weight"), 0)
    return head if tied and head and surplus == head else 0


def _buffers_note(buffers: list[tuple[checkpoint.Tensor, str, str]]) -> str:
    kinds: dict[tuple[str, str], list[checkpoint.Tensor]] = {}
    for tensor, suffix, why in buffers:
        kinds.setdefault((suffix, why), []).append(tensor)
    parts = [f"{len(ts):,} × '…{suffix}' ({sum(prod(t[1]) for t in ts):,} values: {why})"
             for (suffix, why), ts in kinds.items()]
    return "set aside from the parameters: " + "; ".join(parts)
