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

from . import __version__
from ._gc import gc_paused
from .cli_symbolic import add_solve_parser, add_symbolic_option, run_solve, run_symbolic
from .errors import LearnableError, Location, SpecError
from .render import FORMATS
from .rules import CONVENTIONS, DATA_FORMATS

# The --dtype and --optimizer choices (memory.py; kept here so --help imports nothing more).
DTYPES = ("fp32", "fp16", "bf16", "fp8", "int8", "int4")
KV_DTYPE_NAMES = ("fp32", "fp16", "bf16", "fp8", "int8")
OPTIMIZER_NAMES = ("sgd", "momentum", "adam", "adamw")
RICH_ROWS = 2_000

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
    add_symbolic_option(count)
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
    add_solve_parser(commands)
    zoo = commands.add_parser("zoo", help="list the model zoo (count one with: learnable count zoo:NAME)",
                              description="The model zoo: spec files to count, copy and edit.")
    zoo.add_argument("--show", metavar="NAME", help="print the spec file of one model")
    zoo.add_argument("--format", "-f", choices=("table", "json", "markdown"), default="table")
    from .exercises.cli import add_commands

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


def _add_cost_options(parser: argparse.ArgumentParser) -> None:
    cost = parser.add_argument_group("compute and memory (docs/compute.md says what is counted)")
    cost.add_argument("--macs", action="store_true",
                      help="add each layer's multiply-accumulates for one example, and the FLOPs")
    cost.add_argument("--paper-macs", action="store_true",
                      help="MACs as papers count them: convolutions and fully connected layers only (no "
                           "normalization, pooling or attention scores); the footer says what was left out. "
                           "Implies --macs")
    cost.add_argument("--flops-per-mac", type=int, choices=(1, 2), default=2,
                      help="FLOPs per MAC in the total: 2 (torch.utils.flop_counter, default) or 1 (fvcore, "
                           "most papers)")
    cost.add_argument("--receptive-field", action="store_true",
                      help="add each layer's receptive field (size, jump, start) in input pixels")
    _add_memory_options(cost)


def _add_memory_options(cost: argparse._ArgumentGroup) -> None:
    cost.add_argument("--memory", action="store_true",
                      help="estimate memory: each layer's activations, inference peak, and training with "
                           "--optimizer")
    cost.add_argument("--batch", type=_positive, default=1, metavar="N", help="batch size for --memory (default 1)")
    cost.add_argument("--dtype", choices=tuple(DTYPES),
                      help="number format for --memory (default: as a GGUF or quantized file stores its weights, "
                           "else fp32; fp16/bf16 training is mixed precision)")
    cost.add_argument("--context", type=_positive, metavar="N",
                      help="add the KV cache at N tokens of context (per sequence; --batch sequences)")
    cost.add_argument("--kv-dtype", choices=tuple(KV_DTYPE_NAMES),
                      help="number format of the KV cache (default: the activations')")
    cost.add_argument("--optimizer", choices=tuple(OPTIMIZER_NAMES),
                      help="add a training estimate: weights, gradients, optimizer state, activations")
    _add_parallel_options(cost)


def _add_parallel_options(cost: argparse._ArgumentGroup) -> None:
    """Training at scale (parallel.py): what one GPU holds; --batch is the micro-batch per GPU."""
    cost.add_argument("--gpus", type=_positive, metavar="N",
                      help="GPUs training together (data parallel × --tp × --pp): with --optimizer, memory per GPU; "
                           "with --tokens, the time (default 1)")
    cost.add_argument("--zero", type=int, choices=(0, 1, 2, 3),
                      help="ZeRO stage: 0 DDP (FSDP NO_SHARD), 1 optimizer state, 2 and gradients "
                           "(SHARD_GRAD_OP), 3 and weights (FULL_SHARD); default 0")
    cost.add_argument("--tp", type=_positive, metavar="N", help="tensor-parallel size (default 1)")
    cost.add_argument("--pp", type=_positive, metavar="N", help="pipeline-parallel size (default 1)")
    cost.add_argument("--offload", choices=("optimizer", "params"),
                      help="keep gradients, master copy and optimizer state on the CPU (params: the weights too, "
                           "ZeRO-3)")
    cost.add_argument("--recompute", choices=("none", "selective", "full"),
                      help="activation recomputation for the per-GPU activations (default none)")
    cost.add_argument("--sequence-parallel", action="store_true",
                      help="split the activations tensor parallelism leaves whole (Megatron's sequence parallel)")
    cost.add_argument("--seq", type=_positive, metavar="N",
                      help="tokens a sequence, for the per-GPU activations (Korthikanti et al. 2022)")


_PARALLEL = ("gpus", "zero", "tp", "pp", "offload", "recompute", "seq")


