"""Differential tests against PyTorch: the oracle is torch itself.

Each network is written once, as learnable spec items with PyTorch-named layers (channels
first, batch excluded), then counted by ``learnable.count`` and built as plain ``torch.nn``
modules that run a forward pass on a zeros tensor with batch 1. For every layer the output
shape (batch dropped), ``sum(p.numel() for p in m.parameters())`` and each parameter's
numel (and its dimensions, up to order: learnable lists kernels in Keras's layout) must
agree. No expected number is copied from learnable's output.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from typing import Any

import pytest

torch = pytest.importorskip("torch")

import learnable
from conftest import assert_formulas_hold, sweep

pytestmark = pytest.mark.frameworks


# ---- the helper: same description → learnable and torch → compare every layer -------------


def _split(item: Any) -> tuple[str, tuple[Any, ...], dict[str, Any]]:
    """A spec item (``"nn.Flatten"``, ``{"Linear": [400, 120]}``, ``{"Conv2d": {...}}``) →
    (type, args, kwargs), read the way learnable's YAML/JSON reader reads it."""
    if isinstance(item, str):
        return item, (), {}
    ((type_name, value),) = item.items()
    if value is None:
        return type_name, (), {}
    if isinstance(value, Mapping):
        return type_name, (), dict(value)
    if isinstance(value, list):
        return type_name, tuple(value), {}
    return type_name, (value,), {}


def _tuples(value: Any) -> Any:
    """YAML-style lists → tuples, as torch signatures expect."""
    if isinstance(value, (list, tuple)):
        return tuple(_tuples(v) for v in value)
    return value


def torch_module(item: Any) -> Any:
    type_name, args, kwargs = _split(item)
    cls = getattr(torch.nn, type_name.rpartition(".")[2])
    return cls(*_tuples(args), **{k: _tuples(v) for k, v in kwargs.items()})


def run_torch(layers: Sequence[Any], input_shape: Sequence[int]) -> list[tuple[Any, tuple[int, ...]]]:
    """Build each module and run it on zeros (batch 1): [(module, output shape without batch)].

    Raises what torch raises: ValueError on construction, RuntimeError on forward."""
    x = torch.zeros(1, *input_shape)
    out = []
    with torch.no_grad():
        for item in layers:
            module = torch_module(item)
            x = module(x)
            out.append((module, tuple(x.shape[1:])))
    return out


def compare(report: learnable.Report, input_shape: Sequence[int], built: Sequence[tuple[Any, tuple[int, ...]]]) -> None:
    """Assert every learnable row matches its torch module."""
    rows = report.layers
    assert len(rows) == 1 + len(built), f"learnable reports {len(rows)} rows for 1 input + {len(built)} modules"
    first = rows[0]
    assert first.type == "Input" and first.output_shape == tuple(input_shape) and first.params == 0, first
    for row, (module, shape) in zip(rows[1:], built):
        where = f"{row.name} ({row.type}) vs torch {module!r}"
        assert row.type == type(module).__name__, where
        assert row.output_shape == shape, f"{where}: output shape {row.output_shape} != torch {shape}"
        params = list(module.parameters())
        total = sum(p.numel() for p in params)
        assert row.params == total, f"{where}: params {row.params} != torch {total}"
        trainable = sum(p.numel() for p in params if p.requires_grad)
        assert (row.trainable, row.non_trainable) == (trainable, total - trainable), where
        assert report.convention == "pytorch", "a network of PyTorch layers is counted as PyTorch counts it"
        ours = [(w.name, w.shape, w.size) for w in row.weights if not w.buffer]
        theirs = [(name, tuple(p.shape), p.numel()) for name, p in module.named_parameters()]
        assert ours == theirs, f"{where}: parameters {ours} != torch {theirs}"
        assert sum(b.numel() for b in module.buffers()) == 0, "these layers own no buffers"
        assert_formulas_hold(row)
    assert report.total_params == sum(p.numel() for module, _ in built for p in module.parameters())


def assert_torch_agrees(layers: Sequence[Any], input_shape: Sequence[int], source: Any = None) -> learnable.Report:
    """Count ``layers`` with learnable (or ``source``, the same network in another form) and
    run them in torch; assert every layer matches."""
    report = learnable.count(source if source is not None else {"input": list(input_shape), "layers": list(layers)})
    compare(report, input_shape, run_torch(layers, input_shape))
    return report


