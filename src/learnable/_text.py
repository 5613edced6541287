"""How shapes and windows are written in reports and messages."""

from __future__ import annotations

from collections.abc import Sequence


def shape_text(shape: Sequence[int | None]) -> str:
    dims = ", ".join("None" if d is None else str(d) for d in shape)
    return f"({dims},)" if len(shape) == 1 else f"({dims})"


def dims_text(dims: Sequence[int | None]) -> str:
    """``3×3`` for a window or a spatial size."""
    return "×".join("None" if d is None else str(d) for d in dims)
