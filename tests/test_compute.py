"""MACs: hand arithmetic from the seeds' shapes, and differential tests against torch's own
FLOP counter (torch.utils.flop_counter.FlopCounterMode: 2 FLOPs per MAC, convolutions and
matrix products only, no bias), layer by layer on random configurations and whole on
ResNet-50 and VGG16, built in PyTorch and in Keras (on its torch backend)."""

from __future__ import annotations

import random

import pytest

import learnable
from conftest import assert_formulas_hold, evaluate_formula, run_cli, sweep

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402

SEED = "examples/simple_cnn.yaml"
PRODUCT_TYPES = ("Conv2D", "Dense", "Conv2d", "Linear", "DepthwiseConv2D", "SeparableConv2D")


def torch_macs(module: nn.Module, *inputs: torch.Tensor) -> int:
    """Half the FLOPs torch counts for one forward pass (it counts 2 per multiply-add)."""
    with FlopCounterMode(display=False) as counter:
        module(*inputs)
    flops = counter.get_total_flops()
    assert flops % 2 == 0
    return flops // 2


# ---- the seed, by hand ----------------------------------------------------------------------


def test_seed_macs_by_hand():
    report = learnable.count(SEED)
    expected = {
        "input": 0,
        "conv_1": 26 * 26 * 32 * (3 * 3 * 1),  # every output value: a 3×3×1 dot product
        "conv_2": 24 * 24 * 64 * (3 * 3 * 32),
        "max_pool": 0,  # comparisons
        "flatten": 0,
        "fc_1": 9216 * 128,
        "fc_2": 128 * 10,
    }
    assert {row.name: row.macs for row in report.layers} == expected
    assert report.total_macs == sum(expected.values()) and report.macs_unknown == ()
    assert report.layer("conv_2").macs_formula == "(24×24×64)×(3×3×32) = 10,616,832"
    for row in report.layers:
        if row.macs:
            assert evaluate_formula(row.macs_formula.split(" = ")[0]) == row.macs


def test_cli_macs_and_flops_conventions():
    total = 26 * 26 * 32 * 9 + 24 * 24 * 64 * 288 + 9216 * 128 + 128 * 10
    out = run_cli("count", SEED, "--macs").stdout
    assert f"Total MACs: {total:,} per example" in out
    assert f"Total FLOPs: {2 * total:,} per example (2 per MAC" in out
    out = run_cli("count", SEED, "--macs", "--flops-per-mac", "1").stdout
    assert f"Total FLOPs: {total:,} per example (1 per MAC" in out


def test_unknown_cost_makes_the_total_partial():
    # A module with no rule is counted from its tensors; its cost is unknown, never zero.
    spec = {"layers": [{"Input": [4]}, {"Dense": 3},
                       {"Tensors": {"tensors": [["w", [3, 3], True, False]], "output_shape": [3]}}]}
    report = learnable.count(spec)
    assert report.layers[-1].macs is None
    assert report.macs_unknown == (report.layers[-1].name,)
    assert report.total_macs == 4 * 3
    out = run_cli("count", "Input(4) | Dense(3)", "--macs").stdout
    assert "partial" not in out


# ---- layer by layer against torch's counter --------------------------------------------------


def _conv_case(rng: random.Random) -> tuple[str, nn.Module, tuple[int, ...]]:
    groups = rng.choice([1, 1, 2, 4])
    c_in, c_out = groups * rng.randint(1, 6), groups * rng.randint(1, 6)
    k, s, d, p = rng.randint(1, 5), rng.randint(1, 3), rng.randint(1, 2), rng.randint(0, 2)
    n = rng.randint(d * (k - 1) + 1, 20)
    text = f"nn.Conv2d({c_in}, {c_out}, {k}, stride={s}, padding={p}, dilation={d}, groups={groups})"
    return text, nn.Conv2d(c_in, c_out, k, stride=s, padding=p, dilation=d, groups=groups), (c_in, n, n + 3)


