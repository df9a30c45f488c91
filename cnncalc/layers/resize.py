"""Layers that change the spatial size without weights: zero padding and upsampling."""
from __future__ import annotations

import math
from fractions import Fraction

from .facts import NN, SAVES_NOTHING, Call, Exact, F, TorchForms, Window, calls, unit_window
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
          torch=TorchForms(module=NN + "ZeroPad{n}d", inferred=None, methods=(), aliases=(),
                           functions=(Call(F + "pad", (("padding", 1),),
                                           fixed=(("mode", 2, ("constant",)), ("value", 3, (None, 0, 0.0)))),)))
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


def upsample_window(args: dict, shapes: tuple[Shape, ...], out: Shape) -> Exact:
    """A mean jump of in/out per axis ((bi/tri)linear and bicubic modes mix neighbours); exactly,
    each output unit reads the source index PyTorch computes for it."""
    n = len(out) - 1
    kernel = 1 if args["mode"].startswith("nearest") else 2
    window = Window(kernel=(kernel,) * n, stride=tuple(Fraction(i, o) for i, o in zip(shapes[0][1:], out[1:])),
                    padding=(0,) * n, dilation=(1,) * n)
    return Exact(windows=(window,), reads=lambda axis, lo, hi, size, out_size: (
        _sources(args, axis, lo, size, out_size)[0], _sources(args, axis, hi, size, out_size)[1]))


def _scale(args: dict, axis: int, size: int, out_size: int) -> Fraction:
    """Input units per output unit, as interpolate uses it: 1/scale_factor when one is given."""
    if args["align_corners"] and args["mode"] not in ("nearest", "nearest-exact"):
        return Fraction(size - 1, out_size - 1) if out_size > 1 else Fraction(0)
    factor = args["scale_factor"]
    if factor is None:
        return Fraction(size, out_size)
    factor = factor[axis] if isinstance(factor, tuple) else factor
    return 1 / Fraction(factor)


def _sources(args: dict, axis: int, unit: int, size: int, out_size: int) -> tuple[int, int]:
    """The first and last input unit one output unit reads with a nonzero weight."""
    scale, mode = _scale(args, axis, size, out_size), args["mode"]
    if mode in ("nearest", "nearest-exact"):
        index = min(math.floor((unit + Fraction(1, 2) * (mode == "nearest-exact")) * scale), size - 1)
        return index, index
    source = unit * scale if args["align_corners"] else (unit + Fraction(1, 2)) * scale - Fraction(1, 2)
    if mode == "bicubic":
        first, weighted = math.floor(source), source != math.floor(source)
        return (max(first - weighted, 0), min(first + 2 * weighted, size - 1)) if weighted else \
            (min(max(first, 0), size - 1),) * 2
    source = max(source, 0)
    first = min(math.floor(source), size - 1)
    return first, min(first + (source > first), size - 1)


@register("upsample", family="shape", receptive_field=upsample_window, memory=SAVES_NOTHING,
          torch=TorchForms(module=NN + "Upsample", inferred=None, methods=(),
                           functions=calls(F + "interpolate", size=1, scale_factor=2, mode=3, align_corners=4),
                           aliases=()),
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
