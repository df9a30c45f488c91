"""The command line: parse options, call the library, print. No logic of its own."""
from __future__ import annotations

import functools
import gc
import inspect
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable, List, Optional

import typer

from .errors import SpecError, SpecErrors, did_you_mean, every_error
from .graph import parse_inputs

if TYPE_CHECKING:
    from .spec.limits import Limits

HELP_OPTIONS = ["-h", "--help"]
app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  context_settings={"help_option_names": HELP_OPTIONS},
                  help="What a convolutional network costs: shapes, parameters, memory, MACs and FLOPs.")

MODEL = typer.Argument(..., help="A zoo name (see `cnncalc list`), a path to a .yaml or .py spec, or a "
                                  "PyTorch model: path/model.py:ClassName (needs --input), torchvision:NAME, "
                                  "timm:NAME, transformers:TYPE, smp:ARCH, diffusers:CLASS, ultralytics:FILE.yaml "
                                  "or handwritten:NAME (built with no weights).")
INPUT = typer.Option([], "--input", help="Per-sample input shape, e.g. 3x256x256; token ids: 128:int64; several "
                                        "inputs by forward()'s names: --input x=3x224x224 --input mask=1x224x224.")
SETTINGS = typer.Option([], "--set", help="Override a spec parameter (or constructor argument): KEY=VALUE.")
OUTPUT = typer.Option(None, "--output", "-o", help="Write to a file instead.")
CHECKPOINT = typer.Option([], "--checkpoint", help="Blocks or layers run through torch.utils.checkpoint (use_reentrant="
                                                   "False) in training: names or globs, comma-separated, e.g. 'layer*' "
                                                   "(--depth shows the blocks' names). Their activations are freed, "
                                                   "their forward run again in backward.")
AMP = typer.Option(None, "--amp", help="Run under torch.autocast: float16 or bfloat16 (CUDA's op lists; cpu:bfloat16 "
                                         "for the CPU's). Activations in the dtype each layer runs in; parameters, "
                                         "gradients and optimizer state float32.")


def show_version(value: bool) -> None:
    if value:
        from . import __version__

        typer.echo(f"cnncalc {__version__}")
        raise typer.Exit()


@app.callback()
def options(ctx: typer.Context, limits: List[str] = typer.Option(
        [], "--limit", help="Raise a bound on what one spec may ask for, for trusted specs: NAME=N "
                            "(layers, nesting, spec_bytes, yaml_nodes, name_chars, expression_chars, "
                            "integer_digits, sequence_length, sizes, analyses; python_seconds and "
                            "python_bytes: a Python spec or model file's child process)."),
            version: bool = typer.Option(False, "--version", callback=show_version, is_eager=True,
                                         help="Print the version and exit.")) -> None:
    """What a convolutional network costs: shapes, parameters, memory, MACs and FLOPs."""
    from .spec.limits import parse_limits

    try:
        ctx.obj = parse_limits(limits)  # the context's object, which `command` hands each command
    except SpecError as error:
        fail(error)


SUFFIX_FORMATS = {".json": "json", ".csv": "csv", ".md": "markdown", ".txt": "table", ".mmd": "mermaid",
                  ".dot": "dot", ".gv": "dot"}


ELSEWHERE = {".html": "cnncalc report writes HTML", ".png": "cnncalc plot draws PNG, SVG and PDF",
             ".svg": "cnncalc plot draws PNG, SVG and PDF", ".pdf": "cnncalc plot draws PNG, SVG and PDF"}


def output_format(fmt: Optional[str], output: Optional[Path], *choices: str) -> str:
    """--format when given; else what -o's suffix names (out.json → json), and a suffix this command
    does not write is refused rather than given other content; else the first choice."""
    if fmt is None and output is not None and output.suffix:
        fmt = SUFFIX_FORMATS.get(output.suffix.lower())
        if fmt not in choices:
            writes = ", ".join(suffix for suffix, name in SUFFIX_FORMATS.items() if name in choices)
            elsewhere = f"; {ELSEWHERE[output.suffix.lower()]}" if output.suffix.lower() in ELSEWHERE else ""
            raise SpecError(f"-o {output.name[:80]}: this command writes {writes} (or name the format with --format)"
                            f"{elsewhere}")
    fmt = fmt or choices[0]
    require_format(fmt, *choices)
    return fmt


def require_format(fmt: str, *choices: str) -> None:
    if fmt not in choices:
        raise SpecError(f"--format must be {', '.join(choices[:-1])} or {choices[-1]}, got '{fmt}'")


