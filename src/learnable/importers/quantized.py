"""Quantized checkpoints: the model's parameters, not the packed storage they sit in.

A 4-bit layer stores two weights per byte, or eight per int32: counting its stored
elements gives half (or an eighth) of the model's parameters, the "4-bit model shows half
its parameters" bug (peft#733, NeMo Automodel#1290). Each module's tensors are read by
name, dtype and shape (and the config's ``quantization_config`` where a folder has one):

- bitsandbytes 4-bit: ``weight`` packed two per byte, shape ((n + 1) // 2, 1), with its
  QuantState beside it as ``weight.absmax``, ``weight.quant_map``, ``weight.nested_absmax``,
  ``weight.nested_quant_map`` and ``weight.quant_state.bitsandbytes__nf4|fp4`` (bitsandbytes
  functional.py ``QuantState.as_dict(packed=True)``; nn/modules.py ``Linear4bit`` saves it
  under ``prefix + "weight."``);
- bitsandbytes 8-bit: int8 ``weight`` (out, in), ``SCB`` (out,) and ``weight_format``
  (nn/modules.py ``Linear8bitLt._save_to_state_dict``);
- GPTQ: ``qweight`` int32 (in × bits / 32, out), ``qzeros`` (⌈in / group⌉, out × bits / 32),
  ``scales`` (⌈in / group⌉, out), ``g_idx`` (in,) (AutoGPTQ nn_modules/qlinear ``QuantLinear``);
- AWQ: ``qweight`` int32 (in, out × bits / 32), ``qzeros`` (in / group, out × bits / 32),
  ``scales`` (in / group, out) (AutoAWQ awq/modules/linear/gemm.py ``WQLinear_GEMM``);
- fp8: ``float8_e4m3fn`` ``weight`` (out, in) with ``weight_scale_inv`` (⌈out / b₀⌉, ⌈in / b₁⌉)
  (transformers integrations/finegrained_fp8.py ``FP8Linear``) or ``weight_scale`` per tensor
  or per row (compressed-tensors), perhaps an ``input_scale``.

A layer recognised is a Linear of out × in (+ bias) parameters; its row's note gives the
stored bytes of each tensor and the overhead, and its ``stored`` records the same for memory
(_stored.py: the packed weight by ``layout``, the metadata by dtype). Scales, zeros, absmax and g_idx are
quantization metadata, not parameters. A layer that looks quantized but whose shapes do
not fit the layout is counted as stored, and its row says why.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from math import ceil, gcd, prod
from typing import Any

from .._text import with_article
from ..graph import Graph

# (name, shape, dtype, bytes), as checkpoint.Tensor
Tensor = tuple[str, tuple[int, ...], str, int]

# torch's dtype names (a .pt checkpoint) → safetensors' codes
_CODES = {"float64": "F64", "float32": "F32", "float16": "F16", "bfloat16": "BF16", "float8_e4m3fn": "F8_E4M3",
          "float8_e5m2": "F8_E5M2", "int64": "I64", "int32": "I32", "int16": "I16", "int8": "I8", "uint8": "U8",
          "bool": "BOOL"}
_BNB4_STATE = ("absmax", "quant_map", "nested_absmax", "nested_quant_map", "quant_state.bitsandbytes__nf4",
               "quant_state.bitsandbytes__fp4")
_METHODS = {"gptq": "GPTQ", "awq": "AWQ", "bitsandbytes": "bitsandbytes", "fp8": "fp8"}


class Mismatch(Exception):
    """The tensors look quantized but do not fit the layout: counted as stored."""


@dataclass(frozen=True)
class QuantizedLinear:
    method: str  # GPTQ, AWQ, bitsandbytes, fp8
    scheme: str  # "GPTQ 4-bit, group 128"
    inputs: int | None  # None where the file does not say (bitsandbytes 4-bit without a bias)
    outputs: int | None
    elements: int  # the weight's logical elements, out × in
    weight: tuple[Tensor, ...]  # the stored weight (and bias): the parameters' storage
    metadata: tuple[Tensor, ...]  # scales, zeros, absmax, g_idx: not parameters
    layout: tuple[int, int] = (1, 1)  # the weight's values per block, bytes per block: 8 in one int32 at 4 bits

    @property
    def bias(self) -> Tensor | None:
        return next((t for t in self.weight if t[0].rpartition(".")[2] == "bias"), None)

    @property
    def params(self) -> int:
        return self.elements + (prod(self.bias[1]) if self.bias else 0)


def dtype_code(dtype: str) -> str:
    return _CODES.get(dtype, dtype)


def module_of(name: str) -> tuple[str, str]:
    """(module, local name): ``a.q_proj.weight.absmax`` → (``a.q_proj``, ``weight.absmax``)."""
    head, sep, tail = ("." + name).rpartition(".weight.")
    if sep and tail in _BNB4_STATE:
        return head[1:], "weight." + tail
    module, _, local = name.rpartition(".")
    return module, local


def group(tensors: list[Tensor]) -> dict[str, dict[str, Tensor]]:
    groups: dict[str, dict[str, Tensor]] = {}
    for tensor in tensors:
        module, local = module_of(tensor[0])
        groups.setdefault(module, {})[local] = tensor
    return groups


def method_of(config: Any) -> str | None:
    """The config's quant_method (``gptq``, ``awq``, ``bitsandbytes``, ``fp8``), if it names one."""
    method = config.get("quant_method") if isinstance(config, dict) else None
    return method.lower() if isinstance(method, str) else None


