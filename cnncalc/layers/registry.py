"""The layer-kind registry: each kind declares its arguments, one pure calculator, and its facts."""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Callable

from ..errors import LayerError, did_you_mean, quoted
from ..graph import TORCH_INT_MAX, too_large
from .facts import Autocast, BackwardFacts, FieldProbe, FieldRule, FromInput, MemoryFacts, TorchForms

Shape = tuple[int, ...]
REQUIRED = object()


@dataclass(frozen=True)
class Arg:
    """One constructor argument: PyTorch's name and default, and a check that normalizes it."""
    name: str
    check: Callable[[Any, int], Any]
    default: Any = REQUIRED
    # what its integers are, where they name dims of the input as torch counts them (the batch is dim 0):
    # EACH_DIM (softmax's dim, mean's dims), DIM_ORDER (permute's dims, a permutation keeping 0 first)
    # or SIZE_PER_DIM (expand's sizes, the batch's first, -1 keeping a size); BATCH_FIRST: a flag
    # placing the batch (nn.MultiheadAttention's batch_first)
    names_dims: str | None = None


EACH_DIM, DIM_ORDER, SIZE_PER_DIM = "each", "order", "sizes"
BATCH_FIRST = "batch first"  # a flag saying whether the batch is dim 0 (True) or dim 1 (False, the sequence first)


class Args(dict):
    """A layer's normalized arguments: read-only, and hashed by content (once), so layers with equal
    arguments share their figures however the spec produced them."""
    __slots__ = ("_hash",)

    def __hash__(self) -> int:
        try:
            return self._hash
        except AttributeError:
            self._hash = hash(tuple(self.items()))
            return self._hash

    def _read_only(self, *args, **kwargs):
        raise TypeError("a layer's arguments are read-only")

    __setitem__ = __delitem__ = update = pop = popitem = clear = setdefault = __ior__ = _read_only  # type: ignore

    def __reduce__(self):
        return Args, (dict(self),)


@dataclass(frozen=True)
class Calc:
    """What a calculator returns for one sample: the output shape and the layer's own counts."""
    output_shape: Shape
    weights: int = 0
    biases: int = 0
    buffers: int = 0
    macs: int = 0
    dropped: tuple[int, ...] = ()  # input rows/columns per spatial axis that flooring leaves unused
    int64_buffers: int = 0  # of the buffers, those held as int64 whatever the model's dtype (num_batches_tracked)


