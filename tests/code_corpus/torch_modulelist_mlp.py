class MLP(nn.Module):
    """Fully-connected net whose layer sizes come from a list."""

    def __init__(self, in_dim, hidden_dims, out_dim, dropout=0.1):
        super().__init__()
        dims = [in_dim] + list(hidden_dims) + [out_dim]
        self.layers = nn.ModuleList([nn.Linear(a, b) for a, b in zip(dims[:-1], dims[1:])])
        self.norms = nn.ModuleList([nn.LayerNorm(d) for d in hidden_dims])
        self.dropout = dropout

    def forward(self, x):
        for i, layer in enumerate(self.layers):
            x = layer(x)
            if i < len(self.layers) - 1:
                x = self.norms[i](x)
                x = F.relu(x)
                x = F.dropout(x, p=self.dropout, training=self.training)
        return x


def init_weights(m):
    if isinstance(m, nn.Linear):
        nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
        nn.init.zeros_(m.bias)


IN_DIM = 54       # covertype features
HIDDEN = [512, 256, 128, 64]
OUT_DIM = 7

model = MLP(IN_DIM, HIDDEN, OUT_DIM, dropout=0.2)
model.apply(init_weights)
print(model)
n_params = sum(p.numel() for p in model.parameters())
print(f"{n_params:,} parameters")
