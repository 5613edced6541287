import math

import torch
import torch.nn as nn
import torch.nn.functional as F


def dense_layer(in_ch, growth, bottleneck=4):
    """BN-ReLU-conv1x1 to bottleneck * growth maps, then BN-ReLU-conv3x3 to `growth` new maps."""
    mid = bottleneck * growth
    return nn.Sequential(
        nn.BatchNorm2d(in_ch), nn.ReLU(inplace=True), nn.Conv2d(in_ch, mid, 1, bias=False),
        nn.BatchNorm2d(mid), nn.ReLU(inplace=True), nn.Conv2d(mid, growth, 3, padding=1, bias=False),
    )


class DenseBlock(nn.Module):
    def __init__(self, n_layers, in_ch, growth):
        super().__init__()
        self.layers = nn.ModuleList([dense_layer(in_ch + i * growth, growth) for i in range(n_layers)])
        self.out_channels = in_ch + n_layers * growth

    def forward(self, x):
        features = [x]
        for layer in self.layers:
            features.append(layer(torch.cat(features, dim=1)))
        return torch.cat(features, dim=1)


class Transition(nn.Module):
    """Compresses the channels with a 1x1 conv and halves the size."""

    def __init__(self, in_ch, out_ch):
        super().__init__()
        self.norm = nn.BatchNorm2d(in_ch)
        self.conv = nn.Conv2d(in_ch, out_ch, kernel_size=1, bias=False)

    def forward(self, x):
        return F.avg_pool2d(self.conv(F.relu(self.norm(x))), 2)


class CompactDenseNet(nn.Module):
    def __init__(self, blocks=(4, 8, 6), growth=12, compression=0.5, num_classes=10):
        super().__init__()
        channels = 2 * growth
        self.stem = nn.Conv2d(3, channels, kernel_size=3, padding=1, bias=False)
        body = []
        for i, n in enumerate(blocks):
            block = DenseBlock(n, channels, growth)
            body.append(block)
            channels = block.out_channels
            if i < len(blocks) - 1:
                reduced = int(math.floor(channels * compression))
                body.append(Transition(channels, reduced))
                channels = reduced
        self.body = nn.Sequential(*body)
        self.norm = nn.BatchNorm2d(channels)
        self.fc = nn.Linear(channels, num_classes)

    def forward(self, x):
        x = F.relu(self.norm(self.body(self.stem(x))))
        x = F.adaptive_avg_pool2d(x, (1, 1)).view(x.size(0), -1)
        return self.fc(x)


net = CompactDenseNet(growth=16)
print(net(torch.randn(1, 3, 32, 32)).shape)