@dataclass(frozen=True)
class LayerKind:
    """Everything cnncalc knows about one kind of layer, declared once by its registration."""
    name: str
    family: str                       # one of FAMILIES: conv, pool, norm, linear, activation, ...
    args: tuple[Arg, ...]
    calculate: Callable[[tuple[Shape, ...], dict], Calc]
    arity: int | None                 # inputs (0: none, a parameter); None: fewest_inputs or more
    fewest_inputs: int | Callable[[dict], int]  # of a join: torch.cat([x]) concatenates one, x * 0.5 is a mul
    spatial_dims: int
    torch: TorchForms
    receptive_field: FieldRule
    field_probe: FieldProbe           # how verify's receptive-field check runs it
    memory: MemoryFacts
    backward: BackwardFacts           # where its gradients flow, and their MACs
    autocast: Autocast                # the dtype torch.autocast runs it in
    makes: str | None                 # what it makes when no floating tensor ("bool": a comparison's mask)
    returns: tuple[str, ...]          # the kinds of the tensors its calls return after the first (sort's: argsort;
                                      # an LSTM's h_n and c_n: finalstate)
    explain: Callable[[tuple[Shape, ...], dict, Calc], list[str]] | None  # the formulas, numbers put in
    # of the inputs a layer of these arguments is given, how many lead as operands one tensor may fill several of
    # (attention's query, key and value), None where none may
    operands: Callable[[dict, int], int] | None
    # of its input shapes per sample and arguments, whether inference runs it by a fused kernel of torch's that
    # makes its output a contiguous tensor of its own where training's path returns a view (multi-head attention's
    # transposed back to batch first, which a linear after it copies), None where it has none
    fused_in_inference: Callable[[tuple[Shape, ...], dict], bool] | None

    def fewest(self, args: dict) -> int:
        """The fewest inputs a join of these arguments takes."""
        return self.fewest_inputs(args) if callable(self.fewest_inputs) else self.fewest_inputs

    def read_once(self, args: dict, inputs: tuple[str, ...]) -> tuple[str, ...]:
        """Its inputs (by name) with a tensor given as several of its operands read once, where its kind says they
        may be (`operands`): attention's query, key and value one tensor (self-attention), or its key and value
        (a memory), as torch's kernels tell them apart by identity."""
        if self.operands is None:
            return inputs
        count = self.operands(args, len(inputs))
        given, rest = inputs[:count], inputs[count:]
        if count == 3 and given[1] == given[2]:
            once = given[:1] if given[0] == given[1] else given[:2]
        elif count == 2 and given[0] == given[1]:  # a query attending to itself as its memory
            once = given[:1]
        else:
            return inputs
        return inputs if self.wrong_inputs(args, len(once) + len(rest)) else (*once, *rest)

    def reads_unless_told(self, args: dict) -> bool:
        """Whether a layer of these arguments reads the layer before it when not told what it reads: a
        parameter reads no layer, a constant only the one it is told to."""
        return not (self.arity == 0 or self.arity is None and self.fewest(args) == 0)

    def wrong_inputs(self, args: dict, count: int) -> str | None:
        """'takes two or more inputs' (an add's) where a layer of these arguments cannot read `count` inputs."""
        if count >= self.fewest(args) if self.arity is None else count == self.arity:
            return None
        fewest = {1: "one", 2: "two", 3: "three"}.get(self.fewest(args), str(self.fewest(args)))
        wanted = f"{fewest} or more inputs" if self.arity is None else \
            "no input" if self.arity == 0 else f"{self.arity} input{'s' * (self.arity > 1)}"
        return f"takes {wanted}"

    @property
    def can_be_functional(self) -> bool:
        """Whether a model may call it as a function (no parameters, so no module needed): a kind whose
        function takes parameters (F.prelu(x, weight)) is a module's even when called so."""
        return self.kin.functional and not any(call.tensors for call in self.torch.functions)

    @property
    def kin(self) -> "Family":
        """What every kind of its family shares."""
        return FAMILIES[self.family]

    def normalize(self, given: dict) -> Args:
        """Check the arguments written in a spec and fill in PyTorch's defaults.

        Repeated blocks give the same arguments many times: those are checked once."""
        types = tuple(map(type, given.values()))  # True is not 1, nor a list a tuple
        items = tuple(given.items()) if list not in types else tuple(  # an import's kernel_size: keyed as a tuple
            (name, tuple(value) if type(value) is list else value) for name, value in given.items())
        key = (self.name, items, types)
        try:
            found = _NORMALIZED.get(key)
        except TypeError:  # a list of lists (padding pairs): not hashable, checked every time
            return self._normalize(given)
        if found is None:
            found = _NORMALIZED[key] = self._normalize(given)
        return found

    def _normalize(self, given: dict) -> Args:
        defaults = self.defaults
        for name in given:
            if name not in defaults:
                hint = did_you_mean(name, defaults)
                valid = f"; valid: {', '.join(defaults)}" if defaults and not hint else ""
                raise LayerError(f"{self.name} has no argument '{name}'{hint}{valid}")
        args = dict(defaults)
        for arg in self.args:
            if arg.name in given:
                try:
                    args[arg.name] = arg.check(given[arg.name], self.spatial_dims)
                except LayerError as error:
                    raise LayerError(f"{self.name}: {arg.name}: {error}") from None
            elif args[arg.name] is REQUIRED:
                raise LayerError(f"{self.name} needs argument '{arg.name}'")
        return Args(args)

    @cached_property
    def defaults(self) -> dict:
        """PyTorch's defaults, checked once, so `stride: 1` is already (1, 1)."""
        return {arg.name: arg.default if arg.default in (None, REQUIRED) else arg.check(arg.default, self.spatial_dims)
                for arg in self.args}


REGISTRY: dict[str, LayerKind] = {}


@dataclass(frozen=True, kw_only=True)
class Family:
    """What every kind of a family shares, which the walkers ask of a kind."""
    functional: bool  # a model may call its kinds as functions (F.relu, x.view): no module needed
    one_tensor: bool  # its module returns one tensor of its input's type (a pool's unless asked for indices)
    multiplies: bool  # counts multiply-adds: made of constants alone, still work in every forward pass


