"""Audits of tables as they are printed: papers' tables with units and precision, stage rows,
FLOPs and output-size columns, Keras summaries and torchsummary / torchinfo output.

The expected values are hand arithmetic or the published figures, with their sources; the
summaries are the frameworks' own printouts (Keras's made in the test where Keras is installed)."""

from __future__ import annotations

import pytest

import learnable
from learnable.auditing import audit, parse_claims
from learnable.auditing.quantities import parse
from learnable.errors import SpecError
from learnable.render.audit import render_audit

# The keras.io "Simple MNIST convnet" model: 3×3×1×32 + 32, 3×3×32×64 + 64, 5×5×64 = 1,600
# inputs to Dense(10): 1,600×10 + 10.
MNIST = ("Input(28, 28, 1) | Conv2D(32, 3, activation=relu) | MaxPooling2D(2) | Conv2D(64, 3, activation=relu) "
         "| MaxPooling2D(2) | Flatten() | Dropout(0.5) | Dense(10, activation=softmax)")
MNIST_CONV, MNIST_CONV_1, MNIST_DENSE = 3 * 3 * 1 * 32 + 32, 3 * 3 * 32 * 64 + 64, 1600 * 10 + 10
MNIST_TOTAL = MNIST_CONV + MNIST_CONV_1 + MNIST_DENSE  # 34,826

# Keras 2.x printed the same model's summary so (keras.io, the example's output before Keras 3):
# a name wrapped onto a second line, blank lines between rows, totals beneath.
KERAS2_SUMMARY = """\
Model: "sequential"
_________________________________________________________________
 Layer (type)                Output Shape              Param #
=================================================================
 conv2d (Conv2D)             (None, 26, 26, 32)        320

 max_pooling2d (MaxPooling2D  (None, 13, 13, 32)       0
 )

 conv2d_1 (Conv2D)           (None, 11, 11, 64)        18496

 max_pooling2d_1 (MaxPooling  (None, 5, 5, 64)         0
 2D)

 flatten (Flatten)           (None, 1600)              0

 dropout (Dropout)           (None, 1600)              0

 dense (Dense)               (None, 10)                16010

=================================================================
Total params: 34,826
Trainable params: 34,826
Non-trainable params: 0
_________________________________________________________________
"""

# A LeNet-style PyTorch model, pasted as code: 6×1×5×5 + 6, 16×6×5×5 + 16, 256×120 + 120,
# 120×84 + 84, 84×10 + 10. MACs: 24×24×6×25, 8×8×16×150, then each Linear's weights.
LENET_CODE = """\
import torch.nn as nn
from torchsummary import summary

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5)
        self.pool = nn.MaxPool2d(2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(256, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = self.pool(self.conv1(x).relu())
        x = self.pool(self.conv2(x).relu())
        x = x.flatten(1)
        return self.fc3(self.fc2(self.fc1(x).relu()).relu())

model = Net()
summary(model, (1, 28, 28))
"""
LENET = {"conv1": 6 * 1 * 5 * 5 + 6, "conv2": 16 * 6 * 5 * 5 + 16, "fc1": 256 * 120 + 120, "fc2": 120 * 84 + 84,
         "fc3": 84 * 10 + 10}
LENET_TOTAL = sum(LENET.values())  # 44,426
LENET_MACS = 24 * 24 * 6 * 25 + 8 * 8 * 16 * 150 + 256 * 120 + 120 * 84 + 84 * 10  # 281,640

# torchsummary's printout of it (hooks on each module it calls; F-style ops have no row).
TORCHSUMMARY = """\
----------------------------------------------------------------
        Layer (type)               Output Shape         Param #
================================================================
            Conv2d-1            [-1, 6, 24, 24]             156
         MaxPool2d-2            [-1, 6, 12, 12]               0
            Conv2d-3             [-1, 16, 8, 8]           2,416
         MaxPool2d-4             [-1, 16, 4, 4]               0
            Linear-5                  [-1, 120]          30,840
            Linear-6                   [-1, 84]          10,164
            Linear-7                   [-1, 10]             850
================================================================
Total params: 44,426
Trainable params: 44,426
Non-trainable params: 0
----------------------------------------------------------------
Input size (MB): 0.00
Forward/backward pass size (MB): 0.05
Params size (MB): 0.17
Estimated Total Size (MB): 0.22
----------------------------------------------------------------
"""

