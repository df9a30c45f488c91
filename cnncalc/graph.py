"""The layer graph: plain frozen nodes in topological order."""
from __future__ import annotations

import heapq
import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from .errors import SpecError
from .record import record

Shape = tuple[int, ...]
INPUT = "input"  # the reserved name of the model's input
DTYPE_BYTES = {"float32": 4, "float16": 2, "bfloat16": 2, "int8": 1, "float64": 8}
# what a model's input may hold instead of floating values in the model's dtype: token ids
# (nn.Embedding's) are int64
ID_DTYPE_BYTES = {"int64": 8, "int32": 4, "int8": 1, "bool": 1}


def element_bytes(dtype: str) -> int:
    """The bytes of one element of a tensor of this dtype: floating, or ids and masks."""
    return DTYPE_BYTES.get(dtype) or ID_DTYPE_BYTES[dtype]

# what peer tools see differently of an imported layer (Node fields, and spec keys of the same names)
TOOL_FLAGS = ("unhooked", "held_apart", "unpatched")

# torch holds sizes, element counts and integer arguments in int64: past it no tensor exists, and
# a figure stays small enough to print
TORCH_INT_MAX = (1 << 63) - 1


def too_large(shape: Shape) -> bool:
    """Whether a tensor of this shape has more elements than torch can count."""
    return math.prod(shape) > TORCH_INT_MAX


def parse_shape(text: str) -> Shape:
    """'3x224x224' (or 3×224×224) → (3, 224, 224): a per-sample input shape as users write it."""
    try:
        shape = tuple(int(part) for part in text.lower().replace("×", "x").split("x"))
    except ValueError:
        raise SpecError(f"--input must look like 3x224x224 or 128:int64, got '{text[:80]}'") from None
    if not 1 <= len(shape) <= 4 or min(shape) < 1:
        raise SpecError(f"--input must be 1 to 4 positive sizes like 3x224x224, got '{text[:80]}'")
    if too_large(shape):
        raise SpecError(f"--input: more than 2^63 - 1 elements, more than torch can hold, in '{text[:80]}'")
    return shape


def parse_input(text: str) -> tuple[Shape, str | None]:
    """'128:int64' → ((128,), 'int64'); '3x224x224' → ((3, 224, 224), None): the input's dtype stays the
    model's (float32 for a spec) unless given."""
    shape, _, dtype = text.partition(":")
    if dtype and dtype not in ID_DTYPE_BYTES:
        raise SpecError(f"--input {text[:40]}: after ':' comes what the input holds instead of floating values "
                        f"in the model's dtype: one of {', '.join(ID_DTYPE_BYTES)}")
    return parse_shape(shape), dtype or None


@record  # one a module a model runs, made as it runs
class Scope:
    """A block or group a node belongs to: its full name and what it is (block name, 'sequential')."""
    name: str
    kind: str


FIRST_DIMS = ("batch", "rows", "own")  # what an imported layer's output holds in its first dim (Node.first_dim)


@dataclass(frozen=True, kw_only=True)
class LeafParameter:
    """A parameter an imported layer counts that a module with no modules inside holds, one that ran and
    that no kind states (GPT-2's Conv1D, ConvNeXt's LayerNorm subclass, Swin's relative position bias):
    its name there, that module's class name and its output per sample (the first tensor of several)
    with what the output's first dim holds (as Node.first_dim). torchinfo counts such a parameter by
    them: by the class's name and the parameter's, times dims of the module's output."""
    name: str
    numel: int
    module: str
    output: Shape
    first_dim: str


FROZEN_PARTS = ("weights", "biases")  # a layer's parameters frozen in part (BitFit trains the biases alone)


def part_of(name: str) -> str:
    """Which part of a layer's parameters a parameter of this name is: a bias ("bias", "in_proj_bias",
    "bias_ih_l0") or a weight."""
    return "biases" if "bias" in name.rpartition(".")[2] else "weights"


