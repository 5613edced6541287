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
