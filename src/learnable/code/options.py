"""The user's options for model code, as text: ``--input 3x224x224`` (``128:int`` for token
ids) and ``--set num_classes=10``, shared by the command line and the web page."""

from __future__ import annotations

import re
from typing import Any

from ..errors import SpecError
from ..inputs import INT, parse_input


def parse_shape(text: str, what: str = "--input") -> tuple[tuple[int, ...], bool]:
    """``3x224x224`` or ``3,224,224`` → ((3, 224, 224), False); ``128:int`` (token ids) →
    ((128,), True). The grammar is ``inputs.parse_input``'s, without a keyword name."""
    spec = parse_input(text, what)
    if spec.name:
        raise SpecError(f"{what} {text!r}: an input by name (NAME=...) is for a PyTorch model; give the sizes alone")
    return spec.shape, spec.dtype == INT


def parse_value(text: str, what: str = "--set") -> tuple[str, Any]:
    """``num_classes=10`` → ("num_classes", 10): the value read as YAML, lists as tuples
    (``image_size=[180,180]`` is a tuple in the code that it replaces); a dotted name sets an
    attribute (``input_lang.n_words=4345``)."""
    from ..spec._yaml import load_yaml

    name, equals, value = text.partition("=")
    name = name.strip()
    if not equals or not all(part.isidentifier() for part in name.split(".")):
        raise SpecError(f"{what} {text!r}: write NAME=VALUE, e.g. num_classes=10")
    data, _ = load_yaml(value.strip() or "null", f"{what} {name}")
    return name, _tuples(data)


def parse_values(text: str, what: str = "set") -> dict[str, Any]:
    """``num_classes=10; image_size=[180, 180]`` (or one per line) → a dict."""
    items = [item for item in re.split(r"[;\n]", text) if item.strip()]
    return dict(parse_value(item, what) for item in items)


def _tuples(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_tuples(v) for v in value)
    if isinstance(value, dict):
        return {k: _tuples(v) for k, v in value.items()}
    return value
