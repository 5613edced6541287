"""Synthetic deep specs for the scale benchmark: sequential and branching, any depth.

Both use 64-wide Dense layers on a 64-vector, so every Dense holds 64×64 + 64 = 4,160
parameters and the counts are easy to check by hand.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

WIDTH = 64
DENSE_PARAMS = WIDTH * WIDTH + WIDTH  # 4,160
KINDS = ("sequential", "branching")


def sequential(layers: int) -> dict[str, Any]:
    """``layers`` layers (an even number): Dense, ReLU, Dense, ReLU, ..."""
    _check(layers, 2)
    return {"name": f"sequential-{layers}", "input": [WIDTH],
            "layers": [{"Dense": WIDTH}, "ReLU"] * (layers // 2)}


def branching(layers: int) -> dict[str, Any]:
    """``layers`` layers (a multiple of 4) in residual blocks x ← x + Dense(ReLU(Dense(x)))."""
    _check(layers, 4)
    spec_layers: list[Any] = []
    previous = "input"
    for block in range(layers // 4):
        spec_layers += [
            {"Dense": {"units": WIDTH, "name": f"d{block}a", "inputs": [previous]}},
            {"ReLU": {"name": f"r{block}"}},
            {"Dense": {"units": WIDTH, "name": f"d{block}b"}},
            {"Add": {"name": f"x{block}", "inputs": [previous, f"d{block}b"]}},
        ]
        previous = f"x{block}"
    return {"name": f"branching-{layers}", "input": [WIDTH], "layers": spec_layers}


def expected_params(kind: str, layers: int) -> int:
    """By hand: half the sequential layers and half the branching layers are Dense."""
    return layers // 2 * DENSE_PARAMS


def _check(layers: int, multiple: int) -> None:
    if layers < multiple or layers % multiple:
        raise ValueError(f"layers must be a positive multiple of {multiple}, got {layers}")


def generate(kind: str, layers: int) -> dict[str, Any]:
    return {"sequential": sequential, "branching": branching}[kind](layers)


def write_yaml(spec: dict[str, Any], path: Path) -> Path:
    """YAML in block style, one layer a line, as a person writes it (``- Dense: 64``)."""
    lines = [f"name: {spec['name']}", f"input: {_flow(spec['input'])}", "layers:"]
    lines += [f"  - {_yaml_layer(layer)}" for layer in spec["layers"]]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _yaml_layer(layer: Any) -> str:
    if isinstance(layer, str):
        return layer
    (type_name, arguments), = layer.items()
    return f"{type_name}: {_flow(arguments)}"


def _flow(value: Any) -> str:
    """Flow YAML for the plain names, numbers, lists and mappings these specs hold."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key}: {_flow(item)}" for key, item in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_flow(item) for item in value) + "]"
    return str(value)


def write_json(spec: dict[str, Any], path: Path) -> Path:
    path.write_text(json.dumps(spec, indent=1), encoding="utf-8")
    return path
