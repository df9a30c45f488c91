"""The memory model: peak inference memory by a liveness walk, and a training step's memory.

Inference: parameters and buffers, plus at each layer every tensor still needed. A tensor is freed
after its last consumer; an output that aliases its input (in-place, views) adds nothing and keeps
its input's storage alive; joins keep their branches alive until they run.
Training: parameters, their gradients, optimizer state, and the activations autograd saves for
backward. What each kind aliases, saves, allocates as gradients and holds besides is declared by the
kind (layers/facts.py: MemoryFacts); this module only walks the graph.
Under torch.autocast each activation has its layer's dtype (figures/amp.py), and a layer on
autocast's lists holds copies of what it casts: of the inputs it saves, until its backward; of its
parameters, which autocast caches until the forward pass ends and autograd saves until backward.
"""
from __future__ import annotations

from collections import Counter

import math
from dataclasses import dataclass

from ..errors import SpecError
from ..graph import DTYPE_BYTES, Graph, element_bytes
from ..layers import REGISTRY
from ..layers.facts import MemoryFacts, Parameters, Workspace
from .amp import Amp, policy
from .checkpoint import RNG_STATE_BYTES, Recompute, block_inputs, recompute_plan, recorded, saves
from .report import Report

@dataclass(frozen=True, kw_only=True)
class Optimizer:
    """An optimizer as torch.optim keeps it (its single-tensor step, foreach=False): the state tensors
    it holds per trainable parameter, the temporaries of its step at their largest (in units of the
    largest parameter), and the torch.optim class and options verify builds it with."""
    states: int
    temporaries: int
    torch: str
    options: tuple[tuple[str, object], ...] = ()


# states and temporaries read from torch/optim: Adam's step holds exp_avg_sq.sqrt() and its quotient
# at once; nesterov's grad.add(buf), RMSprop's square_avg.sqrt() and Adagrad's state_sum.sqrt() one
OPTIMIZERS = {
    "sgd": Optimizer(states=0, temporaries=0, torch="SGD"),
    "momentum": Optimizer(states=1, temporaries=0, torch="SGD", options=(("momentum", 0.9),)),
    "nesterov": Optimizer(states=1, temporaries=1, torch="SGD", options=(("momentum", 0.9), ("nesterov", True))),
    "adam": Optimizer(states=2, temporaries=2, torch="Adam"),
    "adamw": Optimizer(states=2, temporaries=2, torch="AdamW"),
    "amsgrad": Optimizer(states=3, temporaries=2, torch="Adam", options=(("amsgrad", True),)),  # max_exp_avg_sq
    "rmsprop": Optimizer(states=1, temporaries=1, torch="RMSprop"),
    "adagrad": Optimizer(states=1, temporaries=1, torch="Adagrad"),
}


def optimizer_named(name: str) -> Optimizer:
    if name not in OPTIMIZERS:
        raise SpecError(f"unknown optimizer '{name}' (choose from {', '.join(OPTIMIZERS)})")
    return OPTIMIZERS[name]


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
    checkpoint: tuple[str, ...] = ()  # the blocks and layers run through torch.utils.checkpoint
    amp: str | None = None  # torch.autocast's device and dtype (cuda:bfloat16)
    estimate: tuple[str, ...] = ()  # why the figures are estimates: "kind: reason", per kind stating one


def estimates(graph: Graph, rows: dict) -> tuple[str, ...]:
    """The reasons the graph's kinds give for their memory figures being estimates (at their layers'
    input shapes), each kind once; and modules with parameters the model's run never called, which
    training mode may call."""
    uncalled = [held.name for held in graph.not_run if held.why == "not run" and held.params]
    tracked = recorded(graph, rows)
    stated = ((node.kind, _estimate(node, rows, tracked)) for node in graph.nodes)
    return tuple(dict.fromkeys(f"{kind}: {reason}" for kind, reason in stated if reason)) + ((
        f"{', '.join(uncalled)}: never called in the run read (eval mode); training mode may call them (an "
        "auxiliary head), and the figures leave them out",) if uncalled else ())


