"""Per-layer figures from the calculators, their totals, and collapsing blocks by depth."""
from __future__ import annotations

import math
from dataclasses import dataclass, replace

from ..errors import ErrorLog, LayerError, SpecError, quoted
from ..graph import (DTYPE_BYTES, INPUT, TOOL_FLAGS, TORCH_INT_MAX, Graph, Node, NotRun, Scope, Shape, element_bytes,
                     trainable)
from ..layers import REGISTRY
from ..layers.facts import Gradients
from ..layers.registry import format_shape
from ..record import record
from .amp import Amp, check_amp, output_dtype
from .backward import gradient_flow
from .checkpoint import Checkpointed, checkpointed, recompute_plan
from .conventions import DEFAULT, Convention, Counted, LayerOps, convention

UNCOUNTED = "uncounted"  # the kind of an operation no kind states (layers/uncounted.py)


@record
class LayerFigures:
    name: str
    kind: str
    inputs: tuple[str, ...]
    output_shape: Shape          # per sample
    weights: int
    biases: int
    params: int
    trainable_params: int
    buffers: int
    activations: int             # output elements × batch
    activation_bytes: int        # in `dtype`
    macs: int                    # × batch
    flops: int
    allocates: bool              # False: the output shares its input's memory (in-place, view)
    dtype: str = ""              # of its output: the report's, or under autocast the one it runs in
    ops: int = 0                 # operations under the report's counting convention
    backward_macs: int = 0       # × batch: of its backward pass (input, weight and bias gradients)
    backward_flops: int = 0
    backward_ops: int = 0        # the backward's operations as the convention's tool counts them (torch's);
                                 # with checkpointing, the recomputation its backward runs too
    recompute_macs: int = 0      # × batch: its forward run again in backward (a checkpointed block's)
    dropped: tuple[int, ...] = ()
    line: int | None = None
    scopes: tuple[Scope, ...] = ()
    explain: tuple[str, ...] = ()
    module: str | None = None    # the module class it runs as (imported models); a collapsed block's class
    buffer_bytes: int = 0        # its buffers', each at its dtype: the model's, a norm's num_batches_tracked int64


@dataclass(frozen=True)
class Totals:
    params: int
    trainable_params: int
    buffers: int
    param_bytes: int
    activations: int             # each allocated tensor once: the input and every non-aliasing output
    activation_bytes: int
    macs: int
    flops: int
    ops: int = 0
    buffer_bytes: int = 0        # the buffers', each at its dtype
    convention: str = DEFAULT
    uncounted: tuple[str, ...] = ()  # layers whose work no kind states: every total is a lower bound
    backward_macs: int = 0       # of `loss.backward()`, what torch skips skipped
    backward_flops: int = 0
    backward_ops: int = 0        # as the convention's tool counts a backward pass; 0 for those counting forward only
    training_step_macs: int = 0  # forward + backward (+ the recomputation of checkpointed blocks)
    training_step_flops: int = 0
    recompute_macs: int = 0      # checkpointed blocks' forward, run again in backward
    recompute_flops: int = 0


@dataclass(frozen=True)
class Report:
    model: str
    input_shape: Shape
    batch: int
    dtype: str
    layers: tuple[LayerFigures, ...]  # the input first, then the graph's nodes in order
    totals: Totals
    source: str = ""
    not_run: tuple[NotRun, ...] = ()  # held by the model, never called: in the totals, not in `layers`
    input_dtype: str | None = None  # int64 for token ids; None: floating, in `dtype`
    inputs: int = 1  # the model's inputs: the first rows of `layers`
    ran_on_cpu: str = ""  # see Graph.ran_on_cpu
    # the rows the model returns, in its order (the last row unless it says), kept whole when --depth
    # merges them into their blocks
    output_rows: tuple[LayerFigures, ...] = ()
    checkpoint: tuple[Checkpointed, ...] = ()  # the calls run through torch.utils.checkpoint
    amp: Amp | None = None  # torch.autocast's dtype and lists, the model held in `dtype` (float32)

    @property
    def node_rows(self) -> tuple[LayerFigures, ...]:
        """The rows of the graph's nodes, in its order (the inputs' rows left out)."""
        return self.layers[self.inputs:]

    @property
    def outputs(self) -> tuple[str, ...]:
        """The names of what the model returns, in its order."""
        return tuple(row.name for row in self.output_rows)


