"""`cnncalc.summary(...)`: a model's figures from Python, as `cnncalc table` prints them."""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from .figures.conventions import DEFAULT
from .figures.memory import Memory, memory
from .figures.report import Report, Totals, analyze, collapse
from .errors import SpecError, SpecErrors, quoted
from .graph import Graph, parse_shape, too_large


@dataclass(frozen=True)
class Summary:
    """A model's figures: `totals.params` and friends, the rows in `layers`, the memory model's
    figures in `memory`; `to_dict()` is `--format json`. Printed, it is the table; in Jupyter too."""
    report: Report
    memory: Memory

    @property
    def totals(self) -> Totals:
        return self.report.totals

    @property
    def layers(self) -> tuple:
        return self.report.layers

    def to_dict(self) -> dict:
        from .output.render import render_json

        return json.loads(render_json(self.report, self.memory))

    def __str__(self) -> str:
        from .output.render import render_table

        return render_table(self.report, None, self.memory)

    def __repr__(self) -> str:
        """One line: the model, its input, parameters, MACs and peak inference memory."""
        from .output.units import human

        t, report = self.totals, self.report
        shape = "×".join(map(str, report.input_shape))
        return (f"<cnncalc summary of {report.model}: input {report.batch}×{shape} {report.dtype}, "
                f"{t.params:,} params, {human(t.macs)} MACs, peak {human(self.memory.peak_inference_bytes, 'B')}>")

    def _repr_html_(self) -> str:
        from .figures.report import block_rows
        from .output.notebook import render_notebook

        return render_notebook(self.report, self.memory, block_rows(self.report))

    def collapsed(self, depth: int) -> "Summary":
        """Blocks nested deeper than `depth` as one row each, as `--depth` shows them."""
        return Summary(report=collapse(self.report, depth), memory=self.memory)


def figures(graph: Graph, batch: int = 1, dtype: str | None = None, convention: str = DEFAULT,
            optimizer: str = "adam", explain: bool = False) -> Summary:
    """Every figure of a graph: the analysis and the memory model."""
    report = analyze(graph, batch, dtype, explain, convention)
    return Summary(report=report, memory=memory(graph, report, optimizer))


def summary(model: Any, input_size: Any = None, *, batch: int = 1, dtype: str | None = None,
            convention: str = DEFAULT, optimizer: str = "adam", depth: int | None = None,
            params: dict | None = None) -> Summary:
    """The figures of MODEL: an nn.Module object, a zoo name, a spec path, `path/model.py:Class`,
    `torchvision:NAME` or `timm:NAME`. `input_size` is the per-sample shape, (3, 224, 224) or
    "3x224x224" (needed for a module, else the spec's or the library's); `params` sets a spec's
    parameters or a model's constructor arguments. A spec or zoo name never imports torch."""
    from .model import is_pytorch, load_graph

    shape = _shape(input_size)
    batch = _whole_number("batch", batch, at_least=1)
    depth = None if depth is None else _whole_number("depth", depth, at_least=1)
    try:
        result = figures(load_graph(model, params, shape), batch, dtype, convention, optimizer)
    except SpecError as error:
        if not is_pytorch(model) or shape is None or len(shape) < 2 or shape[0] != 1:
            raise
        raise _with_batch_hint(error, shape) from None
    return result.collapsed(depth) if depth is not None else result


def _with_batch_hint(error: SpecError, shape: tuple[int, ...]) -> SpecError:
    """A torchinfo habit, input_size=(1, 3, 224, 224), read as a 4-d sample: the error says so."""
    hint = f"; input_size is per sample: if 1 is the batch, as torchinfo counts it, give input_size={shape[1:]}"
    if isinstance(error, SpecErrors):  # said once, on the first
        return SpecErrors([_with_batch_hint(error.errors[0], shape), *error.errors[1:]])
    return SpecError(error.message + hint, error.file, error.line, error.layer, error.detail)


def _shape(input_size: Any) -> tuple[int, ...] | None:
    """None, "3x224x224" or a sequence of whole sizes; anything else names the argument."""
    if input_size is None:
        return None
    if isinstance(input_size, str):
        return parse_shape(input_size)
    if not isinstance(input_size, (tuple, list)) or not input_size:
        raise SpecError(f"input_size is a per-sample shape like (3, 224, 224) or \"3x224x224\", got {input_size!r:.60}")
    shape = tuple(_whole_number("each size of input_size", size, at_least=1) for size in input_size)
    if too_large(shape):
        raise SpecError(f"input_size {quoted(shape)} has more than 2^63 - 1 elements, more than torch can hold")
    return shape


def _whole_number(name: str, value: Any, at_least: int) -> int:
    """An argument that is a whole number (an int, or a float like 8.0) as an int, else an error naming it."""
    whole = isinstance(value, int) or isinstance(value, float) and value.is_integer()
    if isinstance(value, bool) or not whole or value < at_least:
        raise SpecError(f"{name} must be a whole number ≥ {at_least}, got {value!r:.60}")
    return int(value)