def fail(error: Exception, code: int = 2, verbose: bool = False) -> None:
    """One line per error (a spec may have several) on stderr, and the exit code; with `verbose`,
    each line is followed by everything it sums up."""
    from .output.escape import shown

    for each in every_error(error):
        say(f"cnncalc: error: {shown(str(each))}", err=True)
        for item in getattr(each, "detail", ()) if verbose else ():
            say(f"  {shown(item)}", err=True)
    raise typer.Exit(code)


def say(text: str, err: bool = False) -> None:
    """Print text and a line end on stdout (or stderr) as a terminal or a CI log may show it: nothing
    in it can act (output/escape.py: printed)."""
    from .output.escape import printed

    (sys.stderr if err else sys.stdout).write(printed(text + "\n"))


VERBOSE = inspect.Parameter("verbose", inspect.Parameter.KEYWORD_ONLY, annotation=bool, default=typer.Option(
    False, "--verbose", "-v", help="On an error, list all it sums up (each operation an import cannot map)."))
CONTEXT = inspect.Parameter("context", inspect.Parameter.KEYWORD_ONLY, annotation=typer.Context)  # typer gives it


def run_limits(context: typer.Context) -> Limits:
    """The bounds this run's --limit settings give, which `options` parsed into the context's object."""
    from .spec.limits import Limits

    return context.find_object(Limits) or Limits()


def command(name: str | None = None):
    """A typer command whose bad input (a SpecError) becomes one line on stderr and exit code 2; every
    command takes --verbose for the details of such a line, and is handed the run's bounds (--limit,
    before the command's name) as its `limits` argument."""
    def decorate(function: Callable) -> Callable:
        @functools.wraps(function)
        def guarded(*args, context: typer.Context, verbose: bool = False, **kwargs):
            try:
                return function(*args, **kwargs, limits=run_limits(context))
            except SpecError as error:
                fail(error, verbose=verbose)
            except RecursionError:  # a last guard: a spec nested past what the checks above bound
                fail(SpecError("the input nests too deeply to read"))
        signature = inspect.signature(function)  # what typer reads: the options, --verbose, and the context
        given = [parameter for parameter in signature.parameters.values() if parameter.name != "limits"]
        guarded.__signature__ = signature.replace(parameters=[*given, CONTEXT, VERBOSE])
        guarded.__annotations__ = {key: hint for key, hint in function.__annotations__.items() if key != "limits"}
        return app.command(name)(guarded)
    return decorate


def parse_settings(settings: List[str]) -> dict:
    import yaml

    values = {}
    for setting in settings:
        key, sep, text = setting.partition("=")
        if not sep or not key:
            raise SpecError(f"--set takes KEY=VALUE, got '{setting}'")
        try:
            values[key.strip()] = yaml.safe_load(text)
        except (yaml.YAMLError, ValueError) as error:
            problem = getattr(error, "problem", None) or str(error).split(";")[0]
            raise SpecError(f"--set {key.strip()}: cannot read '{text[:40]}': {problem}") from None
    return values


def load_graph(model: str, settings: List[str], inputs: List[str], limits: Limits):
    from .model import load_graph as graph_of

    given = parse_inputs(inputs)
    return graph_of(model, parse_settings(settings), given.shape, given.dtype, given.others, limits=limits)


def write_output(text: str, output: Optional[Path] = None) -> None:
    """Print (as `say` does), or write the file as a shell redirect would, never leaving half a file."""
    if output is None:
        from .output.escape import printed

        sys.stdout.write(printed(text))
        return
    from .output.files import write_file

    write_file(text, output)


def output_width(output: Optional[Path] = None) -> int | None:
    """The width to fit: COLUMNS when set, else the terminal's. A file or a pipe gets None (each
    table at its natural width), so what a script reads does not depend on where it ran."""
    if output is not None:
        return None
    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit():
        return max(MIN_WIDTH, int(columns))
    try:
        return max(MIN_WIDTH, os.get_terminal_size().columns) if sys.stdout.isatty() else None
    except OSError:
        return None


MIN_WIDTH = 60  # narrower than this, a table of figures cannot be read however it is cut