@record
class SharedFigures:
    """What every layer of one kind, with equal arguments and input shapes, has alike (whole batch)."""
    output_shape: Shape
    weights: int
    biases: int
    buffers: int
    int64_buffers: int
    activations: int
    macs: int
    allocates: bool
    ops: int
    counted: Counted             # ops as the convention's tool sums them, for the total
    backward_macs: int
    backward_ops: int
    dropped: tuple[int, ...]
    explain: tuple[str, ...]


def analyze(graph: Graph, batch: int = 1, dtype: str | None = None, explain: bool = False,
            convention_name: str = DEFAULT, checkpoint: tuple[str, ...] | list[str] = (),
            amp: Amp | None = None) -> Report:
    """Run every calculator once, in topological order, and sum the results; in the model's own dtype
    unless `dtype` is given; the blocks and layers `checkpoint` names (or globs) run through
    torch.utils.checkpoint, their forward run again in backward; under torch.autocast where `amp` says,
    each activation in the dtype its layer runs in."""
    counting = convention(convention_name)
    blocks = checkpointed(graph, checkpoint)
    dtype = dtype or graph.dtype
    if not 1 <= batch <= TORCH_INT_MAX:  # a batch is a tensor's size, which torch holds in int64
        raise SpecError(f"--batch must be at least 1 and at most 2^63 - 1, got {quoted(batch)}")
    if dtype not in DTYPE_BYTES:
        raise SpecError(f"unknown dtype '{dtype}' (choose from {', '.join(DTYPE_BYTES)})")
    check_amp(amp, dtype)
    size = DTYPE_BYTES[dtype]
    given = ((INPUT, graph.input_shape, graph.input_dtype),
             *((other.name, other.shape, other.dtype) for other in graph.other_inputs))
    rows = [_input_row(name, shape, batch, held or dtype, explain) for name, shape, held in given]
    floating = {name: held is None for name, _, held in given}  # tensor → whether autocast may cast it
    dtypes = {name: held or dtype for name, _, held in given}
    shapes = {name: shape for name, shape, _ in given}
    # Repeated blocks repeat the same kind, arguments and input shapes: each is calculated once.
    known: dict[tuple, SharedFigures] = {}
    log, failed = ErrorLog(), set()  # a layer that fails is reported; the layers it feeds are skipped
    tensors: dict[str, tuple[int, int, int]] = {}  # layer → the weights, biases and buffers it needs
    # a parameter, and what layers make of parameters alone (a position bias), is one tensor for the
    # whole batch, made once per forward pass
    once: set[str] = set()
    counted: list[Counted] = []
    # the samples a tool counts per (ptflops: the first dim of the one tensor it passes; several inputs
    # go by name, and it counts one)
    samples = 1 if graph.other_inputs else batch
    flow, requires = gradient_flow(graph), dict.fromkeys(graph.input_names, False)  # which tensors require grad
    feeding = graph.feeding()
    for node in graph.nodes:
        if failed and not failed.isdisjoint(node.inputs):
            failed.add(node.name)
            continue
        if once.issuperset(node.inputs):
            once.add(node.name)
        in_shapes = tuple([shapes[name] for name in node.inputs])
        times = 1 if node.name in once else batch
        whole = tuple([name in once for name in node.inputs])  # inputs that are one tensor for the batch
        tracked, computed = flow.through(node, requires)  # one record per distinct answer: hashed by identity
        returned = node.name in feeding
        key = (node.kind, node.args, in_shapes, node.functional, *(getattr(node, flag) for flag in TOOL_FLAGS),
               node.per_row, times, id(computed), returned, node.own_storage, node.first_dim, node.leaf_parameters,
               node.patched, node.places, whole)
        shared = known.get(key)  # args by content
        if shared is None:
            try:
                shared = known[key] = _shared(graph, node, in_shapes, times, samples, counting, explain, computed,
                                              returned, batch, whole)
            except SpecError as error:
                log.add(error)
                failed.add(node.name)
                continue
        tensors[node.name] = (shared.weights, shared.biases, shared.buffers)
        if node.weights_of and not _ties(tensors.get(node.weights_of, tensors[node.name]), tensors[node.name]):
            log.add(_untied(graph, node, tensors[node.weights_of], tensors[node.name]))
            failed.add(node.name)
            continue
        shapes[node.name] = shared.output_shape
        counted.append(shared.counted)
        requires[node.name] = flow.requires_grad(node, tracked, shared.weights, shared.biases)
        makes = REGISTRY[node.kind].makes  # a mask, whatever autocast does
        floating[node.name] = makes is None
        dtypes[node.name] = makes or output_dtype(
            node, amp, tuple(dtypes[name] for name in node.inputs if floating[name]), dtype)
        # another layer's tensors are counted where they are held; of a kind that layer holds none of, its own
        weights, biases, buffers = (mine if not node.weights_of or not theirs else 0
                                    for mine, theirs in zip(tensors[node.name], tensors[node.weights_of or node.name]))
        rows.append(LayerFigures.of({
            "name": node.name, "kind": node.kind, "inputs": node.inputs, "output_shape": shared.output_shape,
            "weights": weights, "biases": biases, "params": weights + biases,
            "trainable_params": trainable(node.frozen, weights, biases), "buffers": buffers,
            "buffer_bytes": buffers * size + (shared.int64_buffers * (element_bytes("int64") - size) if buffers else 0),
            "activations": shared.activations, "activation_bytes": shared.activations * element_bytes(dtypes[node.name]),
            "macs": shared.macs, "flops": 2 * shared.macs, "allocates": shared.allocates, "dtype": dtypes[node.name],
            "ops": shared.ops,
            "backward_macs": shared.backward_macs, "backward_flops": 2 * shared.backward_macs,
            "backward_ops": shared.backward_ops, "recompute_macs": 0, "dropped": shared.dropped, "line": node.line,
            "scopes": node.scopes,
            "explain": shared.explain, "module": node.module}))
    log.raise_errors()
    if blocks:
        rows = _recomputed(graph, rows, blocks, counting)
    totals = _totals(rows, graph.not_run, size, counting.name, Counted.total(counted, samples))
    by_name = {row.name: row for row in rows}
    return Report(model=graph.name, input_shape=graph.input_shape, batch=batch, dtype=dtype, layers=tuple(rows),
                  totals=totals, source=graph.source, not_run=graph.not_run, input_dtype=graph.input_dtype,
                  inputs=len(given), ran_on_cpu=graph.ran_on_cpu,
                  output_rows=tuple(by_name[name] for name in graph.returned), checkpoint=blocks, amp=amp)


