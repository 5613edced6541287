"""The commands other than ``count`` and ``solve``: sweep, zoo, audit, explain, compare, plot,
exercise, check and serve. Loaded only when one of them runs (a count never imports this)."""

from __future__ import annotations

import argparse
import sys

from .._gc import gc_paused
from ..errors import Location, SpecError
from ._count import _model_options, _stdin
from ._sizing_args import _memory


@gc_paused
def _sweep(args: argparse.Namespace) -> int:
    from ..api import sweep
    from ..importers.python_file import is_reference
    from ..render.sweep import render_sweep

    grid: dict[str, list] = {}
    for key, values in map(_vary, args.vary):
        if key in grid:
            raise SpecError(f"--vary {key} is given twice; give all its values in one --vary")
        grid[key] = values
    source = args.source
    if is_reference(source):  # FILE.py:NAME
        raise SpecError(f"{source}: a sweep changes the arguments of a spec's layers, and a model defined in "
                        "Python has none to change: sweep a spec of the network (YAML, JSON or the compact form)")
    if source == "-":
        source = _stdin()
    variants = list(sweep(source, grid, data_format=args.data_format, convention=args.convention, paired=args.zip,
                          **_model_options(args)))
    memory = _memory(args, [variant.report for variant in variants])
    sys.stdout.write(render_sweep(list(grid), variants, args.format, memory=memory))
    return 0


def _vary(text: str) -> tuple[str, list]:
    """``conv_2.filters=16,32,64`` → ("conv_2.filters", [16, 32, 64]): the values are read as
    the items of a YAML list, as a spec's values are read."""
    from ..spec._yaml import load_yaml

    key, equals, values = text.partition("=")
    if not equals or not key.strip() or not values.strip():
        raise SpecError(f"--vary {text!r}: write LAYER.ARGUMENT=VALUES, e.g. conv_2.filters=16,32,64")
    try:
        data, _ = load_yaml(f"[{values}]", f"--vary {key.strip()}")
    except SpecError as err:  # a column counted in the user's text, not in ours with its "["
        where = err.location
        if where is None or where.column is None:
            raise
        problem = str(err).removeprefix(f"{where}: ")
        raise SpecError(problem, Location(where.source, where.line, max(where.column - 1, 1))) from None
    return key.strip(), data


def _zoo(args: argparse.Namespace) -> int:
    from ..render.zoo import render_zoo
    from ..spec import zoo

    if args.show:
        sys.stdout.write(zoo.text(args.show))
        return 0
    sys.stdout.write(render_zoo(args.format))
    return 0


def _audit(args: argparse.Namespace) -> int:
    from ..api import audit
    from ..importers.python_file import is_reference, load_model
    from ..render.audit import render_audit

    source = load_model(args.source) if is_reference(args.source) else args.source
    result = audit(source, args.claims, convention=args.convention, column=args.column, row=args.row,
                   **_model_options(args))
    sys.stdout.write(render_audit(result, args.format))
    return 0 if result.ok else 1


def _explain(args: argparse.Namespace) -> int:
    from ..explain import explain
    from ..render.explain import print_explanation, render_json, render_markdown, render_types

    if args.type is None:
        import shutil

        sys.stdout.write(render_types(shutil.get_terminal_size().columns))
        return 0
    explanation = explain(args.type)
    if args.format == "table":
        print_explanation(explanation)
    else:
        sys.stdout.write((render_markdown if args.format == "markdown" else render_json)(explanation))
    return 0


def _compare(args: argparse.Namespace) -> int:
    from pathlib import Path

    from ..api import count
    from ..compare import compare_reports
    from ..importers.python_file import is_reference, load_model
    from ..render import compare as renderers

    reports = [count(load_model(s) if is_reference(s) else s) for s in (args.first, args.second)]
    labels = tuple(Path(s).name if Path(s).suffix else s[:24] for s in (args.first, args.second))
    comparison = compare_reports(*reports, labels=labels if labels[0] != labels[1] else None)
    render = {"table": renderers.render_table, "markdown": renderers.render_markdown, "json": renderers.render_json}
    if args.format == "table":
        import shutil

        sys.stdout.write(renderers.render_table(comparison, explain=args.explain,
                                                width=shutil.get_terminal_size().columns))
    else:
        sys.stdout.write(render[args.format](comparison, explain=args.explain))
    return 0


def _plot(args: argparse.Namespace) -> int:
    from ..api import count
    from ..importers.python_file import is_reference, load_model
    from ..render.plot import plot

    source = load_model(args.source) if is_reference(args.source) else args.source
    plot(count(source, convention=args.convention, **_model_options(args)), args.output, depth=args.depth)
    print(f"wrote {args.output}")
    return 0


def _exercise(args: argparse.Namespace) -> int:
    from ._exercises import run_exercise

    return run_exercise(args)


def _check(args: argparse.Namespace) -> int:
    from ._exercises import run_check

    return run_check(args)


def _serve(args: argparse.Namespace) -> int:
    from ..serve import serve

    return serve(args.host, args.port)


COMMANDS = {"zoo": _zoo, "audit": _audit, "explain": _explain, "compare": _compare, "plot": _plot, "sweep": _sweep,
            "serve": _serve, "exercise": _exercise, "check": _check}