@command()
def table(
    model: str = MODEL,
    input: List[str] = INPUT,
    batch: int = typer.Option(1, "--batch", help="Batch size: scales MACs, FLOPs and activations."),
    dtype: Optional[str] = typer.Option(None, "--dtype", help="float32, float16, bfloat16, int8 or float64 "
                                                              "(default: the model's own, else float32)."),
    depth: Optional[int] = typer.Option(None, "--depth", help="Collapse blocks nested deeper than N."),
    fmt: Optional[str] = typer.Option(None, "--format", "-f",
                                      help="table, json, csv or markdown (default: from -o's suffix, else table)."),
    explain: bool = typer.Option(False, "--explain", help="Show each row's formulas with numbers."),
    convention: str = typer.Option("torchvision", "--convention", "-c",
                                   help="Count ops as torchvision, torch, fvcore, torchinfo, ptflops or thop."),
    optimizer: str = typer.Option("adam", "--optimizer", help="sgd, momentum, nesterov, adam, adamw, amsgrad, rmsprop or adagrad: training memory."),
    columns: List[str] = typer.Option([], "--columns", help="Extra columns: rf (receptive field), module (the "
                                                            "module class a PyTorch model runs each row as)."),
    checkpoint: List[str] = CHECKPOINT,
    amp: Optional[str] = AMP,
    settings: List[str] = SETTINGS,
    output: Optional[Path] = OUTPUT,
    *,
    limits: Limits,
) -> None:
    """Per-layer shapes, parameters, MACs and memory of MODEL, and the totals."""
    from .figures.amp import parse_amp
    from .figures.checkpoint import parse_names
    from .figures.report import collapse
    from .output.render import FORMATS, render
    from .summary import figures

    fmt = output_format(fmt, output, *FORMATS)
    unknown = set(columns) - {"rf", "module"}
    if unknown:
        raise SpecError(f"--columns knows rf and module, got {', '.join(sorted(unknown))}")
    graph = load_graph(model, settings, input, limits)
    result = figures(graph, batch, dtype, convention, optimizer, explain, parse_names(checkpoint), parse_amp(amp))
    report, memory_figures = result.report, result.memory
    if depth is not None:
        report = collapse(report, depth)
    fields = None
    if "rf" in columns:
        from .figures.rf import receptive_fields, row_fields

        fields = row_fields(receptive_fields(graph, result.report), report)
    write_output(render(report, fmt, memory_figures, output_width(output), fields, "module" in columns), output)


@command()
def fit(
    model: str = MODEL,
    memory: str = typer.Option(..., "--memory", "-m", help="The memory to fit in: 24GiB (1024³), 24GB (1000³), "
                                                            "bytes (25769803776B) or a GPU: t4, l4, a10, "
                                                            "v100-16gb, v100-32gb, a100-40gb, a100-80gb, h100, "
                                                            "h200, rtx3090, rtx4090."),
    optimizer: str = typer.Option("adam", "--optimizer", help="sgd, momentum, nesterov, adam, adamw, amsgrad, rmsprop or adagrad."),
    accumulate: int = typer.Option(1, "--accumulate", help="Gradient accumulation: N micro-batches per "
                                                           "optimizer step; the effective batch is N × the micro-batch."),
    dtype: Optional[str] = typer.Option(None, "--dtype", help="float32, float16, bfloat16, int8 or float64 "
                                                              "(default: the model's own, else float32)."),
    checkpoint: List[str] = CHECKPOINT,
    amp: Optional[str] = AMP,
    input: List[str] = INPUT,
    fmt: Optional[str] = typer.Option(None, "--format", "-f", help="table or json (default: from -o's suffix)."),
    settings: List[str] = SETTINGS,
    output: Optional[Path] = OUTPUT,
    *,
    limits: Limits,
) -> None:
    """The largest batch whose training step fits in --memory, and the largest for inference; what
    holds the memory at that batch. Exit 1 when not even batch 1 of training fits."""
    from .figures.amp import parse_amp
    from .figures.checkpoint import parse_names
    from .figures.devices import memory_budget
    from .figures.fit import fit as fit_batch
    from .output.fit import render_fit

    fmt = output_format(fmt, output, "table", "json")
    budget = memory_budget(memory)
    found = fit_batch(load_graph(model, settings, input, limits), budget, optimizer, dtype, accumulate,
                      parse_names(checkpoint), parse_amp(amp))
    write_output(render_fit(found, fmt), output)
    if not found.training_batch:
        raise typer.Exit(1)


@command()
def rf(
    model: str = MODEL,
    input: List[str] = INPUT,
    fmt: Optional[str] = typer.Option(None, "--format", "-f", help="table or json (default: from -o's suffix)."),
    layer: Optional[str] = typer.Option(None, "--layer", help="Only this layer: the exact field of one unit."),
    unit: Optional[str] = typer.Option(None, "--unit", help="The unit of --layer, e.g. 3,5 (row, column)."),
    settings: List[str] = SETTINGS,
    output: Optional[Path] = OUTPUT,
    *,
    limits: Limits,
) -> None:
    """Receptive field of every layer: size, effective stride and padding, alignment of joins."""
    from .figures.report import analyze
    from .figures.rf import receptive_fields, unit_query
    from .output.render import render_rf, render_unit

    fmt = output_format(fmt, output, "table", "json")
    graph = load_graph(model, settings, input, limits)
    report = analyze(graph)
    if layer is None and unit is not None:
        raise SpecError("--unit needs --layer")
    if layer is not None:
        write_output(render_unit(unit_query(graph, report, layer, unit), fmt), output)
        return
    write_output(render_rf(report, receptive_fields(graph, report), fmt, output_width(output)), output)