def check(layers: Sequence[Any], input_shape: Sequence[int]) -> str:
    """torch decides: if it runs the network, learnable must match every layer; if it raises
    (RuntimeError on forward, ValueError on construction), learnable must raise LearnableError."""
    spec = {"input": list(input_shape), "layers": list(layers)}
    try:
        built = run_torch(layers, input_shape)
    except (RuntimeError, ValueError) as torch_error:
        try:
            report = learnable.count(spec)
        except learnable.LearnableError:
            return "rejected"
        pytest.fail(
            f"torch rejects input {input_shape} + {layers} ({type(torch_error).__name__}: {str(torch_error)[:300]}), "
            f"but learnable counts it: {[(r.name, r.output_shape, r.params) for r in report.layers]}"
        )
    try:
        report = learnable.count(spec)
    except learnable.LearnableError as err:
        pytest.fail(
            f"torch runs input {input_shape} + {layers} (output shapes {[s for _, s in built]}), "
            f"but learnable raises: {err}"
        )
    compare(report, input_shape, built)
    return "built"


def test_helper_detects_a_mismatch():
    report = learnable.count({"input": [3, 8, 8], "layers": [{"Conv2d": [3, 4, 3]}]})
    with pytest.raises(AssertionError):
        compare(report, [3, 8, 8], run_torch([{"Conv2d": [3, 4, 3, 2]}], [3, 8, 8]))
    with pytest.raises(AssertionError):
        compare(
            report,
            [3, 8, 8],
            run_torch([{"Conv2d": {"in_channels": 3, "out_channels": 4, "kernel_size": 3, "bias": False}}], [3, 8, 8]),
        )


# ---- convolutions ----------------------------------------------------------------------------


def _conv(rank: int, c_in: int, c_out: int, k: Any, **kwargs: Any) -> dict[str, Any]:
    return {f"Conv{rank}d": {"in_channels": c_in, "out_channels": c_out, "kernel_size": k, **kwargs}}


CONV_CASES = [
    ([8, 50], [_conv(1, 8, 16, 3)]),
    ([8, 50], [_conv(1, 8, 16, 3, groups=4, bias=False)]),
    ([8, 50], [_conv(1, 8, 16, 5, stride=3, padding=2)]),
    ([8, 50], [_conv(1, 8, 16, 3, dilation=4, padding=1)]),
    ([8, 9], [_conv(1, 8, 4, 4, padding="same")]),
    ([8, 9], [_conv(1, 8, 4, 4, padding="same", dilation=3)]),
    ([8, 9], [_conv(1, 8, 4, 3, padding="valid")]),
    ([3, 32, 32], [_conv(2, 3, 64, 3)]),
    ([3, 32, 32], [_conv(2, 3, 64, 3, stride=2, padding=1, dilation=2, padding_mode="reflect")]),
    ([32, 16, 16], [_conv(2, 32, 64, [3, 5], groups=8, bias=False)]),
    ([3, 224, 224], [_conv(2, 3, 8, 7, stride=2, padding=3)]),
    ([3, 7, 9], [_conv(2, 3, 4, [2, 4], stride=[2, 3], padding=[1, 0])]),
    ([3, 7, 9], [_conv(2, 3, 6, 3, padding="same", dilation=[1, 2], groups=3)]),
    ([3, 7, 9], [_conv(2, 3, 6, 3, stride=2, dilation=2, padding=2)]),  # torch allows stride with dilation
    ([1, 3, 3], [_conv(2, 1, 8, 5, padding=1)]),
    ([1, 3, 3], [_conv(2, 1, 8, 5, padding="same")]),
    ([4, 8, 8, 8], [_conv(3, 4, 8, 3)]),
    ([4, 8, 8, 8], [_conv(3, 4, 8, 3, groups=2, bias=False)]),
    ([4, 9, 7, 8], [_conv(3, 4, 8, [1, 3, 2], stride=[1, 2, 3], padding=[0, 1, 2], dilation=[2, 1, 1])]),
    ([4, 9, 7, 8], [_conv(3, 4, 8, 3, padding="same", dilation=2)]),
]


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel lengths")
@pytest.mark.parametrize(("input_shape", "layers"), CONV_CASES, ids=lambda v: str(v))
def test_convolutions(input_shape, layers):
    assert_torch_agrees(layers, input_shape)


