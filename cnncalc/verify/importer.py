"""Import a PyTorch model: trace it with torch.fx on meta tensors and map it to spec data.

Modules, torch functions and tensor methods map to kinds through the forms each kind declares in
its registration. Anything else is listed by name in the error, never counted as zero.
"""
from __future__ import annotations

import math
import operator
from collections import Counter
from dataclasses import dataclass, field

import torch
from torch import fx, nn

from ..errors import LayerError, SpecError
from ..layers import REGISTRY
from ..layers.registry import DIM_ORDER, SIZE_PER_DIM
from ..layers.rearrange import BATCH
from ..spec.yamlfile import LineDict
from .forms import forms, mapped
from .tracing import PROBE_BATCH, trace, user_line

DROPPED_ARGUMENTS = {"return_indices", "inplace_"}


def to_spec(module: nn.Module, name: str, input_shape: tuple[int, ...], source: str) -> dict:
    try:
        traced, values = trace(module, input_shape)
    except SpecError as error:
        raise SpecError(f"{name}: {error.message}", source) from None
    except Exception as error:  # user code that torch.fx cannot trace
        where = user_line(error)
        raise SpecError(f"torch.fx cannot trace {name}{where}: {type(error).__name__}: "
                        f"{str(error).splitlines()[0][:200]}", source) from None
    graph = _Traced(modules=dict(traced.named_modules()), values=values,
                    absorbed=_absorbed(traced))
    graph.stored = _stored_views(traced, graph)
    graph.without_input, graph.free = _without_input(traced, graph)
    graph.stacked = _ensembles(traced, graph)
    layers, unmapped, previous = [], [], None
    for node in traced.graph.nodes:
        if node.op in ("placeholder", "output"):
            previous = "input" if node.op == "placeholder" and previous is None else previous
            continue  # forward()'s other arguments (attn_mask=None) keep their defaults
        if not node.users or not graph.is_layer(node) or graph.same_as_source(node) or node.name in graph.absorbed \
                or graph.inside_constant(node) or _unstacked(node, graph) is not None:
            continue  # unused (x, _ = f(x)), sizes, checks, pieces, a layer's weights, steps of reshaping one
        entries = _entry(node, graph)
        if entries is None:
            unmapped.append(node)
            continue
        entries = graph.with_users_rank(node, entries if isinstance(entries, list) else [entries])
        inputs = [graph.name_of(a) for a in graph.tensor_args(node)]
        for step, entry in enumerate(entries, start=1):
            if inputs and inputs != [previous] and "from" not in entry:  # a parameter reads nothing
                entry["from"] = inputs if len(inputs) > 1 else inputs[0]
            if node.op == "call_module" and node.target in graph.used and _holds_tensors(graph.modules[node.target]):
                # called again: its weights are held once
                entry["weights_of"] = node.target
            entry["name"] = graph.named(node) if step == len(entries) else _part(node, step)
            layers.append(entry)
            previous = entry["name"]
            inputs = [previous]
    if unmapped:
        raise _refusal(unmapped, graph.modules, name, source)
    data = {"name": name, "input": list(input_shape), "layers": layers,
            "description": f"Imported from {source} with torch.fx."}
    held = _not_run(module, traced, graph.absorbed)
    return {**data, "not_run": held} if held else data


PIECES = {"chunk", "split", "tensor_split", "unbind", "max"}  # calls returning a tuple (x.max(1): values, indices)


