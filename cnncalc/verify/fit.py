"""`cnncalc fit` held to torch: at the batch it names, a measured step fits the budget; at the next
batch it does not."""
from __future__ import annotations

from dataclasses import dataclass

import torch

from ..figures.amp import parse_amp
from ..figures.checkpoint import checkpointed
from ..figures.fit import Fit
from ..graph import Graph
from .build import build_model
from .memory import _measure, autocast, build_optimizer, inference_peak


@dataclass(frozen=True, kw_only=True)
class Measured:
    """One measured peak against the budget."""
    what: str       # "training" or "inference"
    batch: int
    bytes: int
    budget: int

    @property
    def fits(self) -> bool:
        return self.bytes <= self.budget


def training_step_bytes(model: torch.nn.Module, input_shape: tuple[int, ...], batch: int, optimizer: str,
                        accumulate: int = 1, amp=None) -> int:
    """Peak of a steady-state training step (its second) at BATCH: `accumulate` micro-batches run
    forward and backward into the same gradients, then the optimizer steps once. Measured as verify
    measures a step (verify/memory.py): gradients kept between steps, the output held by the caller
    through backward, a mean as the loss; the forward passes under torch.autocast where `amp` says."""
    parameter = next(model.parameters())
    x = torch.randn(batch, *input_shape, device=parameter.device, dtype=parameter.dtype)
    model.train()
    opt = build_optimizer(optimizer, [p for p in model.parameters() if p.requires_grad])

    def step():
        opt.zero_grad(set_to_none=False)
        for _ in range(accumulate):  # as a training loop does: the last output alive until the next
            with autocast(amp):
                out = model(x)
            (out.float().mean() / accumulate).backward()
        opt.step()
    step.optimizer = opt
    step()  # the first step allocates the gradients and the optimizer's state
    try:
        return _measure(step, model, (x,))
    finally:
        model.eval()


def inference_bytes(model: torch.nn.Module, input_shape: tuple[int, ...], batch: int, amp=None) -> int:
    """Peak of a forward pass without gradients at BATCH, the input held by the caller (under
    torch.autocast where `amp` says)."""
    parameter = next(model.parameters())
    x = torch.randn(batch, *input_shape, device=parameter.device, dtype=parameter.dtype)
    return inference_peak(model.eval(), (x,), amp)


def check_fit(graph: Graph, found: Fit, device: str = "cpu") -> tuple[Measured, ...]:
    """The training step (with its accumulation) and inference measured at the batches `found`
    names and one past each; each named batch should fit the budget and each next one should not."""
    model = build_model(graph, device, checkpoint=checkpointed(graph, found.checkpoint))
    amp = parse_amp(found.amp, torch.device(device).type)
    budget = found.budget.bytes
    measured = []
    for batch in (found.training_batch, found.training_batch + 1):
        if batch:
            peak = training_step_bytes(model, graph.input_shape, batch, found.optimizer, found.accumulate, amp)
            measured.append(Measured(what="training", batch=batch, bytes=peak, budget=budget))
    for batch in (found.inference_batch, found.inference_batch + 1):
        if batch:
            peak = inference_bytes(model, graph.input_shape, batch, amp)
            measured.append(Measured(what="inference", batch=batch, bytes=peak, budget=budget))
    return tuple(measured)
