"""PyTorch's transformer modules: TransformerEncoderLayer, TransformerDecoderLayer,
TransformerEncoder, TransformerDecoder and Transformer.

An encoder layer (CONVENTIONS.md §1) is self_attn (nn.MultiheadAttention, 4E² + 4E) +
linear1 (E × F + F) + linear2 (F × E + E) + norm1 + norm2 (LayerNorm, 2E each); a decoder
layer adds multihead_attn (attention to the memory, 4E² + 4E) and norm3. ``bias=False``
drops every bias, the LayerNorms' included. dropout, activation, norm_first and
batch_first change no count. TransformerEncoder/Decoder deep-copy their layer num_layers
times (``layers.0.``, ``layers.1.``, ...) and add their optional final norm; Transformer is
an encoder and a decoder, each ending in LayerNorm(E).

Keras 3 has no such layers: in the Keras convention they are counted as PyTorch counts them,
with a note that says so. Shapes are one example's (length, d_model), batch excluded,
whatever batch_first says.

MACs per layer: its attentions (attention.py), linear1 and linear2 once per position, and
one per value for each LayerNorm (norm.py); a stack is num_layers times one layer.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import partial
from typing import Any

from .._text import with_article
from ..errors import RuleError
from ..expr import Expr, num, product, total
from ._args import Arg, NestedLayer, anything, boolean, fraction, nested_layer, optional, positive
from ._base import GLOBAL, PYTORCH, Context, Inference, Rule, Shape, Weight, shape_text
from ._kinds import FULLY_CONNECTED, NORMALIZATION, Split, merge, own_split, scaled, split
from ._registry import register
from .attention import torch_mha_macs, torch_mha_weights

# An optional layer argument (a final norm, a custom encoder): None when not given.
OPTIONAL_LAYER = optional(nested_layer)


def _linear(prefix: str, inputs: int, outputs: int, bias: bool, symbols: tuple[str, str]) -> list[Weight]:
    i, o = num(inputs, symbols[0]), num(outputs, symbols[1])
    return [Weight(prefix + "weight", (o, i))] + ([Weight(prefix + "bias", (o,))] if bias else [])


def _layer_norm(prefix: str, embed: int, bias: bool) -> list[Weight]:
    e = num(embed, "E")
    return [Weight(prefix + "weight", (e,))] + ([Weight(prefix + "bias", (e,))] if bias else [])


def layer_weights(a: Mapping[str, Any], decoder: bool, prefix: str = "") -> tuple[Weight, ...]:
    """One encoder or decoder layer's parameters in ``named_parameters()`` order."""
    embed, ff, bias = a["d_model"], a["dim_feedforward"], a["bias"]
    attention = [*torch_mha_weights(prefix + "self_attn.", embed, embed, embed, bias)]
    if decoder:
        attention += torch_mha_weights(prefix + "multihead_attn.", embed, embed, embed, bias)
    norms = [w for i in range(1, 4 if decoder else 3) for w in _layer_norm(f"{prefix}norm{i}.", embed, bias)]
    return (
        *attention,
        *_linear(prefix + "linear1.", embed, ff, bias, ("E", "F")),
        *_linear(prefix + "linear2.", ff, embed, bias, ("F", "E")),
        *norms,
    )


def layer_macs(a: Mapping[str, Any], length: int | None, memory: int | None, decoder: bool) -> tuple[Expr | None, Split]:
    """One encoder (or decoder, attending to ``memory`` positions too) layer's MACs, and
    their split: the attentions' own, linear1 and linear2 fully connected, the LayerNorms
    normalization."""
    if length is None or (decoder and memory is None):
        return None, ()
    embed, ff, heads = a["d_model"], a["dim_feedforward"], a["nhead"]
    attentions = [torch_mha_macs(embed, heads, embed, embed, length, length)]
    if decoder:
        attentions.append(torch_mha_macs(embed, heads, embed, embed, length, memory))
    e, f, n = num(embed, "E"), num(ff, "F"), num(length, "L")
    linears, norms = [product(n, e, f), product(n, f, e)], product(num(3 if decoder else 2), n, e)
    parts = merge([*(p for _, p in attentions), split(*((FULLY_CONNECTED, x) for x in linears),
                                                      (NORMALIZATION, norms))])
    return total(*(m for m, _ in attentions), *linears, norms), parts


def _check_sequence(x: Shape, embed: int, what: str) -> None:
    if len(x) != 2:
        raise RuleError(f"expects {what} of shape (length, d_model), batch excluded, got {shape_text(x)}")
    if x[-1] is not None and x[-1] != embed:
        raise RuleError(f"d_model={embed} but its {what} {shape_text(x)} has {x[-1]} features on its last axis")


def _check_heads(embed: int, heads: int) -> None:
    if embed % heads:
        raise RuleError(f"d_model={embed} must be divisible by nhead={heads}")


