import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim


class Net(nn.Module):
    """LeNet-style convnet for 32x32 colour images."""

    def __init__(self):
        super(Net, self).__init__()
        self.conv1 = nn.Conv2d(3, 8, 5)       # RGB in, 8 maps of 28x28
        self.conv2 = nn.Conv2d(8, 16, 5)      # 16 maps of 10x10
        self.fc1 = nn.Linear(16 * 5 * 5, 128)
        self.fc2 = nn.Linear(128, 64)
        self.fc3 = nn.Linear(64, 10)

    def forward(self, x):
        x = F.relu(self.conv1(x))
        x = F.max_pool2d(x, 2)          # 28 -> 14
        x = F.relu(self.conv2(x))
        x = F.max_pool2d(x, 2)          # 10 -> 5
        x = x.view(-1, 16 * 5 * 5)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)


net = Net()
print(net)

for name, param in net.named_parameters():
    print(name, list(param.shape))

optimizer = optim.Adam(net.parameters(), lr=1e-3)
criterion = nn.CrossEntropyLoss()

# one step on a random batch, to check that everything connects
batch = torch.randn(4, 3, 32, 32)
target = torch.randint(0, 10, (4,))
optimizer.zero_grad()
loss = criterion(net(batch), target)
loss.backward()
optimizer.step()
print("loss", loss.item())
