"""Every registered rule, fed generated arguments and input shapes through the public path (a
spec dict, or the compact form), ends in a Report that keeps the invariants or in one clear
LearnableError. The invariants: counts are non-negative ints, trainable + non-trainable =
params = the weights' sizes, output sizes are positive or None, the printed arithmetic
evaluates to its number, totals are the sum of the rows and a shared layer adds nothing,
and a convolution-like layer's count does not depend on the spatial size.

Arguments are drawn from each argument's domain, found by asking its own converter which
of a pool of values it accepts (so a rule added tomorrow is covered without a line here),
and, less often, from the whole pool: wrong types, negatives, zero, huge ints, None,
strings. Input shapes have any rank, unknown (None) and huge sizes.

LEARNABLE_SWEEP=20 runs twenty times as many examples per rule.
"""

from __future__ import annotations

import math
import os
import signal
import traceback
from contextlib import contextmanager

import pytest
from conftest import assert_formulas_hold
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import learnable
from learnable.errors import LearnableError
from learnable.rules import CHANNELS_FIRST, DATA_FORMATS, PYTORCH, all_rules, lookup
from learnable.rules._args import REQUIRED, Arg

SWEEP = max(1, int(os.environ.get("LEARNABLE_SWEEP", "1")))
RULES = all_rules()
HUGE = 2**63 - 1

# The pool every argument's values come from. In-domain values are those its converter takes.
INTS = [-1, 0, 1, 2, 3, 4, 5, 8, 16, 2**31, HUGE, HUGE + 1, 10**30]
SCALARS = [None, True, False, 0.0, 0.5, 1.0, 2.5, -1.0, float("nan"), float("inf"), "", "x"]
SEQUENCES = [(1,), (2, 2), (1, 2, 3), [3, 3], (0, 0), ((1, 1), (1, 1)), ((0, 1), (2, 0), (1, 1)), (-1,),
             (None, 4), [2, 3, 4], [1, -1], (2, 2, 2, 2), [], (-1, 2), (HUGE, HUGE)]
LAYERS = ["LSTM", {"GRU": 4}, "LSTM(4)", {"Dense": 3}, {"SimpleRNN": {"units": 2}}, "Nope(3)"]
WORDS = ["nearest", "linear", "bilinear", "bicubic", "trilinear", "area", "relu", "gelu", "softmax", "sigmoid",
         "valid", "same", "causal", "full", "mean", "sum", "max", "concat", "channels_last", "channels_first",
         "zeros", "reflect", "replicate", "circular", "ave", "mul", "dot", "tanh", "VALID", "batchmean"]
TENSORS = [[["w", [2, 3], True, False]], [["b", [4], False, True], ["w", [0], True, False]]]


def words_in(convert, seen=None) -> set[str]:
    """Strings a converter's closures hold (a choice's options), to hit its domain."""
    seen = seen if seen is not None else set()
    if id(convert) in seen:
        return set()
    seen.add(id(convert))
    found: set[str] = set()
    for cell in getattr(convert, "__closure__", None) or ():
        value = cell.cell_contents
        if isinstance(value, (tuple, frozenset, set)) and all(isinstance(v, str) for v in value):
            found |= set(value)
        elif callable(value):
            found |= words_in(value, seen)
    return found


def accepts(arg: Arg, value) -> bool:
    try:
        arg.convert(value)
    except Exception:  # noqa: BLE001 - an ArgumentError, or a converter bug the sweep itself will meet
        return False
    return True


def domain(arg: Arg) -> tuple[list, list]:
    """(values the argument accepts, every value to try) for one argument."""
    pool = [*INTS, *SCALARS, *SEQUENCES, *LAYERS, *TENSORS, *WORDS, *sorted(words_in(arg.convert))]
    if arg.default is not REQUIRED:
        pool.append(arg.default)
    good = [v for v in pool if accepts(arg, v)]
    return good or pool, pool


def domains(rule) -> dict[str, tuple[list, list]]:
    return {arg.name: domain(arg) for arg in rule.args}


DOMAINS = {rule: domains(rule) for rule in RULES}