# torchinfo's: a depth-indexed tree, "--" for no count, mult-adds of convolutions and Linear.
TORCHINFO = """\
==========================================================================================
Layer (type:depth-idx)                   Output Shape              Param #
==========================================================================================
Net                                      [1, 10]                   --
├─Conv2d: 1-1                            [1, 6, 24, 24]            156
├─MaxPool2d: 1-2                         [1, 6, 12, 12]            --
├─Conv2d: 1-3                            [1, 16, 8, 8]             2,416
├─MaxPool2d: 1-4                         [1, 16, 4, 4]             --
├─Linear: 1-5                            [1, 120]                  30,840
├─Linear: 1-6                            [1, 84]                   10,164
├─Linear: 1-7                            [1, 10]                   850
==========================================================================================
Total params: 44,426
Trainable params: 44,426
Non-trainable params: 0
Total mult-adds (M): 0.28
==========================================================================================
Input size (MB): 0.00
Forward/backward pass size (MB): 0.05
Params size (MB): 0.18
Estimated Total Size (MB): 0.23
==========================================================================================
"""

# He et al. 2016, "Deep Residual Learning for Image Recognition", Table 1, the 50-layer column
# as a reviewer pastes it: stage rows, output sizes, the building blocks (not read) and FLOPs.
RESNET_TABLE_1 = """\
| layer name | output size | 50-layer |
|---|---|---|
| conv1 | 112×112 | 7×7, 64, stride 2 |
| conv2_x | 56×56 | [1×1, 64; 3×3, 64; 1×1, 256] ×3 |
| conv3_x | 28×28 | [1×1, 128; 3×3, 128; 1×1, 512] ×4 |
| conv4_x | 14×14 | [1×1, 256; 3×3, 256; 1×1, 1024] ×6 |
| conv5_x | 7×7 | [1×1, 512; 3×3, 512; 1×1, 2048] ×3 |
| FLOPs | | 3.8×10^9 |
"""

# Simonyan & Zisserman 2015, "Very Deep Convolutional Networks", Table 2 ("Number of parameters
# (in millions)"): one column per configuration; D is VGG-16.
VGG_TABLE_2 = """\
| Network | A,A-LRN | B | C | D | E |
|---|---|---|---|---|---|
| Number of parameters (in millions) | 133 | 133 | 134 | 138 | 144 |
"""
VGG16_TOTAL = 138_357_544  # Keras applications' VGG16 (keras.io/api/applications: 138.4M)


def rows(result):
    return [(r.claim, r.quantity, r.layer, r.ok) for r in result.rows]


@pytest.mark.parametrize("text, scale, computed, agrees", [
    ("25.6M", 1, 25_557_032, True),  # torchvision ResNet-50, rounded
    ("25.6M", 1, 25_636_712, True),  # Keras ResNet50: 25.64M, rounded
    ("25.7M", 1, 25_636_712, False),
    ("~25.6M", 1, 25_557_032, True),
    ("138", 10**6, VGG16_TOTAL, True),  # under "(millions)"
    ("139", 10**6, VGG16_TOTAL, False),
    ("3.8×10^9", 1, 3_858_000_000, True),  # truncated, not rounded: said so
    ("3.8e9", 1, 3_749_999_999, False),
    ("2.7K", 1, 2_650, True),
    ("1.2B", 1, 1_249_999_999, True),
    ("18,494", 1, 18_496, False),  # written in full: exact
    ("1 179 776", 1, 1_179_776, True),
])
def test_numbers_judged_at_the_precision_printed(text, scale, computed, agrees):
    assert parse(text, scale).agrees(computed)[0] is agrees


def test_the_rounding_rule_is_in_the_verdict():
    assert parse("25.6M").agrees(25_557_032)[1] == "25,557,032 is 25.6M rounded to the printed 0.1M"
    ok, rule = parse("3.8×10^9").agrees(3_858_000_000)
    assert ok and "truncated" in rule and "rounded: 3.9B" in rule


@pytest.mark.parametrize("cell", ["", "-", "—", "–", "n/a", "--"])
def test_blanks_and_dashes_are_not_claims(cell):
    assert parse(cell) is None


