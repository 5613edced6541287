"""Duplicate-question detection: both questions go through the SAME embedding and LSTM."""
import keras
from keras import layers

MAX_LEN = 30
VOCAB_SIZE = 20_000
EMBED_DIM = 100
LSTM_UNITS = 64

question_a = keras.Input(shape=(MAX_LEN,), dtype="int64", name="question_a")
question_b = keras.Input(shape=(MAX_LEN,), dtype="int64", name="question_b")

# one layer object, called twice: the two branches share their weights
embed = layers.Embedding(VOCAB_SIZE, EMBED_DIM, name="shared_embedding")
encoder = layers.LSTM(LSTM_UNITS, name="shared_lstm")

vec_a = encoder(embed(question_a))
vec_b = encoder(embed(question_b))

difference = layers.subtract([vec_a, vec_b])
product = layers.multiply([vec_a, vec_b])
features = layers.concatenate([vec_a, vec_b, difference, product])

x = layers.Dense(64, activation="relu")(features)
x = layers.Dropout(0.2)(x)
is_duplicate = layers.Dense(1, activation="sigmoid", name="is_duplicate")(x)

model = keras.Model(inputs=[question_a, question_b], outputs=is_duplicate)
model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
model.summary()