ALLOW_PYTHON = typer.Option(False, "--allow-python",
                            help="Also run Python specs (.py). Runs their code: only for trusted repositories.")
ALLOW_UNCOUNTED = typer.Option(False, "--allow-uncounted",
                               help="Accept operations cnncalc does not count (the figures are lower bounds).")


@command()
def check(
    paths: List[str] = typer.Argument(..., help="Spec files, folders or glob patterns."),
    max_params: Optional[str] = typer.Option(None, "--max-params", help="e.g. 25M"),
    max_macs: Optional[str] = typer.Option(None, "--max-macs", help="e.g. 4G"),
    max_activation_bytes: Optional[str] = typer.Option(None, "--max-activation-bytes", help="e.g. 200MB"),
    max_peak_memory: Optional[str] = typer.Option(None, "--max-peak-memory", help="e.g. 1GB"),
    max_training_memory: Optional[str] = typer.Option(None, "--max-training-memory",
                                                      help="A training step (Adam, batch 1), e.g. 4GB"),
    max_backward_macs: Optional[str] = typer.Option(None, "--max-backward-macs",
                                                    help="e.g. 8G: a training step's backward pass"),
    amp: Optional[str] = typer.Option(None, "--amp", help="Hold the memory budgets under torch.autocast: float16 or "
                                                          "bfloat16 (as table takes it; a spec's budget says amp: too)."),
    fmt: str = typer.Option("table", "--format", "-f", help="table, json or github (annotations)."),
    allow_python: bool = ALLOW_PYTHON,
    allow_uncounted: bool = ALLOW_UNCOUNTED,
    *,
    limits: Limits,
) -> None:
    """Validate specs, enforce budgets and compare with their lock files.

    Exit 1 on a budget or lock failure or an uncounted operation, 2 when a spec or lock file is invalid."""
    from .figures.amp import parse_amp
    from .output.render import render_check
    from .spec.budget import AMP, BUDGETS, parse_quantity
    from .workflows.ci import check_paths

    require_format(fmt, "table", "json", "github")
    given = {"max_params": max_params, "max_macs": max_macs, "max_activation_bytes": max_activation_bytes,
             "max_peak_memory": max_peak_memory, "max_training_memory": max_training_memory,
             "max_backward_macs": max_backward_macs}
    budgets = {key: parse_quantity(value, BUDGETS[key][2]) for key, value in given.items() if value}
    if amp:
        budgets[AMP] = parse_amp(amp)
    checked = check_paths(paths, budgets, allow_python, allow_uncounted, limits=limits)
    text = render_check(list(checked.results), fmt, checked.python_skipped, output_width(), checked.not_specs)
    if fmt == "github":  # annotations are workflow commands by design, each value escaped as GitHub documents
        sys.stdout.write(text)
    else:
        write_output(text)
    if not checked.results and checked.python_skipped:
        say("cnncalc: nothing was checked (a Python spec runs only with --allow-python)", err=True)
    raise typer.Exit(checked.exit_status)


@command()
def lock(paths: List[str] = typer.Argument(..., help="Spec files, folders or glob patterns."),
         allow_python: bool = ALLOW_PYTHON, *, limits: Limits) -> None:
    """Write FILE.lock.json beside each spec file (net.yaml.lock.json): its figures, which `check` then
    holds it to."""
    from .output.escape import shown
    from .workflows.ci import find_specs, write_lock

    found = find_specs(paths, allow_python)
    broken = list(found.unwalked)
    for path in found.specs:  # every good spec is locked; every broken one is reported, then exit 2
        try:
            say(f"wrote {shown(str(write_lock(path, limits=limits)))}")
        except SpecError as error:
            broken += every_error(error)
    for path in found.python_skipped:
        say(f"skipped {shown(str(path))}: a Python spec runs code (--allow-python, for trusted repositories)", err=True)
    if broken:
        fail(SpecErrors(broken))


