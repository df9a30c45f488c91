"""What a layer kind declares besides its shape and counts: how its output units see its input (the
receptive field), what it costs in memory beyond its output, the work of its backward pass, and its
PyTorch forms.

Every registration states each of these; the walkers (rf, memory, the verify builder, the importer)
only ask. There is no default: a kind that forgets one fails at registration.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace
from fractions import Fraction
from typing import Callable, Union

Shape = tuple[int, ...]
Number = Union[int, Fraction]


# ---- receptive field ----

@dataclass(frozen=True)
class Window:
    """Per spatial axis, output unit i sees input units i·stride − padding … + dilation·(kernel − 1)
    (Araujo, Norris and Sim, Distill 2019). Strides below one (upsampling) are exact fractions."""
    kernel: tuple[int, ...]
    stride: tuple[Number, ...]
    padding: tuple[Number, ...]
    dilation: tuple[int, ...]


class _Geometry:
    """A receptive-field rule that is no window: it names itself."""

    def __init__(self, name: str):
        self.name = name

    def __repr__(self) -> str:
        return self.name


@dataclass(frozen=True)
class Exact:
    """A layer whose units are no affine image of its input's (upsampling, transposed convs, pixel
    shuffle, adaptive pools): `windows` give its mean jump for the table; `reads` gives, per spatial
    axis, the input units that output units lo … hi read: (axis, lo, hi, in_size, out_size) →
    (first, last), or None where they read nothing (a transposed conv's gaps)."""
    windows: tuple[Window, ...]
    reads: Callable[[int, int, int, int, int], "tuple[int, int] | None"]


WHOLE = _Geometry("WHOLE")  # every output unit sees the whole input (global pooling, flatten)
MERGE = _Geometry("MERGE")  # a join: the union of its inputs' fields, aligned or not
CONSTANT = _Geometry("CONSTANT")  # a parameter read as a tensor: it sees no input at all
# the output's axes are no longer the input's spatial axes in order (a channels-last permute, rows of
# the batch per sample): from here on cnncalc states no field rather than a wrong one
UNTRACKED = _Geometry("UNTRACKED")
# A kind's rule: (arguments, input shapes, output shape) → windows applied in turn to its first
# input's field (none: element-wise), Exact (not affine), WHOLE, MERGE, CONSTANT or UNTRACKED.
FieldRule = Callable[[dict, "tuple[Shape, ...]", Shape], "tuple[Window, ...] | Exact | _Geometry"]


@dataclass(frozen=True, kw_only=True)
class FieldProbe:
    """How verify's receptive-field check (verify/fields.py) runs a kind: on a copy of the model with few
    channels, whose gradients show the pixels each unit sees. `thinned`: the arguments that copy
    changes, given its channel count (a conv makes that many, in one group); `width_multiple`: what that
    count must be a multiple of (a pixel shuffle's r²); `stand_in`: the kind and arguments run in its
    place (None: itself), whose gradients reach what its stated field says: a max-pool's average pool
    over the same window gives every pixel of it a gradient, and a norm's identity leaves out the
    statistics it takes of its input, which are no part of its field (elementwise), as batch norm's
    running statistics are none."""
    thinned: Callable[[dict, int], dict] | None = None
    width_multiple: Callable[[dict], int] | None = None
    stand_in: Callable[[str, dict], "tuple[str, dict] | None"] | None = None


AS_IS = FieldProbe()  # run on the probe as in the model: no channel count of its own, every pixel a gradient
WITHOUT_STATISTICS = FieldProbe(stand_in=lambda kind, args: ("identity", {}))  # a norm: see FieldProbe


def elementwise(args: dict, shapes: tuple[Shape, ...], out: Shape) -> tuple[Window, ...]:
    """Each output unit sees the input unit at its own position."""
    return ()


def merge(args: dict, shapes: tuple[Shape, ...], out: Shape) -> _Geometry:
    return MERGE


def whole(args: dict, shapes: tuple[Shape, ...], out: Shape) -> _Geometry:
    """Every output unit sees every input unit (attention), or no axis lines up with the input's."""
    return WHOLE


def kept_or_whole(args: dict, shapes: tuple[Shape, ...], out: Shape):
    """A layer that keeps the shape moves no unit; one that grows an axis (expand, tile) makes units
    along it read units elsewhere: reported as the whole input."""
    return () if out == shapes[0] else WHOLE


def unit_window(spatial: int, stride=None, padding=None) -> Window:
    """A one-unit kernel: a pure change of stride (shuffles, upsampling) or shift (padding, crops)."""
    ones = (1,) * spatial
    return Window(kernel=ones, stride=tuple(stride or ones), padding=tuple(padding or (0,) * spatial),
                  dilation=ones)


# ---- memory ----

@dataclass(frozen=True)
class MemoryFacts:
    """What a layer holds beyond its output (torch's derivatives.yaml and kernels).

    aliases: whether the output shares its input's storage (in-place, views).
    aliases_in_training: the same in training mode, where dropout makes a new tensor unless in-place.
    saved: what autograd keeps for backward: "input" (the first), "inputs", "output", "inputs and
      output", "second input" (a masked fill's mask), "last input" (index_add's values), "factors" (the inputs
      after the first, a sum's product: baddbmm's batch1 and batch2) or "nothing".
    gradient: the input gradients backward allocates: "each input", "first input" (a crop's
      slice_backward), "after the first" (a difference's -grad for what it subtracts, the first input
      handed the output's) or "passed" (the output's gradient, or views of it, handed on).
    extra_saved: bytes per output element autograd saves besides tensors, from (arguments, element
      size): max-pool's int64 indices, dropout's mask.
    transient: bytes per output element alive only while the layer runs in inference, from (arguments,
      element size): max-pool's int64 indices, local response norm's two temporaries.
    workspace: what it holds besides, found from its input shapes (a recurrent layer's gates and states
      per step): rule(arguments, input shapes per sample, batch, element size, its trainable
      parameters) → Workspace.
    estimate: None where the figures follow torch's kernels (within 10% of its measurement), else why
      they are an estimate: the report says "estimate" beside every memory figure of a graph holding it;
      or that, of its input shapes per sample, its arguments and which of its inputs autograd tracks
      (attention's math path, taken on some ranks only or for a mask requiring grad; the weights
      multi-head attention is asked for).
    last_saved: the last tensor its autograd saves (a checkpointed block's recomputation stops as soon
      as the last tensor saved is saved again): "made", one its kernel computes (its output, indices,
      a norm's statistics), saved after the kernel runs; "read", one it reads (a conv's input and
      weight, a dropout's noise), saved before its kernel runs, which so is not run again; "none",
      it saves nothing at all, not even a parameter or a noise.
    copies: which of its inputs its torch call copies to contiguous ones, from their whole shapes and
      strides as a run laid them out (matmul reshapes a permuted view by a copy); the walk holds each
      copy while the layer runs, and autograd saves it in the input's place. None: it copies none.
    """
    aliases: Callable[[dict], bool]
    aliases_in_training: Callable[[dict], bool]
    saved: str | Callable[[dict], str]     # or of the arguments: a product with a number saves nothing
    gradient: str | Callable[[dict], str]
    extra_saved: Callable[[dict, int], int]
    transient: Callable[[dict, int], int]
    last_saved: str | Callable[[dict], str]
    workspace: "WorkspaceRule"
    estimate: str | None | Callable[["tuple[Shape, ...]", dict, "tuple[bool, ...]"], str | None]
    copies: Callable[["tuple[Strided, ...]"], tuple[bool, ...]] | None

    SAVED = ("input", "inputs", "output", "inputs and output", "second input", "last input", "factors", "nothing")
    GRADIENTS = ("each input", "first input", "after the first", "passed")
    LAST_SAVED = ("made", "read", "none")

    def __post_init__(self):
        if (not callable(self.saved) and self.saved not in self.SAVED
                or not callable(self.gradient) and self.gradient not in self.GRADIENTS
                or not callable(self.last_saved) and self.last_saved not in self.LAST_SAVED):
            raise ValueError(f"saved must be one of {self.SAVED}, gradient one of {self.GRADIENTS}, "
                             f"last_saved one of {self.LAST_SAVED}")

    def saved_by(self, args: dict) -> str:
        return self.saved(args) if callable(self.saved) else self.saved

    def gradient_of(self, args: dict) -> str:
        return self.gradient(args) if callable(self.gradient) else self.gradient

    def last_saved_by(self, args: dict) -> str:
        return self.last_saved(args) if callable(self.last_saved) else self.last_saved


# a tensor as a run laid it out: its whole shape and its strides
Strided = tuple[Shape, Shape]


def merged_by_a_copy(tensor: Strided, dims: int) -> bool:
    """Whether reshaping the tensor's first `dims` dims into one copies it, as torch's view rule says:
    each dim (of more than one element) must step over exactly the next one's elements."""
    shape, stride = tensor
    kept = [(size, step) for size, step in zip(shape[:dims], stride[:dims]) if size != 1]
    return 0 not in shape and any(step != after * size for (_, step), (size, after) in zip(kept, kept[1:]))


def folded_by_a_copy(inputs: "tuple[Strided, ...]") -> tuple[bool, ...]:
    """A linear's input of more than two dims, which torch's matmul folds into a matrix: copied where its
    leading dims cannot merge (CaiT's talking heads read a permuted view)."""
    shape = inputs[0][0]
    return (len(shape) > 2 and merged_by_a_copy(inputs[0], len(shape) - 1),)


def batched_by_a_copy(inputs: "tuple[Strided, ...]") -> tuple[bool, ...]:
    """Per operand of a matmul, whether torch copies it: the first folded into a matrix (the second one),
    or each expanded to the batch dims both broadcast to and reshaped to (-1, n, m) (a batch it broadcasts
    over repeats it, stride 0: Gemma 4's table of (2, P, E) read by (B, 2, N, P) one-hot positions). A
    parameter a call took as its own weights is no input here: then none is read."""
    if len(inputs) != 2:
        return ()
    (first, _), (second, _) = inputs
    if len(first) > 2 and len(second) <= 2:
        return (merged_by_a_copy(inputs[0], len(first) - 1), False)
    if len(first) < 2 or len(second) < 2 or len(first) <= 2 and len(second) <= 2:
        return (False, False)
    batch = _broadcast(first[:-2], second[:-2])
    return tuple(merged_by_a_copy(_expanded(tensor, batch), len(batch)) for tensor in inputs)


def _broadcast(first: Shape, second: Shape) -> Shape:
    """The shape two batch shapes broadcast to, aligned at their ends."""
    width = max(len(first), len(second))
    first, second = (1,) * (width - len(first)) + first, (1,) * (width - len(second)) + second
    return tuple(max(a, b) for a, b in zip(first, second))


def _expanded(tensor: Strided, batch: Shape) -> Strided:
    """tensor.expand(*batch, n, m): a batch dim it lacks or holds once repeats it, at stride 0."""
    shape, stride = tensor
    missing = len(batch) + 2 - len(shape)
    shape, stride = (1,) * missing + shape, (0,) * missing + stride
    steps = tuple(0 if size == 1 and wanted != 1 else step
                  for size, step, wanted in zip(shape, stride, batch + shape[-2:]))
    return batch + shape[-2:], steps


@dataclass(frozen=True)
class Workspace:
    """Elements a layer holds besides its output and the tensors its facts name, whole batch: `saved`,
    kept by autograd until its backward; `running`, held only while a training forward pass runs it;
    `inference`, the same in inference; `gradients`, held at once by its backward besides its inputs'
    gradients (for most kinds its parameters' gradients, made before AccumulateGrad adds them);
    `largest_parameter`, its largest trained parameter tensor (an optimizer's step temporaries are as
    large)."""
    saved: int
    running: int
    inference: int
    gradients: int
    largest_parameter: int


@dataclass(frozen=True)
class Parameters:
    """A layer's parameter elements: its weights, its biases, and how many of them train."""
    weights: int
    biases: int
    trainable: int


# (arguments, input shapes per sample, batch, element size, its parameters) → Workspace
WorkspaceRule = Callable[[dict, "tuple[Shape, ...]", int, int, Parameters], Workspace]


def parameter_gradients(args: dict, shapes: tuple[Shape, ...], batch: int, element_size: int,
                        parameters: Parameters) -> Workspace:
    """Nothing beyond what its per-element facts state; its backward makes its parameters' gradients,
    its weight and its bias each one tensor."""
    trained = parameters.trainable > 0
    return Workspace(saved=0, running=0, inference=0, gradients=parameters.trainable,
                     largest_parameter=max(parameters.weights, parameters.biases) if trained else 0)


def temporaries(*, saved: int = 0, running: int = 0, inference: int = 0,
                backward: int | Callable[[dict], int] = 0, masks: int | Callable[[dict], int] = 0) -> WorkspaceRule:
    """What a layer holds while it runs, as tensors of the size its inputs broadcast to: a composite torch
    writes in Python (softsign's input / (input.abs() + 1)) those autograd saves (`saved`), those alive only
    while a training pass runs it (`running`) and while inference runs it (`inference`); a backward that
    computes its derivative a step at a time (cos's grad * -self.sin()), those alive beside its inputs'
    gradients (`backward`) and the boolean `masks` among them, a byte an element (clamp's bounds). Each
    count a number or a rule of the arguments; it holds no parameters."""
    def rule(args: dict, shapes: tuple[Shape, ...], batch: int, element_size: int,
             parameters: Parameters) -> Workspace:
        same_rank = len({len(shape) for shape in shapes}) == 1
        widest = tuple(map(max, zip(*shapes))) if same_rank else max(shapes, key=math.prod)
        elements = math.prod(widest) * batch
        held = _count(backward, args) * elements + _count(masks, args) * elements // element_size
        return Workspace(saved=saved * elements, running=running * elements, inference=inference * elements,
                         gradients=held, largest_parameter=0)
    return rule


def _count(value: int | Callable[[dict], int], args: dict) -> int:
    return value(args) if callable(value) else value


def never(args: dict) -> bool:
    return False


def always(args: dict) -> bool:
    return True


def inplace(args: dict) -> bool:
    return bool(args.get("inplace"))


def no_bytes(args: dict, element_size: int) -> int:
    return 0


def int64_indices(args: dict, element_size: int) -> int:
    return 8


def element_mask(args: dict, element_size: int) -> int:
    return element_size


def noise_unless_kept(args: dict) -> str:
    """A dropout's last saved tensor: the noise its product is taken with, saved before the product;
    none where nothing is dropped (p = 0: the input itself)."""
    return "read" if args["p"] > 0 else "none"


# The common cases, each a complete declaration.
SAVES_INPUT = MemoryFacts(aliases=never, aliases_in_training=never,
                          saved="input", gradient="each input", extra_saved=no_bytes, transient=no_bytes,
                          last_saved="read", workspace=parameter_gradients, copies=None, estimate=None)
# a norm saves its input, and the statistics it computes (mean, inverse deviation) after running
SAVES_INPUT_AND_STATISTICS = replace(SAVES_INPUT, last_saved="made")
SAVES_OUTPUT = MemoryFacts(aliases=inplace, aliases_in_training=inplace,
                           saved="output", gradient="each input", extra_saved=no_bytes,
                           transient=no_bytes, last_saved="made", workspace=parameter_gradients, copies=None, estimate=None)
SAVES_NOTHING = MemoryFacts(aliases=never, aliases_in_training=never,
                            saved="nothing", gradient="each input", extra_saved=no_bytes,
                            transient=no_bytes, last_saved="none", workspace=parameter_gradients, copies=None, estimate=None)
VIEW = MemoryFacts(aliases=always, aliases_in_training=always,
                   saved="nothing", gradient="passed", extra_saved=no_bytes, transient=no_bytes, last_saved="none",
                   workspace=parameter_gradients, copies=None, estimate=None)
# a slice is a view of its source; slice_backward allocates a gradient as large as the source
SLICE = MemoryFacts(aliases=always, aliases_in_training=always,
                    saved="nothing", gradient="first input", extra_saved=no_bytes, transient=no_bytes, last_saved="none",
                    workspace=parameter_gradients, copies=None, estimate=None)
# a copy hands its output's gradient on unchanged (contiguous, concat's slices of it)
COPY = MemoryFacts(aliases=never, aliases_in_training=never,
                   saved="nothing", gradient="passed", extra_saved=no_bytes, transient=no_bytes, last_saved="none",
                   workspace=parameter_gradients, copies=None, estimate=None)
# a new mask or set of indices (x != 0, torch.where(mask), the boxes nms keeps), through which no
# gradient flows: as a copy holds it
NO_GRADIENT = COPY
# a tensor a module's run returns beside its output (an RNN's h_n, an attention's weights), a layer of its own that
# reads that output: no work, memory of its own, the gradient it is given passed back into the run
RETURNED_BESIDE = MemoryFacts(aliases=never, aliases_in_training=never, saved="nothing", gradient="each input",
                              extra_saved=no_bytes, transient=no_bytes, last_saved="none",
                              workspace=parameter_gradients, copies=None, estimate=None)


# ---- mixed precision ----

@dataclass(frozen=True)
class Autocast:
    """How torch.autocast runs the kind, by its op lists (aten/src/ATen/autocast_mode.cpp), on CUDA and
    on the CPU, whose lists differ: "lower", its inputs cast to autocast's dtype (float16, bfloat16:
    convolutions, matrix products); "float32", cast up (CUDA's softmax, norms and upsampling, the
    CPU's 3-d pools and copy pads); "promote", in the widest dtype of its inputs, as autocast's promote
    list (cat, stack) and every op on no list run. Either may depend on the arguments."""
    cuda: str | Callable[[dict], str]
    cpu: str | Callable[[dict], str]

    POLICIES = ("lower", "float32", "promote")
    DEVICES = ("cuda", "cpu")

    def __post_init__(self):
        if any(not callable(policy) and policy not in self.POLICIES for policy in (self.cuda, self.cpu)):
            raise ValueError(f"an autocast policy must be one of {self.POLICIES}")

    def policy(self, device: str, args: dict) -> str:
        policy = self.cuda if device == "cuda" else self.cpu
        return policy(args) if callable(policy) else policy


# The common cases, each a complete declaration.
LOWER = Autocast(cuda="lower", cpu="lower")
PROMOTE = Autocast(cuda="promote", cpu="promote")
FLOAT32 = Autocast(cuda="float32", cpu="float32")
FLOAT32_ON_CUDA = Autocast(cuda="float32", cpu="promote")  # CUDA's float32 list, on none of the CPU's
FLOAT32_ON_CPU = Autocast(cuda="promote", cpu="float32")  # the CPU's float32 list, on none of CUDA's


def float32_on_cpu_in(*dims: int) -> Callable[[int], Autocast]:
    """Per spatial dims, for kinds registered for several: the CPU's float32 list has some of them
    (3-d pools, 1-d and 2-d reflection pads), and the others run as they come."""
    return lambda n: FLOAT32_ON_CPU if n in dims else PROMOTE


# ---- backward work ----

@dataclass(frozen=True)
class Gradients:
    """Which gradients autograd computes through one layer: per input, whether that tensor requires
    grad, and whether the layer's own parameters are trained (requires_grad)."""
    inputs: tuple[bool, ...]
    parameters: bool


@dataclass(frozen=True)
class BackwardWork:
    """MACs of one layer's backward pass per sample: the convolutions and matrix products it runs, which
    torch.utils.flop_counter.FlopCounterMode counts (convolution_backward, mm, bmm; element-wise work,
    norms and reductions such as a bias's gradient count nothing). `inputs`: computing its inputs'
    gradients, and the gradients between them inside the layer (attention's scores, a recurrence's
    earlier steps); `parameters`: computing its weights' gradients."""
    inputs: int
    parameters: int


NO_WORK = BackwardWork(inputs=0, parameters=0)
# A kind's rule: (input shapes, arguments, its Calc, the gradients computed) → BackwardWork.
BackwardRule = Callable[["tuple[Shape, ...]", dict, object, Gradients], BackwardWork]


@dataclass(frozen=True)
class BackwardFacts:
    """A kind's backward pass: the inputs whose values its output is computed from, so that gradients
    flow to them ("each input", or "first input": a crop reads its second input's shape only, an index
    select its integer indices), and what computing the gradients costs."""
    differentiates: str
    work: BackwardRule

    DIFFERENTIATES = ("each input", "first input")

    def __post_init__(self):
        if self.differentiates not in self.DIFFERENTIATES:
            raise ValueError(f"differentiates must be one of {self.DIFFERENTIATES}")

    def differentiated(self, count: int) -> tuple[bool, ...]:
        """Per input of a layer of `count` inputs, whether its gradient may flow to it."""
        return (True,) * count if self.differentiates == "each input" else (True,) + (False,) * (count - 1)


def no_products(shapes: tuple[Shape, ...], args: dict, calc, gradients: Gradients) -> BackwardWork:
    """Its backward runs no matrix product or convolution: FlopCounterMode counts nothing for it."""
    return NO_WORK


def products(shapes: tuple[Shape, ...], args: dict, calc, gradients: Gradients) -> BackwardWork:
    """A product of its inputs (matmul, einsum): each factor's gradient is the output's gradient times
    the other factor, a product as large as the forward one (C = A·B: dA = dC·Bᵀ, dB = Aᵀ·dC)."""
    return BackwardWork(inputs=calc.macs * sum(gradients.inputs), parameters=0)


# The common cases, each a complete declaration.
NO_PRODUCTS = BackwardFacts(differentiates="each input", work=no_products)
# reads its second input for its shape (crop) or as integer indices (index select): no gradient there
FIRST_INPUT_ONLY = BackwardFacts(differentiates="first input", work=no_products)
PRODUCTS = BackwardFacts(differentiates="each input", work=products)


# ---- PyTorch forms ----

@dataclass(frozen=True)
class Call:
    """A function or tensor method computing the kind: its dotted path (or method name), where each
    argument sits when passed by position (the tensor is position 0), and the argument that collects
    the rest when they come one by one (x.view(-1, 400) as x.view((-1, 400))). A function given the
    layer's own parameters (F.linear(x, self.weight, self.bias)) names where each sits in `tensors`,
    and `reads` turns their shapes (None: not given) into the layer's arguments (None: no layer of
    this kind has such parameters). `fixed` names the
    call's arguments the kind has no argument for, and the values with which the call is the kind
    (F.pad is a zero pad in mode "constant" with value 0). One call may be several kinds
    (F.batch_norm is batchnorm1d, 2d or 3d): the first whose calculator takes the input is meant."""
    path: str
    positions: tuple[tuple[str, int], ...] = ()
    rest: str | None = None
    tensors: tuple[tuple[str, int], ...] = ()
    reads: Callable[[dict], dict] | None = None
    fixed: tuple[tuple[str, int, tuple], ...] = ()  # (argument, position, the values this kind allows)
    implied: tuple[tuple[str, object], ...] = ()  # arguments the call means without passing them (square: 2)
    like: str | None = None  # the argument that is the other tensor's shape (y.expand_as(x): size), read off it
    # arguments whose default differs from the kind's (torch.cat's dim 0, where a spec's concat joins channels)
    defaults: tuple[tuple[str, object], ...] = ()
    # parameters the kind also takes as its second input where they are no parameter of the layer's
    # own: filters computed in forward() (weight standardization) or a fixed filter kept as a buffer
    taken_as_input: tuple[str, ...] = ()
    keywords: tuple[tuple[str, str], ...] = ()  # (argument, the call's keyword) where the names differ
    # the argument that, left out, means every dim, the batch's too (torch.mean(x), VQ-VAE's loss): per
    # sample, every dim of the sample, as a batch of one computes it
    every_dim: str | None = None
    equation: str | None = None  # the argument that is an einsum equation: per sample, the batch's letter left out
    pairs: str | None = None  # the argument that is F.pad's (before, after) pairs, last dim first
    # a bias computed in forward() is added after the layer, which takes none (BEiT's q and v biases
    # around zeros, torch.cat((q_bias, zeros, v_bias)))
    bias_apart: bool = False

    def keyword(self, argument: str) -> str:
        """The call's keyword for one of the kind's arguments (linalg.vector_norm's ord is norm's p)."""
        return dict(self.keywords).get(argument, argument)


@dataclass(frozen=True)
class FromInput:
    """A constructor argument PyTorch takes but a spec never writes: the input's size along `dim`."""
    argument: str
    dim: int  # of the batched input: 1 for channels, -1 for features


@dataclass(frozen=True)
class Alias:
    """Another library's module that computes the kind (torchvision's StochasticDepth, timm's
    DropPath): its dotted path, the attribute holding each argument whose name differs, and the
    arguments each call of it passes to forward() (position, the input 0), read off each call."""
    path: str
    attributes: tuple[tuple[str, str], ...] = ()
    called_with: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True)
