"""Max, average and adaptive pooling, 1d to 3d."""
from __future__ import annotations

from .registry import (Arg, Calc, LayerError, Shape, boolean, check_rank, non_negative_tuple,
                       optional, positive, positive_tuple, register)
from .window import explain_windows, sliding_window

MAX_ARGS = (Arg("kernel_size", positive_tuple), Arg("stride", optional(positive_tuple), None),
            Arg("padding", non_negative_tuple, 0), Arg("dilation", positive_tuple, 1),
            Arg("return_indices", lambda v, n: _false(v), False), Arg("ceil_mode", boolean, False))
AVG_ARGS = (Arg("kernel_size", positive_tuple), Arg("stride", optional(positive_tuple), None),
            Arg("padding", non_negative_tuple, 0), Arg("ceil_mode", boolean, False),
            Arg("count_include_pad", boolean, True))
AVG_DIVISOR_ARGS = AVG_ARGS + (Arg("divisor_override", optional(positive), None),)


def _false(value):
    if value is not False:
        raise LayerError("only false is supported (indices would make the output a tuple)")
    return value


def _window(args: dict) -> tuple:
    kernel = args["kernel_size"]
    return (kernel, args["stride"] or kernel, args["padding"],
            args.get("dilation", (1,) * len(kernel)))


def _explain(shapes, args, calc) -> list[str]:
    kernel, stride, padding, dilation = _window(args)
    return explain_windows(shapes[0][1:], kernel, stride, padding, dilation, calc.output_shape[1:],
                           calc.dropped, args["ceil_mode"])


def pool(shapes: tuple[Shape, ...], args: dict) -> Calc:
    (shape,) = shapes
    kernel, stride, padding, dilation = _window(args)
    check_rank(shape, (len(kernel) + 1,), f"pool{len(kernel)}d")
    if any(p > k // 2 for p, k in zip(padding, kernel)):
        raise LayerError(f"padding {list(padding)} should be at most half of kernel size {list(kernel)}")
    spatial, dropped = sliding_window(shape[1:], kernel, stride, padding, dilation, args["ceil_mode"])
    return Calc((shape[0], *spatial), dropped=dropped)


register("maxpool1d", "maxpool2d", "maxpool3d", family="pool", args=MAX_ARGS, torch="MaxPool{n}d",
         explain=_explain)(pool)
register("avgpool1d", family="pool", args=AVG_ARGS, torch="AvgPool1d", explain=_explain)(pool)
register("avgpool2d", "avgpool3d", family="pool", args=AVG_DIVISOR_ARGS, torch="AvgPool{n}d",
         explain=_explain)(pool)


def output_size_arg(value, n: int):
    values = value if isinstance(value, (list, tuple)) else [value] * n
    if len(values) != n:
        raise LayerError(f"expected one size or {n}, got {list(values)}")
    return tuple(None if v is None else positive(v) for v in values)


ADAPTIVE_MAX_ARGS = (Arg("output_size", output_size_arg),
                     Arg("return_indices", lambda v, n: _false(v), False))


def adaptive_pool(shapes: tuple[Shape, ...], args: dict) -> Calc:
    (shape,) = shapes
    size = args["output_size"]
    check_rank(shape, (len(size) + 1,), f"adaptive pool {len(size)}d")
    return Calc((shape[0], *(s if o is None else o for o, s in zip(size, shape[1:]))))


register("adaptiveavgpool1d", "adaptiveavgpool2d", "adaptiveavgpool3d", family="pool",
         args=(Arg("output_size", output_size_arg),), torch="AdaptiveAvgPool{n}d")(adaptive_pool)
register("adaptivemaxpool1d", "adaptivemaxpool2d", "adaptivemaxpool3d", family="pool",
         args=ADAPTIVE_MAX_ARGS, torch="AdaptiveMaxPool{n}d")(adaptive_pool)