def test_keras2_summary_as_printed():
    result = audit(learnable.count(MNIST), KERAS2_SUMMARY)
    assert result.ok, render_audit(result)
    params = {r.layer: r.computed for r in result.rows if r.quantity == "params"}
    assert params == {"conv2d": MNIST_CONV, "max_pooling2d": 0, "conv2d_1": MNIST_CONV_1, "max_pooling2d_1": 0,
                      "flatten": 0, "dropout": 0, "dense": MNIST_DENSE}
    assert all(r.ok for r in result.rows if r.quantity == "output_shape")
    assert {t.kind: t.computed for t in result.totals} == {
        "total_params": MNIST_TOTAL, "trainable_params": MNIST_TOTAL, "non_trainable_params": 0}


def test_keras2_summary_with_one_wrong_number():
    result = audit(learnable.count(MNIST), KERAS2_SUMMARY.replace("18496", "18494"))
    (wrong,) = [r for r in result.rows if not r.ok]
    assert (wrong.layer, wrong.claimed, wrong.computed) == ("conv2d_1", 18_494, MNIST_CONV_1)
    assert wrong.formula == "3×3×32×64 + 64 = 18,496"
    assert "the claimed rows add up to 34,824" in result.totals[0].verdict


def test_keras3_summary_printed_by_keras():
    keras = pytest.importorskip("keras")
    from keras import layers

    model = keras.Sequential([keras.Input((28, 28, 1)), layers.Conv2D(32, 3, activation="relu"),
                              layers.MaxPooling2D(2), layers.Conv2D(64, 3, activation="relu"), layers.MaxPooling2D(2),
                              layers.Flatten(), layers.Dropout(0.5), layers.Dense(10, activation="softmax")])
    printed: list[str] = []
    model.summary(print_fn=lambda line, **_: printed.append(line))
    text = "\n".join(printed)
    assert "┃" in text  # Keras 3's box table
    result = audit(learnable.count(MNIST), text)
    assert result.ok and result.form == "box", render_audit(result)
    assert len([r for r in result.rows if r.quantity == "params"]) == len(model.layers)
    planted = audit(learnable.count(MNIST), text.replace("18,496", "18,469"))
    assert [(r.layer, r.claimed) for r in planted.rows if not r.ok] == [("conv2d_1", 18_469)]


def test_torchsummary_output_against_the_pasted_code():
    report = learnable.count(LENET_CODE)
    result = audit(report, TORCHSUMMARY)
    assert result.ok, render_audit(result)
    params = {r.layer: r.computed for r in result.rows if r.quantity == "params" and r.computed}
    assert params == LENET
    assert [r.matched_by for r in result.rows if r.quantity == "params"] == ["order"] * 7
    assert all(r.ok for r in result.rows if r.quantity == "output_shape")


def test_torchinfo_output_with_its_mult_adds():
    result = audit(learnable.count(LENET_CODE), TORCHINFO)
    assert result.ok, render_audit(result)
    macs = next(t for t in result.totals if t.kind == "total_macs")
    assert macs.claimed_text == "0.28" and macs.claimed == 280_000
    assert "convolutions and fully connected" in macs.verdict  # torchinfo counts those, not pooling
    assert LENET_MACS == 281_640


def test_resnet_table_1_stages_output_sizes_and_flops():
    result = audit(learnable.count("zoo:resnet50"), RESNET_TABLE_1, "resnet_table1.md")
    shapes = {r.claim: (r.ok, r.matched_by) for r in result.rows if r.quantity == "output_shape"}
    assert shapes == {"conv1": (True, "prefix"), "conv2_x": (True, "block"), "conv3_x": (True, "block"),
                      "conv4_x": (True, "block"), "conv5_x": (True, "block")}
    (flops,) = result.totals
    assert flops.kind == "total_macs" and flops.ok, flops.verdict
    assert "convolutions and fully connected" in flops.verdict
    assert result.ignored_columns == ()  # the FLOPs row reads its number from the 50-layer column
    wrong = audit(learnable.count("zoo:resnet50"), RESNET_TABLE_1.replace("| 28×28 |", "| 27×27 |"))
    assert [(r.claim, r.ok) for r in wrong.rows if not r.ok] == [("conv3_x", False)]


