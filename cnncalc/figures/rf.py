"""Receptive fields for any DAG, following Araujo, Norris and Sim, "Computing Receptive Fields of
Convolutional Neural Networks" (Distill, 2019).

Per spatial axis, each layer's output unit i sees input pixels [i·stride − padding,
i·stride − padding + size − 1]: `size` r, effective stride (jump) j and effective padding P. A
window of kernel k (dilated k′ = d(k−1)+1), stride s and left padding p maps (r, j, P) to
(r + (k′−1)·j, j·s, P + p·j). Each kind declares its windows (layers/facts.py); transposed convs and
upsampling have stride 1/s, so jumps and paddings are exact fractions. Through branches the field is
the largest over paths; a join whose inputs have different jumps or paddings is misaligned.
"""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from ..graph import INPUT, Graph
from ..layers import REGISTRY
from ..layers.facts import MERGE, WHOLE, Window
from .report import Report


@dataclass(frozen=True)
class Field:
    size: tuple[Fraction, ...]
    stride: tuple[Fraction, ...]
    padding: tuple[Fraction, ...]
    aligned: bool = True
    whole: bool = False    # every unit sees the whole input
    global_: bool = False  # after global pooling or flatten: no spatial positions left


def _through(field: Field, window: Window) -> Field:
    return Field(tuple(r + (d * (k - 1)) * j for r, j, k, d in zip(field.size, field.stride, window.kernel,
                                                                   window.dilation)),
                 tuple(j * s for j, s in zip(field.stride, window.stride)),
                 tuple(P + p * j for P, j, p in zip(field.padding, field.stride, window.padding)), field.aligned)


def _merge(fields: list[Field]) -> Field:
    """The largest field over the branches; misaligned where their jumps or centres differ."""
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
        in_shapes = tuple(shapes[name] for name in node.inputs)
        geometry = REGISTRY[node.kind].receptive_field(node.args, in_shapes, shapes[node.name])
        field = fields[node.inputs[0]]
        if geometry is MERGE:
            fields[node.name] = _merge([fields[name] for name in node.inputs])
        elif field.whole and (field.global_ or len(in_shapes[0]) - 1 != spatial):
            fields[node.name] = field  # spatial positions are gone: every unit sees everything
        elif geometry is WHOLE:
            fields[node.name] = Field(field.size, field.stride, field.padding, field.aligned, whole=True,
                                      global_=True)
        else:
            for window in geometry:
                field = _through(field, window)
            covers = all(r >= size for r, size in zip(field.size, graph.input_shape[1:]))
            fields[node.name] = Field(field.size, field.stride, field.padding, field.aligned, covers)
    return fields


def last_field(fields: dict[str, Field], block: str) -> Field:
    """A collapsed block's field: its last layer's."""
    return [field for name, field in fields.items() if name.startswith(block + ".")][-1]


def number(value: Fraction):
    """JSON-friendly: an int when whole, else a float."""
    return int(value) if value.denominator == 1 else float(value)


def describe(field: Field) -> str:
    size = "×".join(str(number(r)) for r in field.size)
    note = " (whole input)" if field.whole else ""
    return size + note + ("" if field.aligned else " misaligned")