def _parallel(args: argparse.Namespace) -> dict | None:
    """estimate()'s parallel= from the --gpus ... --seq options, when any is given."""
    given = {name: getattr(args, name) for name in _PARALLEL if getattr(args, name) is not None}
    if not given and not args.sequence_parallel:
        return None
    if set(given) == {"gpus"} and args.optimizer is None and args.tokens:
        return None  # the GPUs of --tokens' time, not a training set-up
    if args.optimizer is None:
        raise SpecError("--gpus, --zero, --tp, --pp, --offload, --recompute and --seq are for training: "
                        "add --optimizer (e.g. adamw) for the memory per GPU, or --tokens D for the time")
    return {**given, "sequence_parallel": args.sequence_parallel, "micro_batch": args.batch}


def _add_throughput_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group(
        "training compute, time and what fits (MACs per token at --context; docs/compute.md)")
    group.add_argument("--tokens", type=_count_text, metavar="D",
                       help="training tokens: FLOPs as 6·N·D and as the per-layer sum, side by side (15e12, 1.4T, "
                            "300B)")
    group.add_argument("--gpu", metavar="NAME",
                       help="an accelerator from the table (a100-40gb, a100-80gb, h100-sxm, h100-pcie, h200, l4, "
                            "rtx-4090, mi300x, tpu-v5e): its peak dense FLOP/s (bf16; fp8 with --dtype fp8) for "
                            "the time, and its memory for the largest batch and context that fit")
    group.add_argument("--peak-flops", type=_count_text, metavar="F",
                       help="peak FLOP/s of one GPU, instead of --gpu's (989.5e12, 312T)")
    group.add_argument("--mfu", type=_fraction, metavar="U",
                       help="model FLOPs utilization: the fraction of the peak training achieves (default 0.4)")
    group.add_argument("--gpu-memory", metavar="SIZE",
                       help="memory of one GPU for what fits, instead of --gpu's (24GiB, 80GB)")


_SUFFIXES = {"k": 10**3, "m": 10**6, "b": 10**9, "g": 10**9, "t": 10**12, "p": 10**15}


def _count_text(text: str) -> int:
    """``15e12``, ``1.4T``, ``300B``, ``2,048`` → an exact int."""
    from decimal import Decimal, InvalidOperation

    clean = text.strip().replace(",", "").replace("_", "")
    scale = _SUFFIXES.get(clean[-1:].lower(), 1) if clean else 1
    try:
        value = Decimal(clean[:-1] if scale > 1 else clean) * scale
    except InvalidOperation:
        value = Decimal(0)
    if value < 1 or value != value.to_integral_value():
        raise argparse.ArgumentTypeError(f"must be a whole number ≥ 1 (15e12, 1.4T, 300B), got {text!r}")
    return int(value)


def _fraction(text: str):
    from fractions import Fraction

    try:
        value = Fraction(text.strip())
    except (ValueError, ZeroDivisionError):
        value = Fraction(0)
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f"must be a fraction in (0, 1], e.g. 0.4; got {text!r}")
    return value


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


MAX_OPTION = 1_000_000_000  # memory.MAX_BATCH (not imported here so --help imports nothing more)


def _whole(text: str, least: int) -> int:
    """A whole-number option from ``least`` to MAX_OPTION; its digits are bounded before int()
    reads them (past 4,300 digits int() raises, telling the user to call sys.set_int_max_str_digits)."""
    value = int(text) if text.isascii() and text.isdigit() and len(text) <= 10 else -1
    if not least <= value <= MAX_OPTION:
        shown = repr(text) if len(text) <= 24 else f"{text[:12]!r}… ({len(text):,} characters)"
        raise argparse.ArgumentTypeError(f"must be a whole number from {least} to {MAX_OPTION:,}, got {shown}")
    return value


def _positive(text: str) -> int:
    return _whole(text, 1)


def _memory(args: argparse.Namespace, reports: Sequence) -> list | None:
    """The memory estimate of each report, when any of the memory options asks for one."""
    parallel = _parallel(args)
    if not (args.memory or args.optimizer or args.batch != 1 or args.dtype or args.context or args.kv_dtype):
        return None
    from .memory import estimate

    return [estimate(report, dtype=args.dtype, batch=args.batch, optimizer=args.optimizer, context=args.context,
                     kv_dtype=args.kv_dtype, parallel=parallel) for report in reports]


def _show(args: argparse.Namespace, report):
    """What to add to the table, from the compute and memory options."""
    from .render._columns import Show

    memory = _memory(args, [report])
    return Show(macs=args.macs or args.paper_macs, flops_per_mac=args.flops_per_mac, paper_macs=args.paper_macs,
                receptive_field=args.receptive_field, memory=memory and memory[0], compute=_compute(args, report),
                fit=_fit(args, report))


def _gpu(args: argparse.Namespace):
    from .accelerators import accelerator

    return accelerator(args.gpu) if args.gpu else None


