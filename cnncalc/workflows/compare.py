"""Figures as the input grows (`sweep`), the input sizes a model takes exactly (`sizes`), and
side-by-side comparison of two models (`diff`)."""
from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, replace
from difflib import SequenceMatcher

from ..errors import SpecError, quoted
from ..figures.memory import peak_inference_bytes
from ..figures.report import analyze, collapse
from ..graph import TORCH_INT_MAX, Graph
from ..spec.limits import Limits, over


@dataclass(frozen=True, kw_only=True)
class Point:
    size: int
    batch: int
    valid: bool
    reason: str = ""                 # why the size is invalid
    dropped: tuple[str, ...] = ()    # layers where flooring leaves input rows unread
    params: int = 0
    macs: int = 0
    activation_bytes: int = 0
    peak_bytes: int = 0


def parse_range(text: str) -> range:
    """START:STOP:STEP (STOP included), or a single size."""
    try:
        parts = [int(p) for p in text.split(":")]
    except ValueError:
        parts = []
    if not 1 <= len(parts) <= 3:
        raise SpecError(f"--sizes takes START:STOP:STEP or one size, got '{text[:80]}'")
    start, stop, step = (parts + [parts[0], 1][len(parts) - 1:])[:3] if len(parts) < 3 else parts
    if start < 1 or stop < start or step < 1:
        raise SpecError(f"--sizes needs 1 ≤ START ≤ STOP and STEP ≥ 1, got '{text[:80]}'")
    if max(stop, step) > TORCH_INT_MAX:  # a size is a tensor's, which torch holds in int64
        raise SpecError(f"--sizes: sizes are at most 2^63 - 1, as torch's are, got '{text[:80]}'")
    return range(start, stop + 1, step)


def at_size(graph: Graph, size: int) -> Graph:
    return graph.with_input((graph.input_shape[0],) + (size,) * (len(graph.input_shape) - 1))


def point(graph: Graph, size: int, batch: int) -> Point:
    sized = at_size(graph, size)
    try:
        report = analyze(sized, batch)
    except SpecError as error:
        return Point(size=size, batch=batch, valid=False,
                     reason=f"{error.layer}: {error.message}" if error.layer else error.message)
    dropped = tuple(row.name for row in report.layers if any(row.dropped))
    return Point(size=size, batch=batch, valid=True, dropped=dropped, params=report.totals.params,
                 macs=report.totals.macs, activation_bytes=report.totals.activation_bytes,
                 peak_bytes=peak_inference_bytes(sized, report))


def sweep(graph: Graph, sizes: range, batches: list[int], *, limits: Limits = Limits()) -> list[Point]:
    """The figures of `graph` at each size and batch; the work bounded by `limits` (sizes, analyses)."""
    if any(not 1 <= batch <= TORCH_INT_MAX for batch in batches):
        raise SpecError(f"--batch sizes must be at least 1 and at most 2^63 - 1, got "
                        f"{quoted(','.join(map(str, batches)))}")
    if len(sizes) * len(batches) > limits.sizes:
        raise SpecError(over(f"{len(sizes) * len(batches):,} analyses asked for, more than {limits.sizes:,}",
                             "sizes"))
    work = len(sizes) * len(batches) * len(graph.nodes)
    if work > limits.analyses:  # each point analyses every layer
        raise SpecError(over(f"{len(sizes) * len(batches):,} points × {len(graph.nodes):,} layers = {work:,} layers "
                             f"to analyse, more than {limits.analyses:,}: ask for fewer sizes", "analyses"))
    return [point(graph, size, batch) for batch in batches for size in sizes]


def exact_sizes(graph: Graph, sizes: range, *, limits: Limits = Limits()) -> tuple[list[int], str]:
    """The sizes that are valid with no row dropped by flooring, and the rule they follow."""
    exact = [p.size for p in sweep(graph, sizes, [1], limits=limits) if p.valid and not p.dropped]
    return exact, _rule(exact, sizes)


def _rule(exact: list[int], sizes: range) -> str:
    if not exact:
        return "no size in this range is exact"
    if exact == list(sizes):
        return "every size in this range"
    # sizes run in steps of one: the only period that can give the second exact size is their distance
    # (one exact size: a period past the last size); it holds if it gives every exact size and no other
    first = exact[0]
    period = exact[1] - first if len(exact) > 1 else sizes[-1] - first + 1
    if [s for s in sizes if s >= first and (s - first) % period == 0] == exact:
        residue = first % period
        kind = f"every multiple of {period}" if residue == 0 else f"every size ≡ {residue} (mod {period})"
        return f"{kind}, from {first}"
    return f"{len(exact)} sizes, no simple period"


@dataclass(frozen=True, kw_only=True)
class Side:
    """One model's figures for a stage, or in total (with its peak memory)."""
    params: int
    macs: int
    activations: int
    peak_bytes: int | None = None


@dataclass(frozen=True, kw_only=True)
class Comparison:
    """A stage (or the totals) on both sides; None where a side has no such stage."""
    label: str
    a: Side | None
    b: Side | None

    @property
    def delta(self) -> dict[str, int]:
        """B − A for each figure both sides have."""
        if self.a is None or self.b is None:
            return {}
        return {key: value - getattr(self.a, key) for key, value in asdict(self.b).items()
                if value is not None and getattr(self.a, key) is not None}


@dataclass(frozen=True, kw_only=True)
class LayerPair:
    """A layer of A and its counterpart in B, with their figures (A's, B's)."""
    a: str
    b: str
    params: tuple[int, int]
    macs: tuple[int, int]
    activations: tuple[int, int]


