"""Files of a Hugging Face folder dropped together: ``config.json``, perhaps
``model.safetensors.index.json``, and each shard's header, read as hf_folder.py reads the
folder on disk (the config's graph, reconciled with the stored tensors)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..errors import Location, SpecError
from ..graph import Graph
from ..importers.hf_config import MAX_CONFIG_BYTES, is_hf_config, native_config_graph
from ..importers.hf_folder import MAX_SHARDS, reconcile

Part = tuple[dict[str, Any], bytes]


def folder_graph(parts: list[Part]) -> Graph:
    from ..importers import checkpoint
    from . import _drop

    by_kind: dict[str, list[Part]] = {}
    for part in parts:
        by_kind.setdefault(part[0]["kind"], []).append(part)
    if len(by_kind.get("config", ())) > 1 or len(by_kind.get("index", ())) > 1 or set(by_kind) - {
            "config", "index", "safetensors"}:
        raise SpecError("drop one model file, or one Hugging Face folder (a config.json, its "
                        "model.safetensors.index.json and the .safetensors shards)")
    shards = by_kind.get("safetensors", [])
    if "index" in by_kind:
        _check_index(by_kind["index"][0], [entry["name"] for entry, _ in shards])
    tensors = [t for entry, data in shards
               for t in _drop.safetensors_header(entry, data, Location(entry["name"]))]
    if "config" not in by_kind:
        if not shards:
            raise SpecError("a safetensors index alone says which shard holds each tensor, not their shapes; drop "
                            "the folder (config.json and the shards) instead")
        return checkpoint.tensor_graph(tensors, name=shards[0][0]["name"] if len(shards) == 1 else "dropped shards")
    entry, data = by_kind["config"][0]
    config = _json(data, Location(entry["name"]), MAX_CONFIG_BYTES, "a Hugging Face config.json")
    if not is_hf_config(config):
        raise SpecError("has no 'model_type'; a Hugging Face config.json names its model's family there",
                        Location(entry["name"]))
    graph = native_config_graph(config, entry["name"])
    if not shards:
        return graph
    return reconcile(graph, tensors, [Path(e["name"]) for e, _ in shards], "the dropped folder",
                     config.get("quantization_config"))


def _check_index(part: Part, sent: list[str]) -> None:
    """The index's shards are the shards dropped: hf_folder.py reads the ones it names."""
    entry, data = part
    where = Location(entry["name"])
    index = _json(data, where, MAX_CONFIG_BYTES, "a safetensors index")
    weight_map = index.get("weight_map")
    if not isinstance(weight_map, dict) or not all(isinstance(v, str) for v in weight_map.values()):
        raise SpecError("has no 'weight_map' of tensor names to shard files; not a safetensors index", where)
    names = sorted(set(weight_map.values()))
    if len(names) > MAX_SHARDS:
        raise SpecError(f"names {len(names):,} shard files; more than {MAX_SHARDS:,} is not a real checkpoint", where)
    missing = sorted(set(names) - set(sent))
    if missing:
        raise SpecError(f"names a shard '{missing[0][:100]}' that was not dropped with it; drop the whole folder",
                        where)
    extra = sorted(set(sent) - set(names))
    if extra:
        raise SpecError(f"does not name the dropped shard '{extra[0][:100]}'", where)


def _json(data: bytes, where: Location, limit: int, what: str) -> dict[str, Any]:
    if len(data) > limit:
        raise SpecError(f"is larger than {limit:,} bytes; not {what}", where)
    try:
        value = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise SpecError(f"is not JSON; {what} is", where) from None
    if not isinstance(value, dict):
        raise SpecError(f"is not a JSON object; {what} is", where)
    return value
