"""A summary as a notebook shows it: the module tree, each block folded (HTML <details>, no script)
under a row of its summed figures, every layer's shape (with the batch), parameters, MACs and memory,
then every total, memory and training included; the HTML report's look, self-contained."""
from __future__ import annotations


from ..figures.memory import Memory
from ..figures.report import UNCOUNTED, LayerFigures, Report
from ..layers.registry import format_shape
from .escape import html as escape
from .render import short_name
from .units import human

STYLE = """<style>
.cnncalc { --ink: #1f2328; --muted: #656d76; --line: #d0d7de; --pane: #f6f8fa;
           font: 13px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--ink); }
.cnncalc .row { display: grid; grid-template-columns: minmax(14em, 2fr) minmax(8em, 1fr) 10em 8em 10em 7em;
                gap: 0 10px; padding: 1px 4px; border-bottom: 1px solid var(--pane); }
.cnncalc .head { font-weight: 600; border-bottom: 1px solid var(--line); }
.cnncalc .num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.cnncalc .muted { color: var(--muted); }
.cnncalc details > summary { list-style: none; cursor: pointer; }
.cnncalc details > summary::-webkit-details-marker { display: none; }
.cnncalc details > summary .name::before { content: "▸ "; color: var(--muted); }
.cnncalc details[open] > summary .name::before { content: "▾ "; }
.cnncalc details[open] > summary { background: var(--pane); }
.cnncalc .totals { margin-top: 8px; border-collapse: collapse; font: inherit; }
.cnncalc .totals td { padding: 1px 12px 1px 4px; text-align: left; }
</style>"""
COLUMNS = ("Layer", "Kind", "Output", "Params", "MACs", "Memory")


def render_notebook(report: Report, memory: Memory, blocks: dict[str, LayerFigures]) -> str:
    """`blocks`: each block's summed row by name (figures/report.py: block_rows)."""
    head = _row(COLUMNS, "head")
    return (f'<div class="cnncalc">{STYLE}<div><b>{escape(report.model)}</b> <span class="muted">'
            f'{report.batch}×{format_shape(report.input_shape)}, {report.dtype}</span></div>'
            f"{head}{_tree(report, blocks)}{_totals(report, memory)}</div>")


def _tree(report: Report, blocks: dict[str, LayerFigures]) -> str:
    """The rows, each block a <details> whose summary is its summed row, closed."""
    parts, open_scopes = [], []
    for row in report.layers:
        names = [scope.name for scope in row.scopes]
        while open_scopes and open_scopes[-1] not in names:
            open_scopes.pop()
            parts.append("</details>")
        for depth, scope in enumerate(row.scopes):
            if scope.name not in open_scopes:
                open_scopes.append(scope.name)
                block = blocks[scope.name]
                summary = _layer(block, depth, short_name(block), report.batch)
                parts.append(f"<details><summary>{summary}</summary>")
        parts.append(_layer(row, len(row.scopes), short_name(row), report.batch))
    parts += ["</details>"] * len(open_scopes)
    return "".join(parts)


def _layer(row: LayerFigures, depth: int, name: str, batch: int) -> str:
    shape = f"{batch}×{format_shape(row.output_shape)}"  # with the batch, as torchinfo shows it
    macs = "?" if row.kind == UNCOUNTED else f"{row.macs:,}" if row.macs else "–"
    stored = human(row.activation_bytes, "B") if row.allocates else "(shared)"
    cells = (name, row.kind, shape, f"{row.params:,}" if row.params else "–", macs, stored)
    return _row(cells, "", indent=depth)


def _row(cells, cls: str, indent: int = 0) -> str:
    name, kind, *numbers = (escape(str(cell)) for cell in cells)
    style = f' style="padding-left:{indent * 1.2:.1f}em"' if indent else ""
    return (f'<div class="row {cls}"><span class="name"{style}>{name}</span><span class="muted">{kind}</span>'
            + "".join(f'<span class="num">{number}</span>' for number in numbers) + "</div>")


def _totals(report: Report, memory: Memory) -> str:
    t = report.totals
    lines = [("input", f"{report.batch}×{format_shape(report.input_shape)}, {report.dtype}", ""),
             ("parameters", f"{t.params:,}", f"{t.trainable_params:,} trainable"),
             ("buffers", f"{t.buffers:,}", ""),
             ("parameter memory", f"{t.param_bytes:,} B", human(t.param_bytes, "B")),
             ("activations", f"{t.activations:,}", human(t.activation_bytes, "B")),
             ("MACs", f"{t.macs:,}", human(t.macs)), ("FLOPs", f"{t.flops:,}", human(t.flops)),
             ("peak inference", f"{memory.peak_inference_bytes:,} B", human(memory.peak_inference_bytes, "B")),
             (f"training step ({memory.optimizer})", f"{memory.training_bytes:,} B", human(memory.training_bytes, "B")),
             ("gradients, optimizer state", f"{memory.gradient_bytes:,} B, {memory.optimizer_bytes:,} B", ""),
             ("saved for backward", f"{memory.saved_bytes:,} B", human(memory.saved_bytes, "B"))]
    if report.not_run:
        lines.append(("held apart", f"{sum(n.params for n in report.not_run):,} parameters",
                      ", ".join(f"{n.name} ({n.why})" for n in report.not_run[:3])))
    if t.uncounted:
        lines.append(("not counted", f"{len(t.uncounted)} operations",
                      ", ".join(t.uncounted[:3]) + ": MACs, FLOPs and memory are lower bounds"))
    rows = "".join(f'<tr><td>{escape(key)}</td><td class="num">{escape(value)}</td><td class="muted">{escape(note)}'
                   "</td></tr>" for key, value, note in lines)
    return f'<table class="totals">{rows}</table>'
