"""``learnable count SPEC --symbolic NAMES`` and ``learnable solve``: counts as formulas
of a spec's ``params:``, and the value of one that meets a budget (docs/symbolic.md).
Kept apart from cli.py; it imports nothing more until a command runs."""

from __future__ import annotations

import argparse
import sys

SOLVE_EXAMPLES = """\
examples:
  learnable count examples/mlp_width.yaml --symbolic width,depth
  learnable solve examples/mlp_width.yaml "params <= 5e6" --for width
  learnable solve examples/mlp_width.yaml "macs <= 2e6" --for depth --range 0..1000 --set width=256
  learnable solve examples/mlp_width.yaml "memory <= 1GiB" --for width --optimizer adam --batch 32
"""


def add_symbolic_option(count: argparse.ArgumentParser) -> None:
    count.add_argument("--symbolic", metavar="NAME[=LO..HI[:STEP]],...",
                       help="the total and each layer as exact polynomials of these params: of the spec (names "
                            "of its params:, each over a range, default 1..max(64, 2×its value)); checked against "
                            "the count at many points; --set fixes the others (docs/symbolic.md)")


def add_solve_parser(commands) -> None:
    from .cli import DTYPES, OPTIMIZER_NAMES, _positive
    from .rules import CONVENTIONS, DATA_FORMATS

    solve = commands.add_parser(
        "solve", help="the largest (or smallest) value of a spec's param that meets a budget on params, MACs or memory",
        description="The largest value of one of the spec's params: (the smallest, for >= and >) whose count "
                    "meets a budget, with the count there and at the next value. A binary search where the count "
                    "is proven (or, said so, sampled) monotone; otherwise every value is counted.",
        epilog=SOLVE_EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    solve.add_argument("source", metavar="SPEC", help="a spec with params: (a file, compact-form string, - or zoo:NAME)")
    solve.add_argument("budget", metavar="BUDGET",
                       help='QUANTITY OP AMOUNT: "params <= 5e6", "trainable < 1M", "macs <= 1.5e9", '
                            '"memory <= 8GiB" (inference; training with --optimizer)')
    solve.add_argument("--for", dest="variable", required=True, metavar="NAME", help="the param to solve for")
    solve.add_argument("--range", dest="within", metavar="LO..HI[:STEP]",
                       help="the values to search (default 1..100000)")
    solve.add_argument("--set", metavar="NAME=VALUE", action="append", dest="values",
                       help="another of the spec's params at this value (default: the spec's)")
    solve.add_argument("--format", "-f", choices=("table", "json"), default="table")
    solve.add_argument("--convention", choices=CONVENTIONS, help="count as Keras or as PyTorch does")
    solve.add_argument("--data-format", choices=DATA_FORMATS, help="layout of the shapes")
    memory = solve.add_argument_group("a memory budget (docs/compute.md says what is counted)")
    memory.add_argument("--dtype", choices=DTYPES, help="number format (default fp32)")
    memory.add_argument("--batch", type=_positive, default=1, metavar="N", help="batch size (default 1)")
    memory.add_argument("--optimizer", choices=OPTIMIZER_NAMES, help="budget the training memory with this optimizer")


def _values(texts: list[str] | None) -> dict:
    from .code.options import parse_value

    return dict(parse_value(text) for text in texts or ())


def _source(text: str):
    if text != "-":
        return text
    from .cli import _stdin

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
    from .errors import SpecError
    from .formulas import symbolic
    from .render.formulas import render_symbolic

    if args.format not in ("table", "json"):
        raise SpecError("--symbolic prints a table or JSON (--format table or json)")
    names, ranges = _variables(args.symbolic)
    result = symbolic(_source(args.source), names, ranges=ranges, values=_values(args.values),
                      data_format=args.data_format, convention=args.convention)
    sys.stdout.write(render_symbolic(result, args.format))
    return 0


def run_solve(args: argparse.Namespace) -> int:
    from .render.formulas import render_solution
    from .solving import solve

    memory = {"dtype": args.dtype, "batch": args.batch, "optimizer": args.optimizer}
    solution = solve(_source(args.source), args.budget, args.variable, within=args.within,
                     values=_values(args.values), data_format=args.data_format, convention=args.convention,
                     memory=memory)
    sys.stdout.write(render_solution(solution, args.format))
    return 0 if solution.value is not None else 1