def recognise(members: dict[str, Tensor], config: Any = None) -> QuantizedLinear | str | None:
    """A quantized linear; a note why tensors that look quantized do not fit; or None."""
    names = members.keys()
    config = config if isinstance(config, dict) else {}
    try:
        if "qweight" in names:
            return _packed_int(members, config)
        if any(n.startswith("weight.") for n in names):
            return _bnb4(members, config)
        if "SCB" in names:
            return _bnb8(members)
        if "weight" in names and dtype_code(members["weight"][2]).startswith("F8_") and (
                "weight_scale" in names or "weight_scale_inv" in names):
            return _fp8(members, config)
    except Mismatch as err:
        return f"looks quantized ({', '.join(sorted(names))}) but {err}: counted as stored"
    return None


def _need(condition: bool, problem: str) -> None:
    if not condition:
        raise Mismatch(problem)


def _only(members: dict[str, Tensor], allowed: set[str]) -> None:
    extra = sorted(members.keys() - allowed)
    _need(not extra, f"also holds {', '.join(extra)}, which the layout has not")


def _shape(members: dict[str, Tensor], name: str, rank: int) -> tuple[int, ...]:
    tensor = members.get(name)
    _need(tensor is not None, f"has no {name}")
    _need(len(tensor[1]) == rank and all(tensor[1]), f"{name} is {_dims(tensor[1])}, not {with_article(rank)}-D tensor")
    return tensor[1]


def _whole(numerator: int, denominator: int, what: str) -> int:
    _need(denominator > 0 and numerator % denominator == 0, f"{what} is not whole ({numerator:,} / {denominator:,})")
    return numerator // denominator


def _bias(members: dict[str, Tensor], outputs: int | None) -> tuple[Tensor, ...]:
    bias = members.get("bias")
    if bias is None:
        return ()
    _need(len(bias[1]) == 1 and (outputs is None or bias[1][0] == outputs),
          f"bias is {_dims(bias[1])}, not ({outputs},)")
    return (bias,)


