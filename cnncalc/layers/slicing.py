"""Parts of a tensor: narrow (x[:, :c], a piece of chunk or split), slice (x[:, :, 1::2], every other
unit), select (x[:, 0], a piece of unbind) and indexselect (table[index], a relative position bias);
indexput, a part written (x[index] = values), and indexadd, values added at positions (a graph's messages
summed at the nodes they reach)."""
from __future__ import annotations

from dataclasses import replace

from .facts import AS_IS, Parameters, Workspace, parameter_gradients
from .facts import (PROMOTE, COPY, FIRST_INPUT_ONLY, NO_PRODUCTS, OWN, SLICE, Call, MemoryFacts, TorchForms, always,
                    calls, elementwise, inplace, merge, never, no_bytes, unit_window, whole)
from .registry import (EACH_DIM, Arg, Calc, LayerError, Shape, any_int, boolean, dim_index, format_shape, non_negative,
                       number, numel, optional, positive, register)


def narrow_field(args: dict, shapes: tuple[Shape, ...], out: Shape):
    """Along a spatial axis, unit i is input unit start + i; along channels, each unit is itself."""
    axis = dim_index(args["dim"], len(shapes[0]))
    if axis == 0:
        return elementwise(args, shapes, out)
    start = args["start"] + shapes[0][axis] if args["start"] < 0 else args["start"]
    shift = [-start if spatial == axis - 1 else 0 for spatial in range(len(out) - 1)]
    return (unit_window(len(out) - 1, padding=shift),)


@register("narrow", family="shape", field_probe=AS_IS, autocast=PROMOTE, backward=NO_PRODUCTS, receptive_field=narrow_field, memory=SLICE,
          args=(Arg("dim", any_int, names_dims=EACH_DIM), Arg("start", any_int), Arg("length", non_negative)),
          torch=TorchForms(module=OWN + "Narrow", given_weight=None, inferred=None,
                           functions=calls("torch.narrow", dim=1, start=2, length=3),
                           methods=(Call("narrow", (("dim", 1), ("start", 2), ("length", 3))),), aliases=()))
def narrow(shapes: tuple[Shape, ...], args: dict) -> Calc:
    (shape,) = shapes
    axis = dim_index(args["dim"], len(shape))
    start = args["start"] + shape[axis] if args["start"] < 0 else args["start"]
    if not 0 <= start <= start + args["length"] <= shape[axis]:
        raise LayerError(f"start {args['start']} + length {args['length']} exceeds dim {args['dim']} of "
                         f"{format_shape(shape)}")
    return Calc(shape[:axis] + (args["length"],) + shape[axis + 1:])


def slice_field(args: dict, shapes: tuple[Shape, ...], out: Shape):
    """Along a spatial axis, unit i is input unit start + i·step; along channels, each unit is itself."""
    axis = dim_index(args["dim"], len(shapes[0]))
    if axis == 0:
        return elementwise(args, shapes, out)
    start, _, step = _bounds(shapes[0][axis], args)
    spatial = range(len(out) - 1)
    return (unit_window(len(out) - 1, stride=[step if i == axis - 1 else 1 for i in spatial],
                        padding=[-start if i == axis - 1 else 0 for i in spatial]),)


def _bounds(size: int, args: dict) -> tuple[int, int, int]:
    return slice(args["start"], args["end"], args["step"]).indices(size)


@register("slice", family="shape", field_probe=AS_IS, autocast=PROMOTE, backward=NO_PRODUCTS, receptive_field=slice_field, memory=SLICE,
          args=(Arg("dim", any_int, names_dims=EACH_DIM), Arg("start", optional(any_int), None),
                Arg("end", optional(any_int), None), Arg("step", positive, 1)),
          torch=TorchForms(module=OWN + "Slice", given_weight=None,
                           inferred=None, functions=(), methods=(), aliases=()))
def slice_(shapes: tuple[Shape, ...], args: dict) -> Calc:
    """x[start:end:step] along one dim, as Python slices (bounds clipped to the size)."""
    (shape,) = shapes
    axis = dim_index(args["dim"], len(shape))
    length = len(range(*_bounds(shape[axis], args)))  # 0, as torch's: a mask pasted past the image's edge
    return Calc(shape[:axis] + (length,) + shape[axis + 1:])


# an axis is gone: the rest no longer line up with the input's spatial axes
@register("select", family="shape", field_probe=AS_IS, autocast=PROMOTE, backward=NO_PRODUCTS, receptive_field=whole, memory=SLICE,
          args=(Arg("dim", any_int, names_dims=EACH_DIM), Arg("index", any_int)),
          torch=TorchForms(module=OWN + "Select", given_weight=None,
                           inferred=None, functions=calls("torch.select", dim=1, index=2),
                           methods=(Call("select", (("dim", 1), ("index", 2))),), aliases=()))
def select(shapes: tuple[Shape, ...], args: dict) -> Calc:
    (shape,) = shapes
    axis = dim_index(args["dim"], len(shape))
    if not -shape[axis] <= args["index"] < shape[axis]:
        raise LayerError(f"index {args['index']} is out of range for dim {args['dim']} of {format_shape(shape)}")
    return Calc(shape[:axis] + shape[axis + 1:])


