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

from ..errors import ArgumentError, RuleError
from .._text import dims_text
from ._base import Shape

# A padding is "valid", "same", "causal", or explicit (before, after) amounts per axis.
Padding = str | tuple[tuple[int, int], ...]


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
        amounts = value if isinstance(value, (list, tuple)) else (value,) * rank
        if len(amounts) != rank or not all(_is_int(p) and p >= 0 for p in amounts):
            raise ArgumentError(None, f"must be a non-negative integer or {rank} of them, got {value!r}")
        return tuple((p, p) for p in amounts)

    return convert


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def window_output(
    spatial: Shape,
    window: Sequence[int],
    strides: Sequence[int],
    dilation: Sequence[int],
    padding: Padding,
    what: str,
) -> Shape:
    """Output spatial size of a convolution or pooling window (floor mode)."""
    out = []
    for axis, n in enumerate(spatial):
        if n is None:
            out.append(None)
            continue
        k_eff = dilation[axis] * (window[axis] - 1) + 1
        if padding in ("same", "causal"):
            out.append(-(-n // strides[axis]))
            continue
        before, after = (0, 0) if padding == "valid" else padding[axis]
        out.append((n + before + after - k_eff) // strides[axis] + 1)
    _check_fits(spatial, out, window, dilation, padding, what)
    return tuple(out)


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
        padded = [n + b + a for n, (b, a) in zip(spatial, padding)]
        where = f"its padded input {dims_text(padded)} (input {dims_text(spatial)}, padding {_fmt_padding(padding)}); use more padding or a smaller {what}"
    raise RuleError(f"{size} is larger than {where}")


def _fmt_padding(padding: tuple[tuple[int, int], ...]) -> str:
    if all(b == a for b, a in padding):
        return dims_text([b for b, _ in padding])
    return ", ".join(f"{b}+{a}" for b, a in padding)


def torch_pool_output(
    spatial: Shape, window: Sequence[int], strides: Sequence[int], dilation: Sequence[int],
    padding: tuple[tuple[int, int], ...], ceil_mode: bool,
) -> Shape:
    """PyTorch MaxPool/AvgPool output size, including ``ceil_mode`` and its last-window rule."""
    for k, d, (p, _) in zip(window, dilation, padding):
        if p > (d * (k - 1) + 1) // 2:
            raise RuleError(f"padding {p} is more than half the window {k} (PyTorch requires pad ≤ kernel/2)")
    if not ceil_mode:
        return window_output(spatial, window, strides, dilation, padding, "pool window")
    out = []
    for n, k, s, d, (p, _) in zip(spatial, window, strides, dilation, padding):
        if n is None:
            out.append(None)
            continue
        size = -(-(n + 2 * p - d * (k - 1) - 1) // s) + 1
        if (size - 1) * s >= n + p:  # the last window would start inside the right padding
            size -= 1
        out.append(size)
    _check_fits(spatial, out, window, dilation, padding, "pool window")
    return tuple(out)
