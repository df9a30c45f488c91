"""`cnncalc plot` and `sweep --plot`: pictures, with matplotlib as the optional `plot` extra."""
from __future__ import annotations

import atexit
import io
import os
import shutil
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path

from ..errors import SpecError
from ..figures.report import Report, collapse
from .escape import html
from .files import write_file
from .units import PREFIXES

MAX_ROWS = 60  # beyond this, blocks are drawn as one bar each so names stay readable
STYLE = {"svg.fonttype": "none",  # SVG text stays text: searchable, selectable, smaller
         "text.parse_math": False}  # a name holding $ is text, never mathtext ($\frac{$ would not parse)


def _import_matplotlib():
    """Import matplotlib as nothing in the working folder or the home folder can change: from a fresh
    temporary folder that is also its MPLCONFIGDIR (unless one is set), so it reads no matplotlibrc
    planted in the working folder and writes its font cache nowhere that outlives the run."""
    if "matplotlib" in sys.modules:
        return
    folder = tempfile.mkdtemp(prefix="cnncalc-matplotlib-")
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    os.environ.setdefault("MPLCONFIGDIR", folder)
    working = os.getcwd()
    os.chdir(folder)
    try:
        import matplotlib  # noqa: F401  (reads ./matplotlibrc, now the empty folder's)
    finally:
        os.chdir(working)


def _pyplot():
    try:
        _import_matplotlib()
    except ImportError:
        raise SpecError("plotting needs matplotlib: pip install 'cnncalc[plot]'") from None
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


@contextmanager
def _style():
    """matplotlib's own defaults and cnncalc's style while drawing, whatever rcParams held before (a
    matplotlibrc asking for text.usetex runs latex); the caller's rcParams come back afterwards."""
    import matplotlib

    with matplotlib.rc_context():
        matplotlib.rcdefaults()
        matplotlib.rcParams.update(STYLE)
        yield


def tick_label(value: float, unit: str = "") -> str:
    """2500000 → '2.5 M': the tables' K/M/G prefixes instead of matplotlib's 1e6 offset."""
    for factor, prefix in PREFIXES:
        if abs(value) >= factor:
            return f"{value / factor:g} {prefix}{unit}"
    return f"{value:g} {unit}".rstrip()


def _in_units(axis, unit: str = "") -> None:
    from matplotlib.ticker import FuncFormatter
    axis.set_major_formatter(FuncFormatter(lambda value, _: tick_label(value, unit)))


def _require_suffix(output: Path) -> str:
    suffix = output.suffix.lower()
    if suffix not in (".png", ".svg", ".html"):
        raise SpecError(f"-o must end in .png, .svg or .html, got '{output.name[:80]}'")
    return suffix


def _save(figure, output: Path) -> None:
    """The picture drawn in memory, then written whole (output/files.py)."""
    if _require_suffix(output) == ".html":
        buffer = io.StringIO()
        figure.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
        write_file(f"<!doctype html>\n<meta charset='utf-8'>\n<title>{html(output.stem)}</title>\n"
                   f"{buffer.getvalue()}\n", output)
    else:
        buffer = io.BytesIO()
        figure.savefig(buffer, format=output.suffix.lower()[1:], dpi=110, bbox_inches="tight")
        write_file(buffer.getvalue(), output)


def plot_layers(report: Report, output: Path) -> int:
    """Per-layer bars of parameters, MACs and activation memory in one figure; returns rows drawn."""
    _require_suffix(output)
    plt = _pyplot()
    for depth in (None, 3, 2, 1):
        rows = (collapse(report, depth) if depth else report).node_rows
        if len(rows) <= MAX_ROWS:
            break
    height = max(3.0, 0.22 * len(rows) + 1.2)
    with _style():
        figure, axes = plt.subplots(1, 3, sharey=True, figsize=(13, height))
        try:
            for axis, (title, unit, values) in zip(axes, (
                    ("parameters", "", [row.params for row in rows]), ("MACs", "", [row.macs for row in rows]),
                    ("activation memory", "B", [row.activation_bytes if row.allocates else 0 for row in rows]))):
                axis.barh(range(len(rows)), values, color="#4c72b0")
                axis.set_title(title, fontsize=10)
                _in_units(axis.xaxis, unit)
                axis.grid(axis="x", alpha=0.3)
            axes[0].set_yticks(range(len(rows)), [row.name for row in rows], fontsize=7)
            axes[0].invert_yaxis()
            figure.suptitle(f"{report.model}: {report.totals.params:,} parameters, {report.totals.macs:,} MACs",
                            fontsize=11)
            figure.tight_layout()
            _save(figure, output)
        finally:
            plt.close(figure)
    return len(rows)


def plot_sweep(points: list, output: Path, model: str) -> None:
    _require_suffix(output)
    plt = _pyplot()
    with _style():
        figure, axes = plt.subplots(1, 3, figsize=(13, 3.6))
        try:
            for batch in sorted({p.batch for p in points}):
                valid = [p for p in points if p.batch == batch and p.valid]
                sizes = [p.size for p in valid]
                for axis, (title, unit, values) in zip(axes, (
                        ("MACs", "", [p.macs for p in valid]),
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
        finally:
            plt.close(figure)
