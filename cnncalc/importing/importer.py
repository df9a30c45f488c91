"""Import a PyTorch model: run it and record what it does (tracing.py, capture.py), read the graph
(traced.py) and map each step to the layers of a Graph.

Modules, torch functions and tensor methods map to kinds through the forms each kind declares in
its registration. Anything else is listed by name in the error, never counted as zero.
"""
from __future__ import annotations

import bisect
import string
import sys
from collections import Counter
from dataclasses import dataclass, field, replace
from functools import lru_cache
from itertools import chain

import torch
from torch import nn
from torch.nn.modules.lazy import LazyModuleMixin
from torch.nn.parameter import UninitializedTensorMixin
from torch.nn.utils import parametrize
from torch.nn.utils.spectral_norm import SpectralNorm
from torch.nn.utils.weight_norm import WeightNorm

from ..collector import collected_after
from ..errors import LayerError, SpecError
from ..graph import DTYPE_BYTES, INPUT, TOOL_FLAGS, Graph, LeafParameter, Node, NotRun, OtherInput, part_of
from ..layers import REGISTRY
from ..figures.conventions import PTFLOPS_HOOKED_WHOLE, PTFLOPS_PATCHED
from ..layers.facts import NN, F
from ..layers.rearrange import BATCH
from ..layers.registry import format_shape
from .capture import LayerFails, Recorded, Step
from .forms import call_arguments, calls_of, forms, multiplies, resolve
from .sites import Sites
from .traced import (BATCHED, COMPUTED, FIRST_DIM, ROWS, SEQUENCE_FIRST, Traced, Unmappable, each_sample_at,
                     first_shape, given, given_value, held_weights, index_tensors, indexed_by, piece_of, picked_along,
                     read_graph,
                     restated, returned_beside, returns_several, stated, storage_of, target_name, unstacked)
from .tracing import PROBE_BATCH, trace, user_line, where_it_stops


def read_module(module: nn.Module, name: str, input_shape: tuple[int, ...], source: str,
                input_dtype: str | None = None, others: tuple[OtherInput, ...] = (),
                data_dependent: bool = False) -> Graph:
    """The Graph of a module read at its input (and forward()'s other inputs, by name), its nodes in the
    order the run made them, each with the modules it runs inside and what only the run shows of it; a
    `data_dependent` one from one run on one seeded sample (tracing.trace). The run is Python's own, its
    cycle collector included (a tensor in a cycle dies when it collects); the mapping after it holds the
    collector off."""
    try:
        run = trace(module, input_shape, input_dtype, others, data_dependent)
    except SpecError as error:
        raise SpecError(f"{name}: {error.message}", source) from None
    except LayerFails as failed:
        shapes = ", ".join(format_shape(shape) for shape in failed.inputs)
        raise SpecError(f"{failed.message} (input {shapes})", source, Sites(module, source).built(failed.path),
                        failed.path) from None
    except Exception as error:  # the model's own error at this input, on the CPU as on the meta device
        failed = SpecError(f"{name} fails at this input{user_line(error)}: {type(error).__name__}: "
                           f"{(str(error).splitlines() or [''])[0][:200]}{_ids_hint(error, input_shape, input_dtype)}",
                           source)
        if data_dependent:
            raise failed from None
        why = f"one sample: at a batch of {PROBE_BATCH} forward() fails{where_it_stops(error)}"
    else:
        try:
            with collected_after():
                return _mapped(run, module, name, input_shape, source, input_dtype, others)
        except MixesSamples as error:
            failed, why = error, f"one seeded sample, as {error.message}"
        except SpecError as error:
            if run.on_cpu is None or run.batch == 1:
                raise
            failed, why = error, (f"one seeded sample, as at a batch of {PROBE_BATCH} the data mixes the samples (a "
                                  "mixture of experts' tokens sorted by expert): another sample gives other figures")
    return _one_sample(module, name, input_shape, source, input_dtype, others, failed, why)


def _one_sample(module: nn.Module, name: str, input_shape: tuple[int, ...], source: str, input_dtype: str | None,
                others: tuple[OtherInput, ...], failed: SpecError, why: str) -> Graph:
    """A model whose batch of two fails (a decoder's classifier finding each sequence's last token with no padding
    token to find it by) or, on the CPU, mixes the samples in its data (a mixture of experts sorting the batch's
    tokens by their expert), read from one seeded sample, as a peer given a batch of one runs it; or the batch's
    error."""
    try:
        one = replace(trace(module, input_shape, input_dtype, others, data_dependent=True), on_cpu=why)
        with collected_after():
            return _mapped(one, module, name, input_shape, source, input_dtype, others)
    except Exception:  # noqa: BLE001 (one sample fails too: the error is the batch's)
        raise failed from None


def _ids_hint(error: Exception, input_shape: tuple[int, ...], input_dtype: str | None) -> str:
    """What to give a model that looks its float input up in an embedding table (a text model given a shape
    alone): token ids."""
    looked_up = isinstance(error, RuntimeError) and "'indices'" in str(error) and input_dtype is None
    return f"; give token ids: --input {'x'.join(map(str, input_shape))}:int64, or input_dtype=torch.long in " \
        "Python" if looked_up else ""


def _mapped(run, module: nn.Module, name: str, input_shape: tuple[int, ...], source: str, input_dtype: str | None,
            others: tuple[OtherInput, ...]) -> Graph:
    """The Graph of a run: its steps mapped to layers, with what the whole run shows of them."""
    graph = read_graph(run.recorded, run.values, tuple(other.name for other in others), run.batch)
    layers = _Layers(graph=graph, sites=Sites(module, source), source=source,
                     hooked_whole=_hooked_whole(run.recorded.modules), places=_places(module))
    for node in run.recorded.steps:
        if _is_row(node, graph):
            layers.add(node)
    if layers.unmapped:
        raise _refusal(layers.unmapped, graph.modules, name, source)
    if not layers.fields:
        raise SpecError(f"{name}: forward() runs no layer on its input", source)
    nodes = layers.nodes(_held_through(run.died, graph, layers.made))
    returned = _returned(run.recorded, graph, name, source)
    held = _not_run(run.held, run.recorded, graph.absorbed, layers.emitted) \
        | _parametrized(run.recorded.modules, layers.emitted) | _replaced(run.held, run.replaced)
    return Graph(name=name, input_shape=tuple(input_shape), nodes=nodes, source=source,
                 description=f"Imported from {source} by running it {_where(run)}.",
                 not_run=tuple(NotRun(name=path, **counts) for path, counts in held.items()),
                 dtype=_own_dtype(run.held), input_dtype=input_dtype, other_inputs=others, ran_on_cpu=run.on_cpu or "",
                 outputs=tuple(returned) if returned != [nodes[-1].name] else ())


def _is_row(node, graph: Traced) -> bool:
    """Whether a step is a row of the table, a layer or more. Not: forward()'s inputs and output, a step nothing reads
    (x, _ = f(x)) but what a module returned beside its output that a local holds (y, _ = self.attn(x, x, x): its
    weights, alive until forward() returns), sizes, checks, pieces, a layer's weights, steps of reshaping one. A module whose
    output nobody reads is a layer still, and so is a product: torch runs it (MiniMax's attention state for a
    cache it is not given)."""
    return node.op not in ("placeholder", "output") and (graph.users_of(node) or node.op == "call_module"
                                                         or multiplies(node) or held_weights(node, graph)) \
        and graph.is_layer(node) and not graph.same_as_source(node) and node.name not in graph.absorbed \
        and not graph.inside_constant(node) and unstacked(node, graph) is None


