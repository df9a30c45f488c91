"""Layers that move elements without computing: flatten, reshape, pixel shuffles and channel shuffle."""
from __future__ import annotations

from fractions import Fraction

from .facts import (NN, OWN, SAVES_NOTHING, VIEW, WHOLE, Call, Exact, TorchForms, Window, calls, elementwise,
                    unit_window)
from .registry import (Arg, Calc, LayerError, Shape, any_int, check_rank, dim_index, format_shape, numel, positive,
                       register)


def flatten_field(args: dict, shapes: tuple[Shape, ...], out: Shape):
    """Flattening channels or spatial dims leaves no spatial position: every unit sees everything."""
    return WHOLE if args["start_dim"] <= 2 else ()


@register("flatten", family="shape", receptive_field=flatten_field, memory=VIEW,
          torch=TorchForms(module=NN + "Flatten", inferred=None,
                           functions=calls("torch.flatten", start_dim=1, end_dim=2),
                           methods=calls("flatten", start_dim=1, end_dim=2)),
          args=(Arg("start_dim", any_int, 1), Arg("end_dim", any_int, -1)))
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
            positive(size)
    if sample.count(-1) > (1 if values[0] == BATCH else 0):
        raise LayerError(f"only one size can be inferred (-1), got {list(values)}")
    return values


def reshape_field(args: dict, shapes: tuple[Shape, ...], out: Shape):
    """Reshaping that keeps the spatial sizes (channels only) moves no unit; any other mixes them."""
    return () if out[1:] == shapes[0][1:] else WHOLE


@register("reshape", family="shape", args=(Arg("shape", reshape_shape),), receptive_field=reshape_field,
          memory=VIEW, torch=TorchForms(module=OWN + "Reshape", inferred=None,
                                        functions=calls("torch.reshape", shape=1),
                                        methods=(Call("view", (), rest="shape"), Call("reshape", (), rest="shape"))))
def reshape(shapes: tuple[Shape, ...], args: dict) -> Calc:
    (shape,) = shapes
    sample, count = args["shape"][1:], numel(shape)
    known = numel(tuple(s for s in sample if s != -1))
    if -1 in sample:
        if count % known:
            raise LayerError(f"cannot reshape {format_shape(shape)} ({count:,} values) to {list(args['shape'])}")
        sample = tuple(count // known if s == -1 else s for s in sample)
    if numel(sample) != count:
        raise LayerError(f"cannot reshape {format_shape(shape)} ({count:,} values) to {list(args['shape'])}")
    return Calc(sample)


def shuffle_up(args: dict, shapes: tuple[Shape, ...], out: Shape) -> Exact:
    """A jump of 1/r: output unit o reads input unit o // r."""
    r = args["upscale_factor"]
    return Exact(windows=(unit_window(2, stride=(Fraction(1, r),) * 2),),
                 reads=lambda axis, lo, hi, size, out_size: (lo // r, hi // r))


def shuffle_down(args: dict, shapes: tuple[Shape, ...], out: Shape) -> tuple[Window, ...]:
    r = args["downscale_factor"]
    return (Window(kernel=(r, r), stride=(r, r), padding=(0, 0), dilation=(1, 1)),)


@register("pixelshuffle", family="shape", args=(Arg("upscale_factor", positive),), receptive_field=shuffle_up,
          memory=SAVES_NOTHING, torch=TorchForms(module=NN + "PixelShuffle", inferred=None, functions=(), methods=()))
def pixel_shuffle(shapes: tuple[Shape, ...], args: dict) -> Calc:
    (shape,) = shapes
    r = args["upscale_factor"]
    check_rank(shape, (3,), "pixelshuffle")
    if shape[0] % (r * r):
        raise LayerError(f"{shape[0]} channels are not divisible by upscale_factor² = {r * r}")
    return Calc((shape[0] // (r * r), shape[1] * r, shape[2] * r))


@register("pixelunshuffle", family="shape", args=(Arg("downscale_factor", positive),),
          receptive_field=shuffle_down, memory=SAVES_NOTHING,
          torch=TorchForms(module=NN + "PixelUnshuffle", inferred=None, functions=(), methods=()))
def pixel_unshuffle(shapes: tuple[Shape, ...], args: dict) -> Calc:
    (shape,) = shapes
    r = args["downscale_factor"]
    check_rank(shape, (3,), "pixelunshuffle")
    if shape[1] % r or shape[2] % r:
        raise LayerError(f"height and width {shape[1]}×{shape[2]} are not divisible by {r}")
    return Calc((shape[0] * r * r, shape[1] // r, shape[2] // r))


@register("channelshuffle", family="shape", args=(Arg("groups", positive),), receptive_field=elementwise,
          memory=SAVES_NOTHING, torch=TorchForms(module=NN + "ChannelShuffle", inferred=None, functions=(), methods=()))
def channel_shuffle(shapes: tuple[Shape, ...], args: dict) -> Calc:
    (shape,) = shapes
    if len(shape) < 2 or shape[0] % args["groups"]:
        raise LayerError(f"{format_shape(shape)}: channels not divisible by groups {args['groups']}")
    return Calc(shape)