# torch.gather(x, dim, index): per position of the index (a second input of x's rank), the entry of x
# it names along dim; the output has the index's shape. Backward scatters into a gradient of x's
# shape, keeping the index (RoBERTa's token types gathered at its positions)
@register("gather", family="shape", field_probe=AS_IS, autocast=PROMOTE, arity=2, backward=FIRST_INPUT_ONLY, receptive_field=whole,
          memory=MemoryFacts(aliases=never, aliases_in_training=never, saved="inputs", gradient="first input",
                             extra_saved=no_bytes, transient=no_bytes, last_saved="read",
                             workspace=parameter_gradients, copies=None, estimate=None),
          args=(Arg("dim", any_int, names_dims=EACH_DIM),),
          torch=TorchForms(module=OWN + "Gather", given_weight=None, inferred=None,
                           functions=calls("torch.gather", dim=1), methods=calls("gather", dim=1), aliases=()))
def gather(shapes: tuple[Shape, ...], args: dict) -> Calc:
    shape, index = shapes
    axis = dim_index(args["dim"], len(shape))
    if len(index) != len(shape) or any(i > s for d, (i, s) in enumerate(zip(index, shape)) if d != axis):
        raise LayerError(f"the index {format_shape(index)} must have the rank of the input {format_shape(shape)} and "
                         "no dim larger than it, but along dim")
    return Calc(index)


# the rows picked need not lie near each other
@register("indexselect", family="shape", field_probe=AS_IS, autocast=PROMOTE, backward=FIRST_INPUT_ONLY, arity=2, receptive_field=whole, memory=COPY,
          args=(Arg("dim", any_int, names_dims=EACH_DIM),),
          torch=TorchForms(module=OWN + "IndexSelect", given_weight=None,
                           inferred=None, functions=calls("torch.index_select", dim=1),
                           methods=calls("index_select", dim=1), aliases=()))
def index_select(shapes: tuple[Shape, ...], args: dict) -> Calc:
    """torch.index_select(x, dim, index): the entries of a 1-d index (a second input: a buffer of
    positions) picked along dim, as table[index] does on dim 0."""
    shape, index = shapes
    axis = dim_index(args["dim"], len(shape))
    if len(index) != 1:
        raise LayerError(f"the index is 1-d, got {format_shape(index)}")
    return Calc(shape[:axis] + index + shape[axis + 1:])


# written in place: the destination's memory, no new tensor; backward hands the destination its
# gradient (zero where written over) and the values theirs, the part written (derivatives.yaml: index_put_)
@register("indexput", autocast=PROMOTE, family="shape", field_probe=AS_IS, backward=NO_PRODUCTS, arity=None, fewest_inputs=1, receptive_field=merge,
          memory=MemoryFacts(aliases=always, aliases_in_training=always, saved="nothing", gradient="each input",
                             extra_saved=no_bytes, transient=no_bytes, last_saved="none",
                             workspace=parameter_gradients, copies=None, estimate=None),
          torch=TorchForms(module=OWN + "IndexPut", given_weight=None, inferred=None,
                           functions=calls("operator.setitem"), methods=(), aliases=()))
def index_put(shapes: tuple[Shape, ...], args: dict) -> Calc:
    """x[index] = values (MViT's attn[:, :, 1:, 1:] += bias, MultiScaleRoIAlign's result[rows] =
    pooled): the destination, its shape kept; its other inputs (the values, a tensor index) are
    written into it, so none holds more than it."""
    destination, *written = shapes
    larger = [shape for shape in written if numel(shape) > numel(destination)]
    if larger:
        raise LayerError(f"{format_shape(larger[0])} is written into {format_shape(destination)}, which is smaller")
    return Calc(destination)


# x.index_add(dim, index, values): each row of values added at its position along dim (torch_geometric's
# scatter of messages, written by hand: torch.zeros_like(h).index_add_(1, targets, messages)). index_add_
# writes into x (no tensor of its own); backward hands x the output's gradient itself and the values theirs,
# picked at the positions (IndexAddBackward0 keeps the index and the values, for their shape). FlopCounterMode
# counts none of it
_ADDED = ("index_add", (("dim", 1), ("alpha", 4)))


def _scaled_gradient(args: dict, shapes: tuple[Shape, ...], batch: int, element_size: int,
                     parameters: Parameters) -> Workspace:
    """The values' gradient picked at the positions, then, for an alpha other than 1, times alpha: both alive."""
    own = parameter_gradients(args, shapes, batch, element_size, parameters)
    return replace(own, gradients=own.gradients + (batch * numel(shapes[2]) if args["alpha"] != 1 else 0))


@register("indexadd", family="shape", field_probe=AS_IS, autocast=PROMOTE, backward=NO_PRODUCTS, arity=3,
          receptive_field=merge,
          memory=MemoryFacts(aliases=inplace, aliases_in_training=inplace, saved="last input",
                             gradient="after the first", extra_saved=no_bytes, transient=no_bytes, last_saved="read",
                             workspace=_scaled_gradient, copies=None, estimate=None),
          args=(Arg("dim", any_int, names_dims=EACH_DIM), Arg("alpha", number, 1), Arg("inplace", boolean, False)),
          torch=TorchForms(module=OWN + "IndexAdd", given_weight=None, inferred=None, aliases=(),
                           functions=(Call("torch.index_add", _ADDED[1]),),
                           methods=(Call(*_ADDED), Call("index_add_", _ADDED[1], implied=(("inplace", True),)))))
def index_add(shapes: tuple[Shape, ...], args: dict) -> Calc:
    """x (…), a 1-d index of positions along dim, and values, x's shape with the index's length there: x's shape."""
    destination, index, values = shapes
    axis = dim_index(args["dim"], len(destination))
    if len(index) != 1:
        raise LayerError(f"the index is 1-d, got {format_shape(index)}")
    expected = (*destination[:axis], *index, *destination[axis + 1:])
    if values != expected:
        raise LayerError(f"adds values of {format_shape(expected)} per sample at {index[0]} positions into "
                         f"{format_shape(destination)}, got {format_shape(values)}")
    return Calc(destination)