def fused_blocks(graph: Graph, amp: Amp | None) -> list[list]:
    """The layers of each block torch runs as one fused kernel in inference (Node.fused_block), in order: all it
    makes but its output is its kernel's scratch, which the figures leave out as they leave out a convolution's
    workspace. None under autocast, which takes no fast path."""
    if amp is not None:
        return []
    blocks: dict[str, list] = {}
    for node in graph.nodes:
        if node.fused_block is not None:
            blocks.setdefault(node.fused_block, []).append(node)
    return list(blocks.values())


def _estimate(node, rows: dict, tracked: dict[str, bool]) -> str | None:
    estimate = _facts(node).estimate
    return estimate(tuple(rows[name].output_shape for name in node.inputs), node.args,
                    tuple(tracked[name] for name in node.inputs)) if callable(estimate) else estimate


class Walk:
    """What the walks below share for one graph and report, each computed once when first asked for
    (memory() asks for each several times: a model of 50,000 layers spent most of its time on repeats)."""

    def __init__(self, graph: Graph, report: Report):
        self.graph, self.report = graph, report
        self.rows = {row.name: row for row in report.layers}
        self._cache: dict = {}

    def _once(self, key, compute):
        if key not in self._cache:
            self._cache[key] = compute()
        return self._cache[key]

    def storages(self, training: bool) -> dict[str, str | None]:
        return self._once(("storages", training), lambda: _storages(self.graph, self.rows, training))

    def alive_until(self) -> dict[str, int]:
        return self._once("alive", self.graph.alive_until)

    def feeding(self) -> set[str]:
        return self._once("feeding", self.graph.feeding)

    def training_pass(self, element_size: int) -> "TrainingPass":
        return self._once(("training", element_size), lambda: _training_pass(self, element_size))

    def plan(self) -> tuple[Recompute, ...]:
        """The report's checkpointed calls, with what backward runs again of each."""
        return self._once("plan", lambda: recompute_plan(self.graph, self.rows, self.report.checkpoint)
                          if self.report.checkpoint else ())

    def peak_activation_bytes(self) -> int:
        return self._once("peak", lambda: _inference_peak(self))

    def node(self, name: str):
        """The graph's layer of that name (None: an input)."""
        return self._once("nodes", lambda: {node.name: node for node in self.graph.nodes}).get(name)

    def making(self, node) -> int:
        """The bytes a constant made for each sample holds besides itself while it is made (Node.making)."""
        return node.making * self.report.batch

    def workspace(self, node) -> Workspace:
        """What the layer holds besides its output, by its kind's rule, in elements."""
        return self._once(("workspace", node.name), lambda: self._workspace(node))

    def _workspace(self, node) -> Workspace:
        row = self.rows[node.name]
        shapes, batch = tuple(self.rows[name].output_shape for name in node.inputs), self.report.batch
        if node.per_row:  # each row of its input's first dim run as a sample
            shapes, batch = tuple(shape[1:] for shape in shapes), batch * shapes[0][0]
        return _facts(node).workspace(node.args, shapes, batch, element_bytes(row.dtype), self.parameters_used(node))

    def parameters_used(self, node) -> Parameters:
        """The parameters a layer uses: its own, and those of the layer whose weights it uses, which count them
        (a module called again, a head tied to an embedding's table beside its own bias)."""
        row = self.rows[node.name]
        own = Parameters(weights=row.weights, biases=row.biases, trainable=row.trainable_params)
        if not node.weights_of:
            return own
        theirs = self.parameters_used(self.node(node.weights_of))
        return Parameters(weights=own.weights + theirs.weights, biases=own.biases + theirs.biases,
                          trainable=own.trainable + theirs.trainable)


def _rebased_view(walk: Walk, node) -> int:
    """Bytes an in-place layer's backward holds on a linear's output of rows (its addmm viewed back to 3-d), the
    layer's first input the tensor written (an activation's, index_add_'s destination): autograd rebases the
    view's history (CopySlices), whose backward clones the gradient and its slice beside the layer's own."""
    if not node.args.get("inplace") or not node.inputs:
        return 0
    source = walk.node(node.inputs[0])
    if source is None or source.kind != "linear" or not source.args.get("bias") \
            or len(walk.rows[source.inputs[0]].output_shape) != 2 or source.copied:
        return 0
    return 2 * walk.rows[node.name].activation_bytes


def _walk(graph: Graph, report: Report, walk: Walk | None) -> Walk:
    return walk if walk is not None and walk.graph is graph and walk.report is report else Walk(graph, report)


