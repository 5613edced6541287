"""Which decoder layers of a Hugging Face config attend through a sliding window, and how wide.

A family's ``window`` entry in ``hf_config.FAMILIES`` says where transformers 5 reads it
(``configuration_<family>.py``): the ``sliding_window`` field and its class default, the
switch that turns it on (Qwen's ``use_sliding_window``), and which layers use it when the
config has no ``layer_types`` list (a config's own list always wins, as in transformers'
``cache_utils.get_layer_types_and_kwargs``):

- ``all``: every layer, when the window is set (Mistral, Mixtral, Phi-3, Qwen3-MoE);
- ``("every", field, n)``: every layer but each n-th, n from ``field`` or fixed (Gemma 2: 2;
  Gemma 3's ``sliding_window_pattern``, default 6): layer i is local when (i + 1) % n ≠ 0;
- ``from_max``: layers from ``max_window_layers`` on (Qwen2, Qwen3);
- ``odd_below_max``: layers i below ``max_window_layers`` with (i + 1) odd (Qwen2-MoE).

A windowed layer's KV cache keeps its last ``sliding_window`` tokens (hf_decoder.yaml's
``kv_cache``); the others keep the whole context.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..errors import Location, SpecError


def layer_windows(config: Mapping[str, Any], family: Mapping[str, Any], layers: int, where: Location) -> list[int]:
    """Each decoder layer's window in tokens; 0 where it attends to the whole context."""
    rule = family.get("window")
    if rule is None:
        return [0] * layers
    switch = rule.get("use")
    window = config.get("sliding_window", rule["default"])
    if window is None or (switch is not None and not config.get(switch, False)) or window == 0:
        return [0] * layers
    window = _positive(window, "sliding_window", where)
    return [window if local else 0 for local in _local(config, rule["layers"], layers, where)]


def _local(config: Mapping[str, Any], how: Any, layers: int, where: Location) -> list[bool]:
    types = config.get("layer_types")
    if types is not None:
        if not isinstance(types, list) or len(types) != layers or not all(isinstance(t, str) for t in types):
            raise SpecError(f"'layer_types' must list one attention type per layer ({layers}), got {types!r}", where)
        return [t == "sliding_attention" for t in types]
    if how == "all":
        return [True] * layers
    if isinstance(how, tuple):
        _, field, default = how
        step = _positive(config.get(field, default), field, where) if field else default
        return [bool((i + 1) % step) for i in range(layers)]
    first = _positive(config.get("max_window_layers", 28), "max_window_layers", where, zero=True)
    if how == "from_max":
        return [i >= first for i in range(layers)]
    return [bool((i + 1) % 2) and i < first for i in range(layers)]  # odd_below_max


def _positive(value: Any, field: str, where: Location, *, zero: bool = False) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < (0 if zero else 1):
        raise SpecError(f"'{field}' must be a {'whole' if zero else 'positive whole'} number, got {value!r}", where)
    return value
