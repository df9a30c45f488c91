"""Joins of several branches: add, sub, mul, div and pow (broadcasting; or one input and a number),
comparisons (their masks bool), maximum and minimum, where and masked_fill (a mask chooses), cosine
similarity, concat, stack, and crop for U-Net skips."""
from __future__ import annotations

import math
from dataclasses import replace

from ..errors import quoted
from .facts import AS_IS, parameter_gradients
from .facts import (COPY, NN, NO_GRADIENT, OWN, SLICE, Call, MemoryFacts, Parameters, TorchForms, Window, Workspace, calls,
                    merge, never, no_bytes, temporaries, unit_window, whole)
from .facts import FIRST_INPUT_ONLY, FLOAT32_ON_CUDA, NO_PRODUCTS, PROMOTE, Autocast
from .reduce import reduce_field
from .registry import (EACH_DIM, Arg, Calc, LayerError, Shape, any_int, boolean, dim_index, format_shape, number,
                       optional, register)


def _number(args: dict) -> bool:
    """Whether an arithmetic layer's second operand is a number (x * 0.5), not a tensor."""
    return args["other"] is not None


# add hands its output's gradient to every input, concat a slice of it to each: no new gradients
_PASSES_GRADIENT = COPY
# a product's gradient needs the other factors; times a number, only the number
_SAVES_FACTORS = MemoryFacts(aliases=never, aliases_in_training=never,
                             saved=lambda args: "nothing" if _number(args) else "inputs",
                             gradient="each input", extra_saved=no_bytes, transient=no_bytes,
                             last_saved=lambda args: "none" if _number(args) else "read",
                             workspace=parameter_gradients, copies=None, estimate=None)
# a difference hands the gradient to its first input and its negation, a new tensor, to the second
# (derivatives.yaml: sub.Tensor, self: grad, other: -grad * alpha)
_NEGATES = MemoryFacts(aliases=never, aliases_in_training=never, saved="nothing",
                       gradient=lambda args: "passed" if _number(args) else "after the first",
                       extra_saved=no_bytes, transient=no_bytes, last_saved="none",
                       workspace=parameter_gradients, copies=None, estimate=None)


def _forms(module: str, functions: tuple[str, ...], methods: tuple[str, ...], defaults: tuple = (),
           **positions: int) -> TorchForms:
    """torch's functions and the tensor's methods, each argument at the same place (the tensor, or self, 0)."""
    return TorchForms(module=OWN + module, given_weight=None, inferred=None, aliases=(),
                      methods=calls(*methods, **positions),
                      functions=tuple(Call(path, tuple(positions.items()), defaults=defaults) for path in functions))


def _arithmetic(module: str, operator: str, function: str, commutes: bool, implying: str = "",
                also: tuple[str, ...] = ()) -> TorchForms:
    """x + y, torch.add(x, y) and x.add(y), and in place, x += y and x.add_(y); a number as `other`
    (x * 0.5, and 0.5 * x where the order does not matter); `implying` names a function and method
    that mean other=2 (square); `also`, torch's other names for the function, and their methods
    (torch.multiply, x.multiply_)."""
    two = (("other", 2),)
    in_place = "operator.i" + operator.removeprefix("operator.").rstrip("_")
    names = [path.rpartition(".")[2] for path in (function, *also)]
    return TorchForms(module=OWN + module, given_weight=None, inferred=None, aliases=(),
                      methods=calls(*(name + suffix for name in names for suffix in ("", "_")), other=1)
                      + ((Call(implying, implied=two),) if implying else ()),
                      functions=calls(operator, in_place, function, *also, other=1)
                      + (calls(operator, other=0) if commutes else ())
                      + ((Call(f"torch.{implying}", implied=two),) if implying else ()))


def broadcast(shapes: tuple[Shape, ...], args: dict) -> Calc:
    """PyTorch broadcasting over per-sample shapes of equal rank (the batch dim lines up first); one
    input and a number as `other`."""
    if len(shapes) > 1 and _number(args):
        raise LayerError("other is for one input and a number; with two or more inputs, leave it out")
    return Calc(broadcast_shape(shapes))


def broadcast_shape(shapes: tuple[Shape, ...]) -> Shape:
    ranks = {len(s) for s in shapes}
    if len(ranks) > 1:
        raise LayerError(f"operands have different ranks: {', '.join(format_shape(s) for s in shapes)}")
    out = []
    for sizes in zip(*shapes):
        wide = {s for s in sizes if s != 1}
        if len(wide) > 1:
            raise LayerError("operands do not broadcast: " + ", ".join(format_shape(s) for s in shapes))
        out.append(wide.pop() if wide else 1)
    return tuple(out)