def memory(graph: Graph, report: Report, optimizer: str = "adam") -> Memory:
    kept = optimizer_named(optimizer)
    size = _element_size(report)
    totals = report.totals
    trainable = sum(row.trainable_params for row in report.layers) * size  # modules not run get no gradient
    buffers = totals.buffer_bytes
    walk = Walk(graph, report)
    peak = peak_activation_bytes(graph, report, walk)
    saved = saved_bytes(graph, report, size, walk)
    backward = max(backward_peak_bytes(graph, report, size, walk),
                   forward_training_peak_bytes(graph, report, size, walk))
    optimizer_bytes = trainable * kept.states
    largest = max((walk.workspace(node).largest_parameter for node in graph.nodes), default=0) * size
    # the forward and backward passes' activations are gone by the optimizer step, which has
    # temporaries of its own
    working = max(backward, kept.temporaries * largest)
    layers = tuple(LayerMemory(param_bytes=row.params * size, gradient_bytes=row.trainable_params * size,
                               optimizer_bytes=row.trainable_params * size * kept.states)
                   for row in report.layers)
    return Memory(param_bytes=totals.param_bytes, buffer_bytes=buffers, gradient_bytes=trainable,
                  optimizer_bytes=optimizer_bytes, activation_bytes=totals.activation_bytes,
                  peak_activation_bytes=peak, peak_inference_bytes=peak_inference_bytes(graph, report, walk),
                  saved_bytes=saved, training_bytes=totals.param_bytes + buffers + trainable + optimizer_bytes + working,
                  optimizer=optimizer, layers=layers,
                  checkpoint=tuple(dict.fromkeys(block.name for block in report.checkpoint)),
                  amp=str(report.amp) if report.amp else None, estimate=estimates(graph, walk.rows))


def _element_size(report: Report) -> int:
    """Of the model's tensors (an int64 input of token ids holds other elements)."""
    return DTYPE_BYTES[report.dtype]


def peak_inference_bytes(graph: Graph, report: Report, walk: Walk | None = None) -> int:
    """Parameters and buffers, plus the most activation bytes alive at once."""
    return (report.totals.param_bytes + report.totals.buffer_bytes
            + peak_activation_bytes(graph, report, walk))


def _storages(graph: Graph, rows: dict, training: bool = False) -> dict[str, str | None]:
    """Tensor → the storage it lives in: its own, or its input's when it aliases it (in training
    mode by the kind's training fact: dropout then makes a new tensor); None for a parameter read
    as a tensor, which the parameters' bytes hold, no activation."""
    storage: dict[str, str | None] = {name: name for name in graph.input_names}
    for node in graph.nodes:
        aliases = _facts(node).aliases_in_training(node.args) and not node.own_storage if training \
            else not rows[node.name].allocates
        storage[node.name] = (storage[node.inputs[0]] if node.inputs else None) if aliases else node.name
    return storage


@dataclass(frozen=True)
class Recomputed:
    """What one checkpointed call's recomputation holds in backward, from the moment its last saving
    layer's backward asks for a saved tensor: `peak`, the most it adds while it runs; then `kept`,
    what its layers save, released layer by layer (`released`: layer index → bytes)."""
    peak: int
    kept: int
    released: dict[int, int]


@dataclass(frozen=True)
class TrainingPass:
    """What a training forward pass leaves for backward."""
    first_saver: dict[str, int]  # storage → index of the first layer saving it
    extra: list[int]             # per layer, the bytes it saves besides tensors (a mask, indices)
    cached: list[int]            # per layer, autocast's copies its cache alone holds, to the end of the pass
    unsaved: list[int]           # per layer, what it makes that nothing keeps: alive while it runs
    requires: dict[str, bool]    # tensor → whether autograd tracks it
    recomputed: dict[int, Recomputed]  # checkpointed calls, by the index of the layer that recomputes


@dataclass(frozen=True)
class Casts:
    """What autocast copies for one layer: per input it casts, the copy's bytes; and the copies of its
    weights and biases (cached: one copy however often the forward pass reads them)."""
    inputs: dict[str, int]
    weights: int
    biases: int


NO_CASTS = Casts(inputs={}, weights=0, biases=0)


