from dataclasses import dataclass

import keras
from keras import layers


@dataclass
class MixerConfig:
    image_size: int = 64
    patch_size: int = 8
    channels: int = 3
    hidden_dim: int = 128
    token_mlp_dim: int = 64
    channel_mlp_dim: int = 256
    depth: int = 4
    num_classes: int = 10
    dropout: float = 0.1


def mlp_block(x, hidden, out_dim, rate, name):
    x = layers.Dense(hidden, activation="gelu", name=f"{name}_fc1")(x)
    x = layers.Dropout(rate)(x)
    return layers.Dense(out_dim, name=f"{name}_fc2")(x)


def build_mixer(cfg: MixerConfig):
    num_patches = (cfg.image_size // cfg.patch_size) ** 2
    inputs = keras.Input(shape=(cfg.image_size, cfg.image_size, cfg.channels))
    # patches as a strided convolution, then (patches, hidden_dim) tokens
    x = layers.Conv2D(cfg.hidden_dim, cfg.patch_size, strides=cfg.patch_size, name="stem")(inputs)
    x = layers.Reshape((num_patches, cfg.hidden_dim))(x)
    for i in range(cfg.depth):
        # token mixing: mix across patches, per channel
        y = layers.LayerNormalization(epsilon=1e-6)(x)
        y = layers.Permute((2, 1))(y)
        y = mlp_block(y, cfg.token_mlp_dim, num_patches, cfg.dropout, name=f"mixer{i}_token")
        y = layers.Permute((2, 1))(y)
        x = layers.add([x, y])
        # channel mixing: mix across channels, per patch
        y = layers.LayerNormalization(epsilon=1e-6)(x)
        y = mlp_block(y, cfg.channel_mlp_dim, cfg.hidden_dim, cfg.dropout, name=f"mixer{i}_channel")
        x = layers.add([x, y])
    x = layers.LayerNormalization(epsilon=1e-6)(x)
    x = layers.GlobalAveragePooling1D()(x)
    outputs = layers.Dense(cfg.num_classes, activation="softmax", name="head")(x)
    return keras.Model(inputs, outputs, name="mlp_mixer")


config = MixerConfig(depth=3, num_classes=37)
model = build_mixer(config)
model.summary()
