"""Build a real torch.nn.Module from a Graph, each layer from the tensor it actually receives."""
from __future__ import annotations

import copy
import functools

import torch
from torch import nn

from ..figures.checkpoint import Checkpointed, block_inputs, block_outputs
from ..graph import INPUT, Graph, Node, part_of
from ..layers import REGISTRY
from ..importing.capture import PATCHED_BY_PTFLOPS
from ..importing.forms import resolve
from .modules import NotRunModule


class Functional(nn.Module):
    """Calls a layer without registering it, as `F.relu(x)` in a forward() does: hooks miss it."""

    def __init__(self, layer: nn.Module):
        super().__init__()
        self.__dict__["layer"] = layer  # not a submodule: model.modules() never yields it

    def forward(self, *xs):
        return self.layer(*xs)


# torch's own functions by each name ptflops patches, as cnncalc found them before any tool stood in for them
FUNCTIONS = {(owner, name): getattr(owner, name) for owner, name in PATCHED_BY_PTFLOPS}


def make_module(node: Node, input_shape: torch.Size | None) -> nn.Module:
    """The torch module for one node; the inferred argument (in_channels, ...) comes from the input
    (a parameter has none). A conv given its filters as a second input is F.conv2d's."""
    forms = REGISTRY[node.kind].torch
    args = dict(node.args)
    if forms.inferred:
        args[forms.inferred.argument] = input_shape[forms.inferred.dim]
    given_weight = forms.given_weight is not None and len(node.inputs) > 1
    return resolve(forms.given_weight if given_weight else forms.module)(**args)


def sample_inputs(graph: Graph, batch: int, device="cpu", dtype: torch.dtype = torch.float32) -> tuple[torch.Tensor, ...]:
    """Random data for each of the graph's inputs, in order: normal values in `dtype`, or, for integer
    ids, ids that every lookup table reading the input holds."""
    given = ((INPUT, graph.input_shape, graph.input_dtype),
             *((other.name, other.shape, other.dtype) for other in graph.other_inputs))
    return tuple(_sample(graph, name, (batch, *shape), held, device, dtype) for name, shape, held in given)


def _sample(graph: Graph, name: str, shape: tuple, held: str | None, device, dtype: torch.dtype) -> torch.Tensor:
    if held is None:
        return torch.randn(shape, device=device, dtype=dtype)
    bounds = [node.args[key] for node in graph.nodes if name in node.inputs for key in IDS_BELOW if key in node.args]
    return torch.randint(0, min(bounds, default=2), shape, device=device, dtype=getattr(torch, held))


IDS_BELOW = ("num_embeddings", "num_classes")  # what bounds the ids a layer reads: a table's rows, one_hot's classes


def _returned_unread(graph: Graph) -> set[int]:
    """The layers whose modules return tensors beside their output (LayerKind.returns: an attention's weights, a
    recurrent layer's states) that no layer reads."""
    kinds = {node.name: node.kind for node in graph.nodes}
    read = {node.inputs[0] for node in graph.nodes
            if node.inputs and node.inputs[0] in kinds and node.kind in REGISTRY[kinds[node.inputs[0]]].returns}
    return {index for index, node in enumerate(graph.nodes) if REGISTRY[node.kind].returns and node.name not in read}


def _blocks(graph: Graph, blocks: tuple[Checkpointed, ...]) -> dict:
    """Each checkpointed block by its first layer: the block, the tensors it reads, those it gives on."""
    return {block.start: (block, block_inputs(graph, block), block_outputs(graph, block)) for block in blocks}


class GraphModel(nn.Module):
    """Runs the graph's nodes in order; `layers[i]` is the module of `names[i]`; each block of
    `checkpoint` through torch.utils.checkpoint.checkpoint(block, *its inputs, use_reentrant=False), as
    a model's forward() checkpoints a submodule."""

    def __init__(self, graph: Graph, modules: list[nn.Module], checkpoint: tuple[Checkpointed, ...] = ()):
        super().__init__()
        self.names = [node.name for node in graph.nodes]
        self.input_names = graph.input_names
        self.inputs = [node.inputs for node in graph.nodes]
        self.layers = nn.ModuleList(modules)
        self.not_run = nn.ModuleList(NotRunModule(held.params, held.buffers) for held in graph.not_run)
        # drop each tensor after its last consumer, as a hand-written forward() lets locals go, or
        # after the block it was passed into, whose caller holds it until then
        alive = graph.alive_until()
        self.outputs = graph.returned  # never dropped
        self.release = [[name for name, until in alive.items() if until == index and name not in self.outputs]
                        for index in range(len(graph.nodes))]
        self.blocks = _blocks(graph, checkpoint)
        self.unread = _returned_unread(graph)

    def forward(self, *xs, **named):
        """The graph's inputs in order (forward(x, mask)), or by name after the first (ptflops passes a dict)."""
        from torch.utils.checkpoint import checkpoint

        values = dict(zip(self.input_names, xs)) | named
        index = 0
        while index < len(self.names):
            if index in self.blocks:
                block, inputs, outputs = self.blocks[index]
                made = checkpoint(self._block, block.start, block.stop, inputs, outputs,
                                  *(values[name] for name in inputs), use_reentrant=False)
                values.update(zip(outputs, made))
                for done in self.release[block.start:block.stop]:
                    for finished in done:
                        values.pop(finished, None)
                index = block.stop
                continue
            self._run(index, values)
            index += 1
        made = tuple(values[name] for name in self.outputs)
        return made if len(made) > 1 else made[0]

    def checkpointed(self, graph: Graph, blocks: tuple[Checkpointed, ...]) -> "GraphModel":
        """A twin running the same layers (the same parameters) with BLOCKS checkpointed."""
        twin = copy.copy(self)  # its own attributes; the modules, parameters and hooks shared
        twin.blocks = _blocks(graph, blocks)
        return twin

    def _run(self, index: int, values: dict) -> None:
        """One node: its output into `values`, and the tensors it is the last to need out of it."""
        values[self.names[index]] = self.layers[index](*(values[i] for i in self.inputs[index]))
        if index in self.unread:  # let it go at once, as `attention(x, x, x)[0]` does
            values[self.names[index]].beside = ()
        for finished in self.release[index]:
            values.pop(finished, None)

    def _block(self, start: int, stop: int, inputs: tuple[str, ...], outputs: tuple[str, ...], *xs) -> tuple:
        """The nodes start … stop - 1 on the block's inputs: what layers after it read."""
        values = dict(zip(inputs, xs))
        for index in range(start, stop):
            self._run(index, values)
        return tuple(values[name] for name in outputs)