@pytest.mark.parametrize(
    ("input_shape", "layers"),
    [
        ([1, 3, 3], [_conv(2, 1, 8, 5)]),  # kernel larger than the input
        ([1, 3], [_conv(1, 1, 8, 5)]),
        ([3, 10, 10], [_conv(2, 3, 8, 3, stride=2, padding="same")]),  # 'same' with stride: ValueError
        ([6, 10, 10], [_conv(2, 6, 8, 3, groups=4)]),  # groups do not divide in_channels
        ([8, 10, 10], [_conv(2, 8, 6, 3, groups=4)]),  # groups do not divide out_channels
        ([4, 1, 1], [{"MaxPool2d": {"kernel_size": 2}}]),
        ([4, 1, 1], [{"AvgPool2d": {"kernel_size": 2}}]),
        ([4, 9, 9], [{"MaxPool2d": {"kernel_size": 3, "padding": 2}}]),  # pad > kernel/2
        ([4, 9], [{"AvgPool1d": {"kernel_size": 4, "padding": 3}}]),
    ],
    ids=lambda v: str(v),
)
def test_configurations_both_reject(input_shape, layers):
    assert check(layers, input_shape) == "rejected"


# ---- pooling -------------------------------------------------------------------------------


POOL_CASES = [
    # The CONVENTIONS case: the raw ceil formula gives 4, torch drops the window that would
    # start in the right padding.
    ([4, 5], [{"MaxPool1d": {"kernel_size": 2, "stride": 2, "padding": 1, "ceil_mode": True}}]),
    ([4, 5], [{"MaxPool1d": [2, 2, 1]}]),
    ([4, 11], [{"MaxPool1d": {"kernel_size": 3, "stride": 2, "padding": 1, "dilation": 2}}]),
    ([4, 11], [{"MaxPool1d": {"kernel_size": 3, "stride": 2, "dilation": 2, "ceil_mode": True}}]),
    ([4, 7, 7], [{"MaxPool2d": 2}]),
    ([4, 7, 7], [{"MaxPool2d": {"kernel_size": 2, "ceil_mode": True}}]),
    ([4, 7, 9], [{"MaxPool2d": {"kernel_size": [3, 2], "stride": [2, 1], "padding": [1, 1], "dilation": [1, 2]}}]),
    ([4, 10, 9], [{"MaxPool2d": {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True}}]),
    ([4, 6, 7, 8], [{"MaxPool3d": {"kernel_size": 2, "stride": [1, 2, 3], "padding": 1, "ceil_mode": True}}]),
    ([4, 11], [{"AvgPool1d": {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True}}]),
    ([4, 7, 7], [{"AvgPool2d": {"kernel_size": 2, "ceil_mode": True}}]),
    (
        [4, 7, 9],
        [{"AvgPool2d": {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True, "count_include_pad": False}}],
    ),
    ([4, 5, 5], [{"AvgPool2d": {"kernel_size": 2, "stride": 2, "padding": 1, "ceil_mode": True}}]),
    ([4, 6, 7, 8], [{"AvgPool3d": {"kernel_size": [2, 3, 2], "ceil_mode": True}}]),
    ([3, 10, 11], [{"AdaptiveAvgPool2d": 1}]),
    ([3, 10, 11], [{"AdaptiveAvgPool2d": [[7, 5]]}]),
    ([3, 10, 11], [{"AdaptiveAvgPool2d": {"output_size": [7, None]}}]),
    ([3, 4, 4], [{"AdaptiveAvgPool2d": {"output_size": 6}}]),  # larger than the input: allowed
    ([3, 10], [{"AdaptiveAvgPool1d": 4}]),
    ([3, 5, 6, 7], [{"AdaptiveAvgPool3d": [[2, 3, 1]]}]),
    ([3, 10, 11], [{"AdaptiveMaxPool2d": {"output_size": 3}}]),
]


@pytest.mark.parametrize(("input_shape", "layers"), POOL_CASES, ids=lambda v: str(v))
def test_pooling(input_shape, layers):
    assert_torch_agrees(layers, input_shape)


def test_maxpool1d_ceil_mode_conventions_case():
    """MaxPool1d(2, 2, padding=1, ceil_mode=True) on length 5 gives 3 in torch (CONVENTIONS §2.2)."""
    layers = [{"MaxPool1d": {"kernel_size": 2, "stride": 2, "padding": 1, "ceil_mode": True}}]
    ((_, shape),) = run_torch(layers, [4, 5])
    assert shape == (4, 3)
    report = learnable.count({"input": [4, 5], "layers": layers})
    assert report.layers[1].output_shape == shape


def test_maxpool_padding_limit_uses_the_kernel_not_the_dilated_window():
    """torch checks pad ≤ kernel_size/2 for MaxPool, whatever the dilation: MaxPool2d(2,
    dilation=3, padding=2) raises although its dilated window is 4 wide."""
    assert check([{"MaxPool2d": {"kernel_size": 2, "dilation": 3, "padding": 2}}], [4, 9, 9]) == "rejected"
    assert check([{"MaxPool1d": {"kernel_size": 3, "dilation": 3, "padding": 2}}], [4, 9]) == "rejected"


