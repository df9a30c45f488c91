"""Convolutions and transposed convolutions, 1d to 3d."""
from __future__ import annotations

import math

from fractions import Fraction

from .facts import FieldProbe, parameter_gradients
from .facts import (LOWER, NN, OWN, SAVES_INPUT, Call, Exact, F, FromInput, MemoryFacts, TorchForms, Window, never, no_bytes,
                    unit_window)
from .registry import (Arg, Calc, LayerError, Shape, boolean, check_rank, choice, non_negative_tuple,
                       numel, positive, positive_tuple, register)
from .facts import BackwardFacts, BackwardWork, Gradients
from .window import explain_windows, sliding_window


def padding_arg(value, n: int):
    if value in ("same", "valid"):
        return value
    return non_negative_tuple(value, n)


CONV_ARGS = (
    Arg("out_channels", positive), Arg("kernel_size", positive_tuple),
    Arg("stride", positive_tuple, 1), Arg("padding", padding_arg, 0),
    Arg("dilation", positive_tuple, 1), Arg("groups", positive, 1), Arg("bias", boolean, True),
    Arg("padding_mode", choice("zeros", "reflect", "replicate", "circular"), "zeros"),
)
TRANSPOSED_ARGS = (
    Arg("out_channels", positive), Arg("kernel_size", positive_tuple),
    Arg("stride", positive_tuple, 1), Arg("padding", non_negative_tuple, 0),
    Arg("output_padding", non_negative_tuple, 0), Arg("groups", positive, 1),
    Arg("bias", boolean, True), Arg("dilation", positive_tuple, 1),
)


def _channels(shape: Shape, n: int, args: dict, what: str) -> int:
    check_rank(shape, (n + 1,), what)
    channels, groups = shape[0], args["groups"]
    for name, value in (("in_channels", channels), ("out_channels", args["out_channels"])):
        if value % groups:
            raise LayerError(f"{name} {value} is not divisible by groups {groups}")
    return channels


