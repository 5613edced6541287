"""What a layer rule is: declared arguments plus a pure function of attributes and shapes.

A rule never sees a framework object. Given its bound arguments, the shapes of its inputs
(one example, batch excluded) and the data format, it returns the output shape, the
weight tensors the layer owns (each a product of exact dimensions), the multiply-
accumulates one example takes, and for a sliding window the window itself (for the
receptive field). The counts and their arithmetic come from the same expressions.

A MAC is one multiply followed by one add (``a·b + c``), counted for one example. Rules
count the products of a layer (convolution, matmul, the scale-and-shift of a
normalization, the sums of average pooling, interpolation weights) and not bias adds,
comparisons or nonlinearities, which peers count in different ways (docs/compute.md).
``macs`` is None where a layer's cost is not known: never silently zero.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from .._text import shape_text, with_article
from ..errors import RuleError
from ..expr import Expr, Num, equation, product, total
from ._args import Arg, choice, optional
from ._kinds import FAMILY_KINDS, OTHER, Split

Shape = tuple[int | None, ...]
CHANNELS_LAST = "channels_last"
CHANNELS_FIRST = "channels_first"
DATA_FORMATS = (CHANNELS_LAST, CHANNELS_FIRST)
DATA_FORMAT = Arg("data_format", optional(choice(*DATA_FORMATS)), None)


KERAS, PYTORCH = "keras", "pytorch"
CONVENTIONS = (KERAS, PYTORCH)

# How a layer's receptive field follows from its inputs' (see receptive.py):
WINDOW = "window"  # a sliding window over the spatial axes (Inference.window)
POINTWISE = "pointwise"  # each output position sees the same position of its inputs
GLOBAL = "global"  # each output sees its whole input (dense on a flat vector, global pooling)
# "" (the default): not known, e.g. a Reshape that reorders positions.

# A layer that only moves, copies or selects data does no multiply-accumulates.
NO_MACS = Num(0)


@dataclass(frozen=True, slots=True)
class Weight:
    """One tensor a layer owns, named and shaped as the convention names it.

    ``buffer`` marks state that is not a parameter in this convention (PyTorch's running
    statistics); Keras keeps such state as non-trainable weights instead.
    """

    name: str
    dims: tuple[Expr, ...]
    trainable: bool = True
    buffer: bool = False

    @property
    def expr(self) -> Expr:
        return product(*self.dims)

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(d.value for d in self.dims)

    @property
    def count(self) -> int:
        return self.expr.value


@dataclass(frozen=True, slots=True)
class ShapeNote:
    """How one output size was computed: ``height: 28 − 3 + 1 = 26``."""

    label: str  # the axis, e.g. "height"; "" when the expression speaks for itself
    expr: Expr


@dataclass(frozen=True, slots=True)
class Window:
    """A sliding window along one spatial axis, as the receptive field needs it: ``pad``
    is the zeros actually added before the input (after 'same' is resolved)."""

    kernel: int
    stride: int
    dilation: int = 1
    pad: int = 0


@dataclass(frozen=True, slots=True)
class Inference:
    output_shape: Shape
    weights: tuple[Weight, ...] = ()
    shape_notes: tuple[ShapeNote, ...] = ()
    note: str = ""  # what this convention counts differently, or that the layer is foreign to it
    # The parameter count written more compactly than the sum of the weights, as a stack
    # of identical layers is ``6×(...)``; the engine checks that it equals that sum.
    count: Expr | None = None
    macs: Expr | None = None  # multiply-accumulates for one example; None: not known
    window: tuple[Window, ...] | None = None  # per spatial axis, for a rule whose field is WINDOW
    # How ``macs`` splits by kind (_kinds.py), for a layer whose MACs are work of several
    # kinds (attention: projections and scores); () when they are all the rule's own kind.
    macs_split: Split = ()

    @property
    def params(self) -> Expr:
        if self.count is not None:
            return self.count
        return total(*(w.expr for w in self.weights if not w.buffer))

    @property
    def weights_total(self) -> int:
        return sum(w.count for w in self.weights if not w.buffer)

    @property
    def buffers(self) -> Expr:
        return total(*(w.expr for w in self.weights if w.buffer))


@dataclass(frozen=True, slots=True)
class Context:
    """What a rule may know beyond its own arguments."""

    data_format: str = CHANNELS_LAST
    convention: str = KERAS  # whose weights to list: Keras's, or PyTorch's parameters and buffers

    @property
    def pytorch(self) -> bool:
        return self.convention == PYTORCH


Infer = Callable[[Mapping[str, Any], Sequence[Shape], Context], Inference]


@dataclass(frozen=True)
class Rule:
    """One layer type. ``framework`` says whose signature the arguments follow."""

    name: str
    family: str
    args: tuple[Arg, ...]
    infer: Infer
    doc: str
    arity: tuple[int, int | None] = (1, 1)  # least and most inputs; None = no limit
    aliases: tuple[str, ...] = ()
    framework: str = KERAS
    layout: bool = False  # does the data format matter (conv, pooling, ...)?
    packs_positional: bool = False  # Input(28, 28, 1): all positional values form the first argument
    any_args: bool = False  # takes and ignores any arguments (nn.Identity)
    field: str = ""  # how the receptive field propagates: WINDOW, POINTWISE, GLOBAL, or "" unknown
    # The network's input (Input/InputLayer). Not "takes no inputs": a Parameter takes none
    # either, but it is a weight, not where the data comes in.
    is_input: bool = False
    kind: str = ""  # the kind of its MACs (_kinds.KINDS) when not its family's

    @property
    def macs_kind(self) -> str:
        """The kind of work its MACs are: its own, else its family's, else "other"."""
        return self.kind or FAMILY_KINDS.get(self.family, OTHER)

    @property
    def is_source(self) -> bool:
        """Takes no inputs: the network's input, or a Parameter."""
        return self.arity[1] == 0

    @cached_property  # asked for every unnamed layer: a 100,000-layer spec would run the regexes each time
    def default_name(self) -> str:
        """The layer's name when none is given: as Keras derives it (``MaxPooling2D`` →
        ``max_pooling2d``; an input is ``input_layer``), or for a PyTorch module its class
        name in lower case, as PyTorch code names them (``relu``, ``batchnorm2d``)."""
        if self.is_input:
            return "input_layer"
        if self.framework == PYTORCH:
            return self.name.lower()
        name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", self.name)
        return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


