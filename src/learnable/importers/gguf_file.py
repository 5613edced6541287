"""GGUF files (llama.cpp): the header and tensor table, never the tensor data.

Parameters are logical elements, from each tensor's shape, whatever its quantization: a
Q4_K matrix of 4,096×4,096 is 16,777,216 parameters stored in 9,437,184 bytes (256 weights
per 144-byte block, 4.5 bits each), not the half of them its packed bytes would suggest.
Bytes come from gguf-py's GGML_QUANT_SIZES (block size, bytes per block).

Each module prefix (``blk.0.attn_q``) is one row, in a block per layer (``blk.0``). A row
whose role llama.cpp's names make clear goes through the rule a framework's layer would:
``token_embd`` (and learned position and token-type tables) is an Embedding, the attention
projections, ``output`` and every 2-D ``ffn_*`` a Linear applied to one token (so its
MACs are per token); their tensors must be exactly what the rule gives, or the row falls
back to its tensors (norms, 3-D expert stacks, anything else), counted as stored. The
row's note gives the quantization, bits per weight and bytes, and its ``stored`` the same as
data (type, elements, block, bytes per block), which the memory estimate reads for the
weights as stored; the report's notes the file's metadata and the totals on disk.
"""

from __future__ import annotations

import re
from math import prod
from pathlib import Path

from gguf.constants import GGML_QUANT_SIZES, Keys, LlamaFileType

from ..graph import BlockInfo, Graph, Node, make_node
from ..report import Stored
from ..rules import PYTORCH, lookup
from ._gguf_header import Array, Header, TensorInfo, read_header

SIZES = {int(kind): (kind.name, block, size) for kind, (block, size) in GGML_QUANT_SIZES.items()}
_BLOCK = re.compile(r"(.*?\bblk\.\d+)\.")  # blk.12.attn_q → blk.12 (enc.blk.3, v.blk.0 alike)
_EMBEDDINGS = {"token_embd", "position_embd", "token_types"}
_LINEAR = re.compile(r"attn_(q|k|v|qkv|output|q_a|q_b|kv_a_mqa|kv_b)|ffn_\w+|output")
# Stored in the file but not learned: (role → why); counted apart, as buffers.
_BUFFERS = {
    "rope_freqs": "RoPE frequency factors, computed from the config, not learned",
    "rope_factors_long": "RoPE scaling factors from the config, not learned",
    "rope_factors_short": "RoPE scaling factors from the config, not learned",
    "exp_probs_b": "the expert-selection bias (DeepSeek-V3's e_score_correction_bias), a buffer, not trained "
                   "by gradient",
}
# (label, key) of the metadata the report names; {arch} is general.architecture.
_METADATA = (
    ("name", Keys.General.NAME), ("context length", Keys.LLM.CONTEXT_LENGTH),
    ("embedding length", Keys.LLM.EMBEDDING_LENGTH), ("blocks", Keys.LLM.BLOCK_COUNT),
    ("feed-forward length", Keys.LLM.FEED_FORWARD_LENGTH), ("heads", Keys.Attention.HEAD_COUNT),
    ("key/value heads", Keys.Attention.HEAD_COUNT_KV), ("experts", Keys.LLM.EXPERT_COUNT),
    ("experts used per token", Keys.LLM.EXPERT_USED_COUNT), ("vocabulary", Keys.Tokenizer.LIST),
)


def file_graph(path: Path, **options) -> Graph:
    return header_graph(read_header(path, SIZES), path.name)


def header_graph(header: Header, name: str) -> Graph:
    """The graph of a header however it was read: from the file, or from the bytes the
    calculator's page sends (the header alone)."""
    groups: dict[str, list[TensorInfo]] = {}
    for tensor in header.tensors:
        groups.setdefault(tensor.name.rpartition(".")[0] or tensor.name, []).append(tensor)
    nodes, blocks = [], {}
    for module, members in groups.items():
        match = _BLOCK.match(module + ".")
        block = match.group(1) if match and match.group(1) != module else None
        if block is not None:
            blocks[block] = BlockInfo(block, "layer", None, module)
        nodes.append(_node(module, members, block))
    return Graph(tuple(nodes), name=name, convention=PYTORCH, blocks=tuple(blocks.values()),
                 notes=notes(header, groups))


def _node(module: str, members: list[TensorInfo], block: str | None) -> Node:
    role = module.rpartition(".")[2]
    note = quantization(members)
    stored = tuple(Stored(SIZES[t.type][0], prod(t.ne), SIZES[t.type][1], SIZES[t.type][2]) for t in members)
    shapes = {t.name.rpartition(".")[2]: t.ne for t in members}
    if role in _EMBEDDINGS and shapes.keys() == {"weight"} and len(shapes["weight"]) == 2 and all(shapes["weight"]):
        width, rows = shapes["weight"]  # ggml order: ne[0] is the vector, as torch's (rows, width) reversed
        return make_node(lookup("Embedding", PYTORCH), module, (), (rows, width), input_shapes=((),),
                         block=block, note=note, stored=stored)
    if _LINEAR.fullmatch(role) and _is_linear(shapes):
        inputs, outputs = shapes["weight"]
        return make_node(lookup("Linear", PYTORCH), module, (), (inputs, outputs, "bias" in shapes),
                         input_shapes=((inputs,),), block=block, note=note, stored=stored)
    buffer = _BUFFERS.get(role)
    tensors = [(name, tuple(reversed(ne)), buffer is None, buffer is not None) for name, ne in shapes.items()]
    return make_node(lookup("Tensors"), module, (), (), {"tensors": tensors, "output_shape": ()}, input_shapes=(),
                     block=block, type_name="tensors", note=f"{buffer}; {note}" if buffer else note, stored=stored)


