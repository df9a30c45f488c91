"""The recorded run as the importer reads it: where each tensor keeps its batch (its layout), each
tensor's shape per sample, which tensors are made without the input, which parameters a call takes
as its layer's own weights, and how a call's arguments read per sample."""
from __future__ import annotations

import math
import operator
from dataclasses import dataclass, field, replace

import torch

from ..errors import LayerError
from ..graph import INPUT, Scope
from ..layers import REGISTRY
from ..layers.rearrange import BATCH
from ..layers.registry import BATCH_FIRST, DIM_ORDER, SIZE_PER_DIM
from .capture import Recorded, Step
from .forms import calls_of, forms, mapped, multiplies
from .tracing import PROBE_BATCH


def read_graph(recorded: Recorded, values: dict, others: tuple[str, ...] = (), batch: int = PROBE_BATCH) -> Traced:
    """The run's steps with what the mapping needs to know of each; `others`: forward()'s inputs after
    the first, by name; `batch`: the run's."""
    placeholders = [node for node in recorded.steps if node.op == "placeholder"]
    inputs = {node.name: INPUT if index == 0 else node.target for index, node in enumerate(placeholders)
              if index == 0 or node.target in others}
    shapes = {name: tuple(value.shape) for name, value in values.items() if isinstance(value, torch.Tensor)}
    graph = Traced(recorded=recorded, values=values, shapes=shapes, absorbed=_absorbed(recorded),
                   inputs=inputs, batch=batch, made=Made(counted=_held_by_layers(recorded)))
    # each reading asks the ones before it
    graph = _then(graph, stored=_stored_views(graph))
    without_input, free, batch_sized = _without_input(graph)
    graph = _then(graph, without_input=without_input, free=free, batch_sized=batch_sized)
    graph = _then(graph, stacked=_ensembles(graph))
    graph = _then(graph, sample_rows=_sample_rows(graph) if batch == 1 else set())
    # in a run of one sample a size 1 is no batch to tell apart from rows: neither layout is looked for
    graph = _then(graph, sequence_first=_sequence_first(graph))
    return _then(graph, mixing=_mixing(graph) if batch > 1 else set())


def _then(graph: "Traced", **found) -> "Traced":
    """The graph with what a reading found; the tensor arguments and layouts the readings before it
    were told (Traced.tensors_read, Traced.layouts_read) are asked again, of what it knows now."""
    return replace(graph, **found, tensors_read={}, layouts_read={})


def _held_by_layers(recorded: Recorded) -> set:
    """The parameters and buffers read as tensors that a module layer also holds (a codebook's
    embedding.weight read for distances, then looked up by the module): its kind counts them."""
    layers = {node.target for node in recorded.steps if node.op == "call_module"
              and recorded.users.get(node.name) and mapped(recorded.modules[node.target]) is not None}
    return {node.name for node in recorded.steps
            if node.op == "get_attr" and node.target.rpartition(".")[0] in layers}


DROPPED_ARGUMENTS = {"return_indices", "inplace_"}


PIECES = {"chunk", "split", "tensor_split", "unbind", "max", "min"}  # calls returning a tuple (x.max(1): values, indices)


