"""Transposed convolutions: Conv1D/2D/3DTranspose (Keras), ConvTranspose1d/2d/3d (PyTorch).

Parameters (CONVENTIONS.md §1): the same elements as a convolution from ``filters``
channels back to ``C_in``, so the two frameworks store the kernel with its channel axes
the other way round from Conv:
  Keras    kernel (*k, filters, C_in) + bias (filters); no groups argument
  PyTorch  weight (C_in, C_out/groups, *k) + bias (C_out)
Output size per axis, with k' = d·(k − 1) + 1 (CONVENTIONS.md §2.1, checked against
``keras/src/backend/common/backend_utils.py`` and ``torch.nn.ConvTranspose2d``'s docs):
  Keras valid   (n − 1)·s + max(k', s), or (n − 1)·s + k' + op when output_padding is given
  Keras same    n·s, or (n − 1)·s + (k' mod 2) + op when output_padding is given
  PyTorch       (n − 1)·s − 2p + k' + op, with op < s or op < d on each axis
MACs: every input value is multiplied into a k×(C_out/groups) patch of the output:
``(n×n×C_in)×(k×k×C_out/groups)``, as torch's flop counter counts it (the padding it
crops away included).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import partial
from typing import Any

from .._text import dims_text
from ..errors import ArgumentError, RuleError
from ..expr import Expr, minus, num, product, quotient, total
from ._args import Arg, anything, boolean, choice, int_tuple, optional, positive
from ._base import (
    DATA_FORMAT,
    Context,
    Inference,
    Rule,
    Shape,
    Weight,
    feature_map,
    join_channels,
    known,
    known_dims,
    layout_of,
    output_macs,
    spatial_notes,
)
from ._registry import PYTORCH, register
from ._spatial import keras_padding, keras_strides_or_dilation, sizes_of, torch_padding
from .conv import check_in_channels, kernel_dims


def transpose_weights(ctx: Context, kernel: Sequence[int], c_in: int, c_out: int, groups: int,
                      use_bias: bool) -> tuple[Weight, ...]:
    """Keras ``kernel (*k, filters, C_in)``; PyTorch ``weight (C_in, C_out/groups, *k)``.
    Keras cannot group a transposed convolution, so a grouped one keeps PyTorch's tensors."""
    k = kernel_dims(kernel)
    outputs = num(c_out, "C_out")
    if ctx.pytorch or groups > 1:
        weight = Weight("weight", (num(c_in, "C_in"), quotient(outputs, num(groups, "groups")), *k))
    else:
        weight = Weight("kernel", (*k, num(c_out, "filters"), num(c_in, "C_in")))
    return (weight, Weight("bias", (outputs,))) if use_bias else (weight,)


def _spread(n: int, s: int) -> Expr:
    """``(n − 1)×s``: where the last input position lands, the start of every output size."""
    base = minus(num(n, "n"), 1)
    return product(base, num(s, "s")) if s > 1 else base


def _window(k: int, d: int) -> tuple[Expr, ...]:
    """The dilated kernel k' = d·(k − 1) + 1 as terms of a sum (just ``k`` without dilation)."""
    return (num(k, "k"),) if d == 1 else (product(num(d, "d"), minus(num(k, "k"), 1)), num(1))


def _terms(*terms: Expr) -> tuple[Expr, ...]:
    """The non-zero terms: a zero output padding says nothing worth printing."""
    return tuple(t for t in terms if t.value)


def keras_size(n: int, k: int, s: int, d: int, padding: str, op: int | None) -> Expr:
    """One axis of a Keras transposed convolution's output (``_get_output_shape_given_tf_padding``)."""
    k_eff = d * (k - 1) + 1
    if padding == "same" and op is None:
        return product(num(n, "n"), num(s, "s"))  # shown for stride 1 too: it says why n is kept
    if padding == "same":
        return total(_spread(n, s), *_terms(num(k_eff % 2, "k' mod 2"), num(op, "output_padding")))
    if op is None and s > k_eff:
        return total(_spread(n, s), num(s, "s"))  # Keras pads the output to max(k', s)
    return total(_spread(n, s), *_window(k, d), *_terms(num(op or 0, "output_padding")))


