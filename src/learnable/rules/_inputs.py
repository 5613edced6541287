"""The example input a PyTorch layer's own arguments imply, for counting a module that is
not run: ``nn.Linear(400, 120)`` takes (400,), ``nn.Conv2d(3, 6, 5)`` (3, ?, ?). The
PyTorch importer uses it when it has no trace, the code reader for a module whose forward
it does not follow; a rule that needs a size the arguments do not give gets none, and its
row says so."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..errors import RuleError
from ._base import CHANNELS_FIRST, PYTORCH, Context, Rule, Shape

_CHECK = Context(CHANNELS_FIRST, PYTORCH)
WHOLE = frozenset({"MultiheadAttention", "TransformerEncoderLayer", "TransformerDecoderLayer", "TransformerEncoder",
                   "TransformerDecoder", "Transformer"})


def _d_model(a: dict[str, Any]) -> int:
    layer = a.get("encoder_layer") or a.get("decoder_layer")
    return a["d_model"] if layer is None else layer.args["d_model"]


# rule → the example shape(s) its module's own arguments give, unknown sizes None
_FEATURES: dict[str, Callable[[dict[str, Any]], list[Shape]]] = {
    "Linear": lambda a: [(a["in_features"],)], "PReLU": lambda a: [(a["num_parameters"],)],
    "LayerNorm": lambda a: [tuple(a["normalized_shape"])], "RMSNorm": lambda a: [tuple(a["normalized_shape"])],
    "GroupNorm": lambda a: [(a["num_channels"], None)],
    **{name: lambda a: [(None, a["input_size"])] for name in ("RNN", "LSTM", "GRU")},
    **{name: lambda a: [(a["input_size"],)] for name in ("RNNCell", "LSTMCell", "GRUCell")},
    "MultiheadAttention": lambda a: [(None, a["embed_dim"]), (None, a["kdim"] or a["embed_dim"]),
                                     (None, a["vdim"] or a["embed_dim"])],
    **{name: lambda a: [(None, _d_model(a))] * 2 for name in WHOLE - {"MultiheadAttention"}},
}


def implied_inputs(rule: Rule, a: dict[str, Any]) -> list[Shape] | None:
    """Input shapes from the module's own arguments (else of unknown sizes, rank 1 to 4)
    that its rule accepts, or None."""
    low, high = rule.arity
    guesses = [_FEATURES[rule.name](a)] if rule.name in _FEATURES else [
        *([[(a.get("in_channels") or a.get("num_features"), *(None,) * int(rule.name[-2]))]]
          if rule.name[-2:] in ("1d", "2d", "3d") else []),
        *([(None,) * rank] for rank in range(1, 5))]
    for shapes in guesses:
        shapes = (shapes + shapes[-1:] * max(0, low - len(shapes)))[:high]
        try:
            rule.infer(a, shapes, _CHECK)
        except RuleError:
            continue
        return shapes
    return None
