"""Explain a layer type: its rule, formulas, conventions and a worked example, as plain data.

``explain("Conv2D")`` runs the rule once on a small worked example (``Conv2D(64, 3)`` on a
32×32×3 input) in both conventions. The formula a user reads is the worked example's own
expression printed with its symbols, so the explanation cannot drift from the rule: the
symbolic ``k_h×k_w×C_in×filters + filters`` and the numeric ``3×3×3×64 + 64 = 1,792``
are the same tree.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .errors import LearnableError
from .expr import Expr, equation
from .rules import CHANNELS_FIRST, CHANNELS_LAST, CONVENTIONS, KERAS, PYTORCH, Context, Inference, Rule, Shape, lookup
from .rules._args import REQUIRED, bind
from .rules._base import ShapeNote
from .spec.compact import parse_call

# ---- the worked examples ------------------------------------------------------------------
# family → (arguments as written in a call, one input in channels-last image form). "{C}" is
# the input's channels; a type named ...1D/2D/3D gets that many spatial axes of the same
# size, and a PyTorch layout rule reads its input channels-first.
_FAMILY_EXAMPLES: dict[tuple[str, str], tuple[str, Shape]] = {
    ("conv", KERAS): ("64, 3", (32, 32, 3)),
    ("conv", PYTORCH): ("{C}, 64, 3", (32, 32, 3)),
    ("dense", KERAS): ("10", (128,)),
    ("dense", PYTORCH): ("{C}, 10", (128,)),
    ("norm", KERAS): ("", (32, 32, 64)),
    ("norm", PYTORCH): ("{C}", (32, 32, 64)),
    ("recurrent", KERAS): ("64", (10, 32)),
    ("recurrent", PYTORCH): ("{C}, 64", (10, 32)),
    ("pooling", KERAS): ("2", (32, 32, 3)),
    ("pooling", PYTORCH): ("2", (32, 32, 3)),
    ("attention", KERAS): ("num_heads=2, key_dim=16", (10, 32)),
    ("attention", PYTORCH): ("{C}, 2", (10, 32)),
    ("merge", KERAS): ("", (8, 16)),
    ("merge", PYTORCH): ("", (16,)),
    ("embedding", KERAS): ("1000, 64", (10,)),
    ("embedding", PYTORCH): ("1000, 64", (10,)),
    ("activation", KERAS): ("", (10, 64)),
    ("activation", PYTORCH): ("", (10, 64)),
    ("prelu", KERAS): ("", (32, 32, 16)),
    ("prelu", PYTORCH): ("", (32, 32, 16)),
    ("structure", KERAS): ("", (8, 8, 16)),
    ("structure", PYTORCH): ("", (8, 8, 16)),
    ("transformer", PYTORCH): ("{C}, 4, 128", (10, 64)),
}

# Where the family's example does not fit: a type (PyTorch's as ``nn.Name``) → arguments and
# its inputs as the rule reads them (None: the family's input).
_TYPE_EXAMPLES: dict[str, tuple[str, tuple[Shape, ...] | None]] = {
    "Input": ("28, 28, 1", ()),
    "Reshape": ("(16, 64)", None),
    "Permute": ("(2, 1, 3)", None),
    "RepeatVector": ("3", ((64,),)),
    "Resizing": ("16, 16", None),
    "CenterCrop": ("4, 4", None),
    "RandomCrop": ("4, 4", None),
    "Rescaling": ("0.5", None),
    "GaussianNoise": ("0.1", None),
    "Activation": ("'relu'", None),
    "Dot": ("axes=1", ((16,), (16,))),
    "Attention": ("", ((10, 32), (10, 32))),
    "AdditiveAttention": ("", ((10, 32), (10, 32))),
    "LayerNormalization": ("", ((10, 64),)),
    "RMSNormalization": ("", ((10, 64),)),
    "UnitNormalization": ("", ((10, 64),)),
    "Normalization": ("", ((10, 64),)),
    "Bidirectional": ("LSTM(64)", None),
    "DepthwiseConv1D": ("3", None),
    "DepthwiseConv2D": ("3", None),
    "nn.Threshold": ("0.1, 0.0", None),
    "nn.Softmax2d": ("", ((16, 8, 8),)),
    "nn.GroupNorm": ("8, {C}", None),
    "nn.LayerNorm": ("{C}", ((10, 64),)),
    "nn.RMSNorm": ("{C}", ((10, 64),)),
    "nn.RNNCell": ("{C}, 64", ((32,),)),
    "nn.LSTMCell": ("{C}, 64", ((32,),)),
    "nn.GRUCell": ("{C}, 64", ((32,),)),
    "nn.ZeroPad1d": ("1", None),
    "nn.ZeroPad2d": ("1", None),
    "nn.ZeroPad3d": ("1", None),
    "nn.Unflatten": ("2, (4, 16)", ((10, 64),)),
    "nn.Upsample": ("scale_factor=2", None),
    "nn.UpsamplingNearest2d": ("scale_factor=2", None),
    "nn.UpsamplingBilinear2d": ("scale_factor=2", None),
    "nn.PixelShuffle": ("2", None),
    "nn.PixelUnshuffle": ("2", None),
    "nn.ChannelShuffle": ("4", None),
    "nn.Unfold": ("3, stride=2", ((8, 9, 9),)),
    "nn.Pad": ("(1, 2, 0, 0, 3, 3)", ((8, 9, 9),)),
    "nn.Fold": ("(8, 8), 2, stride=2", ((36, 16),)),
    "nn.TransformerDecoderLayer": ("{C}, 4, 128", ((10, 64), (10, 64))),
    "nn.TransformerEncoder": ("TransformerEncoderLayer(64, 4, 128), 2", None),
    "nn.TransformerDecoder": ("TransformerDecoderLayer(64, 4, 128), 2", ((10, 64), (10, 64))),
    "nn.Transformer": ("64, 4, 1, 1, 128", ((10, 64), (10, 64))),
    "nn.Tensors": ("[('weight', (10, 64), True, False), ('bias', (10,), True, False)], (10,)", ((64,),)),
    "nn.Embedding": ("1000, 64", ((10,),)),
    "nn.ScaledEmbedding": ("1000, 64, embed_scale=8.0", ((10,),)),
    "nn.RotaryEmbedding": ("64", ((10, 512), (10,))),  # (x, position_ids)
    "nn.TransposedLinear": ("10, {C}", None),
    "nn.Experts": ("8, {C}, 256", ((10, 64),)),
    "nn.Router": ("8, {C}", ((10, 64),)),
    # ViT's class token: stored (1, 1, 768), one (1, 768) per example
    "Parameter": ("(1, 1, 768), batch_axis=True", ()),
    "nn.Parameter": ("(1, 1, 768), batch_axis=True", ()),
    "Slice": ("axis=1, start=1, stop=8, step=2", None),
    "Select": ("axis=1, index=-1", ((10, 64),)),
    "Reduce": ("axis=(1, 2)", None),
    "MatMul": ("", ((10, 64), (64, 32))),
    "Elementwise": ("'exp'", None),
    "TimeDistributed": ("Dense(16)", ((10, 64),)),
    "Rearrange": ("'b (h p1) (w p2) c -> b (h w) (p1 p2 c)', sizes={'p1': 4, 'p2': 4}", ((32, 32, 3),)),
    "Constant": ("(10, 64)", ()),
    "RandomColorJitter": ("hue_factor=0.2", ((32, 32, 3),)),
}
for _name in ("RandomHue", "RandomSaturation", "RandomColorDegeneration", "RandomGrayscale"):
    _TYPE_EXAMPLES[_name] = ("0.5", ((32, 32, 3),))  # colour layers: an RGB image
for _rank in (1, 2, 3):
    for _kind in ("GlobalMaxPooling", "GlobalAveragePooling"):
        _TYPE_EXAMPLES[f"{_kind}{_rank}D"] = ("", None)
    for _kind in ("AdaptiveMaxPool", "AdaptiveAvgPool"):
        _TYPE_EXAMPLES[f"nn.{_kind}{_rank}d"] = ("1", None)
    _TYPE_EXAMPLES[f"AveragePooling{_rank}D"] = ("2", None)
    _TYPE_EXAMPLES[f"ConvLSTM{_rank}D"] = ("16, 3", ((10, *(16,) * _rank, 3),))
for _name in ("Dropout", "GaussianDropout", "AlphaDropout", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D"):
    _TYPE_EXAMPLES[_name] = ("0.5", None)

# Small values for required arguments no table covers (the fallback).
_SMALL = {"filters": 64, "kernel_size": 3, "units": 64, "out_channels": 64, "out_features": 10, "hidden_size": 64,
          "pool_size": 2, "output_size": 1, "rate": 0.5, "num_heads": 2, "key_dim": 16, "nhead": 4}
_CHANNEL_ARGS = {"in_channels", "in_features", "num_features", "num_channels", "input_size", "embed_dim",
                 "d_model", "normalized_shape"}

# Output sizes of sliding windows (rules/_spatial.py and rules/conv_transpose.py docstrings,
# CONVENTIONS.md §2), with k′ = d·(k − 1) + 1 the dilated window.
_WINDOW_SHAPES = {
    KERAS: ("valid: out = ⌊(n − k′)/s⌋ + 1 (at least 1), with k′ = d·(k − 1) + 1",
            "same: out = ⌈n/s⌉, whatever k and d are"),
    PYTORCH: ("out = ⌊(n + 2p − k′)/s⌋ + 1, with k′ = d·(k − 1) + 1",
              "ceil_mode=True: ⌈…⌉ instead of ⌊…⌋, less one when the last window would start in the right padding"),
}
_TRANSPOSED_SHAPES = {
    KERAS: ("valid: out = (n − 1)·s + max(k′, s), or (n − 1)·s + k′ + op with output_padding op",
            "same: out = n·s, or (n − 1)·s + (k′ mod 2) + op with output_padding op"),
    PYTORCH: ("out = (n − 1)·s − 2p + k′ + op, with k′ = d·(k − 1) + 1 and op the output_padding",),
}

# Keras name → PyTorch name, where they differ by more than case (Conv2D/Conv2d pair by name).
_COUNTERPARTS = {
    "Dense": "Linear", "BatchNormalization": "BatchNorm2d", "LayerNormalization": "LayerNorm",
    "RMSNormalization": "RMSNorm", "GroupNormalization": "GroupNorm", "SimpleRNN": "RNN",
    "MultiHeadAttention": "MultiheadAttention", "UpSampling2D": "Upsample",
    **{f"{k}{r}D": f"{p}{r}d" for r in (1, 2, 3) for k, p in (
        ("Conv", "Conv"), ("MaxPooling", "MaxPool"), ("AveragePooling", "AvgPool"), ("ZeroPadding", "ZeroPad"),
        ("GlobalMaxPooling", "AdaptiveMaxPool"), ("GlobalAveragePooling", "AdaptiveAvgPool"),
        ("SpatialDropout", "Dropout"))},
    **{f"Conv{r}DTranspose": f"ConvTranspose{r}d" for r in (1, 2, 3)},
}
_KERAS_OF = {**{p: k for k, p in _COUNTERPARTS.items()}, "BatchNorm1d": "BatchNormalization",
             "BatchNorm3d": "BatchNormalization"}


# ---- the data -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ArgDoc:
    name: str
    default: str | None  # as written in a call; None: required
    doc: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "default": self.default, "required": self.default is None, "doc": self.doc}


@dataclass(frozen=True, slots=True)
class TensorDoc:
    """One tensor of the worked example, as a convention stores it."""

    name: str
    symbols: str  # "k_h×k_w×C_in×filters"
    shape: tuple[int, ...]
    size: int
    trainable: bool
    buffer: bool

    @property
    def kind(self) -> str:
        return "buffer" if self.buffer else "trainable" if self.trainable else "non-trainable"

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "symbols": self.symbols, "shape": list(self.shape), "size": self.size,
                "trainable": self.trainable, "buffer": self.buffer}


@dataclass(frozen=True, slots=True)
class ConventionCount:
    """What one convention counts in the worked example."""

    convention: str
    weights: tuple[TensorDoc, ...]
    params: int
    trainable: int
    non_trainable: int
    formula: str  # symbolic: "k_h×k_w×C_in×filters + filters"
    arithmetic: str  # "3×3×3×64 + 64 = 1,792"
    buffers: int = 0
    buffers_formula: str = ""
    buffers_arithmetic: str = ""
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"convention": self.convention, "params": self.params, "trainable": self.trainable,
                "non_trainable": self.non_trainable, "formula": self.formula, "arithmetic": self.arithmetic,
                "buffers": self.buffers, "buffers_formula": self.buffers_formula,
                "buffers_arithmetic": self.buffers_arithmetic, "note": self.note,
                "weights": [w.to_dict() for w in self.weights]}


@dataclass(frozen=True, slots=True)
class WorkedExample:
    call: str  # "Conv2D(64, 3)"
    input_shapes: tuple[Shape, ...]
    data_format: str
    output_shape: Shape
    shape_arithmetic: str  # "height, width: 32 − 3 + 1 = 30"
    macs_arithmetic: str = ""  # "(30×30×64)×(3×3×3) = 1,555,200"; "unknown" when it is not known

    def to_dict(self) -> dict[str, Any]:
        return {"call": self.call, "input_shapes": [list(s) for s in self.input_shapes],
                "data_format": self.data_format, "output_shape": list(self.output_shape),
                "shape_arithmetic": self.shape_arithmetic, "macs_arithmetic": self.macs_arithmetic}


@dataclass(frozen=True)
class Explanation:
    name: str
    framework: str  # whose signature the arguments follow
    family: str
    doc: str
    aliases: tuple[str, ...]
    counterpart: str | None  # the other framework's layer, if it has one
    args: tuple[ArgDoc, ...]
    formula: str  # the parameter formula in symbols, in the layer's own convention
    shape_formula: tuple[str, ...]
    example: WorkedExample | None  # None: the rule refuses every input (Keras Lambda)
    counts: tuple[ConventionCount, ...]  # Keras's, then PyTorch's; () without an example
    refusal: str = ""  # why there is no worked example
    macs_formula: str = ""  # in symbols where the rule names them: "(H_out×W_out×filters)×(k_h×k_w×C_in)"

    @property
    def own(self) -> ConventionCount | None:
        return self.count(self.framework)

    def count(self, convention: str) -> ConventionCount | None:
        return next((c for c in self.counts if c.convention == convention), None)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "framework": self.framework, "family": self.family, "doc": self.doc,
                "aliases": list(self.aliases), "counterpart": self.counterpart,
                "args": [a.to_dict() for a in self.args], "formula": self.formula,
                "shape_formula": list(self.shape_formula),
                "example": self.example.to_dict() if self.example else None,
                "counts": {c.convention: c.to_dict() for c in self.counts}, "refusal": self.refusal,
                "macs_formula": self.macs_formula}


# ---- building it --------------------------------------------------------------------------


def explain(type_name: str) -> Explanation:
    """The rule for a layer type name, explained with a worked example in both conventions.
    An unknown name raises :class:`learnable.errors.RuleError` with "did you mean"."""
    rule = lookup(type_name)
    partner = counterpart(rule)
    about: dict[str, Any] = {
        "name": rule.name, "framework": rule.framework, "family": rule.family, "doc": rule.doc,
        "aliases": rule.aliases, "counterpart": partner.name if partner else None, "args": tuple(_arg_docs(rule)),
    }
    try:
        call, shapes, data_format, inferences = _worked_example(rule)
    except _NoExample as refused:
        return Explanation(**about, formula="", shape_formula=(), example=None, counts=(), refusal=str(refused))
    own = inferences[rule.framework]
    macs = "unknown" if own.macs is None else equation(own.macs)
    example = WorkedExample(call, shapes, data_format, own.output_shape, _notes_text(own.shape_notes, False), macs)
    return Explanation(
        **about, formula=own.params.render(symbolic=True), shape_formula=_shape_formula(rule, own, shapes),
        example=example, counts=tuple(_convention_count(c, inferences[c]) for c in CONVENTIONS),
        macs_formula="" if own.macs is None else own.macs.render(symbolic=True),
    )


class _NoExample(Exception):
    """The rule refuses even the simplest input; its own message says why."""


def counterpart(rule: Rule) -> Rule | None:
    """The other framework's layer for the same computation (Conv2D ↔ Conv2d, Dense ↔ Linear)."""
    if rule.framework == KERAS:
        name, prefix, other = _COUNTERPARTS.get(rule.name, rule.name), "nn.", PYTORCH
    else:
        name, prefix, other = _KERAS_OF.get(rule.name, rule.name), "layers.", KERAS
    try:
        found = lookup(prefix + name)
    except LearnableError:
        return None
    return found if found.framework == other else None


