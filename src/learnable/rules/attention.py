"""Attention: Keras MultiHeadAttention, Attention, AdditiveAttention; PyTorch nn.MultiheadAttention.

Keras MultiHeadAttention (CONVENTIONS.md §1) owns four EinsumDense projections; ``key_dim``
is per head, q, v, k are the last sizes of query, value and key (key defaults to value):
  query/kernel  q × H × key_dim      + query/bias  H × key_dim
  key/kernel    k × H × key_dim      + key/bias    H × key_dim
  gate/kernel   q × H × value_dim    + gate/bias   H × value_dim      (use_gate only)
  value/kernel  v × H × value_dim    + value/bias  H × value_dim
  attention_output/kernel  H × value_dim × o  + attention_output/bias  o
with o = output_shape or q. PyTorch's nn.MultiheadAttention(E, H) packs the three input
projections into in_proj_weight (3E × E) and in_proj_bias (3E), or keeps q/k/v_proj_weight
apart when kdim or vdim differs from E, plus out_proj (E × E + E): 4E² + 4E whatever H is,
since head_dim = E/H. add_bias_kv adds bias_k and bias_v (1 × 1 × E each).

Keras's Attention owns at most two scalars (scale with use_scale, concat_score_weight with
score_mode='concat'); AdditiveAttention owns scale (one per query feature) with use_scale.
Weight names follow each framework: Keras's path below the layer (``query/kernel``),
PyTorch's ``named_parameters()`` (``in_proj_weight``, ``out_proj.weight``).

MACs, the same in both conventions: each projection's kernel once per position of its
input; the scores ``H×L_q×L_k×key_dim`` and the weighted sum ``H×L_q×L_k×value_dim``
(softmax and scaling not counted), as torch's flop counter counts
scaled_dot_product_attention. By kind (_kinds.py), the projections are fully connected
work and the scores and weighted sum attention: papers that count a transformer's
multiply-adds count its linear layers, and some its attention matmuls too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import partial
from math import prod
from typing import Any

from ..errors import ArgumentError, RuleError
from ..expr import Expr, num, product, total
from ._args import Arg, anything, boolean, choice, fraction, integer, optional, positive
from ._base import GLOBAL, Context, Inference, Rule, Shape, Weight, known, shape_text
from ._kinds import ATTENTION, FULLY_CONNECTED, Split, split
from ._registry import PYTORCH, register

# ---- multiply-accumulates --------------------------------------------------------------


def attention_macs(projections: Sequence[tuple[int | None, Expr]], heads: int, queries: int | None,
                   keys: int | None, key_dim: int, value_dim: int) -> tuple[Expr | None, Split]:
    """Projections ((positions, kernel elements) each), then per head the scores and the
    weighted sum of values: ``H×L_q×L_k×d_k + H×L_q×L_k×d_v``; and how they split by kind:
    the projections are fully connected work (a Dense at every position, as papers count a
    transformer's linear layers), the scores and weighted sum attention."""
    if queries is None or keys is None or any(n is None for n, _ in projections):
        return None, ()
    h, lq, lk = num(heads, "H"), num(queries, "L_q"), num(keys, "L_k")
    linear = [product(num(n), kernel) for n, kernel in projections]
    scores = [product(h, lq, lk, num(key_dim)), product(h, lq, lk, num(value_dim))]
    parts = ((FULLY_CONNECTED, total(*linear)),) * bool(linear) + ((ATTENTION, total(*scores)),)
    return total(*linear, *scores), split(*parts)


def _count(dims: Sequence[int | None]) -> int | None:
    return None if any(d is None for d in dims) else prod(dims)


# ---- the two frameworks' tensors ------------------------------------------------------


def torch_mha_weights(
    prefix: str, embed: int, kdim: int, vdim: int, bias: bool, bias_kv: bool = False,
) -> tuple[Weight, ...]:
    """nn.MultiheadAttention's parameters in ``named_parameters()`` order, each name
    prefixed (``self_attn.``) as it is inside a transformer layer."""
    e = num(embed, "E")
    if kdim == embed and vdim == embed:
        weights = [Weight(prefix + "in_proj_weight", (product(3, e), e))]
    else:
        weights = [Weight(prefix + "q_proj_weight", (e, e)),
                   Weight(prefix + "k_proj_weight", (e, num(kdim, "kdim"))),
                   Weight(prefix + "v_proj_weight", (e, num(vdim, "vdim")))]
    if bias:
        weights.append(Weight(prefix + "in_proj_bias", (product(3, e),)))
    if bias_kv:
        weights += [Weight(prefix + name, (num(1), num(1), e)) for name in ("bias_k", "bias_v")]
    weights.append(Weight(prefix + "out_proj.weight", (e, e)))
    if bias:
        weights.append(Weight(prefix + "out_proj.bias", (e,)))
    return tuple(weights)


def _einsum_dense(name: str, kernel: tuple[Expr, ...], bias: tuple[Expr, ...], use_bias: bool) -> tuple[Weight, ...]:
    weights = (Weight(f"{name}/kernel", kernel),)
    return weights + (Weight(f"{name}/bias", bias),) if use_bias else weights


def keras_mha_weights(
    heads: int, key_dim: int, value_dim: int, sizes: tuple[int, int, int], out: tuple[int, ...],
    use_bias: bool, use_gate: bool = False,
) -> tuple[Weight, ...]:
    """Keras MultiHeadAttention's weights in ``layer.weights`` order; ``sizes`` = (q, v, k)."""
    q, v, k = (num(s, sym) for s, sym in zip(sizes, ("q", "v", "k")))
    h, kd, vd = num(heads, "H"), num(key_dim, "key_dim"), num(value_dim, "value_dim")
    o = tuple(num(d, "o") for d in out)
    gate = _einsum_dense("gate", (q, h, vd), (h, vd), use_bias) if use_gate else ()
    return (
        *_einsum_dense("query", (q, h, kd), (h, kd), use_bias),
        *_einsum_dense("key", (k, h, kd), (h, kd), use_bias),
        *gate,  # built after key and before value (MultiHeadAttention.build)
        *_einsum_dense("value", (v, h, vd), (h, vd), use_bias),
        *_einsum_dense("attention_output", (h, vd, *o), o, use_bias),
    )


# ---- Keras MultiHeadAttention ---------------------------------------------------------


def _output_shape(value: Any) -> tuple[int, ...] | None:
    """Keras takes an int, a list or a tuple, and treats an empty one as not given."""
    if value is None or value == () or value == []:
        return None
    dims = value if isinstance(value, (list, tuple)) else [value]
    return tuple(positive(d) for d in dims)


def _axes(value: Any) -> tuple[int, ...] | None:
    if value is None:
        return None
    dims = value if isinstance(value, (list, tuple)) else [value]
    if not dims:
        raise ArgumentError(None, "must name at least one axis")
    return tuple(integer(d) for d in dims)


def _attention_axes(axes: tuple[int, ...] | None, rank: int) -> tuple[int, ...]:
    """Keras's axes (batch = 0) as indices into an example; by default every axis between
    the batch and the features. Negative axes count on the projected (…, heads, dim) tensor,
    as MultiHeadAttention._build_attention does."""
    if axes is None:
        return tuple(range(rank - 1))
    found = tuple((a if a >= 0 else rank + 1 + a) - 1 for a in axes)
    if any(not 0 <= i < rank - 1 for i in found):
        raise RuleError(
            f"attention_axes={axes} must name axes between the batch and the last (feature) axis, "
            f"1 to {rank - 1} for inputs of rank {rank} (plus batch)"
        )
    return found


def _check_keras_mha(query: Shape, value: Shape, key: Shape, given_axes: tuple[int, ...] | None) -> tuple[int, ...]:
    """What Keras refuses when it builds the layer, and what fails when it runs; the
    attention axes as indices into an example."""
    if len(query) < 2:
        raise RuleError(f"needs a query with a sequence axis and a feature axis, got shape {shape_text(query)}")
    axes = _attention_axes(given_axes, len(query))
    if len(value) != len(query):
        # Keras builds this but fails on the first call, in its einsum.
        raise RuleError(f"query {shape_text(query)} and value {shape_text(value)} must have the same rank")
    if tuple(value[:-1]) != tuple(key[:-1]):
        raise RuleError(
            f"all dimensions of value {shape_text(value)} and key {shape_text(key)}, except the last one, must be equal"
        )
    for i in set(range(len(query) - 1)) - set(axes):
        if None not in (query[i], value[i]) and query[i] != value[i]:
            raise RuleError(
                f"query {shape_text(query)} and value {shape_text(value)} differ on axis {i + 1}, "
                "which is not an attention axis; only attention axes may differ"
            )
    return axes


def _torch_mismatch(a: Mapping[str, Any], query: Shape, q: int, out: tuple[int, ...], axes: tuple[int, ...]) -> str:
    """Why nn.MultiheadAttention cannot hold this layer's weights, or "" when it can."""
    heads, key_dim = a["num_heads"], a["key_dim"]
    value_dim = a["value_dim"] or key_dim
    if a["use_gate"]:
        return "use_gate has no counterpart in nn.MultiheadAttention"
    if len(query) != 2 or axes != (0,):
        return f"nn.MultiheadAttention attends along one axis of (length, features) inputs, not {shape_text(query)}"
    if heads * key_dim != q:
        return f"num_heads×key_dim = {heads}×{key_dim} = {heads * key_dim:,} is not the query size {q:,}"
    if heads * value_dim != q:
        return f"num_heads×value_dim = {heads}×{value_dim} = {heads * value_dim:,} is not the query size {q:,}"
    if out != (q,):
        return f"its output size {shape_text(out)} is not the query size {q:,}"
    return ""


def _torch_call(embed: int, heads: int, kdim: int, vdim: int, bias: bool) -> str:
    extra = f", kdim={kdim}, vdim={vdim}" if (kdim, vdim) != (embed, embed) else ""
    return f"nn.MultiheadAttention({embed}, {heads}{extra}{'' if bias else ', bias=False'})"


def _keras_mha(a: Mapping[str, Any], shapes: Sequence[Shape], ctx: Context) -> Inference:
    query, value = shapes[0], shapes[1] if len(shapes) > 1 else shapes[0]
    key = shapes[2] if len(shapes) > 2 else value
    axes = _check_keras_mha(query, value, key, a["attention_axes"])
    named = ((query, "query"), (value, "value"), (key, "key"))
    q, v, k = (known(x[-1], f"{name} size (last axis)") for x, name in named)
    out = a["output_shape"] or (q,)
    output_shape = (*query[:-1], *out)
    note = ""
    macs, parts = _keras_mha_macs(a, query, value, key, out, axes)  # the same in both conventions
    if ctx.pytorch:
        reason = _torch_mismatch(a, query, q, out, axes)
        if not reason:
            note = (f"listed as {_torch_call(q, a['num_heads'], k, v, a['use_bias'])} stores them, q, k and v "
                    "packed into in_proj; Keras keeps the same numbers per head (query/kernel q×H×key_dim, ...)")
            return Inference(output_shape, torch_mha_weights("", q, k, v, a["use_bias"]), note=note, macs=macs,
                             macs_split=parts)
        note = f"no exact PyTorch equivalent ({reason}); counted as Keras counts it"
    value_dim = a["value_dim"] or a["key_dim"]
    weights = keras_mha_weights(a["num_heads"], a["key_dim"], value_dim, (q, v, k), out, a["use_bias"], a["use_gate"])
    return Inference(output_shape, weights, note=note, macs=macs, macs_split=parts)


def _keras_mha_macs(a: Mapping[str, Any], query: Shape, value: Shape, key: Shape, out: tuple[int, ...],
                    axes: tuple[int, ...]) -> tuple[Expr | None, Split]:
    """The axes that are not attention axes act as a batch: the scores pair each query
    position with the key positions along the attention axes only."""
    heads, key_dim = a["num_heads"], a["key_dim"]
    value_dim = a["value_dim"] or key_dim
    n_q, n_k, n_v = (_count(x[:-1]) for x in (query, key, value))
    q, k, v = query[-1], key[-1], value[-1]
    hk, hv = num(heads * key_dim), num(heads * value_dim)
    projections = [(n_q, product(num(q), hk)), (n_k, product(num(k), hk)), (n_v, product(num(v), hv))]
    if a["use_gate"]:
        projections.append((n_q, product(num(q), hv)))
    projections.append((n_q, product(hv, num(prod(out)))))
    keys = _count([key[i] for i in axes])
    return attention_macs(projections, heads, n_q, keys, key_dim, value_dim)


_IGNORED = ("kernel_initializer", "bias_initializer", "kernel_regularizer", "bias_regularizer",
            "activity_regularizer", "kernel_constraint", "bias_constraint")

register(Rule(
    name="MultiHeadAttention", family="attention", field=GLOBAL, infer=_keras_mha, arity=(1, 3),
    args=(
        Arg("num_heads", positive), Arg("key_dim", positive), Arg("value_dim", optional(positive), None),
        Arg("dropout", fraction, 0.0), Arg("use_bias", boolean, True), Arg("output_shape", _output_shape, None),
        Arg("attention_axes", _axes, None), Arg("sliding_window", optional(positive), None),
        Arg("flash_attention", optional(boolean), None), *(Arg(name, anything, None) for name in _IGNORED),
        Arg("use_gate", boolean, False), Arg("seed", anything, None),
    ),
    doc="Keras MultiHeadAttention, inputs [query, value(, key)] (one input: self-attention): query, key, "
        "value and attention_output EinsumDense kernels + biases; key_dim is per head.",
))


# ---- PyTorch nn.MultiheadAttention ----------------------------------------------------


def _check_torch_input(x: Shape, size: int, what: str, arg: str) -> None:
    if len(x) != 2:
        raise RuleError(f"expects {what} of shape (length, {arg}), batch excluded, got {shape_text(x)}")
    if x[-1] is not None and x[-1] != size:
        raise RuleError(f"{arg}={size} but its {what} {shape_text(x)} has {x[-1]} features on its last axis")


def _torch_mha(a: Mapping[str, Any], shapes: Sequence[Shape], ctx: Context) -> Inference:
    embed, heads = a["embed_dim"], a["num_heads"]
    if embed % heads:
        raise RuleError(f"embed_dim={embed} must be divisible by num_heads={heads}")
    kdim, vdim = a["kdim"] or embed, a["vdim"] or embed
    query, key = shapes[0], shapes[1] if len(shapes) > 1 else shapes[0]
    value = shapes[2] if len(shapes) > 2 else key  # two inputs: attend to one memory (key = value)
    _check_torch_input(query, embed, "query", "embed_dim")
    _check_torch_input(key, kdim, "key", "kdim")
    _check_torch_input(value, vdim, "value", "vdim")
    if None not in (key[0], value[0]) and key[0] != value[0]:
        raise RuleError(f"key {shape_text(key)} and value {shape_text(value)} must have the same length")
    output_shape = (query[0], embed)
    foreign = [name for name in ("add_bias_kv", "add_zero_attn") if a[name]]
    torch_weights = torch_mha_weights("", embed, kdim, vdim, a["bias"], a["add_bias_kv"])
    macs, parts = torch_mha_macs(embed, heads, kdim, vdim, query[0], key[0], a["add_bias_kv"] + a["add_zero_attn"])
    if ctx.pytorch:
        return Inference(output_shape, torch_weights, macs=macs, macs_split=parts)
    if foreign:
        note = f"Keras's MultiHeadAttention has no {' or '.join(foreign)}; counted as PyTorch counts it"
        return Inference(output_shape, torch_weights, note=note, macs=macs, macs_split=parts)
    weights = keras_mha_weights(heads, embed // heads, embed // heads, (embed, vdim, kdim), (embed,), a["bias"])
    keras_call = f"MultiHeadAttention({heads}, key_dim={embed // heads}{'' if a['bias'] else ', use_bias=False'})"
    note = f"listed as Keras's {keras_call} stores them, per head; PyTorch packs q, k and v into in_proj"
    return Inference(output_shape, weights, note=note, macs=macs, macs_split=parts)


def torch_mha_macs(embed: int, heads: int, kdim: int, vdim: int, queries: int | None, keys: int | None,
                   extra_keys: int = 0) -> tuple[Expr | None, Split]:
    """nn.MultiheadAttention: q, k, v projections to E, H heads of E/H, out_proj E×E;
    add_bias_kv and add_zero_attn each append one key position."""
    e = num(embed, "E")
    projections = [(queries, product(e, e)), (keys, product(num(kdim), e)), (keys, product(num(vdim), e)),
                   (queries, product(e, e))]
    keys = None if keys is None else keys + extra_keys
    return attention_macs(projections, heads, queries, keys, embed // heads, embed // heads)


register(Rule(
    name="MultiheadAttention", family="attention", field=GLOBAL, infer=_torch_mha, framework=PYTORCH, arity=(1, 3),
    args=(
        Arg("embed_dim", positive), Arg("num_heads", positive), Arg("dropout", fraction, 0.0),
        Arg("bias", boolean, True), Arg("add_bias_kv", boolean, False), Arg("add_zero_attn", boolean, False),
        Arg("kdim", optional(positive), None), Arg("vdim", optional(positive), None),
        Arg("batch_first", boolean, False),
    ),
    doc="PyTorch nn.MultiheadAttention, inputs query, key, value (one input: self-attention; two: "
        "value = key): in_proj (3E × E + 3E) + out_proj (E × E + E) = 4E² + 4E for any num_heads.",
))


# ---- Keras Attention and AdditiveAttention --------------------------------------------


def _compatible(a: int | None, b: int | None, broadcast: bool) -> bool:
    return a is None or b is None or a == b or (broadcast and 1 in (a, b))


def _check_dot_inputs(query: Shape, value: Shape, key: Shape, broadcast: bool) -> None:
    """What fails when Keras runs the layer: scores need query and key features that match
    (or broadcast, for additive scores), and one value per key."""
    listed = f"query {shape_text(query)}, value {shape_text(value)}, key {shape_text(key)}"
    if not len(query) == len(value) == len(key):
        raise RuleError(f"{listed} must have the same rank")
    if not _compatible(query[-1], key[-1], broadcast):
        raise RuleError(f"the last sizes of query {shape_text(query)} and key {shape_text(key)} must be equal")
    if len(key) > 1 and not _compatible(key[-2], value[-2], False):
        raise RuleError(f"key {shape_text(key)} and value {shape_text(value)} must have the same length "
                        f"(axis {len(key) - 1})")
    for i in range(len(query) - 2):
        # Batch-like axes broadcast; one that widened the query would change the output shape.
        if not all(s[i] in (query[i], 1, None) or query[i] is None for s in (key, value)):
            raise RuleError(f"{listed} differ on axis {i + 1}")


def _dot_attention(additive: bool, a: Mapping[str, Any], shapes: Sequence[Shape], ctx: Context) -> Inference:
    query, value = shapes[0], shapes[1]
    key = shapes[2] if len(shapes) > 2 else value
    concat = not additive and a["score_mode"] == "concat"
    _check_dot_inputs(query, value, key, broadcast=additive or concat)
    weights = []
    if a["use_scale"]:
        dims = (num(known(query[-1], "query size (last axis)"), "dim"),) if additive else ()
        weights.append(Weight("scale", dims))
    if concat:
        weights.append(Weight("concat_score_weight", ()))
    note = "PyTorch has no such module; counted as Keras counts it" if ctx.pytorch else ""
    out = (*query[:-1], value[-1])
    # One head, no projections: a score per (query, key) pair over the features (a dot
    # product, or the sum of scale·tanh(q + k)), then the weighted sum of the values.
    macs, parts = attention_macs([], 1, _count(query[:-1]), key[-2] if len(key) > 1 else 1, query[-1] or 0,
                                 value[-1] or 0)
    if query[-1] is None or value[-1] is None:
        macs, parts = None, ()
    return Inference(out, tuple(weights), note=note, macs=macs, macs_split=parts)


register(Rule(
    name="Attention", family="attention", field=GLOBAL, infer=partial(_dot_attention, False), arity=(2, 3),
    args=(Arg("use_scale", boolean, False), Arg("score_mode", choice("dot", "concat"), "dot"),
          Arg("dropout", fraction, 0.0), Arg("seed", anything, None)),
    doc="Keras Attention, inputs [query, value(, key)]: a scalar scale with use_scale and a scalar "
        "concat_score_weight with score_mode='concat'; otherwise no weights.",
))
register(Rule(
    name="AdditiveAttention", family="attention", field=GLOBAL, infer=partial(_dot_attention, True), arity=(2, 3),
    args=(Arg("use_scale", boolean, True), Arg("dropout", fraction, 0.0)),
    doc="Keras AdditiveAttention, inputs [query, value(, key)]: scale, one per query feature, with use_scale.",
))