def test_vgg_table_2_one_column_per_network():
    with pytest.raises(SpecError, match="--column"):
        audit(learnable.count("zoo:vgg16"), VGG_TABLE_2, "vgg_table2.md")
    result = audit(learnable.count("zoo:vgg16"), VGG_TABLE_2, "vgg_table2.md", column="D")
    (total,) = result.totals
    assert (total.kind, total.claimed, total.computed, total.ok) == ("total_params", 138_000_000, VGG16_TOTAL, True)
    wrong = audit(learnable.count("zoo:vgg16"), VGG_TABLE_2, column="E")
    assert not wrong.ok and "144" in wrong.totals[0].verdict
    with pytest.raises(SpecError, match="no column of that name"):
        audit(learnable.count("zoo:vgg16"), VGG_TABLE_2, column="F")
    unitless = audit(learnable.count("zoo:vgg16"), VGG_TABLE_2.replace(" (in millions)", ""), column="D")
    assert not unitless.ok and "(138 million? then say so in the header" in unitless.totals[0].verdict


def test_model_name_row_is_the_total_and_a_total_only_claim_is_one_verdict():
    table = "| Model | Params | Top-1 err. |\n|---|---|---|\n| ResNet-50 | 25.6M | 24.7 |\n"
    result = audit(learnable.count("zoo:resnet50"), table)
    assert result.rows == () and [(t.kind, t.ok) for t in result.totals] == [("total_params", True)]
    assert result.ignored_columns == ("Top-1 err.",)
    text = render_audit(result)
    assert "none claimed one by one" in text and "Columns not read: 'Top-1 err.'" in text
    assert len(text.splitlines()) < 15


def test_header_units_and_flops_columns_are_not_parameters():
    table = ("| Layer | Params (K) | MFLOPs |\n|---|---|---|\n| conv2d | 0.32 | 0.2 |\n| conv2d_1 | 18.5 | 2.2 |\n")
    result = audit(learnable.count(MNIST), table)
    got = {(r.layer, r.quantity): r.ok for r in result.rows}
    # 320 is 0.32K; 18,496 is 18.5K. MACs: 26×26×32×9 = 194,688 (0.2M); 11×11×64×288 = 2,230,272 (2.2M).
    assert got == {("conv2d", "params"): True, ("conv2d", "macs"): True, ("conv2d_1", "params"): True,
                   ("conv2d_1", "macs"): True}
    assert 26 * 26 * 32 * 9 == 194_688 and 11 * 11 * 64 * 288 == 2_230_272


def test_a_name_prefixing_several_layers():
    result = audit(learnable.count("zoo:resnet50"), "| Layer | Params |\n|---|---|\n| conv1 | 9,472 |\n")
    (row,) = result.rows
    # conv1_conv: 7×7×3×64 + 64 = 9,472; conv1_bn's 4×64 = 256 are not in the claim.
    assert not row.ok and row.matched_by == "prefix" and row.computed == 7 * 7 * 3 * 64 + 64 + 4 * 64


def test_stage_rows_are_never_paired_with_single_layers():
    result = audit(learnable.count(MNIST), "| Layer | Params |\n|---|---|\n| conv9_x | 320 |\n")
    (row,) = result.rows
    assert row.layer is None and not row.ok


def test_summary_text_is_not_read_as_csv():
    claims = parse_claims(TORCHSUMMARY)
    assert [c.name for c in claims[:3]] == ["Conv2d-1", "MaxPool2d-2", "Conv2d-3"]
    assert claims[0].shape == "[-1, 6, 24, 24]"


# Howard et al. 2017, "MobileNets", Table 8 ("Comparison of MobileNet to popular models"):
# a table of networks, units in the headers' words.
MOBILENET_TABLE_8 = """\
| Model | ImageNet Accuracy | Million Mult-Adds | Million Parameters |
|---|---|---|---|
| 1.0 MobileNet-224 | 70.6% | 569 | 4.2 |
| GoogleNet | 69.8% | 1550 | 6.8 |
| VGG 16 | 71.5% | 15300 | 138 |
"""


def vgg16_conv_macs() -> int:
    """VGG-16's 13 convolutions at 224×224: output positions × filters × (3×3×input channels)."""
    stages = [(224, 3, 64, 2), (112, 64, 128, 2), (56, 128, 256, 3), (28, 256, 512, 3), (14, 512, 512, 3)]
    total = 0
    for size, channels_in, channels_out, convs in stages:
        for k in range(convs):
            total += size * size * channels_out * 3 * 3 * (channels_in if k == 0 else channels_out)
    return total


