import torch
import torch.nn as nn
import torch.nn.functional as F


class ChannelsLastNorm(nn.Module):
    """LayerNorm over the channels of an NCHW tensor (permute, normalise, permute back)."""

    def __init__(self, dim):
        super().__init__()
        self.norm = nn.LayerNorm(dim, eps=1e-6)

    def forward(self, x):
        return self.norm(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)


class ConvNeXtBlock(nn.Module):
    def __init__(self, dim, layer_scale=1e-6):
        super().__init__()
        self.dwconv = nn.Conv2d(dim, dim, kernel_size=7, padding=3, groups=dim)   # depthwise
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.pwconv1 = nn.Linear(dim, 4 * dim)
        self.pwconv2 = nn.Linear(4 * dim, dim)
        self.gamma = nn.Parameter(layer_scale * torch.ones(dim))

    def forward(self, x):
        shortcut = x
        x = self.dwconv(x)
        x = x.permute(0, 2, 3, 1)          # (N, C, H, W) -> (N, H, W, C)
        x = self.pwconv2(F.gelu(self.pwconv1(self.norm(x))))
        x = self.gamma * x
        x = x.permute(0, 3, 1, 2)          # back to (N, C, H, W)
        return shortcut + x


class MiniConvNeXt(nn.Module):
    def __init__(self, in_chans=3, num_classes=10, depths=(2, 2, 4, 2), dims=(32, 64, 128, 256)):
        super().__init__()
        self.downsample = nn.ModuleList()
        self.downsample.append(nn.Sequential(nn.Conv2d(in_chans, dims[0], 4, stride=4), ChannelsLastNorm(dims[0])))
        for i in range(3):
            self.downsample.append(
                nn.Sequential(ChannelsLastNorm(dims[i]), nn.Conv2d(dims[i], dims[i + 1], 2, stride=2))
            )
        self.stages = nn.ModuleList(
            [nn.Sequential(*[ConvNeXtBlock(dims[i]) for _ in range(depths[i])]) for i in range(4)]
        )
        self.norm = nn.LayerNorm(dims[-1], eps=1e-6)
        self.head = nn.Linear(dims[-1], num_classes)

    def forward(self, x):
        for down, stage in zip(self.downsample, self.stages):
            x = stage(down(x))
        x = self.norm(x.mean(dim=[-2, -1]))   # global average over H and W
        return self.head(x)


model = MiniConvNeXt(num_classes=100)
print(sum(p.numel() for p in model.parameters() if p.requires_grad))
