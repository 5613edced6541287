"""Timing: in-process calls and fresh processes, summarised as a median and its spread."""

from __future__ import annotations

import contextlib
import io
import os
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Stats:
    """Seconds of each repeat (and, for processes, the peak RSS of each, in bytes)."""

    times: tuple[float, ...]
    first: float | None = None  # an in-process call's first run (lazy imports, caches), not in times
    rss: tuple[int, ...] = field(default=())

    @property
    def median(self) -> float:
        return statistics.median(self.times)

    @property
    def spread(self) -> tuple[float, float]:
        return min(self.times), max(self.times)

    @property
    def peak_rss(self) -> int | None:
        return max(self.rss) if self.rss and max(self.rss) else None

    @property
    def rss_text(self) -> str:
        return "—" if self.peak_rss is None else f"{self.peak_rss / 1e6:,.0f} MB"


def repeat_call(fn: Callable[[], object], repeats: int, budget: float) -> Stats:
    """One untimed-for-the-median first call, then ``repeats`` timed ones (at least 3, fewer
    past ``budget`` seconds), each with stdout captured as a pipe would take it."""
    first = _timed(fn)
    times: list[float] = []
    start = time.perf_counter()
    while len(times) < repeats and (len(times) < 3 or time.perf_counter() - start < budget):
        times.append(_timed(fn))
    return Stats(tuple(times), first=first)


def _timed(fn: Callable[[], object]) -> float:
    with contextlib.redirect_stdout(io.StringIO()):
        start = time.perf_counter()
        fn()
        return time.perf_counter() - start


def repeat_process(argv: Sequence[str], repeats: int, budget: float, cwd: str | None = None,
                   env: dict[str, str] | None = None) -> Stats:
    """``argv`` as a fresh process ``repeats`` times (at least 2 past ``budget`` seconds),
    output to /dev/null: wall time and peak resident memory of each run."""
    times: list[float] = []
    rss: list[int] = []
    start = time.perf_counter()
    while len(times) < repeats and (len(times) < 2 or time.perf_counter() - start < budget):
        seconds, peak = run_process(argv, cwd, env)
        times.append(seconds)
        rss.append(peak)
    return Stats(tuple(times), rss=tuple(rss))


# GNU time measures a child's peak RSS from a process of its own: os.wait4 on a child of this
# process would report this process's size (Linux keeps a process's peak across exec).
GNU_TIME = "/usr/bin/time"


def run_process(argv: Sequence[str], cwd: str | None = None, env: dict[str, str] | None = None) -> tuple[float, int]:
    """(wall seconds, peak RSS in bytes, 0 without GNU time) of one run; a failure raises
    with its stderr."""
    with tempfile.NamedTemporaryFile("r", suffix=".rss") as rss:
        wrapped = [GNU_TIME, "-f", "%M", "-o", rss.name, *argv] if os.path.exists(GNU_TIME) else list(argv)
        start = time.perf_counter()
        done = subprocess.run(wrapped, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, check=False)
        seconds = time.perf_counter() - start
        if done.returncode:
            raise RuntimeError(f"{' '.join(argv)[:200]} exited {done.returncode}: {done.stderr.decode()[-2000:]}")
        kilobytes = rss.read().strip().splitlines()
    return seconds, int(kilobytes[-1]) * 1024 if kilobytes else 0