def test_avgpool3d_needs_the_unpadded_input_to_hold_the_kernel():
    """torch's avg_pool3d refuses an input smaller than the kernel on any axis, even when the
    padding would make it fit ("input image (T: 5 H: 1 W: 2) smaller than kernel size");
    AvgPool2d and MaxPool3d accept the same configuration."""
    layers = [{"AvgPool3d": {"kernel_size": 2, "stride": 2, "padding": 1}}]
    assert check(layers, [8, 5, 1, 2]) == "rejected"
    assert check([{"MaxPool3d": {"kernel_size": 2, "stride": 2, "padding": 1}}], [8, 5, 1, 2]) == "built"
    assert check([{"AvgPool2d": {"kernel_size": 2, "stride": 2, "padding": 1}}], [8, 1, 2]) == "built"


@pytest.mark.parametrize(
    ("input_shape", "layers"),
    [
        ([1, 3], [_conv(1, 1, 1, 3, padding=5, padding_mode="reflect")]),
        ([1, 3], [_conv(1, 1, 1, 3, padding=3, padding_mode="reflect")]),
        ([1, 3], [_conv(1, 1, 1, 3, padding=5, padding_mode="circular")]),
        ([1, 1], [_conv(1, 1, 1, 3, padding="same", padding_mode="reflect")]),
        ([2, 4, 2], [_conv(2, 2, 2, 3, padding=[1, 2], padding_mode="reflect")]),
    ],
    ids=lambda v: str(v),
)
def test_padding_mode_needs_padding_smaller_than_the_input(input_shape, layers):
    """reflect (pad < size) and circular (pad ≤ size) padding fail at forward when the
    padding is too large for the input; zeros and replicate padding do not."""
    assert check(layers, input_shape) == "rejected"


@pytest.mark.parametrize(
    ("input_shape", "layers"),
    [
        ([1, 3], [_conv(1, 1, 1, 3, padding=2, padding_mode="reflect")]),
        ([1, 3], [_conv(1, 1, 1, 3, padding=3, padding_mode="circular")]),
        ([1, 3], [_conv(1, 1, 1, 3, padding=5, padding_mode="replicate")]),
        ([1, 3], [_conv(1, 1, 1, 3, padding=5, padding_mode="zeros")]),
    ],
    ids=lambda v: str(v),
)
def test_padding_modes_that_fit(input_shape, layers):
    assert check(layers, input_shape) == "built"


# ---- structure, dense, LeNet-5 ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("input_shape", "layers"),
    [
        ([3, 10, 11], ["nn.Flatten"]),
        ([3, 10, 11, 5], [{"nn.Flatten": {"start_dim": 2}}]),
        ([3, 10, 11, 5], [{"nn.Flatten": {"start_dim": 2, "end_dim": 3}}]),
        ([3, 10, 11, 5], [{"nn.Flatten": {"start_dim": 1, "end_dim": -2}}]),
        ([3, 10, 11, 5], [{"nn.Flatten": [2, -1]}]),
        ([3, 10, 11], [{"ZeroPad2d": [[1, 2, 3, 4]]}]),
        ([3, 10, 11], [{"ZeroPad2d": {"padding": [0, 5, 2, 0]}}]),
        ([3, 10, 11], [{"ZeroPad2d": 2}]),
        ([3, 10, 11], [{"ZeroPad2d": [[1, 2, 3, 4]]}, _conv(2, 3, 4, 3, stride=2)]),
        ([5, 7, 20], [{"Linear": [20, 8]}]),
        ([5, 7, 20], [{"Linear": {"in_features": 20, "out_features": 8, "bias": False}}]),
        ([7, 100], [{"Linear": [100, 64]}, "nn.ReLU", {"Linear": [64, 10]}]),
        ([100], [{"Linear": [100, 64]}, {"nn.Dropout": 0.2}, {"Linear": [64, 10]}]),
    ],
    ids=lambda v: str(v),
)
def test_structure_and_linear(input_shape, layers):
    assert_torch_agrees(layers, input_shape)


LENET5 = [
    _conv(2, 1, 6, 5),
    "nn.ReLU",
    {"MaxPool2d": 2},
    _conv(2, 6, 16, 5),
    "nn.ReLU",
    {"MaxPool2d": 2},
    "nn.Flatten",
    {"Linear": [400, 120]},
    "nn.ReLU",
    {"Linear": [120, 84]},
    "nn.ReLU",
    {"Linear": [84, 10]},
]


