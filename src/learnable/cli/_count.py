"""``learnable count``: the LoRA options, the model-code options as count() takes them, and
writing the report."""

from __future__ import annotations

import argparse
import sys

from .._gc import gc_paused
from ..errors import SpecError
from ._sizing_args import _positive, _show

RICH_ROWS = 2_000


def _add_lora_options(parser: argparse.ArgumentParser) -> None:
    lora = parser.add_argument_group("LoRA fine-tuning, counted as PEFT counts it (trainable: the adapters)")
    lora.add_argument("--lora", type=_positive, metavar="RANK",
                      help="add LoRA adapters of rank RANK to the --lora-targets layers and freeze the rest; "
                           "with --optimizer, memory for training the adapters (--dtype int4: QLoRA)")
    lora.add_argument("--lora-targets", metavar="NAMES",
                      help="the layers to adapt, as PEFT's target_modules: names or module-path suffixes "
                           "(q_proj,v_proj), one regex (model\\.layers\\.\\d+\\.self_attn\\.q_proj, matched "
                           "against whole paths), or all-linear (every Linear but the output head)")
    lora.add_argument("--lora-alpha", type=float, metavar="ALPHA", help="lora_alpha (the scaling alpha/r; no params)")
    lora.add_argument("--lora-bias", choices=("none", "all", "lora_only"), default="none",
                      help="biases to train too: none (default), all, or those of the adapted layers")
    lora.add_argument("--lora-modules-to-save", metavar="NAMES",
                      help="layers trained in full beside the adapters (PEFT's modules_to_save), e.g. lm_head")


# A --lora-targets value with one of these is one regex, as PEFT takes a str (re.fullmatch);
# without, a comma-separated list of names, as PEFT takes a list.
_REGEX = set("*+?()[]{}|\\^$")


def _lora(args: argparse.Namespace) -> dict | None:
    """count()'s lora= from the --lora options."""
    given = [args.lora_targets, args.lora_alpha, args.lora_modules_to_save]
    if args.lora is None:
        if any(v is not None for v in given) or args.lora_bias != "none":
            raise SpecError("the --lora-* options need --lora RANK, the adapters' rank")
        return None
    if not args.lora_targets:
        raise SpecError("--lora needs --lora-targets: the layers to adapt (e.g. q_proj,v_proj, or all-linear)")
    text = args.lora_targets.strip()
    targets = text if _REGEX & set(text) or text.lower() == "all-linear" else _names(text)
    saved = _names(args.lora_modules_to_save) if args.lora_modules_to_save else []
    return {"r": args.lora, "target_modules": targets, "lora_alpha": args.lora_alpha, "bias": args.lora_bias,
            "modules_to_save": saved}


def _names(text: str) -> list[str]:
    return [name.strip() for name in text.split(",") if name.strip()]



def _model_options(args: argparse.Namespace) -> dict:
    """count()'s options for code and framework models, from --input, --model and --set."""
    from ..code.options import parse_value
    from ..inputs import INT, parse_input

    options: dict = {}
    if args.input:
        specs = [parse_input(text) for text in args.input]
        if len(specs) == 1 and not specs[0].name:  # one shape, as every reader takes it (ONNX, Keras too)
            options["input_shape"] = specs[0].shape
            if specs[0].dtype == INT:
                options["integer_input"] = True
        else:  # several, each with its dtype and keyword: code and PyTorch models
            options["input_shape"] = [str(spec) for spec in specs]
    if getattr(args, "model", None):
        options["model"] = args.model
    if getattr(args, "values", None):
        options["values"] = dict(parse_value(text) for text in args.values)
    return options


def _stdin() -> object:
    """Standard input, read to the same limit as a file (a pipe may never end): model code
    as it is, else a spec."""
    from ..code import looks_like_code
    from ..spec import decode, parse_text, read_bounded

    text = decode(read_bounded(sys.stdin.buffer, "<stdin>"), "<stdin>")
    return text if looks_like_code(text) else parse_text(text, "<stdin>")


@gc_paused  # the count, and writing every row (not `serve`: a server runs for hours)
def _count(args: argparse.Namespace) -> int:
    from ..api import count
    from ..importers.python_file import is_reference, load_model

    if args.symbolic:
        from ._symbolic import run_symbolic

        return run_symbolic(args)
    source = _stdin() if args.source == "-" else args.source
    options = _model_options(args)
    if is_reference(source):
        source = load_model(source)
    lora = _lora(args)
    if args.convention == "both":
        if lora:
            raise SpecError("--convention both compares the two conventions; count with LoRA in one of them")
        if args.explain or args.depth:
            raise SpecError("--convention both lists every layer of both reports side by side; "
                            "for --explain or --depth, count with --convention keras or pytorch")
        from ..api import compare_conventions
        from ..render import render

        comparison = compare_conventions(source, data_format=args.data_format, **options)
        sys.stdout.write(render(comparison, args.format))
        return 0
    if args.depth:  # a PyTorch model's nn.TransformerEncoder opens like any container
        options["open_composites"] = True
    report = count(source, data_format=args.data_format, convention=args.convention, lora=lora, **options)
    _write_report(report, args, _show(args, report))
    return 0


def _write_report(report, args: argparse.Namespace, show) -> None:
    # rich fits the table to a terminal; beyond a few thousand rows it takes minutes, and
    # the plain table (what a pipe gets) reads the same.
    if args.format == "table" and sys.stdout.isatty() and len(report.layers) <= RICH_ROWS:
        from ..render.table import print_report

        print_report(report, explain=args.explain, depth=args.depth, show=show)
    elif args.format == "json":  # streamed: a very large report is never one string
        from ..render.formats import json_chunks

        sys.stdout.writelines(json_chunks(report, show))
    else:
        from ..render import render

        sys.stdout.write(render(report, args.format, explain=args.explain, depth=args.depth, show=show))