def trainable(frozen: bool | str, weights: int, biases: int) -> int:
    """Of a layer's weights and biases, how many train: none frozen, all (True), or the part `frozen` names."""
    return (0 if frozen in (True, "weights") else weights) + (0 if frozen in (True, "biases") else biases)


@record
class Node:
    name: str
    kind: str
    args: dict = field(hash=False)
    inputs: tuple[str, ...]
    line: int | None = None
    scopes: tuple[Scope, ...] = ()
    frozen: bool | str = False  # parameters excluded from training: all (True), or "weights" or "biases" alone
    used_at: int | None = None  # the line that used the block this node's template belongs to
    functional: bool = False  # called as torch.nn.functional in the model's forward(), not a module
    weights_of: str | None = None  # the earlier layer whose parameters and buffers it uses (a module called twice)
    per_row: bool = False  # runs on each row of the sample's first dim as on a sample (a conv on B·heads rows)
    module: str | None = None  # the module class the model runs it as (an imported Conv3DSimple), if any
    # no module of its kind's own torch.nn class runs it: a subclass (timm's BatchNormAct2d), or a function
    # called inside a module of another class; thop and ptflops hook modules by exact type
    unhooked: bool = False
    # its parameters belong to a module with submodules (BatchNormAct2d holds its act) or one never called
    # (a function takes its weights): torchinfo sums the tensors of leaf modules that ran alone
    held_apart: bool = False
    # called as a torch.nn.functional function ptflops patches, reached another way (torch.relu, x.softmax(),
    # a reference taken before ptflops patched it): its patch does not count it
    unpatched: bool = False
    # an imported layer whose output forward()'s Python holds past its last reader (a local): the last
    # layer it is alive through, as the run that imported it let it go
    held_through: str | None = None
    # inputs an imported layer's torch call copied to contiguous ones (a permuted view a linear folds into
    # a matrix): the layer holds the copy while it runs, and autograd saves it in the input's place
    copied: tuple[str, ...] = ()
    # an imported layer its kind says is a view of its input (or the input itself) that the run made anew:
    # a reshape of dims that cannot merge (SAM's attention bias, from einsum's permuted output), a cast to
    # another dtype; its output has storage of its own
    own_storage: bool = False
    # an imported constant made for each sample: bytes per sample of the largest tensor forward() made on the
    # way to it, besides views and itself (Gemma 4's int64 one-hot positions before their cast to float),
    # held with it while it is made
    making: int = 0
    # what an imported module's output tensor holds in its first dim, which torchinfo takes for the batch:
    # "batch"; "rows", the batch's rows of each sample (a codebook looked up at B·H·W flattened ids); or
    # "own", the sample's first dim, the tensor having no batch there (nanoGPT's position table looked up
    # at torch.arange(L), a sequence-first (L, B, E))
    first_dim: str = "batch"
    # an imported layer whose tensor torch holds with the batch in dim 1 (a recurrent layer's h_n, layers ×
    # batch × size; a sequence-first (L, B, E)): verify takes its shape per sample without that dim
    batch_second: bool = False
    # an imported layer run inside a module ptflops hooks as a whole (timm's ViT Attention,
    # conventions.PTFLOPS_HOOKED_WHOLE): ptflops sums that module's count and none of its layers' hooks
    inside_hooked: bool = False
    # the parameters it counts that modules no kind states hold (see LeafParameter); () where a module of
    # its kind runs it, or a spec states it
    leaf_parameters: tuple[LeafParameter, ...] = ()
    # an imported layer called by a name ptflops patches (torch.addmm, torch.matmul, F.relu), as only the run
    # shows it: ptflops counts the call where its patch computes what the layer does
    patched: bool = False
    # how many places of the module tree hold the imported module that runs it, as thop's and ptflops' sums walk
    # the tree (each parent's children once): a module shared by blocks, held by each (CoaT's cpe1), counts in each
    places: int = 1
    # the module holding an imported layer that torch runs, in inference, as one fused kernel with the rest of it
    # (nn.TransformerEncoderLayer's fast path): its path, the model itself by its class's name (a name a child
    # process's facts keep, as they drop empty ones); None where none does
    fused_block: str | None = None