_OTHER = (Arg("other", optional(number), None),)


def _one_with_a_number(args: dict) -> int:
    return 1 if _number(args) else 2


# a remainder's gradient is the dividend's own (derivatives.yaml: self: grad); a tensor divisor's is
# -grad * self.div(other, rounding_mode): the quotient, held while it is made
_REMAINDER = replace(_SAVES_FACTORS, gradient=lambda args: "passed" if _number(args) else "each input",
                     workspace=temporaries(backward=lambda args: 0 if _number(args) else 1))


def _arithmetic_kind(name: str, memory: MemoryFacts, forms: TorchForms, autocast: Autocast = PROMOTE,
                     args: tuple = _OTHER, makes: str | None = None) -> None:
    register(name, family="join", field_probe=AS_IS,
             backward=NO_PRODUCTS, arity=None, fewest_inputs=_one_with_a_number, args=args, receptive_field=merge,
             memory=memory, torch=forms, autocast=autocast, makes=makes)(broadcast)


# `operator`: written x + y (or in place, x += y, x.add_(y)), as a forward() mostly does; false: called
# as torch.add(x, y) or x.add(y), which ptflops patches (torch.mul and x.mul(y) too) and counts alone.
# At torch's level both are Tensor.add: the import reads which by the run (importing/capture.py)
_WRITTEN = _OTHER + (Arg("operator", boolean, True),)
_arithmetic_kind("add", _PASSES_GRADIENT, _arithmetic("Add", "operator.add", "torch.add", commutes=True),
                 args=_WRITTEN)
_arithmetic_kind("sub", _NEGATES,
                 _arithmetic("Sub", "operator.sub", "torch.sub", commutes=False, also=("torch.subtract",)))
# 1 - x, torch.rsub(x, 1) (no tensor method): the number first (RAFT's ConvGRU, (1 - z) * h); the
# gradient passes negated
_arithmetic_kind("rsub", _NEGATES, TorchForms(module=OWN + "Rsub", given_weight=None, inferred=None, aliases=(),
                                              functions=calls("operator.sub", other=0) + calls("torch.rsub", other=1),
                                              methods=()))
_arithmetic_kind("mul", _SAVES_FACTORS, _arithmetic("Mul", "operator.mul", "torch.mul", commutes=True,
                                                  also=("torch.multiply",)),
                 args=_WRITTEN)
# a tensor divisor's gradient is -grad * self / (other * other): two tensors beside it
_arithmetic_kind("div", replace(_SAVES_FACTORS, workspace=temporaries(backward=lambda args: 0 if _number(args) else 2)),
                 _arithmetic("Div", "operator.truediv", "torch.div", commutes=False,
                             also=("torch.divide", "torch.true_divide")))
# x % n, torch.remainder: the gradient passes to x; a tensor divisor's is -floor(x / y), both saved
# (FCOS's class of each kept score, topk_idxs % num_classes)
_arithmetic_kind("remainder", _REMAINDER,
                 _arithmetic("Remainder", "operator.mod", "torch.remainder", commutes=False))
# torch.fmod(x, y), x.fmod(y): the remainder of truncated division (its sign the dividend's), no operator
# for it; a tensor divisor's gradient is -trunc(x / y), both saved
_arithmetic_kind("fmod", _REMAINDER, _forms("Fmod", ("torch.fmod",), ("fmod",), other=1))
# x ** 2 keeps x for its gradient (2·x·grad)
_POWER = MemoryFacts(aliases=never, aliases_in_training=never, saved="inputs", gradient="each input",
                     extra_saved=no_bytes, transient=no_bytes, last_saved="read", workspace=parameter_gradients,
                     copies=None, estimate=None)
# x != 0, ids.ne(padding_idx): a mask (RoBERTa's positions from its ids): NO_GRADIENT
# x == y, torch.eq(x, y), x.eq(y), x.eq_(y); Python has no in-place ==. A number first reads the same
# only for == and != (2 < x is x > 2, which Python itself turns into x.__gt__(2))
# (torch.greater, x.less_equal: the same calls by their other names)
_SPELLED_OUT = {"eq": (), "ne": ("not_equal",), "gt": ("greater",), "ge": ("greater_equal",), "lt": ("less",),
                "le": ("less_equal",)}
