"""``learnable exercise`` and ``learnable check``: registered by cli.py, run from here."""

from __future__ import annotations

import argparse
import sys

LEVEL_NAMES = ("dense", "conv", "pooling", "branches", "recurrent", "attention")  # levels.LEVELS (--help imports nothing)


def add_commands(commands) -> None:
    ex = commands.add_parser("exercise", help="a sheet of exercises with worked answers (docs/exercises.md)")
    ex.add_argument("--level", required=True, choices=LEVEL_NAMES)
    ex.add_argument("--seed", type=int, default=0, help="the same seed gives the same sheet (default 0)")
    ex.add_argument("--count", type=int, default=10, help="how many networks (default 10)")
    ex.add_argument("--format", choices=("markdown", "html", "json"), default="markdown")
    ex.add_argument("--answers", action="store_true", help="add the worked answers (Markdown; HTML and JSON "
                    "always hold them: the key after a page break, and each question's 'worked')")
    check = commands.add_parser("check", help="mark a student's answers against a sheet (learnable exercise "
                                "--format json)")
    check.add_argument("sheet", help="the sheet's JSON file")
    check.add_argument("answers", help="the answers: JSON {question id: answer} or a table (Markdown, CSV)")
    check.add_argument("--format", choices=("text", "json"), default="text")


def run_exercise(args: argparse.Namespace) -> int:
    from . import exercise
    from .render import render_html, render_json, render_markdown

    sheet = exercise(args.level, args.seed, args.count)
    render = {"markdown": render_markdown, "html": render_html, "json": render_json}[args.format]
    sys.stdout.write(render(sheet, args.answers or args.format != "markdown"))
    return 0


def run_check(args: argparse.Namespace) -> int:
    from . import check
    from .render import render_marks

    marks = check(args.sheet, args.answers)
    sys.stdout.write(render_marks(marks, args.format))
    return 0 if all(m.ok for m in marks) else 1
