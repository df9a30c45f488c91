"""Receptive fields for any DAG, following Araujo, Norris and Sim, "Computing Receptive Fields of
Convolutional Neural Networks" (Distill, 2019).

Per spatial axis, each layer's output unit i sees input pixels [i·stride − padding,
i·stride − padding + size − 1]: `size` r, effective stride (jump) j and effective padding P. A
layer of kernel k (dilated k′ = d(k−1)+1), stride s and left padding p maps (r, j, P) to
(r + (k′−1)·j, j·s, P + p·j). Transposed convs and upsampling have stride 1/s, so jumps and paddings
are exact fractions. Through branches the field is the largest over paths; a join whose inputs have
different jumps or paddings is misaligned.
"""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Callable

from ..graph import INPUT, Graph
from ..layers.conv import conv_padding
from ..layers.registry import first_match
from .report import Report


@dataclass(frozen=True)
class Field:
    size: tuple[Fraction, ...]
    stride: tuple[Fraction, ...]
    padding: tuple[Fraction, ...]
    aligned: bool = True
    whole: bool = False    # every unit sees the whole input
    global_: bool = False  # after global pooling or flatten: no spatial positions left


def _window(field: Field, kernel, stride, padding, dilation) -> Field:
    return Field(tuple(r + (d * (k - 1)) * j for r, j, k, d in zip(field.size, field.stride, kernel, dilation)),
                 tuple(j * s for j, s in zip(field.stride, stride)),
                 tuple(P + p * j for P, j, p in zip(field.padding, field.stride, padding)), field.aligned)


def _conv(field, args, in_shape, out_shape):
    return _window(field, args["kernel_size"], args["stride"], conv_padding(args), args["dilation"])


def _pool(field, args, in_shape, out_shape):
    kernel = args["kernel_size"]
    return _window(field, kernel, args["stride"] or kernel, args["padding"],
                   args.get("dilation", (1,) * len(kernel)))


def _transposed(field, args, in_shape, out_shape):
    # zero-insertion by s (jump j/s), then a stride-1 conv padded d(k−1) − p on the left
    upsampled = Field(field.size, tuple(j / s for j, s in zip(field.stride, args["stride"])),
                      field.padding, field.aligned)
    pads = [d * (k - 1) - p for k, d, p in zip(args["kernel_size"], args["dilation"], args["padding"])]
    return _window(upsampled, args["kernel_size"], (1,) * len(pads), pads, args["dilation"])


def _adaptive(field, args, in_shape, out_shape):
    # PyTorch's adaptive windows: up to ceil(L/O) inputs, starting every L/O
    if all(o == 1 for o in out_shape[1:]):
        return _whole(field, args, in_shape, out_shape)
    kernel = [-(-size // out) for size, out in zip(in_shape[1:], out_shape[1:])]
    stride = [Fraction(size, out) for size, out in zip(in_shape[1:], out_shape[1:])]
    return _window(field, kernel, stride, [0] * len(kernel), [1] * len(kernel))


def _upsample(field, args, in_shape, out_shape):
    scale = [Fraction(o, i) for o, i in zip(out_shape[1:], in_shape[1:])]
    blur = 0 if args["mode"].startswith("nearest") else 1  # (bi/tri)linear and bicubic mix neighbours
    return Field(tuple(r + blur * j for r, j in zip(field.size, field.stride)),
                 tuple(j / f for j, f in zip(field.stride, scale)), field.padding, field.aligned)


def _pad(field, args, in_shape, out_shape):
    n = len(args["padding"]) // 2
    left = list(reversed(args["padding"][0::2]))  # torch lists (left, right) from the last dim back
    shift = [0] * (len(field.size) - n) + left
    return Field(field.size, field.stride, tuple(P + p * j for P, j, p in zip(field.padding, field.stride, shift)),
                 field.aligned)


def _pixel_shuffle(field, args, in_shape, out_shape):
    r = args["upscale_factor"]
    return Field(field.size, tuple(j / r for j in field.stride), field.padding, field.aligned)


def _pixel_unshuffle(field, args, in_shape, out_shape):
    r = args["downscale_factor"]
    return _window(field, (r, r), (r, r), (0, 0), (1, 1))


def _whole(field, args, in_shape, out_shape):
    return Field(field.size, field.stride, field.padding, field.aligned, whole=True, global_=True)


def _same(field, args, in_shape, out_shape):
    return field


RULES: tuple[tuple[str, Callable], ...] = (
    ("conv?d", _conv), ("convtranspose*", _transposed), ("maxpool*", _pool), ("avgpool*", _pool),
    ("adaptive*", _adaptive), ("upsample", _upsample), ("zeropad*", _pad), ("pixelshuffle", _pixel_shuffle),
    ("pixelunshuffle", _pixel_unshuffle), ("linear", lambda f, a, i, o: _whole(f, a, i, o) if len(i) > 1 else f),
    ("flatten", lambda f, a, i, o: _whole(f, a, i, o) if a["start_dim"] <= 2 else f), ("*", _same),
)


def _join(fields: list[Field], kind: str, shapes) -> Field:
    if kind == "crop":  # the source, shifted by the centred offset
        source, (src, target) = fields[0], shapes
        offsets = [(s - t) // 2 for s, t in zip(src[1:], target[1:])]
        return Field(source.size, source.stride,
                     tuple(P - o * j for P, j, o in zip(source.padding, source.stride, offsets)),
                     source.aligned, source.whole, source.global_)
    first = fields[0]
    aligned = all(f.stride == first.stride and _centre(f) == _centre(first) for f in fields)
    largest = max(fields, key=lambda f: f.size)
    return Field(tuple(max(sizes) for sizes in zip(*(f.size for f in fields))), largest.stride,
                 largest.padding, aligned and all(f.aligned for f in fields), any(f.whole for f in fields),
                 any(f.global_ for f in fields))


def _centre(field: Field) -> tuple[Fraction, ...]:
    """Where unit 0's field is centred: (r − 1)/2 − P; joins of branches must agree on it."""
    return tuple((r - 1) / 2 - P for r, P in zip(field.size, field.padding))


def receptive_fields(graph: Graph, report: Report) -> dict[str, Field]:
    """The receptive field of every layer's output, by name (the input's is one pixel)."""
    spatial = len(graph.input_shape) - 1
    one = Fraction(1)
    fields = {INPUT: Field((one,) * spatial, (one,) * spatial, (Fraction(0),) * spatial)}
    shapes = {row.name: row.output_shape for row in report.layers}
    for node in graph.nodes:
        inputs = [fields[name] for name in node.inputs]
        in_shapes = [shapes[name] for name in node.inputs]
        if len(inputs) > 1:
            fields[node.name] = _join(inputs, node.kind, in_shapes)
            continue
        field = inputs[0]
        if field.whole and (field.global_ or len(in_shapes[0]) - 1 != spatial):
            fields[node.name] = field  # spatial positions are gone: every unit sees everything
            continue
        result = first_match(RULES, node.kind)(field, node.args, in_shapes[0], shapes[node.name])
        covers = all(r >= size for r, size in zip(result.size, graph.input_shape[1:]))
        fields[node.name] = Field(result.size, result.stride, result.padding, result.aligned,
                                  result.whole or covers, result.global_)
    return fields


def number(value: Fraction):
    """JSON-friendly: an int when whole, else a float."""
    return int(value) if value.denominator == 1 else float(value)


def describe(field: Field) -> str:
    size = "×".join(str(number(r)) for r in field.size)
    note = " (whole input)" if field.whole else ""
    return size + note + ("" if field.aligned else " misaligned")
