import torch
import torch.nn as nn
import torch.optim as optim

nc = 3          # colour images, 64 x 64
ndf = 32        # width of the first conv
n_down = 4      # 64 -> 32 -> 16 -> 8 -> 4
lr = 2e-4
betas = (0.5, 0.999)


def down(in_ch, out_ch, norm=True):
    """Halves the size: strided conv, optional batch norm, leaky ReLU."""
    block = [nn.Conv2d(in_ch, out_ch, 4, 2, 1, bias=not norm)]
    if norm:
        block.append(nn.BatchNorm2d(out_ch))
    block.append(nn.LeakyReLU(0.2, inplace=True))
    return block


class Critic(nn.Module):
    def __init__(self):
        super().__init__()
        blocks = down(nc, ndf, norm=False)
        ch = ndf
        for _ in range(n_down - 1):
            blocks += down(ch, ch * 2)
            ch *= 2
        self.features = nn.Sequential(*blocks)
        self.dropout = nn.Dropout(0.3)
        self.score = nn.Linear(ch * 4 * 4, 1)

    def forward(self, img):
        h = self.features(img)
        h = self.dropout(h.view(h.size(0), -1))
        return self.score(h).view(-1, 1).squeeze(1)   # one logit per image


netD = Critic()
print(netD)

criterion = nn.BCEWithLogitsLoss()
optimizerD = optim.Adam(netD.parameters(), lr=lr, betas=betas)

real_label, fake_label = 1.0, 0.0
