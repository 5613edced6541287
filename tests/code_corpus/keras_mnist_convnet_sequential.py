import os

os.environ["KERAS_BACKEND"] = "torch"

import numpy as np
import keras
from keras import layers

# Handwritten digits: 28x28 grey images, ten classes
num_classes = 10
input_shape = (28, 28, 1)


def prepare(images, labels):
    """uint8 images -> float32 in [0, 1] with a channel axis; labels -> one-hot rows."""
    images = (images / 255.0).astype("float32")[..., np.newaxis]
    return images, keras.utils.to_categorical(labels, num_classes)


# x_train, y_train, x_test, y_test: from keras.datasets.mnist.load_data() in the cell above
x_train, y_train = prepare(x_train, y_train)
x_test, y_test = prepare(x_test, y_test)
assert x_train.shape[1:] == input_shape

model = keras.Sequential(
    [
        keras.Input(shape=input_shape),
        layers.Conv2D(24, kernel_size=(3, 3), activation="relu"),
        layers.MaxPooling2D(pool_size=(2, 2)),
        layers.Conv2D(48, kernel_size=(3, 3), activation="relu"),
        layers.MaxPooling2D(pool_size=(2, 2)),
        layers.Conv2D(96, kernel_size=3, padding="same", activation="relu"),
        layers.Flatten(),
        layers.Dropout(0.4),
        layers.Dense(128, activation="relu"),
        layers.Dense(num_classes, activation="softmax"),
    ]
)

model.summary()

model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
# model.fit(x_train, y_train, batch_size=256, epochs=8, validation_split=0.1)
