"""Layers that change the spatial size without weights: zero padding and upsampling."""
from __future__ import annotations

import math
from fractions import Fraction

from .facts import NN, SAVES_NOTHING, TorchForms, Window, unit_window
from .registry import (Arg, Calc, LayerError, Shape, any_int, boolean, check_rank, choice, format_shape, number,
                       optional, positive, register)


def pad_arg(value, n: int):
    values = value if isinstance(value, (list, tuple)) else [value] * (2 * n)
    if len(values) != 2 * n:
        raise LayerError(f"expected one integer or {2 * n} (left, right, top, bottom, ...), got {list(values)}")
    return tuple(any_int(v) for v in values)


def pad_shift(args: dict, shapes: tuple[Shape, ...], out: Shape) -> tuple[Window, ...]:
    """Padding shifts the field by the left (top, front) padding; torch lists pairs from the last dim back."""
    spatial, left = len(shapes[0]) - 1, list(reversed(args["padding"][0::2]))
    return (unit_window(spatial, padding=[0] * (spatial - len(left)) + left),)


@register("zeropad1d", "zeropad2d", "zeropad3d", family="shape", args=(Arg("padding", pad_arg),),
          receptive_field=pad_shift, memory=SAVES_NOTHING,
          torch=TorchForms(module=NN + "ZeroPad{n}d", inferred=None, functions=(), methods=()))
def zero_pad(shapes: tuple[Shape, ...], args: dict) -> Calc:
    (shape,) = shapes
    padding = args["padding"]
    n = len(padding) // 2
    if len(shape) < n + 1:
        raise LayerError(f"zeropad{n}d needs at least {n + 1} dims per sample, got {format_shape(shape)}")
    # padding pairs run from the last dim backwards, as in torch.nn.functional.pad
    last = [size + padding[2 * i] + padding[2 * i + 1] for i, size in enumerate(reversed(shape[-n:]))]
    out = (*shape[:-n], *reversed(last))
    if min(out) < 1:
        raise LayerError(f"negative padding leaves an empty output {format_shape(out)}")
    return Calc(out)


def size_or_scale(value, n: int):
    """One size or scale for every spatial dim, or one each; a scale is a finite positive number."""
    values = tuple(value) if isinstance(value, (list, tuple)) else (value,)
    for item in values:
        if number(item) <= 0:
            raise LayerError(f"expected a positive number, got {item!r}")
    return values if isinstance(value, (list, tuple)) else value


_UPSAMPLE_RANKS = {"nearest": (2, 3, 4), "nearest-exact": (2, 3, 4), "linear": (2,), "bilinear": (3,),
                   "bicubic": (3,), "trilinear": (4,)}


def upsample_window(args: dict, shapes: tuple[Shape, ...], out: Shape) -> tuple[Window, ...]:
    """A jump of in/out per axis; (bi/tri)linear and bicubic modes also mix a neighbour."""
    n = len(out) - 1
    kernel = 1 if args["mode"].startswith("nearest") else 2
    return (Window(kernel=(kernel,) * n, stride=tuple(Fraction(i, o) for i, o in zip(shapes[0][1:], out[1:])),
                   padding=(0,) * n, dilation=(1,) * n),)


@register("upsample", family="shape", receptive_field=upsample_window, memory=SAVES_NOTHING,
          torch=TorchForms(module=NN + "Upsample", inferred=None, functions=(), methods=()),
          args=(Arg("size", optional(size_or_scale), None),
                Arg("scale_factor", optional(size_or_scale), None),
                Arg("mode", choice(*_UPSAMPLE_RANKS), "nearest"),
                Arg("align_corners", optional(boolean), None)))
def upsample(shapes: tuple[Shape, ...], args: dict) -> Calc:
    (shape,) = shapes
    check_rank(shape, _UPSAMPLE_RANKS[args["mode"]], f"upsample mode '{args['mode']}'")
    n = len(shape) - 1
    size, scale = args["size"], args["scale_factor"]
    if (size is None) == (scale is None):
        raise LayerError("give exactly one of size and scale_factor")
    if args["align_corners"] is not None and args["mode"] not in ("linear", "bilinear", "bicubic", "trilinear"):
        raise LayerError("align_corners only applies to linear, bilinear, bicubic and trilinear modes")
    if size is not None:
        spatial = size if isinstance(size, tuple) else (size,) * n
        spatial = tuple(positive(s) for s in spatial)
    else:
        scales = scale if isinstance(scale, tuple) else (scale,) * n
        # torch computes floor(input_size * scale_factor) in double precision
        spatial = tuple(math.floor(s * float(f)) for s, f in zip(shape[1:], scales))
    if len(spatial) != n or min(spatial) < 1:
        raise LayerError(f"upsample output {list(spatial)} does not fit a {n}-d spatial input")
    return Calc((shape[0], *spatial))
