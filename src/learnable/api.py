"""The Python API: ``learnable.count(source) -> Report``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from . import engine
from ._gc import gc_paused
from .errors import SpecError
from .report import Report
from .rules import CONVENTIONS, DATA_FORMATS
from .spec import load
from .spec.build import build_graph

if TYPE_CHECKING:  # imported when asked for: a count does not need them
    from collections.abc import Iterable, Iterator

    from .auditing import AuditResult
    from .comparison import Comparison
    from .formulas import SymbolicCount
    from .solving import Solution
    from .sweeping import Variant


@gc_paused
def count(source: Any, *, input_shape: Any = None, data_format: str | None = None,
          convention: str | None = None, model: str | None = None, values: Mapping[str, Any] | None = None,
          integer_input: bool = False, lora: Any = None, open_composites: bool = False) -> Report:
    """Count a network's parameters, layer by layer, with the arithmetic.

    ``source`` is a spec file path (``.yaml``, ``.yml``, ``.json``, or compact text), a
    YAML/JSON spec string, a compact-form string such as
    ``"Input(28, 28, 1) | Conv2D(32, 3) | Flatten() | Dense(10)"``, a spec dict, model
    code (a ``.py`` file or Python text, Keras or PyTorch: read, never run), or a model: a
    PyTorch ``nn.Module``, a Keras model, an ONNX model or file, a checkpoint
    (``.safetensors``, ``.pt``), a GGUF file, or a Hugging Face folder, its ``config.json``
    or its ``*.safetensors.index.json`` (``input_shape=[tokens]`` sets the sequence for MACs).
    ``input_shape`` is one example's shape, batch excluded (or
    a list of them), for code or a PyTorch module that states none (without it: counts and
    formulas, no shapes); ``integer_input`` says it holds token ids. A PyTorch module's
    inputs may each have their dtype and keyword: ``"128:int"``, ``["3x224x224",
    "16:int"]``, ``{"input_ids": "128:int", "decoder_input_ids": "8:int"}``
    (``learnable.inputs``). For code, ``model``
    names the model to count (``"net"``, ``"ResNet(BasicBlock, [2, 2, 2, 2])"``; default:
    the last one built) and ``values`` gives names the code leaves unknown or should
    change (``{"num_classes": 10}``). ``data_format`` ("channels_last" or
    "channels_first") and ``convention`` ("keras" or "pytorch") override the source's.
    ``lora`` counts the network fine-tuned with LoRA adapters, as PEFT counts it: PEFT's
    ``LoraConfig`` keywords (``{"r": 16, "target_modules": ["q_proj", "v_proj"],
    "lora_alpha": 32, "bias": "none", "modules_to_save": ["lm_head"]}``; ``target_modules``
    as a str is one regex, or ``"all-linear"``), a :class:`learnable.lora.LoraConfig`, or
    PEFT's own ``LoraConfig``; the base becomes non-trainable (docs in ``learnable.lora``).
    ``open_composites`` counts a PyTorch model's ``nn.Transformer*`` modules as their
    submodules' rows (``layers.0.self_attn``, ``linear1``, ...) in blocks, as ``--depth``
    shows them, instead of one row each by the composite's rule.
    Raises :class:`learnable.LearnableError` for any problem with the input.
    """
    report = _count(source, input_shape, data_format, convention, model, values, integer_input, open_composites)
    if lora is None:
        return report
    from .lora import apply

    return apply(report, lora)


def _count(source: Any, input_shape: Any, data_format: str | None, convention: str | None, model: str | None,
           values: Mapping[str, Any] | None, integer_input: bool, open_composites: bool = False) -> Report:
    _check_option("data_format", data_format, DATA_FORMATS)
    _check_option("convention", convention, CONVENTIONS)
    from .code import code_source

    code = code_source(source)
    if code is not None:
        return engine.run(_code_graph(code, input_shape, data_format, convention, model, values, integer_input))
    if model is not None or values:
        raise SpecError("--model and --set (model= and values= in Python) are for model code (a .py file or "
                        "Python text)")
    from .importers import import_graph

    extra = {"integer_input": True} if integer_input else {}  # (a PyTorch module's trace reads it)
    if open_composites:
        extra["open_composites"] = True
    graph = import_graph(source, input_shape=input_shape, convention=convention, **extra)
    if graph is not None:
        return engine.run(graph)
    if input_shape is not None:
        raise SpecError("--input (input_shape= in Python) is for model code and framework models; a spec states "
                        "its input itself (input: [...], or Input(...) in the compact form)")
    return engine.run(build_graph(load(source), data_format, convention))


def _code_graph(code: tuple[str, str | None], input_shape: Any, data_format: str | None, convention: str | None,
                model: str | None, values: Mapping[str, Any] | None, integer_input: bool) -> Any:
    from dataclasses import replace

    from .code import read_code

    text, name = code
    graph = read_code(text, name, model=model, input_shape=input_shape, integer_input=integer_input,
                      values=values, data_format=data_format)
    return replace(graph, convention=convention) if convention else graph


def _check_option(name: str, value: str | None, options: tuple[str, ...]) -> None:
    if value is not None and value not in options:
        raise SpecError(f"{name} must be {' or '.join(options)}, got {value!r}")


def compare_conventions(source: Any, *, input_shape: Any = None, data_format: str | None = None,
                        **code_options: Any) -> Comparison:
    """The network counted as Keras counts it and as PyTorch counts it, side by side, with
    the reason wherever they differ."""
    from .code import code_source
    from .importers import framework_of, model_file

    if code_source(source) is None and framework_of(source) is None and model_file(source) is None:
        source = load(source)  # parse a spec once
    from .comparison import Comparison

    keras, pytorch = (count(source, input_shape=input_shape, data_format=data_format, convention=c, **code_options)
                      for c in CONVENTIONS)
    return Comparison(keras, pytorch)


def audit(source: Any, claims: Any, *, column: str | None = None, row: str | None = None,
          **options: Any) -> AuditResult:
    """Check a published table (a file, or ``-`` for standard input: Markdown, CSV, aligned
    text, a Keras summary or torchsummary / torchinfo output) against the network: each
    claim ✓ or ✗ with the computed value and its arithmetic. ``column`` picks this network's
    column in a table of several, ``row`` its row (in a table of networks that names it
    otherwise); ``options`` are those of :func:`count`."""
    from .auditing import audit_file

    return audit_file(count(source, **options), claims, column, row)


def sweep(source: Any, grid: Mapping[str, Iterable[Any]], *, data_format: str | None = None,
          convention: str | None = None, paired: bool = False, **code_options: Any) -> Iterator[Variant]:
    """Count a spec over a grid of argument values: every combination, one
    :class:`~learnable.sweeping.Variant` (its ``values`` and ``report``) at a time.

    ``grid`` maps ``LAYER.ARGUMENT`` to a list of values: a top-level layer or block use by
    the name the report gives it (``conv_2``, ``dense_1``), and one of its arguments, a
    block's parameter, or ``repeat``; ``input.shape`` is the input's shape::

        for variant in learnable.sweep("model.yaml", {"conv_2.filters": [16, 32, 64], "fc_1.units": [64, 128]}):
            print(variant.values, variant.report.total_params)

    For model code, a key is a name the code's top level sets (``{"num_classes": [10, 100]}``),
    and ``code_options`` are :func:`count`'s (``input_shape``, ``model``, ``values``,
    ``integer_input``).

    The first key varies slowest. With ``paired=True`` the i-th values of all keys make the
    i-th variant instead (``zip``, not the grid: GPT-2 S/M/L/XL's widths, depths and heads, one
    row each), and every key needs as many values. Keys and values are checked at once, each variant when it
    is counted: one that cannot exist raises :class:`~learnable.sweeping.VariantError` (a
    :class:`LearnableError`) naming its values.
    """
    _check_option("data_format", data_format, DATA_FORMATS)
    _check_option("convention", convention, CONVENTIONS)
    from .sweeping import variants

    return variants(source, grid, data_format, convention, paired, **code_options)


def symbolic(source: Any, variables: Any, **options: Any) -> SymbolicCount:
    """A spec's counts as exact polynomials of its ``params:`` named in ``variables``
    (``["width", "depth"]``): the total, trainable and MACs, and each layer, fitted on the
    engine's counts and checked at many further points (docs/symbolic.md). ``options``:
    ``ranges`` (``{"width": "8..512"}``), ``values`` (other params), ``data_format``,
    ``convention``."""
    from .formulas import symbolic as fitted

    return fitted(source, variables, **options)


def solve(source: Any, budget: str, variable: str, **options: Any) -> Solution:
    """The largest (for ``>=``, smallest) value of the spec's param ``variable`` whose count
    meets ``budget`` (``"params <= 5e6"``, ``"macs <= 1e9"``, ``"memory <= 8GiB"``), with the
    count there and at the next value. ``options``: ``within`` (``"1..100000"``), ``values``,
    ``memory`` (estimate()'s dtype, batch, optimizer), ``data_format``, ``convention``."""
    from .solving import solve as solved

    return solved(source, budget, variable, **options)


def exercise(level: str, *, seed: int = 0, count: int = 10) -> Any:
    """A sheet of ``count`` exercises at ``level`` (dense, conv, pooling, branches, recurrent,
    attention), the same for the same seed: ``.to_dict()`` is its JSON, and
    ``learnable.exercises.render`` prints it (docs/exercises.md)."""
    from .exercises import exercise as draw

    return draw(level, seed, count)


def check(sheet: Any, answers: Any) -> list:
    """Mark a student's answers to a sheet (a Sheet, its JSON or file) question by question,
    naming the classic mistake behind a wrong number (docs/exercises.md)."""
    from .exercises import check as mark

    return mark(sheet, answers)