@dataclass
class _Traced:
    """The traced graph as the mapping reads it: its modules, every node's value (None: unknown),
    and the layer name given to each mapped node."""
    modules: dict
    values: dict | None
    absorbed: set  # parameters a function call reads as its own weights (F.linear(x, self.weight))
    stored: dict = field(default_factory=dict)  # node → the parameter it is a view of (gamma.reshape(1, -1, 1, 1))
    without_input: set = field(default_factory=set)  # tensors made without the model's input
    counted: set = field(default_factory=set)  # parameters and buffers a constant layer already counts
    names: dict = field(default_factory=dict)
    used: set = field(default_factory=set)
    stacked: set = field(default_factory=set)  # torch.stack(outputs) reduced over the outputs: an ensemble
    free: set = field(default_factory=set)  # tensors layers make from constants alone (Swin v2's bias MLP)

    def inside_constant(self, node) -> bool:
        """A step of making a tensor without the input (viewing a parameter, computing a position
        encoding) that only further such steps read: the last step is the layer."""
        return node.name in self.without_input and all(user.name in self.without_input for user in node.users
                                                       if self.is_tensor(user))  # not weight.dtype

    def is_layer(self, node) -> bool:
        """A tensor, or a mapped module that returns a tuple (MultiheadAttention's output and weights)."""
        return self.is_tensor(node) or (node.op == "call_module" and mapped(self.modules[node.target]) is not None)

    def holds_tensors(self, node) -> bool:
        """A tensor, or a tuple of them (chunk's pieces): not a number or a size."""
        value = self.values.get(node.name) if self.values is not None else None
        return isinstance(value, torch.Tensor) or (isinstance(value, (tuple, list))
                                                   and any(isinstance(v, torch.Tensor) for v in value))

    def is_tensor(self, node) -> bool:
        """A tensor with elements (x[:, :0], an empty piece rotary embeddings concatenate back, is none)."""
        if self.values is None:
            return not _is_shape_query(node)
        value = self.values.get(node.name)
        return isinstance(value, torch.Tensor) and value.numel() > 0

    def same_as_source(self, node) -> bool:
        """A module's tuple output read at 0 (MultiheadAttention's output): the layer itself."""
        source = node.args[0] if node.op == "call_function" and node.target is operator.getitem else None
        if source is None or source.name not in self.names or node.args[1] != 0:
            return False
        self.names[node.name] = self.names[source.name]
        return True

    def tensor_args(self, node) -> list:
        """The tensors a call reads, those passed in a list (torch.cat's) included; a piece of a
        chunk reads the chunked tensor; y.expand_as(x) reads y (x gives only its shape)."""
        if node.op == "call_method" and node.target in ("expand_as", "view_as", "reshape_as", "type_as"):
            return [node.args[0]]
        if node.name in self.without_input:
            return []  # a parameter or constant reads no layer
        if _indexed_by(node, self) is not None:  # table[index]: both are read
            return [node.args[0], node.args[1]]
        if node.op == "call_function" and node.target is operator.getitem:
            source = _piece_of(node) or node
            whole = source.args[0]
            return [whole.args[0] if _unstacked(whole, self) is not None else whole]
        given = [*node.args, *node.kwargs.values()]  # attn_mask=bias is an input too
        flat = [a for arg in given for a in (arg if isinstance(arg, (list, tuple)) else [arg])]
        return [a for a in flat if isinstance(a, fx.Node) and self.is_tensor(a) and a.name not in self.absorbed]

    def attribute(self, node) -> torch.Tensor:
        """The parameter or buffer a get_attr node reads."""
        owner, _, name = node.target.rpartition(".")
        return getattr(self.modules[owner], name)

    def name_of(self, node) -> str:
        return "input" if node.op == "placeholder" else self.names.get(node.name, node.name)

    def made_from(self, node) -> dict:
        """The parameters and buffers a tensor made without the input is made from: name → get_attr node."""
        found, stack = {}, [node]
        while stack:
            current = stack.pop()
            if current.op == "get_attr":
                found[current.name] = current
            stack += [a for a in current.all_input_nodes if a.name in self.without_input]
        return found

    def named(self, node) -> str:
        """A module keeps its path (stem.0), a tensor made from one parameter its name (class_token);
        a second call of a module, or a function, its fx name."""
        path = node.target if node.op == "call_module" else None
        if node.name in self.without_input and len(self.made_from(node)) == 1:
            path = next(iter(self.made_from(node).values())).target
        name = path if path is not None and path not in self.used else node.name
        self.names[node.name] = name
        self.used.add(name)
        return name

    def argument(self, value):
        """An argument as a spec writes it: the batch size as `batch`; a size computed from shapes
        as its value; a tensor computed in the graph is unmappable."""
        if isinstance(value, (list, tuple)):
            return [self.argument(v) for v in value]
        if isinstance(value, slice):
            return slice(self.argument(value.start), self.argument(value.stop), self.argument(value.step))
        if not isinstance(value, fx.Node):
            return value
        if _batch_size(value):
            return BATCH
        if self.values is None or value.name not in self.values:
            raise _Unmappable(value.name)
        known = self.values[value.name]
        if known is None or isinstance(known, (int, float, bool)):  # attn_mask=None, forward()'s default
            return known
        if isinstance(known, torch.Size):
            return list(known)
        raise _Unmappable(value.name)

    def takes(self, node, kind: str, args: dict | None, per_row: bool = False) -> bool:
        """Whether the kind's calculator takes this call's inputs, or each of their rows (unknown shapes:
        assumed so)."""
        shapes = [self.sample_shape(a) for a in self.tensor_args(node)]
        if self.values is None or None in shapes:
            return True
        shapes = [shape[1:] for shape in shapes] if per_row else shapes
        try:
            REGISTRY[kind].calculate(tuple(shapes), REGISTRY[kind].normalize(args or {}))
        except LayerError:
            return False
        return True

    def sample_shape(self, node) -> tuple[int, ...] | None:
        """A tensor's shape per sample, as cnncalc sees it: a parameter's as its first user meets it
        (a stored (1, 197, 768) with batched (B, 197, 768) tensors is 197×768; a (C,) with
        (B, H, W, C) is 1×1×C); None where that cannot be said."""
        shape = self.shape(node)
        if node.name in self.stacked:
            return (shape[0], *shape[2:])
        if node.name in self.free and shape and self.layout(node) == WHOLE:
            return shape
        # a bias made by layers, (1, heads, N, N), meets the input's tensors as a constant does
        free_of_one = node.name in self.free and shape and shape[0] == 1 and any(
            user.name not in self.free | self.without_input for user in node.users)
        if shape is None or node.name not in self.without_input and not free_of_one:
            if not shape or shape[0] % PROBE_BATCH and shape[0] != 1:
                return None
            return shape[1:] if shape[0] in (1, PROBE_BATCH) else (shape[0] // PROBE_BATCH, *shape[1:])
        if any(_target(user) == "einsum" or _indexed_by(user, self) is node for user in node.users):
            return shape  # an einsum names each of its dims; an index's are the positions it holds
        users = [self.sample_shape(user) for user in node.users if user.name not in self.without_input]
        users = [shape for shape in users if shape is not None]  # not its sizes (cls_token.shape)
        rank = len(users[0]) + 1 if users else None  # the batch's dim included
        # a stored tensor's leading 1 is the batch it broadcasts over; one computed from x.shape
        # (torch.zeros(B, H, W)) has the batch itself
        batches = (1,) if node.name in self.stored else (1, PROBE_BATCH)
        if rank is None or len(shape) > rank or (len(shape) == rank and shape[0] not in batches):
            return None
        return shape[1:] if len(shape) == rank else (1,) * (rank - 1 - len(shape)) + shape

    def merged(self, node) -> bool:
        """A tensor whose batch dim holds several rows per sample (Swin's windows, B·nW): per sample,
        they are one dim more."""
        return self.layout(node) == ROWS

    def layout(self, node) -> str:
        """Where a tensor's batch is, against torch's value: dim 0 (BATCH), dim 0 holding rows per
        sample (ROWS), nowhere (WHOLE: made by layers from constants, Swin v2's bias MLP), or dim 1
        (STACKED outputs)."""
        shape = self.shape(node)
        if node.name in self.stacked:
            return STACKED
        if not shape or node.name in self.without_input or shape[0] == 1:
            return BATCHED  # a leading 1 is the batch it broadcasts over
        if node.name in self.free:
            return WHOLE
        return BATCHED if shape[0] == PROBE_BATCH else ROWS

    def per_sample(self, node, entry: LineDict | list | None) -> LineDict | list | None:
        """An entry of torch's dims as it reads per sample (a module's, a piece's): reshaped, or its
        dims moved."""
        if isinstance(entry, list):
            entries = [self.per_sample(node, e) for e in entry]
            return None if None in entries else entries
        if entry is None:
            return None
        kind = next(iter(entry))
        reshaped = self.reshaped(node, entry, kind)
        if reshaped is not entry:
            return reshaped
        args = self.moved(node, kind, dict(entry[kind] or {}))
        return None if args is None else _restated(entry, kind, args)

    def reshaped(self, node, entry: LineDict | None, kind: str) -> LineDict | None:
        """A reshape to or from a tensor whose batch is not torch's dim 0 (see layout), or whose sizes are
        computed (B·nW), as the sizes it makes; a layer that gives a batchless tensor its batch of one
        (x.unsqueeze(0) on a bias made by layers) likewise. Any other entry as it is."""
        sources = self.tensor_args(node)
        source = self.layout(sources[0]) if sources else BATCHED
        switched = bool(sources) and sources[0].name in self.free and source != self.layout(node)
        if kind in ("reshape", "flatten") and (entry is None or BATCHED != source or BATCHED != self.layout(node)) \
                or switched:
            shape = self.sample_shape(node)
            return None if shape is None else _restated(entry or {}, "reshape", {"shape": [BATCH, *shape]})
        return entry

    def with_users_rank(self, node, entries: list) -> list:
        """A bias made by layers, (1, heads, N, N), meeting the input's windows (B·nW, heads, N, N): a
        reshape gives it their rank per sample, as broadcasting does."""
        shape = self.shape(node)
        if node.name not in self.free or not shape or shape[0] != 1 or "reshape" in entries[-1]:
            return entries
        padded = self.sample_shape(node)
        if padded is None or len(padded) == len(shape) - 1:
            return entries
        return [*entries, LineDict({"reshape": {"shape": [BATCH, *padded]}})]

    def moved(self, node, kind: str, args: dict) -> dict | None:
        """A layer's arguments with the dims they name where cnncalc counts them (see layout); None
        where a dim mixes the batch with others."""
        sources = self.tensor_args(node)
        layout = STACKED if node.name in self.stacked else self.layout(sources[0]) if sources else BATCHED
        if layout == BATCHED:
            return args
        layer, rank = REGISTRY[kind], len(self.shape(sources[0]))
        try:
            for arg in layer.args:
                value = args.get(arg.name, layer.defaults.get(arg.name))
                if arg.names_dims and value is not None:
                    args[arg.name] = _moved(value, arg.names_dims, rank, layout)
        except _Unmappable:
            return None
        return args

    def shape(self, node) -> tuple[int, ...] | None:
        value = self.values.get(node.name) if self.values is not None else None
        return tuple(value.shape) if isinstance(value, torch.Tensor) else None


def _holds_tensors(module: nn.Module) -> bool:
    return any(True for _ in module.parameters()) or any(True for _ in module.buffers())


def _not_run(module: nn.Module, traced: fx.GraphModule, absorbed: set) -> dict[str, dict]:
    """The parameters and buffers forward() never reaches, by the outermost module holding only such
    (googlenet's aux1): {path: {params, buffers}}, so the totals count every tensor the model holds."""
    called = [node.target + "." for node in traced.graph.nodes if node.op == "call_module"]
    # a module whose weights a function took (BatchNormAct2d's F.batch_norm) counts as called: the
    # layer holds its num_batches_tracked too
    called += [node.target.rpartition(".")[0] + "." for node in traced.graph.nodes
               if node.name in absorbed and "." in node.target]
    read = {node.target for node in traced.graph.nodes if node.op == "get_attr"}
    tensors = {name: (tensor.numel(), kind) for kind, named in (("params", module.named_parameters()),
                                                                ("buffers", module.named_buffers()))
               for name, tensor in named}
    used = {name for name in tensors if name in read or name.startswith(tuple(called))}
    reached = {".".join(name.split(".")[:i]) for name in used for i in range(1, name.count(".") + 2)}
    held: dict[str, dict] = {}
    for name in sorted(set(tensors) - used):
        parts = name.split(".")
        owner = next(".".join(parts[:i]) for i in range(1, len(parts) + 1) if ".".join(parts[:i]) not in reached)
        counts = held.setdefault(owner, {"params": 0, "buffers": 0})
        counts[tensors[name][1]] += tensors[name][0]
    return held


def _target(node) -> str:
    target = node.target
    return getattr(target, "__name__", str(target))


def _what(node, modules: dict) -> str:
    """What an operation is, as the refusal groups it: a module class, a function, a tensor method."""
    if node.op == "call_module":
        return f"{type(modules[node.target]).__name__} module"
    if node.op == "get_attr":
        return "parameter or buffer used as a tensor"
    return f"{'x.' if node.op == 'call_method' else ''}{_target(node)}"


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
    detail = tuple(f"{node.name}: {node.op} {_target(node)}" for node in unmapped)
    return SpecError(head + ", ".join(shown) + more, source, detail=detail)


MAX_LINE = 300  # characters of a refusal, the file named included


def _is_shape_query(node) -> bool:
    """x.size(...), x.shape, or an item of one: sizes, not tensors."""
    if node.op == "call_method" and node.target == "size":
        return True
    if node.op == "call_function" and node.target is getattr and node.args[1:] == ("shape",):
        return True
    return (node.op == "call_function" and node.target is operator.getitem and isinstance(node.args[0], fx.Node)
            and _is_shape_query(node.args[0]))


def _batch_size(node) -> bool:
    """x.size(0), x.shape[0], or item 0 of x.size(): the batch size, which a reshape writes as `batch`."""
    if node.op == "call_method" and node.target == "size":
        return node.args[1:] == (0,)
    if node.op != "call_function" or node.target is not operator.getitem or node.args[1] != 0:
        return False
    source = node.args[0]
    return isinstance(source, fx.Node) and (
        (source.op == "call_function" and source.target is getattr and source.args[1:] == ("shape",))
        or (source.op == "call_method" and source.target == "size" and len(source.args) == 1))


def _indexed_by(node, graph: _Traced):
    """The 1-d tensor of positions in table[index], or None."""
    if node.op != "call_function" or node.target is not operator.getitem or not isinstance(node.args[1], fx.Node):
        return None
    index = graph.values.get(node.args[1].name) if graph.values is not None else None
    return node.args[1] if isinstance(index, torch.Tensor) and index.dim() == 1 else None


def _piece_of(node):
    """The chunk, split or unbind call whose piece `node` takes (tuple[i]), or None."""
    if node.op != "call_function" or node.target is not operator.getitem or not isinstance(node.args[0], fx.Node):
        return None
    source = node.args[0]
    if source.op not in ("call_method", "call_function") or _target(source) not in PIECES:
        return None
    return source


class _Unmappable(Exception):
    """An argument computed in the graph, which a spec cannot state."""


def _moved(value, names: str, rank: int, layout: str):
    """Dims as cnncalc counts them on a tensor whose batch sits otherwise than torch's value says."""
    if names == DIM_ORDER:
        return MOVES[layout][1](value, rank)
    if names == SIZE_PER_DIM:  # the rows keep their number: expand(-1, -1, H, …) on (B·heads, …)
        if layout != ROWS:
            raise _Unmappable("sizes of a tensor whose batch is not its dim 0")
        return [value[0], -1, *value[1:]]
    if isinstance(value, (list, tuple)):
        return [_moved(v, names, rank, layout) for v in value]
    return MOVES[layout][0](value)


def _rows_second(dim: int) -> int:
    """A dim of (batch × rows, …) as cnncalc counts it on (batch, rows, …): one on; dim 0 mixes both."""
    if dim == 0:
        raise _Unmappable("dim 0")
    return dim + 1 if dim > 0 else dim


def _stack_second(dim: int) -> int:
    """A dim of torch.stack(outputs) (outputs, batch, …) as cnncalc counts it on (batch, outputs, …)."""
    if dim == 1:
        raise _Unmappable("dim 1, the batch")
    return 1 if dim == 0 else dim


def _whole_after_batch(dim: int) -> int:
    """A dim of a tensor with no batch, as cnncalc counts it after the batch of one it gives it."""
    return dim + 1 if dim >= 0 else dim


def _not_an_order(order, rank: int):
    raise _Unmappable("a permutation of the stacked outputs and the batch")


BATCHED, ROWS, WHOLE, STACKED = "batched", "rows", "whole", "stacked"
# per layout: how one dim moves, and how a permutation does
MOVES = {ROWS: (_rows_second, lambda order, rank: [0, 1, *(order[i] % rank + 1 for i in range(1, len(order)))]),
         WHOLE: (_whole_after_batch, lambda order, rank: [0, *(d % rank + 1 for d in order)]),
         STACKED: (_stack_second, _not_an_order)}


def _entry(node, graph: _Traced) -> LineDict | list | None:
    if node.op == "call_module":
        return _module_on(node, graph, _module_entry(graph.modules[node.target]))
    if node.name in graph.stored:
        return _parameter_entry(node, graph)
    if node.name in graph.without_input:
        return _constant_entry(node, graph)
    if node.op == "call_function" and node.target is operator.getitem:
        return graph.per_sample(node, _piece_entry(node, graph))
    if _target(node) == "repeat_interleave" and node.op in ("call_function", "call_method"):
        return _repeated_rows(node, graph)
    table = {"call_function": forms().functions, "call_method": forms().methods}.get(node.op, {})
    for kind, call in table.get(node.target, ()):  # F.batch_norm: batchnorm1d, 2d or 3d, by its input
        entry = _call_entry(node, kind, call, graph)
        entry = entry if isinstance(entry, list) else graph.reshaped(node, entry, kind)
        if isinstance(entry, list) or entry is not None and graph.takes(node, *next(iter(entry.items()))):
            return entry
    return None


def _repeated_rows(node, graph: _Traced) -> list[LineDict] | None:
    """x.repeat_interleave(k, dim=0): each sample k times in a row (GCViT's global query, one per
    window), which per sample is a new dim tiled k times."""
    try:
        repeats, dim = graph.argument(_given_value(node, "repeats", 1)), graph.argument(_given_value(node, "dim", 2))
    except _Unmappable:  # repeats per row, a tensor
        return None
    shape = graph.sample_shape(node.args[0])
    if not isinstance(repeats, int) or dim != 0 or shape is None or graph.layout(node.args[0]) != BATCHED:
        return None
    return [_stated("unsqueeze", {"dim": 1}, None), _stated("tile", {"dims": [1, repeats, *[1] * len(shape)]}, None)]


def _call_entry(node, kind: str, call, graph: _Traced) -> LineDict | None:
    try:
        fixed = [(graph.argument(_given_value(node, key, index)), allowed) for key, index, allowed in call.fixed]
    except _Unmappable:
        return None
    if any(value not in allowed for value, allowed in fixed):
        return None  # F.pad in reflect mode is no zero pad
    args = {key: node.kwargs[key] if key in node.kwargs else node.args[index]
            for key, index in call.positions if key in node.kwargs or index < len(node.args)}
    args = {key: value for key, value in args.items()  # a tensor is an input, never an argument
            if not (isinstance(value, fx.Node) and graph.is_tensor(value))} | dict(call.implied)
    if call.like is not None:  # y.expand_as(x): the sizes of x, the batch first
        like = graph.shape(node.args[1]) if len(node.args) > 1 and isinstance(node.args[1], fx.Node) else None
        if like is None:
            return None
        args[call.like] = [-1, *like[1:]]
    if kind == "einsum":
        args["equation"] = _per_sample_equation(node, graph)
    if isinstance(args.get("padding"), (list, tuple)) and len(args["padding"]) > 6:
        try:
            args["padding"] = _fewer_pairs(graph.argument(args["padding"]))
        except _Unmappable:
            return None
    if call.rest and len(node.args) > 1:  # x.view(-1, 400) or x.view((-1, 400))
        rest = node.args[1:]
        args[call.rest] = rest[0] if len(rest) == 1 and isinstance(rest[0], (list, tuple)) else rest
    added_bias = None
    if call.tensors:
        shapes = {key: _given(node, key, index) for key, index in call.tensors}
        if kind == "linear" and shapes.get("bias") is _COMPUTED and isinstance(shapes.get("weight"), fx.Node):
            # BEiT's bias, torch.cat((q_bias, zeros, v_bias)), made in forward(): a linear layer without
            # bias, then the bias added along the features
            added_bias, shapes["bias"] = _given_value(node, "bias", 2), None
        if any(shape is _COMPUTED for shape in shapes.values()):
            return None  # weights computed in forward(): no layer of fixed parameters
        if any(key in ("weight", "bias") and given is not None and not isinstance(graph.attribute(given), nn.Parameter)
               for key, given in shapes.items()):
            return None  # a fixed filter kept as a buffer (a blur pool's): the kind would count it as parameters
        read = call.reads({key: None if given is None else tuple(graph.attribute(given).shape)
                           for key, given in shapes.items()})
        if read is None:
            return None
        args.update(read)
    try:
        args = graph.moved(node, kind, {key: graph.argument(value) for key, value in args.items()})
    except _Unmappable:
        return None
    entry = None if args is None else _stated(kind, args, None)
    layer = REGISTRY[kind]
    if entry is None or layer.arity is None and len(graph.tensor_args(node)) < layer.fewest(layer.normalize(
            entry[kind] or {})):
        return None  # a tensor and a constant no argument states: not a join of layers
    if node.op == "call_function" and layer.can_be_functional:
        entry["functional"] = True
    if added_bias is not None:
        entry["from"] = graph.name_of(graph.tensor_args(node)[0])
        return [entry, LineDict({"add": None, "from": [_part(node, 1), graph.name_of(added_bias)]})]
    return entry


def _per_sample_equation(node, graph: _Traced) -> str | None:
    """An einsum's equation per sample: the batch's letter, first in each operand made from the input
    and in the output, left out (a tensor whose batch holds rows keeps it, for the rows); None where
    the batch is not such a letter."""
    operands = graph.tensor_args(node)
    parts, _, output = str(node.args[0]).replace(" ", "").partition("->")
    letters = parts.split(",")
    batched = [part for part, operand in zip(letters, operands) if operand.name not in graph.without_input]
    rows = {graph.merged(operand) for operand in operands if operand.name not in graph.without_input}
    if not batched or len(letters) != len(operands) or "." in parts or len(rows) > 1 or not output \
            or any(part[:1] != output[0] for part in batched) \
            or any(output[0] in part for part in letters if part not in batched):
        return None
    if rows == {True}:
        return f"{parts}->{output}"
    return ",".join(part[1:] if part in batched else part for part in letters) + "->" + output[1:]


def _fewer_pairs(padding: list) -> list:
    """F.pad's pairs beyond the third that pad nothing (Swin3D pads channels-last clips with 8 values,
    the first dims by 0) left out: a 3d pad states the rest."""
    while len(padding) > 6 and padding[-2:] == [0, 0]:
        padding = padding[:-2]
    return padding


def _part(node, step: int) -> str:
    """The name of step `step` of a call mapped to several layers (fx names have no dots)."""
    return f"{node.name}.part{step}"


def _given_value(node, key: str, index: int):
    return node.kwargs.get(key, node.args[index] if index < len(node.args) else None)


_COMPUTED = object()


def _given(node, key: str, index: int):
    """A call's parameter argument: the get_attr node passing it (through casts: self.weight.float()),
    None when not given, or _COMPUTED."""
    value = _given_value(node, key, index)
    if value is None:
        return None
    return _cast_of(value) or _COMPUTED


def _cast_of(value) -> fx.Node | None:
    """The get_attr node a value reads, itself or cast (weight.float(), weight.to(x.dtype)); else None."""
    while isinstance(value, fx.Node) and value.op == "call_method" and value.target in CASTS:
        value = value.args[0]
    return value if isinstance(value, fx.Node) and value.op == "get_attr" else None


CASTS = ("float", "to", "type_as")


def _stored_views(traced: fx.GraphModule, graph: _Traced) -> dict:
    """Each parameter read as a tensor, and each view of one alone that keeps its size (reshape,
    unsqueeze, permute, a cast): node name → the get_attr node of the parameter."""
    stored = {}
    for node in traced.graph.nodes:
        if node.op == "get_attr" and node.name not in graph.absorbed:
            stored[node.name] = node
            continue
        sources = [a for a in node.all_input_nodes if graph.is_tensor(a)]
        if (node.op in ("call_method", "call_function") and len(sources) == 1 and sources[0].name in stored
                and graph.shape(node) is not None
                and math.prod(graph.shape(node)) == graph.attribute(stored[sources[0].name]).numel()):
            stored[node.name] = stored[sources[0].name]
    return stored


def _without_input(traced: fx.GraphModule, graph: _Traced) -> tuple[set, set]:
    """The tensors forward() makes without its input: those computed from parameters and buffers or
    from nothing (a view of a parameter, torch.arange, sin and cos of a position encoding), and those
    layers make from them (a position bias MLP), which have no batch."""
    needs_input, reached, made = set(), set(), set()
    if graph.values is None:
        return made, set()  # shapes unknown: the analysis reports where the model breaks
    for node in traced.graph.nodes:
        if node.op == "placeholder":
            needs_input |= {node.name} if not needs_input else set()  # the first is the input
            reached |= needs_input
            continue
        # through tensors only (a size read off the input, x.shape, is a number); a module is a layer
        # even on a tensor made without the input (a projection of a position encoding)
        reads = [a for a in node.all_input_nodes if graph.holds_tensors(a) or a.op == "placeholder"]
        # a tensor sized by the batch (XCiT's pos.repeat(B, 1, 1, 1)) has the batch
        if not _reads_only_size(node) and any(a.name in reached for a in reads) or any(
                _batch_size(a) for a in node.all_input_nodes):
            reached.add(node.name)
        if node.op == "call_module" or not _reads_only_size(node) and any(a.name in needs_input for a in reads):
            needs_input.add(node.name)
        elif graph.holds_tensors(node) and node.name not in graph.absorbed:  # chunk's pieces too
            made.add(node.name)
    return made, {name for name in needs_input - reached if isinstance(graph.values.get(name), torch.Tensor)}


def _ensembles(traced: fx.GraphModule, graph: _Traced) -> set:
    """torch.stack(outputs) then a mean, sum or max over them (crossvit's heads): stacked before the
    batch, which cnncalc reads as after it."""
    found = set()
    for node in traced.graph.nodes:
        if node.op == "call_function" and node.target is torch.stack and graph.shape(node) is not None \
                and _given_value(node, "dim", 1) in (None, 0) and node.users and all(
                    _target(user) in REDUCTIONS and _given_value(user, "dim", 1) in (0, (0,), [0])
                    for user in node.users):
            found.add(node.name)
    return found


REDUCTIONS = ("mean", "sum", "amax")


def _reads_only_size(node) -> bool:
    """x.new_zeros(size), torch.zeros_like(x): a tensor made new, that reads of x only its type."""
    return _target(node) in NEW_TENSORS and node.op in ("call_method", "call_function")


NEW_TENSORS = {"new_zeros", "new_ones", "new_full", "new_empty", "new_tensor", "zeros_like", "ones_like",
               "full_like", "empty_like"}


def _absorbed(traced: fx.GraphModule) -> set:
    """The parameters passed to calls that take their layer's own weights (F.layer_norm(x, shape,
    self.weight, self.bias)): those count with the layer, not as tensors of their own."""
    taken = set()
    for node in traced.graph.nodes:
        calls = forms().functions.get(node.target, ()) if node.op == "call_function" else ()
        for key, index in calls[0][1].tensors if calls else ():
            given = _given_value(node, key, index)
            while isinstance(given, fx.Node) and _cast_of(given) is not None:  # the parameter and its casts
                taken.add(given.name)
                given = given.args[0] if given.op == "call_method" else None
    return taken


def _module_on(node, graph: _Traced, entry: LineDict | None) -> LineDict | None:
    """A module's layer as it reads its input per sample; on rows in the batch (MViT's B·heads) that
    it takes only one by one (a pooling conv), a layer per row."""
    sources = graph.tensor_args(node)
    moved = graph.per_sample(node, entry)
    if entry is None or len(sources) != 1 or graph.layout(sources[0]) != ROWS \
            or moved is not None and graph.takes(node, *next(iter(moved.items()))):
        return moved
    kind, args = next(iter(entry.items()))
    return LineDict({**entry, "per_row": True}) if graph.takes(node, kind, args, per_row=True) else moved


def _module_entry(module: nn.Module) -> LineDict | None:
    found = mapped(module)
    if found is None:
        return None
    kind, attributes = found
    args = {}
    for arg in REGISTRY[kind].args:
        value = getattr(module, attributes.get(arg.name, arg.name), arg.default)
        if isinstance(arg.default, bool) and not isinstance(value, bool):
            value = value is not None  # the Parameter or None torch keeps (bias, bias_k)
        args[arg.name] = list(value) if isinstance(value, tuple) else value
    return _stated(kind, args, None)


def _stated(kind: str, args: dict, graph: _Traced | None) -> LineDict | None:
    """The layer as a spec states it, or None where it cannot: an argument computed from tensors,
    or a setting the kind refuses."""
    try:
        constants = {key: graph.argument(value) for key, value in args.items()} if graph else args
        return LineDict({kind: _non_default(kind, constants) or None})
    except (_Unmappable, LayerError):
        return None


def _restated(entry: dict, kind: str, args: dict) -> LineDict | None:
    """The entry with another kind or arguments, its other keys (functional) kept."""
    stated = _stated(kind, args, None)
    return None if stated is None else LineDict({**stated, **{k: v for k, v in entry.items() if k in SPEC_KEYS}})


SPEC_KEYS = ("functional",)


def _made_while_tracing(read) -> bool:
    """fx's own constants: tensors forward() made from numbers alone (torch.arange(8)), which the model
    does not hold."""
    return read.target.startswith("_tensor_constant")


def _parameter_entry(node, graph: _Traced) -> LineDict | None:
    """A parameter or buffer read as a tensor (or a view of one): a layer of no input. Read again
    (ConViT's gate and 1 - gate), it is counted where first read."""
    shape = graph.sample_shape(node)
    if shape is None:
        return None
    read = graph.stored[node.name]
    if read.name in graph.counted or _made_while_tracing(read):
        return _stated("constant", {"shape": list(shape)}, None)
    graph.counted.add(read.name)
    tensor = graph.attribute(read)
    return _stated("parameter", {"shape": list(shape), "buffer": not isinstance(tensor, nn.Parameter)}, None)


def _constant_entry(node, graph: _Traced) -> LineDict | None:
    """A tensor computed without the input, counting the parameters and buffers it is made from
    (each once, however many constants read it)."""
    shape = graph.sample_shape(node)
    if shape is None:
        return None
    made_from = graph.made_from(node)
    tensors = [graph.attribute(read) for name, read in made_from.items()
               if name not in graph.counted and not _made_while_tracing(read)]
    graph.counted |= set(made_from)
    params = sum(t.numel() for t in tensors if isinstance(t, nn.Parameter))
    buffers = sum(t.numel() for t in tensors if not isinstance(t, nn.Parameter))
    return _stated("constant", {"shape": list(shape), "params": params, "buffers": buffers}, None)


def _piece_entry(node, graph: _Traced) -> LineDict | None:
    """A piece of a tensor: tuple[i] of chunk, split or unbind, or x[index] (x[:, :c], x[:, 0],
    x[..., 1::2, 0::2, :]): narrow, slice or select per dim cut."""
    source = _piece_of(node)
    if source is not None:
        return _chunk_piece(node, source, graph)
    if _indexed_by(node, graph) is not None:
        return _stated("indexselect", {"dim": 0}, None)
    if _unstacked(node.args[0], graph) is not None and isinstance(node.args[1], int):
        return _unstacked_piece(node.args[0], node.args[1], graph)  # qkv[0] of qkv.permute(2, 0, …)
    shape = graph.shape(node.args[0])
    if shape is None:
        return None
    try:
        index = graph.argument(node.args[1])
    except _Unmappable:
        return None
    index = list(index) if isinstance(index, (list, tuple)) else [index]
    if index.count(Ellipsis) > 1 or None in index or any(  # x[None], or x[:B] with B the batch
            isinstance(i, slice) and not all(p is None or isinstance(p, int) for p in (i.start, i.stop, i.step))
            for i in index):
        return None
    if Ellipsis in index:
        at = index.index(Ellipsis)
        index[at:at + 1] = [slice(None)] * (len(shape) - len(index) + 1)
    entries = [_cut(dim, item, shape[dim]) for dim, item in reversed(list(enumerate(index)))
               if not (isinstance(item, slice) and item.indices(shape[dim]) == (0, shape[dim], 1))]
    if not entries:  # x[:, :H] where H is the whole height: the tensor itself
        return _stated("narrow", {"dim": -1, "start": 0, "length": shape[-1]}, None)
    return None if None in entries else entries[0] if len(entries) == 1 else entries


def _cut(dim: int, item, size: int) -> LineDict | None:
    """One dim of an index, last dims first so the earlier ones keep their numbers: select, narrow or
    a slice with a step; None for the batch or a list of indices."""
    if dim == 0 or not isinstance(item, (int, slice)):
        return None
    if isinstance(item, int):
        return _stated("select", {"dim": dim, "index": item}, None)
    start, stop, step = item.indices(size)
    if step == 1:
        return _stated("narrow", {"dim": dim, "start": start, "length": stop - start}, None)
    return _stated("slice", {"dim": dim, "start": start, "end": stop, "step": step}, None)


def _chunk_piece(node, source, graph: _Traced) -> LineDict | None:
    pieces, index = graph.values.get(source.name) if graph.values else None, node.args[1]
    if pieces is None:
        return None
    if _target(source) == "max":  # x.max(dim)[0], the values: amax; [1] is where they are
        dim, keepdim = _given_value(source, "dim", 1), _given_value(source, "keepdim", 2)
        return _stated("amax", {"dim": dim, "keepdim": bool(keepdim)}, None) if index == 0 and dim is not None \
            else None
    position = 1 if _target(source) == "unbind" else 2
    dim = source.kwargs.get("dim", source.args[position] if len(source.args) > position else 0)
    dim = dim % pieces[0].dim() if _target(source) != "unbind" else dim % (pieces[0].dim() + 1)
    if dim == 0 and _target(source) == "unbind" and _unstacked(source.args[0], graph) is not None:
        return _unstacked_piece(source.args[0], index, graph)
    if dim == 0:
        return None  # pieces of the batch
    if _target(source) == "unbind":
        return _stated("select", {"dim": dim, "index": index}, None)
    start = sum(piece.shape[dim] for piece in pieces[:index])
    return _stated("narrow", {"dim": dim, "start": start, "length": pieces[index].shape[dim]}, None)


def _unstacked(node, graph: _Traced) -> tuple[int, ...] | None:
    """The dims of a permute that puts one axis before the batch only to take its pieces
    (attention's qkv.permute(2, 0, 3, 1, 4), then unbind(0) or qkv[0]); otherwise None."""
    if node.op not in ("call_method", "call_function") or _target(node) != "permute" or graph.values is None:
        return None
    dims = graph.values[node.name].dim()
    order = node.args[1:] if node.op == "call_method" and not isinstance(node.args[1], (list, tuple)) \
        else node.args[1]
    order = tuple(d % dims for d in order) if all(isinstance(d, int) for d in order) else None
    pieces = all(user.op == "call_function" and user.target is operator.getitem and isinstance(user.args[1], int)
                 or _target(user) == "unbind" and user.kwargs.get("dim", user.args[1] if len(user.args) > 1 else 0) == 0
                 for user in node.users)
    return order if order and order[0] != 0 and order[1] == 0 and pieces else None


def _unstacked_piece(permute, index: int, graph: _Traced) -> list[LineDict] | None:
    """Piece `index` of an unstacked permute: select it on the input, then order the rest."""
    order = _unstacked(permute, graph)
    axis = order[0]
    rest = [d - (d > axis) for d in order[1:]]
    select = _stated("select", {"dim": axis, "index": index}, None)
    if rest == sorted(rest):
        return select
    permute_entry = _stated("permute", {"dims": rest}, None)
    return None if select is None or permute_entry is None else [select, permute_entry]


def _non_default(kind: str, args: dict) -> dict:
    """The arguments that differ from PyTorch's defaults, per-axis values collapsed when equal."""
    layer = REGISTRY[kind]
    normalized = layer.normalize({k: v for k, v in args.items() if v is not None or layer.defaults.get(k) is None})
    return {k: v[0] if isinstance(v, list) and v and len(set(v)) == 1 and layer.spatial_dims else v
            for k, v in args.items() if k not in DROPPED_ARGUMENTS and normalized[k] != layer.defaults.get(k)}
