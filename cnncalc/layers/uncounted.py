"""An operation no kind states, read from a PyTorch model: a row of its own marked "not counted", so
that a model is never refused for one operation (fvcore's unsupported_ops(), in the report itself).
Its output's shape and what it holds are known; its work and what autograd keeps are not, so every
total it enters is a lower bound, and check and verify fail on it unless allowed."""
from __future__ import annotations

from ..errors import LayerError
from .facts import AS_IS, parameter_gradients
from .facts import OWN, UNTRACKED, MemoryFacts, TorchForms, never, no_bytes
from .facts import NO_PRODUCTS, PROMOTE
from .registry import Arg, Calc, Shape, non_negative, register


def operation(value, n: int = 0) -> str:
    """The operation as the importer names it ('cdist', 'Softplus module'): printable, short."""
    if not isinstance(value, str) or not value.isprintable() or not 0 < len(value) <= 200:
        raise LayerError(f"expected the operation's name (printable, at most 200 characters), got {value!r:.60}")
    return value


def sizes(value, n: int = 0) -> tuple[int, ...]:
    """The output's sizes, a size 0 allowed (a detector's boxes when its run kept none)."""
    return tuple(non_negative(v) for v in (value if isinstance(value, (list, tuple)) else [value]))


def no_field(args: dict, shapes: tuple[Shape, ...], out: Shape):
    return UNTRACKED  # what it reads of its inputs is unknown


# lower bounds: its output is memory of its own; nothing it may keep for backward is counted
_UNKNOWN = MemoryFacts(aliases=never, aliases_in_training=never, saved="nothing", gradient="each input",
                       extra_saved=no_bytes, transient=no_bytes, last_saved="none",
                       workspace=parameter_gradients, copies=None, estimate=None)


# its backward's work is as unknown as its forward's: counted as 0, a lower bound too
# as the ops on no autocast list run: in its input's dtype
@register("uncounted", family="uncounted", field_probe=AS_IS, autocast=PROMOTE,
          backward=NO_PRODUCTS, arity=None, fewest_inputs=0, receptive_field=no_field, memory=_UNKNOWN,
          args=(Arg("operation", operation), Arg("shape", sizes), Arg("params", non_negative, 0),
                Arg("buffers", non_negative, 0)),
          torch=TorchForms(module=OWN + "Uncounted", given_weight=None, inferred=None, functions=(), methods=(),
                           aliases=()))
def uncounted(shapes: tuple[Shape, ...], args: dict) -> Calc:
    """`shape` per sample (the whole tensor's for one made without the input); `params` and `buffers`
    are what it holds (an unknown module's) or reads directly; its MACs are unknown, counted as 0."""
    return Calc(tuple(args["shape"]), weights=args["params"], buffers=args["buffers"])
