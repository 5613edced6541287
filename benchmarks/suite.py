"""Running the cases: in this process after their set-up, and as fresh commands."""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .measure import Stats, repeat_call, repeat_process
from .networks import LEARNABLE_SOURCES, ROOT, SWEEP
from .peers import NETWORKS, Case, count_only_case, importer_case, installed, learnable_case, peer_cases

Log = Callable[[str], None]
FLOOR = 'python -c "import argparse, yaml"'
PASTED_CODE = "learnable count benchmarks/pasted_resnet.py --input 3x32x32"
CONFIG_405B = "learnable count benchmarks/configs/llama-3.1-405b/config.json"
MEMORY_70B = "learnable count benchmarks/configs/llama-3-70b/config.json --memory --context 8192 --dtype bf16"


@dataclass
class Measured:
    """One case timed in process, or one command timed as a fresh process (``network`` None
    for the baselines)."""

    key: str  # e.g. "resnet50/torchinfo: summary(model, input_size)"
    label: str
    network: str | None
    stats: Stats | None = None
    params: int | None = None
    macs: int | None = None
    error: str | None = None  # why there is no figure: a missing peer or a failure
    command: str = ""  # the command line as shown, for fresh processes
    argv: tuple[str, ...] = ()  # the command line as run


def environment() -> dict[str, str]:
    """This process's environment, with Keras on its torch backend unless the user chose one,
    and bytecode caching on: a user's installed packages have their .pyc files, and a
    PYTHONDONTWRITEBYTECODE left set (as on some CI machines) would time the compiler."""
    env = {**os.environ, "KERAS_BACKEND": os.environ.get("KERAS_BACKEND", "torch")}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def learnable_command() -> list[str]:
    """The `learnable` script of this interpreter's environment, as a user runs it."""
    script = Path(sys.executable).parent / "learnable"
    return [str(script)] if script.exists() else [sys.executable, "-m", "learnable"]


def in_process_cases(with_peers: bool) -> list[Case]:
    """learnable's spec cases first, before any framework is imported into this process
    (a process holding torch's objects makes every later allocation-heavy call slower)."""
    cases = [case(network) for network in NETWORKS for case in (learnable_case, count_only_case)]
    if installed("torch"):
        cases.append(importer_case())
    if with_peers:
        cases += [case for network in NETWORKS for case in peer_cases(network)]
    return cases


def run_in_process(case: Case, repeats: int, budget: float, log: Log) -> Measured:
    result = Measured(f"{case.network}/{case.label}", case.label, case.network)
    if not installed(case.tool):
        result.error = f"{case.tool} is not installed"
        return result
    namespace: dict[str, object] = {"__name__": "__bench__"}
    try:
        exec(case.setup, namespace)  # noqa: S102 - our own benchmark code
        code = compile(case.run, f"<{case.label}>", "exec")
        result.stats = repeat_call(lambda: exec(code, namespace), repeats, budget)  # noqa: S102
    except Exception:  # noqa: BLE001 - a peer failing on a network is a finding, not the end of the run
        result.error = traceback.format_exc(limit=2).strip().splitlines()[-1]
    result.params, result.macs = _number(namespace.get("params")), _number(namespace.get("macs"))
    log(_line(result))
    return result


def _number(value: object) -> int | None:
    return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _line(result: Measured) -> str:
    if result.stats is None:
        return f"  {result.key}: {result.error}"
    return f"  {result.key}: {result.stats.median * 1000:.1f} ms"


def fresh_commands(with_peers: bool) -> list[Measured]:
    """The commands a user types, each with its argv in ``command`` (shell-quoted for show)."""
    python, learnable = sys.executable, learnable_command()
    rows = [_command("python -c pass", [python, "-c", "pass"]),
            # The floor under the seed command: the two libraries it cannot do without (its
            # command line and its YAML), imported and nothing done.
            _command(FLOOR, [python, "-c", "import argparse, yaml"]),
            _command('python -c "import learnable"', [python, "-c", "import learnable"]),
            _command('python -c "import torch"', [python, "-c", "import torch"], tool="torch"),
            _command('python -c "import keras"', [python, "-c", "import keras"], tool="keras"),
            _command("learnable count examples/simple_cnn.yaml", [*learnable, "count", "examples/simple_cnn.yaml"]),
            # issue 15: a pasted 100-line PyTorch module (a CIFAR ResNet-18 with its training loop), read
            _command(PASTED_CODE, [*learnable, "count", "benchmarks/pasted_resnet.py", "--input", "3x32x32"]),
            # issue 16: a 405B model's config.json; issue 17: a 70B model's memory with its KV cache
            _command(CONFIG_405B, [*learnable, *CONFIG_405B.split()[1:]]),
            _command(MEMORY_70B, [*learnable, *MEMORY_70B.split()[1:]])]
    for network in NETWORKS:
        source = LEARNABLE_SOURCES[network]
        arguments = (["sweep", source, *(f"--vary={key}={','.join(map(str, values))}" for key, values in SWEEP.items())]
                     if network == "sweep" else ["count", source, "--macs", "--explain"])
        rows.append(_command(f"learnable {' '.join(arguments)}", [*learnable, *arguments], network=network))
    cases = [importer_case()] + ([c for n in NETWORKS for c in peer_cases(n)] if with_peers else [])
    rows += [_command(case.label, [python, "-c", case.script], network=case.network, tool=case.tool)
             for case in cases if case.fresh]
    return rows


def _command(display: str, argv: Sequence[str], network: str | None = None, tool: str | None = None) -> Measured:
    """A command line (``display`` as typed), or a case's script (``display`` its label)."""
    row = Measured(f"{network}/{display}", display, network, command=display, argv=tuple(argv))
    if tool and not installed(tool):
        row.error = f"{tool} is not installed"
    return row


def run_fresh(row: Measured, repeats: int, budget: float, log: Log) -> Measured:
    if row.error is None:
        try:
            row.stats = repeat_process(row.argv, repeats, budget, cwd=str(ROOT), env=environment())
        except RuntimeError as err:
            row.error = str(err).strip().splitlines()[-1][:300]
    log(_line(row) if row.stats is None else f"  {row.command[:70]}: {row.stats.median:.3f} s, "
        f"{row.stats.rss_text}")
    return row


@dataclass
class Results:
    """Everything one run measured, for BENCHMARKS.md."""

    command: str
    machine: dict[str, object]
    started: str
    load_before: tuple[float, float, float]
    in_process: list[Measured]
    fresh: list[Measured]
    scale: list  # of scale.ScaleRow
    imports: list = field(default_factory=list)  # startup.import_times of the seed command
    profile: str = ""
    profiled: str = ""  # which spec the profile is of
    finished: str = ""
    load_after: tuple[float, float, float] = (0.0, 0.0, 0.0)
    quick: bool = False
