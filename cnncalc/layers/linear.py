"""Fully connected layers and reshaping: linear, flatten, padding, upsampling, shuffles."""
from __future__ import annotations

import math

from .registry import (Arg, Calc, LayerError, Shape, always, any_int, boolean, check_rank, choice,
                       dim_index, format_shape, numel, optional, positive, register)


@register("linear", family="linear", torch="Linear", inferred="in_features",
          args=(Arg("out_features", positive), Arg("bias", boolean, True)),
          explain=lambda s, a, c: [f"weights: {s[0][-1]:,} × {a['out_features']:,} = {c.weights:,}"
                                   + (f"; biases: {c.biases:,}" if c.biases else "; no bias"),
                                   f"MACs: {numel(s[0][:-1])} × {s[0][-1]:,} × {a['out_features']:,} = {c.macs:,}"])
def linear(shapes: tuple[Shape, ...], args: dict) -> Calc:
    (shape,) = shapes
    if not shape:
        raise LayerError("linear needs at least a 1-d input per sample")
    out = (*shape[:-1], args["out_features"])
    weights = shape[-1] * args["out_features"]
    return Calc(out, weights=weights, biases=args["out_features"] if args["bias"] else 0,
                macs=numel(shape[:-1]) * weights)


@register("flatten", family="shape", torch="Flatten", aliases=always,
          args=(Arg("start_dim", any_int, 1), Arg("end_dim", any_int, -1)))
def flatten(shapes: tuple[Shape, ...], args: dict) -> Calc:
    (shape,) = shapes
    start, end = dim_index(args["start_dim"], len(shape)), dim_index(args["end_dim"], len(shape))
    if start > end:
        raise LayerError(f"start_dim {args['start_dim']} comes after end_dim {args['end_dim']}")
    return Calc((*shape[:start], numel(shape[start:end + 1]), *shape[end + 1:]))


def pad_arg(value, n: int):
    values = value if isinstance(value, (list, tuple)) else [value] * (2 * n)
    if len(values) != 2 * n:
        raise LayerError(f"expected one integer or {2 * n} (left, right, top, bottom, ...), got {list(values)}")
    return tuple(any_int(v) for v in values)


@register("zeropad1d", "zeropad2d", "zeropad3d", family="shape", torch="ZeroPad{n}d",
          args=(Arg("padding", pad_arg),))
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
    if isinstance(value, (list, tuple)):
        return tuple(value)
    return value


_UPSAMPLE_RANKS = {"nearest": (2, 3, 4), "nearest-exact": (2, 3, 4), "linear": (2,), "bilinear": (3,),
                   "bicubic": (3,), "trilinear": (4,)}


@register("upsample", family="shape", torch="Upsample",
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


@register("pixelshuffle", family="shape", torch="PixelShuffle", args=(Arg("upscale_factor", positive),))
def pixel_shuffle(shapes: tuple[Shape, ...], args: dict) -> Calc:
    (shape,) = shapes
    r = args["upscale_factor"]
    check_rank(shape, (3,), "pixelshuffle")
    if shape[0] % (r * r):
        raise LayerError(f"{shape[0]} channels are not divisible by upscale_factor² = {r * r}")
    return Calc((shape[0] // (r * r), shape[1] * r, shape[2] * r))


@register("pixelunshuffle", family="shape", torch="PixelUnshuffle", args=(Arg("downscale_factor", positive),))
def pixel_unshuffle(shapes: tuple[Shape, ...], args: dict) -> Calc:
    (shape,) = shapes
    r = args["downscale_factor"]
    check_rank(shape, (3,), "pixelunshuffle")
    if shape[1] % r or shape[2] % r:
        raise LayerError(f"height and width {shape[1]}×{shape[2]} are not divisible by {r}")
    return Calc((shape[0] * r * r, shape[1] // r, shape[2] // r))


@register("channelshuffle", family="shape", torch="ChannelShuffle", args=(Arg("groups", positive),))
def channel_shuffle(shapes: tuple[Shape, ...], args: dict) -> Calc:
    (shape,) = shapes
    if len(shape) < 2 or shape[0] % args["groups"]:
        raise LayerError(f"{format_shape(shape)}: channels not divisible by groups {args['groups']}")
    return Calc(shape)
