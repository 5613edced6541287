"""Recurrent layers: Keras SimpleRNN, LSTM, GRU, Bidirectional and ConvLSTM1D/2D/3D;
PyTorch RNN, LSTM, GRU and their cells.

Per direction and layer, with g gates (1 for SimpleRNN/RNN, 4 for LSTM, 3 for GRU), d input
features and u (h) units (CONVENTIONS.md §1, notes 4-5):
  Keras    kernel (d, g·u), recurrent_kernel (u, g·u), bias (g·u); GRU's default
           reset_after=True keeps two biases, as bias (2, g·u)
  PyTorch  weight_ih (g·h, d), weight_hh (g·h, h), bias_ih (g·h), bias_hh (g·h); with
           proj_size p, weight_hh is (g·h, p) and weight_hr (p, h) is added
So Keras's SimpleRNN and LSTM count g·u fewer than PyTorch's (one bias vector, not two),
and Keras's default GRU counts as PyTorch's. A PyTorch layer k ≥ 1 reads dirs·(p or h)
features. Dropout, direction, state and unrolling change no count.

Each convention lists the other framework's equivalent where one exists: a Keras LSTM
counted as PyTorch is nn.LSTM(d, u); a one-layer nn.LSTM counted as Keras is LSTM(h), or
Bidirectional(LSTM(h)). What has none (Keras GRU reset_after=False, activations PyTorch
lacks, ConvLSTM; PyTorch stacks and projections) is counted as its own framework counts
it, and the row's note says so.

MACs: every step multiplies the input and the previous state by each matrix once, so a
layer takes timesteps × (the elements of its kernels): ``10×(32×4×64 + 64×4×64)``. The
gates' elementwise products and nonlinearities are not counted (docs/compute.md).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from functools import partial
from typing import Any

from .._text import shape_text
from ..errors import ArgumentError, RuleError
from ..expr import Expr, equation, num, product, total
from ._args import (
    Arg,
    NestedLayer,
    Opaque,
    anything,
    boolean,
    choice,
    fraction,
    int_tuple,
    nested_layer,
    non_negative,
    number,
    optional,
    positive,
)
from ._base import (
    DATA_FORMAT,
    KERAS,
    Context,
    Inference,
    Rule,
    Shape,
    ShapeNote,
    Weight,
    feature_map,
    join_channels,
    known,
    layout_desc,
    layout_of,
    require_rank,
    spatial_notes,
)
from ._registry import PYTORCH, register
from ._spatial import keras_padding, keras_strides_or_dilation, sizes_of, window_output
from .conv import kernel_dims

_GATES = {"SimpleRNN": 1, "LSTM": 4, "GRU": 3}
_TORCH_NAME = {"SimpleRNN": "RNN", "LSTM": "LSTM", "GRU": "GRU"}
MAX_LAYERS = 10_000  # each layer's tensors are listed; far beyond any real stack


@dataclass(frozen=True, slots=True)
class Recurrent:
    """A recurrent layer's tensors in framework-free terms, whichever framework named it."""

    kind: str  # Keras's class name: SimpleRNN, LSTM or GRU
    features: int
    units: int
    bias: bool
    split_bias: bool = False  # Keras GRU reset_after=True: bias (2, 3u)
    layers: int = 1
    dirs: int = 1
    proj: int = 0
    cell: bool = False  # a cell (one time step): nn.LSTMCell, keras.layers.LSTMCell
    no_torch: str = ""  # what PyTorch has no equivalent of, or ""
    no_keras: str = ""  # what Keras has no equivalent of, or ""

    def name(self, framework: str) -> str:
        base = self.kind if framework == KERAS else "nn." + _TORCH_NAME[self.kind]
        return base + "Cell" * self.cell


def step_macs(weights: Sequence[Weight], steps: int | None, positions: Sequence[Expr] = ()) -> Expr | None:
    """Each kernel's elements once per step (and per output position, for ConvLSTM)."""
    if steps is None:
        return None
    per_step = total(*(w.expr for w in weights if "bias" not in w.name))
    if positions:
        per_step = product(*positions, per_step)
    return per_step if steps == 1 else product(num(steps, "timesteps"), per_step)


