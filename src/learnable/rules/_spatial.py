"""Output sizes of sliding windows (convolution and pooling), per spatial axis.

Keras (``keras/src/ops/operation_utils.py``, checked against real layers in
``CONVENTIONS.md`` §2.1):
  valid  out = floor((n − k') / s) + 1, and must be ≥ 1, with k' = d·(k − 1) + 1
  same   out = ceil(n / s), whatever k and d are (TF's convention; causal alike)
PyTorch (``torch.nn.Conv2d`` / ``MaxPool2d`` docs, §2.2):
  out = floor((n + 2p − k') / s) + 1
  ceil_mode: ceil instead of floor, less one when the last window would start in the
  right padding.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .._text import dims_text
from ..errors import ArgumentError, RuleError
from ..expr import CEIL, Division, Expr, ceil_div, floor_div, minus, num, product, total
from ._args import integer
from ._base import Shape, Window

# A padding is "valid", "same", "causal", or explicit (before, after) amounts per axis.
Padding = str | tuple[tuple[int, int], ...]
# Output sizes per spatial axis, each as the arithmetic that gave it (None: unknown).
Sizes = tuple[Expr | None, ...]


def keras_padding(*allowed: str):
    """Converter for Keras's string paddings."""

    def convert(value: Any) -> str:
        if isinstance(value, str) and value.lower() in allowed:
            return value.lower()
        options = ", ".join(f"'{a}'" for a in allowed)
        raise ArgumentError(None, f"must be one of {options}, got {value!r}")

    return convert


def torch_padding(rank: int):
    """Converter for PyTorch paddings: an int, one int per axis, 'valid' or 'same'."""

    def convert(value: Any) -> Padding:
        if isinstance(value, str):
            if value.lower() in ("valid", "same"):
                return value.lower()
            raise ArgumentError(None, f"must be an integer, a tuple of {rank} integers, 'valid' or 'same', got {value!r}")
        amounts = value if isinstance(value, (list, tuple)) else (value,)
        if len(amounts) == 1:
            amounts = tuple(amounts) * rank  # PyTorch broadcasts a single value
        if len(amounts) != rank:
            raise ArgumentError(None, f"must be a non-negative integer or {rank} of them, got {value!r}")
        return tuple((p, p) for p in (integer(a, 0) for a in amounts))

    return convert


def window_output(
    spatial: Shape,
    window: Sequence[int],
    strides: Sequence[int],
    dilation: Sequence[int],
    padding: Padding,
    what: str,
    *,
    ceil_mode: bool = False,
) -> Sizes:
    """Output size of a convolution or pooling window along each spatial axis, as arithmetic."""
    out = tuple(
        None if n is None else _axis_size(n, window[i], strides[i], dilation[i], _pads(padding, i), ceil_mode)
        for i, n in enumerate(spatial)
    )
    _check_fits(spatial, [None if o is None else o.value for o in out], window, dilation, padding, what)
    return out


