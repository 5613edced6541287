"""Layer rules, one small declarative rule per layer type, grouped by family.

Importing this package registers every family; :func:`lookup` finds a rule by type name.
"""

from . import (  # noqa: F401  (registration)
    activation,
    attention,
    augment,
    conv,
    conv_transpose,
    dense,
    embedding,
    imported,
    layer_norm,
    merge,
    moe,
    norm,
    parameter,
    pooling,
    prelu,
    rearrange,
    recurrent,
    resample,
    separable,
    structure,
    tensor_ops,
    transformer,
    wrapper,
)
from ._base import (
    CHANNELS_FIRST,
    CHANNELS_LAST,
    CONVENTIONS,
    DATA_FORMATS,
    KERAS,
    PYTORCH,
    Context,
    Inference,
    Rule,
    Shape,
    Weight,
)
from ._registry import all_rules, lookup

__all__ = [
    "CHANNELS_FIRST", "CHANNELS_LAST", "CONVENTIONS", "DATA_FORMATS", "KERAS", "PYTORCH", "Context", "Inference", "Rule", "Shape", "Weight",
    "all_rules", "lookup",
]