def test_a_table_of_networks_checks_this_networks_row():
    result = audit(learnable.count("zoo:vgg16"), MOBILENET_TABLE_8)
    assert result.other_networks == ("1.0 MobileNet-224", "GoogleNet")
    assert result.ignored_columns == ("ImageNet Accuracy",)
    totals = {t.kind: t for t in result.totals}
    assert totals["total_params"].ok and totals["total_params"].claimed == 138_000_000
    # Table 8's 15,300 million is VGG-16's convolutions alone (15,346,630,656), to 3 significant
    # figures; with the 3 fully connected layers it would be 15,470M.
    macs = totals["total_macs"]
    assert macs.ok and macs.computed == vgg16_conv_macs() == 15_346_630_656
    assert "convolutions only" in macs.verdict and "3 significant figures" in macs.verdict
    strict = audit(learnable.count("zoo:vgg16"), MOBILENET_TABLE_8.replace("15300", "15310"))
    assert not {t.kind: t for t in strict.totals}["total_macs"].ok  # 15,310 is precise to 1M: no convention gives it


def test_a_model_row_does_not_silence_the_layer_rows():
    # 4×3 + 3 = 15 and 3×2 + 2 = 8: dense_1's 9 is wrong; the row naming the model is the total.
    spec = "name: tiny\ninput: [4]\nlayers:\n  - Dense: {units: 3}\n  - Dense: {units: 2}\n"
    table = "| Layer | Params |\n|---|---|\n| dense | 15 |\n| dense_1 | 9 |\n| Tiny | 23 |\n"
    result = audit(learnable.count(spec), table)
    assert [(r.claim, r.ok) for r in result.rows] == [("dense", True), ("dense_1", False)]
    assert [(t.kind, t.computed, t.ok) for t in result.totals] == [("total_params", 4 * 3 + 3 + 3 * 2 + 2, True)]
    assert result.other_networks == ()


def test_a_variant_is_not_the_network():
    table = "| Model | Params |\n|---|---|\n| ResNet-50 + SE | 28.1M |\n| ResNet-50 | 25.6M |\n"
    result = audit(learnable.count("zoo:resnet50"), table)
    assert result.other_networks == ("ResNet-50 + SE",) and result.ok


@pytest.mark.parametrize("model, claims, column, flagged", [
    ("zoo:resnet50", "papers/resnet_table1.md", None, []),
    ("zoo:vgg16", "papers/vgg_table2.md", "D", []),
    ("zoo:vgg16", "papers/mobilenet_table8.md", None, []),  # 15,300M: the convolutions, to 3 figures
])
def test_the_example_paper_tables(model, claims, column, flagged):
    from conftest import EXAMPLES

    result = learnable.audit(model, EXAMPLES / claims, column=column)
    assert [t.kind for t in result.totals if not t.ok] + [r.claim for r in result.rows if not r.ok] == flagged


@pytest.mark.parametrize("text", [
    "| a | 1e999999999 |",  # an exponent no count has: refused, not computed
    "| a | 3×10^99999999 |",
    "| " + "(" * 50_000 + " | 1 |",  # a name longer than any layer's
    "Total" + " " * 50_000 + "params" + " " * 50_000 + "x",  # no colon: no total, at once
    "Total params: 1" + "(" * 50_000 + ")",
    "Layer (type)  Param #\n" + "x  1\n" * 2_000,  # rows narrower than their header
    # Found by fuzzing: a quantity row with its number beyond the header's last column.
    "| Network | A |\n|---|---|\n| Number of parameters (in millions) | | | | 138 |\n",
])
def test_hostile_claims_get_a_verdict_or_one_line(text):
    try:
        result = audit(learnable.count(MNIST), text, "claims.md")
    except SpecError as err:
        assert "\n" not in str(err) and str(err).startswith("claims.md")
    else:
        for fmt in ("table", "markdown", "json"):
            render_audit(result, fmt)


@pytest.mark.parametrize("block, layers, zoo", [("basic", (2, 2, 2, 2), "zoo:resnet18"),
                                                ("bottleneck", (3, 4, 6, 3), "zoo:resnet50_torch")])