def _foreign(name: str, ctx: Context) -> str:
    return "" if ctx.pytorch else f"Keras 3 has no {name}; counted as PyTorch's nn.{name} counts it"


# ---- one layer ------------------------------------------------------------------------


def _layer(decoder: bool, a: Mapping[str, Any], shapes: Sequence[Shape], ctx: Context) -> Inference:
    embed = a["d_model"]
    _check_heads(embed, a["nhead"])
    _check_sequence(shapes[0], embed, "tgt" if decoder else "src")
    if decoder:
        _check_sequence(shapes[1], embed, "memory")
    name = "TransformerDecoderLayer" if decoder else "TransformerEncoderLayer"
    macs, parts = layer_macs(a, shapes[0][0], shapes[1][0] if decoder else None, decoder)
    return Inference((shapes[0][0], embed), layer_weights(a, decoder), note=_foreign(name, ctx), macs=macs,
                     macs_split=parts)


def _layer_args() -> tuple[Arg, ...]:
    return (
        Arg("d_model", positive), Arg("nhead", positive), Arg("dim_feedforward", positive, 2048),
        Arg("dropout", fraction, 0.1), Arg("activation", anything, "relu"), Arg("layer_norm_eps", anything, 1e-5),
        Arg("batch_first", boolean, False), Arg("norm_first", boolean, False), Arg("bias", boolean, True),
    )


register(Rule(
    name="TransformerEncoderLayer", family="transformer", field=GLOBAL, infer=partial(_layer, False), framework=PYTORCH,
    args=_layer_args(),
    doc="PyTorch nn.TransformerEncoderLayer: self_attn (4E² + 4E) + linear1 (E×F + F) + linear2 (F×E + E) "
        "+ norm1, norm2 (2E each).",
))
register(Rule(
    name="TransformerDecoderLayer", family="transformer", field=GLOBAL, infer=partial(_layer, True), framework=PYTORCH,
    args=_layer_args(), arity=(2, 2),
    doc="PyTorch nn.TransformerDecoderLayer, inputs tgt and memory: self_attn and multihead_attn "
        "(4E² + 4E each) + linear1 + linear2 + norm1, norm2, norm3.",
))


# ---- stacks ---------------------------------------------------------------------------


def _layer_count(value: Any) -> int:
    """PyTorch builds a stack of no layers but fails on its first call (it reads layers[0])."""
    return positive(value)


def _prefixed(prefix: str, weights: Sequence[Weight]) -> tuple[Weight, ...]:
    return tuple(Weight(prefix + w.name, w.dims, w.trainable, w.buffer) for w in weights)


def _nested(layer: NestedLayer, shapes: Sequence[Shape], ctx: Context, arg: str, expected: str = "") -> Inference:
    """A layer given as argument ``arg``, inferred as PyTorch lists it (it is part of a torch
    module); ``expected`` is the one type the module can call with its arguments."""
    if expected and layer.rule.name != expected:
        raise RuleError(f"{arg} must be {with_article(expected)}, got {layer.rule.name}")
    low, high = layer.rule.arity
    if not low <= len(shapes) <= (high if high is not None else len(shapes)):
        raise RuleError(f"{arg} {layer.rule.name} cannot take the {len(shapes)} input(s) this module passes it")
    try:
        return layer.rule.infer(layer.args, shapes, Context(ctx.data_format, PYTORCH))
    except RuleError as err:
        raise RuleError(f"its {arg} {layer.rule.name} {err}") from None


# decoder? → (argument holding the layer, the layer's type, the stack's type)
_PARTS = {False: ("encoder_layer", "TransformerEncoderLayer", "TransformerEncoder"),
          True: ("decoder_layer", "TransformerDecoderLayer", "TransformerDecoder")}


def _stack(decoder: bool, a: Mapping[str, Any], shapes: Sequence[Shape], ctx: Context) -> Inference:
    """num_layers deep copies of the layer (``layers.0.`` ...), then ``norm.`` if given."""
    arg, layer_type, name = _PARTS[decoder]
    one = _nested(a[arg], shapes, ctx, arg, layer_type)
    weights = tuple(w for i in range(a["num_layers"]) for w in _prefixed(f"layers.{i}.", one.weights))
    layers = num(a["num_layers"], "num_layers")
    count = [product(layers, one.params)]
    macs = [None if one.macs is None else product(layers, one.macs)]
    parts = [scaled(layers, one.macs_split)]
    output_shape = one.output_shape
    norm = a["norm"]
    if norm is not None:
        normed = _nested(norm, [output_shape], ctx, "norm")
        weights += _prefixed("norm.", normed.weights)
        count.append(normed.params)
        macs.append(normed.macs)
        parts.append(own_split(norm.rule, normed))
        output_shape = normed.output_shape
    macs_total = _sum(macs)
    return Inference(output_shape, weights, note=_foreign(name, ctx), count=total(*count), macs=macs_total,
                     macs_split=merge(parts) if macs_total is not None else ())


