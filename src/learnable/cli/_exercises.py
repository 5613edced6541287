"""``learnable exercise`` and ``learnable check``: their arguments, and running them. Kept out of
the exercises package so that building the parser imports none of it (start-up time)."""

from __future__ import annotations

import argparse
import sys

LEVEL_NAMES = ("dense", "conv", "pooling", "branches", "recurrent", "attention")  # levels.LEVELS (--help imports nothing)


def add_commands(commands) -> None:
    ex = commands.add_parser("exercise", help="a sheet of exercises with worked answers (docs/exercises.md)",
                             description="Draw a sheet (--level ...), or mark one: learnable exercise check SHEET "
                                         "ANSWERS is learnable check SHEET ANSWERS.")
    ex.add_argument("--level", choices=LEVEL_NAMES, help="required to draw a sheet")
    ex.add_argument("--seed", type=int, default=0, help="the same seed gives the same sheet (default 0)")
    ex.add_argument("--count", type=int, default=10, help="how many networks (default 10)")
    ex.add_argument("--format", choices=("markdown", "html", "json"), default="markdown")
    ex.add_argument("--answers", action="store_true", help="add the worked answers (Markdown; HTML and JSON "
                    "always hold them: the key after a page break, and each question's 'worked')")
    # the sub-form: a sheet's two verbs under one command, as `git remote add` is under `git remote`
    _check_arguments(ex.add_subparsers(dest="exercise_action", metavar="check").add_parser(
        "check", help="the same as learnable check"))
    _check_arguments(commands.add_parser("check", help="mark a student's answers against a sheet (learnable "
                                         "exercise --format json)"))


def _check_arguments(check: argparse.ArgumentParser) -> None:
    check.add_argument("sheet", help="the sheet's JSON file")
    check.add_argument("answers", help="the answers: JSON {question id: answer} or a table (Markdown, CSV)")
    check.add_argument("--format", choices=("text", "json"), default="text")


def run_exercise(args: argparse.Namespace) -> int:
    from ..errors import SpecError
    from ..exercises import exercise
    from ..exercises.render import render_html, render_json, render_markdown

    if getattr(args, "exercise_action", None) == "check":
        return run_check(args)
    if args.level is None:
        raise SpecError(f"exercise: give --level ({', '.join(LEVEL_NAMES)}), or check SHEET ANSWERS to mark one")
    sheet = exercise(args.level, args.seed, args.count)
    render = {"markdown": render_markdown, "html": render_html, "json": render_json}[args.format]
    sys.stdout.write(render(sheet, args.answers or args.format != "markdown"))
    return 0


def run_check(args: argparse.Namespace) -> int:
    from ..exercises import check
    from ..exercises.render import render_marks

    marks = check(args.sheet, args.answers)
    sys.stdout.write(render_marks(marks, args.format))
    return 0 if all(m.ok for m in marks) else 1