def _transpose_case(rng: random.Random) -> tuple[str, nn.Module, tuple[int, ...]]:
    groups = rng.choice([1, 2])
    c_in, c_out = groups * rng.randint(1, 5), groups * rng.randint(1, 5)
    k, s = rng.randint(1, 4), rng.randint(1, 3)
    n = rng.randint(1, 9)
    text = f"nn.ConvTranspose2d({c_in}, {c_out}, {k}, stride={s}, groups={groups})"
    return text, nn.ConvTranspose2d(c_in, c_out, k, stride=s, groups=groups), (c_in, n, n + 1)


def _linear_case(rng: random.Random) -> tuple[str, nn.Module, tuple[int, ...]]:
    i, o = rng.randint(1, 40), rng.randint(1, 40)
    shape = tuple(rng.randint(1, 5) for _ in range(rng.randint(0, 2))) + (i,)
    return f"nn.Linear({i}, {o})", nn.Linear(i, o), shape


def _conv1d_case(rng: random.Random) -> tuple[str, nn.Module, tuple[int, ...]]:
    c_in, c_out, k = rng.randint(1, 6), rng.randint(1, 6), rng.randint(1, 5)
    n = rng.randint(k, 30)
    return f"nn.Conv1d({c_in}, {c_out}, {k})", nn.Conv1d(c_in, c_out, k), (c_in, n)


@pytest.mark.frameworks
@pytest.mark.parametrize("case", [_conv_case, _transpose_case, _linear_case, _conv1d_case])
def test_layer_macs_match_torch_flop_counter(case):
    rng = random.Random(f"macs-{case.__name__}")
    for _ in sweep(25):
        text, module, shape = case(rng)
        spec = f"Input({', '.join(map(str, shape))}) | {text}"
        row = learnable.count(spec, data_format="channels_first").layers[-1]
        assert row.macs == torch_macs(module, torch.zeros(1, *shape)), spec
        assert_formulas_hold(row)


@pytest.mark.frameworks
def test_multihead_attention_macs_match_torch():
    # Outside the inference fast path, nn.MultiheadAttention runs as linear layers and
    # batched matrix products, which the counter sees (the fast path hides them).
    rng = random.Random("mha")
    for _ in sweep(8):
        heads = rng.randint(1, 4)
        embed, lq, lk = heads * rng.randint(1, 6), rng.randint(1, 9), rng.randint(1, 9)
        kdim, vdim = rng.randint(1, 12), rng.randint(1, 12)
        module = nn.MultiheadAttention(embed, heads, kdim=kdim, vdim=vdim).train()
        q, k, v = torch.zeros(lq, 1, embed), torch.zeros(lk, 1, kdim), torch.zeros(lk, 1, vdim)
        spec = {"layers": [{"Input": {"shape": [lq, embed], "name": "q"}},
                           {"Input": {"shape": [lk, kdim], "name": "k"}},
                           {"Input": {"shape": [lk, vdim], "name": "v"}},
                           {"nn.MultiheadAttention": {"embed_dim": embed, "num_heads": heads, "kdim": kdim,
                                                      "vdim": vdim, "inputs": ["q", "k", "v"]}}]}
        row = learnable.count(spec).layers[-1]
        with torch.enable_grad():
            assert row.macs == torch_macs(module, q, k, v), spec


@pytest.mark.frameworks
def test_recurrent_macs_by_hand():
    # torch's counter has no formula for its fused LSTM kernel: hand arithmetic instead.
    report = learnable.count("Input(10, 32) | LSTM(64) ")
    assert report.layers[-1].macs == 10 * (32 * 4 * 64 + 64 * 4 * 64)
    bidirectional = learnable.count("Input(7, 5) | nn.GRU(5, 3, num_layers=2, bidirectional=True)").layers[-1]
    # layer 0 reads 5 features, layer 1 reads both directions' 3; each direction adds h×3h
    assert bidirectional.macs == 7 * 2 * ((5 * 9 + 3 * 9) + (6 * 9 + 3 * 9))


