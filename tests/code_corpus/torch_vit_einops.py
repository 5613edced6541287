# A small vision transformer for 64x64 satellite tiles, written with einops as many
# research repositories are: patches cut by a Rearrange layer, heads split by rearrange,
# the class token broadcast by repeat, and the tokens pooled by reduce.
import torch
from torch import nn
from einops import rearrange, reduce, repeat
from einops.layers.torch import Rearrange

TILE, PATCH, BANDS = 64, 8, 4          # 4 spectral bands
N_CLASSES = 12


class SelfAttention(nn.Module):
    def __init__(self, width, n_heads):
        super().__init__()
        self.n_heads = n_heads
        self.qkv = nn.Linear(width, 3 * width)
        self.proj = nn.Linear(width, width)

    def forward(self, tokens):
        q, k, v = self.qkv(tokens).chunk(3, dim=-1)
        q, k, v = (rearrange(t, "b n (h e) -> b h n e", h=self.n_heads) for t in (q, k, v))
        weights = (q @ k.transpose(-2, -1)) * (q.shape[-1] ** -0.5)
        mixed = weights.softmax(dim=-1) @ v
        return self.proj(rearrange(mixed, "b h n e -> b n (h e)"))


class Block(nn.Module):
    def __init__(self, width, n_heads, mlp_ratio=2):
        super().__init__()
        self.norm1, self.norm2 = nn.LayerNorm(width), nn.LayerNorm(width)
        self.attn = SelfAttention(width, n_heads)
        self.mlp = nn.Sequential(nn.Linear(width, mlp_ratio * width), nn.GELU(), nn.Linear(mlp_ratio * width, width))

    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class TileViT(nn.Module):
    def __init__(self, width=96, depth=4, n_heads=6):
        super().__init__()
        n_patches = (TILE // PATCH) ** 2
        self.to_tokens = nn.Sequential(
            Rearrange("b c (h p1) (w p2) -> b (h w) (p1 p2 c)", p1=PATCH, p2=PATCH),
            nn.Linear(PATCH * PATCH * BANDS, width),
        )
        self.cls = nn.Parameter(torch.zeros(1, 1, width))
        self.pos = nn.Parameter(torch.randn(1, n_patches + 1, width) * 0.02)
        self.blocks = nn.ModuleList([Block(width, n_heads) for _ in range(depth)])
        self.head = nn.Linear(width, N_CLASSES)

    def forward(self, tiles):
        x = self.to_tokens(tiles)
        cls = repeat(self.cls, "1 1 d -> b 1 d", b=x.shape[0])
        x = torch.cat([cls, x], dim=1) + self.pos
        for block in self.blocks:
            x = block(x)
        return self.head(reduce(x, "b n d -> b d", "mean"))


model = TileViT()
print(sum(p.numel() for p in model.parameters()))
