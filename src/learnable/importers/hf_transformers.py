"""A config.json of a family learnable has no spec for: built by transformers, imported.

transformers builds the model from the config on the meta device (shapes only: no memory
for weights, nothing downloaded, no remote code: ``trust_remote_code`` stays off), and the
PyTorch importer reads it as it reads any nn.Module. Needs the ``hf`` extra.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from ..errors import Location, SpecError
from ..graph import Graph


def transformers_graph(config: dict[str, Any], source: str, input_shape: Any = None,
                       architecture: str | None = None, why: str | None = None) -> Graph:
    """``architecture``: the transformers class to build (a config's ``architectures[0]``)
    where the head follows it; else the causal LM, or the bare model where there is none.
    ``why``: what learnable's spec lacks, said in the note and the error."""
    where = Location(source)
    model_type = config["model_type"]
    why = why or f"model_type '{model_type}' has no spec in learnable"
    try:
        import torch
        import transformers
    except ImportError:
        raise SpecError(f"{why}; counting it needs transformers: "
                        "pip install 'learnable[hf]'", where) from None
    model = _meta_model(transformers, torch, config, where, architecture)
    from .torch_module import to_graph

    graph = to_graph(model)
    note = (f"{source}: {why}: built by transformers "
            f"{transformers.__version__} as {type(model).__name__} on the meta device and imported from PyTorch")
    return replace(graph, notes=(*graph.notes, note))


def _meta_model(transformers: Any, torch: Any, config: dict[str, Any], where: Location,
                architecture: str | None) -> Any:
    fields = {k: v for k, v in config.items() if k not in ("model_type", "auto_map")}
    try:
        hf_config = transformers.AutoConfig.for_model(config["model_type"], **fields)
    except (ValueError, KeyError) as err:
        raise SpecError(f"transformers {transformers.__version__} does not know it: {err}", where) from None
    with torch.device("meta"):
        named = getattr(transformers, architecture, None) if architecture else None
        if isinstance(named, type) and issubclass(named, transformers.PreTrainedModel):  # a class, nothing else
            return named(hf_config)
        for auto in (transformers.AutoModelForCausalLM, transformers.AutoModel):
            try:
                return auto.from_config(hf_config)
            except ValueError:  # no such head for this family: try the bare model
                continue
    raise SpecError(f"transformers cannot build model_type '{config['model_type']}' from this config", where)