def _casts(node, rows: dict, amp: Amp | None) -> Casts:
    """A layer on autocast's lower or float32 list runs in its output's dtype: each floating input of
    another dtype is copied into it, and its float32 parameters too where it runs lower."""
    if amp is None or policy(node, amp) == "promote":
        return NO_CASTS
    row = rows[node.name]
    size = DTYPE_BYTES[row.dtype]
    inputs = {name: rows[name].activations * size for name in node.inputs
              if rows[name].dtype in DTYPE_BYTES and rows[name].dtype != row.dtype}
    lower = row.dtype == amp.dtype
    return Casts(inputs=inputs, weights=row.weights * size if lower else 0, biases=row.biases * size if lower else 0)


def _copied(node, rows: dict, cast: Casts, contiguous: frozenset = frozenset()) -> dict[str, int]:
    """The inputs torch copies to contiguous ones inside the layer (Node.copied), by their copies'
    bytes; not one autocast copies already (its copy is the one read), nor one `contiguous` already (the
    output of a kernel inference fuses). A copy holds the input's last two dims once per matrix of the
    layer's output: a batch the input broadcasts over repeats it there."""
    out = rows[node.name]
    matrices = out.activations // max(math.prod(out.output_shape[-2:]), 1)
    return {name: matrices * math.prod(rows[name].output_shape[-2:]) * _bytes_per_element(rows[name])
            for name in node.copied if name not in cast.inputs and name not in contiguous}


def _fused_outputs(graph: Graph, rows: dict, amp: Amp | None) -> frozenset:
    """The layers inference runs by a fused kernel whose output is contiguous (LayerKind.fused_in_inference); none
    under autocast, which takes no fast path."""
    return frozenset() if amp is not None else frozenset(
        node.name for node in graph.nodes if REGISTRY[node.kind].fused_in_inference is not None
                     and REGISTRY[node.kind].fused_in_inference(
                         tuple(rows[name].output_shape for name in node.inputs), node.args))


def _bytes_per_element(row) -> int:
    return row.activation_bytes // row.activations if row.activations else 0


def _saved_names(node, requires: dict[str, bool]) -> tuple[str, ...]:
    """The tensors a recorded layer saves: a product keeps each factor for the others' gradients,
    only where another factor has one."""
    facts = _facts(node)
    saved = facts.saved_by(node.args)
    if saved == "factors":  # a sum's product: its input is added, its factors multiplied
        return _factors(node.inputs[1:], requires)
    factors = _factors(node.inputs, requires)
    return {"input": tuple(node.inputs[:1]), "inputs": factors, "output": (node.name,),
            "inputs and output": (*factors, node.name), "second input": tuple(node.inputs[1:2]),
            "last input": tuple(node.inputs[-1:]), "nothing": ()}[saved]


def _factors(inputs: tuple[str, ...], requires: dict[str, bool]) -> tuple[str, ...]:
    """Each factor kept for another's gradient, where another has one (a lone input: for its own)."""
    return tuple(name for k, name in enumerate(inputs) if len(inputs) == 1 or any(
        requires[other] for j, other in enumerate(inputs) if j != k))


@dataclass(frozen=True)
class Saves:
    """What one layer of a training forward pass holds besides its output, where autograd records it:
    `tensors`, those of the tensors it reads whose storage it saves; `saved`, the bytes it saves
    besides (a mask, indices, autocast's copies of what it reads), of which autocast's cache holds
    `saved_cached` anyway (a trainable weight's copy); `cached`, what only the cache holds, to the end
    of the forward pass (a trainable bias's copy: its gradient needs no value); `made`, all it makes."""
    tensors: tuple[str, ...]
    saved: int
    saved_cached: int
    cached: int
    made: int


def _saves(node, rows: dict, amp: Amp | None, requires: dict[str, bool], workspace: Workspace, making: int) -> Saves:
    row = rows[node.name]
    size = element_bytes(row.dtype)
    # per element (a mask, indices), and the kind's workspace (a recurrent layer's gates and states)
    bytes_ = row.activations * _facts(node).extra_saved(node.args, size) + workspace.saved * size
    cast = _casts(node, rows, amp)
    copied = _copied(node, rows, cast)
    made = bytes_ + sum(cast.inputs.values()) + sum(copied.values()) + cast.weights + cast.biases \
        + workspace.running * size + making
    # autocast caches the copies of leaves requiring grad (trainable parameters) to the end of the pass
    trainable = row.trainable_params > 0
    if not requires[node.name]:
        return Saves(tensors=(), saved=0, saved_cached=0, cached=(cast.weights + cast.biases) * trainable, made=made)
    names = _saved_names(node, requires)
    # autograd saves the copies it casts to, not the tensors cast; its weights' copy too; and the
    # contiguous copies torch made
    copies = cast.inputs | copied
    saved = bytes_ + sum(copies[name] for name in set(names) & copies.keys()) + cast.weights
    return Saves(tensors=tuple(name for name in names if name not in copies), saved=saved,
                 saved_cached=cast.weights * trainable, cached=cast.biases * trainable, made=made)