@dataclass(kw_only=True)
class _Layers:
    """The layers of the steps mapped so far, in the run's order, as Node fields (what only the whole run
    shows is added by `nodes`), and what the mapping notes on the way."""
    graph: Traced
    sites: Sites
    source: str
    fields: list[dict] = field(default_factory=list)
    unmapped: list[Step] = field(default_factory=list)  # steps no kind states and no row can show
    emitted: set[str] = field(default_factory=set)  # modules and calls mapped
    holders: dict[int, str] = field(default_factory=dict)  # tensor id → the layer that first held it
    holdings: dict[str, tuple] = field(default_factory=dict)  # a layer holding tensors → (a call's kind, their ids)
    made: list[tuple[int, str]] = field(default_factory=list)  # per mapped step: (its Step.made, its last layer)
    hooked_whole: set[str] = field(default_factory=set)  # the modules ptflops hooks as a whole (_hooked_whole)
    fused: dict[str, bool] = field(default_factory=dict)  # module path → whether torch runs it fused (_runs_fused)
    calls: dict[int, str] = field(default_factory=dict)  # a fused call's Scope, by id → its block (_fused_block)
    places: Counter = field(default_factory=Counter)  # id(module) → the places of the module tree holding it

    def add(self, node: Step) -> None:
        """The layers of one step, as its mapper says (_entry), else one row not counted."""
        graph = self.graph
        entries = _entry(node, graph)
        entries = _uncounted_entry(node, graph) if entries is None else entries
        if entries is None:
            self.unmapped.append(node)
            return
        entries = graph.with_users_rank(node, entries if isinstance(entries, list) else [entries])
        read = graph.tensor_args(node)
        self.emitted.add(node.target if node.op == "call_module" else node.name)
        inside = graph.scopes(node)
        line = self.sites.built(node.target) if node.op == "call_module" \
            else self.sites.called(inside[-1].name if inside else "")
        reads = [graph.name_of(a) for a in read] or [self.fields[-1]["name"] if self.fields else INPUT]
        facts = {"frozen": _frozen(node, graph), "line": line, "scopes": inside,
                 "inside_hooked": any(scope.name in self.hooked_whole for scope in inside),
                 "fused_block": self._fused_block(inside)}
        first = len(self.fields)
        for step, entry in enumerate(entries, start=1):
            last = step == len(entries)
            self.fields.append(self._layer(node, entry, reads, last, step, **facts))
            reads = [self.fields[-1]["name"]]
        self.fields[first]["leaf_parameters"] = _leaf_parameters(node, graph, entries[0])
        self.made.append((node.made, reads[0]))
        self.fields[-1].update(_observed(node, graph, entries[-1], read))

    def _layer(self, node: Step, entry: dict, reads: list[str], last: bool, step: int, **facts) -> dict:
        """The Node fields of one layer of a step: its last (named for the step, holding its module), or a
        part before it (`add_3.part1`)."""
        kind = next(key for key in entry if key in REGISTRY)
        layer, graph = REGISTRY[kind], self.graph
        args = layer.normalize(_as_written(node, kind, entry[kind]) or {})
        given = entry.get("from", reads)
        inputs = tuple(given) if isinstance(given, list) else (given,)
        inputs = inputs if "from" in entry or layer.reads_unless_told(args) else ()
        name = graph.named(node) if last else _part(node, step)
        wrong = layer.wrong_inputs(args, len(inputs))
        if wrong:  # what the mapper made of the step is no layer of its kind: cnncalc's own fault
            raise SpecError(f"the import made {name} a {kind} that {wrong}, got {len(inputs)}", self.source,
                            facts["line"], name)
        functional = entry.get("functional", False)
        flags = {**_as_patches_see_it(node, kind), **({} if functional else _as_hooks_see_it(node, graph, kind))}
        module = node.op == "call_module" and last
        return {"name": name, "kind": kind, "args": args, "inputs": inputs, "used_at": None, "functional": functional,
                "weights_of": _holder(node, graph, self, name, kind) if last else None,
                "per_row": entry.get("per_row", False),
                "module": type(graph.modules[node.target]).__name__ if module else None,
                "places": self.places[id(graph.modules[node.target])] if module else 1,
                **{flag: flags.get(flag, False) for flag in TOOL_FLAGS}, **facts,
                "held_through": None, "copied": (), "own_storage": False, "making": 0, "first_dim": "batch",
                "leaf_parameters": (), "patched": node.op in ("call_function", "call_method") and node.through_patched}

    def _fused_block(self, inside: tuple) -> str | None:
        """The call of the outermost module the step runs in that torch runs, in inference, as one fused kernel,
        if any: the model itself, named by its class; else the module's path and which of its calls (a layer
        called twice is two kernels; each call's run has a Scope of its own)."""
        if self._fused(""):
            return type(self.graph.modules[""]).__name__
        scope = next((scope for scope in inside if self._fused(scope.name)), None)
        if scope is None:
            return None
        return self.calls.setdefault(id(scope), f"{scope.name}#{len(self.calls)}")

    def _fused(self, path: str) -> bool:
        """_runs_fused of the module at `path`, asked once."""
        if path not in self.fused:
            self.fused[path] = _runs_fused(self.graph.modules[path])
        return self.fused[path]

    def nodes(self, held_through: dict[str, str]) -> tuple[Node, ...]:
        return tuple(Node.of(layer | ({"held_through": held_through[layer["name"]]} if layer["name"] in held_through
                                      else {})) for layer in self.fields)


def _runs_fused(module: nn.Module) -> bool:
    """Whether torch runs the module, in inference, as one fused kernel: nn.TransformerEncoderLayer (or a subclass
    keeping its forward()), where its why_not_sparsity_fast_path lets it (attention batch first, with in_proj's
    bias, on one embedding size and an even number of heads; activation relu or gelu; norms of one eps; no hooks
    on it or inside)."""
    layer = nn.TransformerEncoderLayer
    if not isinstance(module, layer) or type(module).forward is not layer.forward:
        return False
    attention = module.self_attn
    return attention.batch_first and attention.in_proj_bias is not None and attention._qkv_same_embed_dim \
        and attention.num_heads % 2 == 0 and bool(module.activation_relu_or_gelu) \
        and module.norm1.eps == module.norm2.eps \
        and not any(part._forward_hooks or part._forward_pre_hooks for part in module.modules())


def _hooked_whole(modules: dict) -> set[str]:
    """The modules ptflops hooks as a whole, by path (PTFLOPS_HOOKED_WHOLE names their classes as ptflops
    imports them; a library not imported made no module of the model's)."""
    classes = {getattr(sys.modules.get(owner), name, None)
               for owner, _, name in (path.rpartition(".") for path in PTFLOPS_HOOKED_WHOLE)} - {None}
    return {path for path, module in modules.items() if type(module) in classes} if classes else set()


def _places(root: nn.Module) -> Counter:
    """id(module) → how many places of the module tree hold it, as thop's and ptflops' sums walk the tree
    (each parent's children once, a module's count taken in each place)."""
    places, stack = Counter(), [root]
    while stack:
        module = stack.pop()
        places[id(module)] += 1
        stack.extend(module.children())
    return places


def _observed(node: Step, graph: Traced, entry: dict, read: list) -> dict:
    """What the run shows of a step's last layer: the inputs its torch call copied (Node.copied), whether
    a view was made anew (Node.own_storage), what a constant's making holds (Node.making), what its
    output's first dim holds (Node.first_dim), whether its batch is dim 1 (Node.batch_second)."""
    kind = REGISTRY[next(iter(entry))]
    facts = {"own_storage": _made_anew(node, graph, entry, read)}
    if node.name in graph.without_input and graph.sized_by_batch(node):
        facts["making"] = graph.making(node)
    # torchinfo reads a module's own output (a function's weights' module may return another tensor: GPT-2's
    # Conv1D views its addmm's rows back to (B, L, nf)); a layer per row runs on rows as on samples
    if node.op == "call_module" and not entry.get("per_row") and graph.shape(node):
        facts["first_dim"] = FIRST_DIM.get(graph.layout(node), "batch")
    if graph.layout(node) == SEQUENCE_FIRST:
        facts["batch_second"] = True
    if kind.memory.copies is not None:  # which inputs torch copied, by the strides the run gave them
        values = [graph.values[a.name] for a in read]
        copies = kind.memory.copies(tuple((tuple(value.shape), value.stride()) for value in values))
        facts["copied"] = tuple(graph.name_of(a) for a, copy in zip(read, copies) if copy)
    return facts


def _leaf_parameters(node, graph: Traced, entry: dict) -> tuple[LeafParameter, ...]:
    """The parameters a step's first layer counts that a module no kind states holds, one with no modules
    inside that ran (graph.LeafParameter): a call's weights (GPT-2's torch.addmm on its Conv1D's), a
    parameter read, or those a constant is made from (Swin's relative position bias table)."""
    if node.op == "call_module":
        return ()
    found = []
    reads = entry[PARAMETERS_READ] if PARAMETERS_READ in entry else graph.weights_read(node)
    for read in reads:
        owner, name = _holding_module(node, graph, read)
        output = graph.recorded.leaf_outputs.get(owner)
        tensor = graph.attribute(read)
        if output is None or not isinstance(tensor, nn.Parameter):
            continue
        # made without the input and not sized by the batch (a bias table's (1, heads, N, N)): the same at any batch
        alone = output.name in graph.without_input and not graph.sized_by_batch(output)
        shape = graph.shape(output) if alone else graph.sample_shape(output)
        if shape is not None:
            found.append(LeafParameter(name=name, numel=tensor.numel(), module=type(graph.modules[owner]).__name__,
                                       output=shape, first_dim="own" if alone
                                       else FIRST_DIM.get(graph.layout(output), "batch")))
    return tuple(found)


PARAMETERS_READ = "parameters_read"  # an entry's get_attr steps whose tensors it counts, where no call takes them


def _holding_module(node, graph: Traced, read) -> tuple[str, str]:
    """The module holding a parameter a step reads, and the parameter's name there: the innermost module
    the step runs in that holds it itself (a table tied across modules is each one's: BART's encoder and
    decoder embeddings, each run), else the module its first path names."""
    tensor = graph.attribute(read)
    for scope in reversed(graph.scopes(node)):
        module = graph.modules.get(scope.name)
        name = next((name for name, held in module._parameters.items() if held is tensor), None) \
            if module is not None else None
        if name is not None:
            return scope.name, name
    owner, _, name = read.target.rpartition(".")
    return owner, name


def _made_anew(node, graph: Traced, entry: dict, read: list) -> bool:
    """Whether a function or method call its kind says is a view of its first input (or that input itself),
    of the tensors it `read`, made storage of its own in the run: torch copied instead (reshape,
    contiguous), or cast to another dtype. (A module the capture answered from its kind's calculator was
    not run.)"""
    kind = REGISTRY[next(iter(entry))]
    if node.op == "call_module" or not read \
            or not kind.memory.aliases({**kind.defaults, **(next(iter(entry.values())) or {})}):
        return False
    made, source = graph.values.get(node.name), graph.values.get(read[0].name)
    return isinstance(made, torch.Tensor) and isinstance(source, torch.Tensor) \
        and storage_of(made) != storage_of(source)


