"""`cnncalc.summary(...)`: a model's figures from Python, as `cnncalc table` prints them."""
from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .collector import collected_after
from .figures.amp import Amp, parse_amp
from .figures.checkpoint import parse_names
from .figures.conventions import DEFAULT
from .figures.held import Held
from .figures.memory import Memory, memory
from .figures.report import Report, Totals, analyze, collapse
from .errors import SpecError, SpecErrors, quoted
from .graph import ID_DTYPE_BYTES, Graph, OtherInput, parse_input, too_large

if TYPE_CHECKING:
    from .figures.fit import Fit


@dataclass(frozen=True, kw_only=True)
class Source:
    """The model as `summary` was given it, to be loaded again by `verify`."""
    model: Any
    params: dict | None
    input_shape: tuple[int, ...] | None
    input_dtype: str | None
    others: tuple[OtherInput, ...] = ()


@dataclass(frozen=True)
class Summary:
    """A model's figures: `totals.params` and friends, the rows in `layers`, the memory model's
    figures in `memory`; `to_dict()` is `--format json`; `fits("24GiB")` is `cnncalc fit`; `verify()`
    checks them against torch. Printed, it is the table; in Jupyter too."""
    report: Report
    memory: Memory
    graph: Graph | None = None  # what `fits` analyses again at other batches
    source: Source | None = field(default=None, repr=False, compare=False)

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
        return Summary(report=collapse(self.report, depth), memory=self.memory, graph=self.graph,
                       source=self.source)

    def fits(self, memory: str | int, *, optimizer: str | None = None, accumulate: int = 1,
             checkpoint: Any = None) -> Fit:
        """The largest training batch (a micro-batch, with `accumulate`) and inference batch within
        MEMORY: "24GiB", "24GB", a GPU ("h100", "a100-80gb", "t4"...) or a number of bytes; in this
        summary's dtype, with its optimizer and checkpointed blocks unless `optimizer` or `checkpoint`
        names others."""
        from .figures.devices import Budget, memory_budget
        from .figures.fit import fit

        if self.graph is None:
            raise SpecError("this summary holds no graph to fit: make it with cnncalc.summary(...)")
        if isinstance(memory, int) and not isinstance(memory, bool):
            budget = Budget(bytes=_whole_number("memory", memory, at_least=1), label=f"{memory:,} B")
        else:
            budget = memory_budget(memory)
        names = self.memory.checkpoint if checkpoint is None else parse_names(checkpoint)
        return fit(self.graph, budget, optimizer or self.memory.optimizer, self.report.dtype,
                   _whole_number("accumulate", accumulate, at_least=1), names, self.report.amp)


    def verify(self, *, device: str | None = None, optimizer: str | None = "adam"):
        """Run the model in PyTorch at this summary's batch and dtype and check its figures against torch
        and the peer tools (a verify.verdict.Verification; printed, `cnncalc verify`'s table). A PyTorch
        model is measured itself (an nn.Module as given, on its own device unless `device` says, and given
        back as it was), a spec through a model built from it; `optimizer` names the training step whose
        memory is measured (None: none)."""
        from .model import load_target
        from .verify import require_torch

        if self.source is None:
            raise SpecError("this summary was not made by cnncalc.summary(): it has no model to verify")
        require_torch()
        from .verify.run import verify

        source = self.source
        target = load_target(source.model, source.params, source.input_shape, source.input_dtype,
                             source.others)
        return verify(target.graph, device or _device_of(target.module), self.report.batch, self.report.dtype,
                      optimizer=optimizer, module=target.module, checkpoint=self.memory.checkpoint,
                      amp=self.report.amp)


@dataclass(frozen=True, kw_only=True)
class Holdings(Held):
    """A model given no input: its parameters and buffers by module (`rows`) and their totals, as
    torchinfo shows such a model. Printed, the table; in Jupyter too. Shapes, MACs and memory need an
    input."""

    def __str__(self) -> str:
        from .output.holdings import render_holdings

        return render_holdings(self, None)

    def __repr__(self) -> str:
        from .output.units import human

        return (f"<cnncalc parameters of {self.model}: {self.params:,} params, "
                f"{human(self.param_bytes, 'B')}; no input given>")

    def _repr_html_(self) -> str:
        from .output.holdings import render_holdings_html

        return render_holdings_html(self)