@dataclass
class Made:
    """What the mapping has made so far, the one part of its reading that grows as it goes: each mapped
    step's layer name, the names taken, how many layers took each name's base, and the parameters and
    buffers a layer already counts."""
    counted: set  # those a module layer holds are counted from the start
    names: dict = field(default_factory=dict)
    used: set = field(default_factory=set)
    calls: dict = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class Traced:
    """The recorded run as the mapping reads it: its steps and modules, every step's value in the run,
    what read_graph found of its tensors, and what the mapping has made so far (`made`)."""
    recorded: Recorded
    values: dict
    shapes: dict  # step → its tensor's shape, as a tuple (asked thousands of times a read)
    absorbed: set  # parameters a function call reads as its own weights (F.linear(x, self.weight))
    inputs: dict  # the placeholders that are the model's inputs → their names (the first: input)
    batch: int = PROBE_BATCH  # the run's (1: one sample, every tensor of a per-image loop its own)
    made: Made
    stored: dict = field(default_factory=dict)  # node → the parameter it is a view of (gamma.reshape(1, -1, 1, 1))
    without_input: set = field(default_factory=set)  # tensors made without the model's input
    stacked: set = field(default_factory=set)  # torch.stack(outputs) reduced over the outputs: an ensemble
    free: set = field(default_factory=set)  # tensors layers make from constants alone (Swin v2's bias MLP)
    # tensors made without the input but sized by its batch (BERT's token_type_ids.expand(B, L))
    batch_sized: set = field(default_factory=set)
    sample_rows: set = field(default_factory=set)  # in a run of one, tensors whose dim 0 is rows, even 1 of them
    sequence_first: set = field(default_factory=set)  # tensors whose batch is dim 1 (L, B, E): see _sequence_first
    mixing: set = field(default_factory=set)  # tensors whose last dim is the batch, moved there: see _mixing
    tensors_read: dict = field(default_factory=dict)  # step → its tensor_args, asked many times while mapping
    layouts_read: dict = field(default_factory=dict)  # step → its layout, likewise

    @property
    def modules(self) -> dict:
        """The model's modules by path."""
        return self.recorded.modules

    def users_of(self, node) -> tuple[Step, ...]:
        """The steps that read a step's value."""
        return self.recorded.users.get(node.name, ())

    def inside_constant(self, node) -> bool:
        """A step of making a tensor without the input (viewing a parameter, computing a position
        encoding) that only further such steps read: the last step is the layer, and so is one forward()
        returns (Mask R-CNN's masks.new_empty((0, 1, H, W)) when it kept no detection)."""
        return node.name in self.without_input and all(
            user.name in self.without_input and user.op != "output"  # not weight.dtype
            for user in self.users_of(node) if self.is_layer(user) or user.op == "output")

    def is_layer(self, node) -> bool:
        """A tensor, or a module that returns a tuple (MultiheadAttention's output and weights, LSTMCell's h and
        c)."""
        return self.is_tensor(node) or node.op == "call_module" and (
            mapped(self.modules[node.target]) is not None or self.holds_tensors(node))

    def holds_tensors(self, node) -> bool:
        """A tensor, or a tuple of them (chunk's pieces): not a number or a size."""
        value = self.values.get(node.name)
        return isinstance(value, torch.Tensor) or (isinstance(value, (tuple, list))
                                                   and any(isinstance(v, torch.Tensor) for v in value))

    def is_tensor(self, node) -> bool:
        """A tensor with elements, or with no rows made from the input (a detector's boxes when the run
        kept none); an empty piece along another dim (x[:, :0], which rotary embeddings concatenate
        back) is none, and so is a 1-d empty tensor made from nothing that is only concatenated to, which
        torch.cat skips (a cache's torch.tensor([]), which the first keys join; not MultiScaleRoIAlign's
        image ids of no boxes, (0, 1), a column of its rois)."""
        value = self.values.get(node.name)
        return isinstance(value, torch.Tensor) and (value.numel() > 0 or value.dim() > 0 and value.shape[0] == 0 and (
            node.name not in self.without_input or value.dim() > 1
            or any(target_name(user) != "cat" for user in self.users_of(node))))

    def same_as_source(self, node) -> bool:
        """A module's tuple output read at 0 (MultiheadAttention's output): the layer itself."""
        source = node.args[0] if node.op == "call_function" and node.target is operator.getitem else None
        if source is None or source.name not in self.made.names or node.args[1] != 0 \
                or not isinstance(self.values.get(source.name), (tuple, list)):  # box[0] of a box is a coordinate
            return False
        self.made.names[node.name] = self.made.names[source.name]
        return True

    def tensor_args(self, node) -> tuple:
        """The tensors a call reads, those passed in a list (torch.cat's) included; a piece of a
        chunk reads the chunked tensor; y.expand_as(x) and y.to(x) read y (x gives only its shape or type)."""
        read = self.tensors_read.get(node.name)
        if read is None:
            read = self.tensors_read[node.name] = tuple(self._tensor_args(node))
        return read

    def _tensor_args(self, node) -> list:
        if node.name in self.without_input:
            return []  # a parameter or constant reads no layer
        if node.op == "call_method" and node.target in ("expand_as", "view_as", "reshape_as", "type_as", "to") \
                or target_name(node) in RESIZING:  # a size given as a 0-d tensor (Longformer's torch.div of sizes)
            return [node.args[0]]
        if indexed_by(node, self) is not None:  # table[index]: both are read
            return [node.args[0], indexed_by(node, self)]
        if index_tensors(node, self) is not None:
            return [node.args[0], *index_tensors(node, self)]
        if node.op == "call_function" and node.target is operator.getitem:
            source = piece_of(node) or node
            whole = source.args[0]
            if source is node and returns_several(whole, self):  # topk's values or indices: what topk read
                return self.tensor_args(whole)
            return [_unstacked_source(whole) if unstacked(whole, self) is not None else whole]
        given = [*node.args, *node.kwargs.values()]  # attn_mask=bias is an input too
        flat = [a for arg in given for a in (arg if isinstance(arg, (list, tuple)) else [arg])]
        return [a for a in flat if isinstance(a, Step) and self.is_tensor(a) and a.name not in self.absorbed]

    def attribute(self, node) -> torch.Tensor:
        """The parameter or buffer a get_attr node reads."""
        return self.recorded.attribute(node.target)

    def name_of(self, node) -> str:
        if node.op == "placeholder":
            return self.inputs.get(node.name, INPUT)
        return self.made.names.get(node.name, node.name)

    def weights_read(self, node) -> list:
        """The parameters a call takes as its own weights (F.linear's self.weight), as their get_attr steps."""
        return [a for a in node.sources if a.name in self.absorbed]

    def made_from(self, node) -> dict:
        """The parameters and buffers a tensor made without the input is made from: name → get_attr node;
        a call's own weights too, where the call is part of the tensor (OPT's learned positions, F.embedding
        of positions made from torch.ones)."""
        found, stack = {}, [node]
        while stack:
            current = stack.pop()
            if current.op == "get_attr":
                found[current.name] = current
            if not _reads_only_size(current):  # torch.zeros_like(table) is made of nothing of it
                stack += [a for a in current.sources if a.name in self.without_input or a.name in self.absorbed]
        return found

    def named(self, node) -> str:
        """A module keeps its path (stem.0), a tensor made from one parameter its name (class_token), a
        function the path of the module it runs in and its own name (layer1.0.add), as print(model)
        reads; a name met again counts its calls (layer1.0.relu(2))."""
        path = node.target if node.op == "call_module" else None
        if node.name in self.without_input and len(self.made_from(node)) == 1:
            path = next(iter(self.made_from(node).values())).target
        inside = self.scopes(node)  # a function's: every module it runs in, the innermost last
        base = path or ".".join(part for part in (inside[-1].name if inside else "", target_name(node)) if part)
        name = base
        while name in self.made.used:
            self.made.calls[base] = self.made.calls.get(base, 1) + 1
            name = f"{base}({self.made.calls[base]})"
        self.made.names[node.name] = name
        self.made.used.add(name)
        return name

    def scopes(self, node) -> tuple[Scope, ...]:
        """The modules a layer runs inside, outermost first, as `--depth` collapses them."""
        return node.scope[:-1] if node.op == "call_module" else node.scope  # not the module itself

    def argument(self, value):
        """An argument as a spec writes it: the batch size as `batch`; a size computed from shapes
        as its value; a tensor computed in the graph is unmappable."""
        if isinstance(value, (list, tuple)):
            return [self.argument(v) for v in value]
        if isinstance(value, slice):
            return slice(self.argument(value.start), self.argument(value.stop), self.argument(value.step))
        if not isinstance(value, Step):
            return value
        sized = _sized(value) if is_batch_size(value) else None
        if sized is not None and sized.name not in self.without_input and sized.name not in self.free \
                and not (self.batch == 1 and self.layout(sized) == ROWS):
            return BATCH  # not a parameter's dim 0 (table.shape[0], its heads), nor a count of the sample's rows
        if value.name not in self.values:
            raise Unmappable(value.name)
        known = self.values[value.name]
        if self.batch == 1 and isinstance(known, torch.Tensor) and known.dim() == 0 and not known.is_floating_point():
            return int(known)  # in a run of one, a number its data decided (a box's corner as a slice's bound)
        if known is None or isinstance(known, (int, float, bool)):  # attn_mask=None, forward()'s default
            return known
        if isinstance(known, torch.Size):
            return list(known)
        raise Unmappable(value.name)

    def takes(self, node, kind: str, args: dict | None, per_row: bool = False) -> bool:
        """Whether the kind's calculator takes this call's inputs, or each of their rows (unknown shapes:
        assumed so)."""
        shapes = [self.sample_shape(a) for a in self.tensor_args(node)]
        if None in shapes:
            return True
        shapes = [shape[1:] for shape in shapes] if per_row else shapes
        layer = REGISTRY[kind]
        try:
            normalized = layer.normalize(args or {})
            if layer.wrong_inputs(normalized, len(shapes)):
                return False
            layer.calculate(tuple(shapes), normalized)
        except LayerError:
            return False
        return True

    def sized_by_batch(self, node) -> bool:
        """A tensor made without the input whose dim 0 is the batch, or rows of it (XCiT's
        pos.repeat(B, 1, 1, 1), BERT's token types expanded to the batch), or dim 1 of one whose batch is
        there (a recurrent layer's h_0, torch.zeros(layers, B, hidden)): one per sample."""
        shape, at = self.shape(node), 1 if node.name in self.sequence_first else 0
        return node.name in self.batch_sized and shape is not None and len(shape) > at \
            and shape[at] % self.batch == 0

    def making(self, node) -> int:
        """Of a tensor made without the input for each sample, the bytes per sample of the largest storage
        made on the way to it (of those sized by the batch too), besides its own: Gemma 4's int64 one-hot
        positions, before their cast to float. At least that is held with it while it is made."""
        sizes, stack, seen = {storage_of(self.values[node.name]): 0}, list(node.sources), set()
        while stack:
            current = stack.pop()
            if current.name in seen or current.name not in self.without_input:
                continue
            seen.add(current.name)
            value = self.values.get(current.name)
            if isinstance(value, torch.Tensor) and self.sized_by_batch(current):
                sizes.setdefault(storage_of(value), value.untyped_storage().nbytes() // self.batch)
            stack += current.sources
        return max(sizes.values())

    def sample_shape(self, node) -> tuple[int, ...] | None:
        """A tensor's shape per sample, as cnncalc sees it: a parameter's as its first user meets it
        (a stored (1, 197, 768) with batched (B, 197, 768) tensors is 197×768; a (C,) with
        (B, H, W, C) is 1×1×C); None where that cannot be said."""
        shape = self.shape(node)
        if shape is None:
            return None
        if node.name in self.mixing:
            return _at_a_batch_of_one(shape, self.batch)
        # what layers make of constants alone meets the input's tensors as a constant does: a bias, (1, heads, N, N),
        # or a matrix (a graph's normalized adjacency, D^-1/2 A D^-1/2, times each sample's node features)
        free_met = node.name in self.free and any(
            user.name not in self.free and user.name not in self.without_input
            for user in self.users_of(node))
        if node.name not in self.without_input and not free_met:
            if not shape:  # a number: of the batch, or in a run of one the sample's, met as a constant is
                return None if self.batch > 1 else self._as_met(node, shape, (1,)) or ()
            return SAMPLE_SHAPES[self.layout(node)](shape, self.batch)
        if node.name in self.mixing:
            return _at_a_batch_of_one(shape, self.batch)
        if node.name in self.sequence_first:  # a learned query expanded along dim 1, (1, B, E)
            return SAMPLE_SHAPES[SEQUENCE_FIRST](shape, self.batch)
        if self.sized_by_batch(node):
            return shape[1:] if shape[0] == self.batch else (shape[0] // self.batch, *shape[1:])
        if self.batch == 1 and shape[:1] == (0,):  # in a run of one, no rows of the sample, made from nothing
            return shape  # (Keypoint R-CNN's keypoints, torch.zeros((len(rois), 3, K)), when it kept none)
        if any(target_name(user) == "einsum" or positions_read(user, self) is node
               or given_as_input(node, user, self.modules)
               or node in (index_tensors(user, self) or ())
               or target_name(user) in MATRIX_PRODUCTS and len(shape) <= 2 for user in self.users_of(node)):
            # an einsum names each of its dims; an index's are the positions it holds; filters; a matrix
            # (or vector) in a product is each sample's whole (pooled @ self.proj)
            return shape
        # a stored tensor's leading 1 is the batch it broadcasts over; one computed from x.shape
        # (torch.zeros(B, H, W)) has the batch itself
        return self._as_met(node, shape, (1,) if node.name in self.stored else (1, self.batch))

    def _as_met(self, node, shape: tuple[int, ...], batches: tuple[int, ...]) -> tuple[int, ...] | None:
        """A tensor with no batch of its own, per sample as the input's tensors reading it meet it: its dims
        lined up on the right, the rest 1; `batches` the sizes its leading dim may have where it is theirs."""
        met = [(user, self.sample_shape(user)) for user in self.users_of(node) if user.name not in self.without_input]
        users = [shape[:-1] if self.looks_up(user, node) else shape  # ids: the lookup adds the vector's dim
                 for user, shape in met if shape is not None]  # not its sizes (cls_token.shape)
        rank = len(users[0]) + 1 if users else None  # the batch's dim included
        if rank is not None and len(shape) == rank and shape[1:2] == (1,) and any(
                user.name in self.sequence_first for user in self.users_of(node)):  # positions (L, 1, E) by (L, B, E)
            return SAMPLE_SHAPES[SEQUENCE_FIRST](shape, self.batch)
        met = _at_rank(shape, rank, batches)
        return met if met is not None else _at_rank(shape, self._rank_beside(node), batches)

    def _rank_beside(self, node) -> int | None:
        """The rank (the batch's dim included) of the input's tensors read beside a tensor (made for each sample,
        not of constants alone), where they agree: what a reduction of both, of fewer dims than they have, cannot
        say of it (F.cosine_similarity(z.unsqueeze(1), prototypes.unsqueeze(0), dim=-1))."""
        beside = [self.sample_shape(other) for user in self.users_of(node) for other in self.tensor_args(user)
                  if other is not node and other.name not in self.without_input and other.name not in self.free]
        ranks = {len(found) + 1 for found in beside if found is not None}
        return ranks.pop() if len(ranks) == 1 else None

    def looks_up(self, user, ids) -> bool:
        """Whether `user` is a lookup table reading `ids` (BERT's position_ids into its embedding)."""
        if user.op == "call_module":
            kinds = [mapped(self.modules[user.target]) or (None,)]
        else:
            kinds = calls_of(user) if user.args[:1] == (ids,) else ()
        return any(kind in REGISTRY and REGISTRY[kind].family == "embedding" for kind, *_ in kinds)

    def layout(self, node) -> str:
        """Where a tensor's batch is, against torch's value: dim 0 (BATCH), dim 0 holding rows per
        sample (ROWS), nowhere (WHOLE: made by layers from constants, Swin v2's bias MLP), or dim 1
        (STACKED outputs)."""
        found = self.layouts_read.get(node.name)
        if found is None:
            found = self.layouts_read[node.name] = self._layout(node)
        return found

    def _layout(self, node) -> str:
        shape = self.shape(node)
        if node.name in self.sequence_first:
            return SEQUENCE_FIRST
        if node.name in self.stacked:
            return STACKED
        if node.name in self.sample_rows:
            return ROWS  # one box kept: a row, not the batch
        if not shape or node.name in self.without_input or shape[0] == 1:
            return BATCHED  # a leading 1 is the batch it broadcasts over
        if node.name in self.free:
            return WHOLE
        return BATCHED if shape[0] == self.batch else ROWS

    def per_sample(self, node, entry: dict | list | None) -> dict | list | None:
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
        if args == (entry[kind] or {}) and all(key == kind or key in KEPT_KEYS for key in entry):
            return entry  # as torch reads it (most modules): stated already
        return None if args is None else restated(entry, kind, args)

    def reshaped(self, node, entry: dict | None, kind: str) -> dict | None:
        """A reshape to or from a tensor whose batch is not torch's dim 0 (see layout), or whose sizes are
        computed (B·nW), as the sizes it makes; a layer that gives a batchless tensor its batch of one
        (x.unsqueeze(0) on a bias made by layers) likewise, and an expand that only puts a batch of one in
        front of a row (Mask R-CNN's mask.expand((1, 1, -1, -1))), a view. Any other entry as it is."""
        sources = self.tensor_args(node)
        if kind in PERMUTING and sources and SEQUENCE_FIRST in (self.layout(sources[0]), self.layout(node)):
            return self.reordered(node, sources[0], entry)
        if sources and self.layout(sources[0]) == SEQUENCE_FIRST and self.layout(node) not in BATCH_AT:
            return None  # the batch merged into the dims after the sequence (MViT's (T, B·H·N, C)): no sample's shape
        source = self.layout(sources[0]) if sources else BATCHED
        # (a product of such a tensor and the input's, C @ x, is no reshape of it)
        switched = len(sources) == 1 and sources[0].name in self.free and source != self.layout(node)
        rebatched = kind == "expand" and bool(sources) and source != self.layout(node) \
            and math.prod(self.shape(node)) == math.prod(self.shape(sources[0]))
        # a batch-first tensor given a layers dim as a recurrent layer's state (hidden.unsqueeze(0)), or the reverse
        restacked = kind in ("unsqueeze", "squeeze") and source != self.layout(node) \
            and SEQUENCE_FIRST in (source, self.layout(node))
        if kind in ("reshape", "flatten") and (entry is None or BATCHED != source or BATCHED != self.layout(node)) \
                or switched or rebatched or restacked:
            shape = self.sample_shape(node)
            return None if shape is None else restated(entry or {}, "reshape", _sizes(shape))
        return entry

    def reordered(self, node, source, entry: dict | None) -> dict | None:
        """A permute or transpose to or from a tensor whose batch is dim 1 (x.permute(2, 0, 1) on
        (B, C, HW), the sequence first), as the permute it is per sample; None where the batch lands on
        neither dim 0 nor 1."""
        rank = len(self.shape(source))
        order = _torch_order(node, rank)
        at = BATCH_AT.get(self.layout(source))
        if order is None or at is None or order.index(at) != BATCH_AT.get(self.layout(node)):
            return None
        kept = [dim - (dim > at) for dim in order if dim != at]  # the sample's dims, in their new order
        return restated(entry or {}, "permute", {"dims": [0, *(dim + 1 for dim in kept)]})

    def with_users_rank(self, node, entries: list) -> list:
        """A bias made by layers, (1, heads, N, N), meeting the input's windows (B·nW, heads, N, N), or in a
        run of one a number of the sample's (x.mean()) meeting its tensors: a reshape gives it their rank per
        sample, as broadcasting does."""
        shape = self.shape(node)
        bias = bool(shape) and shape[0] == 1 and node.name in self.free
        number = shape == () and self.batch == 1 and node.name not in self.without_input
        if "reshape" in entries[-1] or not (bias or number):
            return entries
        padded = self.sample_shape(node)
        if padded is None or len(padded) == max(len(shape) - 1, 0):
            return entries
        return [*entries, {"reshape": _sizes(padded)}]

    def moved(self, node, kind: str, args: dict) -> dict | None:
        """A layer's arguments with the dims they name where cnncalc counts them (see layout); None
        where a dim mixes the batch with others."""
        sources = self.tensor_args(node)
        if self.batch == 1:  # a constant beside the sample's rows (cat([ids, boxes], 1), labels[keep]): the rows say
            sources = [source for source in sources if source.name not in self.without_input] or sources
        layout = STACKED if node.name in self.stacked else self.layout(sources[0]) if sources else BATCHED
        if layout == BATCHED:
            return args
        if layout == ROWS and self.batch == 1:  # a detector's proposals: rows of the one sample, no batch mixed in
            layout = SAMPLE_ROWS
        layer, rank = REGISTRY[kind], len(self.shape(sources[0]))
        try:
            for arg in layer.args:
                value = args.get(arg.name, layer.defaults.get(arg.name))
                if arg.names_dims and value is not None:
                    args[arg.name] = _moved(value, arg.names_dims, rank, layout)
        except Unmappable:
            return None
        return args

    def shape(self, node) -> tuple[int, ...] | None:
        return self.shapes.get(node.name)


PERMUTING = ("permute", "transpose")


def _torch_order(node, rank: int) -> list[int] | None:
    """The permutation a permute or transpose call makes of its tensor's dims; None where computed."""
    if target_name(node) in ("transpose", "swapaxes", "swapdims"):
        pair = [given_value(node, "dim0", 1), given_value(node, "dim1", 2)]
        if not all(isinstance(dim, int) for dim in pair):
            return None
        order = list(range(rank))
        first, second = (dim % rank for dim in pair)
        order[first], order[second] = second, first
        return order
    given = node.args[1:] if len(node.args) > 2 or not isinstance(node.args[1:2][0] if node.args[1:] else None,
                                                                     (list, tuple)) else node.args[1]
    given = given or node.kwargs.get("dims", ())
    return [dim % rank for dim in given] if given and all(isinstance(dim, int) for dim in given) else None


def _sizes(shape: tuple[int, ...]) -> dict:
    """A reshape's arguments: to these sizes per sample, the batch first."""
    return {"shape": [BATCH, *shape]}


def _rows_apart(shape: tuple[int, ...], batch: int) -> tuple[int, ...] | None:
    """(batch × rows, …) per sample: (rows, …); None where dim 0 is no multiple of the batch."""
    return None if shape[0] % batch else (shape[0] // batch, *shape[1:])


def target_name(node) -> str:
    target = node.target
    if type(target) is str:  # a method's, a module's path
        return target
    name = getattr(target, "__name__", None)  # str() of a function is its repr: made only where it has no name
    return str(target) if name is None else name


def is_batch_size(node, batch_second: set = frozenset()) -> bool:
    """x.size(0), x.shape[0], item 0 of x.size(), or of x.shape[:-1]: the batch size, which a reshape
    writes as `batch`; or item 1 of a tensor among `batch_second` (by name), whose batch is dim 1."""
    if node.op == "call_method" and node.target == "size":
        return node.args[1:] == (0,) or node.args[1:] == (1,) and node.args[0].name in batch_second
    if node.op != "call_function" or node.target is not operator.getitem or node.args[1] not in (0, 1):
        return False
    sized = _size_of(node.args[0])
    return sized is not None and (node.args[1] == 0 or sized.name in batch_second)


def _size_of(node):
    """The x of x.shape, x.size() or a slice of them from the first (x.shape[:-1]); None for others."""
    if not isinstance(node, Step):
        return None
    if node.op == "call_function" and node.target is getattr and node.args[1:] == ("shape",) \
            or node.op == "call_method" and node.target == "size" and len(node.args) == 1:
        return node.args[0]
    if node.op == "call_function" and node.target is operator.getitem and isinstance(node.args[1], slice) \
            and node.args[1].start in (None, 0):
        return _size_of(node.args[0])
    return None


def _sized(size):
    """The tensor whose size a size query reads (x of x.size(0), x.shape[0])."""
    return size.args[0] if size.op == "call_method" else _size_of(size.args[0])


def indexed_by(node, graph: Traced):
    """The tensor of positions in table[index] (1-d), in x[:, index] (the same positions along a dim after
    whole ones for every sample: a graph's edges' ends), or in x[batch_idx, index] (each sample's own
    positions along its dim 1, batch_idx = torch.arange(B)[:, None]: the RPN's best proposals per image);
    None for any other index."""
    if node.op != "call_function" or node.target is not operator.getitem:
        return None
    index = node.args[1]
    if isinstance(index, tuple) and len(index) == 2 and _each_sample(index[0], graph):
        positions = graph.values.get(index[1].name) if isinstance(index[1], Step) else None
        return index[1] if isinstance(positions, torch.Tensor) and positions.dim() == 2 \
            and positions.shape[0] == graph.batch else None
    if isinstance(index, tuple) and index and all(item == slice(None) for item in index[:-1]):
        index = index[-1]  # x[:, index]
    positions = graph.values.get(index.name) if isinstance(index, Step) else None
    return index if isinstance(positions, torch.Tensor) and positions.dim() == 1 else None


def positions_read(user, graph: Traced):
    """The 1-d tensor of positions a step reads along a dim of another (table[index], x[:, index],
    x.index_select(dim, index), x.index_add(dim, index, values)): its dims are its own, not a sample's."""
    if target_name(user) in ALONG_A_DIM and user.op in ("call_function", "call_method"):
        return given_value(user, "index", 2)
    return indexed_by(user, graph)


ALONG_A_DIM = ("index_select", "index_add", "index_add_")  # calls reading an index of positions (their third)


def index_tensors(node, graph: Traced) -> tuple | None:
    """The integer tensors of x[i, j, …] (no slices among them) in a run of one sample on its rows,
    whose dims are the sample's own (Mask R-CNN's mask_prob[torch.arange(N), labels]); or those after
    torch.arange(B), which picks each sample itself, each of positions per sample made from the input (a decoder's
    classifier reading each sequence's last token: logits[torch.arange(B), last]); else None."""
    if node.op != "call_function" or node.target is not operator.getitem \
            or not isinstance(node.args[1], tuple) or not isinstance(node.args[0], Step):
        return None
    index, layout = node.args[1], graph.layout(node.args[0])
    if len(index) > 1 and layout == BATCHED and _the_batch(index[0], graph) and all(
            isinstance(item, Step) and item.name not in graph.without_input
            and graph.shape(item)[:1] == (graph.batch,) for item in index[1:]):
        index = index[1:]
    elif graph.batch != 1 or layout != ROWS:
        return None
    values = [graph.values.get(item.name) if isinstance(item, Step) else None for item in index]
    return index if all(isinstance(value, torch.Tensor) and not value.is_floating_point()
                        and value.dtype != torch.bool for value in values) else None


def each_sample_at(node, graph: Traced) -> bool:
    """x[torch.arange(B), i, …] with numbers after the arange: each sample's own x[i, …]."""
    index = node.args[1] if node.op == "call_function" and node.target is operator.getitem else None
    return isinstance(index, tuple) and len(index) > 1 and isinstance(node.args[0], Step) \
        and _the_batch(index[0], graph) and all(type(item) is int for item in index[1:])


def _the_batch(node, graph: Traced) -> bool:
    """torch.arange(B), made without the input: an index picking each sample of the batch itself."""
    return _picks_each_sample(node, graph, (graph.batch,))


def picked_along(node) -> int:
    """The dim table[index] (0), x[:, index] or x[batch_idx, index] (1) picks along (see indexed_by)."""
    return len(node.args[1]) - 1 if isinstance(node.args[1], tuple) else 0


def _each_sample(node, graph: Traced) -> bool:
    """torch.arange(B)[:, None], made without the input: an index picking each sample of the batch itself."""
    return _picks_each_sample(node, graph, (graph.batch, 1))


def _picks_each_sample(node, graph: Traced, shape: tuple[int, ...]) -> bool:
    """Whether a tensor of this shape, made without the input, holds 0 … B - 1: torch.arange(B) (on the meta device,
    which has no values to read, that call itself)."""
    value = graph.values.get(node.name) if isinstance(node, Step) else None
    if not isinstance(value, torch.Tensor) or node.name not in graph.without_input or value.is_floating_point() \
            or value.shape != shape:
        return False
    if value.is_meta:
        return target_name(node) == "arange" and len(node.args) == 1
    return bool((value.reshape(-1) == torch.arange(graph.batch)).all())


def returns_several(node, graph: Traced) -> bool:
    """A call returning a tuple of tensors that no kind takes pieces of (x.topk(k), torch.where(mask))."""
    return isinstance(node, Step) and node.op in ("call_function", "call_method") \
        and isinstance(graph.values.get(node.name), (tuple, list)) and graph.holds_tensors(node)


def _given_states(graph: Traced) -> set[str]:
    """The initial states recurrent modules are given, gru(x, h_0) and lstm(x, (h_0, c_0)), by step name."""
    found = set()
    for node in graph.recorded.steps:
        if node.op != "call_module" or _family(graph, node) != "recurrent":
            continue
        given = node.args[1] if len(node.args) > 1 else node.kwargs.get("hx")
        found |= {state.name for state in (given if isinstance(given, (tuple, list)) else (given,))
                  if isinstance(state, Step)}
    return found


def _kind(graph: Traced, module) -> str | None:
    """The kind of a module step, None where no kind states it."""
    found = mapped(graph.modules[module.target]) if module.op == "call_module" else None
    return found[0] if found is not None else None


def _family(graph: Traced, module) -> str | None:
    kind = _kind(graph, module)
    return REGISTRY[kind].family if kind is not None else None


def returned_beside(node, graph: Traced) -> tuple[Step, str] | None:
    """The module whose run returned a tensor beside its output, one of a kind whose registration names what it
    returns (LayerKind.returns), and which state it is: h_n ("hidden") beside nn.GRU's, nn.RNN's or
    nn.MultiheadAttention's output (its weights), or one of nn.LSTM's (h_n, c_n) ("cell" the second), or the c
    of nn.LSTMCell's (h, c). None for any other tensor."""
    if node.op != "call_function" or node.target is not operator.getitem or not isinstance(node.args[0], Step) \
            or not isinstance(node.args[1], int) or not graph.is_tensor(node):
        return None
    source, index = node.args
    if source.op == "call_module" and index == 1:  # (output, h_n), (h, c), (output, weights)
        module, which = source, "hidden"
    elif source.op == "call_function" and source.target is operator.getitem and isinstance(source.args[1], int) \
            and source.args[1] == 1 and isinstance(source.args[0], Step) and not graph.is_tensor(source) \
            and index in (0, 1):  # an LSTM's (output, (h_n, c_n))
        module, which = source.args[0], ("hidden", "cell")[index]
    else:
        return None
    kind = _kind(graph, module)
    return (module, which) if kind is not None and REGISTRY[kind].returns else None


def held_weights(node, graph: Traced) -> bool:
    """Attention's weights that forward() keeps in a local past its call, unread (y, _ = self.attn(x, x, x)), which
    grow with the sequence's square: a layer, held as torch holds them. (A recurrent layer's states so held, as
    small as one step's output, are left to end with their call: timm's Sequencer holds them for LSTMs run on
    rows, which no finalstate layer reads.)"""
    beside = returned_beside(node, graph) if node.name in graph.recorded.held_beside else None
    return beside is not None and _family(graph, beside[0]) == "attention"


def piece_of(node):
    """The chunk, split or unbind call whose piece `node` takes (tuple[i]), or None."""
    if node.op != "call_function" or node.target is not operator.getitem or not isinstance(node.args[0], Step):
        return None
    source = node.args[0]
    if source.op not in ("call_method", "call_function") or target_name(source) not in PIECES:
        return None
    return source


class Unmappable(Exception):
    """An argument computed in the graph, which a spec cannot state."""


def _moved(value, names: str, rank: int, layout: str):
    """Dims as cnncalc counts them on a tensor whose batch sits otherwise than torch's value says."""
    if names == BATCH_FIRST:  # a module reading (L, B, E) with batch_first=False reads (L, E) per sample
        if layout == SEQUENCE_FIRST and value:
            raise Unmappable("a batch-first module on a tensor whose batch is dim 1")
        return value or layout == SEQUENCE_FIRST
    if names == DIM_ORDER:
        return MOVES[layout][1](value, rank)
    if names == SIZE_PER_DIM:  # the rows keep their number: expand(-1, -1, H, …) on (B·heads, …)
        if layout == SAMPLE_ROWS:
            return [-1, *value]
        if layout != ROWS:
            raise Unmappable("sizes of a tensor whose batch is not its dim 0")
        return [value[0], -1, *value[1:]]
    if isinstance(value, (list, tuple)):
        return [_moved(v, names, rank, layout) for v in value]
    return MOVES[layout][0](value)


def _rows_second(dim: int) -> int:
    """A dim of (batch × rows, …) as cnncalc counts it on (batch, rows, …): one on; dim 0 mixes both."""
    if dim == 0:
        raise Unmappable("dim 0")
    return dim + 1 if dim > 0 else dim


def _stack_second(dim: int) -> int:
    """A dim of torch.stack(outputs) (outputs, batch, …) as cnncalc counts it on (batch, outputs, …)."""
    if dim == 1:
        raise Unmappable("dim 1, the batch")
    return 1 if dim == 0 else dim


def _sequence_second(dim: int) -> int:
    """A dim of (L, B, …) as cnncalc counts it on (B, L, …): dim 0 is 1; dim 1 is the batch."""
    if dim == 1:
        raise Unmappable("dim 1, the batch")
    return 1 if dim == 0 else dim


def _whole_after_batch(dim: int) -> int:
    """A dim of a tensor with no batch, as cnncalc counts it after the batch of one it gives it."""
    return dim + 1 if dim >= 0 else dim


def _not_an_order(order, rank: int):
    raise Unmappable("a permutation of the stacked outputs and the batch")


BATCHED, ROWS, WHOLE, STACKED = "batched", "rows", "whole", "stacked"
SEQUENCE_FIRST = "sequence first"  # the batch is dim 1: (L, B, E), as nn.MultiheadAttention(batch_first=False) reads
BATCH_AT = {BATCHED: 0, SEQUENCE_FIRST: 1}  # the layouts whose batch is one dim: which
# rows in a run of one sample (a detector's proposals, boxes kept): dim 0 is the rows alone, as a
# tensor with no batch has its dims after the batch of one
SAMPLE_ROWS = "rows of the sample"
_AFTER_THE_BATCH = (_whole_after_batch, lambda order, rank: [0, *(d % rank + 1 for d in order)])
# per layout: how one dim moves, and how a permutation does
MOVES = {ROWS: (_rows_second, lambda order, rank: [0, 1, *(order[i] % rank + 1 for i in range(1, len(order)))]),
         WHOLE: _AFTER_THE_BATCH, SAMPLE_ROWS: _AFTER_THE_BATCH,
         STACKED: (_stack_second, _not_an_order), SEQUENCE_FIRST: (_sequence_second, _not_an_order)}
# per layout: a tensor's shape per sample, from torch's
# by a tensor's layout, what its first dim holds, as torchinfo takes it for the batch (Node.first_dim)
FIRST_DIM = {BATCHED: "batch", ROWS: "rows", SEQUENCE_FIRST: "own", STACKED: "own", WHOLE: "own"}
SAMPLE_SHAPES = {BATCHED: lambda shape, batch: shape[1:], ROWS: _rows_apart, WHOLE: lambda shape, batch: shape,
                 STACKED: lambda shape, batch: (shape[0], *shape[2:]),
                 SEQUENCE_FIRST: lambda shape, batch: (shape[0], *shape[2:])}


def given_value(node, key: str, index: int):
    return node.kwargs.get(key, node.args[index] if index < len(node.args) else None)


COMPUTED = object()


def given(node, key: str, index: int):
    """A call's parameter argument: the get_attr node passing it (through casts: self.weight.float()),
    None when not given, or COMPUTED."""
    value = given_value(node, key, index)
    if value is None:
        return None
    return cast_of(value) or COMPUTED


def storage_of(tensor: torch.Tensor) -> int:
    """The storage a tensor's elements are in (that of the tensor a view is of), as a key: a meta
    tensor's too."""
    return tensor.untyped_storage()._cdata


def cast_of(value) -> Step | None:
    """The get_attr node a value reads, itself or cast (weight.float(), weight.to(x.dtype)); else None."""
    while isinstance(value, Step) and value.op == "call_method" and value.target in CASTS:
        value = value.args[0]
    return value if isinstance(value, Step) and value.op == "get_attr" else None


CASTS = ("float", "to", "type_as", "type")


def _stored_views(graph: Traced) -> dict:
    """Each parameter read as a tensor, and each view of one alone that keeps its size (reshape,
    unsqueeze, permute, a cast; not a product of it with itself, A @ A): node name → the get_attr node of the
    parameter."""
    stored = {}
    for node in graph.recorded.steps:
        if node.op == "get_attr" and node.name not in graph.absorbed:
            stored[node.name] = node
            continue
        sources = [a for a in node.sources if graph.is_tensor(a)]
        if (node.op in ("call_method", "call_function") and len(sources) == 1 and sources[0].name in stored
                and graph.shape(node) is not None
                and math.prod(graph.shape(node)) == graph.attribute(stored[sources[0].name]).numel()
                and len(graph.tensor_args(node)) == 1):
            stored[node.name] = stored[sources[0].name]
    return stored


def _without_input(graph: Traced) -> tuple[set, set, set]:
    """The tensors forward() makes without its input: those computed from parameters and buffers or
    from nothing (a view of a parameter, torch.arange, sin and cos of a position encoding); those
    layers make from them (a position bias MLP), which have no batch; and those of the first sized by
    the batch."""
    needs_input, reached, made, batch_numbers, moved = set(), set(), set(), set(), set()
    for node in graph.recorded.steps:
        if node.op == "placeholder":
            needs_input |= {node.name} if node.name in graph.inputs else set()  # not forward()'s defaults
            reached |= needs_input
            continue
        # through tensors only (a size read off the input, x.shape, is a number); a module is a layer
        # even on a tensor made without the input (a projection of a position encoding)
        reads = [a for a in _data_read(node) if graph.holds_tensors(a) or a.op == "placeholder"]
        # the batch size, and numbers made from it (Swin's B·nW rows // nW), read off dim 1 of a tensor whose
        # batch a permute put there too (Mask2Former's queries repeated to its (H·W, B, C) features' batch)
        if is_batch_size(node, moved) and _sized(node).name in reached or not graph.holds_tensors(node) and any(
                a.name in batch_numbers for a in node.sources):
            batch_numbers.add(node.name)
        if _moves_the_batch_second(node, graph, reached, moved):
            moved.add(node.name)
        # a tensor sized by the batch (XCiT's pos.repeat(B, 1, 1, 1), and DETR's zeros_like of its queries
        # repeated to the batch: a tensor made without the input, of one so sized) has the batch; so has one shaped
        # like the input's tensors (a sum's zeros_like(h)), but in a run of one, whose rows are no batch (Mask
        # R-CNN's labels)
        shaped_like = target_name(node) in SHAPED_LIKE and any(a.name in reached and (
            a.name in made or graph.batch > 1 and (graph.shape(a) or ())[:1] == (graph.batch,)) for a in reads)
        if (not _reads_only_size(node) or shaped_like) and any(a.name in reached for a in reads) or any(
                a.name in batch_numbers for a in node.sources) and graph.holds_tensors(node):
            reached.add(node.name)
        if node.op == "call_module" or multiplies(node) \
                or not _reads_only_size(node) and any(a.name in needs_input for a in reads):
            needs_input.add(node.name)
        elif graph.holds_tensors(node) and node.name not in graph.absorbed:  # chunk's pieces too
            made.add(node.name)
    return made, {name for name in needs_input - reached if isinstance(graph.values.get(name), torch.Tensor)}, \
        made & reached


def _moves_the_batch_second(node, graph: Traced, reached: set, moved: set) -> bool:
    """A permute or transpose of a tensor of the input's, batch first, that puts its batch at dim 1 (of 3 dims or
    more, or the input's ids: d2l's X.T); or a cast or one_hot of one, which keeps its dims where they are."""
    shape, read = graph.shape(node), node.args[0] if node.args else None
    if not isinstance(read, Step) or shape is None:
        return False
    if read.name in moved:
        return target_name(node) in KEEPING_DIMS and graph.shape(read) == shape[:len(graph.shape(read))]
    return target_name(node) in PERMUTING and (len(shape) >= 3 or _input_transposed(node, graph)) \
        and read.name in reached and graph.shape(read)[:1] == (graph.batch,) and _puts_second(node, 0, len(shape))


def _puts_second(node, dim: int, rank: int) -> bool:
    """Whether a permute or transpose of a tensor of `rank` dims puts its dim `dim` at dim 1."""
    order = _torch_order(node, rank)
    return order is not None and order.index(dim) == 1


def _data_read(node) -> list:
    """The nodes whose values a call reads: of y in x.type_as(y), only its type (YOLO's anchors are
    torch.arange(w).type_as(features), made without the input)."""
    return [node.args[0]] if node.op == "call_method" and node.target == "type_as" else node.sources


MATRIX_PRODUCTS = frozenset({"matmul", "bmm"})  # torch.matmul, x.matmul, operator.matmul (@)


def _sample_rows(graph: Traced) -> set:
    """In a run of one sample, the tensors a per-image loop makes (proposals, boxes kept), whose dim 0
    is not the batch but the sample's own, however many rows (one box kept is a row): the sample taken
    out of its batch (x[0], unbind), and what is made of it, unless that puts a batch of one back in
    front (x[None], view(1, -1, 4): a reshape to a leading 1 on more dims than it read)."""
    found = set()
    for node in graph.recorded.steps:
        shape = graph.shape(node)
        if not shape or node.name in graph.without_input or node.op == "placeholder":
            continue
        # table[index] keeps the index's rows, even one (a single detection's anchor): no batch put in front
        rebatches = shape[0] == 1 and _may_put_one_in_front(node, len(shape)) and indexed_by(node, graph) is None
        read = [a for a in graph.tensor_args(node) if a.name in found]
        if _takes_the_sample(node, graph) or any(not (rebatches and len(shape) > len(graph.shape(a))) for a in read):
            found.add(node.name)
    return found


RESIZING = {"view", "reshape", "expand"}


def _may_put_one_in_front(node, rank: int) -> bool:
    """x[None], x.unsqueeze(0), or a view, reshape or expand to a literal 1 first (boxes.view(1, -1, 4));
    not x[:, None] or x.unsqueeze(1), whose new dim comes after the rows (Mask R-CNN's mask_prob[:, None]
    of one kept box), nor a view to -1 or the rows' own count first, which keeps them rows."""
    name = target_name(node)
    if name == "getitem":
        index = node.args[1]
        return (index[0] if isinstance(index, tuple) and index else index) is None
    if name == "unsqueeze":
        return given_value(node, "dim", 1) in (0, -rank)
    if name not in RESIZING:
        return False
    sizes = node.args[1] if len(node.args) == 2 and isinstance(node.args[1], (tuple, list)) else node.args[1:]
    sizes = sizes or node.kwargs.get("size", node.kwargs.get("shape", ()))
    return bool(sizes) and type(sizes[0]) is int and sizes[0] == 1


def _takes_the_sample(node, graph: Traced) -> bool:
    """x[0] or a piece of x.unbind(0), x a batch of one: the sample."""
    if node.op != "call_function" or node.target is not operator.getitem or not isinstance(node.args[0], Step):
        return False
    source = piece_of(node)
    if source is not None:
        return target_name(source) == "unbind" and given_value(source, "dim", 1) in (None, 0)
    return node.args[1] == 0 and (graph.shape(node.args[0]) or ())[:1] == (1,)


def _sequence_first(graph: Traced) -> set:
    """The tensors whose batch is dim 1, (L, B, …), as CLIP's attention pool holds them for
    nn.MultiheadAttention(batch_first=False): a permute or transpose that moves the batch there, a
    constant expanded along dim 1 (a learned query, query.expand(-1, B, -1)), and what is made of such
    a tensor at its rank with dim 1 still the batch (a sum, a concatenation along dim 0, the attention's
    output). A size-2 sequence cannot be told from the batch of the run, which is 2; nor (N, B) from a
    matrix whose columns are the batch (csatv2's k.transpose(-1, -2), which q @ k then mixes), unless it is
    made of a tensor known to hold its batch there (a recurrent layer's states: h_n[-2:]). In a run of one
    sample a size 1 is no batch to tell apart from rows: only the recurrent states, and what is made of them."""
    found = _recurrent_states(graph)
    for node in graph.recorded.steps:
        shape = first_shape(graph, node)  # of the attention's output, its first
        if node.name in found or shape is None or len(shape) < 2 or shape[1] != graph.batch \
                or node.op == "placeholder" or len(shape) == 2 and not _input_transposed(node, graph):
            continue
        read = [a for a in node.sources if first_shape(graph, a) is not None]
        known = any(a.name in found and (len(first_shape(graph, a)) == len(shape)
                                         or target_name(node) in ONE_MORE_DIM) for a in read)
        if (shape[0] == graph.batch or graph.batch == 1) and not known:
            continue
        if target_name(node) in PERMUTING and read:
            at = 1 if read[0].name in found else 0 if graph.shape(read[0])[:1] == (graph.batch,) else None
            if at is not None and _puts_second(node, at, len(shape)):
                found.add(node.name)
        elif node.name in graph.without_input and target_name(node) in EXPANDING \
                and first_shape(graph, read[0])[1:2] == (1,) or known:
            found.add(node.name)
    return found


def _input_transposed(node, graph: Traced) -> bool:
    """The model's input of (batch, sequence) ids transposed to the sequence first (d2l.ai's X.T), which no
    matrix of a sample's is: a 2-d tensor whose batch is dim 1 is told apart only so."""
    return target_name(node) in PERMUTING and bool(node.args) and isinstance(node.args[0], Step) \
        and node.args[0].op == "placeholder"


ONE_MORE_DIM = ("one_hot",)  # calls that keep their input's dims and put one after them
KEEPING_DIMS = ("type", "float", "to", *ONE_MORE_DIM)  # casts keep them too


def _recurrent_states(graph: Traced) -> set[str]:
    """A recurrent layer's states, layers·directions × batch × size whatever their sizes: those it is given
    (h_0) and those it returns (h_n), by step name."""
    return _given_states(graph) | {node.name for node in graph.recorded.steps
                                   if (beside := returned_beside(node, graph)) and _family(graph, beside[0]) == "recurrent"}


EXPANDING = ("expand", "repeat")


def _mixing(graph: Traced) -> set:
    """The tensors whose last dim is the batch, moved there from the front (csatv2's k.transpose(-1, -2)
    of (B, N) keys), and what is made of them with the batch still last (q @ k, (B, B), and its
    softmax): a product over them mixes the samples, B² products where a sample's table says B, so no
    kind states them; the importer makes them rows not counted, their shapes a batch of one's."""
    found = set()
    for node in graph.recorded.steps:
        shape = graph.shape(node)
        if not shape or len(shape) < 2 or shape[-1] != graph.batch or node.name in graph.sequence_first \
                or node.name in graph.without_input:
            continue
        read = [a for a in node.sources if graph.shape(a) is not None]
        if target_name(node) in PERMUTING and read and graph.shape(read[0])[:1] == (graph.batch,):
            order = _torch_order(node, len(shape))
            if order is not None and order.index(0) == len(shape) - 1:
                found.add(node.name)
        elif any(a.name in found for a in read):
            found.add(node.name)
    return found


def _at_a_batch_of_one(shape: tuple[int, ...], batch: int) -> tuple[int, ...]:
    """A tensor whose last dim is the batch as a batch of one holds it: that dim 1, dim 0 left out
    where it is the batch too."""
    return (*(shape[1:-1] if shape[0] == batch else shape[:-1]), 1)


def first_shape(graph: Traced, node) -> tuple[int, ...] | None:
    """A tensor's shape, or that of the first of a tuple of them."""
    value = graph.values.get(node.name)
    value = value[0] if isinstance(value, (tuple, list)) and value else value
    return tuple(value.shape) if isinstance(value, torch.Tensor) else None


def _ensembles(graph: Traced) -> set:
    """torch.stack(outputs) then a mean, sum or max over them (crossvit's heads): stacked before the
    batch, which cnncalc reads as after it."""
    found = set()
    for node in graph.recorded.steps:
        if node.op == "call_function" and node.target is torch.stack and graph.shape(node) is not None \
                and given_value(node, "dim", 1) in (None, 0) and graph.users_of(node) and all(
                    target_name(user) in REDUCTIONS and given_value(user, "dim", 1) in (0, (0,), [0])
                    for user in graph.users_of(node)):
            found.add(node.name)
    return found


REDUCTIONS = ("mean", "sum", "amax")


def _reads_only_size(node) -> bool:
    """x.new_zeros(size), torch.zeros_like(x), torch.randn_like(x) (a VAE's noise): a tensor made new, that reads of
    x only its type."""
    return target_name(node) in NEW_TENSORS and node.op in ("call_method", "call_function")


NEW_TENSORS = {"new_zeros", "new_ones", "new_full", "new_empty", "new_tensor", "zeros_like", "ones_like",
               "full_like", "empty_like", "randn_like", "rand_like", "randint_like"}
SHAPED_LIKE = {name for name in NEW_TENSORS if name.endswith("_like")}  # of the shape of the tensor read


def _absorbed(recorded: Recorded) -> set:
    """The parameters passed to calls that take their layer's own weights (F.layer_norm(x, shape,
    self.weight, self.bias)): those count with the layer, not as tensors of their own."""
    taken = set()
    for node in recorded.steps:
        calls = calls_of(node) if node.op == "call_function" else ()
        for key, index in calls[0][1].tensors if calls else ():
            given = given_value(node, key, index)
            if key in calls[0][1].taken_as_input and not _is_parameter(recorded, given):
                continue  # a buffer as a conv's filter: an input of the layer, not its weights
            while isinstance(given, Step) and cast_of(given) is not None:  # the parameter and its casts
                taken.add(given.name)
                given = given.args[0] if given.op == "call_method" else None
    return taken


def _is_parameter(recorded: Recorded, given) -> bool:
    """Whether a call's argument is a parameter, itself or cast."""
    read = cast_of(given)
    return read is not None and isinstance(recorded.attribute(read.target), torch.nn.Parameter)


def given_as_input(node, user, modules: dict) -> bool:
    """Whether `user` takes tensor `node` as a parameter it may take as an input (a conv's filters), or a
    module's call as an argument its kind reads off the call (nn.MultiheadAttention's attn_mask)."""
    if user.op == "call_module":
        read = forms().called_with.get(type(modules[user.target]), ())
        return any(given_value(user, key, index) is node for key, index in read)
    calls = calls_of(user) if user.op == "call_function" else ()
    return any(given_value(user, key, index) is node for _, call in calls[:1] for key, index in call.tensors
               if key in call.taken_as_input)


def stated(kind: str, args: dict, graph: Traced | None) -> dict | None:
    """The layer as a spec states it, or None where it cannot: an argument computed from tensors,
    or a setting the kind refuses."""
    try:
        constants = {key: graph.argument(value) for key, value in args.items()} if graph else args
        return {kind: non_default(kind, constants) or None}
    except (Unmappable, LayerError):
        return None


def restated(entry: dict, kind: str, args: dict) -> dict | None:
    """The entry with another kind or arguments, its other keys (functional) kept."""
    written = stated(kind, args, None)
    return None if written is None else {**written, **{k: v for k, v in entry.items() if k in KEPT_KEYS}}


KEPT_KEYS = ("functional",)  # what an entry says besides its kind, kept when it is restated


def unstacked(node, graph: Traced) -> tuple[int, ...] | None:
    """The dims of a permute that puts one axis before the batch only to take its pieces
    (attention's qkv.permute(2, 0, 3, 1, 4), then unbind(0) or qkv[0]), also where a reshape first
    merges the batch with the next dim (SAM's qkv.reshape(3, B·heads, N, -1): pieces with the heads in
    the batch, rows per sample); given the permute or that reshape; otherwise None."""
    if node.op not in ("call_method", "call_function"):
        return None
    if _merges_batch(node, graph):
        permute = node.args[0]
        return _unstacking_order(permute, graph) if len(graph.users_of(permute)) == 1 and _pieces_only(node, graph) \
            else None
    if target_name(node) != "permute":
        return None
    merged = [user for user in graph.users_of(node) if _merges_batch(user, graph)]
    return _unstacking_order(node, graph) if merged == list(graph.users_of(node)) and len(merged) == 1 and _pieces_only(
        merged[0], graph) or _pieces_only(node, graph) else None


def _unstacked_source(node):
    """The tensor an unstacked permute (or the reshape after it) takes its pieces of."""
    return node.args[0] if target_name(node) == "permute" else node.args[0].args[0]


def _unstacking_order(permute, graph: Traced) -> tuple[int, ...] | None:
    dims = graph.values[permute.name].dim()
    order = permute.args[1:] if permute.op == "call_method" and not isinstance(permute.args[1], (list, tuple)) \
        else permute.args[1]
    order = tuple(d % dims for d in order) if all(isinstance(d, int) for d in order) else None
    return order if order and order[0] != 0 and order[1] == 0 else None


def _pieces_only(node, graph: Traced) -> bool:
    """Whether every use of a tensor takes pieces of its dim 0 (x[0], x.unbind(0))."""
    return all(user.op == "call_function" and user.target is operator.getitem and isinstance(user.args[1], int)
               or target_name(user) == "unbind" and given_value(user, "dim", 1) in (None, 0)
               for user in graph.users_of(node))


def _merges_batch(node, graph: Traced) -> bool:
    """A reshape of a permute's output that merges its dims 1 and 2 (the batch and the next) alone."""
    if target_name(node) not in ("reshape", "view") or not isinstance(node.args[0], Step) \
            or target_name(node.args[0]) != "permute":
        return False
    before, after = graph.shape(node.args[0]), graph.shape(node)
    return before is not None and after is not None and len(before) > 2 \
        and after == (before[0], before[1] * before[2], *before[3:])


def non_default(kind: str, args: dict) -> dict:
    """The arguments that differ from PyTorch's defaults, per-axis values collapsed when equal."""
    layer = REGISTRY[kind]
    normalized = layer.normalize({k: v for k, v in args.items() if v is not None or layer.defaults.get(k) is None})
    return {k: v[0] if isinstance(v, list) and v and len(set(v)) == 1 and layer.spatial_dims else v
            for k, v in args.items() if k not in DROPPED_ARGUMENTS and normalized[k] != layer.defaults.get(k)}


def _at_rank(shape: tuple[int, ...], rank: int | None, batches: tuple[int, ...]) -> tuple[int, ...] | None:
    """A tensor with no batch of its own, per sample as tensors of `rank` dims (the batch's included) meet it: its
    dims lined up on the right, the rest 1; None where it cannot be so (more dims, or a leading one no batch)."""
    if rank is None or len(shape) > rank or (len(shape) == rank and shape[0] not in batches):
        return None
    return shape[1:] if len(shape) == rank else (1,) * (rank - 1 - len(shape)) + shape
