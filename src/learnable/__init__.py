"""learnable: how many learnable parameters a network has, layer by layer, with the
arithmetic shown. No framework needed."""

from .api import audit, compare_conventions, count
from .comparison import Comparison
from .errors import LearnableError
from .report import LayerRow, Report, WeightRow

__version__ = "0.1.0"
__all__ = ["Comparison", "LayerRow", "LearnableError", "Report", "WeightRow", "audit", "compare_conventions", "count",
           "__version__"]