def _device_of(module: Any) -> str:
    """Where a module's parameters are (the CPU for a spec's model, or a module that holds none)."""
    first = next(iter(module.parameters()), None) if module is not None else None
    return str(first.device) if first is not None else "cpu"


def figures(graph: Graph, batch: int = 1, dtype: str | None = None, convention: str = DEFAULT,
            optimizer: str = "adam", explain: bool = False, checkpoint: tuple[str, ...] = (),
            amp: Amp | None = None) -> Summary:
    """Every figure of a graph: the analysis and the memory model; the blocks and layers `checkpoint`
    names run through torch.utils.checkpoint; under torch.autocast where `amp` says."""
    with collected_after():
        report = analyze(graph, batch, dtype, explain, convention, checkpoint, amp)
        return Summary(report=report, memory=memory(graph, report, optimizer), graph=graph)


def summary(model: Any, input_size: Any = None, *, batch: int = 1, dtype: str | None = None,
            convention: str = DEFAULT, optimizer: str = "adam", depth: int | None = None,
            params: dict | None = None, input_dtype: Any = None, checkpoint: Any = None,
            amp: str | None = None) -> Summary | Holdings:
    """The figures of MODEL: an nn.Module object, a zoo name, a spec path, `path/model.py:Class`,
    `torchvision:NAME` or `timm:NAME`. `input_size` is the per-sample shape, (3, 224, 224) or
    "3x224x224" (needed for a module, else the spec's or the library's), or each input's by name in
    forward()'s order ({"x": (3, 224, 224), "mask": "1x224x224"}); `input_dtype` what the input
    holds ("int64" or torch.int64 for token ids, "128:int64" says both); `params` sets a spec's
    parameters or a model's constructor arguments; `checkpoint` the blocks or layers (names or globs,
    ["layer*"], or "layer1,layer2") run through torch.utils.checkpoint in training; `amp` the dtype
    torch.autocast runs it in ("float16", "bfloat16" by CUDA's op lists, "cpu:bfloat16" by the CPU's). A spec or zoo name
    never imports torch. A module or class given no input gets its parameter table (Holdings), as
    torchinfo gives one."""
    from .model import is_pytorch, load_graph

    first, *rest = input_size.items() if isinstance(input_size, dict) and input_size else [(None, input_size)]
    shape, given_dtype = _shape(first[1])
    others = tuple(OtherInput(name=str(name), shape=size, dtype=held)
                   for name, (size, held) in ((name, _shape(value)) for name, value in rest))
    if shape is None and is_pytorch(model) and not _has_input(model):
        return _held(model, params, depth)
    input_dtype = _input_dtype(input_dtype) or given_dtype
    batch = _whole_number("batch", batch, at_least=1)
    depth = None if depth is None else _whole_number("depth", depth, at_least=1)
    try:
        result = replace(figures(load_graph(model, params, shape, input_dtype, others), batch, dtype, convention,
                                 optimizer, checkpoint=parse_names(checkpoint), amp=parse_amp(amp)),
                         source=Source(model=model, params=params, input_shape=shape, input_dtype=input_dtype,
                                       others=others))
    except SpecError as error:
        if not is_pytorch(model) or shape is None or len(shape) < 2 or shape[0] != 1:
            raise
        raise _with_batch_hint(error, shape) from None
    return result.collapsed(depth) if depth is not None else result


def _has_input(model: Any) -> bool:
    """Whether a PyTorch model states its input (a library's builder does; a module or a class does not)."""
    from .model_reference import model_reference

    reference = model_reference(str(model)) if isinstance(model, (str, Path)) else None
    return reference is not None and reference.in_library


