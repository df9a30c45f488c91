"""Compare cnncalc's figures with what torch and the peer tools measure: on the user's own module where
cnncalc read one, else on a model built from the spec."""
from __future__ import annotations

import contextlib
from dataclasses import replace
from typing import Callable

import torch
from torch import nn

from ..errors import SpecError
from ..figures.amp import Amp, check_amp
from ..figures.checkpoint import checkpointed
from ..figures.memory import estimates, optimizer_named
from ..figures.report import Report, analyze
from ..graph import Graph
from ..layers import REGISTRY
from ..layers.registry import Calc
from .build import build_model, sample_inputs
from .fields import check_fields
from .measure import measure
from .memory import check_memory
from .own import MODULE, TWIN, check_real, kept, layer_checks, counted_kernels, measure_module, total_checks
from .peers import PeerCount, count, installed, run_torch_backward, why
from .reference import reference_checks
from .verdict import Check, Verification

TORCH_DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16,
                "float64": torch.float64}
LAYER_FIGURES = ("output_shape", "params", "buffers", "activations")


def check_device(device: str) -> None:
    """A device torch can use here, or a one-line error (exit 2)."""
    kind, _, index = device.partition(":")
    if kind == "cpu" and not index:
        return
    if kind == "cuda":
        if not torch.cuda.is_available():
            raise SpecError(f"--device {device}: no CUDA GPU is available to torch on this machine")
        if index and (not index.isdigit() or int(index) >= torch.cuda.device_count()):
            raise SpecError(f"--device {device}: this machine has {torch.cuda.device_count()} CUDA device(s)")
        return
    if kind == "mps" and not index:
        if not torch.backends.mps.is_available():
            raise SpecError("--device mps: the MPS backend is not available on this machine")
        return
    raise SpecError(f"--device must be cpu, cuda, cuda:N or mps, got '{device}'")


def verify(graph: Graph, device: str = "cpu", batch: int = 1, dtype: str | None = None,
           step: Callable[[str], None] = lambda what: None, optimizer: str | None = None,
           reference: str | None = None, module: nn.Module | None = None,
           checkpoint: tuple[str, ...] = (), amp: Amp | None = None) -> Verification:
    """Run the model and check every figure, and memory too when an optimizer is named (its training
    step is measured); `step` reports progress. The model run is `module`, the user's own the graph was
    read from, where given (given back as it was); else one built from the graph. The blocks
    `checkpoint` names run through torch.utils.checkpoint in the backward pass's count and the
    training step; memory under torch.autocast where `amp` says. Every option is checked first."""
    check_device(device)
    dtype = dtype or graph.dtype
    if dtype not in TORCH_DTYPES:
        raise SpecError(f"verify runs float dtypes ({', '.join(TORCH_DTYPES)}), not '{dtype}'")
    check_amp(amp, dtype)
    if amp is not None and amp.device != torch.device(device).type:
        raise SpecError(f"--amp {amp} follows autocast's {amp.device} lists, but the model runs on {device}")
    if amp is not None and optimizer is None:
        raise SpecError("--amp is measured on memory, which verify measures with an optimizer")
    if optimizer is not None:
        optimizer_named(optimizer)  # checked before anything runs
    if reference not in (None, "torchvision"):
        raise SpecError(f"--reference knows torchvision only, got '{reference}'")
    blocks = checkpointed(graph, checkpoint)
    if module is not None:
        check_real(module, graph.name)
        if reference:
            raise SpecError("--reference compares a spec's model with torchvision's; "
                            "a PyTorch model is measured itself")
    if module is None:  # the twin is made of torch's modules and cnncalc's: none that ptflops hooks whole
        graph = replace(graph, nodes=tuple(replace(node, inside_hooked=False) if node.inside_hooked else node
                                           for node in graph.nodes))
    reports = {tool: analyze(graph, batch, dtype, convention_name=tool) for tool in installed()}
    report = analyze(graph, batch, dtype)
    x = sample_inputs(graph, batch, device, TORCH_DTYPES[dtype])
    with kept(module, x) if module is not None else contextlib.nullcontext():
        with counted_kernels():
            if module is not None:
                model = module.to(device=device, dtype=TORCH_DTYPES[dtype])
                checks = _module_checks(graph, report, model, x, step)
            else:
                model, checks = _built_checks(graph, report, device, TORCH_DTYPES[dtype], step)
            counts, notes = _peer_counts(reports, model, x, step, module is not None)
            for tool, total in counts.items():
                checks += _peer_checks(tool, reports[tool], total)
            if module is None:  # the twin's layers are the graph's: backward per layer, fields, torchvision's model
                counted = reports.get("torch") if not blocks else None
                checks += _twin_checks(graph, report, model.checkpointed(graph, blocks), x, step, device, reference,
                                       counted or analyze(graph, batch, dtype, convention_name="torch",
                                                          checkpoint=checkpoint))
        memory_checks = check_memory(graph, model, report, step, optimizer, checkpoint, amp) if optimizer else ()
    if any(not item.ok for item in memory_checks):  # where the report says its memory is an estimate, why
        notes += [f"the memory figures are an estimate: {reason}"
                  for reason in estimates(graph, {row.name: row for row in report.layers})]
    return Verification(model=graph.name, device=device, input_shape=graph.input_shape, batch=batch, dtype=dtype,
                        peers=tuple(counts), checks=tuple(checks), memory=tuple(memory_checks),
                        subject=MODULE if module is not None else TWIN, notes=tuple(notes))