def _gated(gates: int, units: Expr) -> Expr:
    return units if gates == 1 else product(num(gates), units)


def keras_tensors(r: Recurrent) -> tuple[Weight, ...]:
    d, u = num(r.features, "features"), num(r.units, "units")
    g = _gated(_GATES[r.kind], u)
    one = [Weight("kernel", (d, g)), Weight("recurrent_kernel", (u, g))]
    if r.bias:
        one.append(Weight("bias", (num(2), g) if r.split_bias else (g,)))
    return tuple(one) * r.dirs  # Bidirectional lists the forward layer's, then the backward's


def torch_tensors(r: Recurrent) -> tuple[Weight, ...]:
    h = num(r.units, "hidden_size")
    g = _gated(_GATES[r.kind], h)
    out = num(r.proj, "proj_size") if r.proj else h
    stacked = out if r.dirs == 1 else product(num(r.dirs, "dirs"), out)
    weights: list[Weight] = []
    for k in range(r.layers):
        inputs = num(r.features, "input_size") if k == 0 else stacked
        for reverse in range(r.dirs):
            at = "" if r.cell else f"_l{k}" + "_reverse" * reverse
            weights += [Weight(f"weight_ih{at}", (g, inputs)), Weight(f"weight_hh{at}", (g, out))]
            if r.bias:
                weights += [Weight(f"bias_ih{at}", (g,)), Weight(f"bias_hh{at}", (g,))]
            if r.proj:
                weights.append(Weight(f"weight_hr{at}", (out, h)))
    return tuple(weights)


def tensors(r: Recurrent, ctx: Context) -> tuple[tuple[Weight, ...], str]:
    """The tensors the convention lists, and the note when the conventions count apart."""
    if ctx.pytorch and r.no_torch:
        return keras_tensors(r), f"PyTorch has no equivalent of {r.no_torch}; counted as Keras counts it."
    if not ctx.pytorch and r.no_keras:
        return torch_tensors(r), f"Keras has no {r.no_keras}; counted as PyTorch counts it."
    weights = torch_tensors(r) if ctx.pytorch else keras_tensors(r)
    # Keras's default GRU keeps both biases, as PyTorch does; a layer foreign to the other
    # framework is counted alike in both conventions.
    if not r.bias or r.kind == "GRU" or r.no_torch or r.no_keras:
        return weights, ""
    g = _gated(_GATES[r.kind], num(r.units))
    per = "" if r.dirs == 1 else f" per direction, {r.dirs * g.value:,} in all"
    return weights, (
        f"Keras's {r.name(KERAS)} keeps one bias vector ({equation(g)}) where PyTorch's {r.name(PYTORCH)} keeps two, "
        f"bias_ih and bias_hh: PyTorch counts {g.value:,} more{per}."
    )


def _join(*notes: str) -> str:
    return " ".join(n for n in notes if n)


# ---- arguments --------------------------------------------------------------------------


def _act_name(a: Mapping[str, Any], arg: str, torch_name: str) -> str:
    """An activation's name: a string, or the last part of an expression such as
    ``keras.activations.relu``. A number means a PyTorch signature was meant."""
    value = a.get(arg, "sigmoid")
    if value is None:
        return "linear"
    if isinstance(value, (str, Opaque)):
        return (value.source if isinstance(value, Opaque) else value).rpartition(".")[2].lower()
    raise ArgumentError(arg, f"must be an activation such as 'tanh', got {value!r}; for PyTorch's "
                             f"{torch_name}(input_size, hidden_size, ...) write nn.{torch_name}")


def _ignored(*names: str) -> tuple[Arg, ...]:
    return tuple(Arg(n, anything, None) for n in names)


_INIT = _ignored("kernel_initializer", "recurrent_initializer", "bias_initializer")
_REGULARIZE = _ignored("kernel_regularizer", "recurrent_regularizer", "bias_regularizer", "activity_regularizer",
                       "kernel_constraint", "recurrent_constraint", "bias_constraint")
