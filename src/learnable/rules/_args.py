"""Declared layer arguments: names, defaults and converters that validate user values.

A rule lists its arguments in the order of the framework's signature, so positional
values in a spec (``Dense: 2``, ``Conv2D(32, 3)``) bind the way they would in Keras or
PyTorch. Converters turn YAML/compact values into clean Python values or raise an
:class:`ArgumentError` that says what was expected and what was received.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Self

from .._text import with_article
from ..errors import ArgumentError, RuleError

REQUIRED: Any = object()

Converter = Callable[[Any], Any]

# Accepted on every layer and ignored: they change neither shapes nor counts.
# (`name` and `inputs` are taken by the graph builder, `trainable` by the engine.)
COMMON_IGNORED = frozenset(
    {
        "dtype", "autocast", "batch_size", "sparse", "ragged", "optional",
        "kernel_initializer", "bias_initializer", "kernel_regularizer", "bias_regularizer",
        "activity_regularizer", "kernel_constraint", "bias_constraint",
        "device", "inplace",
    }
)


class Opaque:
    """A value the compact parser saw but did not evaluate (e.g. ``tf.nn.relu``)."""

    __slots__ = ("source",)

    def __init__(self, source: str):
        self.source = source

    def __repr__(self) -> str:
        return self.source


class Quotient(float):
    """A fraction the spec's arithmetic reached exactly (``7 / 2``, ``2 ** -1``): a rate takes it
    (``Dropout(1 / 2)``), a size refuses it. Its text shows the arithmetic (``d / heads =
    768 / 7 = 109.714``); ``why`` is what a size adds to it (``not a whole number``)."""

    def __new__(cls, exact: Fraction, text: str, why: str = "not a whole number") -> Self:
        quotient = super().__new__(cls, float(exact))
        quotient.exact, quotient.text, quotient.why = exact, text, why
        return quotient

    def __reduce__(self):  # float's own would call __new__ with the float alone
        return Quotient, (self.exact, self.text, self.why)

    def __str__(self) -> str:
        return self.text

    __repr__ = __str__


@dataclass(frozen=True, slots=True)
class LayerCall:
    """A layer written as another layer's argument: ``Bidirectional(LSTM(64))``. The
    compact parser makes one from the call; YAML gives ``{LSTM: 64}`` or ``LSTM``."""

    type: str
    args: tuple[Any, ...] = ()
    kwargs: tuple[tuple[str, Any], ...] = ()


@dataclass(frozen=True, slots=True)
class NestedLayer:
    """A :class:`LayerCall` resolved: its rule and bound arguments, ready to infer."""

    rule: Any  # Rule (not imported here, to keep this module free of the registry)
    args: dict[str, Any]
    trainable: bool = True  # Bidirectional(LSTM(64, trainable=False)) freezes that direction


@dataclass(frozen=True, slots=True)
class Arg:
    name: str
    convert: Converter
    default: Any = REQUIRED
    doc: str = ""


def bind(
    args: Sequence[Arg], positional: Sequence[Any], keywords: Mapping[str, Any], *, pack: bool = False
) -> dict[str, Any]:
    """Match positional and keyword values to declared arguments and convert them.

    With ``pack``, several positional values (or one that is not a list) together form the
    first argument, as the dimensions in ``Input(28, 28, 1)`` form its shape.
    """
    if pack and positional and (len(positional) > 1 or not isinstance(positional[0], (list, tuple))):
        positional = (tuple(positional),)
    if len(positional) > len(args):
        raise ArgumentError(
            None, f"takes at most {len(args)} positional arguments, got {len(positional)}"
        )
    by_name = {a.name: a for a in args}
    raw: dict[str, Any] = {a.name: v for a, v in zip(args, positional)}
    for key, value in keywords.items():
        if key in COMMON_IGNORED:
            continue
        if key not in by_name:
            raise ArgumentError(key, f"is not an argument of this layer{suggest(key, by_name)}")
        if key in raw:
            raise ArgumentError(key, "is given both by position and by name")
        raw[key] = value
    return {a.name: _convert(a, raw) for a in args}


def _convert(arg: Arg, raw: Mapping[str, Any]) -> Any:
    if arg.name not in raw and arg.default is REQUIRED:
        raise ArgumentError(arg.name, "is required but missing")
    # Defaults are written as a user would write them, so they pass the same converter.
    value = raw.get(arg.name, arg.default)
    if isinstance(value, LayerCall) and not getattr(arg.convert, "accepts_layers", False):
        value = Opaque(value.type + "(...)")  # a call where no layer belongs: an initializer, say
    if isinstance(value, Opaque):
        if arg.convert is anything:
            return value
        raise ArgumentError(arg.name, f"must be a literal value, got the expression {value.source}")
    try:
        return arg.convert(value)
    except ArgumentError as err:
        raise ArgumentError(arg.name, str(err)) from None


def suggest(word: str, choices: Sequence[str] | Mapping[str, Any]) -> str:
    """"; did you mean 'x'?" for the close matches of ``word``, ignoring case, or ""."""
    by_lower: dict[str, str] = {}
    for c in choices:  # the first spelling wins: callers list Keras names first
        by_lower.setdefault(c.lower(), c)
    import difflib  # only on a typo: a fresh count should not pay for it

    close = difflib.get_close_matches(word.lower(), list(by_lower), n=3, cutoff=0.6)
    return f"; did you mean {_or_list([by_lower[c] for c in close])}?" if close else ""


def _or_list(words: Sequence[str]) -> str:
    quoted = [f"'{w}'" for w in words]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " or " + quoted[-1]


# ---- converters -------------------------------------------------------------------------


def _show(value: Any) -> str:
    return repr(value) if isinstance(value, str) else str(value)


# No real size comes near this; beyond it, products of dimensions could outgrow what Python
# will print (4,300 digits) in a deep enough network.
MAX_INT = 2**63 - 1
MAX_RANK = 64


def integer(value: Any, minimum: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        value = _index(value)
    if abs(value) > MAX_INT:
        size = (f"{with_article(len(str(abs(value))))}-digit "
                f"number" if value.bit_length() < 10_000  # (str() stops at 4,300)
                else f"a number of over {value.bit_length() * 3 // 10:,} digits")
        raise ArgumentError(None, f"must be at most {MAX_INT:,} in size, got {size}")
    if minimum is not None and value < minimum:
        kind = "a positive integer" if minimum == 1 else f"an integer ≥ {minimum}"
        raise ArgumentError(None, f"must be {kind}, got {value}")
    return value


def _index(value: Any) -> int:
    """An integer of another type (NumPy's, as ``np.arange`` gives a sweep) as a Python int."""
    index = getattr(type(value), "__index__", None)
    if isinstance(value, Quotient):  # 7 / 2: the arithmetic, then why it is no size
        raise ArgumentError(None, f"must be an integer, got {value}, {value.why}")
    if index is None or "bool" in type(value).__name__:  # NumPy's bool_ has one too
        raise ArgumentError(None, f"must be an integer, got {_show(value)}")
    try:
        return int(index(value))
    except (TypeError, ValueError):
        raise ArgumentError(None, f"must be an integer, got {_show(value)}") from None


def positive(value: Any) -> int:
    return integer(value, 1)


def non_negative(value: Any) -> int:
    return integer(value, 0)


def boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ArgumentError(None, f"must be true or false, got {_show(value)}")
    return value


def anything(value: Any) -> Any:
    return value


def number(value: Any) -> float:
    """epsilon, momentum, a dropout rate Keras clips: never part of a count, but a typo
    should still be caught."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ArgumentError(None, f"must be a number, got {_show(value)}")
    return value


def fraction(value: Any) -> float:
    """A rate such as Dropout's; it never reaches a count."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise ArgumentError(None, f"must be a number from 0 to 1, got {_show(value)}")
    return value


def optional(convert: Converter) -> Converter:
    def optional_value(value: Any) -> Any:
        return None if value is None else convert(value)

    optional_value.accepts_layers = getattr(convert, "accepts_layers", False)  # type: ignore[attr-defined]
    return optional_value


def choice(*options: str) -> Converter:
    def one_of(value: Any) -> str:
        if isinstance(value, str) and value.lower() in options:
            return value.lower()
        raise ArgumentError(None, f"must be one of {_or_list(options)}, got {_show(value)}")

    return one_of


def int_tuple(rank: int, minimum: int = 1, *, broadcast: bool = False) -> Converter:
    """An int repeated ``rank`` times, or a list/tuple of exactly ``rank`` ints; with
    ``broadcast`` (PyTorch's stride and dilation), a list of one int is repeated too."""

    def ints(value: Any) -> tuple[int, ...]:
        if broadcast and isinstance(value, (list, tuple)) and len(value) == 1:
            value = value[0]
        if isinstance(value, (list, tuple)):
            if len(value) != rank:
                raise ArgumentError(
                    None, f"must have {rank} value{'s' if rank > 1 else ''}, got {len(value)}: {_show(value)}"
                )
            return tuple(integer(v, minimum) for v in value)
        return (integer(value, minimum),) * rank

    return ints


def shape(value: Any) -> tuple[int | None, ...]:
    """An example's shape: positive ints, ``None`` for an unknown size."""
    if isinstance(value, (list, tuple)):
        dims = tuple(value)
    elif isinstance(value, int) and not isinstance(value, bool):
        dims = (value,)
    else:
        raise ArgumentError(None, f"must be a list of dimensions, got {_show(value)}")
    if not dims or len(dims) > MAX_RANK:
        raise ArgumentError(None, f"must have from 1 to {MAX_RANK} dimensions, got {len(dims)}")
    return tuple(None if d is None else positive(d) for d in dims)


def nested_layer(value: Any) -> NestedLayer:
    """A layer given as an argument: a LayerCall, ``{Type: arguments}`` or ``"Type"``."""
    from ._registry import lookup  # the registry imports the rule families, which import this

    if isinstance(value, str):
        value = LayerCall(value)
    elif isinstance(value, Mapping) and len(value) == 1:
        (type_name, given), = value.items()
        if isinstance(given, Mapping):
            value = LayerCall(str(type_name), (), tuple(given.items()))
        else:
            value = LayerCall(str(type_name), tuple(given) if isinstance(given, list) else () if given is None else (given,))
    if not isinstance(value, LayerCall):
        raise ArgumentError(None, f"must be a layer, such as LSTM(64) or {{LSTM: 64}}, got {_show(value)}")
    try:
        rule = lookup(value.type)
    except RuleError as err:  # placed by the engine like any argument's problem
        raise ArgumentError(None, f"names an {err}") from None
    given = dict(value.kwargs)
    given.pop("name", None)  # a wrapped layer's own name names nothing in the report
    trainable = given.pop("trainable", True)
    if not isinstance(trainable, bool):
        raise ArgumentError(None, f"({rule.name}): trainable must be true or false, got {_show(trainable)}")
    if rule.any_args:
        return NestedLayer(rule, {}, trainable)
    try:
        return NestedLayer(rule, bind(rule.args, value.args, given, pack=rule.packs_positional), trainable)
    except ArgumentError as err:
        raise ArgumentError(None, f"({rule.name}): {err}") from None


nested_layer.accepts_layers = True  # type: ignore[attr-defined]
