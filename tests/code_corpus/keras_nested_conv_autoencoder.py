import keras
from keras import layers

latent_dim = 16
img_shape = (28, 28, 1)

# --- encoder: image -> code
encoder_inputs = keras.Input(shape=img_shape, name="image")
x = layers.Conv2D(32, 3, strides=2, padding="same", activation="relu")(encoder_inputs)
x = layers.Conv2D(64, 3, strides=2, padding="same", activation="relu")(x)
x = layers.Flatten()(x)
code = layers.Dense(latent_dim, name="code")(x)
encoder = keras.Model(encoder_inputs, code, name="encoder")

# --- decoder: code -> image
decoder_inputs = keras.Input(shape=(latent_dim,), name="code_in")
x = layers.Dense(7 * 7 * 64, activation="relu")(decoder_inputs)
x = layers.Reshape((7, 7, 64))(x)
x = layers.Conv2DTranspose(64, 3, strides=2, padding="same", activation="relu")(x)
x = layers.Conv2DTranspose(32, 3, strides=2, padding="same", activation="relu")(x)
reconstructed = layers.Conv2D(1, 3, padding="same", activation="sigmoid")(x)
decoder = keras.Model(decoder_inputs, reconstructed, name="decoder")

# --- the two models are called like layers, on a new input
autoencoder_inputs = keras.Input(shape=img_shape)
outputs = decoder(encoder(autoencoder_inputs))
autoencoder = keras.Model(autoencoder_inputs, outputs, name="autoencoder")

encoder.summary()
decoder.summary()
autoencoder.summary()

autoencoder.compile(optimizer="adam", loss="binary_crossentropy")
# autoencoder.fit(x_train, x_train, epochs=20, batch_size=128, validation_data=(x_test, x_test))
