"""Layers that move elements without computing: flatten, reshape, unsqueeze, squeeze, permute,
transpose, contiguous, expand, tile, roll, flip, pixel shuffles, channel shuffle, unfold and fold."""
from __future__ import annotations

from dataclasses import replace
from fractions import Fraction

from .facts import (AS_IS, COPY, NN, OWN, SAVES_NOTHING, UNTRACKED, VIEW, WHOLE, Call, Exact, F, FieldProbe, TorchForms,
                    Window, calls, elementwise, kept_or_whole, unit_window, whole)
from .facts import NO_PRODUCTS, PROMOTE
from .registry import (DIM_ORDER, EACH_DIM, SIZE_PER_DIM, Arg, Calc, LayerError, Shape, any_int, check_rank,
                       dim_index, format_shape, non_negative, non_negative_tuple, numel, positive, positive_tuple,
                       register)


def flatten_field(args: dict, shapes: tuple[Shape, ...], out: Shape):
    """Flattening channels or spatial dims leaves no spatial position: every unit sees everything."""
    return WHOLE if args["start_dim"] <= 2 else ()


@register("flatten", family="shape", field_probe=AS_IS, autocast=PROMOTE, backward=NO_PRODUCTS, receptive_field=flatten_field, memory=VIEW,
          torch=TorchForms(module=NN + "Flatten", given_weight=None, inferred=None,
                           functions=calls("torch.flatten", start_dim=1, end_dim=2),
                           methods=calls("flatten", start_dim=1, end_dim=2), aliases=()),
          args=(Arg("start_dim", any_int, 1, names_dims=EACH_DIM), Arg("end_dim", any_int, -1, names_dims=EACH_DIM)))
def flatten(shapes: tuple[Shape, ...], args: dict) -> Calc:
    (shape,) = shapes
    start, end = dim_index(args["start_dim"], len(shape)), dim_index(args["end_dim"], len(shape))
    if start > end:
        raise LayerError(f"start_dim {args['start_dim']} comes after end_dim {args['end_dim']}")
    return Calc((*shape[:start], numel(shape[start:end + 1]), *shape[end + 1:]))


BATCH = "batch"  # in a reshape's shape: the batch size, as x.size(0) writes it


def reshape_shape(value, n: int = 0) -> tuple:
    """A shape as torch's x.reshape takes it, batch first: `-1` or `batch` there, then the sample's
    sizes, of which one may be -1."""
    values = tuple(value) if isinstance(value, (list, tuple)) else (value,)
    if not values or (values[0] != BATCH and values[0] != -1):
        raise LayerError(f"the first size is the batch: write -1 or {BATCH}, got {list(values)}")
    sample = values[1:]
    for size in sample:
        if size != -1:
            non_negative(size)  # 0: a detector's boxes when its run kept none, clip_boxes_to_image's reshape(0, 4)
    if sample.count(-1) > (1 if values[0] == BATCH else 0):
        raise LayerError(f"only one size can be inferred (-1), got {list(values)}")
    return values


def reshape_field(args: dict, shapes: tuple[Shape, ...], out: Shape):
    """Reshaping that keeps the spatial sizes (channels only) moves no unit; any other mixes them."""
    return () if out[1:] == shapes[0][1:] else WHOLE


@register("reshape", family="shape", field_probe=AS_IS, autocast=PROMOTE,
          backward=NO_PRODUCTS, args=(Arg("shape", reshape_shape),), receptive_field=reshape_field,
          memory=VIEW, torch=TorchForms(module=OWN + "Reshape", given_weight=None, inferred=None,
                                        functions=calls("torch.reshape", shape=1),
                                        methods=(Call("view", (), rest="shape"), Call("reshape", (), rest="shape"),
                                                 Call("view_as", like="shape"), Call("reshape_as", like="shape")),
                                        aliases=()))
def reshape(shapes: tuple[Shape, ...], args: dict) -> Calc:
    (shape,) = shapes
    count = numel(shape)
    if count == 0 and -1 in args["shape"]:  # torch's words: the unspecified dimension size -1 can be any value
        raise LayerError(f"cannot reshape {format_shape(shape)} to {list(args['shape'])}: -1 could be any size")
    sample = _resolved(args["shape"][1:], count)
    if sample is None:
        raise LayerError(f"cannot reshape {format_shape(shape)} ({count:,} values) to {list(args['shape'])}")
    return Calc(sample)


