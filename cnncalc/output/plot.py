"""`cnncalc plot` and `sweep --plot`: pictures, with matplotlib as the optional `plot` extra."""
from __future__ import annotations

from pathlib import Path

from ..errors import SpecError
from ..figures.report import Report, collapse
from .units import PREFIXES

MAX_ROWS = 60  # beyond this, blocks are drawn as one bar each so names stay readable


def _pyplot():
    try:
        import matplotlib
    except ImportError:
        raise SpecError("plotting needs matplotlib: pip install 'cnncalc[plot]'") from None
    matplotlib.use("Agg")
    matplotlib.rcParams["svg.fonttype"] = "none"  # SVG text stays text: searchable, selectable, smaller
    import matplotlib.pyplot as plt
    return plt


def tick_label(value: float, unit: str = "") -> str:
    """2500000 → '2.5 M': the tables' K/M/G prefixes instead of matplotlib's 1e6 offset."""
    for factor, prefix in PREFIXES:
        if abs(value) >= factor:
            return f"{value / factor:g} {prefix}{unit}"
    return f"{value:g} {unit}".rstrip()


def _in_units(axis, unit: str = "") -> None:
    from matplotlib.ticker import FuncFormatter
    axis.set_major_formatter(FuncFormatter(lambda value, _: tick_label(value, unit)))


def _save(figure, output: Path) -> None:
    suffix = output.suffix.lower()
    if suffix not in (".png", ".svg", ".html"):
        raise SpecError(f"-o must end in .png, .svg or .html, got '{output.name}'")
    if suffix == ".html":
        import io
        buffer = io.StringIO()
        figure.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
        text = f"<!doctype html>\n<meta charset='utf-8'>\n<title>{output.stem}</title>\n{buffer.getvalue()}\n"
        output.write_text(text, encoding="utf-8")
    else:
        figure.savefig(output, dpi=110, bbox_inches="tight")


def plot_layers(report: Report, output: Path) -> int:
    """Per-layer bars of parameters, MACs and activation memory in one figure; returns rows drawn."""
    plt = _pyplot()
    for depth in (None, 3, 2, 1):
        rows = (collapse(report, depth) if depth else report).layers[1:]
        if len(rows) <= MAX_ROWS:
            break
    names = [row.name for row in rows]
    height = max(3.0, 0.22 * len(rows) + 1.2)
    figure, axes = plt.subplots(1, 3, sharey=True, figsize=(13, height))
    for axis, (title, unit, values) in zip(axes, (
            ("parameters", "", [row.params for row in rows]), ("MACs", "", [row.macs for row in rows]),
            ("activation memory", "B", [row.activation_bytes if row.allocates else 0 for row in rows]))):
        axis.barh(range(len(rows)), values, color="#4c72b0")
        axis.set_title(title, fontsize=10)
        _in_units(axis.xaxis, unit)
        axis.grid(axis="x", alpha=0.3)
    axes[0].set_yticks(range(len(rows)), names, fontsize=7)
    axes[0].invert_yaxis()
    figure.suptitle(f"{report.model}: {report.totals.params:,} parameters, {report.totals.macs:,} MACs", fontsize=11)
    figure.tight_layout()
    _save(figure, output)
    plt.close(figure)
    return len(rows)


def plot_sweep(points: list, output: Path, model: str) -> None:
    plt = _pyplot()
    figure, axes = plt.subplots(1, 3, figsize=(13, 3.6))
    for batch in sorted({p.batch for p in points}):
        valid = [p for p in points if p.batch == batch and p.valid]
        sizes = [p.size for p in valid]
        for axis, (title, unit, values) in zip(axes, (("MACs", "", [p.macs for p in valid]),
                                                      ("activation memory", "B", [p.activation_bytes for p in valid]),
                                                      ("peak inference memory", "B", [p.peak_bytes for p in valid]))):
            axis.plot(sizes, values, marker=".", label=f"batch {batch}")
            axis.set_title(title, fontsize=10)
            _in_units(axis.yaxis, unit)
            axis.set_xlabel("input size")
            axis.grid(alpha=0.3)
    invalid = sorted({p.size for p in points if not p.valid})
    if invalid:
        for axis in axes:
            axis.plot(invalid, [0] * len(invalid), "x", color="#c44e52", label="invalid")
    axes[0].legend(fontsize=8)
    figure.suptitle(f"{model}: cost against input size", fontsize=11)
    figure.tight_layout()
    _save(figure, output)
    plt.close(figure)
