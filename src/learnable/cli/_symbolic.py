"""``learnable count SPEC --symbolic NAMES`` and ``learnable solve``: counts as formulas
of a spec's ``params:``, and the value of one that meets a budget (docs/symbolic.md).
Their arguments are declared with the rest of the parser (__init__.py); this module is
imported only when one of them runs."""

from __future__ import annotations

import argparse
import sys


def _values(texts: list[str] | None) -> dict:
    from ..code.options import parse_value

    return dict(parse_value(text) for text in texts or ())


def _source(text: str):
    if text != "-":
        return text
    from ._count import _stdin

    return _stdin()


def _variables(text: str) -> tuple[list[str], dict[str, str]]:
    """``width=8..512,depth`` → (["width", "depth"], {"width": "8..512"})."""
    names, ranges = [], {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        name, _, within = item.partition("=")
        names.append(name.strip())
        if within:
            ranges[name.strip()] = within
    return names, ranges


def run_symbolic(args: argparse.Namespace) -> int:
    from ..errors import SpecError
    from ..formulas import symbolic
    from ..render.formulas import render_symbolic

    if args.format not in ("table", "json"):
        raise SpecError("--symbolic prints a table or JSON (--format table or json)")
    names, ranges = _variables(args.symbolic)
    result = symbolic(_source(args.source), names, ranges=ranges, values=_values(args.values),
                      data_format=args.data_format, convention=args.convention)
    sys.stdout.write(render_symbolic(result, args.format))
    return 0


def run_solve(args: argparse.Namespace) -> int:
    from ..render.formulas import render_solution
    from ..solving import solve

    memory = {"dtype": args.dtype, "batch": args.batch, "optimizer": args.optimizer}
    solution = solve(_source(args.source), args.budget, args.variable, within=args.within,
                     values=_values(args.values), data_format=args.data_format, convention=args.convention,
                     memory=memory)
    sys.stdout.write(render_solution(solution, args.format))
    return 0 if solution.value is not None else 1