def _held(model: Any, params: dict | None, depth: int | None) -> Holdings:
    """A module given no input: what it holds by module, as torchinfo shows a model without input_size."""
    from .model_reference import model_reference

    reference = model_reference(str(model)) if isinstance(model, (str, Path)) else None
    if reference is not None and not reference.in_library:  # a model file: run in a child process
        held = _held_in_child(str(model), params, reference.source)
    else:
        from .verify import require_torch

        require_torch()
        from .importing.held import held_by
        from .importing.libraries import load_module

        loaded = load_module(str(model), params or {}) if isinstance(model, (str, Path)) else None
        held = held_by(loaded.module, loaded.name) if loaded else held_by(model, type(model).__name__)
    held = held.collapsed(_whole_number("depth", depth, at_least=1)) if depth is not None else held
    return Holdings(**vars(held))


def _held_in_child(model: str, params: dict | None, source: str) -> Held:
    """What a model file's class holds, read in a child process (isolation.py) and given back as data."""
    from .figures.held import HeldRow
    from .isolation import run_isolated

    answer = run_isolated("held", {"reference": model, "params": params or {}}, source, what="the model file")
    try:
        numbers = ("params", "trainable_params", "buffers")
        rows = tuple(HeldRow(name=str(row["name"]), module=str(row["module"]), depth=_count(row["depth"]),
                             **{key: _count(row[key]) for key in numbers}) for row in answer["rows"])
        return Held(model=str(answer["model"]), rows=rows, param_bytes=_count(answer["param_bytes"]),
                    **{key: _count(answer[key]) for key in numbers})
    except (KeyError, TypeError, ValueError):
        raise SpecError("the model file gave cnncalc an answer it cannot read", source) from None


def _count(value: Any) -> int:
    if type(value) is not int or value < 0:
        raise ValueError(value)
    return value


def _with_batch_hint(error: SpecError, shape: tuple[int, ...]) -> SpecError:
    """A torchinfo habit, input_size=(1, 3, 224, 224), read as a 4-d sample: the error says so."""
    hint = f"; input_size is per sample: if 1 is the batch, as torchinfo counts it, give input_size={shape[1:]}"
    if isinstance(error, SpecErrors):  # said once, on the first
        return SpecErrors([_with_batch_hint(error.errors[0], shape), *error.errors[1:]])
    return SpecError(error.message + hint, error.file, error.line, error.layer, error.detail)


def _shape(input_size: Any) -> tuple[tuple[int, ...] | None, str | None]:
    """None, "3x224x224" ("128:int64" with its dtype) or a sequence of whole sizes; anything else names
    the argument."""
    if input_size is None:
        return None, None
    if isinstance(input_size, str):
        return parse_input(input_size)
    if not isinstance(input_size, (tuple, list)) or not input_size:
        raise SpecError(f"input_size is a per-sample shape like (3, 224, 224) or \"3x224x224\", got {input_size!r:.60}")
    shape = tuple(_whole_number("each size of input_size", size, at_least=1) for size in input_size)
    if too_large(shape):
        raise SpecError(f"input_size {quoted(shape)} has more than 2^63 - 1 elements, more than torch can hold")
    return shape, None


def _input_dtype(value: Any) -> str | None:
    """"int64" or torch.int64 (torchinfo's dtypes=[torch.long]) as cnncalc names it: what the input
    holds instead of floating values in the model's dtype."""
    if value is None:
        return None
    name = str(value).removeprefix("torch.")
    if name not in ID_DTYPE_BYTES:
        raise SpecError(f"input_dtype must be one of {', '.join(ID_DTYPE_BYTES)}, got {quoted(value)}")
    return name


def _whole_number(name: str, value: Any, at_least: int) -> int:
    """An argument that is a whole number (an int, or a float like 8.0) as an int, else an error naming it."""
    whole = isinstance(value, int) or isinstance(value, float) and value.is_integer()
    if isinstance(value, bool) or not whole or value < at_least:
        raise SpecError(f"{name} must be a whole number ≥ {at_least}, got {value!r:.60}")
    return int(value)
