"""Receptive fields for any DAG, following Araujo, Norris and Sim, "Computing Receptive Fields of
Convolutional Neural Networks" (Distill, 2019).

Per spatial axis, each layer's output unit i sees input pixels [i·stride − padding,
i·stride − padding + size − 1]: `size` r, effective stride (jump) j and effective padding P. A
window of kernel k (dilated k′ = d(k−1)+1), stride s and left padding p maps (r, j, P) to
(r + (k′−1)·j, j·s, P + p·j). Each kind declares its windows (layers/facts.py); transposed convs and
upsampling have stride 1/s, so their jumps and paddings are exact means; for them each kind also
declares its exact index map (layers/facts.py: Exact), which gives every unit's interval and whether a
join's branches centre their units alike. Through branches the field is the largest over paths.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from fractions import Fraction

from ..errors import SpecError, did_you_mean
from ..graph import INPUT, Graph
from ..layers import REGISTRY
from ..layers.facts import CONSTANT, MERGE, UNTRACKED, WHOLE, Exact, Window
from .report import Report


@dataclass(frozen=True)
class Field:
    size: tuple[Fraction, ...]
    stride: tuple[Fraction, ...]
    padding: tuple[Fraction, ...]
    aligned: bool = True
    whole: bool = False    # every unit sees the whole input
    global_: bool = False  # after global pooling or flatten: no spatial positions left
    affine: bool = True    # False: after upsampling, a transposed conv, ...: size, stride and padding
                           # are means; unit_interval gives each unit's exact field


def _through(field: Field, window: Window) -> Field:
    return Field(tuple(r + (d * (k - 1)) * j for r, j, k, d in zip(field.size, field.stride, window.kernel,
                                                                   window.dilation)),
                 tuple(j * s for j, s in zip(field.stride, window.stride)),
                 tuple(P + p * j for P, j, p in zip(field.padding, field.stride, window.padding)),
                 affine=field.affine)


def _merge(fields: list[Field]) -> Field:
    """The largest field over the branches (alignment is judged on the exact maps afterwards)."""
    largest = max(fields, key=lambda f: f.size)
    return Field(tuple(max(sizes) for sizes in zip(*(f.size for f in fields))), largest.stride,
                 largest.padding, whole=any(f.whole for f in fields), global_=any(f.global_ for f in fields),
                 affine=all(f.affine for f in fields))


def receptive_fields(graph: Graph, report: Report) -> dict[str, Field | None]:
    """The receptive field of every layer's output, by name (the input's is one pixel; None for a
    parameter read as a tensor, and what only parameters feed: they see no input)."""
    spatial = len(graph.input_shape) - 1
    one = Fraction(1)
    fields = {INPUT: Field((one,) * spatial, (one,) * spatial, (Fraction(0),) * spatial)}
    fields |= dict.fromkeys(graph.input_names[1:])  # the model's other inputs: fields of the first only
    shapes = {row.name: row.output_shape for row in report.layers}
    for node in graph.nodes:
        fields[node.name] = _field(graph, shapes, fields, node)
    stated = {name: None if field is UNKNOWN else field for name, field in fields.items()}
    return _aligned_exactly(graph, shapes, stated)


UNKNOWN = Field((), (), ())  # past a layer that moves the spatial axes (UNTRACKED): no field is stated


def _geometry(node, in_shapes: tuple, out: tuple):
    """How a layer's output units read its input's. A layer per row has no field here: its rows sit
    where the channels are read, its channels among the spatial axes."""
    return UNTRACKED if node.per_row else REGISTRY[node.kind].receptive_field(node.args, in_shapes, out)


def _field(graph: Graph, shapes: dict, fields: dict, node) -> Field | None:
    spatial = len(graph.input_shape) - 1
    in_shapes = tuple(shapes[name] for name in node.inputs)
    geometry = _geometry(node, in_shapes, shapes[node.name])
    if geometry is UNTRACKED or any(fields[name] is UNKNOWN for name in node.inputs):
        return UNKNOWN  # a join of such a branch too: what it reads of the input is not known
    seen = [fields[name] for name in node.inputs if fields[name] is not None]
    if geometry is CONSTANT or not seen:
        return None
    if geometry is MERGE:
        return _merge(seen)
    field = fields[node.inputs[0]]
    if field is None:
        return None
    if field.whole and (field.global_ or len(in_shapes[0]) - 1 != spatial):
        return field  # spatial positions are gone: every unit sees everything
    if geometry is WHOLE:
        extent = tuple(Fraction(last - first + 1) for first, last in _extent(graph, shapes, node.inputs[0]))
        return Field(extent, field.stride, field.padding, whole=True, global_=True, affine=field.affine)
    if isinstance(geometry, Exact):
        field, geometry = replace(field, affine=False), geometry.windows
    for window in geometry:
        field = _through(field, window)
    covers = all(r >= size for r, size in zip(field.size, graph.input_shape[1:]))
    return replace(field, whole=covers)


def _extent(graph: Graph, shapes: dict, name: str) -> list[tuple[int, int]]:
    """The input interval that all units of a tensor see together, per axis (padding included)."""
    shape = shapes[name]
    return _back(graph, shapes, name, [(0, size - 1) for size in shape[1:]])


def _aligned_exactly(graph: Graph, shapes: dict, fields: dict) -> dict:
    """A join is aligned when each of its units sees input intervals centred alike through every
    branch: checked on the exact maps, for the first, middle and last unit along each axis. A layer
    is aligned when its joins and all before it are."""
    aligned = dict.fromkeys(graph.input_names, True)
    for node in graph.nodes:
        aligned[node.name] = all(aligned[i] for i in node.inputs) and _centred(graph, shapes, node)
        if not aligned[node.name] and fields[node.name] is not None:
            fields[node.name] = replace(fields[node.name], aligned=False)
    return fields


def _centred(graph: Graph, shapes: dict, node) -> bool:
    in_shapes = tuple(shapes[i] for i in node.inputs)
    if (_geometry(node, in_shapes, shapes[node.name]) is not MERGE
            or any(len(shape) != len(shapes[node.name]) for shape in in_shapes)):
        return True
    for units in sample_units(shapes[node.name][1:]):
        spans = [_back(graph, shapes, i, [(u, u) for u in units]) for i in node.inputs]
        centres = {tuple(None if span is None else sum(span) for span in each) for each in spans}  # twice the centre
        if len(centres) > 1:
            return False
    return True


def sample_units(spatial) -> list[tuple[int, ...]]:
    """The first, middle and last unit along each axis (the others at their middle): where a join's
    alignment and verify's gradient check look."""
    middle = tuple(size // 2 for size in spatial)
    return list(dict.fromkeys(middle[:axis] + (unit,) + middle[axis + 1:] for axis, size in enumerate(spatial)
                              for unit in (0, size // 2, size - 1)))


@dataclass(frozen=True)
class UnitField:
    """What one unit of a layer sees: per spatial axis (first, last) in input coordinates, before
    and after clipping to the image; None where it sees nothing."""
    model: str
    layer: str
    unit: tuple[int, ...]
    shape: tuple[int, ...]        # the layer's output, per sample
    spans: list
    clipped: list


def unit_query(graph: Graph, report: Report, layer: str, unit: str | None) -> UnitField:
    """`rf --layer NAME --unit I,J`: one unit's field, the unit checked against the layer's shape."""
    shapes = {row.name: row.output_shape for row in report.layers}
    if layer not in shapes:
        raise SpecError(f"--layer: no layer '{layer}'{did_you_mean(layer, shapes)}")
    spatial = shapes[layer][1:] if len(shapes[layer]) == len(graph.input_shape) else ()
    try:
        units = tuple(int(part) for part in unit.split(",")) if unit else ()
    except ValueError:
        raise SpecError(f"--unit takes indices like 3,5, got '{unit}'") from None
    if spatial and len(units) != len(spatial) or not spatial and units:
        wanted = f"{len(spatial)} index(es), one per spatial axis of {'×'.join(map(str, spatial))}" if spatial \
            else "no --unit: its output has no spatial axes"
        raise SpecError(f"--unit: layer '{layer}' takes {wanted}")
    if any(not 0 <= u < size for u, size in zip(units, spatial)):
        raise SpecError(f"--unit {unit} is outside layer '{layer}' ({'×'.join(map(str, spatial))})")
    start = [(u, u) for u in units] if spatial else [(0, size - 1) for size in shapes[layer][1:]]
    spans, clipped = (_back(graph, shapes, layer, start, clip) for clip in (False, True))
    return UnitField(model=graph.name, layer=layer, unit=units, shape=shapes[layer], spans=spans, clipped=clipped)


def unit_interval(graph: Graph, report: Report, layer: str, unit: tuple[int, ...],
                  clip: bool = False) -> list[tuple[int, int] | None]:
    """The input interval (first, last), per spatial axis, that one unit of `layer` sees: before
    clipping to the image, or (`clip`) the pixels it really reads. Exact through every kind, affine
    or not; None where it sees nothing."""
    shapes = {row.name: row.output_shape for row in report.layers}
    return _back(graph, shapes, layer, [(u, u) for u in unit], clip)


def _back(graph: Graph, shapes: dict, name: str, interval: list, clip: bool = False) -> list:
    """Carry an interval of a tensor's units back through the graph to the input: the hull of what
    every path reaches. Unclipped, padding positions count as units (the field hangs over the
    border); clipped, each tensor's interval is cut to the units it has, which is what gradients reach."""
    order = {node.name: index for index, node in enumerate(graph.nodes)}
    intervals = {name: interval}
    for node in reversed(graph.nodes[:order[name] + 1] if name in order else ()):
        if node.name not in intervals:
            continue
        in_shapes = tuple(shapes[i] for i in node.inputs)
        geometry = _geometry(node, in_shapes, shapes[node.name])
        for position, source in enumerate(node.inputs):
            reached = _reads(geometry, intervals[node.name], in_shapes[position], shapes[node.name], position)
            if clip:
                reached = _cut(reached, in_shapes[position][1:])
            intervals[source] = _hull(intervals.get(source), reached)
    spans = intervals.get(INPUT) or [None]
    # a unit that reads nothing along one axis (a transposed conv's gap) reads nothing at all
    return [None] * (len(graph.input_shape) - 1) if None in spans else spans


def _reads(geometry, interval: list, in_shape: tuple, out_shape: tuple, position: int) -> list:
    """What output units `interval` read of one input."""
    if geometry is WHOLE:
        return [(0, size - 1) for size in in_shape[1:]]
    if geometry is MERGE:  # a join; a broadcast input of size 1 along an axis is read at 0
        return [None if span is None else (0, 0) if size == 1 and out > 1 else span
                for span, size, out in zip(interval, in_shape[1:], out_shape[1:])]
    if position or geometry in (CONSTANT, UNTRACKED):  # crop's second input gives only its size
        return [None] * (len(in_shape) - 1)
    if isinstance(geometry, Exact):
        return [None if span is None else geometry.reads(axis, *span, size, out)
                for axis, (span, size, out) in enumerate(zip(interval, in_shape[1:], out_shape[1:]))]
    spans = list(interval)
    for window in reversed(geometry):
        spans = [None if span is None else (span[0] * s - p, span[1] * s - p + d * (k - 1))
                 for span, k, s, p, d in zip(spans, window.kernel, window.stride, window.padding, window.dilation)]
    return [None if span is None else (int(span[0]), int(span[1])) for span in spans]


def _cut(spans: list, sizes: tuple[int, ...]) -> list:
    """Intervals cut to units 0 … size − 1; None where nothing is left."""
    return [None if span is None or span[1] < 0 or span[0] >= size else (max(span[0], 0), min(span[1], size - 1))
            for span, size in zip(spans, sizes)]


def _hull(known: list | None, reached: list) -> list:
    if known is None:
        return reached
    return [b if a is None else a if b is None else (min(a[0], b[0]), max(a[1], b[1])) for a, b in zip(known, reached)]


def row_fields(fields: dict[str, Field | None], report: Report) -> dict[str, Field | None]:
    """The field of each row of a report collapsed by depth: a layer's own, a collapsed block's its last
    layer's."""
    return {row.name: fields[row.name] if row.name in fields else
            [field for name, field in fields.items() if name.startswith(row.name + ".")][-1] for row in report.layers}


def number(value: Fraction):
    """JSON-friendly: an int when whole, else a float."""
    return int(value) if value.denominator == 1 else float(value)


def describe(field: Field) -> str:
    size = "×".join(str(number(r)) for r in field.size)
    note = " (whole input)" if field.whole else ""
    return size + note + ("" if field.aligned else " misaligned") + ("" if field.affine else " not affine")