def test_what_torchinfo_and_torchsummary_print_for_torchvisions_resnets(block, layers, zoo):
    # The printouts are the tools' own, of torchvision's ResNet written in plain torch: nested
    # containers, a downsample Sequential cut at torchinfo's depth 3 (its count recursive), a
    # ReLU module called several times, branches listed in the tools' order.
    import contextlib
    import io

    torch = pytest.importorskip("torch")
    torchinfo = pytest.importorskip("torchinfo")
    torchsummary = pytest.importorskip("torchsummary")
    from reference_models import torchvision_resnet

    model = torchvision_resnet(block, layers)
    expected_total = sum(p.numel() for p in model.parameters())
    info = str(torchinfo.summary(model, input_size=(1, 3, 224, 224), verbose=0))
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed), torch.no_grad():
        torchsummary.summary(model, (3, 224, 224), device="cpu")
    report = learnable.count(zoo)
    for text in (info, printed.getvalue()):
        result = audit(report, text)
        assert result.ok, render_audit(result)
        assert {t.kind: t.computed for t in result.totals}["total_params"] == expected_total
        assert not result.not_claimed  # every layer with parameters was a row
    mult_adds = next(t for t in audit(report, info).totals if t.kind == "total_macs")
    assert "convolutions and fully connected" in mult_adds.verdict
    planted = audit(report, info.replace("9,408", "9,048", 1))  # conv1: 64×3×7×7 = 9,408
    (wrong,) = [r for r in planted.rows if not r.ok]
    assert (wrong.layer, wrong.claimed, wrong.computed) == ("conv1", 9_048, 64 * 3 * 7 * 7)


@pytest.mark.frameworks
@pytest.mark.parametrize("name", ["MobileNetV2", "MobileNetV3Small", "ConvNeXtTiny"])
def test_keras_summaries_of_keras_applications(name):
    # Keras 3's own box table: names and types cut short with "…", a nested Sequential per
    # ConvNeXt downsampling stage, layers listed in Keras's order rather than learnable's.
    keras = pytest.importorskip("keras")
    model = getattr(keras.applications, name)(weights=None)
    printed: list[str] = []
    model.summary(print_fn=lambda line, **_: printed.append(line))
    text = "\n".join(printed)
    report = learnable.count(model)
    result = audit(report, text)
    assert result.ok, "\n".join(line for line in render_audit(result).splitlines() if "✗" in line)
    assert not result.not_claimed
    assert {t.kind: t.computed for t in result.totals}["total_params"] == model.count_params()


FIRE = """\
input: [32, 32, 96]
blocks:
  fire:
    params: {s: 16, e: 64}
    layers:
      - Conv2D: {filters: $s, kernel_size: 1, name: squeeze1x1}
      - Conv2D: {filters: $e, kernel_size: 1, name: expand1x1, inputs: [squeeze1x1]}
      - Conv2D: {filters: $e, kernel_size: 3, padding: same, name: expand3x3, inputs: [squeeze1x1]}
      - Concatenate: {inputs: [expand1x1, expand3x3]}
layers:
  - fire: {s: 16, e: 64, name: fire2}
  - fire: {s: 32, e: 128, name: inception_3a}
"""


def test_rows_naming_blocks_as_papers_write_them():
    # fire2: 96×16 + 16, 16×64 + 64, 3×3×16×64 + 64; the second block on 128 channels:
    # 128×32 + 32, 32×128 + 128, 3×3×32×128 + 128.
    fire2 = (96 * 16 + 16) + (16 * 64 + 64) + (3 * 3 * 16 * 64 + 64)
    second = (128 * 32 + 32) + (32 * 128 + 128) + (3 * 3 * 32 * 128 + 128)
    table = f"| Layer | Output | Params |\n|---|---|---|\n| fire2 | 32×32×128 | {fire2:,} |\n" \
            f"| inception (3a) | 32×32×256 | {second:,} |\n"
    result = audit(learnable.count(FIRE), table)
    assert sorted((r.claim, r.quantity, r.matched_by, r.ok, r.computed) for r in result.rows) == sorted([
        ("fire2", "params", "block", True, fire2), ("fire2", "output_shape", "block", True, "(32, 32, 128)"),
        ("inception (3a)", "params", "block", True, second),
        ("inception (3a)", "output_shape", "block", True, "(32, 32, 256)")])