def _held_through(died: dict[str, int], graph: Traced, made: list[tuple[int, str]]) -> dict[str, str]:
    """Each layer whose tensor forward()'s Python holds past a later layer (a local it reads no more,
    StarNet's x1 to the end of its block) → the last layer it is alive through: the last one made
    before it died."""
    clocks = [clock for clock, _ in made]
    position = {name: index for index, (_, name) in enumerate(made)}
    held: dict[str, str] = {}
    for node, clock in died.items():
        name = graph.made.names.get(node)
        through = bisect.bisect_right(clocks, clock) - 1
        if name in position and through > max(position[name], position.get(held.get(name), -1)):
            held[name] = made[through][1]
    return held


def _returned(recorded: Recorded, graph: Traced, name: str, source: str) -> list[str]:
    """The layers whose tensors forward() returns, in the order of its tuple, list or dict, each once.
    A returned tensor with no elements that is no layer is refused: the table would show another
    row's shape as the output."""
    found, stack = [], [recorded.steps[-1].args[0]]  # the output's
    while stack:
        value = stack.pop(0)
        if isinstance(value, dict):
            stack[:0] = list(value.values())
        elif isinstance(value, (tuple, list)):
            stack[:0] = list(value)
        elif isinstance(value, Step) and value.name in graph.made.names:
            found += [graph.made.names[value.name]] if graph.made.names[value.name] not in found else []
        elif isinstance(value, Step) and _empty(graph.values.get(value.name)):
            shape = graph.sample_shape(value)
            raise SpecError(f"{name} returns a tensor with no elements ({target_name(value)}, "
                            f"{format_shape(graph.shape(value) if shape is None else shape)} per sample) "
                            "that cnncalc reads as no layer", source)
    return found


def _empty(value) -> bool:
    return isinstance(value, torch.Tensor) and value.numel() == 0


def _where(run) -> str:
    return f"on the CPU on random data (the meta device could not: {run.on_cpu})" if run.on_cpu \
        else "on the meta device"


def _own_dtype(held: dict) -> str:
    """The model's dtype: its floating parameters' where all are one dtype cnncalc sizes (a .half()
    module's float16), else float32."""
    found = {str(p.dtype).removeprefix("torch.") for p in held.values()
             if isinstance(p, nn.Parameter) and p.is_floating_point()}
    return found.pop() if len(found) == 1 and found <= set(DTYPE_BYTES) else "float32"


@lru_cache(maxsize=None)
def _torch_nn_classes(kind: str) -> tuple[type, ...]:
    """The torch.nn classes a kind is: its module's, and those its aliases name."""
    forms = REGISTRY[kind].torch
    return tuple(resolve(path) for path in (forms.module, *(alias.path for alias in forms.aliases)) if path.startswith(NN))


def _as_hooks_see_it(node, graph: Traced, kind: str) -> dict:
    """What tools that hook modules see of a layer (Node.unhooked, Node.held_apart): the module that
    runs it, else the one whose tensors the function called takes as its weights (BatchNormAct2d's
    F.batch_norm; Swin's F.linear on its qkv's weight, a module never called). Only of kinds that
    are a torch.nn class (or name one as an alias): the tools have no rule for the others."""
    classes = _torch_nn_classes(kind)
    if not classes:
        return {}
    if node.op == "call_module":
        module, ran = graph.modules[node.target], True
        exact = _sized_class(module) in classes
    else:
        owners = [a.target.rpartition(".")[0] for a in graph.weights_read(node)]
        module, exact = graph.modules.get(owners[0]) if owners else None, False
        ran = bool(owners) and owners[0] in {scope.name for scope in graph.scopes(node)}
    apart = module is not None and (not ran or next(module.children(), None) is not None)
    return {**({} if exact else {"unhooked": True}), **({"held_apart": True} if apart else {})}


def _sized_class(module: nn.Module) -> type:
    """A module's class as tools that hook modules by class meet it: a lazy module's (nn.LazyConv2d), the one its
    first call makes it (nn.Conv2d), as it is after the pass that sizes it, which they need to count it at all."""
    becomes = module.cls_to_become if isinstance(module, LazyModuleMixin) else None
    return becomes or type(module)


def _as_written(node, kind: str, args: dict | None) -> dict | None:
    """A kind's `operator` argument (x @ y, x * y, x + y) as the run read it: written so, or a call by a
    name ptflops patches (torch.matmul, x.mul(y)), which torch passes on as the same call."""
    defaults = REGISTRY[kind].defaults
    if "operator" not in defaults or node.op not in ("call_function", "call_method"):
        return args
    written = not node.through_patched  # (Step.through_patched)
    rest = {key: value for key, value in (args or {}).items() if key != "operator"}
    return {**rest, **({"operator": written} if written != defaults["operator"] else {})} or None


def _as_patches_see_it(node, kind: str) -> dict:
    """What ptflops' patches of torch.nn.functional see of a function call (Node.unpatched): of a kind
    whose function it patches, a call that reached it another way (torch.relu, x.softmax(), a reference
    taken before the patch: transformers' GELUActivation) it does not count."""
    if node.op not in ("call_function", "call_method") or node.through_patched:
        return {}
    return {"unpatched": True} if any(call.path in _PATCHED_PATHS for call in REGISTRY[kind].torch.functions) else {}


# and torch.baddbmm, which it patches as a function only (the other tensor ops say how they were called by
# their `operator` argument)
_PATCHED_PATHS = frozenset(F + name for name in PTFLOPS_PATCHED) | {"torch.baddbmm"}


def _holder(node, graph: Traced, layers: "_Layers", name: str, kind: str) -> str | None:
    """The earlier layer that holds tensors this layer, named `name`, holds too, or None: for a module, the same
    module called again, one whose weights are tied to it; for a call given its weights, a call of its kind given
    the same (BART's encoder and decoder embeddings, F.embedding on one shared table). A layer holding all of
    another's tensors and more of its own names it too (a head given an embedding's table, its bias its own:
    BERT's decoder, F.linear(x, wte.weight, bias)). A row not counted counts what it reads once by itself
    (Made.counted)."""
    if node.op == "call_module":
        module, name, kind = graph.modules[node.target], node.target, None
        held = frozenset(id(tensor) for tensor in (*_held(module, "_parameters"), *_held(module, "_buffers")))
    elif kind == "uncounted":
        return None
    else:
        held = frozenset(id(graph.attribute(read)) for read in graph.weights_read(node) if read.op == "get_attr")
    owners = {layers.holders[tensor] for tensor in held if tensor in layers.holders}
    again = next((owner for owner in owners if layers.holdings[owner] == (kind, held)), None)
    owner = again or (owners.pop() if len(owners) == 1 else None)
    for tensor in held:
        layers.holders.setdefault(tensor, name)
    layers.holdings.setdefault(name, (kind, held))
    return owner if owner is not None and (again or layers.holdings[owner][1] <= held) else None


def _held(module: nn.Module, where: str) -> list:
    """A module's parameters (where="_parameters") or buffers ("_buffers"), each once, as parameters()
    and buffers() give them: those of a module with no children read from its own dict, a tenth of
    their cost."""
    if module._modules:
        return list(module.parameters() if where == "_parameters" else module.buffers())
    return list({id(tensor): tensor for tensor in getattr(module, where).values() if tensor is not None}.values())


def _not_run(tensors: dict, recorded: Recorded, absorbed: set, emitted: set) -> dict[str, dict]:
    """The parameters and buffers no layer reaches, by the outermost module holding only such: googlenet's
    aux1, never called, or a final norm whose output nobody reads. {path: {params, buffers, ...}}, so
    the totals count every tensor the model holds, frozen ones as frozen."""
    called = {node.target for node in recorded.steps if node.op == "call_module" and node.target in emitted}
    # a module of a class a kind states whose weights a function took (BatchNormAct2d's F.batch_norm) counts
    # as called: the layer holds its num_batches_tracked too; another's tensors count as read or not (I-BERT's
    # QuantEmbedding gives F.embedding its weight, and its integer copy of it is never read)
    taken = {node.target.rpartition(".")[0] for node in recorded.steps if node.name in absorbed and "." in node.target}
    of_kinds = {owner for owner in taken if _of_a_stated_class(recorded.modules.get(owner))}
    called |= of_kinds
    ran = {node.target for node in recorded.steps if node.op == "call_module"}
    # read by a step kept: not by work on it nothing reads (D-FINE's weighting of its unused box corners), whose
    # output is unused as a module's nobody reads is
    read = {node.target for node in recorded.steps if node.op == "get_attr" and node.name in recorded.users}
    read_for_nothing = {node.target for node in recorded.steps if node.op == "get_attr"} - read
    inside_called = _inside(called)
    used = {name for name in tensors if name in read or inside_called(name)}
    if len(used) < len(tensors):  # held under another path too (LED's shared table, its embeddings' weight)
        parts = [recorded.modules[path] for path in called if path in recorded.modules]
        ids = {id(tensor) for part in parts for tensor in (*_held(part, "_parameters"), *_held(part, "_buffers"))}
        used |= {name for name, tensor in tensors.items() if id(tensor) in ids}
    reached = {*used, *_modules_above(used)}
    held: dict[str, dict] = {}
    for name in sorted(set(tensors) - used):
        owner = next(path for path in (*(name[:index] for index in _dots(name)), name) if path not in reached)
        if isinstance(tensors[name], UninitializedTensorMixin):
            raise SpecError(f"{owner}: a lazy module ({type(recorded.modules[name.rpartition('.')[0]]).__name__}) "
                            "that forward() never calls at this input, so it has no size, nor have its parameters")
        counts = held.setdefault(owner, {"params": 0, "buffers": 0})
        _count_into(counts, tensors[name])
        if owner in ran or owner in read_for_nothing:
            counts["why"] = "output unused"
        elif _inside(taken - of_kinds)(name):
            counts["why"] = "not read"
    return held