def _arg_docs(rule: Rule) -> list[ArgDoc]:
    return [ArgDoc(a.name, None if a.default is REQUIRED else repr(a.default), a.doc) for a in rule.args]


def _convention_count(convention: str, inference: Inference) -> ConventionCount:
    weights = tuple(TensorDoc(w.name, _symbols(w.dims), w.shape, w.count, w.trainable and not w.buffer, w.buffer)
                    for w in inference.weights)
    params, buffers = inference.params, inference.buffers
    trainable = sum(w.size for w in weights if w.trainable)
    return ConventionCount(
        convention, weights, params.value, trainable, params.value - trainable,
        params.render(symbolic=True), equation(params), buffers.value,
        buffers.render(symbolic=True) if buffers.value else "", equation(buffers) if buffers.value else "",
        inference.note,
    )


def _symbols(dims: Sequence[Expr]) -> str:
    return "×".join(d.render(symbolic=True) for d in dims) if dims else "1 (a scalar)"


def _shape_formula(rule: Rule, own: Inference, inputs: tuple[Shape, ...]) -> tuple[str, ...]:
    """The general formula where the family has one, then the worked example's in symbols."""
    lines: tuple[str, ...] = ()
    if "Transpose" in rule.name:
        lines = _TRANSPOSED_SHAPES[rule.framework]
    elif rule.layout and rule.family in ("conv", "pooling", "recurrent") and not rule.name.startswith(("Global", "Adaptive")):
        lines = _WINDOW_SHAPES[rule.framework]
    symbolic = _notes_text(own.shape_notes, True)
    if symbolic:
        return (*lines, f"in the worked example, {symbolic}")
    if not lines and inputs and all(own.output_shape == x for x in inputs):
        return ("the input's shape, unchanged",)
    return lines


