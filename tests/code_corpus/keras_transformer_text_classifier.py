import keras
from keras import layers, ops

vocab_size = 20000  # words kept
seq_len = 128       # tokens per review
embed_dim = 64
num_heads = 4
ff_dim = 128
num_blocks = 2


class PositionalTokenEmbedding(layers.Layer):
    """Token embedding plus a learned embedding of each position."""

    def __init__(self, max_len, vocab, dim, **kwargs):
        super().__init__(**kwargs)
        self.tokens = layers.Embedding(input_dim=vocab, output_dim=dim)
        self.positions = layers.Embedding(input_dim=max_len, output_dim=dim)

    def call(self, x):
        positions = ops.arange(ops.shape(x)[1])
        return self.tokens(x) + self.positions(positions)


class EncoderBlock(layers.Layer):
    """Pre-norm transformer encoder block: attention, then a position-wise MLP."""

    def __init__(self, dim, heads, hidden, rate=0.1, **kwargs):
        super().__init__(**kwargs)
        self.norm1 = layers.LayerNormalization(epsilon=1e-6)
        self.attn = layers.MultiHeadAttention(num_heads=heads, key_dim=dim // heads)
        self.norm2 = layers.LayerNormalization(epsilon=1e-6)
        self.mlp = keras.Sequential([layers.Dense(hidden, activation="gelu"), layers.Dense(dim)])
        self.drop = layers.Dropout(rate)

    def call(self, x, training=False):
        h = self.norm1(x)
        x = x + self.drop(self.attn(h, h), training=training)
        h = self.norm2(x)
        return x + self.drop(self.mlp(h), training=training)


inputs = keras.Input(shape=(seq_len,), dtype="int32")
x = PositionalTokenEmbedding(seq_len, vocab_size, embed_dim)(inputs)
for i in range(num_blocks):
    x = EncoderBlock(embed_dim, num_heads, ff_dim, name=f"encoder_{i}")(x)
x = layers.GlobalAveragePooling1D()(x)
x = layers.Dropout(0.1)(x)
outputs = layers.Dense(2, activation="softmax")(x)

model = keras.Model(inputs=inputs, outputs=outputs)
model.summary()
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
