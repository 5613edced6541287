import math

import torch
from torch import nn


class PositionalEncoding(nn.Module):
    """Fixed sine/cosine position signal, kept as a buffer (saved, never trained)."""

    def __init__(self, d_model, max_len=512, dropout=0.1):
        super().__init__()
        self.dropout = nn.Dropout(p=dropout)
        positions = torch.arange(max_len, dtype=torch.float32)[:, None]           # (max_len, 1)
        inv_freq = 1.0 / (10000 ** (torch.arange(0, d_model, 2).float() / d_model))  # (d_model / 2,)
        angles = positions * inv_freq
        table = torch.zeros(max_len, d_model)
        table[:, 0::2] = torch.sin(angles)
        table[:, 1::2] = torch.cos(angles)
        self.register_buffer("table", table.unsqueeze(0))                         # (1, max_len, d_model)

    def forward(self, x):
        seq_len = x.size(1)
        return self.dropout(x + self.table[:, :seq_len])


class TransformerClassifier(nn.Module):
    def __init__(self, vocab_size, d_model=128, nhead=4, num_layers=3, dim_feedforward=256, num_classes=5,
                 dropout=0.1):
        super().__init__()
        self.d_model = d_model
        self.embedding = nn.Embedding(vocab_size, d_model)
        self.pos_encoder = PositionalEncoding(d_model, dropout=dropout)
        encoder_layer = nn.TransformerEncoderLayer(d_model, nhead, dim_feedforward, dropout, batch_first=True)
        self.encoder = nn.TransformerEncoder(encoder_layer, num_layers)
        self.classifier = nn.Linear(d_model, num_classes)

    def forward(self, src):
        x = self.embedding(src) * math.sqrt(self.d_model)
        x = self.pos_encoder(x)
        x = self.encoder(x)
        x = x.mean(dim=1)   # average over the tokens
        return self.classifier(x)


VOCAB_SIZE = 30522
model = TransformerClassifier(VOCAB_SIZE, num_classes=5)
print(model)
