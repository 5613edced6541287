import tensorflow as tf
from tensorflow.keras import layers, Model

# numeric columns are standardised beforehand; categorical ones are integer codes
NUMERIC = ["age", "hours_per_week", "capital_gain", "capital_loss"]
CATEGORICAL = {"workclass": 9, "education": 16, "occupation": 15, "native_country": 42}
EMBED_DIMS = {name: max(2, min(8, n // 2)) for name, n in CATEGORICAL.items()}

inputs = {name: tf.keras.Input(shape=(1,), name=name) for name in NUMERIC}
inputs.update({name: tf.keras.Input(shape=(1,), dtype="int32", name=name) for name in CATEGORICAL})

numeric = layers.concatenate([inputs[name] for name in NUMERIC], name="numeric")

embedded = []
for name, n in CATEGORICAL.items():
    e = layers.Embedding(n + 1, EMBED_DIMS[name], name=f"{name}_embedding")(inputs[name])
    embedded.append(layers.Flatten()(e))

# deep part: the embeddings and the numbers through an MLP
deep = layers.concatenate([numeric] + embedded)
for units in (64, 32):
    deep = layers.Dense(units, activation="relu")(deep)
    deep = layers.Dropout(0.1)(deep)

# wide part: a linear model of the numbers
wide = layers.Dense(1, name="wide_linear")(numeric)

both = layers.concatenate([wide, deep])
output = layers.Dense(1, activation="sigmoid", name="income_over_50k")(both)

model = Model(inputs=inputs, outputs=output)
model.compile(optimizer="adam", loss="binary_crossentropy", metrics=[tf.keras.metrics.AUC()])
model.summary()
