"""LoRA fine-tuning: a report's network with low-rank adapters on chosen layers, counted
as PEFT counts it (``get_peft_model(model, LoraConfig(...)).get_nb_trainable_parameters()``).

Each adapted layer gets one row beside it, ``<layer>.lora``, holding PEFT's two factors
(peft/tuners/lora/layer.py, ``update_layer`` and the Embedding and ``_ConvNd`` layers):

  Linear     lora_A.weight r × in, lora_B.weight out × r            r×(in + out)
  Embedding  lora_embedding_A r × num, lora_embedding_B dim × r     r×(num + dim)
  Conv       lora_A.weight r × in × k…, lora_B.weight out × r/groups × 1…

Every other parameter becomes non-trainable (PEFT's ``_mark_only_adapters_as_trainable``),
except biases under ``bias="all"`` (every ``bias`` of the model) or ``"lora_only"`` (those
of the adapted layers), and the layers in ``modules_to_save``: PEFT keeps the frozen
original and trains a copy (``ModulesToSaveWrapper``), so each adds a trainable copy row.

Which layers are adapted follows PEFT's ``check_target_module_exists``
(peft/tuners/tuners_utils.py): ``target_modules`` as a string is a regex matched with
``re.fullmatch`` against each module's path; as a list, a path equal to an entry or ending
in ``.entry``. ``"all-linear"`` is every Linear but the output layer
(``_maybe_include_all_linear_layers``: ``model.get_output_embeddings()``, ``lm_head``).
``modules_to_save`` entries match paths that end with them (``utils/other.py``
``_set_trainable``: ``key.endswith(target_key)``), and no adapter goes inside them.
Paths are PyTorch's module paths; a config.json's rows (``layers/layer_1/self_attn/q_proj``)
are read as transformers names them (``model.layers.0.self_attn.q_proj``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from math import prod
from typing import Any

from .errors import SpecError
from .expr import Expr, equation, num, product, total
from .report import BlockRow, LayerRow, Report, WeightRow

ALL_LINEAR = "all-linear"  # peft/utils/constants.py INCLUDE_LINEAR_LAYERS_SHORTHAND
BIASES = ("none", "all", "lora_only")
LINEAR, EMBEDDING = ("Linear", "Dense"), ("Embedding",)
CONV = ("Conv1d", "Conv2d", "Conv3d", "Conv1D", "Conv2D", "Conv3D")
_CONFIG_ROW = re.compile(r"(\w+)/layer_(\d+)/(.+)")  # a config.json's decoder layer row (hf_config.py)


@dataclass(frozen=True)
class LoraConfig:
    """PEFT's ``LoraConfig`` fields that change what is counted, with its names and defaults."""

    r: int
    target_modules: tuple[str, ...] | str  # names or path suffixes; a str is one regex, or "all-linear"
    lora_alpha: float = 8  # only the scaling alpha/r: no parameter
    bias: str = "none"
    modules_to_save: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        targets = self.target_modules
        return {"r": self.r, "lora_alpha": self.lora_alpha,
                "target_modules": targets if isinstance(targets, str) else list(targets),
                "bias": self.bias, "modules_to_save": list(self.modules_to_save)}


def lora_config(value: Any) -> LoraConfig:
    """A :class:`LoraConfig` from one, from a mapping of PEFT's keywords (``{"r": 16,
    "target_modules": ["q_proj", "v_proj"]}``), or from PEFT's own ``LoraConfig``."""
    if isinstance(value, LoraConfig):
        return value
    fields = dict(value) if isinstance(value, Mapping) else {
        k: getattr(value, k) for k in ("r", "target_modules", "lora_alpha", "bias", "modules_to_save")
        if hasattr(value, k)}
    unknown = set(fields) - {"r", "target_modules", "lora_alpha", "bias", "modules_to_save"}
    if unknown:
        raise SpecError(f"lora: unknown key {min(unknown)!r}; the keys are r, target_modules, lora_alpha, "
                        "bias, modules_to_save")
    r = fields.get("r")
    if isinstance(r, bool) or not isinstance(r, int) or r < 1:
        raise SpecError(f"lora: r (the rank) must be a whole number ≥ 1, got {r!r}")
    targets = fields.get("target_modules")
    if isinstance(targets, str):
        targets = ALL_LINEAR if targets.lower() == ALL_LINEAR else targets
    elif isinstance(targets, (list, tuple, set, frozenset)) and targets and all(isinstance(t, str) for t in targets):
        targets = tuple(targets)
    else:
        raise SpecError("lora: target_modules must name the layers to adapt: names or path suffixes "
                        f"(['q_proj', 'v_proj']), one regex, or 'all-linear'; got {targets!r}")
    bias = fields.get("bias") or "none"
    if bias not in BIASES:
        raise SpecError(f"lora: bias must be one of {', '.join(BIASES)}, got {bias!r}")
    alpha = fields.get("lora_alpha")
    saved = tuple(fields.get("modules_to_save") or ())
    return LoraConfig(r, targets, 8 if alpha is None else alpha, bias, saved)


