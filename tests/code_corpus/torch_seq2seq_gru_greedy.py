import torch
import torch.nn as nn

SRC_VOCAB = 6000
TGT_VOCAB = 5000
EMB = 128
HID = 256
SOS, EOS = 1, 2
MAX_OUT = 15


class Encoder(nn.Module):
    def __init__(self, vocab, emb, hid):
        super().__init__()
        self.embedding = nn.Embedding(vocab, emb)
        self.rnn = nn.GRU(emb, hid, batch_first=True)

    def forward(self, src):
        outputs, hidden = self.rnn(self.embedding(src))
        return outputs, hidden


class Decoder(nn.Module):
    """One step: previous token + state -> scores for the next token."""

    def __init__(self, vocab, emb, hid):
        super().__init__()
        self.embedding = nn.Embedding(vocab, emb)
        self.rnn = nn.GRU(emb + hid, hid, batch_first=True)
        self.out = nn.Linear(hid, vocab)

    def forward(self, token, hidden, context):
        x = torch.cat([self.embedding(token), context], dim=2)
        output, hidden = self.rnn(x, hidden)
        return self.out(output), hidden


class Seq2Seq(nn.Module):
    def __init__(self, max_out=MAX_OUT):
        super().__init__()
        self.encoder = Encoder(SRC_VOCAB, EMB, HID)
        self.decoder = Decoder(TGT_VOCAB, EMB, HID)
        self.max_out = max_out

    def forward(self, src):
        enc_out, hidden = self.encoder(src)
        context = enc_out[:, -1:, :]            # the last encoder state, fed at every step
        token = torch.full((src.size(0), 1), SOS, dtype=torch.long, device=src.device)
        steps = []
        for _ in range(self.max_out):           # greedy decoding
            logits, hidden = self.decoder(token, hidden, context)
            steps.append(logits)
            token = logits.argmax(dim=-1)
        return torch.cat(steps, dim=1)          # (batch, max_out, TGT_VOCAB)


model = Seq2Seq()
print(model)