def _recomputed(graph: Graph, rows: list[LayerFigures], blocks: tuple[Checkpointed, ...],
                counting: Convention) -> list[LayerFigures]:
    """The rows with the recomputation of checkpointed blocks: each layer run again has its forward
    MACs as recompute MACs; where the convention's tool counts backward (torch's FlopCounterMode over
    `loss.backward()`), the recomputation's work is the backward's of the layer that sets it off."""
    index = {row.name: position for position, row in enumerate(rows)}
    by_name = {row.name: row for row in rows}
    for item in recompute_plan(graph, by_name, blocks):
        again = [rows[index[node.name]] for node in graph.nodes[item.block.start:item.stop]]
        for row in again:
            rows[index[row.name]] = replace(row, recompute_macs=row.macs)
        if again and counting.counts_backward:
            trigger = index[graph.nodes[item.last].name]
            rows[trigger] = replace(rows[trigger], backward_ops=rows[trigger].backward_ops + sum(r.ops for r in again))
    return rows


def _ties(theirs: tuple[int, int, int], mine: tuple[int, int, int]) -> bool:
    """Whether a layer can use another's weights, biases and buffers: as many of each as that one holds, or,
    of a kind it holds none of, its own (a head tied to an embedding's table, its bias its own)."""
    return all(not their or my == their for their, my in zip(theirs, mine))


def _untied(graph: Graph, node: Node, theirs: tuple[int, int, int], mine: tuple[int, int, int]) -> SpecError:
    """A layer using another's weights needs as many as that one holds (a head tied to an embedding)."""
    def sizes(held: tuple[int, int, int]) -> str:
        return f"{held[0]:,} weights, {held[1]:,} biases and {held[2]:,} buffers"
    return SpecError(f"weights_of: '{node.weights_of}' holds {sizes(theirs)}; this {node.kind} has {sizes(mine)}",
                     graph.source, node.line, node.name)