def conv_padding(args: dict) -> tuple[int, ...]:
    """Per-axis padding on each side; 'same' pads d·(k−1) in total (PyTorch puts the odd one right)."""
    padding, n = args["padding"], len(args["kernel_size"])
    if padding == "valid":
        return (0,) * n
    if padding == "same":
        return tuple(d * (k - 1) // 2 for k, d in zip(args["kernel_size"], args["dilation"]))
    return padding


def conv_window(args: dict, shapes: tuple[Shape, ...], out: Shape) -> tuple[Window, ...]:
    return (Window(kernel=args["kernel_size"], stride=args["stride"], padding=conv_padding(args),
                   dilation=args["dilation"]),)


def transposed_windows(args: dict, shapes: tuple[Shape, ...], out: Shape) -> Exact:
    """On average, zero-insertion by the stride (a jump of 1/s), then a stride-1 conv padded
    d(k−1) − p on the left; exactly, output unit o adds input i·s − p + t·d = o for each tap t."""
    n = len(args["kernel_size"])
    pads = tuple(d * (k - 1) - p for k, d, p in zip(args["kernel_size"], args["dilation"], args["padding"]))
    windows = (unit_window(n, stride=[Fraction(1, s) for s in args["stride"]]),
               Window(kernel=args["kernel_size"], stride=(1,) * n, padding=pads, dilation=args["dilation"]))
    return Exact(windows=windows,
                 reads=lambda axis, lo, hi, size, out_size: _transposed_reads(args, axis, lo, hi, size))


def _transposed_reads(args: dict, axis: int, lo: int, hi: int, size: int) -> tuple[int, int] | None:
    """The input units that output units lo … hi of a transposed conv add; None if none. Input unit i
    adds to outputs i·s − p + t·d (taps t < k): those near the window are found in closed form, and
    where the window is narrower than the dilation, which of them hit it by modular arithmetic, so the
    work is the same for a kernel of 3 or of 10^9."""
    s, p, k, d = (args[key][axis] for key in ("stride", "padding", "kernel_size", "dilation"))
    first, last = max(0, -(-(lo + p - (k - 1) * d) // s)), min(size - 1, (hi + p) // s)
    if first > last:
        return None
    if hi - lo >= d - 1:  # every unit in reach has a tap inside the window
        return first, last
    # unit i hits the window when (i·s − p − lo) mod d ≤ hi − lo: the first such from each end
    skipped = _first_hit(s, first * s - p - lo, d, hi - lo)
    if skipped is None or first + skipped > last:
        return None
    return first + skipped, last - _first_hit(-s, last * s - p - lo, d, hi - lo)


def _first_hit(a: int, b: int, m: int, width: int) -> int | None:
    """The smallest x ≥ 0 with (a·x + b) mod m ≤ width, or None."""
    low, high = (-b) % m, (width - b) % m
    if low == 0 or low > high:  # x = 0 already hits
        return 0
    return _least_multiple(a, m, low, high)


def _least_multiple(a: int, m: int, low: int, high: int) -> int | None:
    """The smallest x ≥ 0 with low ≤ a·x mod m ≤ high (0 ≤ low ≤ high < m), or None: a Euclidean
    descent, O(log m) steps."""
    a %= m
    if a == 0:
        return 0 if low == 0 else None
    x = -(-low // a)
    if a * x <= high:
        return x
    below, above = (-high) % a, (-low) % a
    y = _least_multiple(m % a, a, below, above) if below <= above else 0
    if y is None:
        return None
    x = -(-(m * y + low) // a)
    return x if a * x - m * y <= high else None


def _wraps_once(args: dict, sizes: Shape) -> None:
    """Circular padding wraps around at most once: F.pad refuses a side wider than the input."""
    for k, d, size, left in zip(args["kernel_size"], args["dilation"], sizes, conv_padding(args)):
        right = d * (k - 1) - left if args["padding"] == "same" else left  # same puts the odd one right
        if max(left, right) > size:
            raise LayerError(f"circular padding {max(left, right)} wraps around more than once: it must be at most "
                             f"the size it wraps, {size}")


# autograd keeps the input and the filters: the layer's own weights, or its second input
_SAVES_INPUTS = MemoryFacts(aliases=never, aliases_in_training=never, saved="inputs", gradient="each input",
                            extra_saved=no_bytes, transient=no_bytes, last_saved="read",
                            workspace=parameter_gradients, copies=None, estimate=None)


def conv_backward(shapes: tuple[Shape, ...], args: dict, calc: Calc, gradients: Gradients) -> BackwardWork:
    """The input's gradient is the transposed conv of the output's gradient by the filters, the filters'
    (the layer's own, or its second input's) a conv of the input by the output's gradient, group by
    group: each as many MACs as forward. Transposed convs alike. The bias's gradient is a sum: no MACs.
    (torch's counter counts the filters' gradient over every channel pair: conventions.py.)"""
    filters = gradients.inputs[1] if len(gradients.inputs) > 1 else gradients.parameters
    return BackwardWork(inputs=calc.macs if gradients.inputs[0] else 0, parameters=calc.macs if filters else 0)


CONV_BACKWARD = BackwardFacts(differentiates="each input", work=conv_backward)


# A second input, where given, holds the filters (F.conv2d(x, weight) with a weight computed in
# forward(), or a blur filter kept as a buffer): the layer then holds no weights of its own.
# verify's receptive-field probe: a conv makes the probe's few channels, in one group (its reach, summed
# over channels, is the same)
THINNED = FieldProbe(thinned=lambda args, width: {"out_channels": width, "groups": 1})


@register("conv1d", "conv2d", "conv3d", family="conv", field_probe=THINNED, autocast=LOWER, args=CONV_ARGS, arity=None, fewest_inputs=1,
          torch=TorchForms(module=NN + "Conv{n}d", inferred=FromInput("in_channels", 1), methods=(), aliases=(),
                           functions=(Call(F + "conv{n}d", (("stride", 3), ("padding", 4), ("dilation", 5),
                                                            ("groups", 6)),
                                           tensors=(("weight", 1), ("bias", 2)), taken_as_input=("weight",),
                                           reads=lambda t: {"out_channels": t["weight"][0],
                                                            "kernel_size": list(t["weight"][2:]),
                                                            "bias": t["bias"] is not None}),),
                           given_weight=OWN + "ConvOfGivenFilters"),
          receptive_field=conv_window, memory=_SAVES_INPUTS, explain=lambda s, a, c: explain_conv(s, a, c),
          backward=CONV_BACKWARD)
def conv(shapes: tuple[Shape, ...], args: dict) -> Calc:
    shape, *filters = shapes
    n = len(args["kernel_size"])
    channels = _channels(shape, n, args, f"conv{n}d")
    per_output = channels // args["groups"] * math.prod(args["kernel_size"])
    expected = (args["out_channels"], channels // args["groups"], *args["kernel_size"])
    if len(filters) > 1:
        raise LayerError(f"conv{n}d takes two inputs at most: its input, then its filters")
    if filters and args["padding_mode"] != "zeros":
        raise LayerError("a conv of given filters pads with zeros, as F.conv2d does")
    if filters and filters[0] != expected:
        raise LayerError(f"the filters given are {'×'.join(map(str, filters[0]))}; these arguments take "
                         f"{'×'.join(map(str, expected))}")
    if args["padding_mode"] == "circular":
        _wraps_once(args, shape[1:])
    if args["padding"] == "same":
        if any(s != 1 for s in args["stride"]):
            raise LayerError("padding='same' is not supported for strided convolutions")
        spatial, dropped = shape[1:], (0,) * n
    else:
        padding = conv_padding(args)
        if args["padding_mode"] == "reflect" and any(p >= size for p, size in zip(padding, shape[1:])):
            raise LayerError("reflect padding must be smaller than the input size")
        spatial, dropped = sliding_window(shape[1:], args["kernel_size"], args["stride"], padding,
                                          args["dilation"], ceil_mode=False)
    out = (args["out_channels"], *spatial)
    return Calc(out, weights=0 if filters else args["out_channels"] * per_output,
                biases=args["out_channels"] if args["bias"] else 0,
                macs=numel(out) * per_output, dropped=dropped)


@register("convtranspose1d", "convtranspose2d", "convtranspose3d", family="conv", field_probe=THINNED, autocast=LOWER, args=TRANSPOSED_ARGS,
          torch=TorchForms(module=NN + "ConvTranspose{n}d", given_weight=None, inferred=FromInput("in_channels", 1),
                           functions=(), methods=(), aliases=()),
          receptive_field=transposed_windows, memory=SAVES_INPUT,
          explain=lambda s, a, c: explain_transposed(s, a, c), backward=CONV_BACKWARD)
def conv_transposed(shapes: tuple[Shape, ...], args: dict) -> Calc:
    (shape,) = shapes
    n = len(args["kernel_size"])
    channels = _channels(shape, n, args, f"convtranspose{n}d")
    spatial = []
    for size, k, s, p, op, d in zip(shape[1:], args["kernel_size"], args["stride"], args["padding"],
                                    args["output_padding"], args["dilation"]):
        if op >= s and op >= d:
            raise LayerError(f"output_padding {op} must be smaller than either stride {s} or dilation {d}")
        spatial.append((size - 1) * s - 2 * p + d * (k - 1) + op + 1)
    if min(spatial) < 1:
        raise LayerError(f"output size {spatial} is too small (padding too large for this input)")
    weights = channels * args["out_channels"] // args["groups"] * math.prod(args["kernel_size"])
    # Each input element scatters into out/groups × k^n outputs (torch's flop counter rule).
    return Calc((args["out_channels"], *spatial), weights=weights,
                biases=args["out_channels"] if args["bias"] else 0, macs=numel(shape[1:]) * weights)


def explain_conv(shapes: tuple[Shape, ...], args: dict, calc: Calc) -> list[str]:
    shape = shapes[0]
    channels, groups, out_channels = shape[0], args["groups"], args["out_channels"]
    kernel = args["kernel_size"]
    lines = explain_windows(shape[1:], kernel, args["stride"], conv_padding(args), args["dilation"],
                            calc.output_shape[1:], calc.dropped, ceil_mode=False)
    dims = " × ".join(str(k) for k in kernel)
    held = f"= {calc.weights:,}" if len(shapes) == 1 else "(given as the second input)"
    lines.append(f"weights: {out_channels} × {channels // groups} × {dims} {held}"
                 + (f"; biases: {calc.biases:,}" if calc.biases else "; no bias"))
    rows, columns = channels // groups * math.prod(kernel), numel(calc.output_shape[1:])
    per_group = f" per group (×{groups})" if groups > 1 else ""
    lines.append(f"im2col: filter matrix {out_channels // groups}×{rows} · image matrix "
                 f"{rows}×{columns}{per_group} = {out_channels // groups}×{columns}")
    lines.append(f"MACs: {numel(calc.output_shape):,} outputs × {rows:,} = {calc.macs:,}")
    return lines


def explain_transposed(shapes: tuple[Shape, ...], args: dict, calc: Calc) -> list[str]:
    (shape,) = shapes
    lines = [f"out: ({size} − 1)·{s} − 2·{p} + {d}·({k} − 1) + {op} + 1 = {o}"
             for size, k, s, p, op, d, o in zip(shape[1:], args["kernel_size"], args["stride"],
                                                args["padding"], args["output_padding"],
                                                args["dilation"], calc.output_shape[1:])]
    dims = " × ".join(str(k) for k in args["kernel_size"])
    lines.append(f"weights: {shape[0]} × {args['out_channels'] // args['groups']} × {dims} = {calc.weights:,}")
    lines.append(f"MACs: {numel(shape[1:]):,} input positions × {calc.weights:,} weights = {calc.macs:,}")
    return lines
