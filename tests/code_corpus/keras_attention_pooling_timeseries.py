import numpy as np
import keras
from keras import layers
from keras import ops


class AttentionPooling(layers.Layer):
    """Weights the time steps by a learned score and returns [weighted sum, mean]."""

    def build(self, input_shape):
        features = input_shape[-1]
        self.w = self.add_weight(shape=(features, 1), initializer="glorot_uniform", name="score_w")
        self.b = self.add_weight(shape=(1,), initializer="zeros", name="score_b")

    def call(self, x):
        scores = ops.matmul(x, self.w) + self.b              # (batch, steps, 1)
        weights = ops.softmax(scores, axis=1)
        pooled = ops.matmul(ops.transpose(weights, (0, 2, 1)), x)  # (batch, 1, features)
        pooled = ops.reshape(pooled, (-1, x.shape[-1]))
        return ops.concatenate([pooled, ops.mean(x, axis=1)], axis=-1)


# sensor windows: x_train is (n_windows, timesteps, channels)
input_shape = x_train.shape[1:]
n_classes = len(np.unique(y_train))


def make_model(shape, classes, filters=(32, 64), kernel=5):
    inp = keras.Input(shape)
    x = inp
    for f in filters:
        x = layers.Conv1D(f, kernel, padding="same")(x)
        x = layers.BatchNormalization()(x)
        x = layers.Activation("relu")(x)
    x = AttentionPooling(name="attn_pool")(x)
    x = layers.Dense(64, activation="relu")(x)
    out = layers.Dense(classes, activation="softmax")(x)
    return keras.Model(inp, out)


model = make_model(input_shape, n_classes)
model.summary()
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["sparse_categorical_accuracy"])