def _twin_checks(graph: Graph, report: Report, model, x: tuple, step, device: str, reference: str | None,
                 counted: Report) -> list[Check]:
    """What only a twin, whose layers are the graph's, is checked on: backward per layer (`model` with
    its checkpointed blocks, `counted` torch's convention), receptive fields, and torchvision's model
    where asked."""
    step("backward pass with FlopCounterMode")
    checks = [_backward_check(counted, run_torch_backward(model, x))]
    step("receptive fields against gradients")
    checks += check_fields(graph, report, device)
    if reference == "torchvision":
        step("comparing with torchvision's model")
        checks += reference_checks(graph, report)
    return checks


def _module_checks(graph: Graph, report: Report, module: nn.Module, x: tuple, step) -> list[Check]:
    """The user's module: per module a row is named after, and in total."""
    step("forward pass under torch's flop counter")
    figures = measure_module(module, x)
    return layer_checks(graph, report, module, figures) + total_checks(graph, report, figures)


def _built_checks(graph: Graph, report: Report, device: str, dtype: torch.dtype, step) -> tuple[nn.Module, list[Check]]:
    """A model built from the graph, a module per layer: every layer, and in total."""
    step("building the model")
    model = build_model(graph, device, dtype)
    step("forward pass with hooks")
    measured = measure(model, graph, report.batch, device, dtype)
    return model, list(_layer_checks(graph, report, measured)) + _total_checks(report, model)


def _peer_counts(reports: dict, model, x, step, own: bool) -> tuple[dict, list[str]]:
    """Each installed peer's count of the model; on the user's own module a tool that fails is a note
    (fvcore's jit trace of a forward() returning a dict), on the built model a bug."""
    counts, notes = {}, []
    for tool in reports:
        step(f"counting with {tool}")
        try:
            counts[tool] = count(tool, model, x)
        except Exception as error:  # noqa: BLE001 (whatever the tool raises on the user's code)
            if not own:
                raise
            notes.append(f"{tool} cannot count this module: {why(error)}")
    return counts, notes


def _formula(graph: Graph, report: Report, index: int) -> str:
    node, row = graph.nodes[index], report.node_rows[index]
    kind = REGISTRY[node.kind]
    if not kind.explain:
        return ""
    shapes = {r.name: r.output_shape for r in report.layers}
    calc = Calc(output_shape=row.output_shape, weights=row.weights, biases=row.biases, buffers=row.buffers,
                macs=row.macs // report.batch, dropped=row.dropped)
    return "; ".join(kind.explain(tuple(shapes[i] for i in node.inputs), node.args, calc))


def _layer_checks(graph: Graph, report: Report, measured):
    for index, (row, theirs) in enumerate(zip(report.node_rows, measured)):
        for figure in LAYER_FIGURES:
            ours, torch_value = getattr(row, figure), getattr(theirs, figure)
            yield Check(row.name, figure, ours, torch_value,
                        _formula(graph, report, index) if ours != torch_value else "")


def _total_checks(report: Report, model) -> list[Check]:
    params = list(model.parameters())
    totals = report.totals
    return [Check("total", "params", totals.params, sum(p.numel() for p in params)),
            Check("total", "trainable_params", totals.trainable_params,
                  sum(p.numel() for p in params if p.requires_grad)),
            Check("total", "buffers", totals.buffers, sum(b.numel() for b in model.buffers()))]


def _backward_check(report: Report, count: PeerCount) -> Check:
    """One line: the backward pass's work as torch counts it (its convention: 2 FLOPs per MAC, a grouped
    conv's filters' gradient over every channel pair) against FlopCounterMode over a real backward;
    where they differ, the layers that do, named."""
    differ = [f"{row.name}: {row.backward_ops:,} vs {flops:,}"
              for row, flops in zip(report.node_rows, count.layers) if row.backward_ops != flops]
    return Check("total", "torch backward ops", report.totals.backward_ops, count.total,
                 "; ".join(differ[:5]) + (f"; … {len(differ) - 5} more" if len(differ) > 5 else ""))


def _peer_checks(tool: str, report: Report, count) -> list[Check]:
    figure = f"{tool} ops"
    checks = []
    if count.layers is not None:
        checks += [Check(row.name, figure, row.ops, theirs) for row, theirs in zip(report.node_rows, count.layers)]
    checks.append(Check("total", figure, report.totals.ops, count.total))
    return checks
