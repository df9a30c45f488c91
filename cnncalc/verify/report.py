"""Render a verification: ✓/✗ per layer and check, the failures in full, and one summary line."""
from __future__ import annotations

import json
from collections import defaultdict

from ..layers.registry import format_shape
from ..output.columns import Column, layout, needed, wrap


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


# Each per-layer figure's column title, and the short one that fits 80 columns (a legend then says it)
TITLES = {"output_shape": ("shape", "shape"), "params": ("params", "prm"), "buffers": ("buffers", "bufs"),
          "activations": ("activations", "acts"), "torch ops": ("torch", "torch"), "fvcore ops": ("fvcore", "fvc"),
          "torchinfo ops": ("torchinfo", "tinfo"), "ptflops ops": ("ptflops", "ptfl"), "thop ops": ("thop", "thop"),
          "receptive field": ("receptive field", "RF"), "torchvision shape": ("torchvision shape", "tv")}
TOTAL_COLUMNS = [Column(key="figure", title="totals", right=False), Column(key="cnncalc", title="cnncalc", right=True),
                 Column(key="measured", title="measured", right=True), Column(key="verdict", title="", right=False)]


def render_table(result, width: int | None = None) -> str:
    """The verdict table, fitted to `width` (None: the table's natural width, for files and pipes):
    every figure keeps its column; short titles and a legend where the full ones do not fit."""
    by_layer = defaultdict(dict)
    for check in result.checks:
        by_layer[check.layer][check.figure] = check
    figures = list(dict.fromkeys(c.figure for c in result.checks if c.layer != "total"))
    rows = [[layer, *(_mark(checks.get(f)) for f in figures)] for layer, checks in by_layer.items() if layer != "total"]
    columns = _columns(figures, short=False)
    legend = []
    if width is not None and needed(columns, rows) > width:
        columns = _columns(figures, short=True)
        legend = _legend([f"{TITLES[f][1]} = {f}" for f in figures if TITLES[f][1] != TITLES[f][0]], width)
    totals = [[check.figure, _shown(check)(check.expected), _shown(check)(check.measured), _mark(check)]
              for check in by_layer["total"].values()]
    totals += [[item.figure, f"{item.predicted:,} B", f"{item.measured:,} B",
                f"{'✓' if item.ok else '✗'} {item.ratio:.3f}"] for item in result.memory]
    lines = [f"measured: {result.subject}", *layout(columns, rows, width), *legend, "",
             *layout(TOTAL_COLUMNS, totals, width), *wrap([_failure(check) for check in result.failed], width),
             *wrap([f"note: {note}" for note in result.notes], width), summary_line(result)]
    return "".join(line.rstrip() + "\n" for line in lines)


def _legend(items: list[str], width: int) -> list[str]:
    """The short titles' meanings, as few lines as fit, never one cut in two."""
    lines: list[str] = []
    for item in items:
        if lines and len(lines[-1]) + len(item) + 2 <= width:
            lines[-1] += f", {item}"
        else:
            lines.append(item)
    return lines


def _columns(figures: list[str], short: bool) -> list[Column]:
    """A column per figure, its ✓ or ✗ centred under the title."""
    return [Column(key="layer", title="Layer", right=False)] + [
        Column(key=figure, title=TITLES[figure][short], right=False, centred=True) for figure in figures]


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
