"""YAML and JSON specs → :class:`ModelSpec`.

    name: deeplizard-cnn
    input: [20, 20, 3]             # one example, batch excluded; channels last by default
    layers:
      - Conv2D: {filters: 2, kernel_size: 3, padding: same}
      - Flatten
      - Dense: 2                   # a scalar or a list: positional arguments

YAML is read with the safe loader only, so a tag can never construct an object (see
``_yaml.py`` for the other limits). Each layer keeps the line it stands on, for messages.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from .._text import with_article
from ..errors import Location, SpecError
from ..rules import CONVENTIONS, DATA_FORMATS
from ..rules._args import suggest
from ._literals import call_value
from ._yaml import load_yaml
from .blocks import parse_blocks
from .model import GRAPH_KEYS, MAX_LAYERS, LayerSpec, ModelSpec, layer_spec, too_many

TOP_KEYS = ("name", "description", "input", "inputs", "data_format", "convention", "params", "blocks", "layers")


def parse_yaml(text: str, source: str | None) -> ModelSpec:
    data, lines = load_yaml(text, source)
    return spec_from_mapping(data, source, lines)


def parse_json(text: str, source: str | None) -> ModelSpec:
    try:
        data = json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constant)
    except json.JSONDecodeError as err:
        raise SpecError(f"JSON syntax error: {err.msg}", Location(source, err.lineno, err.colno)) from None
    except ValueError as err:  # our hooks, or numbers too long to read
        raise SpecError(f"JSON error: {err}", Location(source)) from None
    except RecursionError:
        raise SpecError("the JSON is nested too deeply", Location(source)) from None
    return spec_from_mapping(data, source, {})


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    mapping = dict(pairs)  # (built in C; the pairs are only looked through when a key repeats)
    if len(mapping) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise ValueError(f"duplicate key {key!r}")
            seen.add(key)
    return mapping


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a valid value")


# ---- structure --------------------------------------------------------------------------


def spec_from_mapping(data: Any, source: str | None = None, lines: Mapping | None = None) -> ModelSpec:
    """A parsed spec (a dict, as from YAML or JSON) → ModelSpec."""
    where = Location(source)
    if not isinstance(data, Mapping):
        raise SpecError(f"a spec must be a mapping with a 'layers:' list, got {_kind(data)}", where)
    for key in data:
        if key not in TOP_KEYS:
            raise SpecError(f"unknown key '{key}' at the top of the spec{suggest(str(key), TOP_KEYS)}; the keys are {', '.join(TOP_KEYS)}", where)
    layers = data.get("layers")
    if not isinstance(layers, list) or not layers:
        raise SpecError("'layers:' must be a non-empty list of layers", where)
    if len(layers) > MAX_LAYERS:  # before reading each: what follows costs per layer
        raise SpecError(too_many(len(layers), "lists"), where)

    def parse_items(items: list, path: tuple[str, ...]) -> list[LayerSpec]:
        at = (lines or {}).get(path, [])
        # One Location for the layers without a line (every layer of a JSON spec), not one each
        return [_layer_item(item, i, Location(source, at[i - 1]) if i <= len(at) else where)
                for i, item in enumerate(items, start=1)]

    return ModelSpec(
        layers=(*_inputs(data, where), *parse_items(layers, ("layers",))),
        name=_optional_str(data, "name", where),
        data_format=_choice(data, "data_format", DATA_FORMATS, where),
        convention=_choice(data, "convention", CONVENTIONS, where),
        source=source,
        blocks=parse_blocks(data.get("blocks"), source, parse_items),
        params=_params(data, where),
    )


def _params(data: Mapping, where: Location) -> dict[str, Any]:
    """``params: {d: 768, heads: 12}``: names every layer and block may use, as ``$d``."""
    params = data.get("params") or {}
    if not isinstance(params, Mapping) or not all(isinstance(k, str) and k.isidentifier() for k in params):
        raise SpecError("'params:' must map each name to its value, e.g. {d: 768, heads: 12}", where)
    missing = [k for k, v in params.items() if v is None]
    if missing:
        raise SpecError(f"'params:' gives no value for '{missing[0]}'", where)
    return dict(params)


def _kind(value: Any) -> str:
    return "nothing" if value is None else f"{with_article(type(value).__name__)}"


def _optional_str(data: Mapping, key: str, where: Location) -> str | None:
    value = data.get(key)
    if value is not None and not isinstance(value, str):
        raise SpecError(f"'{key}:' must be a string, got {value!r}", where)
    return value


def _choice(data: Mapping, key: str, options: tuple[str, ...], where: Location) -> str | None:
    value = data.get(key)
    if value is None or value in options:
        return value
    raise SpecError(f"'{key}:' must be {' or '.join(options)}, got {value!r}", where)


def _inputs(data: Mapping, where: Location) -> tuple[LayerSpec, ...]:
    if "input" in data and "inputs" in data:
        raise SpecError("give either 'input:' (one input) or 'inputs:' (named inputs), not both", where)
    if "input" in data:
        return (LayerSpec("Input", kwargs={"shape": data["input"]}, name="input", location=where),)
    named = data.get("inputs")
    if named is None:
        return ()
    if not isinstance(named, Mapping) or not named:
        raise SpecError("'inputs:' must map each input's name to its shape, e.g. {image: [28, 28, 1]}", where)
    return tuple(
        LayerSpec("Input", kwargs={"shape": shape}, name=str(name), location=where)
        for name, shape in named.items()
    )


# A parsed document's mappings are dicts: testing for dict first skips the ABC's slower
# check, which a 100,000-layer spec would pay at every layer.
_MAPPINGS = (dict, Mapping)


def _layer_item(item: Any, index: int, where: Location) -> LayerSpec:
    if isinstance(item, str):
        if "(" in item:
            from .compact import parse_call

            return parse_call(item, where, index)
        return LayerSpec(type=item.strip(), location=where, index=index)
    if isinstance(item, _MAPPINGS) and len(item) == 1:
        (type_name, value), = item.items()
        if not isinstance(type_name, str):
            raise SpecError(f"layer {index}: the layer type must be a name, got {type_name!r}", where)
        args, kwargs = _arguments(value, index, where)
        return layer_spec(type_name, args, kwargs, where, index)
    if isinstance(item, _MAPPINGS):
        keys = ", ".join(map(str, item))
        raise SpecError(
            f"layer {index} has several keys ({keys}); a layer is a type name or a one-key mapping "
            "{Type: arguments}, with name and inputs among the arguments",
            where,
        )
    raise SpecError(f"layer {index} must be a type name or a mapping {{Type: arguments}}, got {item!r}", where)


def _arguments(value: Any, index: int, where: Location) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """``{k: v}`` are keyword arguments; a list or a scalar are positional. A string written
    as a call (``layer: "LSTM(32)"``) is a layer given as an argument."""
    if value is None:
        return (), {}
    if isinstance(value, _MAPPINGS):
        bad = [k for k in value if not isinstance(k, str)]
        if bad:
            raise SpecError(f"layer {index}: argument names must be strings, got {bad[0]!r}", where)
        # (the test for a string written inline: a call for each value is a deep spec's cost)
        return (), {k: call_value(v, where) if isinstance(v, str) and k not in GRAPH_KEYS else v
                    for k, v in value.items()}
    if isinstance(value, list):
        return tuple(call_value(v, where) if isinstance(v, str) else v for v in value), {}
    return (call_value(value, where) if isinstance(value, str) else value,), {}
