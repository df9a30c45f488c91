"""Measure memory with torch: CUDA's allocator where there is a GPU, the CPU allocator's records
(the profiler's) on CPU."""
from __future__ import annotations

import contextlib
import functools
import os
import sys

import torch

from ..figures.memory import memory as predict
from ..figures.memory import optimizer_named
from ..figures.report import analyze
from .build import sample_inputs
from .own import tensors
from .verdict import MemoryCheck


def _measure(run, model, inputs: tuple) -> int:
    """Peak bytes while `run` runs; on CPU, those of the tensors held before and after (the inputs,
    the model's parameters and buffers, and for a training step, which names its `run.optimizer`,
    the gradients and the optimizer's state), each storage once, plus the most `run` adds."""
    device = inputs[0].device
    if device.type == "cuda":
        torch.cuda.synchronize(device)
        torch.cuda.reset_peak_memory_stats(device)
        run()
        torch.cuda.synchronize(device)
        return torch.cuda.max_memory_allocated(device)
    training = getattr(run, "optimizer", None) is not None
    gradients = [p.grad for p in model.parameters() if p.grad is not None] if training else []
    held = (*inputs, *model.parameters(), *model.buffers(), *gradients, *_states(run))
    storages = {t.untyped_storage().data_ptr(): t.untyped_storage().nbytes() for t in held}
    return sum(storages.values()) + peak_allocated_on_cpu(run)


def peak_allocated_on_cpu(run) -> int:
    """The most bytes of tensors torch's CPU allocator holds at once while `run` runs, beyond what it
    held before: every allocation and free from the profiler's records, less a kernel's scratch (an
    allocation freed inside the op whose kernel made it: im2col columns, oneDNN's scratchpads).

    The profiler observes without changing what torch does; a TorchDispatchMode would not: while one
    is active, autograd sums the gradients two branches send a tensor out of place instead of in place
    (isTensorSubclassLike), holding a third gradient that a real run never has."""
    from torch._C._profiler import _EventType

    with _quiet_stderr(), torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU],
                                                 profile_memory=True) as profile:
        run()
    events, pending = [], list(profile.profiler.kineto_results.experimental_event_tree())
    while pending:
        event = pending.pop()
        if event.tag == _EventType.Allocation:
            events.append(event)
        pending.extend(event.children)
    events.sort(key=lambda event: event.start_time_ns)
    made: dict[int, object] = {}  # address → its allocation, until freed
    scratch: set[int] = set()  # ids of allocations and frees both inside one kernel
    for event in events:
        address = event.extra_fields.ptr
        if event.extra_fields.alloc_size > 0:
            made[address] = event
        elif address in made:
            allocation = made.pop(address)
            op = _kernel_op(allocation)
            if op is not None and op == _kernel_op(event):
                scratch.update((id(allocation), id(event)))
    live = peak = 0
    for event in events:
        if id(event) not in scratch:
            live += event.extra_fields.alloc_size
            peak = max(peak, live)
    return peak


def _kernel_op(event):
    """The op whose kernel an allocation or free happened in (its name and start): the outermost aten
    op that is not a composition of others (CompositeImplicitAutograd: conv2d, max_pool2d, linear),
    as a TorchDispatchMode sees ops; None outside every op."""
    op, parent = None, event.parent
    while parent is not None:
        if parent.name.startswith("aten::") and not _composite(parent.name):
            op = (parent.name, parent.start_time_ns)
        parent = parent.parent
    return op


@functools.lru_cache(maxsize=None)
def _composite(name: str) -> bool:
    """Whether every overload of an aten op (the profiler names none) is written in other ops, but
    for its out= forms, which a model's layers never call (linear.out has a kernel of its own: its
    allocations, autocast's copy of the input among them, are no kernel's scratch)."""
    packet = getattr(torch.ops.aten, name.removeprefix("aten::"), None)
    return packet is not None and all(
        _composite_overload(name if overload == "default" else f"{name}.{overload}")
        for overload in packet.overloads() if not overload.startswith("out"))


def _composite_overload(name: str) -> bool:
    try:
        return torch._C._dispatch_has_kernel_for_dispatch_key(name, "CompositeImplicitAutograd")
    except RuntimeError:  # an overload TorchScript alone knows (aten::to.prim_Device): no dispatcher op
        return True