_DROPOUT = (Arg("dropout", number, 0.0), Arg("recurrent_dropout", number, 0.0))  # Keras clips them
_SEQUENCE = tuple(Arg(n, boolean, False) for n in ("return_sequences", "return_state", "go_backwards", "stateful"))
_UNROLL = Arg("unroll", boolean, False)
# Activations are checked where they matter, in describe(): a converter never sees an
# expression such as keras.activations.relu (only `anything` receives those).
_GATED = (Arg("activation", anything, "tanh"), Arg("recurrent_activation", anything, "sigmoid"),
          Arg("use_bias", boolean, True), *_INIT)

# Keras's signatures, in order, so positional values bind as they do in Keras.
_KERAS_ARGS = {
    "SimpleRNN": (Arg("units", positive), Arg("activation", anything, "tanh"), Arg("use_bias", boolean, True),
                  *_INIT, *_REGULARIZE, *_DROPOUT, *_SEQUENCE, _UNROLL, *_ignored("seed")),
    "LSTM": (Arg("units", positive), *_GATED, *_ignored("unit_forget_bias"), *_REGULARIZE, *_DROPOUT,
             *_ignored("seed"), *_SEQUENCE, _UNROLL, *_ignored("use_cudnn")),
    "GRU": (Arg("units", positive), *_GATED, *_REGULARIZE, *_DROPOUT, *_ignored("seed"), *_SEQUENCE,
            _UNROLL, Arg("reset_after", boolean, True), *_ignored("use_cudnn")),
}


# ---- Keras SimpleRNN, LSTM, GRU ---------------------------------------------------------


def describe(kind: str, a: Mapping[str, Any], features: int) -> Recurrent:
    """A Keras layer's tensors, and what PyTorch lacks to hold them exactly."""
    act, rec = (_act_name(a, arg, _TORCH_NAME[kind]) for arg in ("activation", "recurrent_activation"))
    missing = ""
    if kind == "SimpleRNN" and act not in ("tanh", "relu"):
        missing = f"activation '{act}' (nn.RNN offers tanh and relu)"
    elif kind != "SimpleRNN" and (act, rec) != ("tanh", "sigmoid"):
        missing = f"activation '{act}' with recurrent_activation '{rec}' (nn.{kind} is fixed to tanh and sigmoid)"
    elif kind == "GRU" and not a["reset_after"]:
        missing = "reset_after=False (nn.GRU resets after the matrix product, as Keras's default does)"
    split = kind == "GRU" and a["reset_after"]
    return Recurrent(kind, features, a["units"], a["use_bias"], split_bias=split, no_torch=missing)


def _sequence_input(x: Shape) -> int:
    require_rank(x, 2, "timesteps, features")
    return known(x[1], "number of features")


def _state_note(a: Mapping[str, Any], layer: str, output: Shape, twice: bool = False) -> str:
    """Keras returns [output, *states] with return_state; a row has one shape, the output's."""
    if not a["return_state"]:
        return ""
    state = output[1:] if a["return_sequences"] else output  # a state is one step's output
    states = "state h" if layer in ("SimpleRNN", "GRU") else "states h and c"
    shape = f"of shape {shape_text(state)}" + " for each direction" * twice
    return f"return_state=True: it also returns its final {states}, {shape}; the shape shown is its output."


def _keras_rnn(kind: str, a: Mapping[str, Any], shapes: Sequence[Shape], ctx: Context) -> Inference:
    x = shapes[0]
    r = describe(kind, a, _sequence_input(x))
    weights, note = tensors(r, ctx)
    shape = (x[0], r.units) if a["return_sequences"] else (r.units,)
    return Inference(shape, weights, note=_join(note, _state_note(a, kind, shape)), macs=step_macs(weights, x[0]))


