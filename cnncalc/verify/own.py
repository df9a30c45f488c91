"""The user's module measured itself: the tensors it holds, one forward pass under torch's
FlopCounterMode at the batch asked, and its weights, gradients and mode given back as they were."""
from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn.modules.lazy import LazyModuleMixin
from torch.utils.flop_counter import FlopCounterMode

from ..errors import SpecError
from ..figures.report import Report
from ..graph import Graph
from ..importing.tracing import left_as_it_was
from .modules import general_attention, general_recurrence
from .verdict import Check

MODULE = "the module itself"
TWIN = "a model built from the spec"
PART = re.compile(r".+\.part\d+")  # a step of a call mapped to several layers (step names have no dots)
CALL = re.compile(r"(?P<path>.+?)(\((?P<call>\d+)\))?")  # layer1.0.relu(2): the second call of layer1.0.relu


@dataclass(frozen=True, kw_only=True)
class ModuleFigures:
    """What torch says of the module: its own tensors (each once), and a forward pass at the batch."""
    params: int
    trainable_params: int
    buffers: int
    macs: int  # FlopCounterMode's FLOPs ÷ 2, whole batch
    output_shapes: tuple[tuple[int, ...], ...]  # of each tensor it returns (each once), in order, whole
    calls: dict[str, tuple[int | None, ...]]  # module path → elements of its (first) output per call, whole batch


def check_real(module: nn.Module, name: str) -> None:
    """verify runs the module: one built on the meta device holds no values to run."""
    if any(t.is_meta for t in (*module.parameters(), *module.buffers())):
        raise SpecError(f"{name} is on the meta device: verify runs the module, so build it on the CPU")


@contextlib.contextmanager
def counted_kernels():
    """The kernels torch's counter sees, while it counts: attention on torch's math backend,
    nn.MultiheadAttention's fused path off, recurrent layers step by step. FlopCounterMode has no formula
    for the fused CPU kernels and counts nothing there; the math backend's matmuls and each step's
    products it counts, as the peers' conventions say. Memory is measured outside it, on the kernels a
    real run takes (the fused attention keeps no L × S scores)."""
    from torch.nn.attention import SDPBackend, sdpa_kernel

    with sdpa_kernel([SDPBackend.MATH]), general_attention(), general_recurrence():
        yield


@contextlib.contextmanager
def kept(module: nn.Module, inputs: tuple):
    """The module in eval mode. Whatever verify does to it (moves it to a device or dtype, a training
    step moves its weights and fills .grad, BatchNorm's statistics, train() and eval()) is undone after. Lazy
    modules (d2l.ai's nn.LazyConv2d) are sized first by a pass at the inputs, as their first call sizes them,
    and left lazy after."""
    lazy = any(isinstance(part, LazyModuleMixin) and part.has_uninitialized_params() for part in module.modules())
    with left_as_it_was(list(module.modules())) if lazy else contextlib.nullcontext():
        if lazy:  # at the module's own dtype and device (verify moves it to the asked ones after)
            held = next((tensor for tensor in (*module.parameters(), *module.buffers())
                         if tensor.dtype.is_floating_point), None)
            dtype, device = (held.dtype, held.device) if held is not None else (torch.float32, "cpu")
            with torch.no_grad():
                module.eval()(*(tensor.to(device, dtype) if tensor.is_floating_point() else tensor.to(device)
                                for tensor in inputs))
        with _kept(module) as held:
            yield held


@contextlib.contextmanager
def _kept(module: nn.Module):
    params = {param: (param.data, param.grad, _copy(param)) for param in module.parameters()}
    buffers = {part: dict(part._buffers) for part in module.modules()}
    values = {id(b): _copy(b) for held in buffers.values() for b in held.values() if b is not None}
    modes = {part: part.training for part in module.modules()}
    try:
        yield module.eval()
    finally:
        with torch.no_grad():
            for param, (data, grad, value) in params.items():
                param.data, param.grad = data, grad
                data.copy_(value)
            for part, held in buffers.items():
                part._buffers.clear()
                part._buffers.update(held)
                for buffer in held.values():
                    if buffer is not None:
                        buffer.copy_(values[id(buffer)])
        for part, training in modes.items():
            part.training = training


def _copy(tensor: torch.Tensor) -> torch.Tensor:
    return tensor.detach().to("cpu", copy=True)