def _of_a_stated_class(module: nn.Module | None) -> bool:
    """Whether a module is of a class a kind states, or a subclass of one (timm's BatchNormAct2d)."""
    return module is not None and any(cls in forms().modules for cls in type(module).__mro__)


def _dots(path: str):
    """Where each dot of a path is: path[:i] for each is a module above what it names."""
    index = path.find(".")
    while index != -1:
        yield index
        index = path.find(".", index + 1)


def _inside(modules: set):
    """Whether a tensor's path is under one of these modules' (by path; the root's is "" and holds none),
    each module's answer found once (a model's tensors are several to a module)."""
    found = {"": False}

    def under(path: str) -> bool:  # a module's path
        if path not in found:
            parent = path.rpartition(".")[0]
            found[path] = path in modules or under(parent)
        return found[path]
    return lambda path: under(path.rpartition(".")[0])


def _modules_above(paths) -> set[str]:
    """The module paths above these tensors' paths (path[:i] at each dot), each module's own found once."""
    above: set[str] = set()
    for owner in {path.rpartition(".")[0] for path in paths}:
        while owner and owner not in above:
            above.add(owner)
            owner = owner.rpartition(".")[0]
    return above


def _parametrized(modules: dict, emitted: set) -> dict[str, dict]:
    """What a parametrized layer holds beyond the tensor it computes (weight_norm's magnitudes,
    spectral_norm's power-iteration vectors): its kind counts the computed weight, the model holds
    the originals."""
    held: dict[str, dict] = {}
    for path, part in modules.items():
        if path not in emitted:
            continue
        for tensor_name, where, originals in _originals(part):
            counts = {"params": 0, "buffers": 0, "why": "parametrization"}
            for tensor in originals:
                _count_into(counts, tensor)
            computed = getattr(part, tensor_name)
            counts["params"] -= computed.numel()  # counted by the layer's kind
            if not any(tensor.requires_grad for tensor in originals if isinstance(tensor, nn.Parameter)):
                # every original frozen: the layer counts the computed one so
                counts["frozen_params"] -= computed.numel()
            if counts["params"] < 0:
                raise SpecError(f"{path}.{tensor_name}: a parametrization holding fewer parameters than the "
                                "tensor it computes is not supported")
            held[f"{path}.{where}"] = counts
    return held


def _originals(part: nn.Module):
    """Each tensor a module computes from others it holds: (its name, where the others are, the others), by
    torch.nn.utils.parametrizations (submodules) or by the older weight_norm and spectral_norm, a hook before
    forward() computing `weight` from `weight_g` and `weight_v` (`weight_orig`, `weight_u`, `weight_v`)."""
    # is_parametrized asked only of a module holding some (its getattr fails, slowly, on every other)
    if "parametrizations" in part._modules and parametrize.is_parametrized(part):
        for tensor_name, parametrization in part.parametrizations.items():
            yield tensor_name, f"parametrizations.{tensor_name}", [*parametrization.parameters(),
                                                                   *parametrization.buffers()]
    for hook in part._forward_pre_hooks.values() if part._forward_pre_hooks else ():
        if isinstance(hook, (WeightNorm, SpectralNorm)):
            yield hook.name, hook.name, [tensor for key, tensor in (*part._parameters.items(), *part._buffers.items())
                                         if key.startswith(f"{hook.name}_") and tensor is not None]


def _replaced(held: dict, replaced: tuple[str, ...]) -> dict[str, dict]:
    """The buffers forward() assigns anew, sized by the input (ConViT's rel_indices): counted as the
    model holds them, before the run and after it (the run leaves the module as it was), as
    sum(b.numel() for b in model.buffers()) counts them; what the run made in their place is no
    tensor the model holds."""
    return {name: {"params": 0, "buffers": held[name].numel(), "why": "replaced by forward()"} for name in replaced}


def _count_into(counts: dict, tensor) -> None:
    kind = "params" if isinstance(tensor, nn.Parameter) else "buffers"
    counts[kind] += tensor.numel()
    if kind == "params" and not tensor.requires_grad:
        counts["frozen_params"] = counts.get("frozen_params", 0) + tensor.numel()


def _frozen(node, graph: Traced) -> bool | str:
    """Which of the layer's parameters are frozen (requires_grad=False), getting no gradient and no optimizer
    state: all (True), its weights or its biases alone (graph.FROZEN_PARTS: BitFit trains the biases), or none."""
    trained = _trained(node, graph)
    if all(requires_grad for _, requires_grad in trained):  # most layers: every parameter trains, or none held
        return False
    trains: dict[str, set[bool]] = {}  # a part of the layer's parameters → whether each of them trains
    for name, requires_grad in trained:
        trains.setdefault(part_of(name), set()).add(requires_grad)
    mixed = [part for part, values in trains.items() if len(values) > 1]
    if mixed:
        raise SpecError(f"{graph.named(node)}: some of its {mixed[0]} are frozen and some not: cnncalc freezes a "
                        "layer's weights, or its biases, each as a whole")
    frozen = [part for part, values in trains.items() if values == {False}]
    return len(frozen) == len(trains) or frozen[0]


def _trained(node, graph: Traced) -> list[tuple[str, bool]]:
    """The parameters a layer holds, each by name with whether it trains: a tensor a parametrization computes
    (weight_norm's weight) as one, training where any of its originals does."""
    if node.op != "call_module":
        tensors = ((read.target, graph.attribute(read)) for read in _reads(node, graph))
        return [(name, tensor.requires_grad) for name, tensor in tensors if isinstance(tensor, nn.Parameter)]
    module = graph.modules[node.target]
    held = {id(tensor): (name, tensor.requires_grad) for name, tensor in
            (module.named_parameters() if module._modules else module._parameters.items()) if tensor is not None}
    computed = [(tensor_name, any([held.pop(id(tensor))[1] for tensor in originals if id(tensor) in held]))
                for tensor_name, _, originals in _originals(module)]
    return [*held.values(), *computed]


def _reads(node, graph: Traced) -> list:
    """The get_attr nodes of the parameters and buffers a call reads as its own, through casts and views."""
    reads, stack = [], [node]
    while stack:
        current = stack.pop()
        if current.op == "get_attr":
            reads.append(current)
        elif current is node or current.name in graph.absorbed or current.name in graph.without_input:
            stack += current.sources
    return reads


def _uncounted_entry(node, graph: Traced) -> dict | None:
    """An operation no kind states, as a row of its own marked not counted: its output's shape per
    sample (a tensor made without the input: its whole shape) and the tensors it holds or takes as its
    own, each counted once. None where the shape cannot be said or it reads what is no layer."""
    inputs = graph.tensor_args(node)
    made_without_input = node.name in graph.without_input
    shape = graph.shape(node) if made_without_input else graph.sample_shape(node)
    if shape is None and graph.shape(node) == ():
        shape = ()  # a number of the whole batch (a loss): read as x.mean() is, one a sample
    if shape is None and node.op == "call_module":  # a module returning several tensors (LSTMCell's h and c):
        shape = _first_of_each_sample(node, graph)  # its first, as torchinfo shows it
    # what it reads is a layer, or a parameter or constant it takes as its own (WavLM's functional attention
    # given its projections' weights and torch.cat of their biases)
    layers = [a for a in inputs if a.name not in graph.without_input]
    if shape is None or any(a.op != "placeholder" and a.name not in graph.made.names for a in layers):
        return None
    if node.op == "call_module":
        module = graph.modules[node.target]
        held = [*module.parameters(), *module.buffers()]
    else:
        found = dict.fromkeys([*_reads(node, graph),  # a piece of a call (its output's [0]): the call's too
                               *(read for a in inputs if a.name in graph.without_input for read in _reads(a, graph))])
        reads = [read for read in found if read.name not in graph.made.counted and not _made_while_tracing(read)]
        graph.made.counted |= {read.name for read in reads}
        held = [graph.attribute(read) for read in reads]
    entry = stated("uncounted", {"operation": _what(node, graph.modules), "shape": list(shape),
                                 "params": sum(t.numel() for t in held if isinstance(t, nn.Parameter)),
                                 "buffers": sum(t.numel() for t in held if not isinstance(t, nn.Parameter))}, None)
    if entry is not None:  # the layers it reads, or none (its kind reads nothing unless told: one for the batch)
        entry["from"] = list(dict.fromkeys(graph.name_of(a) for a in layers))
    return entry


def _first_of_each_sample(node, graph: Traced) -> tuple[int, ...] | None:
    """The shape per sample of the first of several tensors a step returns, its batch dim 0, or dim 1 where it
    reads the sequence first (a GRU's (L, B, H) output); else None."""
    several = isinstance(graph.values.get(node.name), (tuple, list))
    shape = first_shape(graph, node) if several else None
    at = 1 if graph.layout(node) == SEQUENCE_FIRST else 0
    return shape[:at] + shape[at + 1:] if shape is not None and shape[at:at + 1] == (graph.batch,) else None


