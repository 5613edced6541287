"""A layer's arguments as the code gives them → as its rule takes them: shared by the
PyTorch and Keras readers."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..errors import ArgumentError, Location, SpecError
from ..rules._args import COMMON_IGNORED, LayerCall, Opaque, anything, bind
from .libraries import Method, describe
from .names import TORCH
from .values import BATCH, Bound, Const, Function, Layer, Lib, Module, Param, Partial, Tensor, Unknown

if TYPE_CHECKING:
    from .reader import Reader


def layer_arguments(reader: Reader, rule: Any, spelled: str, args: list[Any], kwargs: dict[str, Any],
                    where: Location) -> tuple[list[Any], dict[str, Any]]:
    """A layer's arguments as its rule takes them: a layer given as an argument becomes a
    LayerCall, a function or library object opaque text; a value the code leaves unknown is
    refused, naming the argument, unless the rule ignores it."""
    names = [a.name for a in rule.args]
    takes_anything = {a.name for a in rule.args if a.convert is anything} | set(COMMON_IGNORED)

    def convert(value: Any, name: str | None) -> Any:
        if isinstance(value, Unknown) or value is BATCH:
            if name in takes_anything:
                return Opaque("(not known from the code)")
            why = value.why if isinstance(value, Unknown) else "it is the batch size"
            label = f"its argument '{name}'" if name else "an argument"
            raise SpecError(f"{spelled}: {label} is not known from the code: {why}",
                            value.where if isinstance(value, Unknown) and value.where else where)
        if isinstance(value, Layer):
            return LayerCall(_layer_type(value), tuple(convert(v, None) for v in value.args),
                             tuple((k, convert(v, k)) for k, v in value.kwargs.items()))
        if isinstance(value, (list, tuple)):
            items = [convert(v, name) for v in value]
            return items if isinstance(value, list) else tuple(items)
        if isinstance(value, dict):
            return {k: convert(v, name) for k, v in value.items()}
        if isinstance(value, (Lib, Function, Partial, Module, Const, Tensor, Param, Bound, Method)):
            return Opaque(describe(value))
        return value

    positional = [convert(v, names[i] if i < len(names) else None) for i, v in enumerate(args)]
    return positional, {k: convert(v, k) for k, v in kwargs.items()}


def _layer_type(layer: Layer) -> str:
    return f"nn.{layer.rule.name}" if layer.framework == TORCH else layer.rule.name


def bound_arguments(rule: Any, spelled: str, args: list[Any], kwargs: dict[str, Any], where: Location) -> dict[str, Any]:
    """The arguments by name, checked now: a wrong one is refused where the layer is made."""
    if rule.any_args:
        return {}
    try:
        return bind(rule.args, args, kwargs, pack=rule.packs_positional)
    except ArgumentError as err:
        raise SpecError(f"{spelled}: {err}", where) from None
