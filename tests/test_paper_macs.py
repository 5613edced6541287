"""MACs by kind and the paper-style total (convolutions + fully connected layers).

Oracles: hand arithmetic for each kind's share; for five ImageNet networks, the sum over
the Conv2D, DepthwiseConv2D and Dense layers of a model Keras builds itself (output
elements × kernel elements per output, read from Keras's layer attributes and shapes), and
the figures their papers print.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

import learnable
from conftest import run_cli
from learnable.render import render
from learnable.render._columns import Show
from learnable.rules import lookup

GOLDEN = Path(__file__).parent / "golden"

# ---- each rule's kind ---------------------------------------------------------------------

EXPECTED_KINDS = {
    "convolution": ["Conv1D", "Conv2D", "Conv3D", "nn.Conv2d", "Conv2DTranspose", "nn.ConvTranspose2d",
                    "DepthwiseConv2D", "SeparableConv2D"],
    "fully_connected": ["Dense", "nn.Linear"],
    "attention": ["Attention", "AdditiveAttention", "MultiHeadAttention", "nn.MultiheadAttention"],
    "matmul": ["MatMul", "Dot"],
    "recurrent": ["LSTM", "GRU", "SimpleRNN", "Bidirectional", "ConvLSTM2D", "nn.LSTM", "nn.GRUCell"],
    "normalization": ["BatchNormalization", "nn.BatchNorm2d", "LayerNormalization", "nn.GroupNorm",
                      "RMSNormalization", "UnitNormalization"],
    "pooling": ["AveragePooling2D", "MaxPooling2D", "GlobalAveragePooling2D", "nn.AdaptiveAvgPool2d"],
    "other": ["ReLU", "Add", "Flatten", "Embedding", "Rescaling", "Resizing", "Reduce", "Tensors", "PReLU"],
}


@pytest.mark.parametrize("kind", EXPECTED_KINDS)
def test_each_rule_declares_the_kind_of_its_macs(kind):
    for name in EXPECTED_KINDS[kind]:
        assert lookup(name).macs_kind == kind, name


def test_every_rule_has_a_known_kind():
    from learnable.rules import all_rules
    from learnable.rules._kinds import KINDS

    assert {rule.macs_kind for rule in all_rules()} <= set(KINDS)


# ---- rows whose MACs split ----------------------------------------------------------------


def _row(spec: str):
    return learnable.count(spec).layers[-1]


def test_self_attention_splits_projections_from_scores():
    # H=4 heads of 16 on 10 positions of 64: four 64×64 projections at every position
    # (query, key, value, output), then scores and weighted sum, 10×10 per head over 16.
    fc, scores = 4 * (10 * 64 * 64), 2 * (4 * 10 * 10 * 16)
    for spec in ("Input(10, 64) | MultiHeadAttention(4, 16)", "Input(10, 64) | nn.MultiheadAttention(64, 4)"):
        row = _row(spec)
        assert dict(row.macs_by_kind) == {"fully_connected": fc, "attention": scores}, spec
        assert row.macs == fc + scores and row.macs_kind == "mixed" and row.paper_macs == fc
        # The same work whoever lists the weights (Keras's MultiHeadAttention in PyTorch's
        # convention was "unknown" before).
        assert learnable.count(spec, convention="pytorch").layers[-1].macs_by_kind == row.macs_by_kind, spec


def test_cross_attention_split_by_hand():
    # query (5, 32), value (7, 48); 2 heads, key_dim 8 (value_dim 8): the query and output
    # projections run over 5 positions, key and value over 7; scores pair 5 with 7.
    report = learnable.count({"inputs": {"q": [5, 32], "v": [7, 48]},
                              "layers": [{"MultiHeadAttention": {"num_heads": 2, "key_dim": 8, "inputs": ["q", "v"]}}]})
    row = report.layers[-1]
    fc = 5 * 32 * 16 + 7 * 48 * 16 + 7 * 48 * 16 + 5 * 16 * 32
    assert dict(row.macs_by_kind) == {"fully_connected": fc, "attention": 2 * 5 * 7 * 8 * 2}


def test_dot_product_attention_without_projections_is_attention_alone():
    row = learnable.count({"inputs": {"q": [6, 4], "v": [9, 4]},
                           "layers": [{"Attention": {"inputs": ["q", "v"]}}]}).layers[-1]
    assert row.macs_kind == "attention" and dict(row.macs_by_kind) == {"attention": 6 * 9 * 4 * 2}


def test_transformer_layers_split_into_linears_attention_and_norms():
    # d_model 32, 4 heads of 8, feed-forward 64, 10 positions.
    fc = 4 * 10 * 32 * 32 + 10 * 32 * 64 + 10 * 64 * 32
    attention, norms = 2 * 4 * 10 * 10 * 8, 2 * 10 * 32
    row = _row("Input(10, 32) | nn.TransformerEncoderLayer(32, 4, 64)")
    assert dict(row.macs_by_kind) == {"fully_connected": fc, "attention": attention, "normalization": norms}
    stack = _row("Input(10, 32) | nn.TransformerEncoder(nn.TransformerEncoderLayer(32, 4, 64), 3, nn.LayerNorm(32))")
    assert dict(stack.macs_by_kind) == {"fully_connected": 3 * fc, "attention": 3 * attention,
                                        "normalization": 3 * norms + 10 * 32}
    assert stack.macs == 3 * (fc + attention + norms) + 10 * 32


def test_time_distributed_takes_the_wrapped_layers_kind():
    row = _row("Input(5, 8) | TimeDistributed(Dense(16))")
    assert row.macs_kind == "fully_connected" and dict(row.macs_by_kind) == {"fully_connected": 5 * 8 * 16}


def test_unknown_macs_have_no_split():
    row = learnable.count({"input": [4], "layers": [{"Tensors": {"tensors": [["w", [4, 4], True, False]]}}]}).layers[-1]
    assert row.macs is None and row.macs_by_kind == () and row.paper_macs is None


# ---- the report's totals, blocks, and the renderings ----------------------------------------

SMALL = "Input(8, 8, 3) | Conv2D(4, 3) | BatchNormalization() | AveragePooling2D(2) | Flatten() | Dense(5)"
CONV, BN, POOL, DENSE = 6 * 6 * 4 * (3 * 3 * 3), 6 * 6 * 4, (3 * 3 * 4) * (2 * 2), 36 * 5


def test_report_totals_by_kind_and_paper():
    report = learnable.count(SMALL)
    assert report.macs_by_kind == {"convolution": CONV, "fully_connected": DENSE, "attention": 0, "matmul": 0,
                                   "recurrent": 0, "normalization": BN, "pooling": POOL, "other": 0}
    assert report.paper_macs == CONV + DENSE and report.total_macs == CONV + DENSE + BN + POOL


def test_blocks_split_as_their_layers_do():
    report = learnable.count("zoo:resnet50")
    for block in report.blocks:
        inside = [row for row in report.layers if row.block and (row.block == block.name or
                                                                  row.block.startswith(block.name + "/"))]
        kinds: dict[str, int] = {}
        for row in inside:
            for kind, macs in row.macs_by_kind:
                kinds[kind] = kinds.get(kind, 0) + macs
        assert dict(block.macs_by_kind) == {k: v for k, v in kinds.items()}, block.name
        assert block.paper_macs == sum(row.macs for row in inside if row.type == "Conv2D")


def test_cli_paper_macs_footer_says_what_was_left_out():
    result = run_cli("count", SMALL, "--paper-macs", "--flops-per-mac", "1")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert (f"Paper-style MACs: {CONV + DENSE:,} per example (multiply-adds of convolutions and fully connected "
            "layers only") in out
    assert f"Left out: {BN + POOL:,} MACs (normalization {BN:,}, pooling {POOL:,}) of {CONV + DENSE + BN + POOL:,}" in out
    assert f"Paper-style FLOPs: {CONV + DENSE:,} per example (1 per MAC" in out
    bn_line = next(line for line in out.splitlines() if "BatchNormalization" in line)
    assert bn_line.rstrip().endswith("–") and "MACs (conv + fc)" in out


def test_cli_macs_footer_splits_by_kind():
    out = run_cli("count", SMALL, "--macs").stdout
    assert (f"MACs by kind: convolution {CONV:,}, fully connected {DENSE:,}, normalization {BN:,}, pooling {POOL:,} "
            f"(paper-style, convolutions + fully connected: {CONV + DENSE:,})") in out


def test_json_and_markdown_carry_the_split():
    data = json.loads(run_cli("count", SMALL, "--format", "json").stdout)
    assert data["paper_macs"] == CONV + DENSE and data["macs_by_kind"]["pooling"] == POOL
    rows = {row["type"]: row for row in data["layers"]}
    assert rows["BatchNormalization"]["macs_kind"] == "normalization"
    assert rows["Dense"]["macs_by_kind"] == {"fully_connected": DENSE}
    markdown = run_cli("count", SMALL, "--paper-macs", "--format", "markdown").stdout
    assert f"**Paper-style MACs:** {CONV + DENSE:,} per example" in markdown


def test_paper_rendering_matches_golden(request):
    show = Show(macs=True, paper_macs=True)
    spec = ("Input(8, 8, 3) | Conv2D(4, 3) | BatchNormalization() | AveragePooling2D(2) | Reshape((9, 4)) "
            "| MultiHeadAttention(2, 4) | Flatten() | Dense(5)")
    text = render(learnable.count(spec), "table", explain=True, show=show)
    path = GOLDEN / "paper_macs.explain.txt"
    if request.config.getoption("--update-golden"):
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")


# ---- five ImageNet networks against Keras's own layers and their papers ----------------------


def keras_conv_and_dense_macs(model) -> int:
    """Σ over Conv2D, DepthwiseConv2D and Dense layers of output elements × the products
    each output takes (k_h·k_w·C_in/groups; k_h·k_w for depthwise; C_in for dense), read
    from Keras's layers, never from learnable."""
    total = 0
    for layer in model.layers:
        kind = type(layer).__name__
        if kind not in ("Conv2D", "DepthwiseConv2D", "Dense"):
            continue
        outputs, inputs = math.prod(layer.output.shape[1:]), layer.input.shape[-1]
        if kind == "Conv2D":
            per_output = math.prod(layer.kernel_size) * inputs // layer.groups
        elif kind == "DepthwiseConv2D":
            per_output = math.prod(layer.kernel_size)
        else:
            per_output = inputs
        total += outputs * per_output
    return total


