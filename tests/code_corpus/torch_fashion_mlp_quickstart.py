import torch
from torch import nn
from torch.utils.data import DataLoader
from torchvision import datasets
from torchvision.transforms import ToTensor

# Fashion-MNIST from torchvision (downloaded to ./data the first time)
train_set = datasets.FashionMNIST(root="data", train=True, download=True, transform=ToTensor())
test_set = datasets.FashionMNIST(root="data", train=False, download=True, transform=ToTensor())

batch_size = 64
test_loader = DataLoader(test_set, batch_size=batch_size)

# use the GPU when there is one
device = "cuda" if torch.cuda.is_available() else "cpu"
print(f"training on: {device}")


class FashionClassifier(nn.Module):
    def __init__(self, hidden=256, n_classes=10):
        super().__init__()
        self.flatten = nn.Flatten()
        self.layers = nn.Sequential(
            nn.Linear(28 * 28, hidden),
            nn.ReLU(),
            nn.Dropout(0.2),
            nn.Linear(hidden, hidden // 2),
            nn.ReLU(),
            nn.Linear(hidden // 2, n_classes),
        )

    def forward(self, x):
        x = self.flatten(x)
        return self.layers(x)


model = FashionClassifier().to(device)
print(model)

loss_fn = nn.CrossEntropyLoss()
optimizer = torch.optim.SGD(model.parameters(), lr=1e-3)


def evaluate(dataloader, model, loss_fn):
    model.eval()
    total_loss, correct = 0.0, 0
    with torch.no_grad():
        for X, y in dataloader:
            X, y = X.to(device), y.to(device)
            pred = model(X)
            total_loss += loss_fn(pred, y).item()
            correct += (pred.argmax(1) == y).type(torch.float).sum().item()
    return total_loss / len(dataloader), correct / len(dataloader.dataset)
