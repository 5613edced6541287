import copy
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


def stack_copies(layer, n):
    """n independent copies of one configured layer (each with its own weights)."""
    return nn.ModuleList([copy.deepcopy(layer) for _ in range(n)])


class SelfAttention(nn.Module):
    def __init__(self, dim, heads, dropout=0.1):
        super().__init__()
        self.heads = heads
        self.head_dim = dim // heads
        self.query = nn.Linear(dim, dim)
        self.key = nn.Linear(dim, dim)
        self.value = nn.Linear(dim, dim)
        self.out = nn.Linear(dim, dim)
        self.drop = nn.Dropout(dropout)

    def split(self, x):
        b, t, _ = x.shape
        return x.reshape(b, t, self.heads, self.head_dim).permute(0, 2, 1, 3)   # (b, heads, t, head_dim)

    def forward(self, x):
        q, k, v = self.split(self.query(x)), self.split(self.key(x)), self.split(self.value(x))
        weights = F.softmax(q @ k.transpose(-2, -1) / math.sqrt(self.head_dim), dim=-1)
        ctx = self.drop(weights) @ v
        ctx = ctx.permute(0, 2, 1, 3).reshape(x.shape[0], x.shape[1], -1)
        return self.out(ctx)


class EncoderLayer(nn.Module):
    def __init__(self, dim, heads, ff_dim, dropout=0.1):
        super().__init__()
        self.norm_a = nn.LayerNorm(dim)
        self.attn = SelfAttention(dim, heads, dropout)
        self.norm_b = nn.LayerNorm(dim)
        self.ff = nn.Sequential(nn.Linear(dim, ff_dim), nn.ReLU(), nn.Dropout(dropout), nn.Linear(ff_dim, dim))

    def forward(self, x):
        x = x + self.attn(self.norm_a(x))
        return x + self.ff(self.norm_b(x))


class SensorEncoder(nn.Module):
    """Windows of sensor readings (batch, steps, n_inputs) -> class scores (batch, n_outputs)."""

    def __init__(self, layer, n_layers, n_inputs, dim, n_outputs):
        super().__init__()
        self.embed = nn.Linear(n_inputs, dim)
        self.layers = stack_copies(layer, n_layers)
        self.norm = nn.LayerNorm(dim)
        self.classify = nn.Linear(dim, n_outputs)

    def forward(self, x):
        x = self.embed(x)
        for layer in self.layers:
            x = layer(x)
        return self.classify(self.norm(x).mean(dim=1))


dim, heads = 64, 4
template = EncoderLayer(dim, heads, ff_dim=4 * dim)
model = SensorEncoder(template, n_layers=3, n_inputs=6, dim=dim, n_outputs=5)
print(model)
