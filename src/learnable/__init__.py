"""learnable: how many learnable parameters a network has, layer by layer, with the
arithmetic shown. No framework needed."""

from typing import Any

from .api import audit, check, compare_conventions, count, exercise, solve, sweep, symbolic
from .errors import LearnableError
from .report import LayerRow, Report, WeightRow

__version__ = "0.1.0"
__all__ = ["Comparison", "LayerRow", "LearnableError", "Report", "WeightRow", "__version__", "audit", "check",
           "compare_conventions", "count", "exercise", "solve", "sweep", "symbolic"]


def __getattr__(name: str) -> Any:
    """``learnable.Comparison``, imported when first asked for: a count does not need it."""
    if name == "Comparison":
        from .comparison import Comparison

        return Comparison
    raise AttributeError(f"module 'learnable' has no attribute {name!r}")