for _kind, _names in _SPELLED_OUT.items():
    _arithmetic_kind(_kind, NO_GRADIENT, TorchForms(
        module=OWN + _kind.capitalize(), given_weight=None, inferred=None, aliases=(),
        functions=calls(f"operator.{_kind}", *(f"torch.{name}" for name in (_kind, *_names)), other=1)
        + (calls(f"operator.{_kind}", other=0) if _kind in ("eq", "ne") else ()),
        methods=calls(*(name + suffix for name in (_kind, *_names) for suffix in ("", "_")), other=1)), makes="bool")
# mask & mask, torch.bitwise_and: where both hold (remove_small_boxes' (ws >= min) & (hs >= min)); no
# gradient flows through booleans
_arithmetic_kind("bitwiseand", NO_GRADIENT, _arithmetic("BitwiseAnd", "operator.and_", "torch.bitwise_and",
                                                        commutes=True), makes="bool")
# CUDA's autocast runs pow in float32 (its fp32 list)
# x ** n's backward holds n·x^(n-1) a step at a time, two tensors (derivatives.yaml: pow_backward); x ** y's
# four, and the mask of where x is 0 (pow_backward_exponent)
_arithmetic_kind("pow", replace(_POWER, workspace=temporaries(backward=lambda args: 2 if _number(args) else 4,
                                                              masks=lambda args: 0 if _number(args) else 1)),
                 _arithmetic("Pow", "operator.pow", "torch.pow", commutes=False, implying="square"),
                 FLOAT32_ON_CUDA)


def broadcast_all(shapes: tuple[Shape, ...], args: dict) -> Calc:
    """The shape every input broadcasts to."""
    return Calc(broadcast_shape(shapes))


# torch.addcmul(input, tensor1, tensor2, value=v): input + v·tensor1·tensor2 (ConvNeXt V2's global
# response norm); the product's gradient needs both factors, the input's neither
register("addcmul", family="join", field_probe=AS_IS, autocast=PROMOTE,
         backward=NO_PRODUCTS, arity=3, args=(Arg("value", number, 1),), receptive_field=merge,
         memory=replace(_POWER, saved="factors"),
         torch=_forms("Addcmul", ("torch.addcmul",), ("addcmul",), value=3))(broadcast_all)
def pairwise(shapes: tuple[Shape, ...], args: dict) -> Calc:
    """The shape two inputs broadcast to (torch.max(x) alone is a reduction, amax)."""
    if len(shapes) != 2:
        raise LayerError(f"takes two tensors, got {len(shapes)}")
    return broadcast_all(shapes, args)


# each input's gradient is where(self == other, grad / 2, grad) masked where the other wins: the half and
# two masks beside them
_PAIRED = replace(_POWER, workspace=temporaries(backward=1, masks=2))
# torch.maximum(x, y), torch.minimum, and torch.max(x, y) and x.min(y) given a tensor (XGLM's floor on its
# scores, torch.max(scores, torch.tensor(min))): each pair's larger (smaller); backward compares them again
for _kind, _short in (("maximum", "max"), ("minimum", "min")):
    register(_kind, family="join", field_probe=AS_IS, autocast=PROMOTE, backward=NO_PRODUCTS, arity=2,
             receptive_field=merge, memory=_PAIRED,
             torch=_forms(_kind.capitalize(), (f"torch.{_kind}", f"torch.{_short}"), (_kind, _short)))(pairwise)


def chosen(shapes: tuple[Shape, ...], args: dict) -> Calc:
    """torch.where(condition, input, other): the shape all three broadcast to, a number for input or
    other taking no shape."""
    if len(shapes) != _where_inputs(args):
        raise LayerError(f"where takes a condition and {_where_inputs(args) - 1} tensors besides the numbers given, "
                         f"got {len(shapes)} inputs")
    return Calc(broadcast_shape(shapes))


def _where_inputs(args: dict) -> int:
    return 1 + (args["input"] is None) + (args["other"] is None)


# the gradient goes to input where the condition holds, to other elsewhere: backward keeps the condition
register("where", family="join", field_probe=AS_IS, autocast=PROMOTE, backward=NO_PRODUCTS, arity=None,
         fewest_inputs=_where_inputs, receptive_field=merge,
         args=(Arg("input", optional(number), None), Arg("other", optional(number), None)),
         memory=MemoryFacts(aliases=never, aliases_in_training=never, saved="input", gradient="each input",
                            extra_saved=no_bytes, transient=no_bytes, last_saved="read", workspace=parameter_gradients,
                            copies=None, estimate=None),
         torch=_forms("Where", ("torch.where",), (), input=1, other=2))(chosen)


