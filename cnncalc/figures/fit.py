"""The largest batch whose training step fits a memory budget, and the largest for inference.

Whole numbers throughout: each batch tried is the memory model's exact figure at that batch, and the
answer is a batch that fits with the next one known not to.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Callable

from ..errors import SpecError
from ..graph import Graph
from .amp import Amp
from .checkpoint import checkpointed
from .devices import Budget
from .memory import Memory, memory, saved_bytes_by_layer
from .report import Report, analyze

MAX_BATCH = 1 << 40
STEERED = 8  # tangent and chord steps before plain bisection, which ends in at most 41 more
TOP = 5      # layers named as holding the most


def largest_batch(cost: Callable[[int], int], budget: int) -> int:
    """The largest batch whose cost is within the budget (0 when batch 1's is not), for a cost that
    never falls as the batch grows. An affine cost is answered by the line through batches 1 and 2,
    confirmed at the answer and the batch after it (four costs). Otherwise the bracket [fits, fails)
    closes by tangent and chord steps in turn, the tangent taken at the batch that fails (on a convex
    cost, a maximum of lines as the memory model's is, it lands at or past the answer, on the answer
    where the line there is the one the budget crosses; the chord at or before it), and after STEERED
    steps by bisection, so any cost that never falls ends within about 60 costs."""
    cost = functools.cache(cost)
    if cost(1) > budget:
        return 0
    low, high = 1, None  # cost(low) ≤ budget < cost(high)
    for step in range(STEERED + 48):
        if high == low + 1:
            return low
        if step >= STEERED:
            probe = (low + high) // 2 if high else 2 * low
        elif high is None:
            slope = cost(low + 1) - cost(low)
            probe = low + (budget - cost(low)) // slope if slope > 0 else 2 * low
        elif step % 2 == 0:  # from a flat stretch at low, its tangent would reach far past the answer
            slope = cost(high) - cost(high - 1)
            probe = high + (budget - cost(high)) // slope if slope > 0 else (low + high) // 2
        else:
            probe = low + (budget - cost(low)) * (high - low) // (cost(high) - cost(low))
        probe = min(max(probe, low + 1), high - 1 if high else MAX_BATCH)
        if cost(probe) > budget:
            high = probe
        elif probe == MAX_BATCH:
            raise SpecError(f"more than {MAX_BATCH:,} samples fit: the budget is far beyond this model")
        else:
            low = probe
    raise AssertionError("the search over batches did not end: the cost falls as the batch grows")


@dataclass(frozen=True, kw_only=True)
class Step:
    """A training step at one batch, by what holds its memory; the figures sum to total_bytes."""
    batch: int
    param_bytes: int
    buffer_bytes: int
    gradient_bytes: int
    optimizer_bytes: int
    saved_bytes: int    # activations autograd keeps for backward
    working_bytes: int  # the rest at the peak: the input and output, activation gradients, temporaries
    total_bytes: int


@dataclass(frozen=True, kw_only=True)
class Holder:
    """A layer's share of a training step: its parameters with their gradients and optimizer state,
    and the activations it saves for backward."""
    name: str
    kind: str
    state_bytes: int
    saved_bytes: int
    total_bytes: int


@dataclass(frozen=True, kw_only=True)
class Fit:
    """What fits the budget. With gradient accumulation each micro-batch of `training_batch` runs
    forward and backward into the same gradients, so a step holds what one micro-batch does; the
    optimizer steps once per `effective_batch` samples."""
    model: str
    input_shape: tuple[int, ...]  # per sample
    budget: Budget
    optimizer: str
    dtype: str
    accumulate: int
    checkpoint: tuple[str, ...]  # the blocks and layers run through torch.utils.checkpoint
    amp: str | None              # torch.autocast's device and dtype (cuda:bfloat16)
    training_batch: int      # 0: not even batch 1 fits
    effective_batch: int     # training_batch × accumulate
    inference_batch: int
    step: Step               # at training_batch (at batch 1 when nothing fits)
    next_training_bytes: int  # a step at training_batch + 1: over the budget
    inference_bytes: int     # peak inference memory at inference_batch (at batch 1 when nothing fits)
    next_inference_bytes: int
    layers: tuple[Holder, ...]  # the TOP layers holding the most in the step
    estimate: tuple[str, ...]   # why its memory figures are estimates (Memory.estimate)


def fit(graph: Graph, budget: Budget, optimizer: str = "adam", dtype: str | None = None,
        accumulate: int = 1, checkpoint: tuple[str, ...] = (), amp: Amp | None = None) -> Fit:
    """The largest training and inference batches of GRAPH within the budget, and what holds the memory;
    the blocks and layers `checkpoint` names run through torch.utils.checkpoint in training; both
    under torch.autocast where `amp` says."""
    if isinstance(accumulate, bool) or not isinstance(accumulate, int) or accumulate < 1:
        raise SpecError(f"--accumulate must be a whole number ≥ 1, got {accumulate!r:.40}")
    checkpointed(graph, checkpoint)  # an unknown name is an error before any batch is tried
    known: dict[int, tuple[Report, Memory]] = {}

    def at(batch: int) -> tuple[Report, Memory]:
        if batch not in known:
            report = analyze(graph, batch, dtype, checkpoint=checkpoint, amp=amp)
            known[batch] = (report, memory(graph, report, optimizer))
        return known[batch]

    training = largest_batch(lambda batch: at(batch)[1].training_bytes, budget.bytes)
    inference = largest_batch(lambda batch: at(batch)[1].peak_inference_bytes, budget.bytes)
    report, held = at(max(training, 1))
    return Fit(model=graph.name, input_shape=graph.input_shape, budget=budget, optimizer=optimizer,
               dtype=report.dtype, accumulate=accumulate, checkpoint=held.checkpoint, amp=held.amp,
               training_batch=training, effective_batch=training * accumulate, inference_batch=inference,
               step=_step(report.batch, held), next_training_bytes=at(training + 1)[1].training_bytes,
               inference_bytes=at(max(inference, 1))[1].peak_inference_bytes,
               next_inference_bytes=at(inference + 1)[1].peak_inference_bytes,
               layers=_holders(graph, report, held), estimate=held.estimate)


def _step(batch: int, held: Memory) -> Step:
    state = held.param_bytes + held.buffer_bytes + held.gradient_bytes + held.optimizer_bytes
    return Step(batch=batch, param_bytes=held.param_bytes, buffer_bytes=held.buffer_bytes,
                gradient_bytes=held.gradient_bytes, optimizer_bytes=held.optimizer_bytes, saved_bytes=held.saved_bytes,
                working_bytes=held.training_bytes - state - held.saved_bytes, total_bytes=held.training_bytes)


def _holders(graph: Graph, report: Report, held: Memory) -> tuple[Holder, ...]:
    saved = saved_bytes_by_layer(graph, report)
    layers = []
    for row, share in zip(report.layers, held.layers):
        state = share.param_bytes + share.gradient_bytes + share.optimizer_bytes
        kept = saved.get(row.name, 0)
        layers.append(Holder(name=row.name, kind=row.kind, state_bytes=state, saved_bytes=kept,
                             total_bytes=state + kept))
    return tuple(sorted(layers, key=lambda layer: -layer.total_bytes)[:TOP])
