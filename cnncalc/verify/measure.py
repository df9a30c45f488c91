"""Measure a built model with torch itself: forward hooks, numel, and torch's FlopCounterMode."""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch.utils.flop_counter import FlopCounterMode

from .build import GraphModel


@dataclass(frozen=True)
class Measured:
    """What torch reports for one layer, per sample where it scales with the batch."""
    name: str
    output_shape: tuple[int, ...]
    params: int
    trainable_params: int
    buffers: int
    activations: int  # output elements, whole batch
    macs: int         # FlopCounterMode's count / 2, whole batch


def measure(model: GraphModel, input_shape: tuple[int, ...], batch: int = 1, device: str = "cpu",
            dtype: torch.dtype = torch.float32) -> list[Measured]:
    """One forward pass with hooks on every layer and the flop counter around it."""
    shapes: dict[int, torch.Size] = {}
    hooks = [layer.register_forward_hook(lambda m, i, out, index=index: shapes.__setitem__(index, out.shape))
             for index, layer in enumerate(model.layers)]
    counter = FlopCounterMode(display=False, depth=None)
    try:
        with counter, torch.no_grad():
            model(torch.randn(batch, *input_shape, device=device, dtype=dtype))
    finally:
        for hook in hooks:
            hook.remove()
    flops = {name: sum(ops.values()) for name, ops in counter.get_flop_counts().items()}
    rows = []
    for index, (name, layer) in enumerate(zip(model.names, model.layers)):
        shape = shapes[index]
        params = list(layer.parameters())
        rows.append(Measured(
            name, tuple(shape[1:]), sum(p.numel() for p in params),
            sum(p.numel() for p in params if p.requires_grad), sum(b.numel() for b in layer.buffers()),
            shape.numel(), flops.get(f"GraphModel.layers.{index}", 0) // 2))
    return rows