# torch.lerp(start, end, weight), x.lerp(end, weight): start + weight·(end − start) by a number (a moving
# average, a blend); each gradient is the output's scaled, so backward keeps nothing
register("lerp", family="join", field_probe=AS_IS, autocast=PROMOTE, backward=NO_PRODUCTS, arity=2,
         receptive_field=merge, args=(Arg("weight", number),),
         memory=MemoryFacts(aliases=never, aliases_in_training=never, saved="nothing", gradient="each input",
                            extra_saved=no_bytes, transient=no_bytes, last_saved="none", workspace=parameter_gradients,
                            copies=None, estimate=None),
         torch=_forms("Lerp", ("torch.lerp",), ("lerp",), weight=2))(pairwise)


def _cosine_holds(args: dict, shapes: tuple[Shape, ...], batch: int, element_size: int,
                  parameters: Parameters) -> Workspace:
    """F.cosine_similarity as ATen writes it: both operands expanded to the shape they broadcast to, each one's
    norm along dim and a clamped copy of it (a value per row each), each divided by its clamped norm, their
    product, summed along dim. Autograd keeps the norms, their copies and both quotients; in inference the
    norms die at their copies; the product lives only while it runs. Its backward holds two products' worth
    beside the operands' gradients (fitted: within 10% of torch's where the operands are of one shape)."""
    shape = broadcast_shape(shapes)
    product = math.prod(shape)
    rows = 2 * product // shape[dim_index(args["dim"], len(shape))]  # of the two operands
    return Workspace(saved=(2 * rows + 2 * product) * batch, running=product * batch,
                     inference=(rows + 3 * product) * batch, gradients=2 * product * batch, largest_parameter=0)


def _cosine_broadcast(shapes: tuple[Shape, ...], args: dict, tracked: tuple[bool, ...]) -> str | None:
    """Operands of other shapes: the gradients of the expanded quotients, summed back to each operand's shape,
    are held in backward beside the rest, which the figures leave out (a prototype classifier's training step
    measures 1.2 to 1.3 times the prediction)."""
    return "operands that broadcast hold their expanded quotients' gradients in backward, which the figures " \
        "leave out" if len(set(shapes)) > 1 else None


def _cosine_field(args: dict, shapes: tuple[Shape, ...], out: Shape):
    """Along channels only each position's own; along a spatial dim every position of it."""
    return reduce_field({"dim": (args["dim"],), "keepdim": False}, (broadcast_shape(shapes),), out)


# x1·x2 / max(‖x1‖·‖x2‖, eps) along dim, each operand normalized first: a prototype classifier's, a contrastive
# head's; no product FlopCounterMode counts (element-wise work and sums)
@register("cosinesimilarity", family="join", field_probe=AS_IS, autocast=FLOAT32_ON_CUDA, backward=NO_PRODUCTS,
          arity=2, receptive_field=_cosine_field,
          memory=MemoryFacts(aliases=never, aliases_in_training=never, saved="inputs", gradient="each input",
                             extra_saved=no_bytes, transient=no_bytes, last_saved="made", workspace=_cosine_holds,
                             copies=None, estimate=_cosine_broadcast),
          args=(Arg("dim", any_int, 1, names_dims=EACH_DIM), Arg("eps", number, 1e-8)),
          torch=TorchForms(module=NN + "CosineSimilarity", given_weight=None, inferred=None, methods=(), aliases=(),
                           functions=calls("torch.nn.functional.cosine_similarity", "torch.cosine_similarity",
                                           dim=2, eps=3)))
def cosine_similarity(shapes: tuple[Shape, ...], args: dict) -> Calc:
    """The operands broadcast (the batch lines up first), dim dropped."""
    shape = broadcast_shape(shapes)
    axis = dim_index(args["dim"], len(shape))
    return Calc(shape[:axis] + shape[axis + 1:])


@register("concat", family="join", field_probe=AS_IS, autocast=PROMOTE,
          backward=NO_PRODUCTS, arity=None, fewest_inputs=1, args=(Arg("dim", any_int, 1, names_dims=EACH_DIM),),
          receptive_field=merge, memory=_PASSES_GRADIENT,
          torch=_forms("Concat", ("torch.cat", "torch.concat", "torch.concatenate"), (), defaults=(("dim", 0),), dim=1))
