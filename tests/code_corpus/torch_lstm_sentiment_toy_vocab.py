import torch
import torch.nn as nn

torch.manual_seed(1)

# a toy corpus; the vocabulary is built from it
train_data = [
    ("the film was a joy from start to end", 1),
    ("dull plot and wooden acting", 0),
    ("i would watch it again tomorrow", 1),
    ("a waste of two hours", 0),
    ("great cast but a weak ending", 0),
    ("funny warm and clever", 1),
]

vocab = {"<pad>": 0, "<unk>": 1}
for sentence, _ in train_data:
    for word in sentence.split():
        if word not in vocab:
            vocab[word] = len(vocab)
print(len(vocab), "words")

EMBEDDING_DIM = 32
HIDDEN_DIM = 64
MAX_LEN = 12


class LSTMClassifier(nn.Module):
    def __init__(self, vocab_size, embedding_dim, hidden_dim, num_classes=2, num_layers=2):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embedding_dim, padding_idx=0)
        self.lstm = nn.LSTM(embedding_dim, hidden_dim, num_layers=num_layers, batch_first=True, dropout=0.2)
        self.fc = nn.Linear(hidden_dim, num_classes)

    def forward(self, token_ids):
        embedded = self.embedding(token_ids)      # (batch, seq, embedding_dim)
        output, (h_n, c_n) = self.lstm(embedded)  # output: (batch, seq, hidden_dim)
        last = output[:, -1, :]                   # the last time step
        return self.fc(last)


def encode(sentence, max_len=MAX_LEN):
    ids = [vocab.get(w, vocab["<unk>"]) for w in sentence.split()][:max_len]
    return ids + [vocab["<pad>"]] * (max_len - len(ids))


model = LSTMClassifier(len(vocab), EMBEDDING_DIM, HIDDEN_DIM)
loss_function = nn.CrossEntropyLoss()
optimizer = torch.optim.Adam(model.parameters(), lr=0.01)

inputs = torch.tensor([encode(s) for s, _ in train_data])
targets = torch.tensor([label for _, label in train_data])
with torch.no_grad():
    print(model(inputs).argmax(dim=1), targets)
