import torch
from torch import nn
from torch.nn import functional as F

torch.manual_seed(42)
device = torch.device("cuda" if torch.cuda.is_available() else "cpu")

IMAGE_PIXELS = 28 * 28
HIDDEN = 512
LATENT = 16


class VAE(nn.Module):
    def __init__(self, input_dim=IMAGE_PIXELS, hidden=HIDDEN, latent=LATENT):
        super().__init__()
        self.input_dim = input_dim
        self.enc1 = nn.Linear(input_dim, hidden)
        self.enc2 = nn.Linear(hidden, hidden // 2)
        self.to_mu = nn.Linear(hidden // 2, latent)
        self.to_logvar = nn.Linear(hidden // 2, latent)
        self.dec1 = nn.Linear(latent, hidden // 2)
        self.dec2 = nn.Linear(hidden // 2, hidden)
        self.out = nn.Linear(hidden, input_dim)

    def encode(self, x):
        h = F.relu(self.enc1(x))
        h = F.relu(self.enc2(h))
        return self.to_mu(h), self.to_logvar(h)

    def reparameterize(self, mu, logvar):
        std = torch.exp(0.5 * logvar)
        eps = torch.randn_like(std)
        return mu + eps * std

    def decode(self, z):
        h = F.relu(self.dec1(z))
        h = F.relu(self.dec2(h))
        return torch.sigmoid(self.out(h))

    def forward(self, x):
        mu, logvar = self.encode(x.view(-1, self.input_dim))
        z = self.reparameterize(mu, logvar)
        return self.decode(z), mu, logvar


def loss_function(recon_x, x, mu, logvar):
    """Reconstruction error plus the KL divergence to N(0, I), summed over the batch."""
    recon = F.binary_cross_entropy(recon_x, x.view(-1, IMAGE_PIXELS), reduction="sum")
    kl = 0.5 * torch.sum(mu ** 2 + logvar.exp() - 1 - logvar)
    return recon + kl


model = VAE().to(device)
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