def _shared(graph: Graph, node: Node, in_shapes: tuple[Shape, ...], batch: int, samples: int,
            counting: Convention, explain: bool, computed: Gradients, returned: bool,
            model_batch: int, whole: tuple[bool, ...]) -> SharedFigures:
    """One layer's figures for the whole batch (`batch`: 1 for what parameters alone make), from its
    calculator and the counting convention, whose tool may report part of a count per sample of the
    model's `samples`, and its backward's from the gradients computed through it. A layer per row runs
    on each row of its input's first dim as on a sample: its tensors once, its work per row."""
    kind = REGISTRY[node.kind]
    rows = in_shapes[0][0] if node.per_row and in_shapes and in_shapes[0] else 1
    row_shapes = tuple(s[1:] for s in in_shapes) if node.per_row else in_shapes
    try:
        if node.per_row and not in_shapes[0]:
            raise LayerError("per_row needs an input with a first dim of rows")
        calc = kind.calculate(row_shapes, node.args)
    except LayerError as error:
        used = f" (in a block used at line {node.used_at})" if node.used_at else ""
        raise SpecError(f"{error} (input {', '.join(format_shape(s) for s in in_shapes)}){used}",
                        graph.source, node.line, node.name) from None
    allocates = not kind.memory.aliases(node.args) or node.own_storage
    macs = calc.macs * batch * rows
    backward = kind.backward.work(row_shapes, node.args, calc, computed)
    backward_inputs, backward_parameters = backward.inputs * batch * rows, backward.parameters * batch * rows
    in_shape = row_shapes[0] if row_shapes else calc.output_shape  # a parameter reads no input
    layer = LayerOps.of({"kind": node.kind, "args": node.args, "in_shape": in_shape, "in_shapes": row_shapes,
                         "out_shape": calc.output_shape, "batch": batch * rows, "macs": macs,
                         "weights": calc.weights, "biases": calc.biases, "functional": node.functional,
                         **{flag: getattr(node, flag) for flag in TOOL_FLAGS},
                         "backward_inputs": backward_inputs, "backward_parameters": backward_parameters,
                         "returned": returned, "inside_hooked": node.inside_hooked, "first_dim": node.first_dim,
                         "leaf_parameters": node.leaf_parameters, "model_batch": model_batch,
                         "patched": node.patched, "places": node.places, "whole_inputs": whole})
    counted = counting.count(layer)
    output_shape = (rows, *calc.output_shape) if node.per_row else calc.output_shape
    lines = ()
    if explain:
        lines = tuple(kind.explain(row_shapes, node.args, calc) if kind.explain else ())
        lines += (f"per row: {rows} rows",) if node.per_row else ()
        lines += _backward_line(backward_inputs, backward_parameters)
        lines += _memory_line(output_shape, allocates)
    return SharedFigures.of({"output_shape": output_shape, "weights": calc.weights, "biases": calc.biases,
                             "buffers": calc.buffers, "int64_buffers": calc.int64_buffers,
                             "activations": math.prod(output_shape) * batch,
                             "macs": macs, "allocates": allocates, "ops": counted.ops(samples), "counted": counted,
                             "backward_macs": backward_inputs + backward_parameters,
                             "backward_ops": counting.backward_ops(layer),
                             "dropped": calc.dropped, "explain": lines})


def _input_row(name: str, shape: Shape, batch: int, dtype: str, explain: bool) -> LayerFigures:
    """One of the model's inputs, as the first rows show it: the tensors the caller passes in."""
    count = math.prod(shape) * batch
    size = element_bytes(dtype)
    return LayerFigures(name=name, kind=INPUT, inputs=(), output_shape=shape, weights=0, biases=0, params=0,
                        trainable_params=0, buffers=0, activations=count, activation_bytes=count * size,
                        macs=0, flops=0, allocates=True, dtype=dtype,
                        explain=_memory_line(shape, True) if explain else ())


def _memory_line(shape: Shape, allocates: bool) -> tuple[str, ...]:
    product = " × ".join(str(d) for d in shape)
    note = "" if allocates else " (shares its input's memory: in-place or a view)"
    return (f"memory: {product} = {math.prod(shape):,}{note}",)


def _backward_line(inputs: int, parameters: int) -> tuple[str, ...]:
    if not inputs + parameters:
        return ()
    return (f"backward: {inputs:,} MACs for input gradients + {parameters:,} for weight gradients = "
            f"{inputs + parameters:,}",)


