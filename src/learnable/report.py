"""The report: plain data, every count an exact int. Renderers read it; nothing writes it
after the engine.

JSON keys (a contract, ``schema_version`` 1)::

    {name, convention, data_format, schema_version,
     layers: [{name, type, output_shape, params, trainable, non_trainable, formula,
               shape_formula, buffers, buffers_formula, note, block, inputs,
               weights: [{name, shape, size, trainable, buffer}],
               macs, macs_formula, receptive_field, receptive_formula, sees_whole_input,
               macs_kind, macs_by_kind, active_params, active_formula, active,
               kv_cache: {tensors, heads, dims, window, per_token} | null,
               stored: [{format, elements, block, block_bytes, bytes}]}],
     blocks: [{name, type, parent, output_shape, params, trainable, non_trainable, buffers, macs,
               macs_by_kind, active_params}],
     total_params, trainable_params, non_trainable_params, total_buffers,
     total_macs, macs_unknown, notes, macs_by_kind, paper_macs, active_params, lora}

``lora`` is null, or for a network with LoRA adapters (lora.py) ``{r, lora_alpha,
target_modules, bias, modules_to_save, adapted, adapter_params}``: each adapted layer is
then followed by its adapter's row (type "LoRA", ``<layer>.lora``), the base is frozen, and
``trainable_params`` are what PEFT's ``get_nb_trainable_parameters`` gives.

``active_params`` are the parameters one token uses: a layer's ``params``, except a layer
a token uses only k of n equal parts of (a mixture of experts' routed experts: ``active``
is "k of n", null otherwise), whose ``active_params`` are params × k/n, shown in
``active_formula``; its ``macs`` are then those of the active path (k/n of every expert on
every token), so ``total_macs`` is per token's active path. Blocks and the whole network sum
them; without such a layer ``active_params`` equals ``total_params``.

``macs`` are multiply-accumulates for one example (null: not known, and then the layer is
in ``macs_unknown`` and ``total_macs`` is partial). ``macs_kind`` is the kind of work they
are (rules/_kinds.py: convolution, fully_connected, attention, matmul, recurrent,
normalization, pooling, other), or "mixed" for a layer whose MACs are of several kinds (an
attention layer's projections are fully_connected, its scores attention);
``macs_by_kind`` maps kinds to MACs, for a layer (null when not known), a block, and the
whole network (every kind, 0 where none). ``paper_macs`` is convolution + fully_connected,
the multiply-adds papers count (He et al. 2016, Howard et al. 2017); attention and
everything else are left out. ``receptive_field`` is
``{size, jump, start}`` (lists per spatial axis; a fractional start is a string such as
"1/2"), "whole input", or null (not known, or no spatial axes). Keys are only ever added
within a schema version.

``layers`` are the real layers, in source order; a layer inside a block is named by its
path (``conv_block_1/conv2d``) and ``block`` names the block use it sits in. ``blocks``
has one row per block use, with subtotals over everything inside it.

``convention`` is "keras" (every weight is a parameter; non-trainable state such as
BatchNorm's moving statistics counts as non-trainable params) or "pytorch" (params are
what ``module.parameters()`` yields; running statistics are buffers, never params).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from math import prod
from typing import Any

from .receptive import Field
from .rules._kinds import KINDS, OTHER, PAPER_KINDS

SCHEMA_VERSION = 1


@dataclass(frozen=True, slots=True)
class WeightRow:
    """One tensor of a layer: a parameter, or (PyTorch convention) a buffer."""

    name: str
    shape: tuple[int, ...]
    size: int  # number of elements
    trainable: bool
    buffer: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "shape": list(self.shape), "size": self.size,
                "trainable": self.trainable, "buffer": self.buffer}


@dataclass(frozen=True, slots=True)
class KVCache:
    """What one attention layer keeps per token of context and per sequence, as it declares
    it (``kv_cache:`` on a layer of its spec): ``tensors`` (2, keys and values; 1, MLA's one
    latent) × ``heads`` × the sum of ``dims`` (a head's size; MLA's kv_lora_rank and
    qk_rope_head_dim), for the last ``window`` tokens at most (a sliding window; None: all).
    ``query_heads`` and ``hidden`` (the model width the layer reads and writes), where declared,
    give the per-layer activation estimate for training (parallel.py) its a and h."""

    tensors: int
    heads: int
    dims: tuple[int, ...]
    window: int | None = None
    query_heads: int | None = None
    hidden: int | None = None

    @property
    def per_token(self) -> int:
        return self.tensors * self.heads * sum(self.dims)

    def to_dict(self) -> dict[str, Any]:
        return {"tensors": self.tensors, "heads": self.heads, "dims": list(self.dims), "window": self.window,
                "per_token": self.per_token, "query_heads": self.query_heads, "hidden": self.hidden}


@dataclass(frozen=True, slots=True)
class Stored:
    """How a source stores one tensor of a layer: ``elements`` values in blocks of ``block``
    values of ``block_bytes`` bytes each (GGUF's Q4_K: 256 in 144; F16: 1 in 2; GPTQ 4-bit:
    8 in one int32's 4), as ``format`` (``Q4_K``, ``GPTQ 4-bit, group 128``, ``F16``); the
    quantization metadata too (scales, zeros, absmax: ``format`` ends in "metadata")."""

    format: str
    elements: int
    block: int
    block_bytes: int

    @property
    def bytes(self) -> int:
        return -(-self.elements // self.block) * self.block_bytes

    def to_dict(self) -> dict[str, Any]:
        return {"format": self.format, "elements": self.elements, "block": self.block,
                "block_bytes": self.block_bytes, "bytes": self.bytes}


# Not frozen, like graph.Node: a frozen dataclass sets each field through
# object.__setattr__, and with eighteen fields that made a row cost 2.9 µs against 0.4 µs, a
# quarter of a second on a 100,000-layer network. Nothing changes a row after the engine, so
# it hashes by its values as a frozen one did (a Report, frozen, hashes its rows).
@dataclass(slots=True, unsafe_hash=True)
class LayerRow:
    name: str
    type: str
    output_shape: tuple[int | None, ...]
    params: int
    trainable: int
    non_trainable: int
    formula: str  # e.g. "3×3×32×64 + 64 = 18,496", rendered from the expression that gave params
    shape_formula: str = ""  # e.g. "height, width: 28 − 3 + 1 = 26"; "" when nothing was computed
    inputs: tuple[str, ...] = ()
    weights: tuple[WeightRow, ...] = ()
    buffers: int = 0  # PyTorch buffers (running statistics); never part of params
    buffers_formula: str = ""
    note: str = ""  # what the convention counts differently here, and why; weight sharing
    block: str | None = None  # the innermost block use it belongs to
    macs: int | None = None  # multiply-accumulates for one example; None: not known (never zero)
    macs_formula: str = ""  # e.g. "(24×24×64)×(3×3×32) = 10,616,832"
    receptive_field: Field | str | None = None  # a Field, "whole input", or None (not known / not spatial)
    sees_whole_input: bool = False  # one output position's field covers the network's whole input
    macs_kind: str = OTHER  # the kind of work its MACs are (rules/_kinds.py), or "mixed"
    macs_by_kind: tuple[tuple[str, int], ...] = ()  # (kind, MACs), the kinds it does; () when not known
    # A token's share of it, when it uses only some of its parts (k of a mixture's n routed
    # experts): its params × k/n, and how. None: all of it, as for any other layer.
    active_params: int | None = None
    active_formula: str = ""  # e.g. "(1,409,286,144/8)×2 = 352,321,536"
    active: str = ""  # "2 of 8": the parts a token uses, of how many; "" for all of it
    kv_cache: KVCache | None = None  # what it keeps per token for later tokens (an attention layer)
    stored: tuple[Stored, ...] = ()  # its tensors as the source stores them; () when it does not say

    @property
    def active_total(self) -> int:
        """The parameters one token uses here: all of them, or its active part."""
        return self.params if self.active_params is None else self.active_params

    @property
    def paper_macs(self) -> int | None:
        """Its MACs as papers count them: the convolution and fully connected part."""
        return None if self.macs is None else sum(m for k, m in self.macs_by_kind if k in PAPER_KINDS)

    @property
    def receptive_formula(self) -> str:
        """How the field's size was computed: ``height, width: 3 + (3 − 1)×1 = 5``."""
        return self.receptive_field.arithmetic if isinstance(self.receptive_field, Field) else ""

    @property
    def activations(self) -> int | None:
        """Values in this layer's output for one example (None if a size is unknown)."""
        return None if any(d is None for d in self.output_shape) else prod(self.output_shape)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.type,
            "output_shape": list(self.output_shape),
            "params": self.params,
            "trainable": self.trainable,
            "non_trainable": self.non_trainable,
            "formula": self.formula,
            "shape_formula": self.shape_formula,
            "buffers": self.buffers,
            "buffers_formula": self.buffers_formula,
            "note": self.note,
            "block": self.block,
            "inputs": list(self.inputs),
            "weights": [w.to_dict() for w in self.weights],
            "macs": self.macs,
            "macs_formula": self.macs_formula,
            "receptive_field": field_dict(self.receptive_field),
            "receptive_formula": self.receptive_formula,
            "sees_whole_input": self.sees_whole_input,
            "macs_kind": self.macs_kind,
            "macs_by_kind": None if self.macs is None else dict(self.macs_by_kind),
            "active_params": self.active_total,
            "active_formula": self.active_formula,
            "active": self.active or None,
            "kv_cache": None if self.kv_cache is None else self.kv_cache.to_dict(),
            "stored": [s.to_dict() for s in self.stored],
        }


