"""The sliding-window output size shared by convolutions and pooling, and its explanation."""
from __future__ import annotations

from .registry import LayerError, Shape, format_shape


def sliding_window(spatial: Shape, kernel, stride, padding, dilation, ceil_mode: bool):
    """Output size per axis, PyTorch's rule (pooling_output_shape), and rows dropped by flooring."""
    out, dropped = [], []
    for size, k, s, p, d in zip(spatial, kernel, stride, padding, dilation):
        span = size + 2 * p - d * (k - 1) - 1
        length = (span + (s - 1 if ceil_mode else 0)) // s + 1
        # ceil mode: the last window must start inside the input or the left padding
        if ceil_mode and (length - 1) * s >= size + p:
            length -= 1
        if length < 1:  # floor mode: the (dilated) kernel does not fit the padded input
            padded = format_shape(tuple(x + 2 * q for x, q in zip(spatial, padding)))
            raise LayerError(f"kernel {format_shape(kernel)} (dilation {format_shape(dilation)}) is larger "
                             f"than the padded input {padded}")
        out.append(length)
        # the unread tail is right padding first, then real input rows; a window narrower than its
        # stride (a 1×1 conv at stride 2) skips rows by design, so its tail is no flooring loss
        tiles = d * (k - 1) + 1 >= s
        dropped.append(max(0, span % s - p) if tiles and not ceil_mode else 0)
    return tuple(out), tuple(dropped)


def explain_windows(spatial, kernel, stride, padding, dilation, out, dropped, ceil_mode) -> list[str]:
    """One line per distinct axis: the seeds' (W − K + 2P)/S + 1, with dilation where it applies."""
    lines, seen = [], set()
    for size, k, s, p, d, o, lost in zip(spatial, kernel, stride, padding, dilation, out, dropped):
        if (size, k, s, p, d) in seen:
            continue
        seen.add((size, k, s, p, d))
        reach = f"{d}·({k} − 1) − 1" if d > 1 else f"{k}"
        numerator = size + 2 * p - d * (k - 1) - 1
        if numerator % s:
            rounding = f" = {numerator}/{s} + 1 → {o} ({'ceil' if ceil_mode else 'floor'}"
            rounding += f"; {lost} input row(s) unused)" if lost else ")"
        else:
            rounding = f" = {o}"
        lines.append(f"out: ({size} − {reach} + 2·{p})/{s} + 1{rounding}")
    return lines