def vgg16_by_hand() -> int:
    """VGG-16 (configuration D) at 224×224: 3×3 convolutions at 'same' padding, then three FCs."""
    convs = [(224, 3, 64), (224, 64, 64), (112, 64, 128), (112, 128, 128), (56, 128, 256), (56, 256, 256),
             (56, 256, 256), (28, 256, 512), (28, 512, 512), (28, 512, 512), (14, 512, 512), (14, 512, 512),
             (14, 512, 512)]
    return sum(s * s * c_out * 9 * c_in for s, c_in, c_out in convs) + 7 * 7 * 512 * 4096 + 4096 * 4096 + 4096 * 1000


# keras.applications function → (zoo spec or None, a check of the paper's printed figure)
PUBLISHED = {
    # Simonyan & Zisserman print no FLOPs; 15.47 G is the figure usually quoted ("15.5 G").
    # Howard et al. 2017, Table 8, prints 15,300 million mult-adds for VGG 16: 1.1% under the
    # exact sum, whatever they left out; held here to 2%.
    "VGG16": ("vgg16", lambda m: round(m / 1e9, 1) == 15.5 and abs(m - 15_300e6) / 15_300e6 < 0.02),
    # He et al. 2016, Table 1: 3.8×10⁹ FLOPs (multiply-adds) for the 50-layer network, the
    # v1 layout Keras builds (stride in the first 1×1). The exact sum is 3.86 G: the paper's
    # one decimal is that figure cut off, not rounded (rounding gives 3.9). torchvision's
    # v1.5 layout (zoo:resnet50_torch) is 4.09 G.
    "ResNet50": ("resnet50", lambda m: math.floor(m / 1e8) == 38),
    # Howard et al. 2017, Table 8: 1.0 MobileNet-224, 569 million mult-adds.
    "MobileNet": (None, lambda m: round(m / 1e6) == 569),
    # Sandler et al. 2018, Table 4: MobileNetV2 (1.0, 224), 300M multiply-adds.
    "MobileNetV2": ("mobilenet_v2", lambda m: round(m / 1e6, -1) == 300),
    # Tan & Le 2019, Table 2: EfficientNet-B0, 0.39B FLOPs.
    "EfficientNetB0": ("efficientnet_b0", lambda m: round(m / 1e9, 2) == 0.39),
}


