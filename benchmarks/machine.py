"""The machine a run measured: CPU, cores, memory, OS, Python, every installed package."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path

KEY_PACKAGES = ("learnable", "torch", "keras", "torchinfo", "fvcore", "ptflops", "PyYAML", "rich", "numpy")


def _read(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError:
        return ""


def _field(text: str, key: str) -> str:
    for line in text.splitlines():
        name, _, value = line.partition(":" if ":" in line else "=")
        if name.strip() == key:
            return value.strip().strip('"')
    return ""


def cpu() -> str:
    return _field(_read("/proc/cpuinfo"), "model name") or platform.processor() or platform.machine()


def memory_gib() -> float | None:
    total = _field(_read("/proc/meminfo"), "MemTotal")  # "16384000 kB"
    return int(total.split()[0]) / 2**20 if total else None


def operating_system() -> str:
    name = _field(_read("/etc/os-release"), "PRETTY_NAME") or platform.system()
    return f"{name}, kernel {platform.release()}"


def packages() -> dict[str, str]:
    """Every distribution importable by this interpreter, name → version."""
    found = {dist.metadata["Name"]: dist.version for dist in metadata.distributions() if dist.metadata["Name"]}
    return dict(sorted(found.items(), key=lambda item: item[0].lower()))


def commit(root: Path) -> str:
    """The commit measured, and whether learnable's sources differ from it."""
    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=False)
        return done.stdout.strip() if done.returncode == 0 else ""

    head = git("log", "-1", "--format=%h %cd %s", "--date=format:%Y-%m-%d %H:%M")
    if not head:
        return "unknown (not a git checkout)"
    changed = len(git("status", "--porcelain", "--", "src").splitlines())
    return head + (f" + uncommitted changes in {changed} file(s) under src/" if changed else "")


def describe(root: Path) -> dict[str, object]:
    return {
        "commit": commit(root),
        "cpu": cpu(),
        "cores": os.cpu_count(),
        "memory_gib": memory_gib(),
        "os": operating_system(),
        "python": f"{platform.python_implementation()} {sys.version.split()[0]} ({sys.executable})",
        "packages": packages(),
    }
