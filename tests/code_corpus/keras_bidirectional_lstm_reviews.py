import keras
from keras import layers

max_tokens = 25000   # vocabulary size used by the TextVectorization step
embed_size = 96

# reviews of any length: token ids, 0 = padding
inputs = keras.Input(shape=(None,), dtype="int32", name="token_ids")
x = layers.Embedding(max_tokens, embed_size, mask_zero=True)(inputs)
x = layers.Bidirectional(layers.LSTM(48, return_sequences=True))(x)
x = layers.Bidirectional(layers.GRU(32))(x)
x = layers.Dense(32, activation="relu")(x)
x = layers.Dropout(0.3)(x)
outputs = layers.Dense(1, activation="sigmoid")(x)

model = keras.Model(inputs, outputs, name="review_sentiment")
model.summary()

model.compile(
    optimizer=keras.optimizers.Adam(learning_rate=2e-4),
    loss="binary_crossentropy",
    metrics=["accuracy"],
)

# train_ds / val_ds: batches of (token ids, label) prepared in the data cell
callbacks = [keras.callbacks.ModelCheckpoint("sentiment.keras", save_best_only=True)]