FAMILIES = {
    "conv": Family(functional=False, one_tensor=True, multiplies=True),
    "linear": Family(functional=False, one_tensor=True, multiplies=True),
    "attention": Family(functional=False, one_tensor=False, multiplies=True),
    "recurrent": Family(functional=False, one_tensor=False, multiplies=True),
    "cell": Family(functional=False, one_tensor=True, multiplies=True),  # one step of a recurrent layer
    "cell pair": Family(functional=False, one_tensor=False, multiplies=True),  # one step of an LSTM: (h, c)
    "pool": Family(functional=True, one_tensor=True, multiplies=False),
    "activation": Family(functional=True, one_tensor=True, multiplies=False),
    "dropout": Family(functional=True, one_tensor=True, multiplies=False),
    "norm": Family(functional=False, one_tensor=True, multiplies=False),
    "shape": Family(functional=True, one_tensor=False, multiplies=False),
    "join": Family(functional=False, one_tensor=False, multiplies=False),
    "embedding": Family(functional=False, one_tensor=False, multiplies=False),
    "parameter": Family(functional=False, one_tensor=False, multiplies=False),
    "uncounted": Family(functional=False, one_tensor=False, multiplies=False),
}


_NORMALIZED: dict = {}  # (kind, given items) → normalized arguments


def register(*names: str, family: str, args: tuple[Arg, ...] = (), arity: int | None = 1,
             fewest_inputs: int | Callable[[dict], int] = 2,
             torch: TorchForms, receptive_field: FieldRule, field_probe: FieldProbe, memory: MemoryFacts,
             backward: BackwardFacts,
             autocast: Autocast | Callable[[int], Autocast], explain: Callable | None = None,
             makes: str | None = None, returns: tuple[str, ...] = (),
             operands: Callable[[dict, int], int] | None = None,
             fused_in_inference: Callable[[tuple[Shape, ...], dict], bool] | None = None):
    """Register a calculator for kinds with everything known about them; `torch` may contain `{n}`,
    the kind's spatial dimensions (conv{n}d), and `autocast` may be given per spatial dimensions;
    `makes` names the dtype of an output that is no floating tensor (a mask: "bool"), which autocast
    leaves alone; `returns` the kinds of the tensors its torch calls return after the first (sort's indices:
    argsort); `operands` how many of the inputs given lead as operands one tensor may fill several of;
    `fused_in_inference` where inference runs it by a fused kernel whose output is contiguous."""
    if family not in FAMILIES:
        raise ValueError(f"family must be one of {', '.join(FAMILIES)}")

    def decorate(calculate):
        contract = torch.inferred
        declared = (Arg(contract.argument, positive, None),) if contract else ()
        for name in names:
            n = int(name[-2]) if name.endswith("d") and name[-2:-1].isdigit() else 0
            REGISTRY[name] = LayerKind(name=name, family=family, args=args + declared,
                                       calculate=bounded(holding(contract, calculate) if contract else calculate),
                                       arity=arity, fewest_inputs=fewest_inputs, spatial_dims=n,
                                       torch=torch.for_dims(n),
                                       receptive_field=receptive_field, field_probe=field_probe, memory=memory,
                                       backward=backward,
                                       autocast=autocast(n) if callable(autocast) else autocast,
                                       explain=explain, makes=makes, returns=returns, operands=operands,
                                       fused_in_inference=fused_in_inference)
        return calculate
    return decorate


def holding(contract: FromInput, calculate: Callable) -> Callable:
    """The calculator, holding the input to what the layer declares. A spec may state the size a
    torch module is built with (in_features: 100); the input must then have it: a shape bug is
    what cnncalc is run to catch, never a size silently replaced."""
    def calculate_declared(shapes: tuple[Shape, ...], args: dict) -> Calc:
        declared, shape = args[contract.argument], shapes[0]
        if declared is not None and shape:  # a rank the calculator refuses is reported by it
            incoming = shape[contract.dim - 1 if contract.dim > 0 else contract.dim]
            if incoming != declared:
                raise LayerError(f"{contract.argument} is {declared:,}, but the input has {incoming:,}")
        return calculate(shapes, args)
    return calculate_declared


def bounded(calculate: Callable) -> Callable:
    """The calculator, refusing an output torch could not hold (tile's growth to 10^299 elements), and
    answering inputs and arguments met before from what it said then: the importer asks a module's
    kind while the model runs, again while mapping it, and the figures ask once more."""
    said: dict = {}

    def calculate_bounded(shapes: tuple[Shape, ...], args: dict) -> Calc:
        try:
            key = (shapes, tuple(args.items()), tuple(map(type, args.values())))  # True is not 1
            return said[key]
        except TypeError:  # a list among the arguments: not hashable
            key = None
        except KeyError:
            pass
        calc = calculate(shapes, args)
        if too_large(calc.output_shape):
            raise LayerError(f"its output {format_shape(calc.output_shape)} has more than 2^63 - 1 elements, "
                             "more than torch can hold")
        if key is not None and len(said) < SAID:
            said[key] = calc
        return calc
    return calculate_bounded


