"""Where a fresh `learnable count` spends its start-up: Python's -X importtime, summed."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Sequence


def import_times(argv: Sequence[str], cwd: str, env: dict[str, str]) -> list[tuple[str, int, int]]:
    """(module, own µs, cumulative µs) of each module the command imports, in import order."""
    done = subprocess.run([sys.executable, "-X", "importtime", *argv], cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, check=True)
    rows = []
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        own, cumulative, name = line.removeprefix("import time:").split("|")
        rows.append((name.rstrip(), int(own), int(cumulative)))
    return rows


def by_package(rows: Sequence[tuple[str, int, int]], top: int = 12) -> list[tuple[str, float]]:
    """Milliseconds of own import time per top-level package, largest first."""
    totals: dict[str, int] = {}
    for name, own, _ in rows:
        package = name.strip().split(".")[0]
        totals[package] = totals.get(package, 0) + own
    return [(name, micros / 1000) for name, micros in sorted(totals.items(), key=lambda kv: -kv[1])[:top]]


def slowest_modules(rows: Sequence[tuple[str, int, int]], top: int = 12) -> list[tuple[str, float, float]]:
    """The modules with the largest own import time: (name, own ms, cumulative ms)."""
    chosen = sorted(rows, key=lambda row: -row[1])[:top]
    return [(name.strip(), own / 1000, cumulative / 1000) for name, own, cumulative in chosen]