@command()
def diff(
    a: str = typer.Argument(..., help="First model (zoo name or spec path)."),
    b: str = typer.Argument(..., help="Second model; may be the same with other --input-b/--set-b."),
    input_a: Optional[str] = typer.Option(None, "--input-a", help="Input shape for A."),
    input_b: Optional[str] = typer.Option(None, "--input-b", help="Input shape for B."),
    set_a: List[str] = typer.Option([], "--set-a", help="KEY=VALUE for A."),
    set_b: List[str] = typer.Option([], "--set-b", help="KEY=VALUE for B."),
    fmt: str = typer.Option("table", "--format", "-f", help="table or json."),
    *,
    limits: Limits,
) -> None:
    """Compare two models side by side: per stage and in total, with ratios; added and removed layers."""
    from .output.render import render_diff
    from .workflows.compare import compare

    require_format(fmt, "table", "json")
    write_output(render_diff(compare(load_graph(a, set_a, [input_a] if input_a else [], limits),
                                     load_graph(b, set_b, [input_b] if input_b else [], limits)), fmt,
                             output_width()))


@command()
def sweep(
    model: str = MODEL,
    sizes: str = typer.Option("64:1024:32", "--sizes", help="START:STOP:STEP of square input sizes."),
    batch: str = typer.Option("1", "--batch", help="Batch sizes, e.g. 1,8,64."),
    fmt: str = typer.Option("table", "--format", "-f", help="table or json."),
    plot: Optional[Path] = typer.Option(None, "--plot", help="Also draw cost against size (.png/.svg)."),
    settings: List[str] = SETTINGS,
    input: List[str] = typer.Option([], "--input", help="The input a PyTorch model is read at, e.g. 3x224x224."),
    *,
    limits: Limits,
) -> None:
    """Parameters, MACs, activations and peak memory as the input grows; invalid and flooring sizes marked."""
    from .output.render import render_sweep
    from .workflows.compare import parse_range
    from .workflows.compare import sweep as run_sweep

    require_format(fmt, "table", "json")
    try:
        batches = [int(b) for b in batch.split(",")]
    except ValueError:
        raise SpecError(f"--batch takes sizes like 1,8,64, got '{batch}'") from None
    points = run_sweep(load_graph(model, settings, input, limits), parse_range(sizes), batches, limits=limits)
    if plot:
        from .output.plot import plot_sweep
        plot_sweep(points, plot, model)
    write_output(render_sweep(points, fmt, output_width()))


@command()
def sizes(
    model: str = MODEL,
    min_size: int = typer.Option(32, "--min", help="Smallest size to try."),
    max_size: int = typer.Option(1024, "--max", help="Largest size to try."),
    fmt: str = typer.Option("table", "--format", "-f", help="table or json."),
    settings: List[str] = SETTINGS,
    input: List[str] = typer.Option([], "--input", help="The input a PyTorch model is read at, e.g. 3x224x224."),
    *,
    limits: Limits,
) -> None:
    """The square input sizes MODEL takes exactly (valid, nothing dropped by flooring), and their rule."""
    from .output.render import render_sizes
    from .workflows.compare import exact_sizes, parse_range

    require_format(fmt, "table", "json")
    graph = load_graph(model, settings, input, limits)
    sizes = parse_range(f"{min_size}:{max_size}:1")
    exact, rule = exact_sizes(graph, sizes, limits=limits)
    write_output(render_sizes(graph.name, sizes, exact, rule, fmt, output_width()))


@command()
def graph(
    model: str = MODEL,
    fmt: Optional[str] = typer.Option(None, "--format", "-f",
                                      help="mermaid or dot (default: from -o's suffix, .dot or .gv, else mermaid)."),
    input: List[str] = INPUT,
    settings: List[str] = SETTINGS,
    output: Optional[Path] = OUTPUT,
    *,
    limits: Limits,
) -> None:
    """Draw the layer graph with shapes on its edges: Mermaid (renders on GitHub) or Graphviz DOT."""
    from .figures.report import analyze
    from .output.diagram import dot, mermaid

    fmt = output_format(fmt, output, "mermaid", "dot")
    graph = load_graph(model, settings, input, limits)
    write_output((mermaid if fmt == "mermaid" else dot)(graph, analyze(graph)), output)


@command()
def plot(
    model: str = MODEL,
    output: Path = typer.Option(..., "--output", "-o", help="The picture: .png, .svg or .html."),
    input: List[str] = INPUT,
    settings: List[str] = SETTINGS,
    *,
    limits: Limits,
) -> None:
    """Per-layer bars of parameters, MACs and activation memory (needs the `plot` extra)."""
    from .figures.report import analyze
    from .output.escape import shown
    from .output.plot import plot_layers

    rows = plot_layers(analyze(load_graph(model, settings, input, limits)), output)
    say(f"wrote {shown(str(output))} ({rows} rows)", err=True)


