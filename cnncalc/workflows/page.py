"""`cnncalc report`: every figure the HTML page shows, computed before it is rendered."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..figures.amp import Amp
from ..figures.conventions import CONVENTIONS, DEFAULT
from ..figures.report import LayerFigures, analyze, block_rows
from ..figures.rf import Field, receptive_fields, unit_interval
from ..graph import Graph
from ..summary import Summary, figures

SOURCE_LIMIT = 1_000_000  # a spec larger than this is named on the page, not embedded


@dataclass(frozen=True)
class Block:
    """A block collapsed into one row (as `--depth` shows it), at its nesting level (1 = outermost)."""
    row: LayerFigures
    level: int
    ops: tuple[int, ...]  # under each convention, in CONVENTIONS' order


@dataclass(frozen=True)
class PageFigures:
    summary: Summary                          # with the --explain arithmetic
    ops: dict[str, tuple[int, ...]]           # per layer, under each convention
    convention_totals: tuple[int, ...]
    blocks: tuple[Block, ...]
    fields: dict[str, Field]
    centre_spans: dict[str, list]             # the input interval the middle unit of each layer sees
    source_text: str | None


def page_figures(graph: Graph, batch: int = 1, dtype: str | None = None, optimizer: str = "adam",
                 checkpoint: tuple[str, ...] = (), amp: Amp | None = None) -> PageFigures:
    """The blocks and layers `checkpoint` names run through torch.utils.checkpoint; under
    torch.autocast where `amp` says (the totals' memory, and each layer's activation bytes)."""
    result = figures(graph, batch, dtype, DEFAULT, optimizer, explain=True, checkpoint=checkpoint, amp=amp)
    counted = [analyze(graph, batch, dtype, False, name) for name in CONVENTIONS]
    ops = {row.name: tuple(r.layers[i].ops for r in counted) for i, row in enumerate(result.layers)}
    fields = receptive_fields(graph, result.report)
    return PageFigures(summary=result, ops=ops, convention_totals=tuple(r.totals.ops for r in counted),
                       blocks=_blocks(result, counted), fields=fields,
                       centre_spans=_centre_spans(graph, result, fields), source_text=_source_text(graph.source))


def _blocks(result: Summary, counted: list) -> tuple[Block, ...]:
    """Every block's summed row (figures/report.py: block_rows), and its operations under each convention."""
    under = [block_rows(report) for report in counted]
    return tuple(Block(row=row, level=len(row.scopes) + 1, ops=tuple(rows[name].ops for rows in under))
                 for name, row in block_rows(result.report).items())


def _centre_spans(graph: Graph, result: Summary, fields: dict[str, Field]) -> dict[str, list]:
    """Per layer with spatial axes, what its middle unit sees: from the affine field where that is
    exact, else walked back through the graph's exact index maps."""
    spatial = len(graph.input_shape)
    spans = {}
    for row in result.layers:
        field = fields.get(row.name)
        if field is None or len(row.output_shape) != spatial or field.global_:
            continue
        middle = tuple(size // 2 for size in row.output_shape[1:])
        if field.affine and field.aligned:
            spans[row.name] = [(int(u * j - p), int(u * j - p + r - 1))
                               for u, r, j, p in zip(middle, field.size, field.stride, field.padding)]
        else:
            spans[row.name] = unit_interval(graph, result.report, row.name, middle)
    return spans


def _source_text(source: str) -> str | None:
    path = Path(source)
    try:
        if path.is_file() and path.stat().st_size <= SOURCE_LIMIT:
            return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        pass
    return None
