import torch
import torch.nn as nn

nz = 64            # length of the noise vector
ngf = 48           # base width of the generator
nc = 3             # output channels (RGB)
image_size = 32
use_gpu = torch.cuda.is_available()

device = torch.device("cuda") if use_gpu else torch.device("cpu")


def init_dcgan(module):
    """N(0, 0.02) conv weights; batch-norm scales around 1 and zero shifts."""
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
        nn.init.normal_(module.weight, mean=0.0, std=0.02)
    elif isinstance(module, nn.BatchNorm2d):
        nn.init.normal_(module.weight, mean=1.0, std=0.02)
        nn.init.zeros_(module.bias)


class Generator(nn.Module):
    def __init__(self, n_up=3):
        super(Generator, self).__init__()
        mult = 2 ** (n_up - 1)
        # noise (nz, 1, 1) -> (ngf * mult, 4, 4)
        layers = [
            nn.ConvTranspose2d(nz, ngf * mult, 4, 1, 0, bias=False),
            nn.BatchNorm2d(ngf * mult),
            nn.ReLU(True),
        ]
        # every further step doubles the size and halves the width
        for i in range(n_up - 1):
            layers += [
                nn.ConvTranspose2d(ngf * mult, ngf * mult // 2, 4, 2, 1, bias=False),
                nn.BatchNorm2d(ngf * mult // 2),
                nn.ReLU(True),
            ]
            mult //= 2
        layers += [nn.ConvTranspose2d(ngf * mult, nc, 4, 2, 1, bias=False), nn.Tanh()]
        self.net = nn.Sequential(*layers)

    def forward(self, z):
        return self.net(z)


netG = Generator().to(device)
netG.apply(init_dcgan)
print(netG)

# the same noise every epoch, to watch the samples improve
fixed_noise = torch.randn(16, nz, 1, 1, device=device)
with torch.no_grad():
    samples = netG(fixed_noise)
print(samples.shape)  # (16, 3, image_size, image_size)