def module_paths(report: Report) -> list[str]:
    """Each row's PyTorch module path: its name, or for a config.json's rows the name
    transformers gives the module (``model.`` before all but the ``lm_head``)."""
    names = {row.name for row in report.layers if row.block is None}
    decoder = {"embed_tokens", "lm_head"} <= names
    return [_path(row.name, decoder) for row in report.layers]


def _path(name: str, decoder: bool) -> str:
    match = _CONFIG_ROW.fullmatch(name)
    path = f"{match[1]}.{int(match[2]) - 1}.{match[3].replace('/', '.')}" if match else name.replace("/", ".")
    return f"model.{path}" if decoder and path != "lm_head" else path


def _targeted(path: str, targets: tuple[str, ...] | str) -> bool:
    if isinstance(targets, str):
        return re.fullmatch(targets, path) is not None
    return path in targets or any(path.endswith(f".{t}") for t in targets)


def _output_layer(report: Report) -> str | None:
    """The output layer ``all-linear`` leaves out: ``lm_head``, else the last layer when it
    is a Linear (a classifier head)."""
    names = [row.name for row in report.layers]
    if "lm_head" in names:
        return "lm_head"
    last = report.layers[-1] if report.layers else None
    return last.name if last is not None and last.type in LINEAR else None


def _choose(report: Report, config: LoraConfig, paths: Sequence[str]) -> tuple[set[int], set[int]]:
    """The rows to adapt and the rows to save (train a copy of), by index."""
    saved = {i for i, path in enumerate(paths) if _saved(path, report.layers[i], config.modules_to_save, report)}
    if config.target_modules == ALL_LINEAR:
        head = _output_layer(report)
        chosen = {i for i, row in enumerate(report.layers) if row.type in LINEAR and row.name != head}
    else:
        chosen = {i for i, path in enumerate(paths) if _targeted(path, config.target_modules)}
    chosen -= saved
    for i in sorted(chosen):
        row = report.layers[i]
        if row.type not in LINEAR + EMBEDDING + CONV:
            raise SpecError(f"lora: '{paths[i]}' ({row.type}) matches target_modules, and LoRA adapts Linear, "
                            "Embedding and Conv layers (as PEFT does); name those layers, e.g. q_proj,v_proj")
    if not chosen:
        raise SpecError(f"lora: target_modules {_shown(config.target_modules)} match no layer; the Linear "
                        f"layers are named e.g. {', '.join(_examples(report, paths))}")
    return chosen, saved


def _saved(path: str, row: LayerRow, names: tuple[str, ...], report: Report) -> bool:
    """A row inside a module to save: its path, or its block's, ends with a name given."""
    if not names:
        return False
    block = row.block
    candidates = [path]
    while block is not None:
        candidates.append(_path(block, False))
        block = next((b.parent for b in report.blocks if b.name == block), None)
    return any(c.endswith(n) for c in candidates for n in names)


def _shown(targets: tuple[str, ...] | str) -> str:
    return repr(targets) if isinstance(targets, str) else ",".join(targets)


def _examples(report: Report, paths: Sequence[str]) -> list[str]:
    tails = [p.rsplit(".", 1)[-1] for p, row in zip(paths, report.layers) if row.type in LINEAR]
    return list(dict.fromkeys(tails))[:6] or ["(none: this network has no Linear layer)"]


