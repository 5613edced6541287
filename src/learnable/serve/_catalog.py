"""The page's starting points and titles: each example and zoo model with its title, its
parameter count (counted by the engine once, on the first request, then kept) and its
source, grouped as examples, zoo CNNs and zoo transformers; and a title for any count, so
that no network is shown as a bare "Model".
"""

from __future__ import annotations

import functools
import json
import re
from typing import Any

from ..spec import parse_text, zoo

EXAMPLES, CNNS, TRANSFORMERS = "Examples", "Zoo: convolutional networks", "Zoo: transformers"
_TRANSFORMER_LAYER = re.compile(r"Attention|Embedding")
_CITATION = re.compile(r"\(([^()]*?\b(?:19|20)\d\d)\b")  # "(He et al. 2015, ..." → "He et al. 2015"


@functools.cache
def zoo_entries() -> tuple[dict[str, Any], ...]:
    return tuple(_entry(f"{zoo.PREFIX}{name}", zoo.text(name), zoo=True) for name in zoo.names())


@functools.cache
def example_entries() -> tuple[dict[str, Any], ...]:
    from ._files import example_files

    return tuple(_entry(name, text, zoo=False) for name, text in example_files())


def _entry(name: str, text: str, *, zoo: bool) -> dict[str, Any]:
    description = description_of(text)
    report = _counted(name, text)
    transformer = report is not None and any(_TRANSFORMER_LAYER.search(layer.type) for layer in report.layers)
    group = (TRANSFORMERS if transformer else CNNS) if zoo else EXAMPLES
    title = (description if zoo else None) or (report.name if report is not None else None) or name
    return {"name": name, "title": title, "description": description, "source": _citation(text),
            "params": report.total_params if report is not None else None, "group": group, "spec": text}


def _counted(name: str, text: str):
    """The example's report, or None where it does not count (a starting point still)."""
    from .. import api
    from ..errors import LearnableError

    try:
        return api.count(parse_text(text, name, "yaml" if name.endswith((".yaml", ".yml")) or ":" in name else None))
    except LearnableError:
        return None


def _opening_comment(text: str) -> str:
    comment = []
    for line in text.lstrip().splitlines():
        if not line.startswith("#"):
            break
        comment.append(line.lstrip("#").strip())
    return " ".join(comment)


def _citation(text: str) -> str | None:
    match = _CITATION.search(_opening_comment(text))
    return match[1].strip() if match else None


def description_of(text: str) -> str:
    """A spec's ``description:``, else the first sentence of its opening comment."""
    match = re.search(r"(?m)^description:\s*(.+)$", text)
    if match:
        return match[1].strip().strip("\"'")
    return re.split(r"(?<=\.)\s", _opening_comment(text), maxsplit=1)[0]


def title(report, text: str, source: str) -> str:
    """The spec's or the model's name; for a config.json its architecture; else a plain
    "Unnamed network" (never "Model", which reads as a name)."""
    if source == "config":
        try:
            architectures = json.loads(text).get("architectures")
        except (ValueError, AttributeError):
            architectures = None
        if isinstance(architectures, list) and architectures and isinstance(architectures[0], str):
            return architectures[0]
    return report.name or "Unnamed network"
