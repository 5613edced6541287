from tensorflow import keras
from tensorflow.keras import layers, models

IMG_SIZE = (128, 128)
NUM_CLASSES = 3   # pet, background, outline
FILTERS = [32, 64, 128]


def double_conv(x, filters):
    for _ in range(2):
        x = layers.Conv2D(filters, 3, padding="same", kernel_initializer="he_normal")(x)
        x = layers.BatchNormalization()(x)
        x = layers.Activation("relu")(x)
    return x


def build_unet(img_size, num_classes, filters=FILTERS):
    inputs = keras.Input(shape=img_size + (3,))
    x = inputs
    skips = []

    # contracting path
    for f in filters:
        x = double_conv(x, f)
        skips.append(x)
        x = layers.MaxPooling2D(2)(x)

    x = double_conv(x, filters[-1] * 2)  # bottleneck

    # expanding path, joined to the matching skip
    for f, skip in zip(reversed(filters), reversed(skips)):
        x = layers.Conv2DTranspose(f, 2, strides=2, padding="same")(x)
        x = layers.concatenate([x, skip])
        x = double_conv(x, f)

    outputs = layers.Conv2D(num_classes, 1, activation="softmax")(x)
    return models.Model(inputs, outputs, name="unet")


model = build_unet(IMG_SIZE, NUM_CLASSES)
model.summary()
model.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy")
