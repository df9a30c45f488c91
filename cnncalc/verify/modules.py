"""torch modules for the kinds torch.nn has no module for: joins of branches, layer scale, reshape and
reductions."""
from __future__ import annotations

import torch
from torch import nn


class NotRunModule(nn.Module):
    """What a module the model never calls holds: its parameters and buffers, as flat tensors."""

    def __init__(self, params: int, buffers: int):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(params))
        self.register_buffer("state", torch.zeros(buffers))


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


class Reshape(nn.Module):
    """x.reshape(shape), where "batch" in the shape stands for x.size(0)."""

    def __init__(self, shape):
        super().__init__()
        self.shape = tuple(shape)

    def forward(self, x):
        return x.reshape(tuple(x.shape[0] if size == "batch" else size for size in self.shape))


class _Reduction(nn.Module):
    def __init__(self, dim, keepdim: bool = False):
        super().__init__()
        self.dim, self.keepdim = tuple(dim), keepdim


class Mean(_Reduction):
    def forward(self, x):
        return x.mean(self.dim, keepdim=self.keepdim)


class Sum(_Reduction):
    def forward(self, x):
        return x.sum(self.dim, keepdim=self.keepdim)


class Amax(_Reduction):
    def forward(self, x):
        return x.amax(self.dim, keepdim=self.keepdim)

