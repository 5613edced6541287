"""learnable: how many learnable parameters a network has, layer by layer, with the
arithmetic shown. No framework needed."""

from .api import count
from .errors import LearnableError
from .report import LayerRow, Report, WeightRow

__version__ = "0.1.0"
__all__ = ["LayerRow", "LearnableError", "Report", "WeightRow", "count", "__version__"]