def _what(node, modules: dict) -> str:
    """What an operation is, as the refusal groups it: a module class, a function, a tensor method."""
    if node.op == "call_module":
        return f"{type(modules[node.target]).__name__} module"
    if node.op == "get_attr":
        return "parameter or buffer used as a tensor"
    return f"{'x.' if node.op == 'call_method' else ''}{target_name(node)}"


def _refusal(unmapped: list, modules: dict, name: str, source: str) -> SpecError:
    """One line of at most 300 characters: what cannot be mapped, grouped, most frequent first;
    each operation in the error's detail (--verbose)."""
    groups = Counter(_what(node, modules) for node in unmapped).most_common()
    head = f"cnncalc cannot map {len(unmapped)} operation(s) of {name}: "
    shown, rest = [], len(groups)
    for what, count in groups:
        item = f"{what} ×{count}" if count > 1 else what
        tail = f", … and {rest - 1} more (--verbose lists them)" if rest > 1 else ""
        if len(head) + len(", ".join([*shown, item])) + len(tail) + len(source) + 2 > MAX_LINE:
            break
        shown.append(item)
        rest -= 1
    more = f", … and {rest} more (--verbose lists them)" if rest else ""
    detail = tuple(f"{node.name}: {node.op} {target_name(node)}" for node in unmapped)
    return SpecError(head + ", ".join(shown) + more, source, detail=detail)


MAX_LINE = 300  # characters of a refusal, the file named included


def _entry(node, graph: Traced) -> dict | list | None:
    """The layer, or layers, a step is, by the mapper for what it is (_mapper); None where none states it."""
    read = graph.tensor_args(node)
    if any(a.name in graph.mixing for a in (node, *read)):
        return None  # mixes the samples (traced._mixing): a row not counted
    if graph.batch > 1:
        _of_each_sample(node, read, graph)
    return _mapper(node, graph)(node, graph)


class MixesSamples(SpecError):
    """A run whose batch of two mixes its samples where each sample's figures cannot be told apart."""


def _of_each_sample(node, read: list, graph: Traced) -> None:
    """Raises MixesSamples where a step meets each sample's tensors with a number made from the whole batch
    (x - x.mean(), x / x.abs().max()): one sample's run states what each sample costs."""
    made = [a for a in read if a.name not in graph.without_input]
    numbers = [a for a in made if graph.shape(a) == ()]
    if numbers and any(graph.shape(a) for a in made):
        raise MixesSamples(f"at a batch of {graph.batch} {target_name(numbers[0])}() is a number of the whole batch "
                           f"that {target_name(node)}() meets each sample's tensors with")


def _mapper(node, graph: Traced):
    """What maps a step: a module by its kind; a parameter read as a tensor; a tensor made without the
    input; the calls that take more than their kinds' forms (MAPPERS); any other call by the forms
    the kinds declare."""
    if node.op == "call_module":
        return _module_layer
    if node.name in graph.stored:
        return _parameter_entry
    if node.name in graph.without_input:
        return _constant_entry
    return MAPPERS.get((node.op, target_name(node)), _declared_call)


def _module_layer(node, graph: Traced) -> dict | None:
    return _module_on(node, graph, _module_entry(graph.modules[node.target], node, graph))


def _getitem_entry(node, graph: Traced) -> dict | list | None:
    """x[...] or a piece of a tuple: a layer of the call that returned several tensors (topk's values),
    each sample's row i of rows in the batch, or the piece or cut as it reads per sample."""
    beside = returned_beside(node, graph)
    if beside is not None:
        return _returned_beside(node, *beside, graph)
    if piece_of(node) is None and returns_several(node.args[0], graph):
        return _returned_piece(node.args[1], _entry(node.args[0], graph))
    if _batch_of_rows(node, graph):  # fmap1, fmap2 = fmaps.chunk(2, 0): row i of each sample
        return stated("select", {"dim": 1, "index": node.args[1]}, None)
    entry = graph.per_sample(node, _piece_entry(node, graph))
    return entry if not isinstance(entry, dict) or graph.takes(node, *next(iter(entry.items()))) else None


def _returned_beside(node, module, which: str, graph: Traced) -> dict | None:
    """A tensor a module's run returned beside its output, as a layer of the kind its kind's registration names
    for it (LayerKind.returns) reading that module's layer: its arguments the module's of those names, the state
    it is, the keys its weights span. None where the module is no layer of its kind (a row not counted), or the
    layer would not be the tensor's shape (attention's weights per head)."""
    entry = _entry(module, graph)
    kind = next(iter(entry)) if isinstance(entry, dict) else None
    if kind not in REGISTRY or not REGISTRY[kind].returns:
        return None
    own = REGISTRY[kind].normalize(entry[kind] or {})
    facts = {**own, "state": which, "keys": graph.shape(node)[-1]}
    beside = REGISTRY[REGISTRY[kind].returns[0]]
    args = beside.normalize({arg.name: facts[arg.name] for arg in beside.args if arg.name in facts})
    try:
        output = REGISTRY[kind].calculate(tuple(graph.sample_shape(a) for a in graph.tensor_args(module)),
                                          own).output_shape
        made = beside.calculate((output,), args).output_shape
    except (LayerError, TypeError):  # a shape it cannot say (None)
        return None
    return {**stated(beside.name, dict(args), None), "from": graph.name_of(module)} \
        if made == graph.sample_shape(node) else None


def _returned_piece(index, entry: dict | list | None) -> dict | list | None:
    """Piece `index` of a call that returned several tensors: its first is the call's layer, one after it
    the kind the call's registration names for it (sort's indices: argsort), where it names one."""
    kind = next((key for key in entry if key in REGISTRY), None) if isinstance(entry, dict) else None
    returns = REGISTRY[kind].returns if kind else ()
    if not isinstance(index, int) or not 0 < index <= len(returns):
        return entry
    return restated(entry, returns[index - 1], entry[kind] or {})


def _cat_entry(node, graph: Traced) -> dict | list | None:
    """torch.cat: of batches along dim 0 (two images through one encoder), per sample a row of each;
    else as its kind declares it."""
    return stated("stack", {"dim": 1}, None) if _joins_batches(node, graph) else _declared_call(node, graph)


def _declared_call(node, graph: Traced) -> dict | list | None:
    """A function or method call by the forms kinds declare: the first of its kinds whose calculator
    takes the input (F.batch_norm: batchnorm1d, 2d or 3d), as it is, with ranks lined up as torch
    broadcasts them (a join), or a layer per row."""
    for kind, call in calls_of(node):
        entry = _call_entry(node, kind, call, graph)
        entry = entry if isinstance(entry, list) else graph.reshaped(node, entry, kind)
        if isinstance(entry, list) or entry is not None and graph.takes(node, *next(iter(entry.items()))):
            return entry
        # a join of unequal ranks broadcasts (the run held no cat or stack of them: torch refuses those)
        lined_up = _ranks_lined_up(node, entry, graph) if isinstance(entry, dict) \
            and REGISTRY[kind].family == "join" else None
        row = _per_row(node, entry, graph) if isinstance(entry, dict) else None
        if lined_up or row:
            return lined_up or row
    return None


def _ranks_lined_up(node, entry: dict, graph: Traced) -> list[dict] | None:
    """Arithmetic in a run of one on tensors of fewer dims than another (batched_nms's idxs == class_id,
    a 0-d class; boxes + offsets of the boxes' max): as torch broadcasts them, aligned at their last
    dims, each such input first reshaped to the widest rank with leading 1s. None where that does not
    broadcast, or the run held a batch (whose dim 0 would meet another's last dims)."""
    sources = graph.tensor_args(node)
    shapes = [graph.sample_shape(source) for source in sources]
    if graph.batch != 1 or None in shapes or len({len(shape) for shape in shapes}) == 1:
        return None
    rank = max(map(len, shapes))
    padded = [(1,) * (rank - len(shape)) + shape for shape in shapes]
    kind, args = next(iter(entry.items()))
    try:
        REGISTRY[kind].calculate(tuple(padded), REGISTRY[kind].normalize(args or {}))
    except LayerError:
        return None
    steps, inputs = [], []
    for source, shape, wide in zip(sources, shapes, padded):
        if len(shape) < rank:
            steps.append({"reshape": {"shape": [BATCH, *wide]}, "from": graph.name_of(source)})
        inputs.append(_part(node, len(steps)) if len(shape) < rank else graph.name_of(source))
    return [*steps, {**entry, "from": inputs}]


def _joins_batches(node, graph: Traced) -> bool:
    """torch.cat of batches of equal shapes along dim 0 (RAFT's two images, through one encoder): rows
    in the batch, as many per sample as batches joined."""
    if node.op != "call_function" or target_name(node) != "cat" or given_value(node, "dim", 1) not in (None, 0):
        return False
    shapes = {graph.shape(source) for source in graph.tensor_args(node)}
    return len(shapes) == 1 and all(graph.layout(source) == BATCHED and graph.shape(source)[:1] == (graph.batch,)
                                    for source in graph.tensor_args(node)) and graph.layout(node) == ROWS


def _batch_of_rows(node, graph: Traced) -> bool:
    """Piece i of rows in the batch (see _joins_batches) chunked or split along dim 0 into batches:
    each sample's row i. Not the rows of a run of one (Keypoint R-CNN's heatmaps of one kept box, split
    per image into one piece): those are the sample's own, and a piece of them is a narrow."""
    source = piece_of(node)
    if source is None or target_name(source) not in ("chunk", "split") \
            or given_value(source, "dim", 2) not in (None, 0):
        return False
    pieces, whole = graph.values[source.name], source.args[0]
    shape = graph.sample_shape(whole)
    return graph.layout(whole) == ROWS and whole.name not in graph.sample_rows and shape is not None \
        and shape[0] == len(pieces) \
        and all(piece.shape[:1] == (graph.batch,) for piece in pieces)


