"""Measure a built model with torch itself: forward hooks and numel."""
from __future__ import annotations

from dataclasses import dataclass

import torch

from ..graph import Graph
from .build import GraphModel, sample_inputs


@dataclass(frozen=True, kw_only=True)
class Measured:
    """What torch reports for one layer, per sample where it scales with the batch."""
    name: str
    output_shape: tuple[int, ...]
    params: int
    trainable_params: int
    buffers: int
    activations: int  # output elements, whole batch


def measure(model: GraphModel, graph: Graph, batch: int = 1, device: str = "cpu",
            dtype: torch.dtype = torch.float32) -> list[Measured]:
    """One forward pass with hooks on every layer."""
    shapes: dict[int, torch.Size] = {}
    hooks = [layer.register_forward_hook(lambda m, i, out, index=index: shapes.__setitem__(index, out.shape))
             for index, layer in enumerate(model.layers)]
    try:
        with torch.no_grad():
            model(*sample_inputs(graph, batch, device, dtype))
    finally:
        for hook in hooks:
            hook.remove()
    rows, held = [], set()  # tensors counted already: a layer with another's weights holds none of its own
    for index, (name, layer) in enumerate(zip(model.names, model.layers)):
        shape = shapes[index]
        params = [p for p in layer.parameters() if id(p) not in held]
        buffers = [b for b in layer.buffers() if id(b) not in held]
        held |= {id(t) for t in params + buffers}
        rows.append(Measured(name=name, output_shape=tuple(shape[1:]), params=sum(p.numel() for p in params),
                             trainable_params=sum(p.numel() for p in params if p.requires_grad),
                             buffers=sum(b.numel() for b in buffers), activations=shape.numel()))
    return rows
