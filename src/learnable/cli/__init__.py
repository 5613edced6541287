"""The ``learnable`` command.

    learnable count SOURCE [--explain] [--format table|json|markdown|csv|latex|html]
                           [--macs] [--paper-macs] [--receptive-field] [--memory --batch N --dtype D --optimizer O --context N --kv-dtype D]
                           [--gpus N --zero S --tp N --pp N --offload W --recompute R --seq N]
                           [--tokens D --gpu NAME --peak-flops F --mfu U --gpu-memory SIZE]
    learnable audit | explain | compare | plot | sweep | zoo | serve ...

SOURCE is a spec file (.yaml, .yml, .json), a compact-form file, a compact-form string,
``-`` for standard input, zoo:NAME, a model file, or FILE.py:NAME. Problems with the input
print one line on stderr and exit with status 2; anything else is a bug and keeps its
traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from .. import __version__
from ..errors import LearnableError
from ..render import FORMATS
from ..rules import CONVENTIONS, DATA_FORMATS
from ._count import _add_lora_options, _count
from ._sizing_args import (
    DTYPES,
    OPTIMIZER_NAMES,
    _add_cost_options,
    _add_memory_options,
    _add_throughput_options,
    _depth,
    _positive,
)

EXAMPLES = """\
examples:
  learnable count examples/simple_cnn.yaml --explain
  learnable count "Input(28, 28, 1) | Conv2D(32, 3) | MaxPooling2D(2) | Flatten() | Dense(10)"
  learnable count model.yaml --format json
  learnable count model.onnx
  learnable count model.py --input 3x32x32            # PyTorch or Keras code: read, never run
  learnable count model.py --model 'ResNet(BasicBlock, [2, 2, 2, 2])' --set num_classes=100
  learnable count models.py:Net --input 3x224x224 --depth 1   # runs models.py, with torch installed
"""


SWEEP_EXAMPLES = """\
examples:
  learnable sweep examples/simple_cnn.yaml --vary conv_2.filters=16,32,64 --vary fc_1.units=64,128
  learnable sweep zoo:resnet50 --vary conv4.blocks=6,23          # ResNet-50 and ResNet-101
  learnable sweep zoo:resnet50_torch --zip --vary layer2.blocks=4,4,8 --vary layer3.blocks=6,23,36   # 50, 101, 152
  learnable sweep model.yaml --vary input.shape=[224,224,3],[160,160,3] --format csv