class PerRow(nn.Module):
    """A layer run on each row of a sample's first dim as on a sample: the rows join the batch, as a
    model's forward() puts them there (B·heads), and leave it after."""

    def __init__(self, module: nn.Module):
        super().__init__()
        self.module = module

    def forward(self, x):
        out = self.module(x.flatten(0, 1))
        return out.unflatten(0, x.shape[:2])


@functools.lru_cache(maxsize=None)
def _subclass(cls: type) -> type:
    """A subclass of the module class keeping its name and forward (timm's BatchNormAct2d is one)."""
    return type(cls.__name__, (cls,), {"__module__": __name__})


@functools.lru_cache(maxsize=None)
def _unpatched(cls: type) -> type:
    """A subclass of the module class whose forward runs on torch's own functions, as a forward() reaches
    them by another way than their names (torch.relu for F.relu, x.softmax(), x.baddbmm(), a reference taken
    earlier): a tool patching those names (ptflops) does not see the call."""
    def forward(self, *args, **kwargs):
        standing = {(owner, name): getattr(owner, name) for owner, name in FUNCTIONS}
        _put(FUNCTIONS)
        try:
            return cls.forward(self, *args, **kwargs)
        finally:
            _put(standing)
    return type(cls.__name__, (cls,), {"__module__": __name__, "forward": forward})


def _put(functions: dict) -> None:
    for (owner, name), function in functions.items():
        setattr(owner, name, function)


def _freeze(module: nn.Module, frozen: bool | str) -> None:
    """requires_grad=False on the module's parameters, or on its weights or its biases alone (Node.frozen)."""
    for name, parameter in module.named_parameters():
        if frozen is True or part_of(name) == frozen:
            parameter.requires_grad_(False)


def _tie(module: nn.Module, owner: nn.Module) -> None:
    """Give a layer the parameters and buffers of the one whose weights it uses: torch holds them
    once, while each call stays a module of its own that counters and hooks see apart."""
    for mine, theirs in zip(module.modules(), owner.modules()):
        # the same tensors in dicts of its own (thop adds buffers), by the names it has (a linear head
        # takes an embedding's weight)
        mine._parameters.update({name: theirs._parameters[name] for name in mine._parameters if name in theirs._parameters})
        mine._buffers.update({name: theirs._buffers[name] for name in mine._buffers if name in theirs._buffers})


def build_model(graph: Graph, device: str = "cpu", dtype: torch.dtype = torch.float32,
                checkpoint: tuple[Checkpointed, ...] = ()) -> GraphModel:
    """Instantiate every layer (eval mode, random weights), feeding a sample through as it goes; the
    blocks of `checkpoint` run checkpointed."""
    values = dict(zip(graph.input_names, sample_inputs(graph, 1, device, dtype)))
    modules, made = [], {}
    with torch.no_grad():
        for node in graph.nodes:
            inputs = [values[name] for name in node.inputs]
            shape = None if not inputs else inputs[0].flatten(0, 1).shape if node.per_row else inputs[0].shape
            module = made[node.name] = make_module(node, shape).to(device=device, dtype=dtype).eval()
            if node.weights_of:
                _tie(module, made[node.weights_of])
            if node.frozen:
                _freeze(module, node.frozen)
            if node.unhooked:  # as the model runs it: a hook looked up by exact type misses it
                module.__class__ = _subclass(type(module))
            if node.held_apart:  # torchinfo sums no tensor of it, as of the model's (no leaf that ran)
                module.add_module("beside", nn.Identity())
            if node.functional:
                module = Functional(module)
            if node.unpatched:
                module.__class__ = _unpatched(type(module))
            if node.per_row:
                module = PerRow(module)
            values[node.name] = module(*inputs)
            modules.append(module)
    return GraphModel(graph, modules, checkpoint).eval()