def extreme(value) -> bool:
    """A value at the edge of its domain (a large size, a NaN): drawn, but less often,
    since a kernel of 16 rarely fits the small inputs drawn."""
    if isinstance(value, (list, tuple)):
        return any(extreme(v) for v in value)
    if isinstance(value, float):
        return not math.isfinite(value)
    return isinstance(value, int) and abs(value) > 4


def weighted(*pairs) -> st.SearchStrategy:
    """``weighted((3, a), (1, b))``: a three times as often as b."""
    return st.sampled_from([value for weight, choices in pairs for value in choices for _ in range(weight)])


# Input sizes: mostly small ones a layer can take, then unknown, huge and impossible ones.
dims = weighted((8, [1, 2, 3, 4, 5, 8, 16]), (3, [None]), (1, [2**31, HUGE, 0, -1]))
# Adaptive pooling's MACs also loop over an output size kept from a huge input: small sizes
# only, until test_adaptive_pool_of_a_huge_size_is_quick passes.
small_dims = weighted((8, [1, 2, 3, 4, 5, 8, 16]), (3, [None]), (1, [0, -1]))
SLOW_ON_HUGE_INPUTS = {f"Adaptive{kind}Pool{rank}d" for kind in ("Avg", "Max") for rank in (1, 2, 3)}


@st.composite
def arguments(draw, rule) -> dict:
    """Keyword arguments: mostly left to their defaults or drawn from their domain."""
    kwargs = {}
    for arg in rule.args:
        good, pool = DOMAINS[rule][arg.name]
        weights = ("in", "in", "in", "in", "any") if arg.default is REQUIRED else ("omit", "omit", "in", "in", "any")
        mode = draw(st.sampled_from(weights))
        if mode == "any" and draw(st.integers(0, 3)) == 0:  # now and then a wrong value
            kwargs[arg.name] = draw(st.sampled_from(pool))
        elif mode != "omit":
            typical = [v for v in good if not extreme(v)] or good
            kwargs[arg.name] = draw(st.sampled_from(good if draw(st.integers(0, 7)) == 0 else typical))
    return kwargs


# Arguments that must equal the input's channels or features (PyTorch's in_channels, ...).
CHANNEL_ARGS = {"in_channels", "in_features", "num_features", "num_channels", "input_size", "embed_dim", "d_model"}


def matched(kwargs: dict, rule, shape: list, data_format: str) -> dict:
    """``kwargs`` with the channel-like arguments set from the input, so that PyTorch's
    layers, which restate their input's size, succeed often enough to check invariants."""
    axis = channel_axis(rule, kwargs, data_format if rule.layout else "channels_last")
    if axis >= len(shape):  # a rank-1 input has no axis 1: leave the arguments as drawn
        return kwargs
    channels = shape[axis]
    names = {arg.name for arg in rule.args} & CHANNEL_ARGS
    return {**kwargs, **{name: channels for name in names}} if channels is not None else kwargs


def rank_hint(rule) -> int | None:
    """The rank a rule most likely takes, from its name (Conv2D: 3; ConvLSTM2D: 4) or family:
    drawn most of the time, so that generated calls often succeed."""
    digits = [c for c, d in zip(rule.name, rule.name[1:]) if c in "123" and d in "dD"]
    if digits:
        return int(digits[-1]) + 1 + (rule.family == "recurrent")
    return 2 if rule.family in ("recurrent", "attention", "transformer") else None


def shape(draw, rule) -> list:
    hint = rank_hint(rule)
    rank = hint if hint and draw(st.integers(0, 3)) else draw(st.integers(1, 5))
    return draw(st.lists(small_dims if rule.name in SLOW_ON_HUGE_INPUTS else dims, min_size=rank, max_size=rank))


@st.composite
def input_shapes(draw, rule) -> list[list]:
    """As many inputs as the rule takes (now and then one more), often of one shape, as
    merges need."""
    lo, hi = rule.arity
    most = min(hi if hi is not None else 3, 3)
    n = most + 1 if draw(st.integers(0, 7)) == 0 else draw(st.integers(min(max(lo, 1), most), most))
    base = shape(draw, rule)
    return [base if draw(st.integers(0, 3)) else shape(draw, rule) for _ in range(n)]


def type_name(rule) -> str:
    """A name that means exactly this rule: ``nn.`` selects PyTorch's, ``layers.`` Keras's."""
    return ("nn." if rule.framework == PYTORCH else "layers.") + rule.name


