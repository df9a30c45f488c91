"""Reductions over dims: mean, sum, amax and amin (global average pooling written as x.mean((2, 3))),
var and std (a norm written out), logsumexp, and argmax and argmin, where the largest or smallest is."""
from __future__ import annotations

import math
from dataclasses import replace

from ..errors import quoted
from .facts import AS_IS, parameter_gradients
from .facts import (FLOAT32, FLOAT32_ON_CUDA, NO_GRADIENT, NO_PRODUCTS, PROMOTE, OWN, WHOLE, Call, Exact, MemoryFacts,
                    Parameters, TorchForms, Workspace, WorkspaceRule, calls, elementwise, never, no_bytes, temporaries,
                    unit_window, whole)
from .registry import EACH_DIM, Arg, Calc, LayerError, Shape, any_int, boolean, dim_index, non_negative, register


def dims_arg(value, n: int = 0) -> tuple[int, ...]:
    """One dim or several, as PyTorch counts them (the batch is dim 0)."""
    values = tuple(value) if isinstance(value, (list, tuple)) else (value,)
    if not values:
        raise LayerError("give at least one dim (reducing over the batch is not a layer)")
    return tuple(any_int(v) for v in values)


def _reduced(shapes: tuple[Shape, ...], args: dict) -> tuple[set[int], Shape]:
    (shape,) = shapes
    axes = {dim_index(d, len(shape)) for d in args["dim"]}
    if len(axes) < len(args["dim"]):
        raise LayerError(f"dim {list(args['dim'])} names a dim twice")
    kept = tuple(1 if axis in axes else size for axis, size in enumerate(shape))
    return axes, kept if args["keepdim"] else tuple(s for axis, s in enumerate(shape) if axis not in axes)


def reduce(shapes: tuple[Shape, ...], args: dict) -> Calc:
    return Calc(_reduced(shapes, args)[1])


def reduce_field(args: dict, shapes: tuple[Shape, ...], out: Shape):
    """Reducing any spatial dim mixes every position along it; over channels only, none."""
    axes, _ = _reduced(shapes, args)
    return elementwise(args, shapes, out) if axes == {0} else WHOLE


def _over_every_dim(path: str, whole: str) -> tuple[Call, ...]:
    """x.mean(dim, keepdim), and x.mean() over every dim; where the call over every dim has another
    name (x.max() for amax), that one too, given no dim."""
    named = Call(path, (("dim", 1), ("keepdim", 2)), every_dim="dim")
    return (named,) if whole == path else (named, Call(whole, fixed=_WHOLE, every_dim="dim"))


REDUCE_ARGS = (Arg("dim", dims_arg, names_dims=EACH_DIM), Arg("keepdim", boolean, False))
# mean and sum need only the input's shape for backward; amax keeps its input and output to find
# where the maxima were (derivatives.yaml: amax)
_SHAPE_ONLY = MemoryFacts(aliases=never, aliases_in_training=never,
                          saved="nothing", gradient="each input", extra_saved=no_bytes, transient=no_bytes, last_saved="none",
                          workspace=parameter_gradients, copies=None, estimate=None)
# a sum's gradient is its output's expanded back (derivatives.yaml: sum_backward), a view: nothing made
_EXPANDED = replace(_SHAPE_ONLY, gradient="passed")
_MAXIMA = MemoryFacts(aliases=never, aliases_in_training=never,
                      saved="inputs", gradient="each input", extra_saved=lambda args, size: size,
                      transient=no_bytes, last_saved="made", workspace=parameter_gradients, copies=None, estimate=None)
# x.max() and x.sum(), no dim named: every dim (batched_nms's boxes.max(), over the boxes of one image)
_WHOLE = (("dim", 1, (None,)),)  # x.max(y) is an elementwise maximum, no reduction
# CUDA's autocast runs sum, cumsum and norm in float32 (its fp32_set_opt_dtype list)
for _kind, _module, _memory, _autocast, _whole in (
        ("mean", "Mean", _SHAPE_ONLY, PROMOTE, "mean"), ("sum", "Sum", _EXPANDED, FLOAT32_ON_CUDA, "sum"),
        ("amax", "Amax", _MAXIMA, PROMOTE, "max"), ("amin", "Amin", _MAXIMA, PROMOTE, "min")):
    register(_kind, family="shape", field_probe=AS_IS, autocast=_autocast,
             backward=NO_PRODUCTS, args=REDUCE_ARGS, receptive_field=reduce_field, memory=_memory,
             torch=TorchForms(module=OWN + _module, given_weight=None, inferred=None,
                              functions=_over_every_dim(f"torch.{_kind}", f"torch.{_whole}"),
                              methods=_over_every_dim(_kind, _whole), aliases=()))(reduce)


