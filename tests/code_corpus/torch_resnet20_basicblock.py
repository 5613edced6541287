"""ResNet-20 for CIFAR-10 (three stages of 16, 32 and 64 channels, three blocks each)."""
import torch
import torch.nn as nn
import torch.nn.functional as F


class ResBlock(nn.Module):
    expansion = 1

    def __init__(self, in_planes, width, stride=1):
        super(ResBlock, self).__init__()
        out_planes = width * self.expansion
        self.conv_a = nn.Conv2d(in_planes, width, 3, stride=stride, padding=1, bias=False)
        self.norm_a = nn.BatchNorm2d(width)
        self.conv_b = nn.Conv2d(width, out_planes, 3, padding=1, bias=False)
        self.norm_b = nn.BatchNorm2d(out_planes)

        # identity, unless the block halves the size or changes the channel count
        self.shortcut = nn.Sequential()
        if stride > 1 or in_planes != out_planes:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_planes, out_planes, 1, stride=stride, bias=False),
                nn.BatchNorm2d(out_planes),
            )

    def forward(self, x):
        h = F.relu(self.norm_a(self.conv_a(x)))
        h = self.norm_b(self.conv_b(h))
        h += self.shortcut(x)
        return F.relu(h)


class CifarResNet(nn.Module):
    def __init__(self, block, blocks_per_stage, num_classes=10, widths=(16, 32, 64)):
        super(CifarResNet, self).__init__()
        self.in_planes = widths[0]
        self.stem = nn.Conv2d(3, widths[0], 3, padding=1, bias=False)
        self.stem_norm = nn.BatchNorm2d(widths[0])
        self.stage1 = self._make_layer(block, widths[0], blocks_per_stage[0], first_stride=1)
        self.stage2 = self._make_layer(block, widths[1], blocks_per_stage[1], first_stride=2)
        self.stage3 = self._make_layer(block, widths[2], blocks_per_stage[2], first_stride=2)
        self.fc = nn.Linear(widths[2] * block.expansion, num_classes)

    def _make_layer(self, block, width, n, first_stride):
        blocks = []
        for i in range(n):
            blocks.append(block(self.in_planes, width, first_stride if i == 0 else 1))
            self.in_planes = width * block.expansion
        return nn.Sequential(*blocks)

    def forward(self, x):
        h = F.relu(self.stem_norm(self.stem(x)))
        h = self.stage3(self.stage2(self.stage1(h)))
        h = F.avg_pool2d(h, h.shape[-1])   # global average: 8x8 -> 1x1
        h = h.view(h.size(0), -1)
        return self.fc(h)


def resnet20(num_classes=10):
    return CifarResNet(ResBlock, [3, 3, 3], num_classes=num_classes)


def resnet56(num_classes=10):
    return CifarResNet(ResBlock, [9, 9, 9], num_classes=num_classes)


if __name__ == "__main__":
    net = resnet20()
    logits = net(torch.randn(2, 3, 32, 32))
    n_params = sum(p.numel() for p in net.parameters() if p.requires_grad)
    print(logits.shape, f"{n_params / 1e6:.2f}M")