"""
SWEEP_FORMATS = ("table", "markdown", "csv", "json")  # render/sweep.py's (kept here so --help imports nothing more)
SOLVE_EXAMPLES = """\
examples:
  learnable count examples/mlp_width.yaml --symbolic width,depth
  learnable solve examples/mlp_width.yaml "params <= 5e6" --for width
  learnable solve examples/mlp_width.yaml "macs <= 2e6" --for depth --range 0..1000 --set width=256
  learnable solve examples/mlp_width.yaml "memory <= 1GiB" --for width --optimizer adam --batch 32
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="learnable",
        description="Count a neural network's learnable parameters, layer by layer, with the arithmetic shown.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"learnable {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    count = commands.add_parser(
        "count", help="count parameters and output shapes, layer by layer",
        description="Count parameters and output shapes, layer by layer.",
        epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    count.add_argument("source", metavar="SOURCE",
                       help="a spec file (.yaml/.yml/.json), a compact-form file or string, model code (a .py file "
                            "or pasted Python: read, never run), - for stdin, zoo:NAME, a model file (.onnx, "
                            ".safetensors, .pt, .gguf, .keras, .h5), or FILE.py:NAME for a model defined in your own Python file "
                            "(which is run)")
    _add_code_options(count)
    count.add_argument("--explain", action="store_true",
                       help="add the arithmetic of each count and output size to the table or Markdown "
                            "(JSON and CSV always carry it)")
    count.add_argument("--format", "-f", choices=FORMATS, default="table", help="output format (default: table)")
    count.add_argument("--depth", type=_depth, default=0, metavar="N",
                       help="open blocks N levels deep in the table, their layers indented beneath them "
                            "(default 0: each block use is one row with its subtotal)")
    count.add_argument("--convention", choices=(*CONVENTIONS, "both"),
                       help="count as Keras does (every weight; moving statistics non-trainable) or as PyTorch "
                            "does (module.parameters(), buffers apart), or both side by side (default: the "
                            "spec's; else pytorch for a network in PyTorch's names, keras otherwise)")
    count.add_argument("--data-format", choices=DATA_FORMATS,
                       help="layout of the shapes (default: the spec's; else channels_first when every "
                            "layout-dependent layer is a PyTorch one, channels_last otherwise)")
    _add_cost_options(count)
    _add_throughput_options(count)
    _add_lora_options(count)
    _add_symbolic_option(count)
    audit = commands.add_parser(
        "audit", help="check a published table against the network (exit 1 if any claim is wrong)",
        description="Check a published table against the network, as it is printed: a paper's or a README's "
                    "table (Markdown, CSV, tab-separated or aligned text; numbers such as 25.6M or 3.8×10^9 "
                    "judged at the precision printed; parameters, FLOPs/MACs and output-size columns), or a "
                    "Keras summary() or torchsummary / torchinfo printout: each claim ✓ or ✗ with the computed "
                    "value and its arithmetic.")
    audit.add_argument("source", metavar="SOURCE", help="the network, as for learnable count")
    audit.add_argument("claims", metavar="CLAIMS", help="the claimed table: a file, or - to paste it")
    audit.add_argument("--column", metavar="NAME",
                       help="in a table with a column per network (VGG's A to E), the one for this network")
    audit.add_argument("--row", metavar="NAME",
                       help="in a table of networks, the row that is this one when it names it otherwise "
                            "(ResNet-50 for zoo:resnet50_torch)")
    audit.add_argument("--format", "-f", choices=("table", "markdown", "json"), default="table")
    audit.add_argument("--convention", choices=CONVENTIONS, help="count as Keras or as PyTorch does")
    _add_code_options(audit)
    explain = commands.add_parser(
        "explain", help="how a layer type is counted: arguments, formulas, Keras and PyTorch, a worked example",
        description="Print a layer type's rule: its arguments, the parameter and output-shape formulas, what "
                    "Keras and PyTorch each count, and a worked example with its arithmetic.")
    explain.add_argument("type", metavar="TYPE", nargs="?",
                         help="a layer type, e.g. Conv2D, nn.LSTM, BatchNormalization (none: list them all)")
    explain.add_argument("--format", "-f", choices=("table", "markdown", "json"), default="table")
    compare = commands.add_parser(
        "compare", help="two networks side by side, layer by layer, differences marked and explained",
        description="Two networks side by side, layer by layer: the differing rows marked, and explained "
                    "when the difference is one of convention. For one network in the two conventions, use "
                    "learnable count SOURCE --convention both.")
    compare.add_argument("first", metavar="A", help="a network, as for learnable count")
    compare.add_argument("second", metavar="B", help="another network")
    compare.add_argument("--format", "-f", choices=("table", "markdown", "json"), default="table")
    compare.add_argument("--explain", action="store_true", help="add each model's arithmetic")
    plot = commands.add_parser(
        "plot", help="a bar chart of parameters per layer (.png or .svg; needs learnable[plot])",
        description="Draw parameters per layer as a bar chart: the largest labelled, log scale when the "
                    "spread calls for it, PyTorch buffers hatched.")
    plot.add_argument("source", metavar="SOURCE", help="the network, as for learnable count")
    plot.add_argument("-o", "--output", required=True, metavar="FILE", help="params.png or params.svg")
    plot.add_argument("--depth", type=_depth, default=0, metavar="N", help="open blocks N levels deep")
    plot.add_argument("--convention", choices=CONVENTIONS, help="count as Keras or as PyTorch does")
    _add_code_options(plot)
    sweep = commands.add_parser(
        "sweep", help="count a spec over a grid of argument values: one row of totals per variant",
        description="Count a spec for every combination of the values given with --vary: one row per "
                    "variant with its parameters and MACs, the first --vary changing slowest.",
        epilog=SWEEP_EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    sweep.add_argument("source", metavar="SOURCE", help="a spec (a file, a compact-form string, - or zoo:NAME), or "
                                                        "model code (a .py file; then --vary NAME=... changes a "
                                                        "name its top level sets)")
    sweep.add_argument("--vary", action="append", required=True, metavar="LAYER.ARGUMENT=V1,V2,...",
                       help="an argument of a top-level layer or block use (by its name in the report), or its "
                            "repeat, and the values to count it with, as YAML: 16,32,64 or [28,28,1],[32,32,3]; "
                            "input.shape is the input's shape; repeat --vary for a grid")
    sweep.add_argument("--zip", action="store_true", help="pair the values instead of taking every combination: "
                                                          "the i-th value of each --vary makes the i-th row (each "
                                                          "--vary needs as many values)")
    sweep.add_argument("--format", "-f", choices=SWEEP_FORMATS, default="table", help="output format (default: table)")
    sweep.add_argument("--convention", choices=CONVENTIONS, help="count as Keras or as PyTorch does")
    sweep.add_argument("--data-format", choices=DATA_FORMATS, help="layout of the shapes")
    _add_memory_options(sweep.add_argument_group("memory of each variant (docs/compute.md says what is counted)"))
    _add_code_options(sweep)
    _add_solve_parser(commands)
    zoo = commands.add_parser("zoo", help="list the model zoo (count one with: learnable count zoo:NAME)",
                              description="The model zoo: spec files to count, copy and edit.")
    zoo.add_argument("--show", metavar="NAME", help="print the spec file of one model")
    zoo.add_argument("--format", "-f", choices=("table", "json", "markdown"), default="table")
    from ._exercises import add_commands

    add_commands(commands)
    serve = commands.add_parser(
        "serve", help="a calculator in the browser: type a network, watch the parameters add up",
        description="Serve the calculator page on this machine (docs/serve.md): an editor for a spec, the "
                    "table, totals, chart and graph updating as you type, links that reproduce a spec, "
                    "and exports. Needs no network. Ctrl-C stops it.")
    serve.add_argument("--port", type=int, default=8765, metavar="N", help="the port (default 8765; 0: any free one)")
    serve.add_argument("--host", default="127.0.0.1", metavar="H",
                       help="the address to listen on (default 127.0.0.1: this machine only)")
    return parser


def _add_code_options(parser: argparse.ArgumentParser) -> None:
    code = parser.add_argument_group("model code and framework models")
    code.add_argument("--input", metavar="[NAME=]SHAPE", action="append",
                      help="one example's shape, batch excluded, for code or a PyTorch model that states none: "
                           "3x224x224; 128:int for token ids (:float to say float); repeat --input for a model with "
                           "several inputs, each with its dtype; NAME= passes it to a PyTorch model's forward by "
                           "keyword: --input input_ids=128:int --input decoder_input_ids=8:int")
    code.add_argument("--model", metavar="NAME",
                      help="which model the code builds to count: a name (net) or a call (\"ResNet(BasicBlock, "
                           "[2, 2, 2, 2])\"); default: the last model the code builds")
    code.add_argument("--set", metavar="NAME=VALUE", action="append", dest="values",
                      help="a value for a name the code leaves unknown (it comes from data, or from a cell not "
                           "pasted) or should change: --set num_classes=10; repeat for several")


def _add_symbolic_option(count: argparse.ArgumentParser) -> None:
    count.add_argument("--symbolic", metavar="NAME[=LO..HI[:STEP]],...",
                       help="the total and each layer as exact polynomials of these params: of the spec (names "
                            "of its params:, each over a range, default 1..max(64, 2×its value)); checked against "
                            "the count at many points; --set fixes the others (docs/symbolic.md)")


def _add_solve_parser(commands) -> None:
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


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return _runner(args.command)(args)
    except LearnableError as err:
        print(f"learnable: error: {err}", file=sys.stderr)
        return err.exit_code
    except BrokenPipeError:  # e.g. `learnable count ... | head`
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        return 130


def _runner(command: str):
    """The function that runs a command, its module imported only then: a count loads no
    other command's module (start-up time)."""
    if command == "count":
        return _count
    if command == "solve":
        from ._symbolic import run_solve

        return run_solve
    from ._commands import COMMANDS

    return COMMANDS[command]
