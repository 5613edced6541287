import torch
import torch.nn as nn
import torch.nn.functional as F

UPSCALE = 3
N_FEATS = 48
N_RESBLOCKS = 6
RES_SCALE = 0.1


class ResBlock(nn.Module):
    """conv-ReLU-conv, scaled down before it is added back (keeps deep stacks stable)."""

    def __init__(self, n_feats, res_scale=RES_SCALE):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(n_feats, n_feats, 3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(n_feats, n_feats, 3, padding=1),
        )
        self.res_scale = res_scale

    def forward(self, x):
        res = self.body(x) * self.res_scale
        res += x
        return res


class SuperResolutionNet(nn.Module):
    def __init__(self, upscale_factor=UPSCALE, n_feats=N_FEATS, n_resblocks=N_RESBLOCKS, channels=1):
        super().__init__()
        self.scale = upscale_factor
        self.head = nn.Conv2d(channels, n_feats, 5, padding=2)
        self.body = nn.Sequential(*[ResBlock(n_feats) for _ in range(n_resblocks)])
        # sub-pixel convolution: scale**2 maps per output channel, rearranged by PixelShuffle
        self.tail = nn.Sequential(
            nn.Conv2d(n_feats, channels * upscale_factor ** 2, 3, padding=1),
            nn.PixelShuffle(upscale_factor),
        )

    def forward(self, x):
        base = F.interpolate(x, scale_factor=self.scale, mode="bicubic", align_corners=False)
        feats = self.head(x)
        feats = feats + self.body(feats)
        return self.tail(feats) + base   # the network learns the residual over bicubic upsampling


torch.manual_seed(123)
model = SuperResolutionNet(upscale_factor=3)
criterion = nn.L1Loss()
optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)

low_res = torch.rand(1, 1, 40, 40)
print(model(low_res).shape)   # (1, 1, 120, 120)
