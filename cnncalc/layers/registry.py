"""The layer-kind registry: each kind declares its arguments and one pure calculator."""
from __future__ import annotations

import fnmatch
import math
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import Any, Callable

from ..errors import LayerError, did_you_mean

Shape = tuple[int, ...]
REQUIRED = object()


@dataclass(frozen=True)
class Arg:
    """One constructor argument: PyTorch's name and default, and a check that normalizes it."""
    name: str
    check: Callable[[Any, int], Any]
    default: Any = REQUIRED


@dataclass(frozen=True)
class Calc:
    """What a calculator returns for one sample: the output shape and the layer's own counts."""
    output_shape: Shape
    weights: int = 0
    biases: int = 0
    buffers: int = 0
    macs: int = 0
    dropped: tuple[int, ...] = ()  # input rows/columns per spatial axis that flooring leaves unused


@dataclass(frozen=True)
class LayerKind:
    name: str
    family: str                       # conv, pool, norm, linear, activation, join, shape, dropout
    args: tuple[Arg, ...]
    calculate: Callable[[tuple[Shape, ...], dict], Calc]
    torch_name: str | None = None     # torch.nn class the verify builder instantiates
    inferred: str | None = None       # constructor argument taken from the input shape
    arity: int | None = 1             # None: two or more inputs
    spatial_dims: int = 0
    aliases: Callable[[dict], bool] = field(default=lambda args: False)  # output shares input memory
    explain: Callable[[tuple[Shape, ...], dict, Calc], list[str]] | None = None

    def normalize(self, given: dict) -> dict:
        """Check the arguments written in a spec and fill in PyTorch's defaults.

        Repeated blocks give the same arguments many times: those are checked once."""
        try:
            key = (self.name, tuple(given.items()), tuple(map(type, given.values())))  # True is not 1
            return _NORMALIZED[key]
        except TypeError:  # a list among the values: not hashable, check it every time
            return self._normalize(given)
        except KeyError:
            _NORMALIZED[key] = self._normalize(given)
            return _NORMALIZED[key]

    def _normalize(self, given: dict) -> dict:
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
        return args

    @cached_property
    def defaults(self) -> dict:
        """PyTorch's defaults, checked once, so `stride: 1` is already (1, 1)."""
        return {arg.name: arg.default if arg.default in (None, REQUIRED) else arg.check(arg.default, self.spatial_dims)
                for arg in self.args}


REGISTRY: dict[str, LayerKind] = {}


@lru_cache(maxsize=None)  # tables are constant tuples; looked up once per layer by several walks
def first_match(table, kind: str, default: Any = None) -> Any:
    """The value of the first (pattern, value) row whose kind pattern (`conv?d`, `*pool*`) matches."""
    return next((value for pattern, value in table if fnmatch.fnmatchcase(kind, pattern)), default)


_NORMALIZED: dict = {}  # (kind, given items) → normalized arguments; treated as read-only


def register(*names: str, family: str, args: tuple[Arg, ...] = (), torch: str | None = None,
             inferred: str | None = None, arity: int | None = 1,
             aliases: Callable[[dict], bool] | None = None,
             explain: Callable | None = None):
    """Register a calculator for kinds; `torch` may contain `{n}`, the kind's spatial dimensions."""
    def decorate(calculate):
        for name in names:
            n = int(name[-2]) if name.endswith("d") and name[-2:-1].isdigit() else 0
            REGISTRY[name] = LayerKind(
                name, family, args, calculate, torch.format(n=n) if torch else None, inferred,
                arity, n, aliases or (lambda a: False), explain)
        return calculate
    return decorate


# ---- argument checks: each takes (value, spatial_dims) and returns the normalized value ----

def _int(value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise LayerError(f"expected an integer, got {value!r}")
    if value < minimum:
        raise LayerError(f"must be at least {minimum}, got {value}")
    return value


def positive(value: Any, n: int = 0) -> int:
    return _int(value, 1)


def any_int(value: Any, n: int = 0) -> int:
    return _int(value, -(1 << 62))


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


def boolean(value: Any, n: int = 0) -> bool:
    if not isinstance(value, bool):
        raise LayerError(f"expected true or false, got {value!r}")
    return value


def number(value: Any, n: int = 0) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise LayerError(f"expected a number, got {value!r}")
    return value


def choice(*options: str) -> Callable[[Any, int], str]:
    def check(value: Any, n: int = 0) -> str:
        if value not in options:
            raise LayerError(f"expected one of {', '.join(options)}, got {value!r}")
        return value
    return check


def int_list(value: Any, n: int = 0) -> tuple[int, ...]:
    """An int or a list of positive ints (normalized_shape)."""
    values = value if isinstance(value, (list, tuple)) else [value]
    return tuple(positive(v) for v in values)


# ---- shared shape helpers ----

def numel(shape: Shape) -> int:
    return math.prod(shape)


def check_rank(shape: Shape, ranks: tuple[int, ...], what: str) -> None:
    if len(shape) not in ranks:
        expected = " or ".join(f"{r}-d" for r in ranks)
        raise LayerError(f"{what} expects a {expected} input per sample, got {format_shape(shape)}")


def format_shape(shape: Shape) -> str:
    return "×".join(str(d) for d in shape) if shape else "scalar"


def dim_index(dim: int, rank: int) -> int:
    """A PyTorch dim (batch included, may be negative) as an index into a per-sample shape."""
    full = rank + 1
    if not -full <= dim < full:
        raise LayerError(f"dim {dim} is out of range for a {rank}-d sample (+ batch)")
    index = dim % full - 1
    if index < 0:
        raise LayerError("dim 0 is the batch dimension; per-sample dims start at 1")
    return index


def inplace(args: dict) -> bool:
    return bool(args.get("inplace"))


def always(args: dict) -> bool:
    return True