def _repeated_rows(node, graph: Traced) -> list[dict] | None:
    """x.repeat_interleave(k, dim): each sample k times in a row (dim 0: GCViT's global query, one per window),
    which per sample is a new dim tiled k times; or each of a sample's rows along dim (grouped-query attention's
    heads, repeat_kv), a new dim after it expanded k times and merged into it, a copy."""
    try:
        repeats, dim = graph.argument(given_value(node, "repeats", 1)), graph.argument(given_value(node, "dim", 2))
    except Unmappable:  # repeats per row, a tensor
        return None
    shape = graph.sample_shape(node.args[0])
    if not isinstance(repeats, int) or not isinstance(dim, int) or shape is None \
            or graph.layout(node.args[0]) != BATCHED:
        return None
    dim %= len(shape) + 1
    if dim == 0:
        return [stated("unsqueeze", {"dim": 1}, None), stated("tile", {"dims": [1, repeats, *[1] * len(shape)]}, None)]
    merged = [*shape[:dim - 1], shape[dim - 1] * repeats, *shape[dim:]]
    return [stated("unsqueeze", {"dim": dim + 1}, None),
            stated("expand", {"size": [-1] * (dim + 1) + [repeats] + [-1] * (len(shape) - dim)}, None),
            stated("reshape", {"shape": [BATCH, *merged]}, None)]


def _divided(node, graph: Traced) -> dict | list | None:
    """a / b as its kind declares it; a number divided by a tensor (1 / (1 + torch.exp(-x)), a sigmoid written
    out) as torch's Tensor.__rtruediv__ computes it, x.reciprocal() * a."""
    dividend = node.args[0] if node.args else None
    if not isinstance(dividend, (int, float)) or isinstance(dividend, bool):
        return _declared_call(node, graph)
    reciprocal = stated("reciprocal", {}, None)
    return reciprocal if dividend == 1 else [reciprocal, stated("mul", {"other": dividend}, None)]


def _distances(node, graph: Traced) -> dict | list | None:
    """torch.cdist as its kind declares it; of a batch of vectors, (B, M) against (R, M), none: the batch is the
    rows torch measures, and it takes the matrix product's way past 25 of them, as no sample alone does (a
    prototype classifier's distances are a row not counted)."""
    first = graph.sample_shape(graph.tensor_args(node)[0])
    return None if first is None or len(first) < 2 else _declared_call(node, graph)


def _moved_dims(node, graph: Traced) -> dict | None:
    """torch.movedim(x, source, destination), x.moveaxis(...): the permute it is, the batch kept first."""
    source = graph.tensor_args(node)[0]
    shape = graph.shape(source)
    try:
        moved = [graph.argument(given_value(node, name, position)) for position, name in ((1, "source"),
                                                                                           (2, "destination"))]
    except Unmappable:
        return None
    order = None if shape is None else _movedim_order(*moved, len(shape))
    args = graph.moved(node, "permute", {"dims": order}) if order and order[0] == 0 else None
    return None if args is None else _call_layer(node, "permute", args, None, graph)


def _movedim_order(source, destination, rank: int) -> list[int] | None:
    """The permutation torch.movedim makes of `rank` dims: each of `source` to its `destination`, the others
    after them in their order; None where the dims are not numbers, one each."""
    starts, ends = ([value] if isinstance(value, int) else value for value in (source, destination))
    if not all(isinstance(dim, int) for dim in chain(starts, ends)) or len(starts) != len(ends):
        return None
    order: list = [None] * rank
    for start, end in zip(starts, ends):
        order[end % rank] = start % rank
    rest = iter(dim for dim in range(rank) if dim not in order)
    return [next(rest) if dim is None else dim for dim in order]


def _linear_entry(node, graph: Traced) -> dict | list | None:
    """F.linear: as its kind declares it, or, given a weight computed in forward() and no bias (an expert's
    slice of a 3-d weight, JetMoE's and transformers' experts: F.linear(x, self.weight[i])), the product it is,
    x's last dim against the weight's, an einsum."""
    entry = _declared_call(node, graph)
    if entry is not None or given(node, "weight", 1) is not COMPUTED or given(node, "bias", 2) is not None:
        return entry
    inputs = graph.tensor_args(node)
    shape = graph.sample_shape(inputs[0])
    # the weight made without the input (a slice picked by a number: a constant), not picked by the data
    if len(inputs) != 2 or shape is None or inputs[1].name not in graph.without_input \
            or graph.shape(inputs[1]) is None or len(graph.shape(inputs[1])) != 2:
        return None
    lead = "abcdefgh"[:len(shape) - 1]
    args = {"equation": f"{lead}i,oi->{lead}o"}
    return {"einsum": args, "from": [graph.name_of(a) for a in inputs]} if graph.takes(node, "einsum", args) else None


# the calls that take more than their kinds' forms, by (op, name): pieces and cuts, each sample
# repeated, batches joined, a product of a weight computed in forward()
MAPPERS = {("call_function", "getitem"): _getitem_entry, ("call_function", "cat"): _cat_entry,
           ("call_function", "repeat_interleave"): _repeated_rows, ("call_method", "repeat_interleave"): _repeated_rows,
           ("call_function", "linear"): _linear_entry, ("call_function", "truediv"): _divided,
           ("call_function", "cdist"): _distances,
           **{(op, name): _moved_dims for op in ("call_function", "call_method") for name in ("movedim", "moveaxis")}}


def _call_entry(node, kind: str, call, graph: Traced) -> dict | list | None:
    """A function or tensor method call as a layer of `kind`, read as `call` declares it: its arguments
    (each step of READING adds what its part of the declaration says, or refuses), the parameters it
    takes as the layer's own, then the layer as it reads per sample. None where it is no such layer."""
    args = _given(node, call, graph)
    for read in READING:
        args = None if args is None else read(node, kind, call, graph, args)
    weights = None if args is None else _weights(node, kind, call, graph)
    if weights is None:
        return None
    read, added_bias = weights
    try:
        args = graph.moved(node, kind, {key: graph.argument(value) for key, value in {**args, **read}.items()})
    except Unmappable:
        return None
    return None if args is None else _call_layer(node, kind, args, added_bias, graph)


def _given(node, call, graph: Traced) -> dict | None:
    """The kind's arguments the call passes (by position or keyword) or means, a tensor being an input
    and never an argument; None where an argument the kind has none for has a value it does not allow
    (F.pad in reflect mode is no zero pad)."""
    try:
        fixed = [(graph.argument(given_value(node, key, index)), allowed) for key, index, allowed in call.fixed]
    except Unmappable:
        return None
    if any(value not in allowed for value, allowed in fixed):
        return None
    args = dict(call.defaults) | {
        key: node.kwargs[call.keyword(key)] if call.keyword(key) in node.kwargs else node.args[index]
        for key, index in call.positions if call.keyword(key) in node.kwargs or index < len(node.args)}
    return {key: value for key, value in args.items()
            if not (isinstance(value, Step) and graph.is_tensor(value))} | dict(call.implied)


def _read_like(node, kind: str, call, graph: Traced, args: dict) -> dict | None:
    """y.expand_as(x): the sizes of x per sample, the batch first."""
    if call.like is None:
        return args
    like = graph.shape(node.args[1]) if len(node.args) > 1 and isinstance(node.args[1], Step) else None
    if like is None:
        return None
    return args | {call.like: [-1, *(like if node.args[1].name in graph.sample_rows else like[1:])]}


def _read_kept(node, kind: str, call, graph: Traced, args: dict) -> dict | None:
    """How many rows the run's data kept (nms's boxes), in a run of one sample: over a batch of two, the
    samples' rows are mixed."""
    if not any(arg.name == KEPT for arg in REGISTRY[kind].args):
        return args
    kept = graph.values[node.name]
    if graph.batch != 1 or not isinstance(kept, (torch.Tensor, tuple)):
        return None
    return args | {KEPT: (kept[0] if isinstance(kept, tuple) else kept).shape[0]}  # torch.where(mask)'s pieces


def _read_every_dim(node, kind: str, call, graph: Traced, args: dict) -> dict | None:
    """x.mean() with no dim: every dim of the sample."""
    if call.every_dim is None or call.every_dim in args:
        return args
    dims = _every_dim(node, graph)
    return None if dims is None else args | {call.every_dim: dims}


def _read_equation(node, kind: str, call, graph: Traced, args: dict) -> dict | None:
    """An einsum's equation per sample."""
    return args if call.equation is None else args | {call.equation: _per_sample_equation(node, graph)}


def _read_pairs(node, kind: str, call, graph: Traced, args: dict) -> dict | None:
    """F.pad's trailing pairs that pad nothing where they go beyond the third or the sample's dims, left out."""
    if call.pairs is None or not isinstance(args.get(call.pairs), (list, tuple)):
        return args
    shape = graph.sample_shape(node.args[0])
    if shape is None:
        return args
    try:
        return args | {call.pairs: _fewer_pairs(graph.argument(args[call.pairs]), len(shape))}
    except Unmappable:
        return None


