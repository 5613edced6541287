import keras
from keras import layers

IMG_SIZE = 32
NUM_CLASSES = 10
STAGES = [32, 64, 128]
BLOCKS_PER_STAGE = 2


def conv_bn(x, filters, strides=1, name=None):
    x = layers.Conv2D(filters, 3, strides=strides, padding="same", use_bias=False, name=name)(x)
    return layers.BatchNormalization(name=f"{name}_bn")(x)


inputs = keras.Input(shape=(IMG_SIZE, IMG_SIZE, 3))
x = layers.Rescaling(1.0 / 255)(inputs)
x = conv_bn(x, STAGES[0], name="stem")
x = layers.ReLU()(x)

for stage, filters in enumerate(STAGES):
    for block in range(BLOCKS_PER_STAGE):
        strides = 2 if block == 0 and stage > 0 else 1
        prefix = f"stage{stage}_block{block}"
        shortcut = x
        y = conv_bn(x, filters, strides, name=prefix + "_conv1")
        y = layers.ReLU()(y)
        y = conv_bn(y, filters, name=prefix + "_conv2")
        if strides != 1 or shortcut.shape[-1] != filters:
            # project the shortcut when the block changes the shape
            shortcut = layers.Conv2D(filters, 1, strides=strides, name=prefix + "_proj")(shortcut)
        x = layers.add([y, shortcut])
        x = layers.ReLU()(x)

x = layers.GlobalAveragePooling2D()(x)
x = layers.Dropout(0.3)(x)
outputs = layers.Dense(NUM_CLASSES, activation="softmax")(x)

model = keras.Model(inputs, outputs, name="mini_resnet")
model.summary()
keras.utils.plot_model(model, "mini_resnet.png", show_shapes=True)

model.compile(
    optimizer=keras.optimizers.SGD(learning_rate=0.05, momentum=0.9),
    loss="sparse_categorical_crossentropy",
    metrics=["accuracy"],
)