SAID = 4096  # answers each kind keeps: a model's distinct layers, many times over


# ---- argument checks: each takes (value, spatial_dims) and returns the normalized value ----

def _int(value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise LayerError(f"expected an integer, got {quoted(value)}")
    if value < minimum:
        raise LayerError(f"must be at least {minimum}, got {quoted(value)}")
    if value > TORCH_INT_MAX:  # torch reads integer arguments as int64
        raise LayerError(f"must be at most 2^63 - 1, as torch's integers are, got {quoted(value)}")
    return value


def positive(value: Any, n: int = 0) -> int:
    return _int(value, 1)


def non_negative(value: Any, n: int = 0) -> int:
    return _int(value, 0)


def any_int(value: Any, n: int = 0) -> int:
    return _int(value, -TORCH_INT_MAX)


def _tuple(value: Any, n: int, minimum: int) -> tuple[int, ...]:
    values = value if isinstance(value, (list, tuple)) else [value] * n
    if len(values) != n:
        raise LayerError(f"expected one integer or {n}, got {list(values)}")
    return tuple(_int(v, minimum) for v in values)


def positive_tuple(value: Any, n: int) -> tuple[int, ...]:
    return _tuple(value, n, 1)


def non_negative_tuple(value: Any, n: int) -> tuple[int, ...]:
    return _tuple(value, n, 0)


def optional(check: Callable[[Any, int], Any]) -> Callable[[Any, int], Any]:
    return lambda value, n: None if value is None else check(value, n)


FLOATS = "float"  # a flag's value for a tensor of floats, where the flag tells one apart (attention's masks)


def boolean(value: Any, n: int = 0) -> bool:
    if not isinstance(value, bool):
        raise LayerError(f"expected true or false, got {quoted(value)}")
    return value


def number(value: Any, n: int = 0) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise LayerError(f"expected a number, got {quoted(value)}")
    if not math.isfinite(value):
        raise LayerError(f"expected a finite number, got {quoted(value)}")
    return value


def non_negative_number(value: Any, n: int = 0) -> float:
    """A number of at least 0, as torch checks softshrink's lambd."""
    if number(value) < 0:
        raise LayerError(f"must be at least 0, got {quoted(value)}")
    return value


def probability(value: Any, n: int = 0) -> float:
    """A probability, as torch's dropout checks it: 0 ≤ p ≤ 1."""
    if not 0 <= number(value) <= 1:
        raise LayerError(f"must be between 0 and 1, got {quoted(value)}")
    return value


def choice(*options: str) -> Callable[[Any, int], str]:
    def check(value: Any, n: int = 0) -> str:
        if value not in options:
            raise LayerError(f"expected one of {', '.join(options)}, got {quoted(value)}")
        return value
    return check


def int_list(value: Any, n: int = 0) -> tuple[int, ...]:
    """An int or a list of positive ints (normalized_shape)."""
    values = value if isinstance(value, (list, tuple)) else [value]
    return tuple(positive(v) for v in values)


def size_list(value: Any, n: int = 0) -> tuple[int, ...]:
    """An int or a list of sizes, 0 among them: a tensor of no rows (a detector's kept boxes, none)."""
    values = value if isinstance(value, (list, tuple)) else [value]
    return tuple(non_negative(v) for v in values)


# ---- shared shape helpers ----

def numel(shape: Shape) -> int:
    return math.prod(shape)


def check_rank(shape: Shape, ranks: tuple[int, ...], what: str) -> None:
    if len(shape) not in ranks:
        expected = " or ".join(f"{r}-d" for r in ranks)
        raise LayerError(f"{what} expects a {expected} input per sample, got {format_shape(shape)}")


def format_shape(shape: Shape) -> str:
    return "×".join(str(d) for d in shape) if shape else "scalar"


def dim_in_range(dim: int, rank: int) -> int:
    """A PyTorch dim (batch included, may be negative) checked as torch checks it: -(rank + 1) ≤ dim ≤ rank."""
    full = rank + 1
    if not -full <= dim < full:
        raise LayerError(f"dim {dim} is out of range for a {rank}-d sample (+ batch)")
    return dim


def dim_index(dim: int, rank: int) -> int:
    """A PyTorch dim (batch included, may be negative) as an index into a per-sample shape."""
    full = rank + 1
    index = dim_in_range(dim, rank) % full - 1
    if index < 0:
        raise LayerError("dim 0 is the batch dimension; per-sample dims start at 1")
    return index
