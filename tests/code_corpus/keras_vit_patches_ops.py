import keras
from keras import layers, ops

image_size = 32
patch_size = 4
num_patches = (image_size // patch_size) ** 2
embed_dim = 48
num_heads = 4
depth = 3
ff_widths = [embed_dim * 2, embed_dim]
num_classes = 100


class Patchify(layers.Layer):
    """Cuts (H, W, C) images into flattened non-overlapping patches."""

    def __init__(self, size, **kwargs):
        super().__init__(**kwargs)
        self.size = size

    def call(self, images):
        b = ops.shape(images)[0]
        h, w, c = images.shape[1], images.shape[2], images.shape[3]
        p = self.size
        x = ops.reshape(images, (b, h // p, p, w // p, p, c))
        x = ops.transpose(x, (0, 1, 3, 2, 4, 5))
        return ops.reshape(x, (b, (h // p) * (w // p), p * p * c))


class PatchTokens(layers.Layer):
    """Projects the patches, prepends a class token and adds position embeddings."""

    def __init__(self, n_patches, dim, **kwargs):
        super().__init__(**kwargs)
        self.n_patches = n_patches
        self.dim = dim
        self.projection = layers.Dense(dim)
        self.position_embedding = layers.Embedding(input_dim=n_patches + 1, output_dim=dim)

    def build(self, input_shape):
        self.cls_token = self.add_weight(shape=(1, 1, self.dim), initializer="zeros", name="cls_token")

    def call(self, patches):
        b = ops.shape(patches)[0]
        tokens = self.projection(patches)
        cls = ops.broadcast_to(self.cls_token, (b, 1, self.dim))
        tokens = ops.concatenate([cls, tokens], axis=1)
        positions = ops.arange(0, self.n_patches + 1)
        return tokens + self.position_embedding(positions)


def feed_forward(x, widths, drop):
    """GELU MLP applied to every token."""
    for i, width in enumerate(widths):
        x = layers.Dense(width, activation="gelu" if i < len(widths) - 1 else None)(x)
        x = layers.Dropout(drop)(x)
    return x


inputs = keras.Input(shape=(image_size, image_size, 3))
patches = Patchify(patch_size)(inputs)
x = PatchTokens(num_patches, embed_dim)(patches)

for block in range(depth):
    # attention sub-block, residual around it
    normed = layers.LayerNormalization(epsilon=1e-6, name=f"ln_attn_{block}")(x)
    attended = layers.MultiHeadAttention(num_heads=num_heads, key_dim=embed_dim // num_heads)(normed, normed)
    x = layers.Add()([x, attended])
    # feed-forward sub-block, residual around it
    normed = layers.LayerNormalization(epsilon=1e-6, name=f"ln_mlp_{block}")(x)
    x = layers.Add()([x, feed_forward(normed, ff_widths, 0.1)])

x = layers.LayerNormalization(epsilon=1e-6)(x)
cls_out = x[:, 0]
logits = layers.Dense(num_classes)(cls_out)

vit = keras.Model(inputs=inputs, outputs=logits)
vit.summary()
