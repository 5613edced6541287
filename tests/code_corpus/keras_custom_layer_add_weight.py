import numpy as np
import keras
from keras import ops


class ScaledDense(keras.layers.Layer):
    """Dense layer with a learned per-unit output scale and a running maximum (not trained)."""

    def __init__(self, units=32, activation=None, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.activation = keras.activations.get(activation)

    def build(self, input_shape):
        in_dim = input_shape[-1]
        self.kernel = self.add_weight(
            shape=(in_dim, self.units), initializer="glorot_uniform", trainable=True, name="kernel"
        )
        self.bias = self.add_weight(shape=(self.units,), initializer="zeros", name="bias")
        self.scale = self.add_weight(shape=(self.units,), initializer="ones", name="scale")
        self.running_max = self.add_weight(
            shape=(self.units,), initializer="zeros", trainable=False, name="running_max"
        )

    def call(self, inputs):
        y = ops.matmul(inputs, self.kernel) + self.bias
        return self.activation(y * self.scale)


model = keras.Sequential(
    [
        keras.Input(shape=(20,)),
        ScaledDense(64, activation="relu"),
        ScaledDense(32, activation="relu"),
        keras.layers.Dense(1),
    ],
    name="scaled_mlp",
)
model.summary()

x = np.random.rand(16, 20).astype("float32")
print(model(x).shape)