# ---- helpers shared by the rule families ----------------------------------------------


def kernel_and_bias(ctx: Context, window: tuple, inputs: Expr, outputs: Expr, use_bias: bool) -> tuple[Weight, ...]:
    """A kernel and its bias as the convention stores them: Keras ``kernel (*k, in, out)``,
    PyTorch ``weight (out, in, *k)``; the same elements either way."""
    if ctx.pytorch:
        kernel = Weight("weight", (outputs, inputs, *window))
        return (kernel, Weight("bias", (outputs,))) if use_bias else (kernel,)
    kernel = Weight("kernel", (*window, inputs, outputs))
    return (kernel, Weight("bias", (outputs,))) if use_bias else (kernel,)


def known_dims(shape: Shape) -> tuple[Expr, ...] | None:
    """A shape's sizes as literals for a MACs product; None when one is unknown."""
    return None if any(d is None for d in shape) else tuple(Num(d) for d in shape)


def per_value_macs(shape: Shape) -> Expr | None:
    """One multiply-accumulate per value (a scale and shift, ``x·a + b``): the shape's size."""
    dims = known_dims(shape)
    return None if dims is None else product(*dims)


def shape_arithmetic(notes: Sequence[ShapeNote]) -> str:
    """``height, width: 28 − 3 + 1 = 26``: axes computed alike are named together."""
    groups: list[tuple[list[str], str]] = []
    for note in notes:
        text = equation(note.expr)
        if groups and groups[-1][1] == text:
            groups[-1][0].append(note.label)
        else:
            groups.append(([note.label], text))
    return "; ".join(f"{', '.join(labels)}: {text}" if labels[0] else text for labels, text in groups)


def output_macs(outputs: Sequence[Expr | int], per_output: Sequence[Expr | int]) -> Expr:
    """``(24×24×64)×(3×3×32)``: the output values, times the multiply-accumulates each one
    takes (the seeds' "each output is a dot product over the kernel")."""
    return product(product(*outputs), product(*per_output))


def require_rank(shape: Shape, rank: int, what: str) -> None:
    if len(shape) != rank:
        raise RuleError(f"expects {with_article(rank)}-D input ({what}, batch excluded), got shape {shape_text(shape)}")


def layout_of(a: Mapping[str, Any], ctx: Context) -> str:
    """A layer's own ``data_format`` argument, else the network's."""
    return a.get("data_format") or ctx.data_format


def feature_map(x: Shape, rank: int, data_format: str) -> tuple[int | None, Shape]:
    """(channels, spatial dims) of an input that must have ``rank`` spatial axes."""
    require_rank(x, rank + 1, layout_desc(rank, data_format))
    return split_channels(x, data_format)


def split_channels(shape: Shape, data_format: str) -> tuple[int | None, Shape]:
    """(channels, spatial dims) of a feature map in the given data format."""
    if data_format == CHANNELS_FIRST:
        return shape[0], shape[1:]
    return shape[-1], shape[:-1]


def join_channels(channels: int | None, spatial: Shape, data_format: str) -> Shape:
    if data_format == CHANNELS_FIRST:
        return (channels, *spatial)
    return (*spatial, channels)


def known(dim: int | None, what: str) -> int:
    if dim is None:
        raise RuleError(f"needs a known {what}, but it is unknown (None) in the input")
    return dim


def axis_names(rank: int) -> tuple[str, ...]:
    return ("steps",) if rank == 1 else ("height", "width") if rank == 2 else ("depth", "height", "width")


def spatial_notes(sizes: Sequence[Expr | None]) -> tuple[ShapeNote, ...]:
    """Notes for the spatial sizes that took arithmetic (not those copied from the input)."""
    return tuple(
        ShapeNote(label, size)
        for label, size in zip(axis_names(len(sizes)), sizes)
        if size is not None and not isinstance(size, Num)
    )


def layout_desc(rank: int, data_format: str) -> str:
    dims = ", ".join(axis_names(rank))
    return f"channels, {dims}" if data_format == CHANNELS_FIRST else f"{dims}, channels"
