SEQ_LEN = 60
VOCAB = 15000
EMBED_DIM = 128
KERNEL_SIZES = [2, 3, 4, 5]
N_FILTERS = 64
N_LABELS = 4   # world, sports, business, sci/tech

tokens = keras.Input(shape=(SEQ_LEN,), dtype="int32")
emb = layers.Embedding(VOCAB, EMBED_DIM)(tokens)
emb = layers.SpatialDropout1D(0.2)(emb)

# one convolution per n-gram width, each max-pooled over the whole sentence
pooled = []
for k in KERNEL_SIZES:
    c = layers.Conv1D(N_FILTERS, k, activation="relu", name=f"conv_{k}gram")(emb)
    pooled.append(layers.GlobalMaxPooling1D()(c))

x = layers.concatenate(pooled)
x = layers.Dropout(0.5)(x)
x = layers.Dense(N_FILTERS * len(KERNEL_SIZES) // 2, activation="relu")(x)
probs = layers.Dense(N_LABELS, activation="softmax")(x)

model = keras.Model(tokens, probs, name="text_cnn")
model.summary()
model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