@command()
def report(
    model: str = MODEL,
    output: Path = typer.Option(..., "--output", "-o", help="The page to write, e.g. model.html."),
    input: List[str] = INPUT,
    batch: int = typer.Option(1, "--batch", help="Batch size: scales MACs, FLOPs and activations."),
    dtype: Optional[str] = typer.Option(None, "--dtype", help="float32, float16, bfloat16, int8 or float64 "
                                                              "(default: the model's own, else float32)."),
    optimizer: str = typer.Option("adam", "--optimizer", help="sgd, momentum, nesterov, adam, adamw, amsgrad, rmsprop or adagrad: training memory."),
    checkpoint: List[str] = CHECKPOINT,
    amp: Optional[str] = AMP,
    settings: List[str] = SETTINGS,
    *,
    limits: Limits,
) -> None:
    """One self-contained HTML page: the layer graph to click through, totals, conventions, fields."""
    from .figures.amp import parse_amp
    from .figures.checkpoint import parse_names
    from .output.escape import shown
    from .output.page import render_page
    from .workflows.page import page_figures

    page = page_figures(load_graph(model, settings, input, limits), batch, dtype, optimizer, parse_names(checkpoint),
                        parse_amp(amp))
    write_output(render_page(page), output)
    say(f"wrote {shown(str(output))} ({len(page.summary.layers)} layers)", err=True)


@command()
def export(
    model: str = typer.Argument(..., help="path/model.py:ClassName, torchvision:NAME, timm:NAME, transformers:TYPE "
                                          "or smp:ARCH"),
    input: List[str] = typer.Option([], "--input", help="Per-sample input shape, e.g. 3x224x224 (default: the "
                                                        "library's); several by name: --input x=... --input mask=..."),
    settings: List[str] = SETTINGS,
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Write the spec to a file."),
    *,
    limits: Limits,
) -> None:
    """Write the spec of a PyTorch model (read by running it); its figures equal the module's."""
    import yaml

    from .model import is_pytorch, read_pytorch
    from .output.export import spec_data

    if not is_pytorch(model):
        raise SpecError(f"export reads a PyTorch model (path/model.py:ClassName, torchvision:NAME, timm:NAME), "
                        f"got '{model}'")
    given = parse_inputs(input)
    data = spec_data(read_pytorch(model, parse_settings(settings), given.shape, given.dtype, given.others,
                                  limits=limits))
    write_output(yaml.safe_dump(data, sort_keys=False, allow_unicode=True, default_flow_style=None, width=100),
                 output)


@command()
def coverage(
    libraries: List[str] = typer.Argument(None, help="torchvision, timm, transformers, smp, diffusers, ultralytics, handwritten (default: those installed)."),
    models: List[str] = typer.Option([], "--model", help="Only this model (repeatable)."),
    fmt: str = typer.Option("table", "--format", "-f", help="table, json or markdown."),
    peers: bool = typer.Option(True, "--peers/--no-peers", help="Run each peer tool installed on each model too (about 4× the time)."),
    *,
    limits: Limits,
) -> None:
    """Import every torchvision builder (classification, segmentation, video, detection, optical flow),
    one model of each timm family, Hugging Face, segmentation_models_pytorch, diffusers and ultralytics
    models (those installed) and cnncalc's hand-written ones, and hold each to torch: parameters,
    buffers, MACs and output shapes; and say which peer tools (torchinfo, fvcore, ptflops, thop) give a
    total for each."""
    from .output.render import render_coverage
    from .verify import require_torch

    require_format(fmt, "table", "json", "markdown")
    require_torch()
    from .verify.coverage import LIBRARIES, check_model, installed_libraries, peer_shares, peer_tools, shares, unread

    unknown = set(libraries or ()) - set(LIBRARIES)
    if unknown:
        raise SpecError(f"coverage knows {', '.join(LIBRARIES)}, got {', '.join(sorted(unknown))}")
    chosen = [(library, family, name) for library in libraries or installed_libraries()
              for family, name in LIBRARIES[library]()]
    missing = [model for model in models if model not in {name for _, _, name in chosen}]
    if missing:
        raise SpecError(f"coverage checks no model '{missing[0]}'"
                        f"{did_you_mean(missing[0], [name for _, _, name in chosen])}")
    tools = tuple(peer_tools()) if peers else ()
    outcomes = [check_model(library, family, name, tools, limits=limits)
                for library, family, name in chosen if not models or name in models]
    write_output(render_coverage(outcomes, shares(outcomes), fmt, output_width(), peer_shares(outcomes),
                                 unread(outcomes)))


