"""Every zoo model against its framework's own model, to the parameter."""

from __future__ import annotations

import math

import pytest

import learnable
from conftest import run_cli
from learnable.spec import zoo

# name → (published total, the framework that defines it); the tests build that model.
PUBLISHED = {
    "lenet5": 61_706,
    "lenet5_1998": 60_000 + 840,  # LeCun et al. 1998: 60,000 trainable; the RBF's 84×10 fixed by hand
    "alexnet": 61_100_840,  # torchvision AlexNet_Weights num_params
    "vgg16": 138_357_544,  # keras.applications.VGG16 and torchvision VGG16_Weights
    "densenet121": 8_062_504,  # keras.applications.DenseNet121 (83,648 non-trainable)
    "inception_v3": 23_851_784,  # keras.applications.InceptionV3 (34,432 non-trainable)
    "resnet18": 11_689_512,  # torchvision ResNet18_Weights num_params (+ 9,620 buffers)
    "resnet50": 25_636_712,  # keras.applications.ResNet50(weights=None).count_params()
    "resnet50_torch": 25_557_032,  # torchvision ResNet50_Weights num_params (+ 53,173 buffers)
    "mobilenet_v2": 3_538_984,  # keras.applications.MobileNetV2(weights=None)
    "efficientnet_b0": 5_330_571,  # keras.applications.EfficientNetB0(weights=None)
    "bert_base": 109_482_240,  # HF BertModel("bert-base-uncased"), pooler included
    "gpt2_small": 124_439_808,  # HF GPT2Model("gpt2"); the LM head is tied to wte
}


def weighted_rows(report) -> list[int]:
    return [row.params for row in report.layers if row.params]


def test_every_zoo_model_has_a_published_total():
    assert set(zoo.names()) == set(PUBLISHED)
    for name, total in PUBLISHED.items():
        assert learnable.count(f"zoo:{name}").total_params == total, name


def test_zoo_command_lists_and_shows(tmp_path):
    listing = run_cli("zoo")
    assert listing.returncode == 0 and "zoo:vgg16" in listing.stdout and "138,357,544" in listing.stdout
    shown = run_cli("zoo", "--show", "lenet5")
    (tmp_path / "mine.yaml").write_text(shown.stdout)
    assert learnable.count(tmp_path / "mine.yaml").total_params == PUBLISHED["lenet5"]
    assert run_cli("count", "zoo:nope").returncode == 2


@pytest.mark.frameworks
@pytest.mark.parametrize("name, shape", [("lenet5", (1, 32, 32)), ("alexnet", (3, 224, 224))])
def test_torch_zoo_models_match_torch(name, shape):
    pytest.importorskip("torch")
    import reference_models

    module = getattr(reference_models, name)()
    report = learnable.count(f"zoo:{name}")
    assert (report.total_params, report.total_buffers) == reference_models.counts(module)
    assert weighted_rows(report) == reference_models.weighted_layer_counts(module)
    assert report.layers[-1].output_shape == reference_models.run_shape(module, shape)


KERAS_APPLICATIONS = {"vgg16": "VGG16"}


@pytest.mark.frameworks
@pytest.mark.parametrize("name", sorted(KERAS_APPLICATIONS))
def test_keras_zoo_models_match_keras_applications(name):
    keras = pytest.importorskip("keras")
    model = getattr(keras.applications, KERAS_APPLICATIONS[name])(weights=None)
    report = learnable.count(f"zoo:{name}")
    trainable = sum(math.prod(w.shape) for w in model.trainable_weights)
    assert (report.total_params, report.trainable_params) == (model.count_params(), trainable)
    keras_rows = [layer.count_params() for layer in model.layers if layer.count_params()]
    assert weighted_rows(report) == keras_rows
    assert report.layers[-1].output_shape == tuple(model.output.shape[1:])


# LeNet-5's C3 (LeCun et al. 1998, Table I): which S2 maps each of the 16 C3 maps reads
C3_TABLE = [[0, 1, 2], [1, 2, 3], [2, 3, 4], [3, 4, 5], [4, 5, 0], [5, 0, 1], [0, 1, 2, 3], [1, 2, 3, 4],
            [2, 3, 4, 5], [3, 4, 5, 0], [4, 5, 0, 1], [5, 0, 1, 2], [0, 1, 3, 4], [1, 2, 4, 5], [0, 2, 3, 5],
            [0, 1, 2, 3, 4, 5]]


