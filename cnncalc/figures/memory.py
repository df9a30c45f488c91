"""The memory model: peak inference memory by a liveness walk, and a training step's memory.

Inference: parameters and buffers, plus at each layer every tensor still needed. A tensor is freed
after its last consumer; an output that aliases its input (in-place, views) adds nothing and keeps
its input's storage alive; joins keep their branches alive until they run.
Training: parameters, their gradients, optimizer state, and the activations autograd saves for
backward. What each kind aliases, saves, allocates as gradients and holds besides is declared by the
kind (layers/facts.py: MemoryFacts); this module only walks the graph.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..errors import SpecError
from ..graph import INPUT, Graph
from ..layers import REGISTRY
from ..layers.facts import MemoryFacts
from .report import Report

OPTIMIZER_STATES = {"sgd": 0, "momentum": 1, "adam": 2}  # state tensors per parameter
# Optimizer temporaries at their largest, in units of the largest parameter: Adam's
# single-tensor step holds exp_avg_sq.sqrt() and its quotient at once.
STEP_TEMPORARIES = {"sgd": 0, "momentum": 0, "adam": 2}


def _facts(node) -> MemoryFacts:
    return REGISTRY[node.kind].memory


@dataclass(frozen=True)
class LayerMemory:
    """One layer's share of a training step: its parameters, their gradients and optimizer state."""
    param_bytes: int
    gradient_bytes: int
    optimizer_bytes: int


@dataclass(frozen=True)
class Memory:
    param_bytes: int
    buffer_bytes: int
    gradient_bytes: int
    optimizer_bytes: int
    activation_bytes: int        # every stored tensor of the forward pass
    peak_activation_bytes: int   # most activation bytes alive at once in inference
    peak_inference_bytes: int    # parameters + buffers + peak activations
    saved_bytes: int             # what autograd keeps for backward
    training_bytes: int          # parameters + gradients + optimizer state + saved activations
    optimizer: str
    layers: tuple[LayerMemory, ...]  # per report row, the input first


def memory(graph: Graph, report: Report, optimizer: str = "adam") -> Memory:
    if optimizer not in OPTIMIZER_STATES:
        raise SpecError(f"unknown optimizer '{optimizer}' (choose from {', '.join(OPTIMIZER_STATES)})")
    size = _element_size(report)
    totals = report.totals
    trainable = sum(row.trainable_params for row in report.layers) * size  # modules not run get no gradient
    buffers = totals.buffers * size
    peak = peak_activation_bytes(graph, report)
    saved = saved_bytes(graph, report, size)
    backward = backward_peak_bytes(graph, report, size)
    optimizer_bytes = trainable * OPTIMIZER_STATES[optimizer]
    largest = max((max(r.weights, r.biases) for r in report.layers if r.trainable_params), default=0) * size
    # the saved activations are gone by the optimizer step, which has temporaries of its own
    working = max(backward, STEP_TEMPORARIES[optimizer] * largest)
    layers = tuple(LayerMemory(param_bytes=row.params * size, gradient_bytes=row.trainable_params * size,
                               optimizer_bytes=row.trainable_params * size * OPTIMIZER_STATES[optimizer])
                   for row in report.layers)
    return Memory(param_bytes=totals.param_bytes, buffer_bytes=buffers, gradient_bytes=trainable,
                  optimizer_bytes=optimizer_bytes, activation_bytes=totals.activation_bytes,
                  peak_activation_bytes=peak, peak_inference_bytes=peak_inference_bytes(graph, report),
                  saved_bytes=saved, training_bytes=totals.param_bytes + buffers + trainable + optimizer_bytes + working,
                  optimizer=optimizer, layers=layers)


def _element_size(report: Report) -> int:
    return report.layers[0].activation_bytes // max(report.layers[0].activations, 1)


def peak_inference_bytes(graph: Graph, report: Report) -> int:
    """Parameters and buffers, plus the most activation bytes alive at once."""
    return (report.totals.param_bytes + report.totals.buffers * _element_size(report)
            + peak_activation_bytes(graph, report))