def _training_pass(walk: Walk, element_size: int) -> TrainingPass:
    graph, rows, storage = walk.graph, walk.rows, walk.storages(True)
    plan = walk.plan()
    # what a layer nothing returned needs saved goes with its output, as soon as it is made
    requires = {name: tracked and name in walk.feeding() for name, tracked in recorded(graph, rows).items()}
    inside = {index: item for item in plan for index in range(item.block.start, item.block.stop)}
    held = [_saves(node, rows, walk.report.amp, requires, walk.workspace(node), walk.making(node))
            for node in graph.nodes]
    first_saver: dict[str, int] = {}
    extra, cached, unsaved = [], [], []
    for index, layer in enumerate(held):
        if index in inside:  # a checkpoint keeps placeholders instead; autocast's cache still holds its copies
            extra.append(0)
            cached.append(layer.saved_cached + layer.cached)
            unsaved.append(layer.made - layer.saved_cached - layer.cached)
            continue
        extra.append(layer.saved)
        cached.append(layer.cached)
        unsaved.append(layer.made - layer.saved - layer.cached)
        for name in layer.tensors:
            if storage[name] is not None:
                first_saver.setdefault(storage[name], index)
    recomputed = {}
    for item in plan:
        if item.last is None:
            continue  # nothing saved: the checkpoint keeps nothing, not even its inputs
        first = next(index for index in range(item.block.start, item.block.stop)
                     if saves(graph.nodes[index], requires[graph.nodes[index].name]))
        # checkpoint keeps the call's inputs, and the generator's state, until the backward of its
        # first layer that saved anything (when the last placeholder goes)
        for name in block_inputs(graph, item.block):
            if storage[name] is not None and first_saver.get(storage[name], first) >= first:
                first_saver[storage[name]] = first
        extra[first] += RNG_STATE_BYTES
        recomputed[item.last] = _recomputation(graph, rows, storage, item, held)
    return TrainingPass(first_saver=first_saver, extra=extra, cached=cached, unsaved=unsaved, requires=requires,
                        recomputed=recomputed)


def _recomputation(graph: Graph, rows: dict, storage: dict, item: Recompute, held: list[Saves]) -> Recomputed:
    """The checkpointed call's forward run again, up to its last saving layer: each tensor it makes
    alive to its last reader in the call (to the end where a later layer reads it, or it is saved);
    what its layers save kept, each storage until the backward of the first layer saving it. Under
    autocast it casts again: its own autocast context caches nothing past the recomputation, but
    autograd keeps the copies its layers save, as a call not checkpointed does."""
    start, last = item.block.start, item.last
    made = {node.name for node in graph.nodes[start:last + 1]}
    first_saver: dict[str, int] = {}
    for index in range(start, last + 1):
        for name in held[index].tensors:
            if storage[name] is not None and storage[name] in made:
                first_saver.setdefault(storage[name], index)
    alive = graph.alive_until()
    until: dict[str, int] = {}
    for name in made:
        if storage[name] == name:
            until[name] = last if name in first_saver else min(alive.get(name, last), last)
    for name, index in alive.items():  # a view's readers keep its storage
        if storage.get(name) in until and name != storage[name] and name in made:
            until[storage[name]] = max(until[storage[name]], min(index, last))
    live = peak = RNG_STATE_BYTES  # the generator's state, forked while the call runs again
    for index in range(start, item.stop):
        node = graph.nodes[index]
        if storage[node.name] == node.name:
            live += rows[node.name].activation_bytes
        live += held[index].saved  # what it saves besides tensors: a mask, indices, autocast's copies
        peak = max(peak, live + held[index].made - held[index].saved)
        live -= sum(rows[name].activation_bytes for name, end in until.items()
                    if end == index and name not in first_saver)
    released: dict[int, int] = {}
    for name, index in first_saver.items():
        released[index] = released.get(index, 0) + rows[name].activation_bytes
    for index in range(start, last + 1):
        if held[index].saved:
            released[index] = released.get(index, 0) + held[index].saved
    return Recomputed(peak=peak, kept=sum(released.values()), released=released)