@dataclass(frozen=True, kw_only=True)
class OtherInput:
    """An input of the model's besides its first, which layers read by name: forward(x, mask)'s mask."""
    name: str
    shape: Shape  # per sample
    dtype: str | None = None  # ids (int64); None: floating, in the model's dtype


@dataclass(frozen=True, kw_only=True)
class GivenInputs:
    """The inputs a user gives: the first's shape (and ids' dtype), the others by name."""
    shape: Shape | None = None
    dtype: str | None = None
    others: tuple[OtherInput, ...] = ()


def parse_inputs(texts: list[str]) -> GivenInputs:
    """`--input 3x224x224`, or each input by name in forward()'s order: `--input x=3x224x224 --input
    mask=1x224x224` (the first's name is forward()'s own; the others' are how layers read them)."""
    if not texts:
        return GivenInputs()
    shape, dtype = parse_input(texts[0].rpartition("=")[2])
    return GivenInputs(shape=shape, dtype=dtype, others=tuple(map(_other_input, texts[1:])))


def _other_input(text: str) -> OtherInput:
    """`mask=1x224x224`: an input after the first, by forward()'s name for it."""
    name, _, value = text.rpartition("=")
    if not name.isidentifier():
        raise SpecError(f"--input {text[:40]}: the inputs after the first go by forward()'s names, "
                        "e.g. --input mask=1x224x224")
    shape, dtype = parse_input(value)
    return OtherInput(name=name, shape=shape, dtype=dtype)


@dataclass(frozen=True, kw_only=True)
class NotRun:
    """Tensors the model holds that no layer counts: a module its forward() never calls (an auxiliary
    head in eval mode), one whose output nobody reads, a parametrization's originals beyond the
    weight it computes, or a buffer forward() replaces. They take memory and count in the totals; they compute nothing."""
    name: str
    params: int
    buffers: int
    frozen_params: int = 0  # requires_grad=False: no gradient, no optimizer state
    why: str = "not run"


# why tensors are held apart from the layers; "replaced by forward()": a buffer forward() assigns anew,
# sized by the input (ConViT's rel_indices), counted as the model held it before the run; "not read": a
# tensor of a module that ran, which its forward() never read
HELD_APART = ("not run", "output unused", "parametrization", "replaced by forward()", "not read")