# ---- whole networks ----------------------------------------------------------------------------


def _sum_products(report) -> int:
    """Convolutions and matrix products: what torch's counter counts."""
    return sum(row.macs for row in report.layers if row.type.split(".")[-1] in PRODUCT_TYPES)


@pytest.mark.frameworks
def test_resnet50_torch_macs_match_the_counter():
    from reference_models import torchvision_resnet

    module = torchvision_resnet("bottleneck", (3, 4, 6, 3)).eval()
    expected = torch_macs(module, torch.zeros(1, 3, 224, 224))
    assert expected == 4_089_184_256  # also DeepSpeed's MACs; fvcore's conv + linear (docs/compute.md)
    assert _sum_products(learnable.count("zoo:resnet50_torch")) == expected
    imported = learnable.count(module, input_shape=(3, 224, 224))
    assert _sum_products(imported) == expected


def _vgg16_torch() -> nn.Module:
    layers, c = [], 3
    for v in (64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"):
        if v == "M":
            layers.append(nn.MaxPool2d(2, 2))
        else:
            layers += [nn.Conv2d(c, v, 3, padding=1), nn.ReLU(inplace=True)]
            c = v
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(7), nn.Flatten(), nn.Linear(25088, 4096), nn.ReLU(),
                         nn.Dropout(), nn.Linear(4096, 4096), nn.ReLU(), nn.Dropout(), nn.Linear(4096, 1000))


@pytest.mark.frameworks
def test_vgg16_macs_match_the_counter_in_torch_and_keras():
    keras = pytest.importorskip("keras")
    module = _vgg16_torch().eval()
    expected = torch_macs(module, torch.zeros(1, 3, 224, 224))
    assert expected == 15_470_264_320
    assert _sum_products(learnable.count(module, input_shape=(3, 224, 224))) == expected
    spec = learnable.count("zoo:vgg16")
    assert _sum_products(spec) == expected
    model = keras.applications.VGG16(weights=None)
    assert torch_macs(model, torch.zeros(1, 224, 224, 3)) == expected


@pytest.mark.frameworks
def test_keras_resnet50_macs_match_the_counter():
    keras = pytest.importorskip("keras")
    model = keras.applications.ResNet50(weights=None)
    assert _sum_products(learnable.count("zoo:resnet50")) == torch_macs(model, torch.zeros(1, 224, 224, 3))


def test_every_rule_knows_its_cost_and_its_arithmetic_holds():
    """Each rule's worked example (learnable explain) has its MACs, and the printed
    arithmetic re-evaluates to them; only a layer counted from its tensors is unknown."""
    from learnable.explain import explain
    from learnable.rules import all_rules

    unknown = []
    for rule in all_rules():
        example = explain(("nn." if rule.framework == "pytorch" else "") + rule.name).example
        if example is None:  # Keras Lambda: refused, it is code
            continue
        if example.macs_arithmetic == "unknown":
            unknown.append(rule.name)
        elif " = " in example.macs_arithmetic:
            text, value = example.macs_arithmetic.rsplit(" = ", 1)
            assert evaluate_formula(text) == int(value.replace(",", "")), (rule.name, example.macs_arithmetic)
    assert unknown == ["Tensors"]


def test_adaptive_average_pooling_macs_sum_every_window():
    """PyTorch's adaptive windows for output i of n → m run from ⌊i·n/m⌋ to ⌈(i+1)·n/m⌉:
    the rule's closed form must equal the sum of their lengths."""
    for n in range(1, 25):
        for m in range(1, n + 1):
            windows = sum(-(-(i + 1) * n // m) - i * n // m for i in range(m))
            row = learnable.count(f"Input(3, {n}) | nn.AdaptiveAvgPool1d({m})", data_format="channels_first").layers[-1]
            assert row.macs == 3 * windows, (n, m)
