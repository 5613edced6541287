import torch
import torch.nn as nn

# text: the whole training file, read in the previous cell
chars = sorted(list(set(text)))
vocab_size = len(chars)
char_to_id = {ch: i for i, ch in enumerate(chars)}
id_to_char = dict(enumerate(chars))
print("vocabulary:", vocab_size, "characters")


class CharGRU(nn.Module):
    """Character-level language model whose output layer shares the embedding matrix.

    The GRU may be wider than the embedding: a projection brings its states back to
    emb_dim before the (tied) output layer.
    """

    def __init__(self, vocab_size, emb_dim=128, hidden_dim=384, n_layers=2, dropout=0.2):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, emb_dim)
        self.rnn = nn.GRU(emb_dim, hidden_dim, num_layers=n_layers, dropout=dropout, batch_first=True)
        self.proj = nn.Linear(hidden_dim, emb_dim)
        self.head = nn.Linear(emb_dim, vocab_size)
        self.head.weight = self.embed.weight   # same tensor: trained once, stored once
        self.dropout = nn.Dropout(dropout)

    def forward(self, ids, state=None):
        x = self.dropout(self.embed(ids))
        out, state = self.rnn(x, state)
        out = torch.tanh(self.proj(self.dropout(out)))
        return self.head(out), state


device = "cuda" if torch.cuda.is_available() else "cpu"
model = CharGRU(vocab_size).to(device)
optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
print(sum(p.numel() for p in model.parameters()), "parameters")