for _kind, _args in _KERAS_ARGS.items():
    register(Rule(
        name=_kind, family="recurrent", args=_args, infer=partial(_keras_rnn, _kind),
        doc=f"Keras {_kind} on (timesteps, features): kernel (features × {_GATES[_kind]}u) + recurrent_kernel "
            f"(u × {_GATES[_kind]}u) + one bias ({_GATES[_kind]}u"
            + (", two as (2, 3u) with reset_after=True" if _kind == "GRU" else "") + "); PyTorch keeps two biases.",
    ))


# ---- Keras Bidirectional ----------------------------------------------------------------


def _wrapped(layer: NestedLayer, role: str) -> NestedLayer:
    rule = layer.rule
    if rule.family != "recurrent" or rule.framework != KERAS or rule.name == "Bidirectional":
        torch_hint = "; for PyTorch, give the module bidirectional=True" if rule.framework == PYTORCH else ""
        raise RuleError(f"its {role} must be a Keras recurrent layer such as LSTM(64), got {rule.name}{torch_hint}")
    return layer


def _check_pair(forward: NestedLayer, backward: NestedLayer) -> None:
    """Keras's own checks on the two directions (keras/src/layers/rnn/bidirectional.py)."""
    if forward.args["go_backwards"] == backward.args["go_backwards"]:
        raise RuleError(f"its forward and backward layers need different go_backwards, both have "
                        f"{forward.args['go_backwards']}; wrap the forward layer (go_backwards=False)")
    for attr in ("stateful", "return_sequences", "return_state"):
        if forward.args[attr] != backward.args[attr]:
            raise RuleError(f"its forward and backward layers need the same {attr}, got "
                            f"{forward.args[attr]} and {backward.args[attr]}")


def _merge(mode: str | None, f: Shape, b: Shape) -> tuple[Shape, tuple[ShapeNote, ...], str]:
    """The merged output. Concat joins the last axes (Keras's symbolic shape doubles the
    forward one instead; the tensors it computes are what is given here)."""
    if mode == "concat":
        size = total(num(f[-1], "forward"), num(b[-1], "backward"))
        return (*f[:-1], size.value), (ShapeNote("", size),), ""
    if f != b:
        raise RuleError(f"merge_mode={mode!r} needs the forward and backward outputs to have one shape, "
                        f"got {shape_text(f)} and {shape_text(b)}; use merge_mode='concat'")
    if mode is None:
        return f, (), "merge_mode=None: it returns the two directions' outputs apart; the shape shown is the forward one."
    return f, (), ""


def _bidirectional(a: Mapping[str, Any], shapes: Sequence[Shape], ctx: Context) -> Inference:
    forward = _wrapped(a["layer"], "layer")
    backward = _wrapped(a["backward_layer"], "backward_layer") if a["backward_layer"] else None
    _check_pair(forward, backward or replace(forward, args={**forward.args, "go_backwards": True}))
    backward = backward or forward
    as_keras = replace(ctx, convention=KERAS)
    f, b = (n.rule.infer(n.args, shapes, as_keras) for n in (forward, backward))
    shape, shape_notes, merge_note = _merge(a["merge_mode"], f.output_shape, b.output_shape)
    pair = _pair(forward, backward, shapes[0])
    weights, note = tensors(pair, ctx) if pair else (f.weights + b.weights, "")
    weights = _frozen(weights, forward.trainable, backward.trainable, len(f.weights) if not pair else None)
    if ctx.pytorch and not pair:
        note = f"PyTorch has no single module for this Bidirectional({forward.rule.name}); counted as Keras counts it."
    state = _state_note(forward.args, forward.rule.name, f.output_shape, twice=True)
    return Inference(shape, weights, shape_notes, _join(note, merge_note, state), macs=step_macs(weights, shapes[0][0]))


def _frozen(weights: tuple[Weight, ...], forward: bool, backward: bool, split: int | None) -> tuple[Weight, ...]:
    """Mark a frozen direction's weights non-trainable: the first ``split`` weights are the
    forward layer's, or (one PyTorch module) those named ``*_reverse`` are the backward's."""
    def is_backward(i: int, w: Weight) -> bool:
        return i >= split if split is not None else w.name.endswith("_reverse")

    return tuple(replace(w, trainable=w.trainable and (backward if is_backward(i, w) else forward))
                 for i, w in enumerate(weights))


