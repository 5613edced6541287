import tensorflow as tf
from tensorflow import keras

INPUT_DIM = 32
N_OUT = 5


def make_member(width, depth=2, activation="relu", name=None):
    """One small MLP of the ensemble."""
    inp = keras.Input(shape=(INPUT_DIM,))
    h = inp
    for _ in range(depth):
        h = keras.layers.Dense(width, activation=activation)(h)
    out = keras.layers.Dense(N_OUT, activation="softmax")(h)
    return keras.Model(inp, out, name=name)


widths = [64, 128, 32]
depths = [2, 1, 3]
members = [make_member(w, depth=d, name=f"member_{i}") for i, (w, d) in enumerate(zip(widths, depths))]

# the first member was trained in an earlier run and is kept fixed
members[0].trainable = False

ensemble_input = keras.Input(shape=(INPUT_DIM,), name="x")
predictions = [member(ensemble_input) for member in members]
averaged = keras.layers.Average(name="mean_prediction")(predictions)
ensemble = keras.Model(ensemble_input, averaged, name="ensemble")

ensemble.compile(optimizer=tf.keras.optimizers.Adam(3e-4), loss="categorical_crossentropy")
ensemble.summary()
for member in members:
    print(member.name, member.count_params())