@contextlib.contextmanager
def _quiet_stderr():
    """The profiler's C++ side logs its start and stop (and a free of a block allocated before it)
    on file descriptor 2: silenced, so that verify's output stays its own."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def _states(run) -> list[torch.Tensor]:
    optimizer = getattr(run, "optimizer", None)
    if optimizer is None:
        return []
    return [t for state in optimizer.state.values() for t in state.values() if isinstance(t, torch.Tensor)]


def build_optimizer(name: str, parameters: list) -> torch.optim.Optimizer:
    """torch.optim's optimizer as cnncalc's table names it (figures/memory.py: OPTIMIZERS), single-tensor."""
    kept = optimizer_named(name)
    return getattr(torch.optim, kept.torch)(parameters, lr=0.01, foreach=False, **dict(kept.options))


def check_memory(graph, model, report, step, optimizer: str = "adam",
                 checkpoint: tuple[str, ...] = (), amp=None) -> list[MemoryCheck]:
    """Peak of an inference forward pass of `model` (the one built from the graph, or the user's own
    module the graph was read from) on the graph's sample input, and of a steady-state training step
    (its second), with the blocks `checkpoint` names run through torch.utils.checkpoint, both under
    torch.autocast where the report says. Training runs at batch 2 or more: BatchNorm cannot train on
    one value per channel; at a batch of one where the model fails at two (it takes one sample at a time)."""
    if amp is not None:
        report = analyze(graph, report.batch, report.dtype, amp=amp)
    predicted = predict(graph, report, optimizer)
    device, dtype = _placement(model)
    step("measuring inference memory")
    inference = inference_peak(model, sample_inputs(graph, report.batch, device, dtype), report.amp)
    step("measuring a training step")
    train_report, training = _training_step(graph, model, report, optimizer, checkpoint, amp)
    trained = predict(graph, train_report, optimizer)
    checkpointing = f", checkpointing {len(trained.checkpoint)} block{'s' * (len(trained.checkpoint) != 1)}" \
        if trained.checkpoint else ""
    autocast = f", autocast {report.amp.dtype}" if report.amp else ""
    return [MemoryCheck(f"peak inference memory{' (autocast ' + report.amp.dtype + ')' if report.amp else ''}",
                        predicted.peak_inference_bytes, inference),
            MemoryCheck(f"training step memory ({optimizer}, batch {train_report.batch}{checkpointing}{autocast})",
                        trained.training_bytes, training)]


def _training_step(graph, model, report, optimizer: str, checkpoint: tuple[str, ...], amp) -> tuple:
    """The report of a training step and its measured peak, at batch 2 or more, else at the report's batch of one."""
    from .checkpoint import checkpointed_model

    device, dtype = _placement(model)
    batches = tuple(dict.fromkeys((max(report.batch, 2), report.batch)))
    for batch in batches:
        train_report = analyze(graph, batch, report.dtype, checkpoint=checkpoint, amp=amp)
        try:
            with checkpointed_model(model, graph, train_report.checkpoint) as run:
                return train_report, training_peak(run, sample_inputs(graph, batch, device, dtype), optimizer,
                                                   report.amp)
        except Exception:  # noqa: BLE001 (the model's own error at a batch of two: it takes one sample at a time)
            if batch == batches[-1]:
                raise


def _placement(model) -> tuple[torch.device, torch.dtype]:
    """Where the model's parameters are and what they hold (the CPU and float32 for one holding none)."""
    parameter = next(model.parameters(), None)
    return (parameter.device, parameter.dtype) if parameter is not None else (torch.device("cpu"), torch.float32)


def _sample(model, input_shape, batch: int) -> torch.Tensor:
    device, dtype = _placement(model)
    return torch.randn(batch, *input_shape, device=device, dtype=dtype)


def measure_inference(model, input_shape, batch: int, amp=None) -> int:
    """Peak bytes of a forward pass under no_grad, the model in eval mode, on random data (inference_peak)."""
    return inference_peak(model, (_sample(model, input_shape, batch),), amp)


def measure_training(model, input_shape, batch: int, optimizer: str = "adam", amp=None) -> int:
    """Peak bytes of a steady-state training step on random data (training_peak)."""
    return training_peak(model, (_sample(model, input_shape, batch),), optimizer, amp)


def autocast(amp):
    """torch.autocast as cnncalc's Amp names it; nothing where there is none."""
    if amp is None:
        return contextlib.nullcontext()
    return torch.autocast(amp.device, dtype=getattr(torch, amp.dtype))


def inference_peak(model, inputs: tuple, amp=None) -> int:
    """Peak bytes of a forward pass on `inputs` under no_grad, the model in eval mode, under
    torch.autocast where `amp` says."""
    def infer():
        with torch.no_grad(), autocast(amp):
            model(*inputs)
    return _measure(infer, model, inputs)


def training_peak(model, inputs: tuple, optimizer: str = "adam", amp=None) -> int:
    """Peak bytes of a steady-state training step (its second): forward in train mode (under
    torch.autocast where `amp` says, as torch's recipe runs it: backward outside), a mean's backward
    and the optimizer's step, gradients kept between steps."""
    model.train()
    trainable = [p for p in model.parameters() if p.requires_grad]
    opt = build_optimizer(optimizer, trainable) if trainable else None

    def train():
        if opt:
            opt.zero_grad(set_to_none=False)  # steady state: gradients stay allocated between steps
        # mean's backward makes a dense gradient of the output's size inside autograd, as a real loss
        # does (sum's is an expanded scalar; a gradient passed in stays alive until backward returns);
        # over every output that has a gradient (a module's tuple or ModelOutput: the graph's one
        # tensor; none where every parameter is frozen), each held through backward as a loop holds it
        with autocast(amp):
            outs = [out for out in tensors(model(*inputs)) if out.requires_grad]
        if outs:
            sum(out.float().mean() for out in outs).backward()
        if opt:
            opt.step()
    train.optimizer = opt
    try:
        train()  # the first step allocates gradients and optimizer state
        return _measure(train, model, inputs)
    finally:
        model.eval()
