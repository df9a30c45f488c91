"""Figures as the input grows (`sweep`), the input sizes a model takes exactly (`sizes`), and
side-by-side comparison of two models (`diff`)."""
from __future__ import annotations

from dataclasses import dataclass

from ..errors import SpecError
from ..figures.memory import peak_inference_bytes
from ..figures.report import analyze, collapse
from ..graph import Graph
from ..spec import limits
from ..spec.limits import over


@dataclass(frozen=True)
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
        raise SpecError(f"--sizes takes START:STOP:STEP, got '{text}'") from None
    start, stop, step = (parts + [parts[0], 1][len(parts) - 1:])[:3] if len(parts) < 3 else parts
    if start < 1 or stop < start or step < 1:
        raise SpecError(f"--sizes needs 1 ≤ START ≤ STOP and STEP ≥ 1, got '{text}'")
    return range(start, stop + 1, step)


def at_size(graph: Graph, size: int) -> Graph:
    return graph.with_input((graph.input_shape[0],) + (size,) * (len(graph.input_shape) - 1))


def point(graph: Graph, size: int, batch: int) -> Point:
    sized = at_size(graph, size)
    try:
        report = analyze(sized, batch)
    except SpecError as error:
        return Point(size, batch, False, f"{error.layer}: {error.message}" if error.layer else error.message)
    dropped = tuple(row.name for row in report.layers if any(row.dropped))
    return Point(size, batch, True, "", dropped, report.totals.params, report.totals.macs,
                 report.totals.activation_bytes, peak_inference_bytes(sized, report))


def sweep(graph: Graph, sizes: range, batches: list[int]) -> list[Point]:
    if any(batch < 1 for batch in batches):
        raise SpecError(f"--batch sizes must be at least 1, got {','.join(map(str, batches))}")
    if len(sizes) * len(batches) > limits.LIMITS.sizes:
        raise SpecError(over(f"{len(sizes) * len(batches):,} analyses asked for, more than {limits.LIMITS.sizes:,}",
                             "sizes"))
    return [point(graph, size, batch) for batch in batches for size in sizes]


def exact_sizes(graph: Graph, sizes: range) -> tuple[list[int], str]:
    """The sizes that are valid with no row dropped by flooring, and the rule they follow."""
    exact = [p.size for p in sweep(graph, sizes, [1]) if p.valid and not p.dropped]
    return exact, _rule(exact, sizes)


def _rule(exact: list[int], sizes: range) -> str:
    if not exact:
        return "no size in this range is exact"
    if exact == list(sizes):
        return "every size in this range"
    first, chosen = exact[0], set(exact)
    for period in range(1, sizes.stop - sizes.start + 1):
        candidates = [s for s in sizes if s >= first and (s - first) % period == 0]
        if set(candidates) == chosen:
            residue = first % period
            kind = f"every multiple of {period}" if residue == 0 else f"every size ≡ {residue} (mod {period})"
            return f"{kind}, from {first}"
    return f"{len(exact)} sizes, no simple period"


@dataclass(frozen=True)
class Comparison:
    label: str
    a: dict
    b: dict

    @property
    def delta(self) -> dict:
        """B − A for each figure both sides have."""
        return {key: self.b[key] - self.a[key] for key in self.a if key in self.b}


def _figures(rows) -> dict:
    return {"params": sum(r.params for r in rows), "macs": sum(r.macs for r in rows),
            "activations": sum(r.activations for r in rows if r.allocates)}


def compare(a: Graph, b: Graph) -> dict:
    """Per stage (top-level rows), totals with peak memory, and the layers only one side has."""
    reports = [analyze(a), analyze(b)]
    stages = [{row.name: row for row in collapse(report, 1).layers} for report in reports]
    names = list(dict.fromkeys([*stages[0], *stages[1]]))
    rows = [Comparison(name, _figures([stages[0][name]]) if name in stages[0] else {},
                       _figures([stages[1][name]]) if name in stages[1] else {}) for name in names]
    totals = [_figures(report.layers) | {"peak_bytes": peak_inference_bytes(graph, report)}
              for graph, report in zip((a, b), reports)]
    layers = [{row.name for row in report.layers} for report in reports]
    return {"a": a.name, "b": b.name, "inputs": [list(a.input_shape), list(b.input_shape)], "stages": rows,
            "totals": Comparison("total", *totals),
            "removed": [n for n in (row.name for row in reports[0].layers) if n not in layers[1]],
            "added": [n for n in (row.name for row in reports[1].layers) if n not in layers[0]]}