def _totals(rows: list[LayerFigures], not_run: tuple[NotRun, ...], dtype_bytes: int, convention_name: str,
            ops: int) -> Totals:
    """Sums over the layers; the parameters and buffers of modules not run count too, as
    `sum(p.numel() for p in model.parameters())` counts them. `ops` is summed as the convention's tool
    sums it (ptflops: int() of the exact sum, which can exceed the rows' sum by under one per row)."""
    held = sum(n.params for n in not_run)
    params = sum(r.params for r in rows) + held
    held_trainable = held - sum(n.frozen_params for n in not_run)
    activations = sum(r.activations for r in rows if r.allocates)
    activation_bytes = sum(r.activation_bytes for r in rows if r.allocates)
    macs = sum(r.macs for r in rows)
    backward = sum(r.backward_macs for r in rows)
    recompute = sum(r.recompute_macs for r in rows)
    return Totals(params=params, trainable_params=sum(r.trainable_params for r in rows) + held_trainable,
                  buffers=sum(r.buffers for r in rows) + sum(n.buffers for n in not_run),
                  buffer_bytes=sum(r.buffer_bytes for r in rows) + sum(n.buffers for n in not_run) * dtype_bytes,
                  param_bytes=params * dtype_bytes, activations=activations,
                  activation_bytes=activation_bytes, macs=macs, flops=2 * macs, ops=ops,
                  convention=convention_name, uncounted=tuple(r.name for r in rows if r.kind == UNCOUNTED),
                  backward_macs=backward, backward_flops=2 * backward, backward_ops=sum(r.backward_ops for r in rows),
                  training_step_macs=macs + backward + recompute,
                  training_step_flops=2 * (macs + backward + recompute),
                  recompute_macs=recompute, recompute_flops=2 * recompute)


def collapse(report: Report, depth: int) -> Report:
    """Merge every block nested deeper than `depth` into one row with summed figures (like torchinfo)."""
    if depth < 1:
        raise SpecError(f"--depth must be at least 1, got {depth}")
    rows: list[LayerFigures] = []
    for row in report.layers:
        if len(row.scopes) < depth:
            rows.append(row)
            continue
        scope = row.scopes[depth - 1]
        if rows and rows[-1].name == scope.name:
            rows[-1] = _merge(rows[-1], row)
        else:
            rows.append(replace(row, name=scope.name, kind=scope.kind, module=scope.kind, scopes=row.scopes[:depth - 1],
                                activations=row.activations if row.allocates else 0,
                                activation_bytes=row.activation_bytes if row.allocates else 0,
                                allocates=True, explain=()))
    return replace(report, layers=tuple(rows))


def block_rows(report: Report) -> dict[str, LayerFigures]:
    """Every block's summed row, by name, from collapsing at its own level (deeper blocks fold into
    it): the outermost blocks first, each level in the order the blocks run."""
    levels = max((len(row.scopes) for row in report.layers), default=0)
    found: dict[str, LayerFigures] = {}
    for level in range(1, levels + 1):
        names = {row.scopes[level - 1].name for row in report.layers if len(row.scopes) >= level}
        found |= {row.name: row for row in collapse(report, level).layers
                  if row.name in names and len(row.scopes) == level - 1}
    return found


def _merge(block: LayerFigures, row: LayerFigures) -> LayerFigures:
    kept = row.allocates
    return replace(
        block, output_shape=row.output_shape, weights=block.weights + row.weights,
        biases=block.biases + row.biases, params=block.params + row.params,
        trainable_params=block.trainable_params + row.trainable_params,
        buffers=block.buffers + row.buffers, buffer_bytes=block.buffer_bytes + row.buffer_bytes,
        activations=block.activations + (row.activations if kept else 0),
        activation_bytes=block.activation_bytes + (row.activation_bytes if kept else 0),
        macs=block.macs + row.macs, flops=block.flops + row.flops, ops=block.ops + row.ops,
        backward_macs=block.backward_macs + row.backward_macs, backward_flops=block.backward_flops + row.backward_flops,
        backward_ops=block.backward_ops + row.backward_ops, recompute_macs=block.recompute_macs + row.recompute_macs,
        dropped=block.dropped if any(block.dropped) else row.dropped)