class TorchForms:
    """How PyTorch writes the kind: the module the verify builder instantiates ("torch.nn.Conv2d",
    or one of cnncalc.verify.modules for joins), the argument it infers from the input, the
    functions and tensor methods the importer maps to it, and other libraries' modules it maps
    (where they are installed); `given_weight`, the module the builder makes of a layer that takes its
    weight as its second input (F.conv2d(x, weight)), for the kinds that may. `{n}` stands for the
    spatial dims."""
    module: str
    inferred: FromInput | None
    functions: tuple[Call, ...]
    methods: tuple[Call, ...]
    aliases: tuple[Alias, ...]
    given_weight: str | None

    def for_dims(self, n: int) -> "TorchForms":
        return TorchForms(module=self.module.format(n=n), inferred=self.inferred,
                          given_weight=self.given_weight and self.given_weight.format(n=n),
                          functions=tuple(replace(f, path=f.path.format(n=n)) for f in self.functions),
                          methods=tuple(replace(m, path=m.path.format(n=n)) for m in self.methods),
                          aliases=self.aliases)


def calls(*paths: str, **positions: int) -> tuple[Call, ...]:
    """Several spellings of one call with the same argument positions."""
    return tuple(Call(path, tuple(positions.items())) for path in paths)


NN = "torch.nn."
F = "torch.nn.functional."
OWN = "cnncalc.verify.modules."  # modules cnncalc defines for kinds torch.nn lacks


def own_module(name: str) -> TorchForms:
    """A kind that only cnncalc's module of that name builds: no torch call maps to it (the importer makes it)."""
    return TorchForms(module=OWN + name, given_weight=None, inferred=None, functions=(), methods=(), aliases=())
