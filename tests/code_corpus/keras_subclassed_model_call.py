import numpy as np
import tensorflow as tf
from tensorflow.keras import layers


class ResidualMLP(tf.keras.Model):
    """Dense blocks with skip connections, as a subclassed model."""

    def __init__(self, hidden=128, n_blocks=3, n_outputs=1, dropout=0.1):
        super(ResidualMLP, self).__init__()
        self.inp = layers.Dense(hidden, activation="relu")
        self.blocks = [layers.Dense(hidden, activation="relu") for _ in range(n_blocks)]
        self.norms = [layers.LayerNormalization() for _ in range(n_blocks)]
        self.drop = layers.Dropout(dropout)
        self.out = layers.Dense(n_outputs)

    def call(self, x, training=False):
        h = self.inp(x)
        for dense, norm in zip(self.blocks, self.norms):
            h = norm(h + self.drop(dense(h), training=training))
        return self.out(h)


n_features = 24
model = ResidualMLP(hidden=96, n_blocks=4)

# a subclassed model has no weights until it sees data
_ = model(np.zeros((1, n_features), dtype="float32"))
model.summary()

model.compile(optimizer="adam", loss="mse", metrics=["mae"])