@dataclass(frozen=True, kw_only=True)
class Graph:
    name: str
    input_shape: Shape
    nodes: tuple[Node, ...]  # topological order; inputs name earlier nodes or INPUT
    source: str = "<spec>"
    description: str = ""
    budget: dict = field(default_factory=dict, hash=False)  # max_params, max_macs, ... → limit
    budget_line: int | None = None
    not_run: tuple[NotRun, ...] = ()
    dtype: str = "float32"  # the model's own (a .half() module's float16), unless --dtype says otherwise
    input_dtype: str | None = None  # int64 token ids for a text model; None: floating, in the model's dtype
    other_inputs: tuple[OtherInput, ...] = ()  # forward(x, mask): mask, read by name
    ran_on_cpu: str = ""  # an imported model the meta device could not run: why (it ran on the CPU on random data)
    outputs: tuple[str, ...] = ()  # the layers forward() returns (a tuple's, a dict's), in order; (): the last

    def with_input(self, shape: Shape, dtype: str | None = None) -> "Graph":
        return replace(self, input_shape=tuple(shape), input_dtype=dtype or self.input_dtype)

    @property
    def input_names(self) -> tuple[str, ...]:
        return (INPUT, *(other.name for other in self.other_inputs))

    @property
    def returned(self) -> tuple[str, ...]:
        """What forward() returns: the outputs named, else the last layer's."""
        return self.outputs or ((self.nodes[-1].name,) if self.nodes else ())

    def feeding(self, read: Callable[[Node], tuple[str, ...]] = lambda node: node.inputs) -> set[str]:
        """The returned tensors and every tensor they are computed from, through the inputs `read` names
        of each layer. A layer outside it runs, but nothing returned needs it: backward never reaches it."""
        reaching = set(self.returned)
        for node in reversed(self.nodes):
            if node.name in reaching:
                reaching.update(read(node))
        return reaching

    def alive_until(self) -> dict[str, int]:
        """Each tensor a layer reads → the index of the last layer it is alive through in a forward
        pass: its last reader's, or, where it is passed into a block (a scope its producer is
        outside), that block's last layer's: the caller holds a module's arguments until it
        returns (`x = self.blocks(x)` keeps the stem's output through every block); an output of the
        model's, through the last layer; an imported layer's, at least through the layer its run held
        it through (Node.held_through)."""
        runs: list[dict[str, int]] = []  # per node, each of its scopes → the index its call began at
        ends: dict[tuple[str, int], int] = {}  # (scope, start) → its call's last node
        for index, node in enumerate(self.nodes):
            before = runs[-1] if runs else {}
            runs.append({scope.name: before.get(scope.name, index) for scope in node.scopes})
            for name, start in runs[-1].items():
                ends[name, start] = index
        producer = {node.name: index for index, node in enumerate(self.nodes)}
        alive: dict[str, int] = {}
        for index, node in enumerate(self.nodes):
            for name in node.inputs:
                outside = runs[producer[name]] if name in producer else {}
                alive[name] = max([alive.get(name, index), index] + [
                    ends[scope, start] for scope, start in runs[index].items() if outside.get(scope) != start])
        for name, index in producer.items():
            through = self.nodes[index].held_through
            if through is not None:
                alive[name] = max(alive.get(name, index), producer[through])
        for name in self.returned:  # what forward() returns is held until it returns
            alive[name] = len(self.nodes) - 1
        return alive


def topological(nodes: list[Node], source: str, inputs: tuple[str, ...] = (INPUT,)) -> tuple[Node, ...]:
    """Kahn's algorithm, keeping spec order wherever the edges allow; a cycle is a SpecError. `inputs`:
    the model's inputs' names, which every node may read."""
    if _in_order(nodes, inputs):  # what Kahn's algorithm would return, found in one pass
        return tuple(nodes)
    order = {node.name: index for index, node in enumerate(nodes)}
    waiting = {node.name: sum(name not in inputs for name in node.inputs) for node in nodes}
    consumers: dict[str, list[str]] = {}
    for node in nodes:
        for name in node.inputs:
            consumers.setdefault(name, []).append(node.name)
    ready = [order[n.name] for n in nodes if waiting[n.name] == 0]
    heapq.heapify(ready)
    result = []
    while ready:
        node = nodes[heapq.heappop(ready)]
        result.append(node)
        for consumer in consumers.get(node.name, ()):
            waiting[consumer] -= 1
            if waiting[consumer] == 0:
                heapq.heappush(ready, order[consumer])
    if len(result) < len(nodes):
        raise _cycle_error([n for n in nodes if waiting[n.name] > 0], source)
    return tuple(result)


def _in_order(nodes: list[Node], inputs: tuple[str, ...]) -> bool:
    """Whether every node comes after the nodes it reads (most specs are written so)."""
    seen = set(inputs)
    for node in nodes:
        for name in node.inputs:
            if name not in seen:
                return False
        seen.add(node.name)
    return True


def _cycle_error(stuck: list[Node], source: str) -> SpecError:
    by_name = {node.name: node for node in stuck}
    path, node = [], stuck[0]
    while node.name not in path:
        path.append(node.name)
        node = next(by_name[i] for i in node.inputs if i in by_name)
    cycle = path[path.index(node.name):] + [node.name]
    return SpecError("cycle: " + " → ".join(cycle), source, by_name[cycle[0]].line, cycle[0])
