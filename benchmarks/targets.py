"""The targets of issues 7 (speed and scale), 15 (a pasted module), 16 (a 405B model's
config.json) and 17 (a 70B model's memory report), each computed from this run's figures:
MET, NOT MET, or not measured (a peer missing)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .measure import Stats
from .peers import IMPORTER, LEARNABLE, TORCHINFO, TORCHINFO_1
from .scale import ScaleRow, slopes
from .suite import CONFIG_405B, FLOOR, MEMORY_70B, PASTED_CODE, Measured

MAX_SEED_VS_PASS = 3.0
MAX_PASTED_CODE_SECONDS = 0.150  # issue 15: a pasted 100-line module, as a fresh process
MAX_CONFIG_SECONDS = 0.150  # issues 16 and 17: a config.json's count, and its memory report, as a fresh process
MIN_RESNET_VS_TORCHINFO = 100.0
MAX_SECONDS_100K, MAX_MB_100K = 2.0, 200.0
FLAT = 1.25  # "time per layer flat": no slope between sizes more than 1.25× the first one


@dataclass(frozen=True)
class Target:
    goal: str
    measured: str
    met: bool | None  # None: not measured


def _stats(rows: Sequence[Measured], network: str | None, label: str) -> Stats | None:
    return next((row.stats for row in rows if row.network == network and row.label == label and row.stats), None)


def median_of(rows: Sequence[Measured], network: str | None, label: str) -> float | None:
    stats = _stats(rows, network, label)
    return None if stats is None else stats.median


def evaluate(in_process: Sequence[Measured], fresh: Sequence[Measured], scale: Sequence[ScaleRow]) -> list[Target]:
    return [_seed_startup(fresh), _resnet_in_process(in_process), _resnet_command(fresh), *_deep(scale),
            _importer(in_process), _pasted_code(fresh), _fresh_under(fresh, CONFIG_405B, "a 405B model's config"),
            _fresh_under(fresh, MEMORY_70B, "a 70B model's memory and KV cache")]


def _pasted_code(fresh: Sequence[Measured]) -> Target:
    return _fresh_under(fresh, PASTED_CODE, "a 100-line module read as code", MAX_PASTED_CODE_SECONDS)


def _fresh_under(fresh: Sequence[Measured], command: str, what: str, limit: float = MAX_CONFIG_SECONDS) -> Target:
    ours = median_of(fresh, None, command)
    goal = f"`{command}` ({what}), fresh: < {limit * 1000:.0f} ms"
    if ours is None:
        return Target(goal, "not measured", None)
    return Target(goal, f"{ours * 1000:.0f} ms", ours < limit)


def _seed_startup(fresh: Sequence[Measured]) -> Target:
    seed = median_of(fresh, None, "learnable count examples/simple_cnn.yaml")
    bare = median_of(fresh, None, "python -c pass")
    goal = f"`learnable count examples/simple_cnn.yaml`, fresh: ≤ {MAX_SEED_VS_PASS:g}× `python -c pass`"
    if seed is None or bare is None:
        return Target(goal, "not measured", None)
    ratio, floor = seed / bare, median_of(fresh, None, FLOOR)
    floor_text = f"; importing argparse and PyYAML alone: {floor / bare:.1f}×" if floor else ""
    return Target(goal, f"{seed * 1000:.0f} ms vs {bare * 1000:.0f} ms: {ratio:.1f}×{floor_text}",
                  ratio <= MAX_SEED_VS_PASS)


def _torchinfo(in_process: Sequence[Measured]) -> tuple[float, str] | None:
    """torchinfo's ResNet-50 time, the faster of its median on torch's default threads and on
    one thread: on a shared machine the default threads wait for each other on a busy core."""
    found = [(stats.median, label) for label in (TORCHINFO, TORCHINFO_1)
             if (stats := _stats(in_process, "resnet50", label))]
    return min(found) if found else None


def _resnet_in_process(in_process: Sequence[Measured]) -> Target:
    ours, theirs = _stats(in_process, "resnet50", LEARNABLE), _torchinfo(in_process)
    goal = (f"ResNet-50 full report in-process ≥ {MIN_RESNET_VS_TORCHINFO:g}× faster than torchinfo's summary "
            "(the faster of its default and one-thread medians)")
    if ours is None or theirs is None:
        return Target(goal, "not measured: no torchinfo figure in this run", None)
    ratio = theirs[0] / ours.median
    return Target(goal, f"{ours.median * 1000:.1f} ms vs {theirs[0] * 1000:.0f} ms ({theirs[1]}): {ratio:.0f}× faster",
                  ratio >= MIN_RESNET_VS_TORCHINFO)


def _resnet_command(fresh: Sequence[Measured]) -> Target:
    ours = median_of(fresh, "resnet50", "learnable count zoo:resnet50_torch --macs --explain")
    torch = median_of(fresh, None, 'python -c "import torch"')
    goal = '`learnable count zoo:resnet50_torch --macs --explain`, fresh: faster than `python -c "import torch"`'
    if ours is None or torch is None:
        return Target(goal, "not measured", None)
    return Target(goal, f"{ours:.3f} s vs {torch:.3f} s", ours < torch)


def _deep(scale: Sequence[ScaleRow]) -> list[Target]:
    largest = [row for row in scale if row.layers == 100_000]
    goals = (f"100,000-layer specs: < {MAX_SECONDS_100K:g} s", f"100,000-layer specs: < {MAX_MB_100K:g} MB peak RSS",
             f"time per layer flat from 1,000 to 100,000 (each slope ≤ {FLAT:g}× the 1,000→10,000 one)")
    if not largest:
        return [Target(goal, "not measured (--quick skips 100,000)", None) for goal in goals]
    worst_time = max(largest, key=lambda row: row.stats.median)
    worst_rss = max(largest, key=lambda row: row.stats.peak_rss or 0)
    megabytes = (worst_rss.stats.peak_rss or 0) / 1e6
    memory = Target(goals[1], "not measured (no /usr/bin/time)", None)
    if megabytes:
        memory = Target(goals[1], f"largest {megabytes:.0f} MB ({worst_rss.kind} {worst_rss.fmt})",
                        megabytes < MAX_MB_100K)
    return [
        Target(goals[0], f"slowest {worst_time.stats.median:.2f} s ({worst_time.kind} {worst_time.fmt})",
               worst_time.stats.median < MAX_SECONDS_100K),
        memory,
        _flat(goals[2], scale),
    ]


def _flat(goal: str, scale: Sequence[ScaleRow]) -> Target:
    series = {key: s for key, s in slopes(scale).items() if len(s) > 1}
    if not series or any(s[0] <= 0 for s in series.values()):
        return Target(goal, "not measurable: the 1,000→10,000 difference is within the noise", None)
    growth = {key: max(s[1:]) / s[0] for key, s in series.items()}
    steepest = max(growth, key=growth.__getitem__)
    return Target(goal, f"steepest: {' '.join(steepest)}, {growth[steepest]:.2f}× the first slope",
                  growth[steepest] <= FLAT)


def _importer(in_process: Sequence[Measured]) -> Target:
    ours, theirs = _stats(in_process, "resnet50", IMPORTER), _torchinfo(in_process)
    goal = ("PyTorch importer on ResNet-50 (learnable.count(module, input_shape)): faster than torchinfo on it "
            "(the faster of its default and one-thread medians)")
    if ours is None or theirs is None:
        return Target(goal, "not measured", None)
    return Target(goal, f"{ours.median * 1000:.0f} ms vs {theirs[0] * 1000:.0f} ms: {theirs[0] / ours.median:.1f}× "
                        "faster", ours.median < theirs[0])