def _read_rest(node, kind: str, call, graph: Traced, args: dict) -> dict | None:
    """x.view(-1, 400) or x.view((-1, 400)): the sizes given one by one, as one argument."""
    if not call.rest or len(node.args) < 2:
        return args
    rest = node.args[1:]
    return args | {call.rest: rest[0] if len(rest) == 1 and isinstance(rest[0], (list, tuple)) else rest}


READING = (_read_like, _read_kept, _read_every_dim, _read_equation, _read_pairs, _read_rest)


def _weights(node, kind: str, call, graph: Traced) -> tuple[dict, Step | None] | None:
    """The arguments the layer's own parameters say (F.linear's weight: out_features), and a bias made in
    forward() that is added after it where the call allows (Call.bias_apart); None where its weights
    are computed in forward(), or a buffer the kind would count as parameters (a blur pool's filter)."""
    if not call.tensors:
        return {}, None
    shapes = {key: given(node, key, index) for key, index in call.tensors}
    added_bias = None
    if call.bias_apart and shapes.get("bias") is COMPUTED and isinstance(shapes.get("weight"), Step):
        added_bias, shapes["bias"] = given_value(node, "bias", dict(call.tensors)["bias"]), None
    inputs = _taken_as_input(node, call, shapes, graph)
    if any(shape is COMPUTED for key, shape in shapes.items() if key not in inputs):
        return None
    if any(key in ("weight", "bias") and key not in inputs and held is not None
           and not isinstance(graph.attribute(held), nn.Parameter) for key, held in shapes.items()):
        return None
    read = call.reads({key: inputs[key] if key in inputs else None if held is None
                       else tuple(graph.attribute(held).shape) for key, held in shapes.items()})
    return None if read is None else (read, added_bias)


def _call_layer(node, kind: str, args: dict, added_bias, graph: Traced) -> dict | list | None:
    """The layer a call of `kind` with these arguments is: None where a tensor and a constant no argument
    states make no join of layers; with a bias made in forward(), the layer and an add."""
    entry = stated(kind, args, None)
    layer = REGISTRY[kind]
    if entry is None or layer.arity is None and len(graph.tensor_args(node)) < layer.fewest(layer.normalize(
            entry[kind] or {})):
        return None
    if node.op == "call_function" and layer.can_be_functional:
        entry["functional"] = True
    if added_bias is None:
        return entry
    entry["from"] = graph.name_of(graph.tensor_args(node)[0])
    return [entry, {"add": None, "from": [_part(node, 1), graph.name_of(added_bias)]}]


KEPT = "count"  # a kind's argument for how many rows the data keeps, which only the run says


def _every_dim(node, graph: Traced) -> list[int] | None:
    """Every dim of a call's tensor where the call names none (x.mean(), x.max()): of a tensor whose
    batch is its dim 0, the sample's, as a batch of one computes it (VQ-VAE's loss); of one a per-image
    loop made in a run of one (one image's boxes), each; None for another layout, whose dims mix the
    batch with the sample's rows."""
    source = graph.tensor_args(node)[0]
    shape = graph.shape(source)
    if shape is None:
        return None
    if source.name in graph.sample_rows:
        return list(range(len(shape)))
    return list(range(1, len(shape))) if graph.layout(source) == BATCHED else None


def _taken_as_input(node, call, shapes: dict, graph: Traced) -> dict:
    """The call's parameter arguments that are an input of the layer instead (filters computed in
    forward(), a blur filter kept as a buffer): argument → the tensor's whole shape."""
    found = {}
    for key, index in call.tensors:
        value = given_value(node, key, index)
        if key in call.taken_as_input and value is not None and (
                shapes[key] is COMPUTED or not isinstance(graph.attribute(shapes[key]), nn.Parameter)):
            found[key] = graph.shape(value)
    return {} if None in found.values() else found


def _per_sample_equation(node, graph: Traced) -> str | None:
    """An einsum's equation per sample: the batch's letter, first in each operand made from the input
    and in the output, left out (a tensor whose batch holds rows keeps it, for the rows); None where
    the batch is not such a letter."""
    operands = graph.tensor_args(node)
    equation = _spelled_out(str(node.args[0]).replace(" ", ""), [graph.shape(operand) for operand in operands])
    if equation is None:
        return None
    parts, _, output = equation.partition("->")
    letters = parts.split(",")
    batched = [part for part, operand in zip(letters, operands)
               if operand.name not in graph.without_input and operand.name not in graph.free]
    if not batched and output and len(letters) == len(operands):  # constants alone: their whole shapes
        return f"{parts}->{output}"
    rows = {graph.layout(operand) == ROWS for operand in operands if operand.name not in graph.without_input}
    if not batched or len(letters) != len(operands) or "." in parts or len(rows) > 1 or not output \
            or any(part[:1] != output[0] for part in batched) \
            or any(output[0] in part for part in letters if part not in batched):
        return None
    if rows == {True}:
        return f"{parts}->{output}"
    return ",".join(part[1:] if part in batched else part for part in letters) + "->" + output[1:]


def _spelled_out(equation: str, shapes: list) -> str | None:
    """An einsum equation with each '...' written out in letters it does not use, one per dim it stands
    for, aligned from the last as torch broadcasts them (torch.einsum("...id,...jd->...ij", q, k)); None
    where the output is implicit or a shape unknown."""
    if "..." not in equation:
        return equation
    parts, arrow, output = equation.partition("->")
    letters = parts.split(",")
    if not arrow or None in shapes or len(letters) != len(shapes):
        return None
    covered = [len(shape) - len(part.replace("...", "")) if "..." in part else 0
               for part, shape in zip(letters, shapes)]
    spare = "".join(letter for letter in string.ascii_letters if letter not in equation)[:max(covered)]
    if min(covered) < 0 or len(spare) < max(covered):
        return None
    written = [part.replace("...", spare[len(spare) - n:]) for part, n in zip(letters, covered)]
    return ",".join(written) + "->" + output.replace("...", spare)