def _packed_int(members: dict[str, Tensor], config: dict) -> QuantizedLinear:
    """GPTQ (packed along the inputs) or AWQ (along the outputs): 32 / bits values per int32."""
    rows, cols = _shape(members, "qweight", 2)
    groups, outputs = _shape(members, "scales", 2)
    _need(dtype_code(members["qweight"][2]) == "I32", f"qweight is {members['qweight'][2]}, not int32")
    method = method_of(config) if method_of(config) in ("gptq", "awq") else ("gptq" if cols == outputs else "awq")
    bits = _bits(members, config, method, outputs)
    if method == "gptq":
        _need(cols == outputs, f"GPTQ's qweight has out = {outputs:,} columns, this one {cols:,}")
        inputs = _whole(rows * 32, bits, f"in = {rows:,}×32/{bits}")
    else:
        _need(cols * 32 == outputs * bits, f"AWQ's qweight has out×{bits}/32 = {outputs * bits / 32:g} columns, "
                                           f"this one {cols:,}")
        inputs = rows
    size = _group_size(config, inputs, groups)
    if "qzeros" in members:
        zeros = _shape(members, "qzeros", 2)
        _need(zeros[0] == groups and zeros[1] * 32 == outputs * bits,
              f"qzeros is {_dims(zeros)}, not ({groups:,}, {outputs:,}×{bits}/32)")
    if "g_idx" in members:
        _need(members["g_idx"][1] == (inputs,), f"g_idx is {_dims(members['g_idx'][1])}, not ({inputs:,},)")
    _only(members, {"qweight", "qzeros", "scales", "g_idx", "bias"})
    scheme = f"{_METHODS[method]} {bits}-bit, group {size}"
    values = 32 // gcd(32, bits)  # whole int32s: 8 values in 4 bytes at 4 bits, 32 in 12 at 3 bits
    return _linear(_METHODS[method], scheme, inputs, outputs, members, ("qweight",), layout=(values, values * bits // 8))


def _bits(members: dict[str, Tensor], config: dict, method: str, outputs: int) -> int:
    """The config's bits, else what the packing shows: qzeros has out × bits / 32 columns
    (both layouts), AWQ's qweight too."""
    bits = config.get("bits", config.get("w_bit"))
    if bits is None:
        packed = members.get("qzeros", members["qweight"] if method == "awq" else None)
        _need(packed is not None and len(packed[1]) == 2, "neither the config nor a qzeros tensor gives the bits")
        bits = _whole(packed[1][1] * 32, outputs, f"bits = {packed[1][1]:,}×32/{outputs:,}")
    _need(bits in (2, 3, 4, 8), f"packs {bits} bits per value; GPTQ and AWQ use 2, 3, 4 or 8")
    return bits


def _group_size(config: dict, inputs: int, groups: int) -> int:
    size = config.get("group_size", config.get("q_group_size"))
    if isinstance(size, int) and not isinstance(size, bool):
        size = inputs if size == -1 else size  # -1: one group over all the inputs
        _need(size > 0 and groups == ceil(inputs / size),
              f"scales has {groups:,} rows, not ⌈{inputs:,}/{size}⌉ = {ceil(inputs / size):,} groups")
        return size
    return _whole(inputs, groups, f"the group size {inputs:,}/{groups:,}")


def _bnb8(members: dict[str, Tensor]) -> QuantizedLinear:
    outputs, inputs = _shape(members, "weight", 2)
    _need(dtype_code(members["weight"][2]) == "I8", f"weight is {members['weight'][2]}, not int8")
    _need(members["SCB"][1] == (outputs,), f"SCB is {_dims(members['SCB'][1])}, not ({outputs:,},)")
    _only(members, {"weight", "SCB", "weight_format", "bias"})
    return _linear("bitsandbytes", "bitsandbytes 8-bit (LLM.int8)", inputs, outputs, members, ("weight",))


def _bnb4(members: dict[str, Tensor], config: dict) -> QuantizedLinear:
    """Two 4-bit values per byte, whatever the storage dtype (quant_storage): n = 2 × bytes
    (one fewer when n is odd). out × in is in the quant state's JSON, which is tensor data:
    the bias gives out when there is one; a folder's config gives the rest."""
    _shape(members, "weight", 2)
    for name in ("weight.absmax", "weight.quant_map"):
        _need(name in members, f"has no {name}")
    _only(members, {"weight", "bias", "weight_format", *("weight." + s for s in _BNB4_STATE)})
    kind = next((n.rpartition("__")[2] for n in members if n.startswith("weight.quant_state.")),
                config.get("bnb_4bit_quant_type", "4-bit"))
    elements = 2 * members["weight"][3]
    bias = members.get("bias")
    outputs = bias[1][0] if bias is not None and len(bias[1]) == 1 and bias[1][0] else None
    inputs = None
    if outputs is not None:
        if elements % outputs and (elements - 1) % outputs == 0:
            elements -= 1  # n odd: (n + 1) // 2 bytes
        inputs = _whole(elements, outputs, f"in = {elements:,}/{outputs:,}")
    blocks = prod(members["weight.absmax"][1])
    nested = ", double-quantized absmax" if "weight.nested_absmax" in members else ""
    size = f", blocks of {elements // blocks}" if blocks and elements % blocks == 0 else ""
    return _linear("bitsandbytes", f"bitsandbytes 4-bit {kind}{size}{nested}", inputs, outputs, members,
                   ("weight",), elements, layout=(2, 1))


def _fp8(members: dict[str, Tensor], config: dict) -> QuantizedLinear:
    outputs, inputs = _shape(members, "weight", 2)
    scheme = f"fp8 {members['weight'][2]}"
    if "weight_scale_inv" in members:
        rows, cols = _shape(members, "weight_scale_inv", 2)
        block = config.get("weight_block_size")
        if isinstance(block, list) and len(block) == 2 and all(isinstance(b, int) and b > 0 for b in block):
            _need((rows, cols) == (ceil(outputs / block[0]), ceil(inputs / block[1])),
                  f"weight_scale_inv is {_dims((rows, cols))}, not (⌈{outputs:,}/{block[0]}⌉, ⌈{inputs:,}/{block[1]}⌉)")
            scheme += f", blocks of {block[0]}×{block[1]}"
        else:  # ⌈300/b⌉ = 3 for any b from 100 to 149: the shape alone does not say which
            scheme += (f", one scale per block of {with_article(format(rows, ','))}×{cols:,} grid "
                       f"(weight_block_size not given)")
    else:
        scale = members["weight_scale"][1]
        _need(prod(scale) in (1, outputs), f"weight_scale is {_dims(scale)}, neither one scale nor one per row")
        scheme += ", one scale per " + ("tensor" if prod(scale) == 1 else "row")
    _only(members, {"weight", "weight_scale", "weight_scale_inv", "input_scale", "bias"})
    return _linear("fp8", scheme, inputs, outputs, members, ("weight",))


def _linear(method: str, scheme: str, inputs: int | None, outputs: int | None, members: dict[str, Tensor],
            stored: tuple[str, ...], elements: int | None = None, layout: tuple[int, int] = (1, 1)
            ) -> QuantizedLinear:
    bias = _bias(members, outputs)
    weight = tuple(members[n] for n in stored) + bias
    metadata = tuple(t for n, t in members.items() if n not in stored and n != "bias")
    return QuantizedLinear(method, scheme, inputs, outputs, elements if elements is not None else inputs * outputs,
                           weight, metadata, layout)


def describe(q: QuantizedLinear) -> str:
    """``GPTQ 4-bit, group 128: 4,096×4,096 = 16,777,216 params; stored qweight 512×4,096 I32
    = 8,388,608 bytes (4 bits/weight); quantization metadata, not parameters: ...``"""
    weight, *bias = q.weight
    shape = (f"{q.outputs:,}×{q.inputs:,} = {q.elements:,} params" if q.inputs else
             f"2×{weight[3]:,} = {q.elements:,} params (two per byte; out × in is in the quant state's data, "
             "which is not read)")
    bits = 8 * weight[3] / q.elements if q.elements else 0
    text = (f"{q.scheme}: {shape}; stored {_stored(weight)} ({bits:.3g} bits/weight)"
            + "".join(f" + {_stored(b)}" for b in bias))
    if q.metadata:
        overhead = sum(t[3] for t in q.metadata)
        total = f" = {overhead:,} bytes" if len(q.metadata) > 1 else ""
        text += (f"; quantization metadata, not parameters: {' + '.join(_stored(t) for t in q.metadata)}"
                 f"{total} ({8 * overhead / max(q.elements, 1):.3g} bits/weight)")
    return text


def _stored(tensor: Tensor) -> str:
    name = tensor[0].rpartition(".")[2] if ".weight." not in "." + tensor[0] else module_of(tensor[0])[1]
    return f"{name} {_dims(tensor[1])} {tensor[2]} = {tensor[3]:,} bytes"


def _dims(shape: tuple[int, ...]) -> str:
    return "×".join(f"{d:,}" for d in shape) if shape else "scalar"


def summary(found: list[QuantizedLinear]) -> str:
    """One line for the report: how many layers, their logical count, their bytes."""
    schemes = sorted({q.scheme for q in found})
    params, stored = sum(q.params for q in found), sum(sum(t[3] for t in q.weight) for q in found)
    overhead = sum(sum(t[3] for t in q.metadata) for q in found)
    return (f"quantized ({'; '.join(schemes)}): {len(found):,} linear layer{'s hold' if len(found) != 1 else ' holds'} "
            f"{params:,} parameters (out × in + bias, the model's count, not the packed elements), stored in "
            f"{stored:,} bytes, with {overhead:,} bytes of quantization metadata (scales, zeros, absmax, g_idx), "
            "which are not parameters")


def logical_count(groups: dict[str, dict[str, Tensor]], config: Any = None) -> tuple[int, dict[str, QuantizedLinear]]:
    """Every tensor's elements, a quantized linear's as out × in + bias (its metadata none)."""
    total, found = 0, {}
    for module, members in groups.items():
        q = recognise(members, config)
        if isinstance(q, QuantizedLinear):
            found[module] = q
            total += q.params
        else:
            total += sum(prod(t[1]) for t in members.values())
    return total, found


# model.layers.0.self_attn.q_proj (stored) and layers/layer_1/self_attn/q_proj (a config's row)
_STORED = re.compile(r"(?:.*\.)?(\w+)\.(\d+)\.(.+)")
_CONFIG_ROW = re.compile(r"(\w+)/layer_(\d+)/(.+)")


def annotate(graph: Graph, found: dict[str, QuantizedLinear]) -> Graph:
    """The config's Linear rows that quantized layers stand for, each with its storage note."""
    by_key = {}
    for module, q in found.items():
        match = _STORED.fullmatch(module)
        by_key[(match[1], int(match[2]), match[3]) if match else module] = q
    nodes = []
    for node in graph.nodes:
        match = _CONFIG_ROW.fullmatch(node.name)
        q = by_key.get((match[1], int(match[2]) - 1, match[3].replace("/", ".")) if match else node.name)
        if q and node.rule.name == "Linear" and node.args.get("out_features") == (q.outputs or node.args["out_features"]):
            node = replace(node, note=f"{node.note}; {describe(q)}" if node.note else describe(q))
        nodes.append(node)
    return replace(graph, nodes=tuple(nodes))