def saved_bytes(graph: Graph, report: Report, element_size: int = 4, walk: Walk | None = None) -> int:
    """Bytes autograd holds at the end of a training forward pass."""
    walk = _walk(graph, report, walk)
    rows = walk.rows
    saved = walk.training_pass(element_size)
    return sum(rows[name].activation_bytes for name in saved.first_saver) + sum(saved.extra)


def saved_bytes_by_layer(graph: Graph, report: Report) -> dict[str, int]:
    """saved_bytes per layer (the input too): the output autograd keeps of it, and the masks and
    indices it saves itself."""
    walk = Walk(graph, report)
    rows = walk.rows
    saved = walk.training_pass(_element_size(report))
    held = {name: rows[name].activation_bytes for name in saved.first_saver}
    for node, extra in zip(graph.nodes, saved.extra):
        held[node.name] = held.get(node.name, 0) + extra
    return held


def backward_peak_bytes(graph: Graph, report: Report, element_size: int = 4, walk: Walk | None = None) -> int:
    """Most activation and activation-gradient bytes alive during backward, run in reverse order.

    At the start: everything saved, the input and output the caller still holds, and the output's
    gradient. Each layer then allocates its input and parameter gradients, drops its output's
    gradient, and releases what only it still needed."""
    walk = _walk(graph, report, walk)
    rows = walk.rows
    saved = walk.training_pass(element_size)
    first_saver, extra, requires = saved.first_saver, saved.extra, saved.requires
    storage = walk.storages(True)
    outputs = tuple(dict.fromkeys(graph.returned))
    held = {storage[name] for name in outputs if storage[name] is not None} | set(graph.input_names)  # the caller's
    live = sum(rows[name].activation_bytes for name in set(first_saver) | held) + sum(extra)
    released: dict[int, list[str]] = {}  # layer index → the saved storages it is first to save
    for name, first in first_saver.items():
        if name not in held:
            released.setdefault(first, []).append(name)
    # the loss's term of each output (a mean) gives it a gradient as large as itself, every one made
    # before any layer's backward runs (autograd runs the nodes made last first); the loss runs in
    # float32 (autocast's float32 list has the losses; verify's is a mean of the output cast up), so
    # where the output is half its gradient is first a float32 one, freed once cast down
    grad_of: dict[str, int] = {}  # tensor → id of the gradient buffer it uses
    buffers: dict[int, list[int]] = {}  # id → [bytes, tensors using it]
    peak = live
    for name in outputs:
        if requires[name]:
            grad_of[name] = len(buffers)
            buffers[grad_of[name]] = [rows[name].activation_bytes, 1]
            live += rows[name].activation_bytes
            float32 = rows[name].activations * DTYPE_BYTES["float32"] if rows[name].dtype != "float32" else 0
            peak = max(peak, live + float32)
    peak = max(peak, live)
    # a tensor several layers use (a module called again, a table tied to a head) has one gradient, summed from
    # each use's as they come, that autograd keeps until its last use's backward (AccumulateGrad runs then)
    pending: dict[str, int] = {}  # layer holding tensors that later layers used → their gradient's bytes
    summing: dict[str, int] = {}  # a parameter read as a tensor by several layers → its gradient's sum's bytes
    readers = Counter(name for reader in graph.nodes for name in dict.fromkeys(reader.inputs))
    recomputed_released: dict[int, int] = {}  # layer index → what recomputations saved for it, released
    for again in saved.recomputed.values():
        for index, bytes_ in again.released.items():
            recomputed_released[index] = recomputed_released.get(index, 0) + bytes_
    for index in range(len(graph.nodes) - 1, -1, -1):
        node = graph.nodes[index]
        if node.name not in walk.feeding():  # backward never reaches it
            continue
        again = saved.recomputed.get(index)
        if again:  # its first saved tensor asked for: the checkpointed call runs again
            peak = max(peak, live + again.peak)
            live += again.kept
        gradient = _facts(node).gradient_of(node.args)
        summed = 0  # a gradient computed for a tensor that has one already, added into it, then freed
        # a join's broadcast input's gradient is computed at the output's size (grad * other), then summed
        # down to the input's by autograd (validate_outputs: sum_to), both alive then: a squeeze-and-excitation's
        # gate (a join is elementwise: an input smaller than its output is broadcast; a conv's is not)
        joins = REGISTRY[node.kind].family == "join"
        broadcast = 0
        fresh = []  # the inputs it gives their first gradient
        for position, name in enumerate(node.inputs):  # x * x: a gradient for each factor
            if not requires[name]:
                continue  # the input and what only it feeds need none
            allocated = gradient == "each input" or gradient == ("first input" if position == 0 else "after the first")
            if storage[name] is None:  # a parameter read as a tensor (d2l's x @ W_xh in a loop): its gradient is
                if allocated:  # made here, then added into .grad; read by several layers, into the sum autograd
                    grad = rows[name].activation_bytes  # keeps until the last use's backward, then AccumulateGrad's
                    if name in summing or readers[name] == 1:
                        summed += grad
                    else:
                        summing[name] = grad
                        live += grad
                continue
            if allocated and joins and rows[name].activations < rows[node.name].activations:
                broadcast += rows[node.name].activation_bytes
            if allocated and name not in grad_of:
                fresh.append(name)
                grad_of[name] = len(buffers)
                buffers[grad_of[name]] = [rows[name].activation_bytes, 1]
                live += rows[name].activation_bytes
            elif allocated:
                summed += rows[name].activation_bytes
            elif name not in grad_of and node.name in grad_of:
                grad_of[name] = grad_of[node.name]  # shares the output's gradient (or slices of it)
                buffers[grad_of[name]][1] += 1
            elif node.name in grad_of:  # a passed gradient meets the one it has: their sum is a new tensor
                entry = buffers[grad_of[name]]
                entry[1] -= 1
                live -= entry[0] if entry[1] == 0 else 0
                grad_of[name] = len(buffers)
                buffers[grad_of[name]] = [rows[name].activation_bytes, 1]
                live += rows[name].activation_bytes
        # its parameters' gradients come out of backward as new tensors beside the input's, and are
        # added into the .grad tensors the steady state keeps (AccumulateGrad), then freed; under
        # autocast it makes the gradients of the copies it cast instead, each cast to its tensor's
        # dtype by the cast's own backward once the layer has released what it saved; a layer using
        # another's weights makes gradients of their size (a module called twice, a tied head)
        cast = _casts(node, rows, walk.report.amp)
        narrowed = sum(rows[name].activation_bytes - cast.inputs[name] for name in fresh if name in cast.inputs)
        params = walk.workspace(node).gradients * element_size + _rebased_view(walk, node)
        copies = cast.weights + cast.biases if params else 0
        # the gradient later uses of its tensors left (a shared encoder's second call) meets its own: their sum is
        # a tensor of its own, beside both, before AccumulateGrad takes it
        kept = pending.get(node.name, 0) if params else 0
        peak = max(peak, live - narrowed + summed + broadcast + (copies or params) + kept)
        if node.name in grad_of:
            entry = buffers[grad_of.pop(node.name)]
            entry[1] -= 1
            live -= entry[0] if entry[1] == 0 else 0
        live -= extra[index] + sum(rows[name].activation_bytes for name in released.get(index, ())) \
            + summing.pop(node.name, 0)
        live -= recomputed_released.get(index, 0)
        live += _pending(walk, node, pending, element_size)
        cast_back = [rows[name].activation_bytes for name in fresh if name in cast.inputs]
        peak = max(peak, live - narrowed + copies + max(cast_back, default=0), live + copies + params * (copies > 0))
    return peak