def _resolved(sizes: tuple[int, ...], count: int) -> tuple[int, ...] | None:
    """Sizes holding `count` elements, their one -1 worked out; None where they cannot."""
    known = numel(tuple(size for size in sizes if size != -1))
    if -1 in sizes:
        if not known or count % known:
            return None
        sizes = tuple(count // known if size == -1 else size for size in sizes)
    return sizes if numel(sizes) == count else None


def unflattened_size(value, n: int = 0) -> tuple[int, ...]:
    """The sizes one dim is split into, as torch.unflatten takes them: one may be -1."""
    values = tuple(any_int(size) for size in (value if isinstance(value, (list, tuple)) else (value,)))
    if not values or values.count(-1) > 1 or any(size < -1 for size in values):
        raise LayerError(f"unflattened_size is sizes ≥ 0 of which one may be -1, got {list(values)}")
    return values


@register("unflatten", family="shape", field_probe=AS_IS, autocast=PROMOTE, backward=NO_PRODUCTS,
          receptive_field=reshape_field, memory=VIEW,
          torch=TorchForms(module=NN + "Unflatten", given_weight=None, inferred=None,
                           functions=(Call("torch.unflatten", (("dim", 1), ("unflattened_size", 2)),
                                           keywords=(("unflattened_size", "sizes"),)),),
                           methods=(Call("unflatten", (("dim", 1), ("unflattened_size", 2)),
                                         keywords=(("unflattened_size", "sizes"),)),), aliases=()),
          args=(Arg("dim", any_int, names_dims=EACH_DIM), Arg("unflattened_size", unflattened_size)))
def unflatten(shapes: tuple[Shape, ...], args: dict) -> Calc:
    """One dim split into several (nn.Unflatten, x.unflatten): a reshape of that dim alone."""
    (shape,) = shapes
    axis = dim_index(args["dim"], len(shape))
    sizes = _resolved(args["unflattened_size"], shape[axis])
    if sizes is None:
        raise LayerError(f"unflattened_size {list(args['unflattened_size'])} does not multiply to dim {args['dim']}'s "
                         f"size {shape[axis]}")
    return Calc((*shape[:axis], *sizes, *shape[axis + 1:]))


def shuffle_up(args: dict, shapes: tuple[Shape, ...], out: Shape) -> Exact:
    """A jump of 1/r: output unit o reads input unit o // r."""
    r = args["upscale_factor"]
    return Exact(windows=(unit_window(2, stride=(Fraction(1, r),) * 2),),
                 reads=lambda axis, lo, hi, size, out_size: (lo // r, hi // r))


def shuffle_down(args: dict, shapes: tuple[Shape, ...], out: Shape) -> tuple[Window, ...]:
    r = args["downscale_factor"]
    return (Window(kernel=(r, r), stride=(r, r), padding=(0, 0), dilation=(1, 1)),)


@register("pixelshuffle", family="shape", field_probe=FieldProbe(width_multiple=lambda args: args["upscale_factor"] ** 2), autocast=PROMOTE,
          backward=NO_PRODUCTS, args=(Arg("upscale_factor", positive),), receptive_field=shuffle_up,
          memory=SAVES_NOTHING, torch=TorchForms(module=NN + "PixelShuffle", given_weight=None, inferred=None,
                                                 functions=calls(F + "pixel_shuffle", "torch.pixel_shuffle",
                                                                 upscale_factor=1),
                                                 methods=(), aliases=()))
def pixel_shuffle(shapes: tuple[Shape, ...], args: dict) -> Calc:
    (shape,) = shapes
    r = args["upscale_factor"]
    check_rank(shape, (3,), "pixelshuffle")
    if shape[0] % (r * r):
        raise LayerError(f"{shape[0]} channels are not divisible by upscale_factor² = {r * r}")
    return Calc((shape[0] // (r * r), shape[1] * r, shape[2] * r))


@register("pixelunshuffle", family="shape", field_probe=AS_IS, autocast=PROMOTE, backward=NO_PRODUCTS, args=(Arg("downscale_factor", positive),),
          receptive_field=shuffle_down, memory=SAVES_NOTHING,
          torch=TorchForms(module=NN + "PixelUnshuffle", given_weight=None, inferred=None,
                           functions=calls(F + "pixel_unshuffle", "torch.pixel_unshuffle", downscale_factor=1),
                           methods=(), aliases=()))
def pixel_unshuffle(shapes: tuple[Shape, ...], args: dict) -> Calc:
    (shape,) = shapes
    r = args["downscale_factor"]
    check_rank(shape, (3,), "pixelunshuffle")
    if shape[1] % r or shape[2] % r:
        raise LayerError(f"height and width {shape[1]}×{shape[2]} are not divisible by {r}")
    return Calc((shape[0] * r * r, shape[1] // r, shape[2] // r))


@register("channelshuffle", family="shape", field_probe=FieldProbe(width_multiple=lambda args: args["groups"]), autocast=PROMOTE,
          backward=NO_PRODUCTS, args=(Arg("groups", positive),), receptive_field=elementwise,
          memory=SAVES_NOTHING, torch=TorchForms(module=NN + "ChannelShuffle", given_weight=None,
                                                 inferred=None, functions=(), methods=(),
                                                 aliases=()))
def channel_shuffle(shapes: tuple[Shape, ...], args: dict) -> Calc:
    (shape,) = shapes
    if len(shape) < 2 or shape[0] % args["groups"]:
        raise LayerError(f"{format_shape(shape)}: channels not divisible by groups {args['groups']}")
    return Calc(shape)


def dims_order(value, n: int = 0) -> tuple[int, ...]:
    """A permutation as torch.permute takes it, the batch (dim 0) first and staying first."""
    values = tuple(any_int(v) for v in (value if isinstance(value, (list, tuple)) else (value,)))
    if not values or values[0] != 0:
        raise LayerError(f"dims must keep the batch first (start with 0), got {list(values)}")
    return values


def _order(args: dict, rank: int) -> tuple[int, ...]:
    """The permutation of a per-sample shape's axes that `dims` (batched, may be negative) makes."""
    if "dims" in args:
        order = tuple(dim_index(d, rank) for d in args["dims"][1:])
        if sorted(order) != list(range(rank)):
            raise LayerError(f"dims {list(args['dims'])} is no permutation of a {rank}-d sample (+ batch)")
        return order
    order = list(range(rank))
    first, second = dim_index(args["dim0"], rank), dim_index(args["dim1"], rank)
    order[first], order[second] = order[second], order[first]
    return tuple(order)


def reorder(shapes: tuple[Shape, ...], args: dict) -> Calc:
    (shape,) = shapes
    return Calc(tuple(shape[axis] for axis in _order(args, len(shape))))


def reorder_field(args: dict, shapes: tuple[Shape, ...], out: Shape):
    """Any order but the identity moves channels or spatial axes where the next layers read other
    axes as spatial (channels-last puts channels among them): the field is no longer per axis of
    the output, and cnncalc states none."""
    order = _order(args, len(shapes[0]))
    return () if order == tuple(sorted(order)) else UNTRACKED


register("permute", family="shape", field_probe=AS_IS, autocast=PROMOTE, backward=NO_PRODUCTS, args=(Arg("dims", dims_order, names_dims=DIM_ORDER),),
         receptive_field=reorder_field, memory=VIEW,
         torch=TorchForms(module=OWN + "Permute", given_weight=None,
                          inferred=None, functions=calls("torch.permute", dims=1),
                          methods=(Call("permute", (), rest="dims"),), aliases=()))(reorder)
register("transpose", family="shape", field_probe=AS_IS, autocast=PROMOTE, backward=NO_PRODUCTS,
         args=(Arg("dim0", any_int, names_dims=EACH_DIM), Arg("dim1", any_int, names_dims=EACH_DIM)),
         receptive_field=reorder_field, memory=VIEW,
         torch=TorchForms(module=OWN + "Transpose", given_weight=None, inferred=None,
                          functions=calls("torch.transpose", "torch.swapaxes", "torch.swapdims", dim0=1, dim1=2),
                          methods=calls("transpose", "swapaxes", "swapdims", dim0=1, dim1=2), aliases=()))(reorder)


@register("contiguous", family="shape", field_probe=AS_IS, autocast=PROMOTE, backward=NO_PRODUCTS, receptive_field=elementwise, memory=COPY,
          torch=TorchForms(module=OWN + "Contiguous", given_weight=None,
                           inferred=None, functions=(), methods=calls("contiguous"),
                           aliases=()))
def contiguous(shapes: tuple[Shape, ...], args: dict) -> Calc:
    """A copy in row-major order (after a transpose or permute; cnncalc counts it as the copy it then is)."""
    return Calc(shapes[0])


# x.clone(): always a copy (YOLO's pose head clones its keypoints before decoding them)
register("clone", family="shape", field_probe=AS_IS, autocast=PROMOTE, backward=NO_PRODUCTS, receptive_field=elementwise, memory=COPY,
         torch=TorchForms(module=OWN + "Clone", given_weight=None, inferred=None, functions=calls("torch.clone"),
                          methods=calls("clone"), aliases=()))(contiguous)


def expand_size(value, n: int = 0) -> tuple:
    """Sizes as x.expand takes them, the batch first (-1 or `batch`); -1 keeps a size."""
    values = tuple(value) if isinstance(value, (list, tuple)) else (value,)
    if not values or values[0] not in (BATCH, -1):
        raise LayerError(f"the first size is the batch: write -1 or {BATCH}, got {list(values)}")
    for size in values[1:]:
        if size != -1:
            positive(size)
    return values


@register("expand", family="shape", field_probe=AS_IS, autocast=PROMOTE, backward=NO_PRODUCTS, args=(Arg("size", expand_size, names_dims=SIZE_PER_DIM),),
          receptive_field=kept_or_whole, memory=VIEW,
          torch=TorchForms(module=OWN + "Expand", given_weight=None, inferred=None, functions=(),
                           methods=(Call("expand", (), rest="size"), Call("expand_as", like="size")), aliases=()))
def expand(shapes: tuple[Shape, ...], args: dict) -> Calc:
    """A broadcast view: size-1 axes repeated (a class token over the batch: expand(batch, -1, -1))."""
    (shape,) = shapes
    sizes = args["size"][1:]
    if len(sizes) != len(shape):
        raise LayerError(f"expand gives {len(sizes)} sizes per sample for a {len(shape)}-d sample")
    out = tuple(old if new == -1 else new for old, new in zip(shape, sizes))
    if any(old not in (1, new) for old, new in zip(shape, out)):
        raise LayerError(f"cannot expand {format_shape(shape)} to {format_shape(out)}: only sizes of 1 grow")
    return Calc(out)


def roll_amounts(value, n: int = 0) -> tuple[int, ...]:
    values = tuple(value) if isinstance(value, (list, tuple)) else (value,)
    if not values:
        raise LayerError("give at least one shift and one dim")
    return tuple(any_int(v) for v in values)


def rolled_field(args: dict, shapes: tuple[Shape, ...], out: Shape):
    """Along a spatial axis a roll shifts each unit's field by the shift, and carries units that leave one
    edge to the other: exactly, output unit o reads input unit (o - shift) mod size. Rolling the
    channels moves no spatial unit."""
    spatial = len(shapes[0]) - 1
    shift = [0] * spatial
    for amount, dim in zip(args["shifts"], args["dims"]):
        axis = dim_index(dim, len(shapes[0])) - 1
        if axis >= 0:
            shift[axis] += amount

    def reads(axis: int, lo: int, hi: int, size: int, out_size: int) -> tuple[int, int]:
        """Units lo … hi read a run from (lo − shift) mod size: all of them once it wraps (closed form)."""
        first = (lo - shift[axis]) % size
        last = first + hi - lo
        return (first, last) if last < size else (0, size - 1)
    return Exact(windows=(unit_window(spatial, padding=shift),), reads=reads)


# dims is required: torch.roll without dims rolls the flattened tensor, batch included
@register("roll", family="shape", field_probe=AS_IS, autocast=PROMOTE,
          backward=NO_PRODUCTS, args=(Arg("shifts", roll_amounts), Arg("dims", roll_amounts, names_dims=EACH_DIM)),
          receptive_field=rolled_field, memory=COPY,
          torch=TorchForms(module=OWN + "Roll", given_weight=None,
                           inferred=None, functions=calls("torch.roll", shifts=1, dims=2),
                           methods=calls("roll", shifts=1, dims=2), aliases=()))
def roll(shapes: tuple[Shape, ...], args: dict) -> Calc:
    """Shifts each sample along dims, units leaving one edge coming back at the other (Swin's shifted windows)."""
    (shape,) = shapes
    if len(args["shifts"]) != len(args["dims"]):
        raise LayerError(f"roll gives {len(args['shifts'])} shifts for {len(args['dims'])} dims")
    for dim in args["dims"]:
        dim_index(dim, len(shape))
    return Calc(shape)


# torch.flip(x, dims): each sample reversed along dims (a copy, unlike NumPy's view); its gradient is the
# output's flipped back, needing nothing saved. A unit's reach is its mirror's: reported as the whole input
@register("flip", family="shape", field_probe=AS_IS, autocast=PROMOTE, backward=NO_PRODUCTS,
          args=(Arg("dims", roll_amounts, names_dims=EACH_DIM),), receptive_field=whole, memory=SAVES_NOTHING,
          torch=TorchForms(module=OWN + "Flip", given_weight=None, inferred=None, functions=calls("torch.flip", dims=1),
                           methods=(Call("flip", (), rest="dims"),), aliases=()))
def flip(shapes: tuple[Shape, ...], args: dict) -> Calc:
    (shape,) = shapes
    axes = [dim_index(dim, len(shape)) for dim in args["dims"]]
    if len(set(axes)) < len(axes):
        raise LayerError(f"dims {list(args['dims'])} names a dim twice")
    return Calc(shape)


def new_axis(args: dict, shapes: tuple[Shape, ...], out: Shape):
    """A size-1 axis added or dropped after the channels keeps units where they are only at the end."""
    return () if out[:len(shapes[0])] == shapes[0] or shapes[0][:len(out)] == out else WHOLE


def _one_axis(method: str) -> TorchForms:
    """x.unsqueeze(dim) and torch.unsqueeze(x, dim); likewise squeeze."""
    return TorchForms(module=OWN + method.capitalize(), given_weight=None,
                      inferred=None, functions=calls(f"torch.{method}", dim=1),
                      methods=calls(method, dim=1), aliases=())


_AXIS = (Arg("dim", any_int, names_dims=EACH_DIM),)


@register("unsqueeze", family="shape", field_probe=AS_IS, autocast=PROMOTE,
          backward=NO_PRODUCTS, args=_AXIS, receptive_field=new_axis, memory=VIEW, torch=_one_axis("unsqueeze"))
def unsqueeze(shapes: tuple[Shape, ...], args: dict) -> Calc:
    (shape,) = shapes
    axis = dim_index(args["dim"] if args["dim"] >= 0 else args["dim"] + len(shape) + 2, len(shape) + 1)
    return Calc(shape[:axis] + (1,) + shape[axis:])


@register("squeeze", family="shape", field_probe=AS_IS, autocast=PROMOTE,
          backward=NO_PRODUCTS, args=_AXIS, receptive_field=new_axis, memory=VIEW, torch=_one_axis("squeeze"))
def squeeze(shapes: tuple[Shape, ...], args: dict) -> Calc:
    """Drops one size-1 axis (torch leaves an axis of another size as it is)."""
    (shape,) = shapes
    axis = dim_index(args["dim"], len(shape))
    return Calc(shape[:axis] + shape[axis + 1:] if shape[axis] == 1 else shape)


def tile_dims(value, n: int = 0) -> tuple:
    """Repeats as x.repeat and torch.tile take them, the batch first: 1, or `batch` for a tensor of
    one sample repeated over the batch (pos.repeat(B, 1, 1, 1)); each sample's dims then."""
    values = tuple(value) if isinstance(value, (list, tuple)) else (value,)
    if not values or values[0] not in (BATCH, 1):
        raise LayerError(f"the first repeat is the batch's: write 1 or {BATCH}, got {list(values)}")
    return values[:1] + tuple(positive(v) for v in values[1:])


# named as torch.tile: `repeat` is the spec's word for repeating a layer
@register("tile", family="shape", field_probe=AS_IS, autocast=PROMOTE,
          backward=NO_PRODUCTS, args=(Arg("dims", tile_dims),), receptive_field=kept_or_whole, memory=COPY,
          torch=TorchForms(module=OWN + "Tile", given_weight=None, inferred=None, functions=calls("torch.tile", dims=1),
                           methods=(Call("repeat", (), rest="dims"), Call("tile", (), rest="dims")), aliases=()))
def tile(shapes: tuple[Shape, ...], args: dict) -> Calc:
    """Tiles each sample (Tensor.repeat, torch.tile with a repeat per dim): its dims times the repeats."""
    (shape,) = shapes
    times = args["dims"][1:]
    if len(times) != len(shape):
        raise LayerError(f"tile gives {len(times)} repeats per sample for a {len(shape)}-d sample")
    return Calc(tuple(size * t for size, t in zip(shape, times)))


def _pair(minimum: int):
    """Two sizes (height, width), as nn.Unfold and nn.Fold take them: 4-d inputs only."""
    return lambda value, n=0: (positive_tuple if minimum else non_negative_tuple)(value, 2)


_WINDOWS = (Arg("kernel_size", _pair(1)), Arg("dilation", _pair(1), 1), Arg("padding", _pair(0), 0),
            Arg("stride", _pair(1), 1))


def _blocks(sizes, args: dict) -> tuple[int, ...]:
    """Sliding-block positions per spatial dim, as a convolution of these sizes counts them."""
    return tuple((size + 2 * p - d * (k - 1) - 1) // s + 1 for size, k, d, p, s in
                 zip(sizes, args["kernel_size"], args["dilation"], args["padding"], args["stride"]))


# a column gathers a whole block: no window of the input lines up with the output's axes
@register("unfold", family="shape", field_probe=AS_IS, autocast=PROMOTE, backward=NO_PRODUCTS, args=_WINDOWS, receptive_field=whole, memory=COPY,
          torch=TorchForms(module=NN + "Unfold", given_weight=None, inferred=None, methods=(), aliases=(),
                           functions=calls(F + "unfold", kernel_size=1, dilation=2, padding=3, stride=4)))
def unfold(shapes: tuple[Shape, ...], args: dict) -> Calc:
    """nn.Unfold: each sliding block of C × kh × kw values as a column, L columns (TNT's and VOLO's patches)."""
    (shape,) = shapes
    check_rank(shape, (3,), "unfold")
    blocks = _blocks(shape[1:], args)
    if min(blocks) < 1:
        raise LayerError(f"kernel {format_shape(args['kernel_size'])} does not fit {format_shape(shape[1:])}")
    return Calc((shape[0] * numel(args["kernel_size"]), numel(blocks)))


# x.unfold(dimension, size, step), Tensor.unfold: the windows of `size` along a dim, `step` apart, as a new
# last dim (a time series' frames, audio's, a hand-written patch grid); a view of the input, whose backward
# sums the windows' gradients into one as large as the input
@register("tensorunfold", family="shape", field_probe=AS_IS, autocast=PROMOTE, backward=NO_PRODUCTS,
          args=(Arg("dimension", any_int, names_dims=EACH_DIM), Arg("size", non_negative), Arg("step", positive)),
          receptive_field=whole, memory=replace(VIEW, gradient="each input"),
          torch=TorchForms(module=OWN + "TensorUnfold", given_weight=None, inferred=None, functions=(), aliases=(),
                           methods=calls("unfold", dimension=1, size=2, step=3)))
def tensor_unfold(shapes: tuple[Shape, ...], args: dict) -> Calc:
    (shape,) = shapes
    axis = dim_index(args["dimension"], len(shape))
    if args["size"] > shape[axis]:
        raise LayerError(f"windows of {args['size']} do not fit dim {args['dimension']} of {shape[axis]}")
    windows = (shape[axis] - args["size"]) // args["step"] + 1
    return Calc((*shape[:axis], windows, *shape[axis + 1:], args["size"]))


@register("fold", family="shape", field_probe=AS_IS, autocast=PROMOTE,
          backward=NO_PRODUCTS, args=(Arg("output_size", _pair(1)),) + _WINDOWS, receptive_field=whole,
          memory=COPY, torch=TorchForms(module=NN + "Fold", given_weight=None, inferred=None, methods=(), aliases=(),
                                        functions=calls(F + "fold", output_size=1, kernel_size=2, dilation=3,
                                                        padding=4, stride=5)))
def fold(shapes: tuple[Shape, ...], args: dict) -> Calc:
    """nn.Fold: columns of C × kh × kw summed back into a C × H × W image (overlaps added, not counted
    as MACs, as torch's flop counter does not)."""
    (shape,) = shapes
    check_rank(shape, (2,), "fold")
    size = numel(args["kernel_size"])
    if shape[0] % size or shape[1] != numel(_blocks(args["output_size"], args)):
        raise LayerError(f"{format_shape(shape)} is not columns of {size} for blocks over "
                         f"{format_shape(args['output_size'])}")
    return Calc((shape[0] // size, *args["output_size"]))
