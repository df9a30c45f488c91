"""Build a real torch.nn.Module from a Graph, each layer from the tensor it actually receives."""
from __future__ import annotations

import torch
from torch import nn

from ..graph import INPUT, Graph, Node
from ..layers import REGISTRY


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


class Functional(nn.Module):
    """Calls a layer without registering it, as `F.relu(x)` in a forward() does: hooks miss it."""

    def __init__(self, layer: nn.Module):
        super().__init__()
        self.__dict__["layer"] = layer  # not a submodule: model.modules() never yields it

    def forward(self, *xs):
        return self.layer(*xs)


JOINS = {"add": Add, "mul": Mul, "concat": Concat, "crop": Crop}


def make_module(node: Node, input_shape: torch.Size) -> nn.Module:
    """The torch module for one node; the inferred argument (in_channels, ...) comes from the input."""
    kind = REGISTRY[node.kind]
    if node.kind in JOINS:
        return JOINS[node.kind](**node.args)
    args = dict(node.args)
    if kind.inferred:
        args[kind.inferred] = input_shape[-1] if kind.inferred == "in_features" else input_shape[1]
    return getattr(nn, kind.torch_name)(**args)


class GraphModel(nn.Module):
    """Runs the graph's nodes in order; `layers[i]` is the module of `names[i]`."""

    def __init__(self, graph: Graph, modules: list[nn.Module]):
        super().__init__()
        self.names = [node.name for node in graph.nodes]
        self.inputs = [node.inputs for node in graph.nodes]
        self.layers = nn.ModuleList(modules)
        last_use = {name: index for index, node in enumerate(graph.nodes) for name in node.inputs}
        # drop each tensor after its last consumer, as a hand-written forward() lets locals go
        self.release = [[name for name in set(node.inputs) if last_use[name] == index]
                        for index, node in enumerate(graph.nodes)]

    def forward(self, x):
        values = {INPUT: x}
        for name, inputs, layer, done in zip(self.names, self.inputs, self.layers, self.release):
            values[name] = layer(*(values[i] for i in inputs))
            for finished in done:
                del values[finished]
        return values[self.names[-1]]


def build_model(graph: Graph, device: str = "cpu", dtype: torch.dtype = torch.float32) -> GraphModel:
    """Instantiate every layer (eval mode, random weights), feeding a sample through as it goes."""
    values = {INPUT: torch.randn(1, *graph.input_shape, device=device, dtype=dtype)}
    modules = []
    with torch.no_grad():
        for node in graph.nodes:
            inputs = [values[name] for name in node.inputs]
            module = make_module(node, inputs[0].shape).to(device=device, dtype=dtype).eval()
            if node.frozen:
                module.requires_grad_(False)
            if node.functional:
                module = Functional(module)
            values[node.name] = module(*inputs)
            modules.append(module)
    return GraphModel(graph, modules).eval()
