"""Model code pasted as it is, in the forms the frameworks' own docs and model zoos use.
Expected totals are hand arithmetic or published figures."""

from __future__ import annotations

import learnable

# torchvision's AlexNet, as its source writes it (inplace=True by position, 256 * 6 * 6).
ALEXNET = """
import torch
import torch.nn as nn

features = nn.Sequential(
    nn.Conv2d(3, 64, kernel_size=11, stride=4, padding=2),
    nn.ReLU(inplace=True),
    nn.MaxPool2d(kernel_size=3, stride=2),
    nn.Conv2d(64, 192, kernel_size=5, padding=2),
    nn.ReLU(inplace=True),
    nn.MaxPool2d(kernel_size=3, stride=2),
    nn.Conv2d(192, 384, kernel_size=3, padding=1),
    nn.ReLU(True),
    nn.Conv2d(384, 256, kernel_size=3, padding=1),
    nn.ReLU(True),
    nn.Conv2d(256, 256, kernel_size=3, padding=1),
    nn.ReLU(True),
    nn.MaxPool2d(kernel_size=3, stride=2),
    nn.AdaptiveAvgPool2d((6, 6)),
    nn.Flatten(),
    nn.Dropout(p=0.5),
    nn.Linear(256 * 6 * 6, 4096),
    nn.ReLU(True),
    nn.Dropout(0.5, False),
    nn.Linear(4096, 4096),
    nn.ReLU(True),
    nn.Linear(4096, 1000),
)
print(features)
"""


def test_torchvision_alexnet_matches_its_published_size():
    report = learnable.count("Input(3, 224, 224)\n" + ALEXNET)
    assert report.total_params == 61_100_840  # torchvision AlexNet_Weights meta num_params
    assert report.layer("12").output_shape == (256, 6, 6)  # features[12], as PyTorch names it


def test_ordered_dict_names_the_layers():
    code = """
from collections import OrderedDict
model = nn.Sequential(OrderedDict([
    ("conv1", nn.Conv2d(1, 20, 5)),
    ("relu1", nn.ReLU()),
    ("conv2", nn.Conv2d(20, 64, 5)),
]))
"""
    report = learnable.count("Input(1, 28, 28)\n" + code)
    assert [(r.name, r.output_shape, r.params) for r in report.layers[1:]] == [
        ("conv1", (20, 24, 24), 5 * 5 * 1 * 20 + 20),
        ("relu1", (20, 24, 24), 0),
        ("conv2", (64, 20, 20), 5 * 5 * 20 * 64 + 64),
    ]


def test_keras_model_script_with_housekeeping_lines():
    code = """
model = keras.Sequential(layers=[
    keras.Input(batch_shape=(None, 784)),
    layers.Dense(64, activation="relu"),
    layers.LeakyReLU(alpha=0.2),
    layers.Dense(10),
])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
model.summary()
"""
    assert learnable.count(code).total_params == (784 * 64 + 64) + (64 * 10 + 10)


def test_keras2_input_forms():
    assert learnable.count("InputLayer(input_shape=(28, 28, 1)) | Flatten() | Dense(10)").total_params == 784 * 10 + 10
    assert learnable.count("Dense(10, batch_input_shape=(None, 5))").total_params == 5 * 10 + 10
    assert learnable.count("Dense(10, input_dim=7)").total_params == 7 * 10 + 10


def test_second_input_shape_is_refused_with_a_reason():
    try:
        learnable.count("Dense(10, input_shape=(5,)) | Dense(3, input_shape=(2,))")
    except learnable.LearnableError as err:
        assert "input_shape may only be given on the first layer" in str(err)
    else:
        raise AssertionError("a second input_shape was accepted")


def test_pytorch_quirks():
    # Negative ZeroPad2d amounts crop; nn.Identity ignores its arguments; a 1-tuple padding
    # broadcasts; nn.Linear fixes an unknown last dimension with in_features.
    assert learnable.count("Input(1, 6, 6) | nn.ZeroPad2d((-1, 0, 0, 2))").layers[-1].output_shape == (1, 8, 5)
    assert learnable.count("Input(4) | nn.Identity(54, unused='abc')").layers[-1].output_shape == (4,)
    assert learnable.count("Input(3, 8, 8) | nn.Conv2d(3, 4, 3, padding=(1,))").layers[-1].output_shape == (4, 8, 8)
    assert learnable.count("Input(None) | nn.Linear(8, 10)").total_params == 8 * 10 + 10
