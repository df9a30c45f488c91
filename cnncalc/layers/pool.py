"""Max, average and adaptive pooling, 1d to 3d."""
from __future__ import annotations

from fractions import Fraction

from .facts import AS_IS, FieldProbe, parameter_gradients
from .facts import (NN, SAVES_INPUT, WHOLE, Exact, F, MemoryFacts, TorchForms, Window, calls, int64_indices,
                    never, no_bytes)
from .facts import NO_PRODUCTS, PROMOTE, float32_on_cpu_in
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


def pool_window(args: dict, shapes: tuple[Shape, ...], out: Shape) -> tuple[Window, ...]:
    kernel, stride, padding, dilation = _window(args)
    return (Window(kernel=kernel, stride=stride, padding=padding, dilation=dilation),)


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


def _as_average_pool(kind: str, args: dict) -> tuple[str, dict] | None:
    """A max-pool's window as an average pool's, which gives every pixel of it a gradient (padding
    counted, as the max-pool reads it); none for a dilated one."""
    if any(d != 1 for d in args.get("dilation", ())):
        return None
    kept = {key: args[key] for key in ("kernel_size", "stride", "padding", "ceil_mode", "output_size") if key in args}
    return kind.replace("max", "avg"), kept | ({} if "output_size" in args else {"count_include_pad": True})


# max pooling builds int64 indices: saved for backward, and alive while the layer runs in inference
SAVES_INDICES = MemoryFacts(aliases=never, aliases_in_training=never,
                            saved="input", gradient="each input", extra_saved=int64_indices,
                            transient=int64_indices, last_saved="made", workspace=parameter_gradients, copies=None, estimate=None)
# the CPU's float32 list has the 3-d pools
register("maxpool1d", "maxpool2d", "maxpool3d", family="pool", field_probe=FieldProbe(stand_in=_as_average_pool), autocast=float32_on_cpu_in(3), backward=NO_PRODUCTS, args=MAX_ARGS,
         torch=TorchForms(module=NN + "MaxPool{n}d", given_weight=None, inferred=None, methods=(),
                          functions=calls(F + "max_pool{n}d", kernel_size=1, stride=2, padding=3, dilation=4,
                                          ceil_mode=5), aliases=()),
         receptive_field=pool_window, memory=SAVES_INDICES, explain=_explain)(pool)
_AVG_FORMS = TorchForms(module=NN + "AvgPool{n}d", given_weight=None, inferred=None, methods=(),
                        functions=calls(F + "avg_pool{n}d", kernel_size=1, stride=2, padding=3, ceil_mode=4),
                        aliases=())
register("avgpool1d", family="pool", field_probe=AS_IS, autocast=PROMOTE, backward=NO_PRODUCTS, args=AVG_ARGS, torch=_AVG_FORMS, receptive_field=pool_window,
         memory=SAVES_INPUT, explain=_explain)(pool)
register("avgpool2d", "avgpool3d", family="pool", field_probe=AS_IS, autocast=float32_on_cpu_in(3), backward=NO_PRODUCTS, args=AVG_DIVISOR_ARGS, torch=_AVG_FORMS,
         receptive_field=pool_window, memory=SAVES_INPUT, explain=_explain)(pool)


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


def adaptive_window(args: dict, shapes: tuple[Shape, ...], out: Shape):
    """PyTorch's adaptive windows: up to ceil(L/O) inputs, starting every L/O; one output sees all."""
    if all(o == 1 for o in out[1:]):
        return WHOLE
    spatial = zip(shapes[0][1:], out[1:])
    kernel, stride = zip(*((-(-size // o), Fraction(size, o)) for size, o in spatial))
    n = len(kernel)
    # output unit o pools inputs floor(o·L/O) … ceil((o + 1)·L/O) − 1
    return Exact(windows=(Window(kernel=kernel, stride=stride, padding=(0,) * n, dilation=(1,) * n),),
                 reads=lambda axis, lo, hi, size, out_size: (lo * size // out_size,
                                                             -(-(hi + 1) * size // out_size) - 1))


# ATen computes an adaptive average pool to one unit per channel as input.mean(spatial dims), whose
# backward needs only the input's shape (AdaptiveAveragePooling.cpp, ...3d.cpp)
GLOBAL_MEAN_OR_INPUT = MemoryFacts(
    aliases=never, aliases_in_training=never, gradient="each input", extra_saved=no_bytes, transient=no_bytes,
    saved=lambda args: "nothing" if all(size == 1 for size in args["output_size"]) else "input", last_saved=lambda args: "none" if all(size == 1 for size in args["output_size"]) else "read",
    workspace=parameter_gradients, copies=None, estimate=None)
register("adaptiveavgpool1d", "adaptiveavgpool2d", "adaptiveavgpool3d", family="pool", field_probe=AS_IS, autocast=float32_on_cpu_in(3), backward=NO_PRODUCTS,
         args=(Arg("output_size", output_size_arg),),
         torch=TorchForms(module=NN + "AdaptiveAvgPool{n}d", given_weight=None, inferred=None, methods=(),
                          functions=calls(F + "adaptive_avg_pool{n}d", output_size=1), aliases=()),
         receptive_field=adaptive_window, memory=GLOBAL_MEAN_OR_INPUT)(adaptive_pool)
register("adaptivemaxpool1d", "adaptivemaxpool2d", "adaptivemaxpool3d", family="pool", field_probe=FieldProbe(stand_in=_as_average_pool), autocast=float32_on_cpu_in(3),
         backward=NO_PRODUCTS, args=ADAPTIVE_MAX_ARGS,
         torch=TorchForms(module=NN + "AdaptiveMaxPool{n}d", given_weight=None, inferred=None, methods=(),
                          functions=calls(F + "adaptive_max_pool{n}d", output_size=1), aliases=()),
         receptive_field=adaptive_window, memory=SAVES_INDICES)(adaptive_pool)