def test_lenet5_1998_is_the_papers_arithmetic():
    report = learnable.count("zoo:lenet5_1998")
    c3 = sum(len(maps) * 5 * 5 + 1 for maps in C3_TABLE)
    assert c3 == 6 * (3 * 25 + 1) + 6 * (4 * 25 + 1) + 3 * (4 * 25 + 1) + (6 * 25 + 1) == 1_516
    blocks = {b.name: b.params for b in report.blocks}
    assert (report.layer("c1").params, blocks["s2"], blocks["s4"]) == (6 * (25 + 1), 6 * 2, 16 * 2)
    assert sum(blocks[f"c3_{i}"] for i in range(16)) == c3
    assert (report.layer("c5").params, report.layer("f6").params) == (120 * (16 * 25 + 1), 84 * (120 + 1))
    assert report.trainable_params == 156 + 12 + 1_516 + 32 + 48_120 + 10_164 == 60_000  # the paper's figure
    assert report.non_trainable_params == 84 * 10 and report.layers[-1].output_shape == (10,)


@pytest.mark.frameworks
def test_lenet5_1998_matches_a_torch_lenet_with_the_connection_table():
    torch = pytest.importorskip("torch")
    nn = torch.nn

    class Subsampling(nn.Module):  # a 2×2 sum times a coefficient, plus a bias, per map
        def __init__(self, maps):
            super().__init__()
            self.coefficient, self.bias = nn.Parameter(torch.ones(maps)), nn.Parameter(torch.zeros(maps))

        def forward(self, x):
            return torch.tanh(nn.functional.avg_pool2d(x, 2) * self.coefficient[:, None, None]
                              + self.bias[:, None, None])

    class LeNet1998(nn.Module):
        def __init__(self):
            super().__init__()
            self.c1, self.s2 = nn.Conv2d(1, 6, 5), Subsampling(6)
            self.c3 = nn.ModuleList(nn.Conv2d(len(maps), 1, 5) for maps in C3_TABLE)
            self.s4, self.c5, self.f6 = Subsampling(16), nn.Conv2d(16, 120, 5), nn.Linear(120, 84)
            self.rbf = nn.Linear(84, 10, bias=False).requires_grad_(False)  # fixed by hand in the paper

        def forward(self, x):
            x = self.s2(torch.tanh(self.c1(x)))
            x = torch.cat([torch.tanh(conv(x[:, maps])) for conv, maps in zip(self.c3, C3_TABLE)], dim=1)
            x = torch.tanh(self.c5(self.s4(x))).flatten(1)
            return self.rbf(torch.tanh(self.f6(x)))

    model = LeNet1998()
    report = learnable.count("zoo:lenet5_1998")
    assert report.total_params == sum(p.numel() for p in model.parameters())
    assert report.trainable_params == sum(p.numel() for p in model.parameters() if p.requires_grad)
    assert report.layers[-1].output_shape == tuple(model(torch.zeros(1, 1, 32, 32)).shape[1:])


def test_resnet50_v1_and_v1_5_differ_in_macs_by_where_they_stride():
    """Keras (zoo:resnet50) strides the first 1×1 of each downsampling block, as the paper's
    v1; torchvision (zoo:resnet50_torch) strides the 3×3, "v1.5": its 1×1 and the BatchNorm
    after it run at the full size, 4/4 − 1/4 = 3/4 more of it in layers 2, 3 and 4."""
    v1, v1_5 = learnable.count("zoo:resnet50"), learnable.count("zoo:resnet50_torch")
    # (input H×W, its channels, the block's planes) of the three strided blocks
    strided = [(56 * 56, 256, 128), (28 * 28, 512, 256), (14 * 14, 1024, 512)]
    extra = sum(3 * hw // 4 * planes * (channels + 1) for hw, channels, planes in strided)  # conv + BN
    assert v1_5.total_macs - v1.total_macs == extra == 231_737_856