def apply(report: Report, lora: Any) -> Report:
    """``report``'s network with LoRA adapters: the base frozen, the adapters trained."""
    config = lora_config(lora)
    paths = module_paths(report)
    chosen, saved = _choose(report, config, paths)
    rows: list[LayerRow] = []
    for i, row in enumerate(report.layers):
        rows.append(_frozen(row, config.bias == "all" or (config.bias == "lora_only" and i in chosen)))
        if i in chosen:
            rows.append(_adapter(row, config.r, report))
        if i in saved:
            rows.append(_copy(row))
    adapted = sum(row.params for row in rows if row.type == "LoRA")
    note = (f"LoRA r={config.r} (alpha {config.lora_alpha}) on {len(chosen):,} layers ({_shown(config.target_modules)}): "
            f"{adapted:,} adapter params; every other parameter frozen"
            + (f", but biases ({config.bias})" if config.bias != "none" else "")
            + (f"; a trainable copy of {', '.join(config.modules_to_save)}" if saved else ""))
    layers = tuple(rows)
    return replace(report, layers=layers, blocks=_block_totals(report.blocks, layers),
                   notes=(*report.notes, note), lora={**config.to_dict(), "adapted": len(chosen),
                                                      "adapter_params": adapted})


def _frozen(row: LayerRow, biases: bool) -> LayerRow:
    weights = tuple(replace(w, trainable=biases and not w.buffer and (w.name == "bias" or w.name.endswith(".bias")))
                    for w in row.weights)
    trainable = sum(w.size for w in weights if w.trainable)
    return replace(row, weights=weights, trainable=trainable, non_trainable=row.params - trainable)


def _copy(row: LayerRow) -> LayerRow:
    """PEFT's modules_to_save copy: the same tensors again, trained."""
    weights = tuple(replace(w, trainable=not w.buffer) for w in row.weights)
    return replace(row, name=f"{row.name}.modules_to_save", weights=weights, trainable=row.params, non_trainable=0,
                   buffers=0, buffers_formula="", macs=0, macs_formula="0", macs_by_kind=(), inputs=row.inputs,
                   note="modules_to_save: PEFT trains this copy and keeps the original frozen")


def _adapter(row: LayerRow, r: int, report: Report) -> LayerRow:
    a, b = _factors(row, r, report)
    params = total(product(*a), product(*b))
    if row.type in LINEAR or row.type in EMBEDDING:  # r×(in + out): the brief's form of the same sum
        params = product(num(r, "r"), total(a[1], b[0]))
    names = ("lora_embedding_A", "lora_embedding_B") if row.type in EMBEDDING else ("lora_A.weight", "lora_B.weight")
    weights = (WeightRow(names[0], tuple(d.value for d in a), prod(d.value for d in a), True),
               WeightRow(names[1], tuple(d.value for d in b), prod(d.value for d in b), True))
    macs = _macs(row, r, a, b)
    return LayerRow(
        name=f"{row.name}.lora", type="LoRA", output_shape=_middle(row, r),
        params=params.value, trainable=params.value, non_trainable=0, formula=equation(params),
        inputs=row.inputs, weights=weights, block=row.block,
        macs=None if macs is None else macs.value, macs_formula="" if macs is None else equation(macs),
        macs_kind=row.macs_kind if row.type in CONV else "fully_connected",
        macs_by_kind=() if macs is None else (("convolution" if row.type in CONV else "fully_connected", macs.value),),
        note=f"LoRA adapter of '{row.name}', rank r = {r}: lora_A and lora_B, trained; the layer's own weights frozen",
    )


def _middle(row: LayerRow, r: int) -> tuple[int | None, ...]:
    """The adapter's own output, x·A: r values where the layer gives its channels."""
    shape = row.output_shape
    if not shape:
        return ()
    return (r, *shape[1:]) if row.type in CONV and row.type[-1] == "d" else (*shape[:-1], r)


def _factors(row: LayerRow, r: int, report: Report) -> tuple[tuple[Expr, ...], tuple[Expr, ...]]:
    """The shapes of lora_A and lora_B, as PEFT makes them for this layer."""
    rank = num(r, "r")
    kernel = next((w for w in row.weights if not w.buffer and w.name != "bias"), None)
    if row.type in EMBEDDING:  # weight num_embeddings × embedding_dim (Keras: input_dim × output_dim)
        n, d = kernel.shape
        return (rank, num(n)), (num(d), rank)
    if row.type in LINEAR:
        n_in, n_out = _linear_sizes(row, kernel, report)
        return (rank, num(n_in)), (num(n_out), rank)
    return _conv_factors(row, rank, kernel, report)


