"""Time learnable against torchinfo, Keras, fvcore and ptflops on the same networks, and
learnable alone on synthetic specs of 1,000 to 100,000 layers; write BENCHMARKS.md.

    python benchmarks/run.py            # the full run (about 20 minutes on 2 cores)
    python benchmarks/run.py --quick    # fewer repeats, no 100,000-layer specs: prints, writes nothing

See benchmarks/README.md. Peers that are not installed are reported as such, not fatal.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `benchmarks` importable from the repository root
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    __package__ = "benchmarks"

from benchmarks import machine, markdown, scale, startup, suite, targets
from benchmarks.networks import ROOT
from benchmarks.synthetic import branching, expected_params, generate, sequential  # noqa: F401 - for tests

# Scale: up to 7 rounds of every spec, within 120 s (a round of the full sizes takes ~15 s).
# The slope from 1,000 to 10,000 layers is a difference of two short times: rounds steady it.
FULL = {"call": (10, 20.0), "process": (5, 40.0), "scale": (7, 120.0), "sizes": (1_000, 10_000, 100_000)}
QUICK = {"call": (3, 5.0), "process": (2, 10.0), "scale": (1, 10.0), "sizes": (1_000, 10_000)}


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="fewer repeats, no 100,000-layer specs, no profile; print the report, write no file "
                             "unless --output is given")
    parser.add_argument("--skip-peers", action="store_true", help="learnable and the baselines only")
    parser.add_argument("--output", type=Path, help="where to write the report (default: BENCHMARKS.md at the "
                                                    "repository root; none with --quick)")
    return parser.parse_args(argv)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def now() -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.gmtime())


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    os.environ.update(suite.environment())  # Keras on its torch backend, here and in every child
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)  # children cache their bytecode, as installed packages do
    os.chdir(ROOT)  # the scripts' paths are the repository's
    plan = QUICK if args.quick else FULL
    command = "python benchmarks/run.py" + " --quick" * args.quick + " --skip-peers" * args.skip_peers
    results = suite.Results(command, machine.describe(ROOT), now(), os.getloadavg(), [], [], [], quick=args.quick)
    log(f"load average {results.load_before}; in-process:")
    results.in_process = [suite.run_in_process(case, *plan["call"], log)
                          for case in suite.in_process_cases(not args.skip_peers)]
    log("fresh processes:")
    results.fresh = [suite.run_fresh(row, *plan["process"], log) for row in suite.fresh_commands(not args.skip_peers)]
    results.imports = startup.import_times(seed_command(), str(ROOT), suite.environment())
    run_scale(results, plan, profile=not args.quick)
    results.finished, results.load_after = now(), os.getloadavg()
    write(results, args)
    return 0


def python_arguments() -> list[str]:
    """`learnable` as arguments to this Python: its script, or ``-m learnable``."""
    command = suite.learnable_command()
    return command[1:] if command[0] == sys.executable else command


def seed_command() -> list[str]:
    return [*python_arguments(), "count", "examples/simple_cnn.yaml"]


def run_scale(results: suite.Results, plan: dict, profile: bool) -> None:
    log("scale:")
    with tempfile.TemporaryDirectory(prefix="learnable-bench-") as directory:
        paths = scale.write_specs(Path(directory), plan["sizes"])
        results.scale = scale.measure(suite.learnable_command(), paths, *plan["scale"], log)
        if profile:
            largest = max(plan["sizes"])
            slowest = max((r for r in results.scale if r.layers == largest), key=lambda r: r.stats.median)
            log(f"profiling {slowest.kind} {slowest.fmt} {largest:,}")
            results.profiled = f"{slowest.kind} {slowest.fmt.upper()} spec (the slowest)"
            spec = str(paths[slowest.kind, slowest.fmt, largest])
            results.profile = scale.profile([*python_arguments(), "count", spec, "--format", "json"], ROOT)


def write(results: suite.Results, args: argparse.Namespace) -> None:
    found = targets.evaluate(results.in_process, results.fresh, results.scale)
    text = markdown.render(results, found)
    for target in found:
        log(f"{markdown.VERDICT[target.met]:>15}  {target.goal}: {target.measured}")
    output = args.output or (None if args.quick else ROOT / "BENCHMARKS.md")
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")
        log(f"wrote {output}")


if __name__ == "__main__":
    sys.exit(main())