def _notes_text(notes: Sequence[ShapeNote], symbolic: bool) -> str:
    """``height, width: n − k + 1`` (symbolic) or ``height, width: 32 − 3 + 1 = 30``; axes
    computed alike are named together, as the report's shape arithmetic does."""
    groups: list[tuple[list[str], str]] = []
    for note in notes:
        text = note.expr.render(symbolic=True) if symbolic else equation(note.expr)
        if groups and groups[-1][1] == text:
            groups[-1][0].append(note.label)
        else:
            groups.append(([note.label], text))
    return "; ".join(f"{', '.join(labels)}: {text}" if labels[0] else text for labels, text in groups)


def _worked_example(rule: Rule) -> tuple[str, tuple[Shape, ...], str, dict[str, Inference]]:
    """The first candidate example that binds and infers in both conventions. A rule that
    refuses them all with one message (Lambda) refuses every input; several different
    messages mean the tables here lack an example, which is a bug."""
    data_format = CHANNELS_FIRST if rule.framework == PYTORCH and rule.layout else CHANNELS_LAST
    problems: dict[str, str] = {}
    for text, shapes in _candidates(rule, data_format):
        call = f"{rule.name}({text})"
        try:
            return call, shapes, data_format, _infer_both(rule, call, shapes, data_format)
        except LearnableError as err:
            problems.setdefault(str(err), f"{call} on {shapes}")
    if len(problems) == 1:
        raise _NoExample(next(iter(problems)))
    raise AssertionError(f"no worked example fits {rule.framework} {rule.name}: {problems}")


