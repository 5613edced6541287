# Vanilla GAN on flattened 28x28 digits, Keras 2 style
import numpy as np
from keras.models import Sequential, Model
from keras.layers import Input, Dense, Dropout, Reshape, Flatten, BatchNormalization, LeakyReLU
from keras.optimizers import Adam

IMG_SHAPE = (28, 28, 1)
NOISE_DIM = 64
G_WIDTHS = [128, 256, 512]
D_WIDTHS = [384, 192]


def generator_model(noise_dim=NOISE_DIM, widths=G_WIDTHS):
    g = Sequential(name="generator")
    g.add(Dense(widths[0], input_dim=noise_dim))
    g.add(LeakyReLU(alpha=0.2))
    for w in widths[1:]:
        g.add(Dense(w))
        g.add(BatchNormalization(momentum=0.9))
        g.add(LeakyReLU(alpha=0.2))
    g.add(Dense(int(np.prod(IMG_SHAPE)), activation="tanh"))
    g.add(Reshape(IMG_SHAPE))
    return g


def discriminator_model(widths=D_WIDTHS):
    d = Sequential(name="discriminator")
    d.add(Flatten(input_shape=IMG_SHAPE))
    for w in widths:
        d.add(Dense(w))
        d.add(LeakyReLU(alpha=0.2))
        d.add(Dropout(0.3))
    d.add(Dense(1, activation="sigmoid"))
    return d


def gan_model(g, d):
    """Noise -> generator -> frozen discriminator: training it updates the generator only."""
    d.trainable = False
    noise = Input(shape=(NOISE_DIM,))
    return Model(noise, d(g(noise)), name="gan")


d = discriminator_model()
d.compile(loss="binary_crossentropy", optimizer=Adam(learning_rate=2e-4, beta_1=0.5), metrics=["accuracy"])
g = generator_model()
gan = gan_model(g, d)
gan.compile(loss="binary_crossentropy", optimizer=Adam(learning_rate=2e-4, beta_1=0.5))
gan.summary()
