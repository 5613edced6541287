"""The columns and totals of every tabular rendering (terminal table, Markdown), defined once."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .._text import human, output_shape_text
from ..errors import one_line
from ..receptive import WHOLE, Field
from ..report import LayerRow, Report
from ..rules._kinds import PAPER_KINDS, label

if TYPE_CHECKING:  # a count without --memory never imports memory.py
    from ..compute import Compute
    from ..fit import FitReport
    from ..memory import MemoryEstimate

CONVENTION_TEXT = {
    "keras": "Keras (every weight counts; non-trainable state such as moving statistics is non-trainable params)",
    "pytorch": "PyTorch (params are module.parameters(); running statistics are buffers, apart)",
}


@dataclass(frozen=True, slots=True)
class Column:
    header: str
    cell: Callable[[Any], str]  # of a LayerRow or a DisplayRow
    numeric: bool = False  # right-aligned
    wraps: bool = False  # long text that may fold on a narrow terminal


# Names, types and notes come from the spec (or a model): control characters are shown
# escaped, so a name cannot drive the terminal (ESC sequences) or break a row.
LAYER = Column("Layer", lambda r: one_line(r.name))
TYPE = Column("Type", lambda r: one_line(r.type))
SHAPE = Column("Output shape", lambda r: output_shape_text(r.output_shape))
PARAMS = Column("Params", lambda r: f"{r.params:,}", numeric=True)
BUFFERS = Column("Buffers", lambda r: f"{r.buffers:,}", numeric=True)
# A layer without weights has nothing to explain about its count.
PARAMS_ARITHMETIC = Column("Params arithmetic", lambda r: r.formula if r.params else "", wraps=True)
SHAPE_ARITHMETIC = Column("Shape arithmetic", lambda r: r.shape_formula, wraps=True)
BUFFERS_ARITHMETIC = Column("Buffers arithmetic", lambda r: r.buffers_formula, wraps=True)
NOTE = Column("Note", lambda r: one_line(r.note), wraps=True)
MACS = Column("MACs", lambda r: "unknown" if r.macs is None else f"{r.macs:,}", numeric=True)
MACS_ARITHMETIC = Column("MACs arithmetic", lambda r: r.macs_formula if r.macs else "", wraps=True)
# --paper-macs: convolutions and fully connected layers only; a layer of another kind is "–".
PAPER_MACS = Column("MACs (conv + fc)", lambda r: _paper_cell(r), numeric=True)
PAPER_ARITHMETIC = Column("MACs arithmetic", lambda r: _paper_formula(r), wraps=True)
RECEPTIVE_FIELD = Column("Receptive field", lambda r: r.receptive_field)
RECEPTIVE_ARITHMETIC = Column("Receptive field arithmetic", lambda r: r.receptive_formula, wraps=True)


@dataclass(frozen=True, slots=True)
class Show:
    """What a rendering adds to parameters and shapes: MACs (FLOPs at ``flops_per_mac``),
    receptive fields, and a memory estimate."""

    macs: bool = False
    flops_per_mac: int = 2
    paper_macs: bool = False  # MACs as papers count them: convolutions and fully connected layers only
    receptive_field: bool = False
    memory: MemoryEstimate | None = None
    compute: Compute | None = None  # MACs per token at a context, training FLOPs and time (compute.py)
    fit: FitReport | None = None  # the largest batch and context that fit a GPU (fit.py)


PARAMS_ONLY = Show()


def columns(report: Report, explain: bool, show: Show = PARAMS_ONLY) -> tuple[Column, ...]:
    """The basic columns, a Buffers column when there are any, those ``show`` asks for,
    and with ``explain`` the arithmetic (and the conventions' notes, when a layer has one)."""
    buffers = report.total_buffers > 0
    macs = PAPER_MACS if show.paper_macs else MACS
    chosen = [LAYER, TYPE, SHAPE, PARAMS] + [BUFFERS] * buffers + [macs] * show.macs
    chosen += [RECEPTIVE_FIELD] * show.receptive_field
    if show.memory is not None:
        chosen.append(Column(f"Activations (batch {show.memory.batch:,})", lambda r: r.activation_text, numeric=True))
    if explain:
        chosen += [PARAMS_ARITHMETIC, SHAPE_ARITHMETIC] + [BUFFERS_ARITHMETIC] * buffers
        chosen += [PAPER_ARITHMETIC if show.paper_macs else MACS_ARITHMETIC] * show.macs
        chosen += [RECEPTIVE_ARITHMETIC] * show.receptive_field
        chosen += [NOTE] * any(row.note for row in report.layers)
    return tuple(chosen)


def totals(report: Report, show: Show = PARAMS_ONLY) -> list[str]:
    lines = [
        f"Total params: {report.total_params:,}",
        f"Trainable params: {report.trainable_params:,}",
        f"Non-trainable params: {report.non_trainable_params:,}",
    ]
    if report.total_buffers:
        lines.append(f"Buffers (not params): {report.total_buffers:,}")
    if report.routed:
        lines.append(f"Active params per token: {report.active_params:,} "
                     f"({', '.join(report.routed)} routed experts)")
    if show.macs:
        lines += (paper_lines if show.paper_macs else compute_lines)(report, show.flops_per_mac)
    if show.memory is not None:
        lines += memory_lines(show.memory)
    if show.compute is not None or show.fit is not None:
        from ._cost_lines import cost_lines, fit_lines

        lines += cost_lines(show.compute) if show.compute is not None else []
        lines += fit_lines(show.fit) if show.fit is not None else []
    lines.append(f"Convention: {CONVENTION_TEXT[report.convention]}")
    lines += [f"Note: {note}" for note in report.notes]
    return lines


def compute_lines(report: Report, flops_per_mac: int) -> list[str]:
    """MACs and FLOPs for one example, and the MACs by kind; a total with unknown layers
    says it is partial."""
    partial = _partial(report)
    kinds = (f"MACs by kind: {_kinds_text(report.macs_by_kind, ())} (paper-style, convolutions + fully connected: "
             f"{report.paper_macs:,})")
    return [f"Total MACs: {report.total_macs:,} per example{partial}", kinds,
            _flops_line("Total FLOPs", report.total_macs, flops_per_mac, partial)]


def paper_lines(report: Report, flops_per_mac: int) -> list[str]:
    """--paper-macs: the multiply-adds papers count, what was left out, and the FLOPs of those."""
    partial, by_kind = _partial(report), report.macs_by_kind
    left_out = report.total_macs - report.paper_macs
    paper = (f"Paper-style MACs: {report.paper_macs:,} per example (multiply-adds of convolutions and fully "
             f"connected layers only, as He et al. 2016 and Howard et al. 2017 count them){partial}")
    lines = [paper,
             f"Left out: {left_out:,} MACs ({_kinds_text(by_kind, PAPER_KINDS)}) of {report.total_macs:,} in all"
             if left_out else "Left out: nothing (every MAC is a convolution's or a fully connected layer's)"]
    attention = by_kind["attention"] + by_kind["matmul"]
    if attention:
        lines.append(f"Of those, {attention:,} are attention scores and weighted sums (attention, matmul), which "
                     "papers on transformers often count too: add them for their figure")
    return [*lines, _flops_line("Paper-style FLOPs", report.paper_macs, flops_per_mac, partial)]


def _partial(report: Report) -> str:
    if not report.macs_unknown:
        return ""
    names = ", ".join(report.macs_unknown[:5]) + (", ..." if len(report.macs_unknown) > 5 else "")
    return f" (partial: unknown for {len(report.macs_unknown):,} layer(s): {names})"


def _flops_line(what: str, macs: int, flops_per_mac: int, partial: str) -> str:
    convention = "2 per MAC, as torch.utils.flop_counter counts" if flops_per_mac == 2 else \
        "1 per MAC, as fvcore and most papers count"
    return f"{what}: {macs * flops_per_mac:,} per example ({convention}){partial and ' (partial)'}"


def _kinds_text(by_kind: dict[str, int], leave: tuple[str, ...]) -> str:
    """``convolution 3,855,925,248, normalization 10,587,136``: the kinds that did any work."""
    shown = [f"{label(kind)} {macs:,}" for kind, macs in by_kind.items() if macs and kind not in leave]
    return ", ".join(shown) or "none"


def _paper_cell(row: DisplayRow) -> str:
    if row.macs is None:
        return "unknown"
    if row.layer is not None and not any(kind in PAPER_KINDS for kind, _ in row.layer.macs_by_kind):
        return "–"  # a layer of a kind papers leave out
    return f"{row.paper_macs:,}"


def _paper_formula(row: DisplayRow) -> str:
    """A layer's arithmetic when papers count all of it; for one split by kind (attention:
    projections and scores), the part they count."""
    layer = row.layer
    if layer is None or not row.paper_macs:
        return ""
    if row.paper_macs == layer.macs:
        return layer.macs_formula
    counted = ", ".join(label(kind) for kind, macs in layer.macs_by_kind if kind in PAPER_KINDS and macs)
    return f"{layer.macs_formula}; counted: {row.paper_macs:,} ({counted})"


def memory_lines(memory: MemoryEstimate) -> list[str]:
    """Each estimate's total, then its terms with their arithmetic, in bytes."""
    what = f"batch {memory.batch:,}, {memory.dtype}"
    lines = [f"Inference memory: {human(memory.inference_bytes)} ({memory.inference_bytes:,} bytes; {what})"]
    lines += [f"  {t.label}: {_bytes_equation(t)}" for t in memory.inference]
    if memory.kv_per_token is not None:
        lines.append(f"  ({memory.kv_per_token.label}: {_bytes_equation(memory.kv_per_token)})")
    if memory.training:
        total = memory.training_bytes
        lines.append(f"Training memory: {human(total)} ({total:,} bytes; {what}, {memory.optimizer})")
        lines += [f"  {t.label}: {_bytes_equation(t)}" for t in memory.training]
    if memory.parallel is not None:
        lines += _per_gpu_lines(memory)
    if memory.unknown:
        lines.append(f"Memory leaves out {len(memory.unknown):,} layer(s) of unknown output size: "
                     + ", ".join(memory.unknown[:5]))
    lines += memory.notes
    return lines


def _per_gpu_lines(memory: MemoryEstimate) -> list[str]:
    """Training at scale: one GPU's terms, its process's host memory, DeepSpeed's figures."""
    p = memory.parallel
    setup = (f"{p.gpus:,} GPUs = data {p.dp} × tensor {p.tp} × pipeline {p.pp}, ZeRO-{p.zero}"
             f"{f', offload {p.offload}' if p.offload else ''}")
    total = memory.per_gpu_bytes
    lines = [f"Per GPU: {human(total)} ({total:,} bytes; {setup}, {memory.dtype}, {memory.optimizer})"]
    lines += [f"  {t.label}: {_bytes_equation(t)}" for t in memory.per_gpu]
    if memory.cpu:
        cpu = sum(t.bytes.value for t in memory.cpu)
        lines.append(f"On the CPU, per GPU's process: {human(cpu)} ({cpu:,} bytes)")
        lines += [f"  {t.label}: {_bytes_equation(t)}" for t in memory.cpu]
    lines += [f"  ({t.label}: {_bytes_equation(t)}, {human(t.bytes.value)})" for t in memory.deepspeed]
    return lines


def _bytes_equation(term) -> str:
    text = str(term.bytes)
    value = term.bytes.value
    return f"{text} = {value:,} B" if text != f"{value:,}" else f"{value:,} B"


def receptive_text(field: Field | str | None) -> str:
    """``6×6, jump 2, start 5/2``; "whole input"; "" when not known."""
    if field == WHOLE:
        return WHOLE
    if not isinstance(field, Field):
        return ""
    jump, start = (_axes(values) for values in (field.jump, field.start))
    return f"{'×'.join(str(n) for n in field.size)}, jump {jump}, start {start}"


def _axes(values) -> str:
    """One value when every axis has it, else one per axis: ``2``, ``2×1``."""
    return str(values[0]) if len(set(values)) == 1 else "×".join(str(v) for v in values)


@dataclass(frozen=True, slots=True)
class DisplayRow:
    """A line of a tabular rendering: a layer, or a block use with its subtotal."""

    name: str
    type: str
    output_shape: tuple[int | None, ...]
    params: int
    buffers: int = 0
    formula: str = ""
    shape_formula: str = ""
    buffers_formula: str = ""
    note: str = ""
    macs: int | None = 0
    macs_formula: str = ""
    activation_text: str = ""
    layer: LayerRow | None = None  # for what is worked out only when a column shows it
    paper_macs: int | None = 0  # the convolution and fully connected part of macs

    @property
    def receptive_field(self) -> str:
        return _receptive_cell(self.layer) if self.layer else ""

    @property
    def receptive_formula(self) -> str:
        return self.layer.receptive_formula if self.layer else ""


def display_rows(report: Report, depth: int = 0, memory: MemoryEstimate | None = None) -> list[DisplayRow]:
    """The rows to show: blocks nested deeper than ``depth`` collapse into one row with
    their subtotal; the others open, their layers indented beneath them like a tree."""
    blocks = {b.name: b for b in report.blocks}
    shown: set[str] = set()
    rows: list[DisplayRow] = []
    activations = dict(zip((r.name for r in report.layers), memory.activations)) if memory else {}
    for layer in report.layers:
        chain = _ancestors(layer.block, blocks)
        for level, name in enumerate(chain):
            if name not in shown:
                shown.add(name)
                rows.append(_block_row(blocks[name], level))
            if level >= depth:
                break  # inside a collapsed block
        else:
            rows.append(_layer_row(layer, len(chain), activations.get(layer.name)))
    return rows


def _ancestors(block: str | None, blocks: dict) -> list[str]:
    chain = []
    while block is not None:
        chain.append(block)
        block = blocks[block].parent
    return chain[::-1]


def _indent(path: str, parent: str | None, level: int) -> str:
    """The name within its parent, indented: ``conv2d`` for ``stage/conv2d`` in ``stage``,
    ``conv1`` for PyTorch's ``layer1.0.conv1`` in ``layer1.0``."""
    if parent and path.startswith(parent) and path[len(parent):len(parent) + 1] in ("/", "."):
        path = path[len(parent) + 1:]
    return "  " * level + path


def _block_row(block, level: int) -> DisplayRow:
    return DisplayRow(_indent(block.name, block.parent, level), f"{block.type} (block)", block.output_shape,
                      block.params, block.buffers, macs=block.macs, paper_macs=block.paper_macs)


def _layer_row(layer: LayerRow, level: int, activation: int | None = None) -> DisplayRow:
    return DisplayRow(_indent(layer.name, layer.block, level), layer.type, layer.output_shape,
                      layer.params, layer.buffers, layer.formula, layer.shape_formula, layer.buffers_formula,
                      layer.note, layer.macs, layer.macs_formula, "" if activation is None else human(activation),
                      layer, layer.paper_macs)


def _receptive_cell(layer: LayerRow) -> str:
    text = receptive_text(layer.receptive_field)
    return f"{text} (sees all the input)" if layer.sees_whole_input and text != WHOLE else text