def resolve_padding(n: int, k: int, s: int, d: int, padding: str | tuple[int, int]) -> tuple[int, int]:
    """The zeros actually added (before, after) along one axis.

    'same' pads ``max((ceil(n/s) − 1)·s + k' − n, 0)`` in all, the odd one after: TF's rule,
    which Keras follows and PyTorch matches for stride 1 (CONVENTIONS.md §2.1-2.2). Causal
    pads ``k' − 1`` before.
    """
    k_eff = d * (k - 1) + 1
    if padding == "valid":
        return (0, 0)
    if padding == "causal":
        return (k_eff - 1, 0)
    if padding == "same":
        total = max((-(-n // s) - 1) * s + k_eff - n, 0)
        return (total // 2, total - total // 2)
    return padding


def windows(spatial: Shape, window: Sequence[int], strides: Sequence[int], dilation: Sequence[int],
            padding: Padding) -> tuple[Window, ...] | None:
    """The window along each axis with the padding it actually gets, for the receptive
    field; None when an input size is unknown ('same' pads by the size)."""
    if any(n is None for n in spatial):
        return None
    return tuple(
        Window(window[i], strides[i], dilation[i], resolve_padding(n, window[i], strides[i], dilation[i],
                                                                   _pads(padding, i))[0])
        for i, n in enumerate(spatial)
    )


_OUT_SYMBOLS = {1: ("L_out",), 2: ("H_out", "W_out"), 3: ("D_out", "H_out", "W_out")}


def positions(sizes: Sizes | Shape) -> tuple[Expr, ...] | None:
    """The output's spatial sizes as literals (``H_out``, ``W_out``) for a MACs product;
    None if one is unknown."""
    values = [s.value if isinstance(s, Expr) else s for s in sizes]
    if any(v is None for v in values):
        return None
    return tuple(num(v, symbol) for v, symbol in zip(values, _OUT_SYMBOLS[len(values)]))


def keras_strides_or_dilation(strides: Sequence[int], dilation: Sequence[int]) -> None:
    """Keras's convolutions refuse strides > 1 together with dilation > 1 (PyTorch allows it)."""
    if max(strides) > 1 and max(dilation) > 1:
        raise RuleError(f"strides {tuple(strides)} together with dilation_rate {tuple(dilation)} is not supported "
                        "by Keras; use one or the other")


def _pads(padding: Padding, axis: int) -> str | tuple[int, int]:
    return padding if isinstance(padding, str) else padding[axis]


def _axis_size(n: int, k: int, s: int, d: int, pads: str | tuple[int, int], ceil_mode: bool) -> Expr:
    if pads in ("same", "causal"):
        # Shown even for stride 1, "⌈20/1⌉ = 20": it says why the size is kept.
        return Division(num(n, "n"), num(s, "s"), CEIL)
    k_eff = num(k, "k") if d == 1 else total(product(num(d, "d"), minus(num(k, "k"), 1)), 1)
    before, after = (0, 0) if pads == "valid" else pads
    padded = total(num(n, "n"), *(num(p, "p") for p in (before, after) if p))
    span = minus(padded, k_eff)
    if not ceil_mode:
        return total(floor_div(span, num(s, "s")), 1)
    size = total(ceil_div(span, num(s, "s")), 1)
    # PyTorch drops a last window that would start inside the right padding.
    return minus(size, 1) if (size.value - 1) * s >= n + before else size


def _check_fits(spatial, out, window, dilation, padding, what: str) -> None:
    if all(o is None or o >= 1 for o in out):
        return
    eff = [d * (k - 1) + 1 for k, d in zip(window, dilation)]
    size = f"{what} {dims_text(window)}"
    if any(d > 1 for d in dilation):
        size = f"dilated {what} {dims_text(eff)} ({dims_text(window)} with dilation {dims_text(dilation)})"
    if padding == "valid":
        where = f"its input {dims_text(spatial)} with padding 'valid'; use padding 'same' or a smaller {what}"
    else:
        padded = [None if n is None else n + b + a for n, (b, a) in zip(spatial, padding)]
        where = f"its padded input {dims_text(padded)} (input {dims_text(spatial)}, padding {_fmt_padding(padding)}); use more padding or a smaller {what}"
    raise RuleError(f"{size} is larger than {where}")


def _fmt_padding(padding: tuple[tuple[int, int], ...]) -> str:
    if all(b == a for b, a in padding):
        return dims_text([b for b, _ in padding])
    return ", ".join(f"{b}+{a}" for b, a in padding)


def check_torch_pool_padding(window: Sequence[int], padding: tuple[tuple[int, int], ...]) -> None:
    # PyTorch compares the padding with the kernel itself, not the dilated window.
    for k, (p, _) in zip(window, padding):
        if p > k // 2:
            raise RuleError(f"padding {p} is more than half the kernel size {k} (PyTorch requires padding ≤ kernel_size/2)")


def sizes_of(sizes: Sizes) -> Shape:
    return tuple(None if s is None else s.value for s in sizes)
