"""The Python API: ``learnable.count(source) -> Report``."""

from __future__ import annotations

from typing import Any

from . import engine
from .report import Report
from .rules import DATA_FORMATS
from .spec import load
from .spec.build import build_graph


def count(source: Any, *, data_format: str | None = None) -> Report:
    """Count a network's parameters, layer by layer, with the arithmetic.

    ``source`` is a spec file path (``.yaml``, ``.yml``, ``.json``, or compact text), a
    YAML/JSON spec string, a compact-form string such as
    ``"Input(28, 28, 1) | Conv2D(32, 3) | Flatten() | Dense(10)"``, or a spec dict.
    ``data_format`` ("channels_last" or "channels_first") overrides the spec's.
    Raises :class:`learnable.LearnableError` for any problem with the input.
    """
    if data_format is not None and data_format not in DATA_FORMATS:
        from .errors import SpecError

        raise SpecError(f"data_format must be channels_last or channels_first, got {data_format!r}")
    return engine.run(build_graph(load(source), data_format))