def torch_size(n: int, k: int, s: int, d: int, p: int, op: int) -> Expr:
    """One axis of ``nn.ConvTranspose*d``'s output: (n − 1)·s − 2p + d·(k − 1) + op + 1."""
    start = _spread(n, s)
    if p:
        start = minus(start, product(num(2), num(p, "p")))
    return total(start, *_window(k, d), *_terms(num(op, "output_padding")))


def _check_output(spatial: Shape, sizes: Sequence[Expr | None], kernel: Sequence[int], remedy: str) -> None:
    if all(size is None or size.value >= 1 for size in sizes):
        return
    out = [None if size is None else size.value for size in sizes]
    raise RuleError(f"its output would be {dims_text(out)} on input {dims_text(spatial)} with kernel "
                    f"{dims_text(kernel)}; {remedy}")


# ---- Keras ----------------------------------------------------------------------------


def _keras_transpose(rank: int, a: Mapping[str, Any], shapes: Sequence[Shape], ctx: Context) -> Inference:
    strides, dilation, op = a["strides"], a["dilation_rate"], a["output_padding"]
    keras_strides_or_dilation(strides, dilation)
    if op is not None and any(o >= s for o, s in zip(op, strides)):
        raise RuleError(f"output_padding {op} must be smaller than strides {strides} on every axis (Keras)")
    fmt = layout_of(a, ctx)
    channels, spatial = feature_map(shapes[0], rank, fmt)
    c_in = known(channels, "number of input channels")
    sizes = tuple(
        None if n is None else keras_size(n, a["kernel_size"][i], strides[i], dilation[i], a["padding"],
                                          None if op is None else op[i])
        for i, n in enumerate(spatial)
    )
    # Keras itself returns an empty tensor here (n = 1, an even kernel, 'same', output_padding 0).
    _check_output(spatial, sizes, a["kernel_size"], "Keras would return an empty tensor; use output_padding=None "
                  "or an odd kernel")
    weights = transpose_weights(ctx, a["kernel_size"], c_in, a["filters"], 1, a["use_bias"])
    macs = scatter_macs(spatial, c_in, a["kernel_size"], a["filters"], 1)
    return Inference(join_channels(a["filters"], sizes_of(sizes), fmt), weights, spatial_notes(sizes), macs=macs)


def scatter_macs(spatial: Shape, c_in: int, kernel: Sequence[int], c_out: int, groups: int) -> Expr | None:
    dims = known_dims(spatial)
    if dims is None:
        return None
    return output_macs((*dims, num(c_in)), (*kernel_dims(kernel), quotient(num(c_out), num(groups))))


def _keras_args(rank: int) -> tuple[Arg, ...]:
    output_padding = Arg("output_padding", optional(int_tuple(rank, 0)), None)
    # Keras's own signatures differ: Conv3DTranspose takes data_format before output_padding.
    middle = (DATA_FORMAT, output_padding) if rank == 3 else (output_padding, DATA_FORMAT)
    return (
        Arg("filters", positive),
        Arg("kernel_size", int_tuple(rank)),
        Arg("strides", int_tuple(rank), 1),
        Arg("padding", keras_padding("valid", "same"), "valid"),
        *middle,
        Arg("dilation_rate", int_tuple(rank), 1),
        Arg("activation", anything, None),
        Arg("use_bias", boolean, True),
        Arg("groups", _no_groups(rank), None, doc="not a Keras argument: refused, with a pointer to PyTorch's"),
    )


def _no_groups(rank: int):
    """Keras refuses ``groups`` here ("Unrecognized keyword arguments"); say where it exists."""

    def refuse(value: Any) -> None:
        if value is not None:
            raise ArgumentError(None, f"does not exist in Keras's Conv{rank}DTranspose; PyTorch's nn.ConvTranspose"
                                      f"{rank}d(in_channels, out_channels, kernel_size, groups=...) has it")

    return refuse


