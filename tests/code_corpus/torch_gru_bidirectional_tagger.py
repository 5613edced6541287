import torch
import torch.nn as nn
import torch.nn.functional as F

# word_to_ix was built from the training sentences in the previous cell
TAGS = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC", "B-ORG", "I-ORG", "B-MISC", "I-MISC"]
tag_to_ix = {t: i for i, t in enumerate(TAGS)}

VOCAB_SIZE = len(word_to_ix)
EMBED_DIM = 100
HIDDEN_DIM = 128


class BiGRUTagger(nn.Module):
    """Tags every token: embedding -> 2-layer bidirectional GRU -> linear."""

    def __init__(self, vocab_size, tagset_size, embed_dim=EMBED_DIM, hidden_dim=HIDDEN_DIM):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, embed_dim)
        self.gru = nn.GRU(embed_dim, hidden_dim, num_layers=2, bidirectional=True, batch_first=True)
        self.dropout = nn.Dropout(0.3)
        # forward and backward states are concatenated
        self.classifier = nn.Linear(hidden_dim * 2, tagset_size)

    def forward(self, sentences):
        x = self.dropout(self.embed(sentences))   # (batch, words, embed_dim)
        states, _ = self.gru(x)                    # (batch, words, 2 * hidden_dim)
        scores = self.classifier(self.dropout(states))
        return F.log_softmax(scores, dim=-1)


model = BiGRUTagger(VOCAB_SIZE, len(tag_to_ix))
criterion = nn.NLLLoss(ignore_index=-100)
optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
print(model)