def one_dim_reduced(shapes: tuple[Shape, ...], args: dict) -> Calc:
    """The input, one dim reduced (argmax's positions along it, prod's products)."""
    return reduce(shapes, {**args, "dim": (args["dim"],)})


# x.argmax(dim) and x.argmin(dim): where the largest (smallest) along dim is; comparisons, which
# FlopCounterMode does not count, and positions take no gradient (Keypoint R-CNN's peak of each
# keypoint's heatmap; a vector quantizer's nearest code)
for _kind, _module in (("argmax", "Argmax"), ("argmin", "Argmin")):
    register(_kind, family="shape", field_probe=AS_IS, autocast=PROMOTE, backward=NO_PRODUCTS, receptive_field=whole, memory=NO_GRADIENT,
             args=(Arg("dim", any_int, names_dims=EACH_DIM), Arg("keepdim", boolean, False)),
             torch=TorchForms(module=OWN + _module, given_weight=None, inferred=None, aliases=(),
                              functions=calls(f"torch.{_kind}", dim=1, keepdim=2),
                              methods=calls(_kind, dim=1, keepdim=2)), makes="int64")(one_dim_reduced)


def one_dim_field(args: dict, shapes: tuple[Shape, ...], out: Shape):
    """A reduction's field over its one dim."""
    return reduce_field({**args, "dim": (args["dim"],)}, shapes, out)


# backward reads the input and the result (derivatives.yaml: prod_backward, cumprod_backward)
_INPUT_AND_RESULT = MemoryFacts(aliases=never, aliases_in_training=never, saved="inputs and output",
                                gradient="each input", extra_saved=no_bytes, transient=no_bytes, last_saved="made",
                                workspace=parameter_gradients, copies=None, estimate=None)
# torch.prod(x, dim) and x.prod(dim): the product along one dim (torch takes one), in float32 under
# autocast (CUDA's fp32_set_opt_dtype list, the CPU's fp32 list)
register("prod", family="shape", field_probe=AS_IS, autocast=FLOAT32, backward=NO_PRODUCTS,
         args=(Arg("dim", any_int, names_dims=EACH_DIM), Arg("keepdim", boolean, False)),
         receptive_field=one_dim_field, memory=_INPUT_AND_RESULT,
         torch=TorchForms(module=OWN + "Prod", given_weight=None, inferred=None, aliases=(),
                          functions=calls("torch.prod", dim=1, keepdim=2), methods=calls("prod", dim=1, keepdim=2)))(
    one_dim_reduced)


def correction(value, n: int = 0) -> int:
    """var's and std's correction (Bessel's 1), or the older unbiased flag for it (unbiased=False: 0)."""
    return int(value) if isinstance(value, bool) else non_negative(value)


def _spread_forms(path: str) -> tuple[Call, ...]:
    """x.var(dim, correction=0, keepdim=True), and the older x.var(dim, unbiased, keepdim); x.var() over
    every dim."""
    current = Call(path, (("dim", 1), ("keepdim", 3), ("correction", 4)), fixed=(("unbiased", 2, (None,)),),
                   every_dim="dim")
    older = Call(path, (("dim", 1), ("correction", 2), ("keepdim", 3)), keywords=(("correction", "unbiased"),),
                 every_dim="dim")
    return current, older


def _spread_backward(statistics: int) -> WorkspaceRule:
    """var's backward, (2 / (n - correction)) · grad · (self - self.mean(dim)), holds the deviations and
    `statistics` tensors of the result's size (the mean, the scaled gradient; std's grad / (2 · result)
    one more) beside the input's gradient."""
    def rule(args: dict, shapes: tuple[Shape, ...], batch: int, element_size: int,
             parameters: Parameters) -> Workspace:
        held = math.prod(shapes[0]) + statistics * math.prod(reduce(shapes, args).output_shape)
        return Workspace(saved=0, running=0, inference=0, gradients=held * batch, largest_parameter=0)
    return rule


# x.var(dim) and x.std(dim): hand-written norms' statistics, nothing FlopCounterMode counts; backward
# reads the input, std's its output too (derivatives.yaml: var_backward, std_backward)
_SPREAD_ARGS = (*REDUCE_ARGS, Arg("correction", correction, 1))
for _kind, _module, _saved, _last, _statistics in (("var", "Var", "input", "read", 2),
                                                   ("std", "Std", "inputs and output", "made", 3)):
    register(_kind, family="shape", field_probe=AS_IS, autocast=PROMOTE, backward=NO_PRODUCTS, args=_SPREAD_ARGS,
             receptive_field=reduce_field,
             memory=MemoryFacts(aliases=never, aliases_in_training=never, saved=_saved, gradient="each input",
                                extra_saved=no_bytes, transient=no_bytes, last_saved=_last,
                                workspace=_spread_backward(_statistics), copies=None, estimate=None),
             torch=TorchForms(module=OWN + _module, given_weight=None, inferred=None, aliases=(),
                              functions=_spread_forms(f"torch.{_kind}"), methods=_spread_forms(_kind)))(reduce)