def _is_linear(shapes: dict[str, tuple[int, ...]]) -> bool:
    """A weight (ne: inputs, outputs) and perhaps a bias (outputs), nothing else: what
    nn.Linear holds, so the rule's count is the tensors' own."""
    weight = shapes.get("weight", ())
    if len(weight) != 2 or 0 in weight or not shapes.keys() <= {"weight", "bias"}:
        return False
    return "bias" not in shapes or shapes["bias"] == (weight[1],)


def bits(kind: int) -> str:
    """Bits per weight of a ggml type: 8 × bytes per block / weights per block."""
    _, block, size = SIZES[kind]
    return f"{8 * size / block:g}"


def quantization(members: list[TensorInfo]) -> str:
    """``Q4_K: 4.5 bits/weight, 9,437,184 bytes``, per tensor when they differ."""
    kinds = {t.type for t in members}
    if len(kinds) == 1:
        kind = kinds.pop()
        return f"{SIZES[kind][0]}: {bits(kind)} bits/weight, {sum(t.nbytes for t in members):,} bytes"
    return "; ".join(f"{t.name.rpartition('.')[2]} {SIZES[t.type][0]}: {bits(t.type)} bits/weight, "
                     f"{t.nbytes:,} bytes" for t in members)


def notes(header: Header, groups: dict[str, list[TensorInfo]]) -> tuple[str, ...]:
    lines = [metadata_line(header.metadata), stored_line(header)]
    buffers = sorted({module.rpartition(".")[2] for module in groups} & _BUFFERS.keys())
    if buffers:
        lines.append(f"{', '.join(buffers)}: stored in the file but not learned, so counted as buffers, "
                     "not parameters")
    if "token_embd" in groups and "output" not in groups:
        lines.append("no 'output' tensor: where the architecture has a head, llama.cpp uses token_embd's table "
                     "(tied), counted once")
    lines.append("MACs are per token, for the rows counted by a rule (the attention scores, which grow "
                 "with the context, are not among them)")
    return tuple(lines)


def metadata_line(metadata: dict[str, object]) -> str:
    arch = metadata.get(Keys.General.ARCHITECTURE)
    parts = [f"architecture {arch}" if isinstance(arch, str) else "no general.architecture"]
    for label, key in _METADATA:
        value = metadata.get(key.format(arch=arch))
        if value is not None:
            parts.append(f"{label} {_shown(value)}")
    kind = metadata.get(Keys.General.FILE_TYPE)
    if isinstance(kind, int) and not isinstance(kind, bool):
        name = LlamaFileType(kind).name if kind in LlamaFileType._value2member_map_ else "unknown to gguf"
        parts.append(f"file type {name} ({kind})")
    return "GGUF metadata: " + ", ".join(parts)


def _shown(value: object) -> str:
    if isinstance(value, str):
        return f"'{value[:200]}'"
    if isinstance(value, Array):
        if value.values and len(set(value.values)) == 1:
            return f"{value.values[0]:,} (in each of {value.length:,} layers)"
        if value.values:
            return f"per layer {min(value.values):,}–{max(value.values):,}"
        return f"{value.length:,} entries"
    return f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else str(value)


def stored_line(header: Header) -> str:
    """Totals on disk, and by type: the logical count set against what it is stored in."""
    by_type: dict[int, list[int]] = {}
    for t in header.tensors:
        totals = by_type.setdefault(t.type, [0, 0, 0])
        totals[0] += 1
        totals[1] += t.nbytes * SIZES[t.type][1] // SIZES[t.type][2]  # elements: whole blocks
        totals[2] += t.nbytes
    data = sum(t.nbytes for t in header.tensors)
    elements = sum(v[1] for v in by_type.values())
    average = f" ({8 * data / elements:.3g} bits per weight on average)" if elements else ""
    kinds = "; ".join(f"{SIZES[k][0]} {n:,} tensor{'s' * (n != 1)}, {e:,} weights in {b:,} bytes"
                      for k, (n, e, b) in sorted(by_type.items(), key=lambda item: -item[1][2]))
    return (f"parameters are logical elements, from each tensor's shape, whatever its quantization; stored: "
            f"{data:,} bytes of tensor data{average} in a file of {header.file_size:,} bytes (GGUF v{header.version})"
            + (f": {kinds}" if kinds else ""))