def _candidates(rule: Rule, data_format: str):
    key = rule.name if rule.framework == KERAS else f"nn.{rule.name}"
    text, base = _FAMILY_EXAMPLES.get((rule.family, rule.framework), ("", (8, 8, 16)))
    shape = _shaped(rule, base, data_format)
    count = 0 if rule.is_source else max(rule.arity[0], 2 if rule.family == "merge" else 1)
    family_inputs = (shape,) * count
    if key in _TYPE_EXAMPLES:
        text, inputs = _TYPE_EXAMPLES[key]
        yield _fill(text, inputs or family_inputs, data_format), inputs or family_inputs
    yield _fill(text, family_inputs, data_format), family_inputs
    small = ", ".join(f"{a.name}={_SMALL.get(a.name, '{C}' if a.name in _CHANNEL_ARGS else 1)!r}"
                      for a in rule.args if a.default is REQUIRED)
    yield _fill(small.replace("'{C}'", "{C}"), family_inputs, data_format), family_inputs


def _shaped(rule: Rule, base: Shape, data_format: str) -> Shape:
    """The family's input with as many spatial axes as the type's name says, in its layout."""
    rank = re.search(r"([123])[Dd]($|[A-Z])", rule.name)
    if rank and len(base) == 3 and rule.family != "activation":
        base = (base[0],) * int(rank.group(1)) + (base[-1],)
    return (base[-1], *base[:-1]) if data_format == CHANNELS_FIRST and len(base) > 1 else base


def _fill(text: str, inputs: tuple[Shape, ...], data_format: str) -> str:
    """Put the input's channels where the arguments say ``{C}``."""
    if not inputs:
        return text
    first = data_format == CHANNELS_FIRST and len(inputs[0]) > 1
    return text.replace("{C}", str(inputs[0][0] if first else inputs[0][-1]))


def _infer_both(rule: Rule, call: str, shapes: tuple[Shape, ...], data_format: str) -> dict[str, Inference]:
    spec = parse_call(call, None, 1)
    args = {} if rule.any_args else bind(rule.args, spec.args, spec.kwargs, pack=rule.packs_positional)
    return {c: rule.infer(args, list(shapes), Context(data_format=data_format, convention=c)) for c in CONVENTIONS}