def _pending(walk: Walk, node, pending: dict[str, int], element_size: int) -> int:
    """The bytes by which a layer's backward changes the gradients kept for tensors earlier layers hold (those
    of each layer whose weights it uses, from its first use on; its own, kept for it, summed and freed now)."""
    change = -pending.pop(node.name, 0)
    owner = walk.node(node.weights_of) if node.weights_of else None
    while owner is not None and owner.name in walk.feeding():
        if owner.name not in pending:
            pending[owner.name] = walk.rows[owner.name].trainable_params * element_size
            change += pending[owner.name]
        owner = walk.node(owner.weights_of) if owner.weights_of else None
    return change


def peak_activation_bytes(graph: Graph, report: Report, walk: Walk | None = None) -> int:
    """Walk the layers in order, holding each storage from its producer to its last consumer."""
    return _walk(graph, report, walk).peak_activation_bytes()


def _inference_peak(walk: Walk) -> int:
    """Under autocast, the copies of the parameters it caches (trainable ones: leaves requiring grad)
    stay to the end of the forward pass; the other copies only while their layer runs. A block torch runs
    as one kernel holds its output alone."""
    graph, rows = walk.graph, walk.rows
    blocks = fused_blocks(graph, walk.report.amp)
    fused = {node.name for nodes in blocks for node in nodes}
    inside = {node.name for nodes in blocks for node in nodes[:-1]}
    storages = {name: None if storage in inside else storage for name, storage in walk.storages(False).items()}
    storages.update({nodes[-1].name: nodes[-1].name for nodes in blocks})  # the kernel's output, a tensor of its own
    transient, cached, contiguous = [], [], _fused_outputs(graph, rows, walk.report.amp)
    for node in graph.nodes:
        if node.name in fused:
            transient.append(0)
            cached.append(0)
            continue
        row, cast = rows[node.name], _casts(node, rows, walk.report.amp)
        copies = cast.weights + cast.biases
        kept = copies if row.trainable_params else 0
        cached.append(kept)
        own = _facts(node).transient(node.args, element_bytes(row.dtype))
        transient.append(row.activations * own + sum(cast.inputs.values()) + copies - kept
                         + sum(_copied(node, rows, cast, contiguous).values())
                         + walk.workspace(node).inference * element_bytes(row.dtype) + walk.making(node))
    return _forward_peak(graph, rows, storages, kept=set(), extra=cached, transient=transient,
                         alive=walk.alive_until())


