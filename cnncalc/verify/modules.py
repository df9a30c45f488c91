"""torch modules for the kinds torch.nn has no module for: the joins of branches, layer scale."""
from __future__ import annotations

import torch
from torch import nn


class Add(nn.Module):
    def forward(self, *xs):
        out = xs[0]
        for x in xs[1:]:
            out = out + x
        return out


class Mul(nn.Module):
    def forward(self, *xs):
        out = xs[0]
        for x in xs[1:]:
            out = out * x
        return out


class Concat(nn.Module):
    def __init__(self, dim: int = 1):
        super().__init__()
        self.dim = dim

    def forward(self, *xs):
        return torch.cat(xs, dim=self.dim)


class Crop(nn.Module):
    """Center-crop the first input to the spatial size of the second."""

    def forward(self, x, like):
        slices = [slice(None), slice(None)]
        for size, target in zip(x.shape[2:], like.shape[2:]):
            start = (size - target) // 2
            slices.append(slice(start, start + target))
        return x[tuple(slices)]


class LayerScale(nn.Module):
    """A learnable per-channel multiplier, as timm's LayerScale2d."""

    def __init__(self, dim: int, init_values: float = 1e-5):
        super().__init__()
        self.gamma = nn.Parameter(init_values * torch.ones(dim))

    def forward(self, x):
        return x * self.gamma.view(1, -1, *[1] * (x.dim() - 2))

