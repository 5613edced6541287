"""The scale benchmark: fresh `learnable count SPEC --format json` on synthetic specs of
growing depth, with the time per layer and the slope between sizes, and a profile."""

from __future__ import annotations

import io
import os
import pstats
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

from .measure import Stats, run_process
from .synthetic import KINDS, generate, write_json, write_yaml

FORMATS = {"yaml": write_yaml, "json": write_json}


@dataclass(frozen=True)
class ScaleRow:
    kind: str
    fmt: str
    layers: int
    stats: Stats


def write_specs(directory: Path, sizes: Sequence[int]) -> dict[tuple[str, str, int], Path]:
    """Every (kind, format, size) spec, written into ``directory``."""
    paths = {}
    for kind in KINDS:
        for size in sizes:
            spec = generate(kind, size)
            for fmt, write in FORMATS.items():
                paths[kind, fmt, size] = write(spec, directory / f"{kind}_{size}.{fmt}")
    return paths


def measure(command: Sequence[str], paths: dict[tuple[str, str, int], Path], repeats: int, budget: float,
            log: Callable[[str], None]) -> list[ScaleRow]:
    """Every spec once per round, ``repeats`` rounds (after the second, none begun past
    ``budget`` seconds): a shared machine's speed drifts over minutes, and a spec timed at
    another minute than its neighbours in size would bend the slopes between them."""
    times: dict[tuple[str, str, int], list[float]] = {key: [] for key in paths}
    rss: dict[tuple[str, str, int], list[int]] = {key: [] for key in paths}
    start = time.perf_counter()
    for round_ in range(repeats):
        if round_ >= 2 and time.perf_counter() - start > budget:
            break
        for key, path in paths.items():
            seconds, peak = run_process([*command, "count", str(path), "--format", "json"])
            times[key].append(seconds)
            rss[key].append(peak)
    rows = [ScaleRow(kind, fmt, size, Stats(tuple(times[kind, fmt, size]), rss=tuple(rss[kind, fmt, size])))
            for kind, fmt, size in paths]
    for row in rows:
        log(f"  {row.kind} {row.fmt} {row.layers:>7,} layers: {row.stats.median:.3f} s, {row.stats.rss_text}")
    return rows


def slopes(rows: Sequence[ScaleRow]) -> dict[tuple[str, str], list[float]]:
    """Seconds per added layer between consecutive sizes, for each (kind, format): equal
    slopes are linear growth, a rising one is super-linear work."""
    series: dict[tuple[str, str], list[ScaleRow]] = {}
    for row in rows:
        series.setdefault((row.kind, row.fmt), []).append(row)
    result = {}
    for key, points in series.items():
        points.sort(key=lambda row: row.layers)
        result[key] = [(b.stats.median - a.stats.median) / (b.layers - a.layers) for a, b in pairwise(points)]
    return result


def profile(arguments: Sequence[str], root: Path, top: int = 25) -> str:
    """cProfile of a fresh ``python -m cProfile ARGUMENTS`` (a process of its own, so that
    this one's frameworks and garbage do not weigh on it): the top functions by their own
    time and by cumulative time, paths shortened to the repository's and packages'."""
    with tempfile.TemporaryDirectory(prefix="learnable-profile-") as directory:
        output = os.path.join(directory, "count.prof")
        subprocess.run([sys.executable, "-m", "cProfile", "-o", output, *arguments], cwd=root,
                       stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, check=True)
        text = io.StringIO()
        stats = pstats.Stats(output, stream=text)
        stats.sort_stats("tottime").print_stats(top)
        stats.sort_stats("cumulative").print_stats(top)
    return _shorten(text.getvalue(), root)


def _shorten(text: str, root: Path) -> str:
    prefixes = sorted({str(root / "src") + os.sep, *(p + os.sep for p in sys.path if "-packages" in p),
                       os.path.dirname(os.__file__) + os.sep}, key=len, reverse=True)
    for prefix in prefixes:
        text = text.replace(prefix, "")
    return "\n".join(line for line in text.splitlines() if not line.rstrip().endswith(".prof"))  # its date and path