@pytest.mark.frameworks
@pytest.mark.parametrize("name", PUBLISHED)
def test_paper_macs_equal_keras_conv_and_dense_layers_and_the_papers(name):
    keras = pytest.importorskip("keras")
    model = getattr(keras.applications, name)(weights=None)
    expected = keras_conv_and_dense_macs(model)
    assert learnable.count(model).paper_macs == expected
    zoo, published = PUBLISHED[name]
    if zoo is not None:
        assert learnable.count(f"zoo:{zoo}").paper_macs == expected
    assert published(expected), (name, expected)
    if name == "VGG16":
        assert expected == vgg16_by_hand() == 15_470_264_320


@pytest.mark.frameworks
def test_torchvision_resnet50_paper_macs_equal_torchs_counter():
    """torch's FlopCounterMode counts convolutions and matrix products only, 2 per MAC."""
    torch = pytest.importorskip("torch")
    from torch.utils.flop_counter import FlopCounterMode

    from reference_models import torchvision_resnet

    module = torchvision_resnet("bottleneck", (3, 4, 6, 3)).eval()
    with FlopCounterMode(display=False) as counter:
        module(torch.zeros(1, 3, 224, 224))
    expected = counter.get_total_flops() // 2
    assert learnable.count("zoo:resnet50_torch").paper_macs == expected == 4_089_184_256
    assert learnable.count(module, input_shape=(3, 224, 224)).paper_macs == expected
