"""Reference models written in plain torch (torchvision is not available with torch 2.13),
following torchvision's and the papers' layouts. The zoo tests count these with torch."""

from __future__ import annotations

import torch
from torch import nn


def lenet5() -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(1, 6, 5), nn.Tanh(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.Tanh(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(400, 120), nn.Tanh(), nn.Linear(120, 84), nn.Tanh(), nn.Linear(84, 10),
    )


def alexnet() -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(3, 64, 11, stride=4, padding=2), nn.ReLU(), nn.MaxPool2d(3, 2),
        nn.Conv2d(64, 192, 5, padding=2), nn.ReLU(), nn.MaxPool2d(3, 2),
        nn.Conv2d(192, 384, 3, padding=1), nn.ReLU(),
        nn.Conv2d(384, 256, 3, padding=1), nn.ReLU(),
        nn.Conv2d(256, 256, 3, padding=1), nn.ReLU(), nn.MaxPool2d(3, 2),
        nn.AdaptiveAvgPool2d((6, 6)), nn.Flatten(),
        nn.Dropout(), nn.Linear(256 * 6 * 6, 4096), nn.ReLU(),
        nn.Dropout(), nn.Linear(4096, 4096), nn.ReLU(), nn.Linear(4096, 1000),
    )


def counts(module: nn.Module) -> tuple[int, int]:
    """(parameters, buffers) as PyTorch counts them."""
    return (sum(p.numel() for p in module.parameters()), sum(b.numel() for b in module.buffers()))


def weighted_layer_counts(module: nn.Module) -> list[int]:
    """Each leaf module's own parameter count, zeros left out, in order."""
    leaves = [m for m in module.modules() if not list(m.children())]
    return [n for n in (sum(p.numel() for p in m.parameters(recurse=False)) for m in leaves) if n]


def run_shape(module: nn.Module, shape: tuple[int, ...]) -> tuple[int, ...]:
    with torch.no_grad():
        return tuple(module(torch.zeros(1, *shape)).shape[1:])