# A functional model as Keras 2.x's print_row laid it out (keras/utils/layer_utils.py, line
# length 98): a name and a shape wrapped onto a second line of the same row, a list of inputs
# over two lines, rows set apart by blank lines.
KERAS2_FUNCTIONAL = """\
Model: "model"
__________________________________________________________________________________________________
 Layer (type)                   Output Shape         Param #     Connected to
==================================================================================================
 input_1 (InputLayer)           [(None, 14, 14, 512  0           []
                                )]

 conv4_block1_0_conv (Conv2D)   (None, 14, 14, 1024  525312      ['input_1[0][0]']
                                )

 conv4_block1_3_conv (Conv2D)   (None, 14, 14, 1024  525312      ['input_1[0][0]']
                                )

 conv4_block1_0_bn (BatchNormal  (None, 14, 14, 1024  4096       ['conv4_block1_0_conv[0][0]']
 ization)                       )

 conv4_block1_3_bn (BatchNormal  (None, 14, 14, 1024  4096       ['conv4_block1_3_conv[0][0]']
 ization)                       )

 conv4_block1_add (Add)         (None, 14, 14, 1024  0           ['conv4_block1_0_bn[0][0]',
                                )                                 'conv4_block1_3_bn[0][0]']
==================================================================================================
Total params: 1,058,816
Trainable params: 1,054,720
Non-trainable params: 4,096
__________________________________________________________________________________________________
"""
KERAS2_FUNCTIONAL_CODE = """\
import keras
from keras import layers
i = keras.Input((14, 14, 512), name="input_1")
x = layers.Conv2D(1024, 1, name="conv4_block1_0_conv")(i)
x = layers.BatchNormalization(name="conv4_block1_0_bn")(x)
y = layers.Conv2D(1024, 1, name="conv4_block1_3_conv")(i)
y = layers.BatchNormalization(name="conv4_block1_3_bn")(y)
model = keras.Model(i, layers.Add(name="conv4_block1_add")([x, y]))
"""


def test_keras2_rows_wrapped_in_name_and_shape():
    result = audit(learnable.count(KERAS2_FUNCTIONAL_CODE), KERAS2_FUNCTIONAL)
    assert result.ok, render_audit(result)
    params = {r.layer: r.computed for r in result.rows if r.quantity == "params" and r.computed}
    # 1×1×512×1024 + 1024 per convolution; 4 × 1024 per BatchNormalization, half of it moving statistics.
    assert params == {"conv4_block1_0_conv": 512 * 1024 + 1024, "conv4_block1_3_conv": 512 * 1024 + 1024,
                      "conv4_block1_0_bn": 4 * 1024, "conv4_block1_3_bn": 4 * 1024}
    assert sum(r.quantity == "output_shape" and r.ok for r in result.rows) == 6


def test_a_header_repeated_inside_a_table_is_not_a_row():
    table = "| Layer | Params |\n|---|---|\n| conv2d | 320 |\n| Layer | Params |\n| conv2d_1 | 18,496 |\n"
    assert audit(learnable.count(MNIST), table).ok


def test_row_names_this_network_in_a_table_of_networks():
    # torchvision's ResNet-50 (v1.5): 25,557,032 parameters, 4,089,184,256 multiply-adds of its
    # convolutions and fully connected layer (torch's FlopCounterMode ÷ 2, tests/test_paper_macs.py).
    table = "| Model | Params (M) | FLOPs (G) |\n|---|---|---|\n| ResNet-34 | 21.8 | 3.6 |\n| ResNet-50 | 25.6 | 4.1 |\n"
    report = learnable.count("zoo:resnet50_torch")
    result = audit(report, table, row="ResNet-50")
    assert result.ok and result.other_networks == ("ResNet-34",)  # "ResNet-34" is no torchsummary row
    assert {t.kind: t.computed for t in result.totals} == {"total_params": 25_557_032, "total_macs": 4_089_184_256}
    with pytest.raises(SpecError, match="--row ResNet-101: no row of that name"):
        audit(report, table, row="ResNet-101")


def test_summary_rows_that_match_nothing_are_given_up_on():
    # 3,000 container rows whose counts no run of layers adds up to, against 2,000 layers: each
    # would try runs over the next layers; after 256 misses in a row no more runs are tried.
    from learnable.auditing.matching import _SUM_MISSES

    report = learnable.count("Input(4) | " + " | ".join(["Dense(4)"] * 2000))
    text = "Layer (type)  Param #\n" + "".join(f"Block-{i}  {10 ** 12}\n" for i in range(3000))
    result = audit(report, text)
    assert _SUM_MISSES == 256 and len(result.rows) == 3000 and not any(r.ok for r in result.rows)
