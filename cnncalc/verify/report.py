"""Render a verification: ✓/✗ per layer and check, the failures in full, and one summary line."""
from __future__ import annotations

import io
import json
from collections import defaultdict

from ..layers.registry import format_shape


def _value(value):
    return list(value) if isinstance(value, tuple) else value


def to_dict(result) -> dict:
    return {
        "model": result.model, "device": result.device, "input": list(result.input_shape),
        "batch": result.batch, "dtype": result.dtype, "measured": result.subject, "peers": list(result.peers),
        "checks": [{"layer": c.layer, "figure": c.figure, "cnncalc": _value(c.expected),
                    "measured": _value(c.measured), "ok": c.ok, **({"formula": c.formula} if c.formula else {})}
                   for c in result.checks],
        "memory": [m.as_dict() for m in result.memory],
        **({"notes": list(result.notes)} if result.notes else {}),
        "summary": {"checks": result.count, "passed": result.count - len(result.failed),
                    "failed": len(result.failed)},
    }


def summary_line(result) -> str:
    failed = len(result.failed)
    verdict = f"{result.count - failed} passed" + (f", {failed} failed" if failed else "")
    return f"{result.model} on {result.device}: {result.count} checks, {verdict}"


def render_json(result) -> str:
    return json.dumps(to_dict(result), indent=2) + "\n"


def render_table(result, width: int | None = None) -> str:
    """The verdict table, fitted to `width` (None: the table's natural width, for files and pipes)."""
    from rich.console import Console
    from rich.table import Table

    by_layer = defaultdict(dict)
    for check in result.checks:
        by_layer[check.layer][check.figure] = check
    figures = list(dict.fromkeys(c.figure for c in result.checks if c.layer != "total"))
    table = Table(box=None, header_style="bold", pad_edge=False)
    table.add_column("Layer", overflow="fold", min_width=20)
    for figure in figures:
        table.add_column(figure.replace("output_shape", "shape").replace(" ops", ""), justify="center")
    for layer, checks in by_layer.items():
        if layer != "total":
            table.add_row(layer, *(_mark(checks.get(f)) for f in figures))
    totals = Table(box=None, header_style="bold", pad_edge=False, title="totals", title_justify="left")
    for title, justify in (("figure", "left"), ("cnncalc", "right"), ("measured", "right"), ("", "center")):
        totals.add_column(title, justify=justify)
    for check in by_layer["total"].values():
        show = _shown(check)
        totals.add_row(check.figure, show(check.expected), show(check.measured), _mark(check))
    for item in result.memory:
        totals.add_row(item.figure, f"{item.predicted:,} B", f"{item.measured:,} B",
                       f"{'✓' if item.ok else '✗'} {item.ratio:.3f}")
    # markup=False: a layer named [link=…] or [/x] is text, never rich markup
    console = Console(file=io.StringIO(), width=width or NATURAL, color_system=None, highlight=False, markup=False)
    console.print(f"measured: {result.subject}")
    console.print(table)
    console.print(totals)
    for check in result.failed:
        console.print(_failure(check), soft_wrap=True)
    for note in result.notes:
        console.print(f"note: {note}", soft_wrap=True)
    console.print(summary_line(result))
    return "".join(line.rstrip() + "\n" for line in console.file.getvalue().splitlines())


NATURAL = 1000  # wide enough that rich lays a table out at its own width


def _mark(check) -> str:
    return "" if check is None else ("✓" if check.ok else "✗")


def _shown(check):
    """How a check's figures read: a shape as 3×224×224, a count with commas, a receptive field's intervals as is."""
    return format_shape if check.figure == "output_shape" else "{:,}".format if isinstance(check.expected, int) \
        else str


def _failure(check) -> str:
    if hasattr(check, "ratio"):
        return f"✗ {check.figure}: predicted {check.predicted:,} B, measured {check.measured:,} B (ratio {check.ratio:.3f})"
    show = _shown(check)
    line = f"✗ {check.layer}: {check.figure}: cnncalc {show(check.expected)}, measured {show(check.measured)}"
    return line + (f" [{check.formula}]" if check.formula else "")