# torch.logsumexp(x, dim): a softmax's normalizer (a mixture's or a router's), on CUDA in float32 (its
# fp32 list); backward reads the input and the result (derivatives.yaml: logsumexp), holding
# (self - result).exp() a step at a time
register("logsumexp", family="shape", field_probe=AS_IS, autocast=FLOAT32_ON_CUDA, backward=NO_PRODUCTS,
         args=REDUCE_ARGS, receptive_field=reduce_field,
         memory=MemoryFacts(aliases=never, aliases_in_training=never, saved="inputs and output",
                            gradient="each input", extra_saved=no_bytes, transient=no_bytes, last_saved="made",
                            workspace=temporaries(backward=2), copies=None, estimate=None),
         torch=TorchForms(module=OWN + "Logsumexp", given_weight=None, inferred=None, aliases=(),
                          functions=calls("torch.logsumexp", dim=1, keepdim=2),
                          methods=calls("logsumexp", dim=1, keepdim=2)))(reduce)


def running_field(args: dict, shapes: tuple[Shape, ...], out: Shape):
    """Unit i along the summed axis sees units 0 … i there; each other axis, its own position."""
    axis = dim_index(args["dim"], len(shapes[0])) - 1  # of the spatial axes (channels are dim 0 of a sample)
    if axis < 0:
        return elementwise(args, shapes, out)
    spatial = len(shapes[0]) - 1
    return Exact(windows=(unit_window(spatial),),
                 reads=lambda at, lo, hi, size, out_size: (0, hi) if at == axis else (lo, hi))


# torch.cumsum(x, dim): running sums along a dim, the shape kept; its gradient is a reversed cumsum
# of the output's, needing nothing saved (RoBERTa numbers its positions so)
@register("cumsum", family="shape", field_probe=AS_IS, autocast=FLOAT32_ON_CUDA, backward=NO_PRODUCTS, args=(Arg("dim", any_int, names_dims=EACH_DIM),), receptive_field=running_field,
          memory=replace(_SHAPE_ONLY, workspace=temporaries(backward=2)),  # grad.flip(dim).cumsum(dim).flip(dim)
          torch=TorchForms(module=OWN + "Cumsum", given_weight=None, inferred=None,
                                               functions=calls("torch.cumsum", dim=1), methods=calls("cumsum", dim=1),
                                               aliases=()))
def cumsum(shapes: tuple[Shape, ...], args: dict) -> Calc:
    (shape,) = shapes
    dim_index(args["dim"], len(shape))
    return Calc(shape)


# torch.cumprod(x, dim): running products along a dim (a decay's powers, a stick-breaking process), the shape
# kept; on CUDA in float32 (its fp32_set_opt_dtype list)
register("cumprod", family="shape", field_probe=AS_IS, autocast=FLOAT32_ON_CUDA, backward=NO_PRODUCTS,
         args=(Arg("dim", any_int, names_dims=EACH_DIM),), receptive_field=running_field, memory=_INPUT_AND_RESULT,
         torch=TorchForms(module=OWN + "Cumprod", given_weight=None, inferred=None, aliases=(),
                          functions=calls("torch.cumprod", dim=1), methods=calls("cumprod", dim=1)))(cumsum)


def order(value, n: int = 0):
    """A norm's p: a number, inf, or 'fro' (over one or two dims, the 2-norm)."""
    if value == "fro" or isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    raise LayerError(f"p is a number or 'fro', got {quoted(value)}")


# x.norm(p, dim, keepdim): ConvNeXt V2's global response norm, over the spatial dims (Hugging Face
# writes it torch.linalg.vector_norm(x, ord=2, dim=(1, 2))); its gradient needs the input and the
# norm (derivatives.yaml: norm)
register("norm", family="shape", field_probe=AS_IS, autocast=FLOAT32_ON_CUDA,
         backward=NO_PRODUCTS, args=(Arg("p", order, "fro"), *REDUCE_ARGS), receptive_field=reduce_field,
         memory=_MAXIMA, torch=TorchForms(
             module=OWN + "Norm", given_weight=None, inferred=None, methods=calls("norm", p=1, dim=2, keepdim=3),
             functions=(*calls("torch.norm", p=1, dim=2, keepdim=3),
                        Call("torch.linalg.vector_norm", (("p", 1), ("dim", 2), ("keepdim", 3)),
                             keywords=(("p", "ord"),))), aliases=()))(reduce)
