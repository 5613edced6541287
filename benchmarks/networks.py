"""The benchmark's networks, built in each framework, and their learnable sources.

- seed: examples/simple_cnn.yaml (28×28×1, two 3×3 convolutions, pooling, two Dense).
- resnet50: torchvision's ResNet-50 in plain torch (torchvision is not installed here; a
  ``torchvision_resnet`` of tests/reference_models.py), keras.applications.ResNet50,
  and learnable's ``zoo:resnet50_torch``.
- encoder: 12 post-norm Transformer encoder layers as in BERT-base (d_model 768, 12 heads,
  FFN 3,072, 128 tokens): 12 × 7,087,872 = 85,054,464 parameters in every framework.
- sweep: the seed's 16 variants of SWEEP, counted one after the other (learnable.sweep;
  for the peers, a loop that builds each model and counts it).

Frameworks are imported inside the functions: importing this module costs nothing.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
D_MODEL, HEADS, FFN, LAYERS, TOKENS = 768, 12, 3072, 12, 128

# What learnable counts (paths from the repository root, where the benchmark runs), and one
# example's input shape in PyTorch's layout.
LEARNABLE_SOURCES = {"seed": "examples/simple_cnn.yaml", "resnet50": "zoo:resnet50_torch",
                     "encoder": "benchmarks/encoder12.yaml", "sweep": "examples/simple_cnn.yaml"}
TORCH_INPUTS = {"seed": (1, 28, 28), "resnet50": (3, 224, 224), "encoder": (TOKENS, D_MODEL), "sweep": (1, 28, 28)}
# The sweep: 16 variants of the seed, conv_2's filters by fc_1's units (the seed is 64 by 128).
SWEEP = {"conv_2.filters": (16, 32, 48, 64), "fc_1.units": (32, 64, 96, 128)}


def torch_seed(filters: int = 64, units: int = 128):
    from torch import nn

    return nn.Sequential(
        nn.Conv2d(1, 32, 3), nn.ReLU(), nn.Conv2d(32, filters, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
        nn.Linear(12 * 12 * filters, units), nn.ReLU(), nn.Linear(units, 10),
    ).eval()


def torch_encoder():
    from torch import nn

    layer = nn.TransformerEncoderLayer(D_MODEL, HEADS, FFN, batch_first=True)
    return nn.TransformerEncoder(layer, LAYERS, enable_nested_tensor=False).eval()


def torch_resnet50():
    """torchvision.models.resnet50(): Bottleneck blocks (3, 4, 6, 3), 25,557,032 parameters,
    written in plain torch in tests/reference_models.py (where the tests check it layer by
    layer against a forward pass and learnable's zoo:resnet50_torch)."""
    if str(ROOT / "tests") not in sys.path:
        sys.path.insert(0, str(ROOT / "tests"))
    from reference_models import torchvision_resnet

    return torchvision_resnet("bottleneck", (3, 4, 6, 3))


def keras_seed(filters: int = 64, units: int = 128):
    import keras
    from keras import layers

    return keras.Sequential([
        keras.Input((28, 28, 1)), layers.Conv2D(32, 3, activation="relu", name="conv_1"),
        layers.Conv2D(filters, 3, activation="relu", name="conv_2"), layers.MaxPooling2D(2, name="max_pool"),
        layers.Flatten(name="flatten"), layers.Dense(units, activation="relu", name="fc_1"),
        layers.Dense(10, activation="softmax", name="fc_2"),
    ], name="simple_cnn")


def keras_resnet50():
    import keras

    return keras.applications.ResNet50(weights=None)


def keras_encoder():
    """12 blocks of MultiHeadAttention + Add + LayerNormalization, Dense FFN + Add + LayerNormalization."""
    import keras
    from keras import layers

    inputs = x = keras.Input((TOKENS, D_MODEL))
    for i in range(LAYERS):
        attention = layers.MultiHeadAttention(HEADS, D_MODEL // HEADS, name=f"attention_{i}")(x, x)
        x = layers.LayerNormalization(epsilon=1e-5, name=f"norm1_{i}")(layers.Add()([x, attention]))
        hidden = layers.Dense(FFN, activation="relu", name=f"linear1_{i}")(x)
        x = layers.LayerNormalization(epsilon=1e-5, name=f"norm2_{i}")(
            layers.Add()([x, layers.Dense(D_MODEL, name=f"linear2_{i}")(hidden)]))
    return keras.Model(inputs, x, name="encoder12")
