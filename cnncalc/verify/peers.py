"""Run the peer counters on a built model: totals, and per layer where the tool reports modules.

Each runner returns a PeerCount; `layers[i]` is the count for the model's i-th layer. ptflops adds
the functional calls it patches to its total only, so it has no per-layer figures; nor has the user's
own module (any nn.Module, not a GraphModel): its layers are not one module each, so its totals are compared.
`count` runs one and leaves the model as it was; `fails` says whether one gives a total in a bounded time.
"""
from __future__ import annotations

import contextlib
import importlib.util
import io
import logging
import signal
import threading
import warnings
from dataclasses import dataclass

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from .build import GraphModel
from ..importing.tracing import left_as_it_was
from .own import counted_kernels, tensors

PREFIX = "layers."


@dataclass(frozen=True)
class PeerCount:
    tool: str
    total: int
    layers: tuple[int, ...] | None  # per layer in graph order, where the tool gives per-module counts


@contextlib.contextmanager
def _quiet():
    """The peers print tables, warnings and log lines; keep the terminal ours. Yields what they print
    on stdout."""
    logger = logging.getLogger()
    level = logger.level
    logger.setLevel(logging.ERROR)
    printed = io.StringIO()
    with warnings.catch_warnings(), contextlib.redirect_stdout(printed), contextlib.redirect_stderr(io.StringIO()):
        warnings.simplefilter("ignore")
        try:
            yield printed
        finally:
            logger.setLevel(level)


def _per_layer(model: nn.Module, counts: dict[str, float]) -> tuple[int, ...] | None:
    if not isinstance(model, GraphModel):
        return None
    return tuple(int(counts.get(f"{PREFIX}{i}", 0)) for i in range(len(model.layers)))


def run_torch(model: nn.Module, inputs: tuple) -> PeerCount:
    """FlopCounterMode over a forward pass, attention on the math backend it counts."""
    counter = FlopCounterMode(display=False, depth=None)
    # the user's module with autograd on: under no_grad the tracker fails on views of parameters passed to modules
    with counted_kernels(), counter, torch.no_grad() if isinstance(model, GraphModel) else contextlib.nullcontext():
        model(*inputs)
    flops = {name.removeprefix("GraphModel."): sum(ops.values())
             for name, ops in counter.get_flop_counts().items()}
    return PeerCount("torch", counter.get_total_flops(), _per_layer(model, flops))


def run_torch_backward(model: GraphModel, inputs: tuple) -> PeerCount:
    """FlopCounterMode over a training step's backward, the sum of `model(*inputs)`'s outputs' sums
    backward, with the inputs
    requiring no grad, as a batch from a data loader: the step's count less the forward's, in total
    and per layer. The counter's own attribution to modules goes astray in backward where branches
    meet, so each autograd node a layer's forward made is marked with that layer, and what the counter
    counts while a node runs is the layer's."""
    owner: dict = {}  # autograd node → index of the layer whose forward made it
    handles = [hook for index, layer in enumerate(model.layers) for hook in _marking(layer, index, owner)]
    counter = FlopCounterMode(display=False, depth=None)
    flops, running = [0] * len(model.layers), {"layer": None, "counted": 0}

    def enter(node):
        counted = counter.get_total_flops()
        if running["layer"] is not None:
            flops[running["layer"]] += counted - running["counted"]
        running.update(layer=owner.get(node), counted=counted)

    try:
        with counted_kernels(), counter:
            outs = [out for out in tensors(model(*inputs)) if out.requires_grad]  # each output the graph names
            forward = running["counted"] = counter.get_total_flops()
            for node in owner:
                handles.append(node.register_prehook(lambda grads, node=node: enter(node)))
            if outs:  # none where nothing upstream trains: backward has nothing to compute
                sum(out.sum() for out in outs).backward()
            enter(None)
    finally:
        for handle in handles:
            handle.remove()
        model.zero_grad(set_to_none=True)
    return PeerCount("torch backward", counter.get_total_flops() - forward, tuple(flops))


def _marking(layer: torch.nn.Module, index: int, owner: dict) -> list:
    """Hooks marking the autograd nodes one layer's forward makes: from its output's back to its inputs'
    (taken before it runs, since an in-place layer gives its input a node of its own)."""
    before: dict = {}

    def pre(module, inputs):
        before["nodes"] = {t.grad_fn for t in inputs if isinstance(t, torch.Tensor) and t.grad_fn is not None}

    def post(module, inputs, output):
        stack = [output.grad_fn] if isinstance(output, torch.Tensor) else []
        while stack:
            node = stack.pop()
            if node is None or node in before["nodes"] or node in owner:
                continue
            owner[node] = index
            stack.extend(next_node for next_node, _ in node.next_functions)

    return [layer.register_forward_pre_hook(pre), layer.register_forward_hook(post)]


