"""The Keras layer table: a Keras class name → its rule, and the rule's arguments read from
the layer's config.

The config is the dict ``layer.get_config()`` returns, which is also what a ``.keras`` or
``.h5`` file stores under each layer's ``"config"``: the live-model importer
(``keras_model``) and the saved-file reader (``keras_file``) both read layers through this
table, so a saved model and the model itself go through the same rules. Keras-free.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ..errors import LearnableError, SpecError
from ..rules import KERAS, Rule, lookup
from ..rules._args import COMMON_IGNORED, LayerCall

# Keras layers whose spec rule cannot serve an imported layer: counted from their tensors.
FROM_TENSORS = {
    "Lambda": "Python code (a Lambda): counted from its own tensors; its output shape is Keras's",
}
# Config keys that say nothing about a layer's counts, left out of the messages.
QUIET = COMMON_IGNORED | {"name", "trainable", "dtype"}


def rule_for(kind: str) -> Rule | None:
    """The Keras-form rule named exactly as the Keras class ``kind``, or None (a Lambda, a
    class learnable does not know)."""
    if kind in FROM_TENSORS:
        return None
    try:
        rule = lookup(kind, KERAS)
    except LearnableError:
        return None
    return rule if rule.framework == KERAS and kind in (rule.name, *rule.aliases) else None


def arguments(rule: Rule, kind: str, config: Mapping[str, Any]) -> dict[str, Any]:
    """The rule's arguments from a layer's config, under the rule's (Keras) names. Keys the
    rule does not declare (name, dtype, initializers, ...) change no count and are dropped;
    the few that are spelled otherwise are translated in ``_READ``."""
    kwargs = {}
    for arg in rule.args:
        if (kind, arg.name) in _READ:
            value = _READ[kind, arg.name](config)
            if value is not None:
                kwargs[arg.name] = value
        elif arg.name in config:
            kwargs[arg.name] = _plain(config[arg.name])
    return kwargs


def layer_call(serialized: Any) -> LayerCall:
    """A wrapped layer (Bidirectional's, TimeDistributed's), serialized in its wrapper's
    config as ``{"class_name": ..., "config": {...}}``, as the rules take one."""
    kind, config = serialized_layer(serialized)
    rule = rule_for(kind)
    if rule is None:
        raise SpecError(f"wraps a Keras {kind}, for which learnable has no rule")
    kwargs = {**arguments(rule, kind, config), "trainable": config.get("trainable", True) is not False}
    return LayerCall(kind, (), tuple(kwargs.items()))


def serialized_layer(serialized: Any) -> tuple[str, Mapping[str, Any]]:
    """(class name, config) of a serialized layer."""
    if not isinstance(serialized, Mapping) or not isinstance(serialized.get("class_name"), str) \
            or not isinstance(serialized.get("config", {}), Mapping):
        raise SpecError(f"expected a serialized layer ({{'class_name': ..., 'config': {{...}}}}), got "
                        f"{type(serialized).__name__}")
    return serialized["class_name"], serialized.get("config", {})


def input_shape(config: Mapping[str, Any]) -> Any:
    """An InputLayer's shape, batch dropped: Keras 3's ``batch_shape``, Keras 2's
    ``batch_input_shape``."""
    batch = config.get("batch_shape", config.get("batch_input_shape"))
    if not isinstance(batch, (list, tuple)) or not batch:
        raise SpecError(f"InputLayer '{config.get('name', '')}' has no batch_shape in its config")
    return tuple(batch)[1:]


def _wrapped(key: str) -> Callable[[Mapping[str, Any]], Any]:
    return lambda config: layer_call(config[key]) if config.get(key) else None


def _plain(value: Any) -> Any:
    """A user's own activation function, serialized in the config as a dict, by its name."""
    if isinstance(value, dict) and value.get("class_name") == "function" and isinstance(value.get("config"), str):
        return value["config"]
    return value


# (Keras class, rule argument) → how to read it where the config and the rule's signature differ.
_READ: dict[tuple[str, str], Callable[[Mapping[str, Any]], Any]] = {
    ("InputLayer", "shape"): input_shape,
    ("Bidirectional", "layer"): _wrapped("layer"),  # a config dict there
    ("Bidirectional", "backward_layer"): _wrapped("backward_layer"),  # Keras 2 leaves it out when not given
    ("TimeDistributed", "layer"): _wrapped("layer"),
}