def spec_of(rule, kwargs: dict, shapes: list[list], data_format: str, convention: str) -> dict:
    layer = {**kwargs, "name": "probe"}
    spec = {"data_format": data_format, "convention": convention}
    if shapes:
        spec["inputs"] = {f"x{i}": shape for i, shape in enumerate(shapes)}
        layer["inputs"] = list(spec["inputs"])
    return {**spec, "layers": [{type_name(rule): layer}]}


@contextmanager
def time_limit(seconds: float):
    """A hang is a bug too: fail with TimeoutError instead of stalling the suite. (Counting
    one layer takes milliseconds; the limit is far above any real cost.)"""
    def expire(*_):
        raise TimeoutError(f"still counting after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def compact_of(rule, kwargs: dict, shapes: list[list]) -> str:
    """The same network in the compact form: the inputs as Input(...) calls, the values as
    Python literals (a NaN becomes the name nan, an expression the parser keeps as text)."""
    given = {**kwargs, "name": "probe", **({"inputs": [f"x{i}" for i in range(len(shapes))]} if shapes else {})}
    inputs = [f"Input({', '.join(map(repr, shape))}, name='x{i}')" for i, shape in enumerate(shapes)]
    return " | ".join([*inputs, f"{type_name(rule)}({', '.join(f'{k}={v!r}' for k, v in given.items())})"])


def source_of(form: str, rule, kwargs: dict, shapes: list[list], data_format: str, convention: str):
    """(source, options of count()) for a spec dict or a compact string."""
    if form == "compact":
        return compact_of(rule, kwargs, shapes), {"data_format": data_format, "convention": convention}
    return spec_of(rule, kwargs, shapes, data_format, convention), {}


def outcome(source, **options):
    """The report, or None after checking that the error is one clear line. Any other
    exception propagates: it is a bug, and hypothesis shows the spec that raised it."""
    try:
        with time_limit(20):
            return learnable.count(source, **options)
    except LearnableError as err:
        message = str(err)
        assert message.strip(), f"empty message from {type(err).__name__}"
        assert len(message.splitlines()) == 1, message
        return None


def check_row(row) -> None:
    assert all(isinstance(v, int) and not isinstance(v, bool) and v >= 0
               for v in (row.params, row.trainable, row.non_trainable, row.buffers)), row
    assert row.trainable + row.non_trainable == row.params, row
    assert all(isinstance(d, int) and not isinstance(d, bool) and d >= 1 for d in row.output_shape if d is not None), row
    for weight in row.weights:
        assert all(isinstance(d, int) and d >= 0 for d in weight.shape) and weight.size == math.prod(weight.shape)
    assert sum(w.size for w in row.weights if not w.buffer) == row.params, row
    assert sum(w.size for w in row.weights if w.buffer) == row.buffers, row
    assert_formulas_hold(row)  # the printed arithmetic, read by an independent evaluator


def check_report(report) -> None:
    for row in report.layers:
        check_row(row)
    data = report.to_dict()
    assert data["total_params"] == sum(layer["params"] for layer in data["layers"])
    assert data["trainable_params"] + data["non_trainable_params"] == data["total_params"]


def check_shared_once(spec: dict, rule, report) -> None:
    """The same layer used again on the same inputs (``shares``) adds a row, not weights:
    the total is the sum of the rows, the sharing one counting 0."""
    probe = spec["layers"][0][type_name(rule)]
    again = {type_name(rule): {"shares": "probe", "name": "again", **({"inputs": probe["inputs"]} if "inputs" in probe else {})}}
    twice = outcome({**spec, "layers": [*spec["layers"], again]})
    assert twice is not None, "sharing a layer that counts must count"
    check_report(twice)
    assert twice.layer("again").params == 0 and twice.total_params == report.total_params


def channel_axis(rule, kwargs: dict, data_format: str) -> int:
    """Where a layout rule reads channels: its own data_format argument, else the spec's;
    after the time axis for a recurrent one (ConvLSTM2D reads (time, channels, h, w))."""
    own = kwargs.get("data_format")
    layout = own.lower() if isinstance(own, str) and own.lower() in DATA_FORMATS else data_format
    if layout != CHANNELS_FIRST:
        return -1
    return 1 if rule.family == "recurrent" else 0


def respaced(shape: list, axis: int, sizes: list[int]) -> list:
    """The same shape with every axis but the channels resized."""
    keep = axis % len(shape)
    return [d if i == keep else sizes[i % len(sizes)] for i, d in enumerate(shape)]


@pytest.mark.parametrize("rule", RULES, ids=[type_name(r) for r in RULES])
# In CI (SWEEP 1) the same examples every run, so that a failure is about the change under
# test; a sweep draws new ones each time, to find what CI has not.
@settings(max_examples=12 * SWEEP, deadline=None, suppress_health_check=list(HealthCheck), derandomize=SWEEP == 1)
@given(data=st.data())
def test_any_arguments_and_shapes_end_in_a_report_or_a_clear_error(rule, data):
    shapes = data.draw(input_shapes(rule), label="shapes")
    data_format = data.draw(st.sampled_from(DATA_FORMATS), label="data_format")
    kwargs = data.draw(arguments(rule), label="kwargs")
    if shapes and data.draw(st.integers(0, 3), label="match channels"):
        kwargs = matched(kwargs, rule, shapes[0], data_format)
    convention = data.draw(st.sampled_from(["keras", "pytorch"]), label="convention")
    form = data.draw(st.sampled_from(["spec", "spec", "compact"]), label="form")
    source, options = source_of(form, rule, kwargs, shapes, data_format, convention)
    report = outcome(source, **options)
    if report is None:
        return
    check_report(report)
    if form == "spec" and report.layer("probe").params:
        check_shared_once(spec_of(rule, kwargs, shapes, data_format, convention), rule, report)
    if rule.layout and len(shapes) == 1:  # convolution-like: weights never depend on the spatial size
        sizes = data.draw(st.lists(st.integers(1, 64), min_size=1, max_size=5), label="other sizes")
        other = [respaced(shapes[0], channel_axis(rule, kwargs, data_format), sizes)]
        source, options = source_of(form, rule, kwargs, other, data_format, convention)
        again = outcome(source, **options)
        if again is not None:
            assert again.layer("probe").params == report.layer("probe").params
            assert again.layer("probe").buffers == report.layer("probe").buffers


def test_each_type_name_means_its_rule():
    """The generator's names reach exactly the rule under test (Conv2D is not Conv2d)."""
    assert all(lookup(type_name(rule)) is rule for rule in RULES)


# ---- bugs the sweep found in the rules, fixed: each would fail again without its fix -------------


def test_none_axis_beside_a_window_too_large():
    with pytest.raises(LearnableError, match="larger than its padded input"):
        learnable.count("Input(3, None, 1) | nn.Conv2d(3, 4, 2)")  # width 1 < kernel 2; height unknown


def test_adaptive_pool_of_a_huge_size_is_counted():
    # Its MACs are a closed form (pooling.py), not a sum over 2^62 output positions.
    huge = 2**62
    report = learnable.count(f"Input(2, {huge}) | nn.AdaptiveAvgPool1d({huge})", data_format="channels_first")
    assert report.layers[-1].output_shape == (2, huge)
    assert report.layers[-1].macs == 2 * huge  # windows of one input each: every input once


def test_upsample_mode_that_is_a_list_is_refused():
    with pytest.raises(LearnableError, match="mode"):
        learnable.count("Input(3, 4, 4) | nn.Upsample(scale_factor=2, mode=[2, 3])")


def test_tensors_with_a_negative_dim_are_refused():
    with pytest.raises(LearnableError):
        learnable.count({"input": [3], "layers": [{"Tensors": {"tensors": [["w", [-5], True, False]]}}]})


@pytest.mark.parametrize("output_shape", [[0, "x", -3], "abc", [2.5], True])
def test_tensors_output_shape_must_be_a_shape(output_shape):
    with pytest.raises(LearnableError):
        learnable.count({"input": [3], "layers": [{"Tensors": {"output_shape": output_shape}}, "Flatten"]})


def test_tensors_output_shape_reads_as_any_shape_does():
    report = learnable.count({"input": [3], "layers": [{"Tensors": {"output_shape": 5}}, "Flatten"]})
    assert report.layers[1].output_shape == (5,)  # one size is a 1-D shape, as in Input(5)
