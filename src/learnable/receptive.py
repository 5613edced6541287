"""Receptive fields: which input pixels one output position of a layer can see.

Per spatial axis, three numbers describe a layer's output (Araujo et al., "Computing
Receptive Fields of Convolutional Neural Networks", Distill 2019; Dang-Ha's recurrence):
  size   r = r_in + (k' − 1)·j_in          k' = d·(k − 1) + 1, the dilated window
  jump   j = j_in·s                        input pixels between neighbouring outputs
  start  c = c_in + ((k' − 1)/2 − p)·j_in  centre of output 0, in input pixel indices
starting from the input's r = 1, j = 1, c = 0; p is the zeros actually added before.
Branches that meet (Add, Concatenate on channels) see the union of their fields, when
their jumps agree. Layers that mix every position (Flatten, global pooling, attention)
see the whole input. Normalization statistics are ignored, as receptive-field analyses
do (they are constants at inference for BatchNorm). Anything else is unknown (None),
never guessed: reshapes, upsampling, transposed convolutions, recurrences.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

from .expr import Expr, minus, num, product, total
from .rules import CHANNELS_FIRST, Inference, Rule, Shape
from .rules._base import GLOBAL, POINTWISE, WINDOW, ShapeNote, Window, axis_names, shape_arithmetic

if TYPE_CHECKING:  # fractions (and decimal) are imported when a start is shown
    from fractions import Fraction


@dataclass(frozen=True)
class Field:
    """The receptive field of one output position, per spatial axis. The start is kept
    doubled, so a centre between two pixels stays an exact integer."""

    size: tuple[int, ...]
    jump: tuple[int, ...]
    start2: tuple[int, ...]  # twice the start
    steps: tuple[tuple[int, Window, int], ...] = ()  # (r_in, window, j_in) per axis: how the size grew

    @property
    def start(self) -> tuple[Fraction, ...]:
        from fractions import Fraction

        return tuple(Fraction(s, 2) for s in self.start2)

    @cached_property  # rendered when a report shows it, not for every layer counted
    def arithmetic(self) -> str:
        """``height, width: 3 + (3 − 1)×1 = 5``: the previous size plus the window's reach."""
        labels = axis_names(len(self.steps))
        return shape_arithmetic([ShapeNote(label, _size_formula(*step)) for label, step in zip(labels, self.steps)])

    def to_dict(self) -> dict:
        return {"size": list(self.size), "jump": list(self.jump), "start": [_number(s) for s in self.start]}


WHOLE = "whole input"  # every output sees all of its input
State = Field | str | None  # a Field, WHOLE, or None (not known, or the tensor has no spatial axes)


def input_field(shape: Shape, data_format: str) -> State:
    """An input with spatial axes (at least channels plus one) starts at one pixel."""
    if len(shape) < 2:
        return None
    rank = len(shape) - 1
    return Field((1,) * rank, (1,) * rank, (0,) * rank)


def propagate(rule: Rule, inference: Inference, inputs: Sequence[State], input_shapes: Sequence[Shape],
              data_format: str) -> State:
    """The field of a layer's output from its inputs' fields."""
    # (membership tests, not generators: this runs for every layer of a 100,000-layer network)
    if rule.field == GLOBAL:
        return WHOLE if inputs and inputs.count(None) < len(inputs) else None
    if None in inputs or not inputs or not rule.field:
        return None
    if WHOLE in inputs:
        return WHOLE
    if rule.field == WINDOW:
        return _window(inputs[0], inference.window) if len(inputs) == 1 else None
    if rule.field == POINTWISE and _same_positions(inference.output_shape, input_shapes, data_format):
        return _union(inputs)
    return None


def _window(field: Field, windows: tuple[Window, ...] | None) -> Field | None:
    if windows is None or len(windows) != len(field.size):
        return None
    sizes, jumps, starts, steps = [], [], [], []
    for r, j, c2, w in zip(field.size, field.jump, field.start2, windows):
        k_eff = w.dilation * (w.kernel - 1) + 1
        sizes.append(r + (k_eff - 1) * j)
        jumps.append(j * w.stride)
        starts.append(c2 + (k_eff - 1 - 2 * w.pad) * j)  # 2·(c + ((k' − 1)/2 − p)·j)
        steps.append((r, w, j))
    return Field(tuple(sizes), tuple(jumps), tuple(starts), tuple(steps))


def _size_formula(r: int, w: Window, jump: int) -> Expr:
    """``3 + (3 − 1)×2 = 7``: the previous size plus the window's reach in input pixels."""
    reach = minus(num(w.kernel), 1)
    if w.dilation != 1:
        reach = product(num(w.dilation), reach)
    return total(num(r), product(reach, num(jump)))


def _same_positions(output: Shape, inputs: Sequence[Shape], data_format: str) -> bool:
    """A pointwise layer keeps every input's spatial positions (a Concatenate along a
    spatial axis, or a Dense over a channels-first width, does not)."""
    return all(len(x) == len(output) and _spatial(x, data_format) == _spatial(output, data_format) for x in inputs)


def _spatial(shape: Shape, data_format: str) -> Shape:
    return shape[1:] if data_format == CHANNELS_FIRST else shape[:-1]


def _union(fields: Sequence[Field]) -> Field | None:
    """Branches that meet: per axis the span covering every branch's field."""
    first = fields[0]
    if len(fields) == 1:
        return first
    if any(f.jump != first.jump or len(f.size) != len(first.size) for f in fields):
        return None
    sizes, starts = [], []
    for axis in range(len(first.size)):  # in doubled units: the edges are start2 ∓ (r − 1)
        low = min(f.start2[axis] - (f.size[axis] - 1) for f in fields)
        high = max(f.start2[axis] + (f.size[axis] - 1) for f in fields)
        sizes.append((high - low) // 2 + 1)
        starts.append((low + high) // 2)
    return Field(tuple(sizes), first.jump, tuple(starts))


def sees_whole(state: State, input_shape: Shape | None, data_format: str) -> bool:
    """Does one output position see an input as large as the network's (r ≥ n per axis)?"""
    if state == WHOLE:
        return True
    if not isinstance(state, Field) or input_shape is None or len(input_shape) < 2:
        return False
    spatial = _spatial(input_shape, data_format)
    return len(spatial) == len(state.size) and all(n is not None and r >= n for r, n in zip(state.size, spatial))


def _number(value: Fraction) -> int | str:
    """JSON: an int when whole, else the exact fraction as text ("1/2"), never a float."""
    return int(value) if value.denominator == 1 else str(value)
