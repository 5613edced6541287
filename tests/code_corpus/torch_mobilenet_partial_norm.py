import functools

import torch
import torch.nn as nn
import torch.nn.functional as F

# BatchNorm with the TensorFlow-like settings, used everywhere below
norm_layer = functools.partial(nn.BatchNorm2d, eps=1e-3, momentum=0.01)


def round_channels(c, multiple=8):
    """The nearest multiple of 8, at least 8 (channel counts the hardware likes)."""
    return max(multiple, (int(c) + multiple // 2) // multiple * multiple)


def conv_bn_act(*args, **kwargs):
    """nn.Conv2d(*args, **kwargs) without bias, then BatchNorm and ReLU6."""
    out_channels = args[1]
    return nn.Sequential(nn.Conv2d(*args, bias=False, **kwargs), norm_layer(out_channels), nn.ReLU6(inplace=True))


class InvertedResidual(nn.Module):
    def __init__(self, inp, oup, stride, expand_ratio):
        super().__init__()
        hidden = inp * expand_ratio
        self.residual = stride == 1 and inp == oup
        layers = []
        if expand_ratio != 1:
            layers.append(conv_bn_act(inp, hidden, 1))
        layers += [
            conv_bn_act(hidden, hidden, 3, stride=stride, padding=1, groups=hidden),   # depthwise
            nn.Conv2d(hidden, oup, 1, bias=False),                                     # linear bottleneck
            norm_layer(oup),
        ]
        self.block = nn.Sequential(*layers)

    def forward(self, x):
        if self.residual:
            return x + self.block(x)
        return self.block(x)


class TinyMobileNet(nn.Module):
    # expansion t, channels c, repeats n, first stride s
    settings = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 2, 2), (6, 96, 1, 1)]

    def __init__(self, num_classes=10, width_mult=1.0):
        super().__init__()
        in_ch = round_channels(32 * width_mult)
        features = [conv_bn_act(3, in_ch, 3, stride=2, padding=1)]
        for t, c, n, s in self.settings:
            out_ch = round_channels(c * width_mult)
            for i in range(n):
                features.append(InvertedResidual(in_ch, out_ch, s if i == 0 else 1, t))
                in_ch = out_ch
        self.last_channels = round_channels(320 * max(1.0, width_mult))
        features.append(conv_bn_act(in_ch, self.last_channels, 1))
        self.features = nn.Sequential(*features)
        self.classifier = nn.Sequential(nn.Dropout(0.2), nn.Linear(self.last_channels, num_classes))

    def forward(self, x):
        x = self.features(x)
        x = F.adaptive_avg_pool2d(x, 1)
        x = torch.flatten(x, 1)
        return self.classifier(x)


model = TinyMobileNet(num_classes=10, width_mult=0.75)
