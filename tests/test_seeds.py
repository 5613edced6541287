"""The two seed tutorials, layer by layer, from their own hand arithmetic."""

from __future__ import annotations

import learnable
from conftest import EXAMPLES, run_cli


def counted(report) -> list[tuple[str, tuple, int]]:
    return [(row.type, row.output_shape, row.params) for row in report.layers]


def test_deeplizard_every_layer_from_the_tutorial_text():
    report = learnable.count(EXAMPLES / "deeplizard.yaml")
    # "3 inputs × (2 filters × 3×3) outputs = 54 weights + 2 biases = 56"
    conv_1 = 3 * (2 * 3 * 3) + 2
    # "2 inputs × (3 filters × 3×3) = 54 weights + 3 biases = 57"
    conv_2 = 2 * (3 * 3 * 3) + 3
    # "20×20 × 3 filters = 1200 inputs, × 2 outputs = 2400 weights + 2 biases = 2402"
    dense = (20 * 20 * 3) * 2 + 2
    assert counted(report) == [
        ("Input", (20, 20, 3), 0),
        ("Conv2D", (20, 20, 2), conv_1),  # zero padding keeps 20×20
        ("Conv2D", (20, 20, 3), conv_2),
        ("Flatten", (20 * 20 * 3,), 0),
        ("Dense", (2,), dense),
    ]
    assert (conv_1, conv_2, dense) == (56, 57, 2402)
    assert report.total_params == 2515
    assert report.trainable_params == 2515 and report.non_trainable_params == 0


def test_simple_cnn_every_layer_from_the_tutorial_formulas():
    report = learnable.count(EXAMPLES / "simple_cnn.yaml")
    conv_1 = ((3 * 3 * 1) + 1) * 32  # ((H × W × D) + bias) × N_f
    conv_2 = ((3 * 3 * 32) + 1) * 64  # the seed prints 18,494; its formula gives 18,496
    fc_1 = (9216 + 1) * 128  # (Length + bias) × N_nodes
    fc_2 = (128 + 1) * 10
    assert counted(report) == [
        ("Input", (28, 28, 1), 0),
        ("Conv2D", (26, 26, 32), conv_1),  # a valid 3×3 takes 28×28 to 26×26
        ("Conv2D", (24, 24, 64), conv_2),
        ("MaxPooling2D", (12, 12, 64), 0),
        ("Flatten", (12 * 12 * 64,), 0),
        ("Dense", (128,), fc_1),
        ("Dense", (10,), fc_2),
    ]
    assert conv_2 == 18_496
    assert report.total_params == 1_199_882 == conv_1 + conv_2 + fc_1 + fc_2


def test_seed_table_names_match_the_seed():
    names = [row.name for row in learnable.count(EXAMPLES / "simple_cnn.yaml").layers]
    assert names == ["input", "conv_1", "conv_2", "max_pool", "flatten", "fc_1", "fc_2"]


def test_compact_file_and_yaml_agree():
    yaml_rows = counted(learnable.count(EXAMPLES / "simple_cnn.yaml"))
    compact_rows = counted(learnable.count(EXAMPLES / "simple_cnn.txt"))
    assert compact_rows == yaml_rows


def test_explain_shows_the_seed_arithmetic():
    out = run_cli("count", str(EXAMPLES / "simple_cnn.yaml"), "--explain")
    assert out.returncode == 0, out.stderr
    assert "3×3×32×64 + 64 = 18,496" in out.stdout
    assert "9,216×128 + 128 = 1,179,776" in out.stdout
    assert "Total params: 1,199,882" in out.stdout
    assert "18,494" not in out.stdout
    # shapes: "a valid 3×3 convolution takes 28×28 to 26×26", then flatten multiplies out
    assert "height, width: 28 − 3 + 1 = 26" in out.stdout
    assert "12×12×64 = 9,216" in out.stdout


def test_deeplizard_cli_total():
    out = run_cli("count", str(EXAMPLES / "deeplizard.yaml"), "--explain")
    assert out.returncode == 0, out.stderr
    assert "3×3×3×2 + 2 = 56" in out.stdout
    assert "3×3×2×3 + 3 = 57" in out.stdout
    assert "1,200×2 + 2 = 2,402" in out.stdout
    assert "height, width: ⌈20/1⌉ = 20" in out.stdout  # zero padding keeps 20×20
    assert "20×20×3 = 1,200" in out.stdout
    assert "Total params: 2,515" in out.stdout
