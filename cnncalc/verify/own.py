"""The user's module measured itself: the tensors it holds, one forward pass under torch's
FlopCounterMode at the batch asked, and its weights, gradients and mode given back as they were."""
from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from ..errors import SpecError
from ..figures.report import Report
from ..graph import Graph
from .verdict import Check

MODULE = "the module itself"
TWIN = "a model built from the spec"
CALL = re.compile(r"(?P<path>.+?)(\((?P<call>\d+)\))?")  # layer1.0.relu(2): the second call of layer1.0.relu


@dataclass(frozen=True, kw_only=True)
class ModuleFigures:
    """What torch says of the module: its own tensors (each once), and a forward pass at the batch."""
    params: int
    trainable_params: int
    buffers: int
    macs: int  # FlopCounterMode's FLOPs ÷ 2, whole batch
    output_shape: tuple[int, ...]  # of the last tensor it returns, per sample


def check_real(module: nn.Module, name: str) -> None:
    """verify runs the module: one built on the meta device holds no values to run."""
    if any(t.is_meta for t in (*module.parameters(), *module.buffers())):
        raise SpecError(f"{name} is on the meta device: verify runs the module, so build it on the CPU")


@contextlib.contextmanager
def kept(module: nn.Module):
    """Whatever verify does to the module (a training step moves its weights and fills .grad; train()
    and eval() switch its mode), it is given back as it was."""
    state = {key: value.detach().to("cpu", copy=True) for key, value in module.state_dict().items()}
    grads = {param: param.grad for param in module.parameters()}
    modes = {part: part.training for part in module.modules()}
    try:
        yield module.eval()
    finally:
        module.load_state_dict(state)
        for param, grad in grads.items():
            param.grad = grad
        for part, training in modes.items():
            part.training = training


def tensors(output) -> list[torch.Tensor]:
    """The tensors of an output in order: in tuples, lists and dicts (a ModelOutput), past None."""
    if isinstance(output, torch.Tensor):
        return [output]
    if not isinstance(output, (tuple, list, dict)):
        return []
    values = output.values() if isinstance(output, dict) else output
    return [t for value in values for t in tensors(value)]


def measure_module(module: nn.Module, x: torch.Tensor) -> ModuleFigures:
    """The module's own parameters and buffers (a shared tensor once, as module.parameters() yields
    it) and FlopCounterMode's count of one forward pass (with autograd on: under no_grad its module
    tracker fails on views of parameters passed to modules)."""
    params = list(module.parameters())
    counter = FlopCounterMode(display=False, depth=None)
    with counter:
        last = tensors(module(x))[-1]
    return ModuleFigures(params=sum(p.numel() for p in params),
                         trainable_params=sum(p.numel() for p in params if p.requires_grad),
                         buffers=sum(b.numel() for b in module.buffers()),
                         macs=counter.get_total_flops() // 2, output_shape=tuple(last.shape[1:]))


def total_checks(report: Report, figures: ModuleFigures) -> list[Check]:
    totals = report.totals
    return [Check("total", "params", totals.params, figures.params),
            Check("total", "trainable_params", totals.trainable_params, figures.trainable_params),
            Check("total", "buffers", totals.buffers, figures.buffers),
            Check("total", "macs", totals.macs, figures.macs),
            Check("total", "output_shape", report.layers[-1].output_shape, figures.output_shape)]


def layer_checks(graph: Graph, report: Report, module: nn.Module) -> list[Check]:
    """Per layer that is a module's call (a row named by its module path): the parameters and buffers
    that module holds, each tensor counted at its first call (a module called again holds none)."""
    modules = dict(module.named_modules(remove_duplicate=False))
    rows = {row.name: row for row in report.layers[1:]}
    held, checks = set(), []
    for node in graph.nodes:
        match = CALL.fullmatch(node.name)
        part = modules.get(match["path"])
        if node.functional or part is None or not list(part.parameters()) + list(part.buffers()):
            continue
        params = [p for p in part.parameters() if id(p) not in held]
        buffers = [b for b in part.buffers() if id(b) not in held]
        held |= {id(t) for t in params + buffers}
        row = rows[node.name]
        checks += [Check(node.name, "params", row.params, sum(p.numel() for p in params)),
                   Check(node.name, "buffers", row.buffers, sum(b.numel() for b in buffers))]
    return checks
