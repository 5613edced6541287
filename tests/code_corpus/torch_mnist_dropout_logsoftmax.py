import argparse

import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
from torchvision import datasets, transforms


class Net(nn.Module):
    def __init__(self, p_conv=0.2, p_fc=0.5):
        super(Net, self).__init__()
        self.conv_a = nn.Conv2d(1, 16, kernel_size=3)     # 28 -> 26
        self.conv_b = nn.Conv2d(16, 32, kernel_size=3)    # 26 -> 24, pooled to 12
        self.drop2d = nn.Dropout2d(p_conv)                # drops whole feature maps
        self.hidden = nn.Linear(32 * 12 * 12, 64)
        self.logits = nn.Linear(64, 10)
        self.p_fc = p_fc

    def forward(self, x):
        x = F.relu(self.conv_a(x))
        x = F.relu(self.conv_b(x))
        x = self.drop2d(F.max_pool2d(x, 2))
        x = x.reshape(x.size(0), -1)
        x = F.dropout(F.relu(self.hidden(x)), p=self.p_fc, training=self.training)
        return F.log_softmax(self.logits(x), dim=1)


def run_epoch(model, loader, optimizer, device, every=200):
    model.train()
    for step, (images, labels) in enumerate(loader):
        images, labels = images.to(device), labels.to(device)
        optimizer.zero_grad()
        loss = F.nll_loss(model(images), labels)
        loss.backward()
        optimizer.step()
        if step % every == 0:
            print(f"step {step:5d}  loss {loss.item():.4f}")


def main():
    parser = argparse.ArgumentParser(description="MNIST convnet with dropout")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--lr", type=float, default=0.01)
    args = parser.parse_args()

    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    to_tensor = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.13,), (0.31,))])
    train_set = datasets.MNIST("data", train=True, download=True, transform=to_tensor)
    loader = torch.utils.data.DataLoader(train_set, batch_size=args.batch_size, shuffle=True)

    model = Net().to(device)
    optimizer = optim.SGD(model.parameters(), lr=args.lr, momentum=0.9)
    for epoch in range(args.epochs):
        print("epoch", epoch + 1)
        run_epoch(model, loader, optimizer, device)
    torch.save(model.state_dict(), "mnist_dropout.pt")


if __name__ == "__main__":
    main()