def _pair(forward: NestedLayer, backward: NestedLayer, x: Shape) -> Recurrent | None:
    """Both directions as one Recurrent when they are the same layer (nn.LSTM(bidirectional=True))."""
    kinds = {forward.rule.name, backward.rule.name}
    if len(kinds) > 1 or not kinds <= set(_GATES):
        return None
    f, b = (describe(n.rule.name, n.args, x[1]) for n in (forward, backward))
    return replace(f, dirs=2) if f == b else None


register(Rule(
    name="Bidirectional", family="recurrent", infer=_bidirectional,
    args=(Arg("layer", nested_layer), Arg("merge_mode", optional(choice("concat", "sum", "mul", "ave")), "concat"),
          Arg("weights", anything, None), Arg("backward_layer", optional(nested_layer), None)),
    doc="Keras Bidirectional(layer): the wrapped layer's weights twice (forward, then backward); merge_mode "
        "changes only the output shape (concat joins the two outputs).",
))


# ---- PyTorch RNN, LSTM, GRU and cells -------------------------------------------------------


def _torch_input(x: Shape, rank: int, input_size: int) -> None:
    require_rank(x, rank, "features" if rank == 1 else "sequence length, features")
    if x[-1] is not None and x[-1] != input_size:
        raise RuleError(f"input_size={input_size} but its input {shape_text(x)} has {x[-1]} features on its last axis")


def _no_keras(kind: str, layers: int, proj: int) -> str:
    missing = ["projection (proj_size)"] * bool(proj)
    if layers > 1:
        missing.append(f"multi-layer {kind} (it would take a stack of {layers} {kind} layers)")
    return " nor ".join(missing)


def _torch_rnn(kind: str, a: Mapping[str, Any], shapes: Sequence[Shape], ctx: Context) -> Inference:
    x, h, layers, proj = shapes[0], a["hidden_size"], a["num_layers"], a.get("proj_size", 0)
    _torch_input(x, 2, a["input_size"])
    if proj >= h:
        raise RuleError(f"proj_size={proj} must be smaller than hidden_size={h}")
    if layers > MAX_LAYERS:
        raise RuleError(f"num_layers={layers:,} is more than the {MAX_LAYERS:,} layers learnable lists")
    dirs = 2 if a["bidirectional"] else 1
    r = Recurrent(kind, a["input_size"], h, a["bias"], split_bias=kind == "GRU", layers=layers, dirs=dirs,
                  proj=proj, no_keras=_no_keras(kind, layers, proj))
    weights, note = tensors(r, ctx)
    size = num(proj or h, "proj_size" if proj else "hidden_size")
    notes = ()
    if dirs == 2:  # the two directions' outputs are concatenated
        size = product(num(dirs, "dirs"), size)
        notes = (ShapeNote("", size),)
    return Inference((x[0], size.value), weights, notes, note, macs=step_macs(weights, x[0]))


def _torch_cell(kind: str, a: Mapping[str, Any], shapes: Sequence[Shape], ctx: Context) -> Inference:
    _torch_input(shapes[0], 1, a["input_size"])
    r = Recurrent(kind, a["input_size"], a["hidden_size"], a["bias"], split_bias=kind == "GRU", cell=True)
    weights, note = tensors(r, ctx)
    return Inference((a["hidden_size"],), weights, note=note, macs=step_macs(weights, 1))


_SIZES = (Arg("input_size", positive), Arg("hidden_size", positive))
_STACK = Arg("num_layers", positive, 1)
_AFTER = (Arg("bias", boolean, True), Arg("batch_first", boolean, False), Arg("dropout", fraction, 0.0),
          Arg("bidirectional", boolean, False))
_NONLINEARITY = Arg("nonlinearity", choice("tanh", "relu"), "tanh")
_TORCH_ARGS = {
    "SimpleRNN": (*_SIZES, _STACK, _NONLINEARITY, *_AFTER),
    "LSTM": (*_SIZES, _STACK, *_AFTER, Arg("proj_size", non_negative, 0)),
    "GRU": (*_SIZES, _STACK, *_AFTER),
}

