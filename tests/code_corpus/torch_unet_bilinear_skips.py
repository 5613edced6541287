"""A small U-Net for 1-channel microscopy crops: three downsamplings, bilinear upsampling."""
import torch
import torch.nn as nn
import torch.nn.functional as F


def conv_block(in_ch, out_ch):
    return nn.Sequential(
        nn.Conv2d(in_ch, out_ch, kernel_size=3, padding=1),
        nn.BatchNorm2d(out_ch),
        nn.ReLU(inplace=True),
        nn.Conv2d(out_ch, out_ch, kernel_size=3, padding=1),
        nn.BatchNorm2d(out_ch),
        nn.ReLU(inplace=True),
    )


class TinyUNet(nn.Module):
    def __init__(self, in_ch=1, n_classes=2, base=16):
        super().__init__()
        c1, c2, c3, c4 = base, base * 2, base * 4, base * 8
        self.enc1 = conv_block(in_ch, c1)
        self.enc2 = conv_block(c1, c2)
        self.enc3 = conv_block(c2, c3)
        self.middle = conv_block(c3, c4)
        # each decoder block sees the upsampled features concatenated with the skip
        self.dec3 = conv_block(c4 + c3, c3)
        self.dec2 = conv_block(c3 + c2, c2)
        self.dec1 = conv_block(c2 + c1, c1)
        self.head = nn.Conv2d(c1, n_classes, kernel_size=1)

    @staticmethod
    def up_and_join(x, skip):
        x = F.interpolate(x, size=skip.shape[-2:], mode="bilinear", align_corners=False)
        return torch.cat([x, skip], dim=1)

    def forward(self, x):
        s1 = self.enc1(x)
        s2 = self.enc2(F.max_pool2d(s1, 2))
        s3 = self.enc3(F.max_pool2d(s2, 2))
        x = self.middle(F.max_pool2d(s3, 2))
        x = self.dec3(self.up_and_join(x, s3))
        x = self.dec2(self.up_and_join(x, s2))
        x = self.dec1(self.up_and_join(x, s1))
        return self.head(x)


device = "cuda" if torch.cuda.is_available() else "cpu"
model = TinyUNet(in_ch=1, n_classes=3).to(device)
criterion = nn.CrossEntropyLoss()
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)

masks = model(torch.randn(2, 1, 100, 100, device=device))
print(masks.shape)   # (2, 3, 100, 100)