def _compute(args: argparse.Namespace, report):
    """MACs per token (with --context and --macs, or any training option), training FLOPs
    and time."""
    asked = args.tokens or args.gpu or args.peak_flops or args.mfu
    if not (asked or (args.context and (args.macs or args.paper_macs))):
        return None
    from .compute import DEFAULT_MFU, Throughput, compute

    gpu = _gpu(args)
    if (args.peak_flops or args.mfu or (args.gpus or 1) != 1 and args.tokens) and not (gpu or args.peak_flops):
        raise SpecError("the time of --tokens on --gpus, and --mfu, need a throughput: --gpu NAME or --peak-flops F")
    throughput = None
    if gpu or args.peak_flops:
        peak = args.peak_flops or gpu.peak(args.dtype)
        throughput = Throughput(peak, args.mfu or DEFAULT_MFU, args.gpus or 1, gpu.name if gpu else "",
                                "" if args.peak_flops or not gpu else gpu.source)
    return compute(report, context=args.context, tokens=args.tokens, throughput=throughput,
                   flops_per_mac=args.flops_per_mac)


def _fit(args: argparse.Namespace, report):
    """The largest batch and context that fit --gpu's memory or --gpu-memory."""
    if not (args.gpu or args.gpu_memory):
        return None
    from .accelerators import memory_size
    from .fit import fit

    gpu = _gpu(args)
    memory = memory_size(args.gpu_memory) if args.gpu_memory else gpu.memory
    return fit(report, memory, gpu=gpu.name if gpu else None, dtype=args.dtype, batch=args.batch,
               optimizer=args.optimizer, context=args.context, kv_dtype=args.kv_dtype)


def _depth(text: str) -> int:
    return _whole(text, 0)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        commands = {"zoo": _zoo, "audit": _audit, "explain": _explain, "compare": _compare, "plot": _plot,
                    "sweep": _sweep, "serve": _serve, "solve": run_solve, "exercise": _exercise, "check": _check}
        return commands.get(args.command, _count)(args)
    except LearnableError as err:
        print(f"learnable: error: {err}", file=sys.stderr)
        return err.exit_code
    except BrokenPipeError:  # e.g. `learnable count ... | head`
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        return 130


def _model_options(args: argparse.Namespace) -> dict:
    """count()'s options for code and framework models, from --input, --model and --set."""
    from .code.options import parse_value
    from .inputs import INT, parse_input

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
    from .code import looks_like_code
    from .spec import decode, parse_text, read_bounded

    text = decode(read_bounded(sys.stdin.buffer, "<stdin>"), "<stdin>")
    return text if looks_like_code(text) else parse_text(text, "<stdin>")


@gc_paused  # the count, and writing every row (not `serve`: a server runs for hours)
def _count(args: argparse.Namespace) -> int:
    from .api import count
    from .importers.python_file import is_reference, load_model

    if args.symbolic:
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
        from .api import compare_conventions
        from .render import render

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
        from .render.table import print_report

        print_report(report, explain=args.explain, depth=args.depth, show=show)
    elif args.format == "json":  # streamed: a very large report is never one string
        from .render.formats import json_chunks

        sys.stdout.writelines(json_chunks(report, show))
    else:
        from .render import render

        sys.stdout.write(render(report, args.format, explain=args.explain, depth=args.depth, show=show))


@gc_paused
def _sweep(args: argparse.Namespace) -> int:
    from .api import sweep
    from .importers.python_file import is_reference
    from .render.sweep import render_sweep

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
    from .spec._yaml import load_yaml

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
    from .render.zoo import render_zoo
    from .spec import zoo

    if args.show:
        sys.stdout.write(zoo.text(args.show))
        return 0
    sys.stdout.write(render_zoo(args.format))
    return 0


def _audit(args: argparse.Namespace) -> int:
    from .api import audit
    from .importers.python_file import is_reference, load_model
    from .render.audit import render_audit

    source = load_model(args.source) if is_reference(args.source) else args.source
    result = audit(source, args.claims, convention=args.convention, column=args.column, row=args.row,
                   **_model_options(args))
    sys.stdout.write(render_audit(result, args.format))
    return 0 if result.ok else 1


def _explain(args: argparse.Namespace) -> int:
    from .explain import explain
    from .render.explain import print_explanation, render_json, render_markdown, render_types

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

    from .api import count
    from .compare import compare_reports
    from .importers.python_file import is_reference, load_model
    from .render import compare as renderers

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
    from .api import count
    from .importers.python_file import is_reference, load_model
    from .render.plot import plot

    source = load_model(args.source) if is_reference(args.source) else args.source
    plot(count(source, convention=args.convention, **_model_options(args)), args.output, depth=args.depth)
    print(f"wrote {args.output}")
    return 0


def _exercise(args: argparse.Namespace) -> int:
    from .exercises.cli import run_exercise

    return run_exercise(args)


def _check(args: argparse.Namespace) -> int:
    from .exercises.cli import run_check

    return run_check(args)


def _serve(args: argparse.Namespace) -> int:
    from .serve import serve

    return serve(args.host, args.port)