def _storages(graph: Graph, rows: dict) -> dict[str, str]:
    """Tensor → the storage it lives in: its own, or its input's when it aliases it."""
    storage = {INPUT: INPUT}
    for node in graph.nodes:
        storage[node.name] = storage[node.inputs[0]] if not rows[node.name].allocates else node.name
    return storage


def _saved_storages(graph: Graph, rows: dict, element_size: int):
    """Storage → index of the first layer saving it, and per layer its extra saved bytes."""
    storage = _storages(graph, rows)
    first_saver: dict[str, int] = {}
    extra = []
    for index, node in enumerate(graph.nodes):
        facts = _facts(node)
        saved = {"input": node.inputs[:1], "inputs": node.inputs, "output": (node.name,), "nothing": ()}
        for name in saved[facts.saved]:
            first_saver.setdefault(storage[name], index)
        extra.append(rows[node.name].activations * facts.extra_saved(node.args, element_size))
    return first_saver, extra


def saved_bytes(graph: Graph, report: Report, element_size: int = 4) -> int:
    """Bytes autograd holds at the end of a training forward pass."""
    rows = {row.name: row for row in report.layers}
    first_saver, extra = _saved_storages(graph, rows, element_size)
    return sum(rows[name].activation_bytes for name in first_saver) + sum(extra)


def backward_peak_bytes(graph: Graph, report: Report, element_size: int = 4) -> int:
    """Most activation and activation-gradient bytes alive during backward, run in reverse order.

    At the start: everything saved, plus the output the caller still holds. Each layer then allocates
    its input gradients, drops its output's gradient, and releases what only it still needed."""
    rows = {row.name: row for row in report.layers}
    first_saver, extra = _saved_storages(graph, rows, element_size)
    output = _storages(graph, rows)[graph.nodes[-1].name]
    live = sum(rows[name].activation_bytes for name in set(first_saver) | {output}) + sum(extra)
    released: dict[int, list[str]] = {}  # layer index → the saved storages it is first to save
    for name, first in first_saver.items():
        if name != output:
            released.setdefault(first, []).append(name)
    grad_of: dict[str, int] = {}      # tensor → id of the gradient buffer it uses
    buffers: dict[int, list[int]] = {}  # id → [bytes, tensors using it]
    peak = live
    for index in range(len(graph.nodes) - 1, -1, -1):
        node = graph.nodes[index]
        gradient = _facts(node).gradient
        for position, name in enumerate(dict.fromkeys(node.inputs)):
            if name == INPUT:
                continue  # the input needs no gradient
            allocated = gradient == "each input" or (gradient == "first input" and position == 0)
            if allocated and name not in grad_of:
                grad_of[name] = len(buffers)
                buffers[grad_of[name]] = [rows[name].activation_bytes, 1]
                live += rows[name].activation_bytes
            elif not allocated and name not in grad_of and node.name in grad_of:
                grad_of[name] = grad_of[node.name]  # shares the output's gradient (or slices of it)
                buffers[grad_of[name]][1] += 1
        peak = max(peak, live)
        if node.name in grad_of:
            entry = buffers[grad_of.pop(node.name)]
            entry[1] -= 1
            live -= entry[0] if entry[1] == 0 else 0
        live -= extra[index] + sum(rows[name].activation_bytes for name in released.get(index, ()))
    return peak


def peak_activation_bytes(graph: Graph, report: Report) -> int:
    """Walk the layers in order, holding each storage from its producer to its last consumer."""
    rows = {row.name: row for row in report.layers}
    storage = _storages(graph, rows)
    last_use = {name: index for index, node in enumerate(graph.nodes, start=1)
                for name in (storage[i] for i in node.inputs)}
    last_use[storage[graph.nodes[-1].name]] = len(graph.nodes) + 1  # the output is returned
    live = rows[INPUT].activation_bytes
    peak = live
    for index, node in enumerate(graph.nodes, start=1):
        if rows[node.name].allocates:
            live += rows[node.name].activation_bytes
        peak = max(peak, live + rows[node.name].activations * _facts(node).transient)
        for name in {storage[i] for i in node.inputs}:
            if last_use.get(name) == index:
                live -= rows[name].activation_bytes
    return peak