def run_fvcore(model: nn.Module, inputs: tuple) -> PeerCount:
    with _quiet():
        from fvcore.nn import FlopCountAnalysis  # its import warns that torch.jit.script is deprecated

        analysis = FlopCountAnalysis(model, inputs).unsupported_ops_warnings(False).uncalled_modules_warnings(False)
        total = analysis.total()
        by_module = analysis.by_module()
    return PeerCount("fvcore", int(total), _per_layer(model, by_module))


def run_torchinfo(model: nn.Module, inputs: tuple) -> PeerCount:
    from torchinfo import summary

    with _quiet():
        stats = summary(model, input_data=list(inputs), verbose=0, device=inputs[0].device)
    if not isinstance(model, GraphModel):
        return PeerCount("torchinfo", int(stats.total_mult_adds), None)
    # each module to the layer holding it (a layer per row wraps its module)
    index = {id(module): i for i, layer in enumerate(model.layers) for module in layer.modules()}
    layers = [0] * len(model.layers)
    for info in stats.summary_list:
        if id(info.module) in index and info.is_leaf_layer:  # what its total sums
            layers[index[id(info.module)]] += info.macs
    return PeerCount("torchinfo", int(stats.total_mult_adds), tuple(layers))


def run_ptflops(model: nn.Module, inputs: tuple) -> PeerCount:
    from ptflops import get_model_complexity_info

    with _quiet() as printed:
        # it calls model(x), or model(**x) for a dict: several inputs go by name
        first, named = inputs[0], dict(zip(_input_names(model), inputs)) if len(inputs) > 1 else None
        macs, _ = get_model_complexity_info(model, tuple(first.shape[1:]), as_strings=False,
                                            print_per_layer_stat=False, verbose=False,
                                            input_constructor=lambda shape: named or first)
    if macs is None:  # it catches the model's error, prints it on the line after its own and gives None
        raise RuntimeError(f"ptflops gave no total: {(printed.getvalue().splitlines()[1:] or ['?'])[0]}")
    return PeerCount("ptflops", int(macs), None)


def _input_names(model: nn.Module) -> list[str]:
    """forward()'s names for the model's inputs, in order."""
    if isinstance(model, GraphModel):
        return list(model.input_names)
    import inspect

    return list(inspect.signature(model.forward).parameters)


def run_thop(model: nn.Module, inputs: tuple) -> PeerCount:
    from thop import profile

    with _quiet():
        total, _, tree = profile(model, inputs=inputs, verbose=False, ret_layer_info=True)
    children = tree.get("layers", (0, 0, {}))[2]
    counts = {f"{PREFIX}{name}": ops for name, (ops, _, _) in children.items()}
    return PeerCount("thop", int(total), _per_layer(model, counts))


RUNNERS = {"torch": run_torch, "fvcore": run_fvcore, "torchinfo": run_torchinfo, "ptflops": run_ptflops,
           "thop": run_thop}
MODULES = {"torch": "torch", "fvcore": "fvcore", "torchinfo": "torchinfo", "ptflops": "ptflops",
           "thop": "thop"}


def installed() -> list[str]:
    return [tool for tool, module in MODULES.items() if importlib.util.find_spec(module)]


def count(tool: str, model: nn.Module, inputs: tuple, seconds: float | None = None) -> PeerCount:
    """`tool`'s count of the model (in at most `seconds`, where given), the model left as it was: ptflops
    leaves its methods on the model, thop its buffers on modules with children, and on a failure
    its hooks and buffers everywhere."""
    with left_as_it_was(model.modules()), _within(seconds):
        return RUNNERS[tool](model, inputs)


def fails(tool: str, model: nn.Module, inputs: tuple, seconds: float) -> str:
    """Why `tool` gives no total for the model within `seconds`, or "" where it gives one."""
    try:
        count(tool, model, inputs, seconds)
    except Exception as error:  # noqa: BLE001 (whatever the tool or the model raises)
        return why(error)
    return ""


def why(error: BaseException) -> str:
    """A peer's failure in a line: the model's own error where the tool wraps it (torchinfo's)."""
    while error.__cause__ is not None:
        error = error.__cause__
    return f"{type(error).__name__}: {(str(error).splitlines() or [''])[0][:160]}"


class PeerTimeout(Exception):
    """A peer that gave no total in the time allowed (an Exception, so that ptflops, which catches
    those, unpatches torch's functions)."""


@contextlib.contextmanager
def _within(seconds: float | None):
    """Raise PeerTimeout in the run after `seconds` (between two of torch's operations: an alarm's
    handler runs in Python). Only the main thread receives signals, and Windows has no alarm: there the
    run is unbounded."""
    if seconds is None or threading.current_thread() is not threading.main_thread() \
            or not hasattr(signal, "setitimer"):
        yield
        return

    def expire(signum, frame):
        raise PeerTimeout(f"no total within {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


