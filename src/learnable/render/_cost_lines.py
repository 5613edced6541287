"""The footer lines of the compute (per token, training FLOPs, time) and of what fits, each
figure with its arithmetic."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._text import human

if TYPE_CHECKING:  # a count without these options never imports them
    from ..compute import Compute, Throughput, Training
    from ..fit import Fit, FitReport


def cost_lines(compute: Compute) -> list[str]:
    lines = []
    per = compute.per_token
    if per is not None:
        flops = per.macs.value * compute.flops_per_mac
        lines.append(f"MACs per token at context {per.context:,}: {per.macs} = {per.macs.value:,} (layers' MACs on "
                     f"the {per.sequence:,} counted tokens: linear/L + attention/(L×L) × keys; attention "
                     f"{per.attention:,}); FLOPs per token: {flops:,} ({compute.flops_per_mac} per MAC)")
    if compute.training is not None:
        lines += _training_lines(compute.training, per.context if per else None)
    return lines + [f"Note: {note}" for note in compute.notes]


def _training_lines(train: Training, context: int | None) -> list[str]:
    n_text = f"N = {train.params:,} params a token uses, embeddings included, as Brown et al. 2020 count N"
    lines = [f"Training compute for {train.tokens:,} tokens:",
             f"  6·N·D ({n_text}): {train.six_nd} = {_flops(train.six_nd.value)}",
             (f"  6·N·D with N non-embedding ({train.params - train.embedding:,}, as Kaplan et al. 2020 count N): "
              f"{train.six_nd_non_embedding} = {_flops(train.six_nd_non_embedding.value)}")]
    if train.per_layer is not None:
        lines.append(f"  per-layer sum (3 × 2 FLOPs × forward MACs per token at {context:,} tokens of context × D; "
                     f"backward = 2 × forward): {train.per_layer} = {_flops(train.per_layer.value)}")
    if train.throughput is not None:
        lines += _time_lines(train, train.throughput)
    return lines


def _time_lines(train: Training, time: Throughput) -> list[str]:
    lines = [f"Training time at {time.text()} = {float(time.flops):.4g} FLOP/s:"]
    for what, flops in (("6·N·D", train.six_nd.value), ("per-layer sum", train.per_layer and train.per_layer.value)):
        if flops is not None:
            seconds = time.seconds(flops)
            lines.append(f"  {what}: {flops:.4g}/{float(time.flops):.4g} = {seconds:,.0f} s = {_duration(seconds)}")
    return lines


def _flops(value: int) -> str:
    return f"{value:,} FLOPs ({value:.3g})"


def _duration(seconds: float) -> str:
    if seconds >= 86_400:
        return f"{seconds / 86_400:,.1f} days ({seconds / 86_400 / 7:,.1f} weeks)" if seconds >= 7 * 86_400 \
            else f"{seconds / 86_400:,.2f} days"
    return f"{seconds / 3600:,.2f} hours"


def fit_lines(report: FitReport) -> list[str]:
    where = f"{report.gpu} ({human(report.memory)})" if report.gpu else human(report.memory)
    lines = [f"Fits in {where}, {report.memory:,} bytes:"]
    for fit in (report.inference, report.training):
        if fit is not None:
            lines += _fit_lines(fit)
    return lines


def _fit_lines(fit: Fit) -> list[str]:
    fixed = " + ".join(f"{t.key} {t.bytes.value:,}" for t in fit.fixed)
    per = " + ".join(f"{t.key} {t.bytes.value:,}" for t in fit.per_example) or "nothing"
    context = f" at context {fit.context:,}" if fit.context else ""
    head = f"  {fit.what}{context}: fixed {fixed} = {fit.fixed_bytes:,} B; per example {per} = {fit.per_example_bytes:,} B"
    key, _, size = fit.largest()
    if fit.max_batch is None:
        lines = [head, f"    any batch: nothing grows with it; {fit.fixed_bytes:,} B ≤ {fit.memory:,} B"
                 if fit.fixed_bytes <= fit.memory else f"    does not fit: {fit.fixed_bytes:,} B > {fit.memory:,} B"]
    elif fit.max_batch == 0:
        lines = [head, f"    does not fit at batch 1: {fit.total(1):,} B > {fit.memory:,} B"]
    else:
        b = fit.max_batch
        lines = [head, (f"    largest batch {fit.batch_formula} = {b:,}: {fit.total(b):,} B ≤ {fit.memory:,} B; "
                        f"batch {b + 1:,}: {fit.total(b + 1):,} B > {fit.memory:,} B")]
    lines.append(f"    largest term: {key} ({human(size)})")
    if fit.context_formula:
        at = "any context" if fit.context_unbounded else f"largest context {fit.max_context:,} tokens" \
            if fit.max_context else "no context"
        lines.append(f"    {at} at batch {fit.context_batch:,}: {fit.context_formula}")
    return lines
