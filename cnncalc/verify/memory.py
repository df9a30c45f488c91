"""Measure memory with torch: CUDA's allocator where there is a GPU, a live-tensor tracker on CPU."""
from __future__ import annotations

import weakref

import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten

from ..figures.memory import memory as predict
from ..figures.memory import optimizer_named
from ..figures.report import analyze
from .build import sample_input
from .own import tensors
from .verdict import MemoryCheck


class LiveTensorBytes(TorchDispatchMode):
    """Bytes of tensor storages alive while active, and their high-water mark."""

    def __init__(self, *pinned: torch.Tensor):
        super().__init__()
        self.storages: dict[int, list[int]] = {}  # data_ptr → [bytes, live tensors]
        self.current = self.peak = 0
        for tensor in pinned:  # alive before and after: the input, parameters, buffers
            self._track(tensor, finalize=False)

    def _track(self, tensor: torch.Tensor, finalize: bool = True) -> None:
        storage = tensor.untyped_storage()
        key = storage.data_ptr()
        entry = self.storages.get(key)
        if entry is None:
            entry = self.storages[key] = [storage.nbytes(), 0]
            self.current += entry[0]
            self.peak = max(self.peak, self.current)
        entry[1] += 1
        if finalize:
            weakref.finalize(tensor, self._release, key)

    def _release(self, key: int) -> None:
        entry = self.storages.get(key)
        if entry is not None:
            entry[1] -= 1
            if entry[1] == 0:
                del self.storages[key]
                self.current -= entry[0]

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        for item in tree_flatten(out)[0]:
            if isinstance(item, torch.Tensor) and item.device.type != "meta":
                self._track(item)
        return out


def _measure(run, model, x) -> int:
    device = x.device
    if device.type == "cuda":
        torch.cuda.synchronize(device)
        torch.cuda.reset_peak_memory_stats(device)
        run()
        torch.cuda.synchronize(device)
        return torch.cuda.max_memory_allocated(device)
    tracker = LiveTensorBytes(x, *model.parameters(), *model.buffers(), *_states(run))
    with tracker:
        run()
    return tracker.peak


def _states(run) -> list[torch.Tensor]:
    optimizer = getattr(run, "optimizer", None)
    if optimizer is None:
        return []
    return [t for state in optimizer.state.values() for t in state.values() if isinstance(t, torch.Tensor)]


def build_optimizer(name: str, parameters: list) -> torch.optim.Optimizer:
    """torch.optim's optimizer as cnncalc's table names it (figures/memory.py: OPTIMIZERS), single-tensor."""
    kept = optimizer_named(name)
    return getattr(torch.optim, kept.torch)(parameters, lr=0.01, foreach=False, **dict(kept.options))


def check_memory(graph, model, report, step, optimizer: str = "adam") -> list[MemoryCheck]:
    """Peak of an inference forward pass of `model` (the one built from the graph, or the user's own
    module the graph was read from) on the graph's sample input, and of a steady-state training step
    (its second). Training runs at batch 2 or more: BatchNorm cannot train on one value per channel."""
    predicted = predict(graph, report, optimizer)
    train_report = report if report.batch > 1 else analyze(graph, 2, report.dtype)
    trained = predict(graph, train_report, optimizer)
    parameter = next(model.parameters(), None)
    device = parameter.device if parameter is not None else torch.device("cpu")
    dtype = parameter.dtype if parameter is not None else torch.float32
    x = sample_input(graph, report.batch, device, dtype)
    step("measuring inference memory")

    def infer():
        with torch.no_grad():
            model(x)
    inference = _measure(infer, model, x)

    step("measuring a training step")
    model.train()
    trainable = [p for p in model.parameters() if p.requires_grad]
    opt = build_optimizer(optimizer, trainable) if trainable else None

    x_train = sample_input(graph, train_report.batch, device, dtype)

    def train():
        if opt:
            opt.zero_grad(set_to_none=False)  # steady state: gradients stay allocated between steps
        # mean's backward makes a dense gradient of the output's size inside autograd, as a real loss
        # does (sum's is an expanded scalar; a gradient passed in stays alive until backward returns);
        # over every output that has a gradient (a module's tuple or ModelOutput: the graph's one
        # tensor; none where every parameter is frozen), each held through backward as a loop holds it
        outs = [out for out in tensors(model(x_train)) if out.requires_grad]
        if outs:
            sum(out.float().mean() for out in outs).backward()
        if opt:
            opt.step()
    train.optimizer = opt
    train()  # the first step allocates gradients and optimizer state
    training = _measure(train, model, x_train)
    model.eval()
    return [MemoryCheck("peak inference memory", predicted.peak_inference_bytes, inference),
            MemoryCheck(f"training step memory ({optimizer}, batch {train_report.batch})",
                        trained.training_bytes, training)]
