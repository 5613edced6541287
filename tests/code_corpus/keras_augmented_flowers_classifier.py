import tensorflow as tf
from tensorflow import keras
from tensorflow.keras import layers

IMG_SIZE = 160
BATCH = 32

# train_ds, val_ds = keras.utils.image_dataset_from_directory(data_dir, validation_split=0.2, subset="both", ...)
class_names = train_ds.class_names
num_classes = len(class_names)

AUTOTUNE = tf.data.AUTOTUNE


def prepare(ds, shuffle=False):
    if shuffle:
        ds = ds.shuffle(512)
    return ds.cache().prefetch(AUTOTUNE)


train_ds = prepare(train_ds, shuffle=True)
val_ds = prepare(val_ds)

# random changes to the training images (inactive at inference)
augment = keras.Sequential(
    [
        layers.RandomFlip("horizontal_and_vertical"),
        layers.RandomContrast(0.2),
        layers.RandomTranslation(0.1, 0.1),
    ],
    name="augment",
)


def conv_stage(filters):
    return [
        layers.Conv2D(filters, 3, padding="same", use_bias=False),
        layers.BatchNormalization(),
        layers.Activation("relu"),
        layers.MaxPooling2D(),
    ]


model = keras.Sequential(
    [keras.Input(shape=(IMG_SIZE, IMG_SIZE, 3)), augment, layers.Rescaling(1.0 / 127.5, offset=-1)]
    + [layer for f in (32, 64, 128) for layer in conv_stage(f)]
    + [
        layers.GlobalAveragePooling2D(),
        layers.Dropout(0.25),
        layers.Dense(num_classes, name="logits"),
    ],
    name="flowers_cnn",
)

model.compile(
    optimizer=keras.optimizers.Adam(1e-3),
    loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    metrics=["accuracy"],
)
model.summary()