def concat(shapes: tuple[Shape, ...], args: dict) -> Calc:
    rank = len(shapes[0])
    if any(len(s) != rank for s in shapes):
        raise LayerError("operands have different ranks: " + ", ".join(format_shape(s) for s in shapes))
    axis = dim_index(args["dim"], rank)
    for shape in shapes[1:]:
        if shape[:axis] + shape[axis + 1:] != shapes[0][:axis] + shapes[0][axis + 1:]:
            raise LayerError(f"operands differ off the concat dim {args['dim']}: "
                             + ", ".join(format_shape(s) for s in shapes))
    return Calc((*shapes[0][:axis], sum(s[axis] for s in shapes), *shapes[0][axis + 1:]))


@register("stack", family="join", field_probe=AS_IS, autocast=PROMOTE,
          backward=NO_PRODUCTS, arity=None, fewest_inputs=1, args=(Arg("dim", any_int, 0, names_dims=EACH_DIM),),
          receptive_field=whole, memory=_PASSES_GRADIENT,
          torch=_forms("Stack", ("torch.stack",), (), dim=1))
def stack(shapes: tuple[Shape, ...], args: dict) -> Calc:
    """Equal tensors along a new axis (torch.stack): a new axis before the spatial ones leaves no
    per-axis field."""
    if len(set(shapes)) > 1:
        raise LayerError("stacked tensors differ: " + ", ".join(format_shape(s) for s in shapes))
    rank = len(shapes[0]) + 1
    axis = dim_index(args["dim"] if args["dim"] >= 0 else args["dim"] + rank + 1, rank)
    return Calc(shapes[0][:axis] + (len(shapes),) + shapes[0][axis:])


def fill_value(value, n: int = 0) -> float:
    """What masked_fill writes: a number, or ±inf (attention's masked scores)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
        raise LayerError(f"expected a number or ±inf, got {quoted(value)}")
    return value


def filled(shapes: tuple[Shape, ...], args: dict) -> Calc:
    """x.masked_fill(mask, value): x's shape, the mask broadcast to it (never growing it)."""
    x, mask = shapes
    if len(mask) != len(x) or broadcast_shape(shapes) != x:
        raise LayerError(f"the mask {format_shape(mask)} does not broadcast to the input {format_shape(x)}")
    return Calc(x)


# attention's masked scores (nanoGPT's att.masked_fill(mask == 0, -inf)): the gradient passes where the
# mask is false, through a new tensor; autograd keeps the mask
register("maskedfill", family="join", field_probe=AS_IS, autocast=PROMOTE, backward=FIRST_INPUT_ONLY, arity=2,
         receptive_field=merge, args=(Arg("value", fill_value),),
         memory=MemoryFacts(aliases=never, aliases_in_training=never, saved="second input", gradient="first input",
                            extra_saved=no_bytes, transient=no_bytes, last_saved="read", workspace=parameter_gradients,
                            copies=None, estimate=None),
         torch=TorchForms(module=OWN + "MaskedFill", given_weight=None, inferred=None, aliases=(),
                          functions=calls("torch.masked_fill", value=2),
                          methods=calls("masked_fill", "masked_fill_", value=2)))(filled)


def crop_shift(args: dict, shapes: tuple[Shape, ...], out: Shape) -> tuple[Window, ...]:
    """The source's field, shifted by the centred offset."""
    source, target = shapes
    return (unit_window(len(source) - 1, padding=[-((s - t) // 2) for s, t in zip(source[1:], target[1:])]),)


@register("crop", family="join", field_probe=AS_IS, autocast=PROMOTE, backward=FIRST_INPUT_ONLY, arity=2, receptive_field=crop_shift, memory=SLICE,
          torch=_forms("Crop", (), ()))
def crop(shapes: tuple[Shape, ...], args: dict) -> Calc:
    """Center-crop the first input's spatial dims to the second's (U-Net's skip connections)."""
    source, target = shapes
    if len(source) != len(target) or any(s < t for s, t in zip(source[1:], target[1:])):
        raise LayerError(f"cannot center-crop {format_shape(source)} to the spatial size of "
                         f"{format_shape(target)}")
    odd = [s - t for s, t in zip(source[1:], target[1:]) if (s - t) % 2]
    if odd:  # U-Net: a skip whose size differs by an odd number cannot be centered
        raise LayerError(f"skip sizes do not match: {format_shape(source[1:])} cannot be centered on "
                         f"{format_shape(target[1:])} (difference {odd[0]} is odd)")
    return Calc((source[0], *target[1:]))
