"""How shapes, windows and sizes are written in reports and messages."""

from __future__ import annotations

from collections.abc import Sequence


def shape_text(shape: Sequence[int | None]) -> str:
    dims = ", ".join("None" if d is None else str(d) for d in shape)
    return f"({dims},)" if len(shape) == 1 else f"({dims})"


def dims_text(dims: Sequence[int | None]) -> str:
    """``3×3`` for a window or a spatial size."""
    return "×".join("None" if d is None else str(d) for d in dims)


def human(size: int) -> str:
    """``97.5 MiB``: binary units, one decimal, computed in integers."""
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if size >= scale:
            tenths = (size * 10 + scale // 2) // scale
            return f"{tenths // 10:,}.{tenths % 10} {unit}"
    return f"{size:,} B"