@command("list")
def list_models(fmt: str = typer.Option("table", "--format", "-f", help="table or json."), *, limits: Limits) -> None:
    """The zoo: every model with its input size, parameters and MACs."""
    from .output.render import render_zoo
    from .workflows.zoo import zoo_models

    require_format(fmt, "table", "json")
    write_output(render_zoo(zoo_models(limits=limits), fmt, output_width()))


@command()
def show(model: str = MODEL, *, limits: Limits) -> None:
    """Print the spec file of MODEL."""
    from .spec.yamlfile import read_text
    from .spec.zoo import resolve

    path, variant = resolve(model, limits=limits)
    if variant:
        say(f"# {model} is the variant '{variant}' of {path.name}", err=True)
    write_output(read_text(path, limits=limits))


@command()
def verify(
    model: str = MODEL,
    device: str = typer.Option("cpu", "--device", help="cpu, cuda, cuda:N or mps."),
    input: List[str] = INPUT,
    batch: int = typer.Option(1, "--batch", help="Batch size of the forward passes."),
    dtype: Optional[str] = typer.Option(None, "--dtype", help="float32, float16, bfloat16 or float64 "
                                                              "(default: the model's own, else float32)."),
    fmt: Optional[str] = typer.Option(None, "--format", "-f", help="table or json (default: from -o's suffix)."),
    optimizer: str = typer.Option("adam", "--optimizer", help="sgd, momentum, nesterov, adam, adamw, amsgrad, rmsprop or adagrad: the training step."),
    reference: Optional[str] = typer.Option(None, "--reference",
                                            help="torchvision: also compare with torchvision's own model."),
    checkpoint: List[str] = CHECKPOINT,
    amp: Optional[str] = AMP,
    settings: List[str] = SETTINGS,
    output: Optional[Path] = OUTPUT,
    allow_uncounted: bool = ALLOW_UNCOUNTED,
    *,
    limits: Limits,
) -> None:
    """Run MODEL in PyTorch and check every figure against torch and the peer tools: a PyTorch model
    (path/model.py:Class, torchvision:NAME, ...) is measured itself, a spec through a model built from it.

    Exit 1 on a mismatch, or on an operation cnncalc does not count unless --allow-uncounted."""
    fmt = output_format(fmt, output, "table", "json")
    from .figures.amp import parse_amp
    from .figures.checkpoint import parse_names
    from .model import load_target

    autocast = parse_amp(amp, device.partition(":")[0])

    given = parse_inputs(input)
    target = load_target(model, parse_settings(settings), given.shape, given.dtype, given.others, limits=limits)
    graph = target.graph
    from .verify.verdict import admit

    admission = admit(graph, allow_uncounted)
    if admission.note:
        say(f"cnncalc: {admission.note}", err=True)
    if admission.exit_status:
        raise typer.Exit(admission.exit_status)
    from .verify import require_torch

    require_torch()
    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TextColumn

    from .verify.report import render_json, render_table
    from .verify.run import verify as run_verify

    with Progress(SpinnerColumn(), TextColumn("{task.description}"), transient=True, console=Console(stderr=True),
                  disable=not sys.stderr.isatty()) as progress:  # a spinner only where someone watches
        task = progress.add_task(f"verifying {graph.name}", total=None)
        result = run_verify(graph, device, batch, dtype, optimizer=admission.optimizer(optimizer), reference=reference,
                            module=target.module, checkpoint=parse_names(checkpoint), amp=autocast,
                            step=lambda what: progress.update(task, description=f"{graph.name}: {what}"))
    text = render_json(result) if fmt == "json" else render_table(result, output_width(output))
    write_output(text, output)
    if result.exit_status:
        raise typer.Exit(result.exit_status)


@dataclass(frozen=True)
class PlainValue:
    """Converts a str, int or Path option (or a list of them), or a flag, the way typer does. typer 0.29 builds a
    pydantic adapter for each option of the command run (+60 ms and +18 MB per call); cnncalc's options
    are plain values, so they skip that. Older typer has no such hook and ignores the attribute."""

    convert: Callable
    label: str

    def coerce(self, value, param, ctx):
        if value is None:
            return () if param.multiple or param.nargs == -1 else None
        if isinstance(value, (list, tuple)):
            return [self.one(item, param, ctx) for item in value]
        return self.one(value, param, ctx)

    def one(self, value, param, ctx):
        try:
            return self.convert(value)
        except ValueError:
            raise typer.BadParameter(f"{value!r} is not a valid {self.label}.", ctx=ctx, param=param) from None