def field_dict(field: Field | str | None) -> dict[str, Any] | str | None:
    return field.to_dict() if isinstance(field, Field) else field


@dataclass(frozen=True, slots=True)
class BlockRow:
    """One use of a block, with the subtotals of every layer inside it (nested blocks too)."""

    name: str
    type: str  # the block's name in the spec
    parent: str | None
    output_shape: tuple[int | None, ...]
    params: int
    trainable: int
    non_trainable: int
    buffers: int
    macs: int | None = None  # None when a layer inside has unknown MACs
    macs_by_kind: tuple[tuple[str, int], ...] = ()  # of the layers inside whose MACs are known
    active_params: int = 0  # the parameters one token uses inside it (LayerRow.active_total, summed)

    @property
    def paper_macs(self) -> int | None:
        return None if self.macs is None else sum(m for k, m in self.macs_by_kind if k in PAPER_KINDS)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "type": self.type, "parent": self.parent,
                "output_shape": list(self.output_shape), "params": self.params, "trainable": self.trainable,
                "non_trainable": self.non_trainable, "buffers": self.buffers, "macs": self.macs,
                "macs_by_kind": dict(self.macs_by_kind), "active_params": self.active_params}


@dataclass(frozen=True)
class Report:
    """A network's layers, their output shapes, parameters and arithmetic."""

    layers: tuple[LayerRow, ...]
    name: str | None = None
    data_format: str = "channels_last"
    convention: str = "keras"
    blocks: tuple[BlockRow, ...] = ()
    notes: tuple[str, ...] = ()  # what could not be known of the whole network, and why
    # The LoRA set-up (lora.py) when the report is of a network with adapters: PEFT's
    # LoraConfig fields, the layers adapted and the adapters' parameters; None otherwise.
    lora: Mapping[str, Any] | None = field(default=None, hash=False)

    @property
    def total_params(self) -> int:
        return sum(layer.params for layer in self.layers)

    @property
    def trainable_params(self) -> int:
        return sum(layer.trainable for layer in self.layers)

    @property
    def non_trainable_params(self) -> int:
        return sum(layer.non_trainable for layer in self.layers)

    @property
    def total_buffers(self) -> int:
        return sum(layer.buffers for layer in self.layers)

    @property
    def active_params(self) -> int:
        """The parameters one token uses: every layer's, but only k of n parts of a layer
        marked ``active`` (a mixture's routed experts); :attr:`total_params` without one."""
        return sum(layer.active_total for layer in self.layers)

    @property
    def routed(self) -> tuple[str, ...]:
        """The distinct ``"k of n"`` of the layers a token uses only part of, as first met."""
        return tuple(dict.fromkeys(layer.active for layer in self.layers if layer.active))

    @property
    def total_macs(self) -> int:
        """The MACs of the layers whose cost is known; see :attr:`macs_unknown`."""
        return sum(layer.macs for layer in self.layers if layer.macs is not None)

    @property
    def macs_by_kind(self) -> dict[str, int]:
        """The known MACs by kind of work, every kind (0 where none), in rules/_kinds.KINDS order."""
        sums = dict.fromkeys(KINDS, 0)
        for layer in self.layers:
            for kind, macs in layer.macs_by_kind:
                sums[kind] += macs
        return sums

    @property
    def paper_macs(self) -> int:
        """Multiply-adds as papers count them: convolutions and fully connected layers only
        (no normalization, pooling, attention scores, ...); partial as :attr:`total_macs` is."""
        by_kind = self.macs_by_kind
        return sum(by_kind[kind] for kind in PAPER_KINDS)

    @property
    def macs_unknown(self) -> tuple[str, ...]:
        """The layers whose MACs are not known: when any, :attr:`total_macs` is partial."""
        return tuple(layer.name for layer in self.layers if layer.macs is None)

    def layer(self, name: str) -> LayerRow:
        for row in self.layers:
            if row.name == name:
                return row
        raise KeyError(name)

    def to_dict(self, *, layers: bool = True) -> dict[str, Any]:
        """The JSON structure; ``layers=False`` leaves the layers' list empty, for a writer
        that streams them one at a time."""
        return {
            "schema_version": SCHEMA_VERSION,
            "name": self.name,
            "convention": self.convention,
            "data_format": self.data_format,
            "layers": [layer.to_dict() for layer in self.layers] if layers else [],
            "blocks": [block.to_dict() for block in self.blocks],
            "total_params": self.total_params,
            "trainable_params": self.trainable_params,
            "non_trainable_params": self.non_trainable_params,
            "total_buffers": self.total_buffers,
            "total_macs": self.total_macs,
            "macs_unknown": list(self.macs_unknown),
            "notes": list(self.notes),
            "macs_by_kind": self.macs_by_kind,
            "paper_macs": self.paper_macs,
            "active_params": self.active_params,
            "lora": None if self.lora is None else dict(self.lora),
        }

    def __repr__(self) -> str:
        # Short on purpose: the default dataclass repr spells out every row and formula
        # (54,170 characters for a 4-layer network); the table is ``str(report)``.
        name = "" if self.name is None else f" {self.name!r}"
        rows = len(self.layers)
        return (f"<Report{name}: {self.total_params:,} params ({self.trainable_params:,} trainable), "
                f"{rows:,} layer{'' if rows == 1 else 's'}>")

    def __str__(self) -> str:
        from .render.plain import render_plain

        return render_plain(self)

    def _repr_markdown_(self) -> str:
        from .render.formats import render_markdown

        return render_markdown(self, explain=True)

    def _repr_html_(self) -> str:
        from .render.html import render_html_fragment

        return render_html_fragment(self, diagram=False)
