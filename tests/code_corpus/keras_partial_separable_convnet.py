import functools

import keras
from keras import layers

INPUT_SHAPE = (96, 96, 3)
NUM_CLASSES = 5
BASE_FILTERS = 32
NUM_STAGES = 4

# every convolution here shares these settings
Conv = functools.partial(layers.Conv2D, kernel_size=3, padding="same", use_bias=False)
SepConv = functools.partial(layers.SeparableConv2D, kernel_size=3, padding="same", use_bias=False)


def bn_act(x, *, act="relu"):
    x = layers.BatchNormalization()(x)
    return layers.Activation(act)(x)


def conv_block(x, *args, **kwargs):
    """Conv -> BN -> ReLU; positional and keyword arguments go to the convolution."""
    return bn_act(Conv(*args, **kwargs)(x))


def separable_stage(x, filters):
    residual = layers.Conv2D(filters, 1, strides=2, padding="same")(x)
    x = bn_act(SepConv(filters)(x))
    x = SepConv(filters)(x)
    x = layers.BatchNormalization()(x)
    x = layers.MaxPooling2D(3, strides=2, padding="same")(x)
    return layers.add([x, residual])


inputs = keras.Input(shape=INPUT_SHAPE)
x = conv_block(inputs, BASE_FILTERS, strides=2)
x = conv_block(x, BASE_FILTERS * 2)
for stage in range(NUM_STAGES):
    filters = min(BASE_FILTERS * 2 ** (stage + 2), 512)
    x = separable_stage(x, filters)
x = layers.GlobalAveragePooling2D()(x)
outputs = layers.Dense(NUM_CLASSES, activation="softmax")(x)

model = keras.Model(inputs, outputs)
model.summary()