PLAIN_VALUES = {annotation: PlainValue(convert=convert, label=label) for annotation, convert, label in (
    (str, str, "string"), (int, int, "integer"), (Path, Path, "path"), (List[str], str, "string"),
    (bool, bool, "flag"))}


def plain_values(command) -> None:
    """Give each plain option (help included) its PlainValue where typer would build an adapter."""
    for param in every_param(command):
        if hasattr(param, "_runtime_param") and param.type_descriptor.annotation in PLAIN_VALUES:
            param._runtime_param = PLAIN_VALUES[param.type_descriptor.annotation]


def every_param(command) -> list:
    """The options and arguments of a command and its subcommands, their help options included."""
    return [param for each in [command, *getattr(command, "commands", {}).values()] for param in
            [*each.params, each.get_help_option(each.context_class(each, help_option_names=HELP_OPTIONS))]]


# What help shows beside an option or argument: what it takes, never a Python type (<str>, <bool>).
METAVARS = {"model": "MODEL", "a": "A", "b": "B", "paths": "PATH", "libraries": "LIBRARY",
            "input": "SHAPE", "max_params": "N", "max_macs": "N", "max_activation_bytes": "BYTES",
            "max_peak_memory": "BYTES", "input_a": "SHAPE", "input_b": "SHAPE", "settings": "KEY=VALUE",
            "set_a": "KEY=VALUE", "set_b": "KEY=VALUE", "limits": "NAME=N", "fmt": "FORMAT", "output": "FILE",
            "plot": "FILE", "models": "NAME", "checkpoint": "NAME,...", "amp": "DTYPE"}
METAVAR_OF_TYPE = {bool: "", int: "N", Path: "FILE"}  # a flag takes no value


def plain_help(command) -> None:
    """Name what each option takes (SHAPE, KEY=VALUE, N, TEXT), and nothing beside a flag."""
    for param in every_param(command):
        flag = getattr(param, "is_flag", False)
        annotation = getattr(getattr(param, "type_descriptor", None), "annotation", None)
        param.metavar = "" if flag else METAVARS.get(param.name) or METAVAR_OF_TYPE.get(annotation, "TEXT")
        if param.param_type_name == "argument":
            param.display_type_rich = lambda ctx: None  # typer 0.29 shows an argument's type beside its name


def invoked(argv: list[str]) -> str | None:
    """The command named on the line: the first word that is not an option or --limit's value."""
    words = iter(argv)
    for word in words:
        if word == "--limit":
            next(words, None)
        elif not word.startswith("-"):
            return word
    return None


def main() -> None:
    """Run the command line; typer builds only the command named (each costs 0.3 ms), or all for help."""
    # a big spec is hundreds of thousands of small records and YAML nodes that hold no cycles: collecting
    # every 700 allocations (Python's default) doubled the time to read and check one
    gc.set_threshold(100_000, 50, 1_000)
    name, every = invoked(sys.argv[1:]), app.registered_commands
    named = [info for info in every if (info.name or info.callback.__name__) == name]
    try:
        app.registered_commands = named or every
        command = typer.main.get_command(app)
    finally:
        app.registered_commands = every
    plain_values(command)
    plain_help(command)
    sys.exit(run_command(command))


# click's own error (typer vendors click, or uses it), whichever this typer has
ClickException = next(base for base in typer.BadParameter.__mro__ if base.__name__ == "ClickException")


def run_command(command, args: list[str] | None = None) -> int:
    """Run the command line and give its exit status. A usage error that click finds itself (an unknown
    option, a missing or stray argument) is one line on stderr as every other error is, escaped as all
    output is (output/escape.py): the arguments it quotes came from whoever wrote the command line."""
    from .output.escape import shown

    try:
        status = command.main(args=args, standalone_mode=False)
    except ClickException as error:
        if type(error).__name__ == "NoArgsIsHelpError":  # the help, already shown (rich), or its text
            help_text = error.format_message()
            if help_text.strip():
                sys.stderr.write(printed_text(help_text + "\n"))
            return error.exit_code
        ctx = getattr(error, "ctx", None)
        hint = f" (see {ctx.command_path} {HELP_OPTIONS[0]})" if ctx is not None else ""
        say(f"cnncalc: error: {shown(error.format_message())}{hint}", err=True)
        return error.exit_code
    except typer.Abort:
        say("Aborted.", err=True)
        return 1
    except Exception as error:  # click's own Abort (Ctrl-C at a prompt), by its name in the vendored module
        if type(error).__name__ != "Abort":
            raise
        say("Aborted.", err=True)
        return 1
    return status if isinstance(status, int) else 0


def printed_text(text: str) -> str:
    from .output.escape import printed

    return printed(text)