def _linear_sizes(row: LayerRow, kernel: WeightRow | None, report: Report) -> tuple[int, int]:
    if kernel is not None:  # PyTorch out × in; Keras's kernel in × units
        return (kernel.shape[1], kernel.shape[0]) if row.type == "Linear" else kernel.shape
    # A tied head (lm_head sharing the embedding) has no tensor of its own: its sizes are
    # those of its input and output.
    source = _source(row, report)
    sizes = (source.output_shape[-1] if source and source.output_shape else None,
             row.output_shape[-1] if row.output_shape else None)
    if None in sizes:
        raise SpecError(f"lora: the sizes of '{row.name}' are not known (it shares another layer's weights)")
    return sizes


def _conv_factors(row: LayerRow, rank: Expr, kernel: WeightRow, report: Report):
    """lora_A: Conv(in, r, kernel) without groups; lora_B: 1×… Conv(r, out, groups=groups)."""
    torch_layout = row.type[-1] == "d"
    out = kernel.shape[0] if torch_layout else kernel.shape[-1]
    per_group = kernel.shape[1] if torch_layout else kernel.shape[-2]
    window = kernel.shape[2:] if torch_layout else kernel.shape[:-2]
    channels = _input_channels(row, report, torch_layout)
    groups = channels // per_group if channels else 1
    if rank.value % groups:
        raise SpecError(f"lora: '{row.name}' has groups={groups}, and PEFT needs a rank divisible by it")
    ones = (num(1),) * len(window)
    return (rank, num(per_group * groups), *map(num, window)), (num(out), num(rank.value // groups), *ones)


def _input_channels(row: LayerRow, report: Report, channels_first: bool) -> int | None:
    """The channels a conv reads (its weight holds in/groups only): its input's, or for a
    layer traced without wiring, the one before it's (as memory.py reads it)."""
    source = _source(row, report)
    shape = source.output_shape if source else ()
    if not shape or (shape[0] if channels_first else shape[-1]) is None:
        return None
    return shape[0] if channels_first else shape[-1]


def _source(row: LayerRow, report: Report) -> LayerRow | None:
    at = next(i for i, r in enumerate(report.layers) if r is row)
    if row.inputs:
        return next((r for r in report.layers if r.name == row.inputs[0]), None)
    return report.layers[at - 1] if at else None


def _macs(row: LayerRow, r: int, a: tuple[Expr, ...], b: tuple[Expr, ...]) -> Expr | None:
    """x·A then ·B at each output position: positions × (A's and B's products)."""
    shape = row.output_shape
    if not shape or any(d is None for d in shape):
        return None
    if row.type in EMBEDDING:  # a lookup in A, then r MACs a value
        return product(*(num(d) for d in shape[:-1]), num(r), b[0])
    positions = shape[1:] if row.type in CONV and row.type[-1] == "d" else shape[:-1]
    return product(*(num(d) for d in positions), total(product(*a), product(*b[:2])))


def _block_totals(blocks: tuple[BlockRow, ...], layers: tuple[LayerRow, ...]) -> tuple[BlockRow, ...]:
    """The blocks' subtotals again, with the adapters and the frozen base."""
    parent = {b.name: b.parent for b in blocks}
    sums = {b.name: [0, 0, 0, 0, b.macs, dict(b.macs_by_kind)] for b in blocks}
    for row in layers:
        block = row.block
        while block is not None:
            totals = sums[block]
            for i, value in enumerate((row.params, row.trainable, row.non_trainable, row.active_total)):
                totals[i] += value
            if row.type == "LoRA":  # the only rows whose MACs are new
                totals[4] = None if totals[4] is None or row.macs is None else totals[4] + row.macs
                for kind, macs in row.macs_by_kind:
                    totals[5][kind] = totals[5].get(kind, 0) + macs
            block = parent[block]
    return tuple(replace(b, params=s[0], trainable=s[1], non_trainable=s[2], active_params=s[3], macs=s[4],
                         macs_by_kind=tuple(s[5].items()))
                 for b, s in ((b, sums[b.name]) for b in blocks))