def test_lenet5():
    report = assert_torch_agrees(LENET5, [1, 32, 32])
    built = run_torch(LENET5, [1, 32, 32])
    torch_total = sum(p.numel() for module, _ in built for p in module.parameters())
    assert torch_total == 61_706  # CONVENTIONS §3.2, as torch counts it
    assert report.total_params == torch_total


def test_lenet5_compact_form():
    source = (
        "Input(1, 32, 32) | nn.Conv2d(1, 6, 5) | nn.ReLU() | nn.MaxPool2d(2) | nn.Conv2d(6, 16, 5) | nn.ReLU()"
        " | nn.MaxPool2d(2) | nn.Flatten() | nn.Linear(400, 120) | nn.ReLU() | nn.Linear(120, 84) | nn.ReLU()"
        " | nn.Linear(84, 10)"
    )
    assert_torch_agrees(LENET5, [1, 32, 32], source=source)


# ---- random conv/pool configurations --------------------------------------------------------------


def _ints(rng: random.Random, rank: int, low: int, high: int) -> Any:
    if rank > 1 and rng.random() < 0.35:
        return [rng.randint(low, high) for _ in range(rank)]
    return rng.randint(low, high)


def random_network(seed: int) -> tuple[list[int], list[Any]]:
    rng = random.Random(seed)
    rank = rng.choice((1, 1, 2, 2, 2, 3))
    spatial = [rng.randint(1, {1: 30, 2: 16, 3: 8}[rank]) for _ in range(rank)]
    channels = rng.choice((1, 2, 3, 4, 6, 8))
    input_shape = [channels, *spatial]
    layers: list[Any] = []
    for _ in range(rng.randint(1, 2)):
        kind = rng.choice(("conv", "conv", "max", "avg"))
        if kind == "conv":
            if rng.random() < 0.85:
                groups = rng.choice([g for g in (1, 1, 1, 2, 3, 4) if channels % g == 0])
                out = groups * rng.randint(1, 4)
            else:
                groups, out = rng.choice((2, 3, 4)), rng.choice((1, 2, 4, 6, 8, 12))
            stride = _ints(rng, rank, 1, 3) if rng.random() < 0.5 else 1
            padding = rng.choice((_ints(rng, rank, 0, 3), 0, "same", "valid"))
            args = {
                "in_channels": channels,
                "out_channels": out,
                "kernel_size": _ints(rng, rank, 1, 5),
                "stride": stride,
                "padding": padding,
                "dilation": _ints(rng, rank, 1, 3) if rng.random() < 0.4 else 1,
                "groups": groups,
                "bias": rng.random() < 0.8,
            }
            layers.append({f"Conv{rank}d": args})
            channels = out
        else:
            args = {
                "kernel_size": _ints(rng, rank, 1, 4),
                "padding": _ints(rng, rank, 0, 2) if rng.random() < 0.5 else 0,
                "ceil_mode": rng.random() < 0.5,
            }
            if rng.random() < 0.6:
                args["stride"] = _ints(rng, rank, 1, 3)
            if kind == "max" and rng.random() < 0.4:
                args["dilation"] = _ints(rng, rank, 1, 3)
            if kind == "avg" and rng.random() < 0.3:
                args["count_include_pad"] = False
            layers.append({f"{'MaxPool' if kind == 'max' else 'AvgPool'}{rank}d": args})
    if rng.random() < 0.3:  # a classifier head whose in_features do not depend on the shapes above
        size = rng.randint(1, 3)
        layers += [
            {f"AdaptiveAvgPool{rank}d": size},
            "nn.Flatten",
            {"Linear": [channels * size**rank, rng.randint(1, 10)]},
        ]
    return input_shape, layers


RANDOM_SEEDS = sweep(150)


@pytest.mark.parametrize("seed", RANDOM_SEEDS)
def test_random_conv_pool_configurations(seed):
    input_shape, layers = random_network(seed)
    check(layers, input_shape)


def test_random_configurations_exercise_both_outcomes():
    outcomes = {"built": 0, "rejected": 0}
    for seed in RANDOM_SEEDS:
        input_shape, layers = random_network(seed)
        try:
            run_torch(layers, input_shape)
            outcomes["built"] += 1
        except (RuntimeError, ValueError):
            outcomes["rejected"] += 1
    assert outcomes["built"] >= 75, outcomes
    assert outcomes["rejected"] >= 5, outcomes