def _sum(terms: Sequence[Expr | None]) -> Expr | None:
    return None if any(t is None for t in terms) else total(*terms)


register(Rule(
    name="TransformerEncoder", family="transformer", field=GLOBAL, infer=partial(_stack, False), framework=PYTORCH,
    args=(Arg("encoder_layer", nested_layer), Arg("num_layers", _layer_count), Arg("norm", OPTIONAL_LAYER, None),
          Arg("enable_nested_tensor", boolean, True), Arg("mask_check", boolean, True)),
    doc="PyTorch nn.TransformerEncoder: num_layers copies of its encoder_layer (layers.0. ...) + its "
        "optional final norm.",
))
register(Rule(
    name="TransformerDecoder", family="transformer", field=GLOBAL, infer=partial(_stack, True), framework=PYTORCH,
    args=(Arg("decoder_layer", nested_layer), Arg("num_layers", _layer_count), Arg("norm", OPTIONAL_LAYER, None)),
    arity=(2, 2),
    doc="PyTorch nn.TransformerDecoder, inputs tgt and memory: num_layers copies of its decoder_layer "
        "(layers.0. ...) + its optional final norm.",
))


# ---- the whole model ------------------------------------------------------------------


def _half(a: Mapping[str, Any], shapes: Sequence[Shape], ctx: Context, decoder: bool) -> Inference:
    """nn.Transformer's encoder or decoder: its custom one, else num_*_layers layers built
    from the model's arguments and a final LayerNorm(d_model)."""
    custom = a["custom_decoder" if decoder else "custom_encoder"]
    if custom is not None:
        return _nested(custom, shapes, ctx, "custom_decoder" if decoder else "custom_encoder", _PARTS[decoder][2])
    _check_heads(a["d_model"], a["nhead"])
    one = layer_weights(a, decoder)
    layers = a["num_decoder_layers" if decoder else "num_encoder_layers"]
    weights = tuple(w for i in range(layers) for w in _prefixed(f"layers.{i}.", one))
    norm = tuple(_layer_norm("norm.", a["d_model"], a["bias"]))
    count = total(product(num(layers, "layers"), total(*(w.expr for w in one))), *(w.expr for w in norm))
    length = shapes[0][0]
    one_macs, one_parts = layer_macs(a, length, shapes[1][0] if decoder else None, decoder)
    if one_macs is None:
        return Inference((length, a["d_model"]), weights + norm, count=count)
    final_norm = product(num(length), num(a["d_model"]))
    macs = total(product(num(layers), one_macs), final_norm)
    parts = merge([scaled(layers, one_parts), split((NORMALIZATION, final_norm))])
    return Inference((length, a["d_model"]), weights + norm, count=count, macs=macs, macs_split=parts)


def _transformer(a: Mapping[str, Any], shapes: Sequence[Shape], ctx: Context) -> Inference:
    src, tgt = shapes
    _check_sequence(src, a["d_model"], "src")
    _check_sequence(tgt, a["d_model"], "tgt")
    encoder = _half(a, [src], ctx, decoder=False)
    decoder = _half(a, [tgt, encoder.output_shape], ctx, decoder=True)
    weights = _prefixed("encoder.", encoder.weights) + _prefixed("decoder.", decoder.weights)
    macs = _sum([encoder.macs, decoder.macs])
    parts = () if macs is None else merge([encoder.macs_split, decoder.macs_split])
    return Inference(decoder.output_shape, weights, note=_foreign("Transformer", ctx),
                     count=total(encoder.params, decoder.params), macs=macs, macs_split=parts)


register(Rule(
    name="Transformer", family="transformer", field=GLOBAL, infer=_transformer, framework=PYTORCH, arity=(2, 2),
    args=(
        Arg("d_model", positive, 512), Arg("nhead", positive, 8), Arg("num_encoder_layers", _layer_count, 6),
        Arg("num_decoder_layers", _layer_count, 6), Arg("dim_feedforward", positive, 2048),
        Arg("dropout", fraction, 0.1), Arg("activation", anything, "relu"),
        Arg("custom_encoder", OPTIONAL_LAYER, None), Arg("custom_decoder", OPTIONAL_LAYER, None),
        Arg("layer_norm_eps", anything, 1e-5), Arg("batch_first", boolean, False),
        Arg("norm_first", boolean, False), Arg("bias", boolean, True),
    ),
    doc="PyTorch nn.Transformer, inputs src and tgt: an encoder (num_encoder_layers encoder layers + "
        "LayerNorm) and a decoder (num_decoder_layers decoder layers + LayerNorm).",
))