def tensors(output) -> list[torch.Tensor]:
    """The tensors of an output in order: in tuples, lists and dicts (a ModelOutput), past None."""
    if isinstance(output, torch.Tensor):
        return [output]
    if not isinstance(output, (tuple, list, dict)):
        return []
    values = output.values() if isinstance(output, dict) else output
    return [t for value in values for t in tensors(value)]


def measure_module(module: nn.Module, inputs: tuple) -> ModuleFigures:
    """The module's own parameters and buffers (a shared tensor once, as module.parameters() yields
    it), and one forward pass: FlopCounterMode's count (with autograd on: under no_grad its module
    tracker fails on views of parameters passed to modules) and each module's outputs from hooks."""
    params = list(module.parameters())
    calls: dict[str, list[int | None]] = {}

    def seen(path, output):
        out = tensors(output)
        calls.setdefault(path, []).append(out[0].numel() if out else None)
    hooks = [part.register_forward_hook(lambda _, __, output, path=path: seen(path, output))
             for path, part in module.named_modules() if path]
    counter = FlopCounterMode(display=False, depth=None)
    try:
        with counter:
            returned = list({id(t): t for t in tensors(module(*inputs))}.values())
    finally:
        for hook in hooks:
            hook.remove()
    return ModuleFigures(params=sum(p.numel() for p in params),
                         trainable_params=sum(p.numel() for p in params if p.requires_grad),
                         buffers=sum(b.numel() for b in module.buffers()),
                         macs=counter.get_total_flops() // 2,
                         output_shapes=tuple(tuple(t.shape) for t in returned),
                         calls={path: tuple(numels) for path, numels in calls.items()})


def total_checks(graph: Graph, report: Report, figures: ModuleFigures) -> list[Check]:
    totals = report.totals
    return [Check("total", "params", totals.params, figures.params),
            Check("total", "trainable_params", totals.trainable_params, figures.trainable_params),
            Check("total", "buffers", totals.buffers, figures.buffers),
            Check("total", "macs", totals.macs, figures.macs),
            *_output_checks(graph, report, figures)]


def _output_checks(graph: Graph, report: Report, figures: ModuleFigures) -> list[Check]:
    """Each output the model returns (a tuple's, a dict's), named where it returns several, per sample: without
    its batch's dim (dim 1 of a recurrent layer's h_n)."""
    rows, nodes = report.output_rows, {node.name: node for node in graph.nodes}
    measured = figures.output_shapes + ((),) * (len(rows) - len(figures.output_shapes))
    return [Check(row.name if len(rows) > 1 else "total", "output_shape", row.output_shape,
                  shape[:1] + shape[2:] if row.name in nodes and nodes[row.name].batch_second else shape[1:])
            for row, shape in zip(rows, measured)]


def layer_checks(graph: Graph, report: Report, module: nn.Module, figures: ModuleFigures) -> list[Check]:
    """Per layer that is a module's call (a row named by its module path): the elements of that
    call's output, and the parameters and buffers that module holds, each tensor counted at its first
    call (a module called again holds none); cnncalc's figure is the row's, with the steps before it
    of the same call (`add_3.part1`) and what the model holds apart inside the module (weight_norm's
    originals beyond the weight it computes)."""
    modules = dict(module.named_modules(remove_duplicate=False))
    apart = [held for held in graph.not_run if held.why == "parametrization"]
    held, checks, parts, called = set(), [], [], {}
    named = {row.name: row for row in report.layers}  # by name: a row per input comes first, one or more
    for node in graph.nodes:
        row = named[node.name]
        if PART.fullmatch(node.name):
            parts.append(row)
            continue
        rows, parts = [*parts, row], []
        path = CALL.fullmatch(node.name)["path"]
        part = modules.get(path)
        if node.functional or part is None:
            continue
        call = called[path] = called.get(path, -1) + 1
        outputs = figures.calls.get(path, ())
        if call < len(outputs) and outputs[call] is not None:
            checks.append(Check(node.name, "activations", row.activations, outputs[call]))
        if not list(part.parameters()) + list(part.buffers()):
            continue
        params = [p for p in part.parameters() if id(p) not in held]
        buffers = [b for b in part.buffers() if id(b) not in held]
        held |= {id(t) for t in params + buffers}
        inside = [h for h in apart if h.name.startswith(path + ".")]
        checks += [Check(node.name, "params", sum(r.params for r in rows) + sum(h.params for h in inside),
                         sum(p.numel() for p in params)),
                   Check(node.name, "buffers", sum(r.buffers for r in rows) + sum(h.buffers for h in inside),
                         sum(b.numel() for b in buffers))]
    return checks
