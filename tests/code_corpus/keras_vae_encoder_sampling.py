import keras
from keras import layers, ops

IMG_SHAPE = (32, 32, 3)
LATENT = 64


class Sampling(layers.Layer):
    """Draws z ~ N(mean, exp(log_var)) with the reparameterisation trick (no weights)."""

    def call(self, inputs):
        mean, log_var = inputs
        noise = keras.random.normal(ops.shape(mean))
        return mean + ops.exp(log_var / 2) * noise


def build_encoder(img_shape=IMG_SHAPE, latent=LATENT, widths=(32, 64, 128)):
    images = keras.Input(shape=img_shape, name="images")
    h = images
    for w in widths:
        h = layers.Conv2D(w, 3, strides=2, padding="same")(h)
        h = layers.BatchNormalization()(h)
        h = layers.LeakyReLU(negative_slope=0.1)(h)
    h = layers.GlobalAveragePooling2D()(h)
    mean = layers.Dense(latent, name="mean")(h)
    log_var = layers.Dense(latent, name="log_var")(h)
    z = Sampling(name="z")([mean, log_var])
    return keras.Model(images, [mean, log_var, z], name="encoder")


def build_decoder(latent=LATENT, widths=(128, 64, 32)):
    z = keras.Input(shape=(latent,))
    h = layers.Dense(4 * 4 * widths[0], activation="relu")(z)
    h = layers.Reshape((4, 4, widths[0]))(h)
    for w in widths:
        h = layers.Conv2DTranspose(w, 3, strides=2, padding="same", activation="relu")(h)
    out = layers.Conv2D(IMG_SHAPE[-1], 3, padding="same", activation="sigmoid")(h)
    return keras.Model(z, out, name="decoder")


encoder = build_encoder()
decoder = build_decoder()
encoder.summary()
decoder.summary()
