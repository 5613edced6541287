import keras
from keras import layers

noise_dim = 100
image_shape = (32, 32, 3)   # CIFAR-sized colour images, scaled to [-1, 1]


def up_block(filters):
    """Doubles the spatial size."""
    return [
        layers.Conv2DTranspose(filters, kernel_size=5, strides=2, padding="same", use_bias=False),
        layers.BatchNormalization(),
        layers.ReLU(),
    ]


generator = keras.Sequential(
    [keras.Input(shape=(noise_dim,)), layers.Dense(4 * 4 * 256, use_bias=False), layers.Reshape((4, 4, 256))]
    + up_block(128)
    + up_block(64)
    + [layers.Conv2DTranspose(3, kernel_size=5, strides=2, padding="same", activation="tanh")],
    name="generator",
)

discriminator = keras.Sequential(name="discriminator")
discriminator.add(keras.Input(shape=image_shape))
for filters in (32, 64, 128):
    discriminator.add(layers.Conv2D(filters, kernel_size=3, strides=2, padding="same"))
    discriminator.add(layers.LeakyReLU(negative_slope=0.2))
discriminator.add(layers.GlobalMaxPooling2D())
discriminator.add(layers.Dense(1))

generator.summary()
discriminator.summary()

cross_entropy = keras.losses.BinaryCrossentropy(from_logits=True)
gen_opt = keras.optimizers.Adam(2e-4, beta_1=0.5)
disc_opt = keras.optimizers.Adam(2e-4, beta_1=0.5)