@dataclass(frozen=True, kw_only=True)
class Diff:
    """Two models side by side: stages, totals, and the layers paired or only on one side."""
    a: str
    b: str
    inputs: tuple[tuple[int, ...], tuple[int, ...]]
    stages: tuple[Comparison, ...]
    totals: Comparison
    pairs: tuple[LayerPair, ...]
    only_in_a: tuple[str, ...]
    only_in_b: tuple[str, ...]


def _side(rows) -> Side:
    return Side(params=sum(r.params for r in rows), macs=sum(r.macs for r in rows),
                activations=sum(r.activations for r in rows if r.allocates))


def align(a: list[tuple], b: list[tuple], level: int = 0) -> list[tuple[int | None, int | None]]:
    """A sequence alignment of two sides' rows, each given as its keys from strictest (name) to
    loosest (kind): rows equal under the strictest key pair first, then, in the stretches between,
    under the next, and so on; what is left is one side's only. Returns index pairs in order, so one
    inserted layer is one unpaired row, not every later row moved."""
    if level == KEYS:
        return [(i, None) for i in range(len(a))] + [(None, j) for j in range(len(b))]
    keys_a, keys_b = [keys[level] for keys in a], [keys[level] for keys in b]
    if _equal_pairs(keys_a, keys_b) > ALIGNED_PAIRS:
        return _ends(a, b, keys_a, keys_b, level)
    matcher = SequenceMatcher(None, keys_a, keys_b, autojunk=False)
    pairs = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            pairs += zip(range(i1, i2), range(j1, j2))
        else:
            pairs += [(None if i is None else i1 + i, None if j is None else j1 + j)
                      for i, j in align(a[i1:i2], b[j1:j2], level + 1)]
    return pairs


# name and kind (the same model at two sizes, or with a layer widened); structure with the shapes
# (a layer renamed by an insertion before it); structure at another size; kind alone
KEYS = 4
# SequenceMatcher weighs every pair of rows with equal keys (two specs of 20,000 relu, sigmoid pairs:
# 8·10^8 of them, minutes): past this many, only the common head and tail are paired at that level
ALIGNED_PAIRS = 1_000_000


def _equal_pairs(keys_a: list, keys_b: list) -> int:
    counts = Counter(keys_b)
    return sum(counts[key] for key in keys_a)


def _ends(a: list[tuple], b: list[tuple], keys_a: list, keys_b: list, level: int) -> list[tuple]:
    """A bounded alignment: the rows equal from the start and from the end are pairs, the middle
    is aligned under the next, looser key."""
    head = next((i for i, (x, y) in enumerate(zip(keys_a, keys_b)) if x != y), min(len(a), len(b)))
    tail = next((i for i, (x, y) in enumerate(zip(reversed(keys_a[head:]), reversed(keys_b[head:]))) if x != y),
                min(len(a), len(b)) - head)
    middle = align(a[head:len(a) - tail], b[head:len(b) - tail], level + 1)
    return ([(i, i) for i in range(head)] + [(None if i is None else head + i, None if j is None else head + j)
                                             for i, j in middle]
            + [(len(a) - tail + i, len(b) - tail + i) for i in range(tail)])


def _layer_keys(row, args: dict) -> tuple:
    structure = (row.kind, args.get(row.name))
    return ((row.name, row.kind), structure + (row.output_shape,), structure, row.kind)


def _stage_keys(row) -> tuple:
    structure = (row.kind, row.params)
    return ((row.name, row.kind), structure + (row.output_shape,), structure, row.kind)


def _label(a, b) -> str:
    if a is None or b is None:
        return f"{(a or b).name} (only in {'A' if b is None else 'B'})"
    return a.name if a.name == b.name else f"{a.name} / {b.name}"


def _paired(rows_a: list, rows_b: list, keys_a: list, keys_b: list) -> list[tuple]:
    return [(None if i is None else rows_a[i], None if j is None else rows_b[j]) for i, j in align(keys_a, keys_b)]


def compare(a: Graph, b: Graph) -> Diff:
    """Per stage (top-level rows) and per layer, paired by name, then by structure; totals with peak memory."""
    reports = [analyze(a), analyze(b)]
    stage_rows = [list(collapse(report, 1).layers) for report in reports]
    stages = _paired(*stage_rows, *([_stage_keys(row) for row in rows] for rows in stage_rows))
    layer_rows = [list(report.node_rows) for report in reports]
    args = [{node.name: node.args for node in graph.nodes} for graph in (a, b)]
    layers = _paired(*layer_rows, *([_layer_keys(row, side) for row in rows] for rows, side in zip(layer_rows, args)))
    totals = [replace(_side(report.layers), peak_bytes=peak_inference_bytes(graph, report))
              for graph, report in zip((a, b), reports)]
    return Diff(a=a.name, b=b.name, inputs=(a.input_shape, b.input_shape),
                stages=tuple(Comparison(label=_label(x, y), a=x and _side([x]), b=y and _side([y])) for x, y in stages),
                totals=Comparison(label="total", a=totals[0], b=totals[1]),
                pairs=tuple(LayerPair(a=x.name, b=y.name, **{key: (getattr(x, key), getattr(y, key)) for key in PAIRED})
                            for x, y in layers if x and y),
                only_in_a=tuple(x.name for x, y in layers if y is None),
                only_in_b=tuple(y.name for x, y in layers if x is None))


PAIRED = ("params", "macs", "activations")  # each pair's figures, A's then B's