for _rank in (1, 2, 3):
    register(Rule(
        name=f"Conv{_rank}DTranspose", family="conv", args=_keras_args(_rank),
        infer=partial(_keras_transpose, _rank), layout=True, aliases=(f"Convolution{_rank}DTranspose",),
        doc=f"Keras Conv{_rank}DTranspose: kernel (k × filters × C_in) + bias (filters); "
            "'valid' gives (n − 1)·s + max(k, s), 'same' gives n·s.",
    ))


# ---- PyTorch --------------------------------------------------------------------------


def _torch_transpose(rank: int, a: Mapping[str, Any], shapes: Sequence[Shape], ctx: Context) -> Inference:
    _check_torch_args(a)
    check_in_channels(rank, shapes[0], ctx, a["in_channels"], "in_channels")
    _, spatial = feature_map(shapes[0], rank, ctx.data_format)
    kernel, stride, dilation, op = a["kernel_size"], a["stride"], a["dilation"], a["output_padding"]
    sizes = tuple(
        None if n is None else torch_size(n, kernel[i], stride[i], dilation[i], a["padding"][i][0], op[i])
        for i, n in enumerate(spatial)
    )
    _check_output(spatial, sizes, kernel, "use less padding (PyTorch: 'Output size is too small')")
    weights = transpose_weights(ctx, kernel, a["in_channels"], a["out_channels"], a["groups"], a["bias"])
    shape = join_channels(a["out_channels"], sizes_of(sizes), ctx.data_format)
    note = ""
    if a["groups"] > 1 and not ctx.pytorch:
        note = (f"Keras has no grouped transposed convolution (Conv{rank}DTranspose has no groups argument); "
                "its tensors are listed as PyTorch stores them")
    macs = scatter_macs(spatial, a["in_channels"], kernel, a["out_channels"], a["groups"])
    return Inference(shape, weights, spatial_notes(sizes), note, macs=macs)


def _check_torch_args(a: Mapping[str, Any]) -> None:
    """What PyTorch refuses when the module is built or first run."""
    if isinstance(a["padding"], str):
        raise RuleError(f"padding='{a['padding']}' is not supported by PyTorch's transposed convolutions "
                        "(they fail at the first forward pass); give the padding as a number")
    if a["padding_mode"] != "zeros":
        raise RuleError(f"padding_mode='{a['padding_mode']}' is not supported: PyTorch's transposed "
                        "convolutions only take padding_mode='zeros'")
    for arg in ("in_channels", "out_channels"):
        if a[arg] % a["groups"]:
            raise RuleError(f"{arg}={a[arg]} is not divisible by groups={a['groups']}")
    for o, s, d in zip(a["output_padding"], a["stride"], a["dilation"]):
        if o >= s and o >= d:
            raise RuleError(f"output_padding {a['output_padding']} must be smaller than either the stride "
                            f"{a['stride']} or the dilation {a['dilation']} on every axis (PyTorch)")


def _torch_args(rank: int) -> tuple[Arg, ...]:
    return (
        Arg("in_channels", positive),
        Arg("out_channels", positive),
        Arg("kernel_size", int_tuple(rank)),
        Arg("stride", int_tuple(rank, broadcast=True), 1),
        Arg("padding", torch_padding(rank), 0),
        Arg("output_padding", int_tuple(rank, 0), 0),
        Arg("groups", positive, 1),
        Arg("bias", boolean, True),
        Arg("dilation", int_tuple(rank, broadcast=True), 1),
        Arg("padding_mode", choice("zeros", "reflect", "replicate", "circular"), "zeros"),
    )


for _rank in (1, 2, 3):
    register(Rule(
        name=f"ConvTranspose{_rank}d", family="conv", args=_torch_args(_rank),
        infer=partial(_torch_transpose, _rank), framework=PYTORCH, layout=True,
        doc=f"PyTorch nn.ConvTranspose{_rank}d: weight (in_channels × out_channels/groups × k) + bias "
            "(out_channels); output (n − 1)·s − 2p + d·(k − 1) + output_padding + 1.",
    ))