for _kind, _args in _TORCH_ARGS.items():
    _name = _TORCH_NAME[_kind]
    register(Rule(
        name=_name, family="recurrent", args=_args, infer=partial(_torch_rnn, _kind), framework=PYTORCH,
        doc=f"PyTorch nn.{_name} on (L, input_size): per layer and direction weight_ih ({_GATES[_kind]}h × input) + "
            f"weight_hh ({_GATES[_kind]}h × h) + bias_ih + bias_hh ({_GATES[_kind]}h each)"
            + ("; proj_size p adds weight_hr (p × h)" if _kind == "LSTM" else "") + ".",
    ))
    cell_args = (*_SIZES, Arg("bias", boolean, True), *((_NONLINEARITY,) if _kind == "SimpleRNN" else ()))
    register(Rule(
        name=_name + "Cell", family="recurrent", args=cell_args, infer=partial(_torch_cell, _kind), framework=PYTORCH,
        doc=f"PyTorch nn.{_name}Cell on (input_size,): weight_ih ({_GATES[_kind]}h × input) + weight_hh "
            f"({_GATES[_kind]}h × h) + bias_ih + bias_hh ({_GATES[_kind]}h each).",
    ))


# ---- Keras ConvLSTM1D/2D/3D ---------------------------------------------------------------

def _conv_lstm(rank: int, a: Mapping[str, Any], shapes: Sequence[Shape], ctx: Context) -> Inference:
    x, fmt = shapes[0], layout_of(a, ctx)
    require_rank(x, rank + 2, "timesteps, " + layout_desc(rank, fmt))
    channels, spatial = feature_map(x[1:], rank, fmt)
    c_in = known(channels, "number of input channels")
    if None in spatial:
        raise RuleError(f"needs known spatial sizes (Keras's ConvLSTM layers need static shapes), got {shape_text(x)}")
    strides, dilation = a["strides"], a["dilation_rate"]
    keras_strides_or_dilation(strides, dilation)
    sizes = window_output(spatial, a["kernel_size"], strides, dilation, a["padding"], "kernel")
    k = kernel_dims(a["kernel_size"])
    f = num(a["filters"], "filters")
    g = product(num(4), f)
    weights = (Weight("kernel", (*k, num(c_in, "C_in"), g)), Weight("recurrent_kernel", (*k, f, g)))
    weights += (Weight("bias", (g,)),) * a["use_bias"]
    step = join_channels(a["filters"], sizes_of(sizes), fmt)
    shape = (x[0], *step) if a["return_sequences"] else step
    note = "PyTorch has no ConvLSTM layer; counted as Keras counts it." if ctx.pytorch else ""
    # The recurrent convolution runs over the output grid ('same'), so both kernels are
    # applied at every output position.
    macs = step_macs(weights, x[0], tuple(num(n) for n in sizes_of(sizes)))
    return Inference(shape, weights, spatial_notes(sizes), _join(note, _state_note(a, "ConvLSTM", shape)), macs=macs)


def _conv_lstm_args(rank: int) -> tuple[Arg, ...]:
    return (
        Arg("filters", positive), Arg("kernel_size", int_tuple(rank)), Arg("strides", int_tuple(rank), 1),
        Arg("padding", keras_padding("valid", "same"), "valid"), DATA_FORMAT, Arg("dilation_rate", int_tuple(rank), 1),
        *_GATED, *_ignored("unit_forget_bias"), *_REGULARIZE, *_DROPOUT, *_ignored("seed"), *_SEQUENCE,
    )


for _rank in (1, 2, 3):
    register(Rule(
        name=f"ConvLSTM{_rank}D", family="recurrent", args=_conv_lstm_args(_rank), infer=partial(_conv_lstm, _rank),
        layout=True,
        doc=f"Keras ConvLSTM{_rank}D on (timesteps, *spatial, channels): kernel (k × C_in × 4·filters) + "
            "recurrent_kernel (k × filters × 4·filters) + bias (4·filters).",
    ))