def forward_training_peak_bytes(graph: Graph, report: Report, element_size: int = 4, walk: Walk | None = None) -> int:
    """The same walk in a training forward pass: what autograd saves is not freed (nor its masks
    and indices), and the rest is, after its last consumer. A decoder's branches (upsampled and
    transposed-conv outputs feeding an add that saves nothing) are alive together here, more than
    backward ever holds."""
    walk = _walk(graph, report, walk)
    saved = walk.training_pass(element_size)
    return _forward_peak(graph, walk.rows, walk.storages(True), kept=set(saved.first_saver),
                         extra=[kept + cached for kept, cached in zip(saved.extra, saved.cached)],
                         transient=saved.unsaved, alive=walk.alive_until())


def _forward_peak(graph: Graph, rows: dict, storage: dict, kept: set, extra: list[int], transient: list[int],
                  alive: dict[str, int]) -> int:
    """Walk the layers in order, holding each storage from its producer to its last consumer, or to
    the end of a block it is passed into (Graph.alive_until), or to the end (those `kept`); the
    input, which the caller holds, and the output, returned, stay. A layer's
    `extra` bytes stay from then on, its `transient` ones (max-pool's indices in inference, a mask
    nothing saves) only while it runs."""
    # a tensor nothing reads goes as soon as it is made
    last_use = {node.name: index + 1 for index, node in enumerate(graph.nodes) if storage[node.name] == node.name}
    for name, until in alive.items():
        if storage[name] is not None:
            last_use[storage[name]] = max(last_use.get(storage[name], 0), until + 1)
    returned = [storage[name] for name in graph.returned if storage[name] is not None]
    for name in (*graph.input_names, *returned, *kept):
        last_use[name] = len(graph.nodes) + 1
    count = len(graph.nodes)
    freed = [0] * (count + 1)  # after layer i, the bytes of the storages it was the last to need
    for name, index in last_use.items():
        if index <= count:
            freed[index] += rows[name].activation_bytes
    live = sum(rows[name].activation_bytes for name in graph.input_names)
    peak = live
    for index, node in enumerate(graph.nodes, start=1):
        name = node.name
        if storage[name] == name:  # a tensor of its own
            live += rows[name].activation_bytes
        live += extra[index - 1]
        if live + transient[index - 1] > peak:
            peak = live + transient[index - 1]
        live -= freed[index]
    return peak