def _fewer_pairs(padding: list, rank: int) -> list:
    """F.pad's trailing pairs that pad nothing, left out beyond the third (Swin3D pads channels-last clips
    with 8 values, the first dims by 0: a 3d pad states the rest) and beyond the sample's `rank` dims, where
    they pad the batch by nothing (MobileBERT pads its (B, L, E) embeddings by 6 values)."""
    padding = list(padding)
    while len(padding) > 2 and padding[-2:] == [0, 0] and (len(padding) > 6 or len(padding) // 2 > rank):
        padding = padding[:-2]
    return padding


def _part(node, step: int) -> str:
    """The name of step `step` of a call mapped to several layers (step names have no dots)."""
    return f"{node.name}.part{step}"


def _module_on(node, graph: Traced, entry: dict | None) -> dict | None:
    """A module's layer as it reads its input per sample; on rows in the batch (MViT's B·heads) that
    it takes only one by one (a pooling conv), a layer per row; None where it is given tensors its kind does not
    take (a GRU's initial state): a row not counted."""
    if entry is None:
        return None
    kind, args = next(iter(entry.items()))
    if isinstance(node.args[0], tuple) and REGISTRY[kind].family == "recurrent":  # torch's PackedSequence, a tuple
        raise SpecError(f"{node.target}: given a PackedSequence, which cnncalc does not read: give it the padded "
                        "batch (pad_packed_sequence's, or the batch before pack_padded_sequence)")
    given = len(graph.tensor_args(node))
    if given > 1 and REGISTRY[kind].wrong_inputs(REGISTRY[kind].normalize(args or {}), given):
        return None
    moved = graph.per_sample(node, entry)
    if moved is not None and graph.takes(node, *next(iter(moved.items()))):
        return _operands_once(node, graph, moved)
    return _per_row(node, entry, graph) or moved


def _operands_once(node, graph: Traced, entry: dict) -> dict:
    """attn(x, x, x) and attn(q, m, m): an attention module given a tensor twice or thrice reads it once
    (LayerKind.read_once)."""
    kind, args = next(iter(entry.items()))
    names = tuple(graph.name_of(a) for a in graph.tensor_args(node))
    once = REGISTRY[kind].read_once(REGISTRY[kind].normalize(args or {}), names)
    return entry if once == names else {**entry, "from": list(once)}


def _per_row(node, entry: dict, graph: Traced) -> dict | None:
    """A layer per row of its one input's rows in the batch (MViT's B·heads, RAFT's correlation volume
    of B·H·W rows, pooled), where it takes each row as a sample; else None."""
    sources = graph.tensor_args(node)
    if len(sources) != 1 or graph.layout(sources[0]) != ROWS:
        return None
    kind, args = next(iter(entry.items()))
    return {**entry, "per_row": True} if graph.takes(node, kind, args, per_row=True) else None


def _module_entry(module: nn.Module, node, graph: Traced) -> dict | None:
    """The layer of a mapped module: the arguments it was built with (read as it ran), and those its
    call passes (a tensor passed as a flag's: whether it holds floats, where the flag tells that)."""
    if node.built is None:
        return None
    kind, built = node.built
    def floating(step) -> bool:
        return isinstance(step, Step) and graph.values[step.name].is_floating_point()

    args = {**built, **call_arguments(module, node.args, node.kwargs, floating)}
    return stated(kind, {key: list(value) if isinstance(value, tuple) else value for key, value in args.items()},
                  None)


def _made_while_tracing(read) -> bool:
    """The run's own constants: tensors forward() made from numbers alone (torch.arange(8)), which the model
    does not hold."""
    return read.target.startswith("_tensor_constant")


def _parameter_entry(node, graph: Traced) -> dict | None:
    """A parameter or buffer read as a tensor (or a view of one): a layer of no input. Read again
    (ConViT's gate and 1 - gate), it is counted where first read."""
    shape = graph.sample_shape(node)
    if shape is None:
        return None
    read = graph.stored[node.name]
    if read.name in graph.made.counted or _made_while_tracing(read):
        return stated("constant", {"shape": list(shape)}, None)
    graph.made.counted.add(read.name)
    tensor = graph.attribute(read)
    entry = stated("parameter", {"shape": list(shape), "buffer": not isinstance(tensor, nn.Parameter)}, None)
    return None if entry is None else entry | {PARAMETERS_READ: [read]}


def _constant_entry(node, graph: Traced) -> dict | None:
    """A tensor computed without the input, counting the parameters and buffers it is made from
    (each once, however many constants read it)."""
    shape = graph.sample_shape(node)
    if shape is None:
        return None
    made_from = graph.made_from(node)
    reads = [read for name, read in made_from.items()
             if name not in graph.made.counted and not _made_while_tracing(read)]
    tensors = [graph.attribute(read) for read in reads]
    graph.made.counted |= set(made_from)
    params = sum(t.numel() for t in tensors if isinstance(t, nn.Parameter))
    buffers = sum(t.numel() for t in tensors if not isinstance(t, nn.Parameter))
    entry = stated("constant", {"shape": list(shape), "params": params, "buffers": buffers}, None)
    if entry is not None:
        entry[PARAMETERS_READ] = reads
    if entry is not None and graph.sized_by_batch(node):  # made for each sample: sized by the input's batch
        entry["from"] = INPUT
    return entry


def _piece_entry(node, graph: Traced) -> dict | None:
    """A piece of a tensor: tuple[i] of chunk, split or unbind, or x[index] (x[:, :c], x[:, 0],
    x[..., 1::2, 0::2, :]): narrow, slice or select per dim cut."""
    source = piece_of(node)
    if source is not None:
        return _chunk_piece(node, source, graph)
    index = indexed_by(node, graph)
    if index is not None and graph.values[index.name].dtype == torch.bool:  # the rows it keeps: the run's,
        return stated("booleanmask", {KEPT: int(graph.values[index.name].sum())}, None) \
            if graph.batch == 1 else None  # of one sample (a batch of two mixes its samples' rows)
    if index is not None:
        return stated("indexselect", {"dim": picked_along(node)}, None)
    if index_tensors(node, graph) is not None:
        return stated("indextensor", {}, None)
    if each_sample_at(node, graph):  # x[torch.arange(B), -1]: x[:, -1], copied as advanced indexing copies
        cuts = _cuts([slice(None), *node.args[1][1:]], graph.shape(node.args[0]), False)
        return None if cuts is None else [*cuts, stated("clone", {}, None)]
    if unstacked(node.args[0], graph) is not None and isinstance(node.args[1], int):
        return _unstacked_piece(node.args[0], node.args[1], graph, node)  # qkv[0] of qkv.permute(2, 0, …)
    shape = graph.shape(node.args[0])
    if shape is None:
        return None
    try:
        index = graph.argument(node.args[1])
    except Unmappable:
        return None
    if graph.batch == 1 and (index == 0 and graph.layout(node.args[0]) == BATCHED
                             or index is None and graph.layout(node.args[0]) == ROWS):
        return _the_sample()  # x[0] of a batch of one, or x[None] on its image: the sample itself
    index = list(index) if isinstance(index, (list, tuple)) else [index]
    # dim 0 is the sample's rows, or the sequence before the batch (L, B, E), which may be cut
    rows = node.args[0].name in graph.sample_rows or node.args[0].name in graph.sequence_first
    if None in index:
        return _new_dims(index, shape, rows)
    entries = _cuts(index, shape, rows)
    if entries == []:  # x[:, :H] where H is the whole height: the tensor itself
        return stated("narrow", {"dim": -1, "start": 0, "length": shape[-1]}, None)
    return None if entries is None else entries[0] if len(entries) == 1 else entries


def _cuts(index: list, shape: tuple[int, ...], rows: bool) -> list | None:
    """The select, narrow or slice of each dim an index of no new dim cuts, last dims first so the
    earlier ones keep their numbers; None where one is no such cut."""
    if index.count(Ellipsis) > 1 or any(  # x[:B] with B the batch
            isinstance(i, slice) and not all(p is None or isinstance(p, int) for p in (i.start, i.stop, i.step))
            for i in index):
        return None
    if Ellipsis in index:
        at = index.index(Ellipsis)
        index[at:at + 1] = [slice(None)] * (len(shape) - len(index) + 1)
    entries = [_cut(dim, item, shape[dim], rows) for dim, item in reversed(list(enumerate(index)))
               if not (isinstance(item, slice) and item.indices(shape[dim]) == (0, shape[dim], 1))]
    return None if None in entries else entries


def _new_dims(index: list, shape: tuple[int, ...], rows: bool) -> dict | list | None:
    """x[:, :, :, None], x[..., None, :] or x[:, :, None, :2] (RT-DETR's reference points): the cuts of the
    tensor's own dims, then a new dim of size 1 (an unsqueeze) at each place the index puts one, in order;
    None for a new dim before the batch."""
    if index.count(Ellipsis) > 1:
        return None
    if Ellipsis in index:
        at = index.index(Ellipsis)
        index[at:at + 1] = [slice(None)] * (len(shape) - (len(index) - 1 - index.count(None)))
    placed = [item for item in index if not isinstance(item, int)]  # a number takes its dim away
    dims = [dim for dim, item in enumerate(placed) if item is None]
    cuts = _cuts([item for item in index if item is not None], shape, rows)
    if dims[0] == 0 or cuts is None:
        return None
    entries = [*cuts, *(stated("unsqueeze", {"dim": dim}, None) for dim in dims)]
    return entries[0] if len(entries) == 1 else entries


def _cut(dim: int, item, size: int, rows: bool = False) -> dict | None:
    """One dim of an index, last dims first so the earlier ones keep their numbers: select, narrow or
    a slice with a step; None for the batch (dim 0 unless it is `rows`) or a list of indices."""
    if dim == 0 and not rows or not isinstance(item, (int, slice)):
        return None
    if isinstance(item, int):
        return stated("select", {"dim": dim, "index": item}, None)
    start, stop, step = item.indices(size)
    if step == 1:
        return stated("narrow", {"dim": dim, "start": start, "length": stop - start}, None)
    return stated("slice", {"dim": dim, "start": start, "end": stop, "step": step}, None)


def _chunk_piece(node, source, graph: Traced) -> dict | None:
    pieces, index = graph.values.get(source.name) if graph.values else None, node.args[1]
    if pieces is None:
        return None
    if target_name(source) in EXTREMES:  # x.max(dim)[0], the values: amax; [1] where they are: argmax
        dim, keepdim = given_value(source, "dim", 1), given_value(source, "keepdim", 2)
        return stated(EXTREMES[target_name(source)][index], {"dim": dim, "keepdim": bool(keepdim)}, None) \
            if dim is not None else None
    position = 1 if target_name(source) == "unbind" else 2
    dim = source.kwargs.get("dim", source.args[position] if len(source.args) > position else 0)
    dim = dim % pieces[0].dim() if target_name(source) != "unbind" else dim % (pieces[0].dim() + 1)
    if dim == 0 and target_name(source) == "unbind" and unstacked(source.args[0], graph) is not None:
        return _unstacked_piece(source.args[0], index, graph, node)
    if dim == 0 and graph.batch == 1 and target_name(source) == "unbind" \
            and source.args[0].name not in graph.sample_rows:
        return _the_sample()  # a per-image loop over a batch of one (over the sample's rows: a row each)
    if dim == 0 and source.args[0].name not in graph.sample_rows and source.args[0].name not in graph.sequence_first:
        return None  # pieces of the batch (not of a sequence before it: d2l's `for H in outputs`)
    if target_name(source) == "unbind":
        return stated("select", {"dim": dim, "index": index}, None)
    start = sum(piece.shape[dim] for piece in pieces[:index])
    return stated("narrow", {"dim": dim, "start": start, "length": pieces[index].shape[dim]}, None)


EXTREMES = {"max": ("amax", "argmax"), "min": ("amin", "argmin")}  # x.max(dim): (values, indices)


def _the_sample() -> dict:
    """A run of one sample (tracing.DATA_DEPENDENT) taking that sample out of its batch, or putting it
    back: per sample, the tensor itself."""
    return stated("identity", {}, None)


def _unstacked_piece(unstacking, index: int, graph: Traced, piece) -> list[dict] | None:
    """Piece `index` of an unstacked permute: select it on the input, then order the rest; where the
    batch held rows that merge with the heads (SAM's windows), to the piece's shape per sample."""
    order = unstacked(unstacking, graph)
    axis = order[0]
    rest = [d - (d > axis) for d in order[1:]]
    entries = [stated("select", {"dim": axis, "index": index}, None)]
    if rest != sorted(rest):
        entries.append(stated("permute", {"dims": rest}, None))
    if target_name(unstacking) != "permute":  # a reshape merged the batch's rows with the heads
        shape = graph.sample_shape(piece)
        entries.append(None if shape is None else stated("reshape", {"shape": [BATCH, *shape]}, None))
    return None if None in entries else entries[0] if len(entries) == 1 else entries
