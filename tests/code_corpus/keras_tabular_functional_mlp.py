import numpy as np
import keras
from keras import layers

# x_train / y_train: the scaled feature matrix and the integer labels from the cells above
num_features = x_train.shape[1]
num_classes = len(np.unique(y_train))
print(f"{num_features} features, {num_classes} classes")

hidden_units = [128, 64, 32]
dropout_rate = 0.25


def dense_block(x, units, dropout=dropout_rate, name=None):
    """Dense -> BatchNorm -> GELU -> Dropout."""
    x = layers.Dense(units, name=name)(x)
    x = layers.BatchNormalization()(x)
    x = layers.Activation("gelu")(x)
    return layers.Dropout(dropout)(x)


def build_classifier(n_in, n_out, units=hidden_units):
    inputs = keras.Input(shape=(n_in,), name="features")
    x = inputs
    for i, u in enumerate(units):
        x = dense_block(x, u, name=f"block{i}_dense")
    outputs = layers.Dense(n_out, activation="softmax", name="probs")(x)
    return keras.Model(inputs, outputs, name="tabular_mlp")


model = build_classifier(num_features, num_classes)
model.summary()

model.compile(
    optimizer=keras.optimizers.Adam(learning_rate=1e-3),
    loss="sparse_categorical_crossentropy",
    metrics=["accuracy"],
)
early_stop = keras.callbacks.EarlyStopping(patience=5, restore_best_weights=True)
