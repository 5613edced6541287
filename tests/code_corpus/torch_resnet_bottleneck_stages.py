import torch
from torch import nn


class Bottleneck(nn.Module):
    expansion = 4   # output width = 4 x the width of the 3x3 conv

    def __init__(self, in_planes, planes, stride=1):
        super().__init__()
        out_planes = planes * self.expansion
        self.reduce = nn.Sequential(nn.Conv2d(in_planes, planes, 1, bias=False), nn.BatchNorm2d(planes), nn.ReLU())
        self.spatial = nn.Sequential(
            nn.Conv2d(planes, planes, 3, stride=stride, padding=1, bias=False), nn.BatchNorm2d(planes), nn.ReLU()
        )
        self.expand = nn.Sequential(nn.Conv2d(planes, out_planes, 1, bias=False), nn.BatchNorm2d(out_planes))
        if stride != 1 or in_planes != out_planes:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_planes, out_planes, 1, stride=stride, bias=False), nn.BatchNorm2d(out_planes)
            )
        else:
            self.shortcut = nn.Identity()
        self.act = nn.ReLU()

    def forward(self, x):
        out = self.expand(self.spatial(self.reduce(x)))
        return self.act(out + self.shortcut(x))


class BottleneckResNet(nn.Module):
    def __init__(self, block, depths, widths=(32, 64, 128, 256), num_classes=1000):
        super().__init__()
        self.in_planes = widths[0]
        self.stem = nn.Sequential(
            nn.Conv2d(3, widths[0], kernel_size=7, stride=2, padding=3, bias=False),
            nn.BatchNorm2d(widths[0]),
            nn.ReLU(),
            nn.MaxPool2d(kernel_size=3, stride=2, padding=1),
        )
        stages = []
        for i, (depth, width) in enumerate(zip(depths, widths)):
            stages.append(self._make_layer(block, width, depth, stride=1 if i == 0 else 2))
        self.stages = nn.Sequential(*stages)
        self.fc = nn.Linear(widths[-1] * block.expansion, num_classes)

    def _make_layer(self, block, planes, depth, stride):
        layers = []
        for s in [stride] + [1] * (depth - 1):
            layers.append(block(self.in_planes, planes, s))
            self.in_planes = planes * block.expansion
        return nn.Sequential(*layers)

    def forward(self, x):
        x = self.stages(self.stem(x))
        x = x.mean(dim=(2, 3))     # global average pooling
        return self.fc(x)


# a slim ResNet for 200 bird species
model = BottleneckResNet(Bottleneck, [2, 3, 3, 2], num_classes=200)
print(f"{sum(p.numel() for p in model.parameters()) / 1e6:.1f}M parameters")
