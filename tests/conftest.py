"""Shared helpers: the zoo, the outside reference tables, and one-layer graphs."""
from __future__ import annotations

import csv
import ctypes
import ctypes.util
import gc
import os
import sys
from pathlib import Path

import pytest

# Two threads each for torch and its BLAS, read when torch is first imported (and by the CLI's subprocesses),
# one under each of pytest-xdist's two workers: torch's default of one thread per core multiplies a suite's
# time on a machine other work keeps busy, its OpenMP threads spinning for cores the other worker holds.
# A worker sets its one outright: it inherits the two its controller set when it read this file.
if "PYTEST_XDIST_WORKER" in os.environ:
    os.environ["OMP_NUM_THREADS"] = os.environ["MKL_NUM_THREADS"] = "1"
THREADS = os.environ.setdefault("OMP_NUM_THREADS", "2")
os.environ.setdefault("MKL_NUM_THREADS", THREADS)
if "torch" in sys.modules:  # imported before this file (a plugin): told directly
    sys.modules["torch"].set_num_threads(int(THREADS))

from cnncalc.spec import build_graph  # noqa: E402
from cnncalc.spec.zoo import zoo_index  # noqa: E402

REFERENCE = Path(__file__).parent / "reference"
ZOO = sorted(zoo_index())


def _heavy(model: str) -> bool:
    """A whole forward (and training) pass that costs: over 20 M parameters (320 MB of weights,
    gradients and Adam's moments) or over 400 layers. Lowered from 40 M and 500 when the default set
    reached 5 minutes on two idle cores (densenet121's verify alone took 7.7 s)."""
    from cnncalc.figures import analyze
    from cnncalc.spec.zoo import load_model

    report = analyze(load_model(model))
    return report.totals.params > 20_000_000 or len(report.layers) > 400


# The zoo as test cases: the heavy models run in the slow set (`pytest -m slow`, which .ci/run runs too).
ZOO_CASES = [pytest.param(model, marks=pytest.mark.slow) if _heavy(model) else model for model in ZOO]


_LIBC = ctypes.CDLL(ctypes.util.find_library("c")) if ctypes.util.find_library("c") else None
_KEPT = {"bytes": 0}  # resident bytes after the last release


def _resident_bytes() -> int:
    try:
        return int(Path("/proc/self/statm").read_text().split()[1]) * 4096
    except OSError:  # not Linux: nothing to measure, nothing to release
        return 0


@pytest.fixture(autouse=True)
def release_memory():
    """Hand freed memory back to the system once the process has grown by 256 MB: verifying the zoo
    one model after another otherwise grows it to 12 GB, though no model needs more than 4.5 GB."""
    yield
    if _resident_bytes() > _KEPT["bytes"] + (256 << 20):
        gc.collect()
        if _LIBC is not None and hasattr(_LIBC, "malloc_trim"):  # glibc; elsewhere the allocator decides
            _LIBC.malloc_trim(0)
        _KEPT["bytes"] = _resident_bytes()


def torchvision_table() -> dict[str, dict]:
    """torchvision's published num_params and GMACs (`_ops`), per builder, first weights listed."""
    rows = {}
    for line in (REFERENCE / "torchvision_weights_meta.md").read_text().splitlines()[2:]:
        cells = [c.strip() for c in line.strip("|").split("|")]
        name = cells[0]
        rows.setdefault(name, {"params": int(cells[2].replace(",", "")), "gmacs": float(cells[3]),
                               "crop": int(cells[4])})
    return rows


def peer_table() -> dict[str, dict]:
    """Totals measured with fvcore, torch's flop counter, torchinfo, ptflops and thop."""
    lines = [line for line in (REFERENCE / "peer_tools_measured.tsv").read_text().splitlines()
             if not line.startswith("#")]
    return {row["model"]: {k: int(v) for k, v in row.items() if k != "model"}
            for row in csv.DictReader(lines, delimiter="\t")}


def one_layer(kind: str, args: dict | None, input_shape, extra: list | None = None):
    """A graph of a single layer (plus optional further layers) on the given input."""
    layers = [{kind: args}] + (extra or [])
    return build_graph({"input": list(input_shape), "layers": layers}, "<test>", {})


def compare(graph, batch: int = 1) -> None:
    """cnncalc's figures for every layer equal torch's forward pass, or the failure names both."""
    from cnncalc.figures import analyze
    from cnncalc.verify.build import build_model, sample_inputs
    from cnncalc.verify.measure import measure
    from cnncalc.verify.peers import run_torch

    report = analyze(graph, batch=batch)
    model = build_model(graph)
    measured = measure(model, graph, batch)
    flops = run_torch(model, sample_inputs(graph, batch))  # FlopCounterMode: 2 per MAC
    assert len(measured) == len(report.layers) - 1
    for ours, theirs, torch_flops in zip(report.layers[1:], measured, flops.layers):
        for figure in ("output_shape", "params", "trainable_params", "buffers", "activations"):
            assert getattr(ours, figure) == getattr(theirs, figure), \
                f"{ours.name}: {figure} cnncalc {getattr(ours, figure)} != torch {getattr(theirs, figure)}"
        assert 2 * ours.macs == torch_flops, f"{ours.name}: MACs cnncalc {ours.macs} != torch {torch_flops / 2}"


def compare_backward(graph, batch: int = 2):
    """FlopCounterMode over a real backward pass (`model(x).sum().backward()`, the input requiring no
    grad; the forward's count taken away), for every layer and in total, is what cnncalc's torch
    convention says; and 2 × cnncalc's backward MACs, except where torch's rule is not the work (a
    grouped conv's filters' gradient, counted over every channel pair: test_backward.py holds those)."""
    from cnncalc.figures import analyze
    from cnncalc.verify.build import build_model, sample_inputs
    from cnncalc.verify.peers import run_torch_backward

    report = analyze(graph, batch=batch, convention_name="torch")
    measured = run_torch_backward(build_model(graph), sample_inputs(graph, batch))
    for ours, flops in zip(report.layers[1:], measured.layers):
        assert ours.backward_ops == flops, f"{ours.name}: torch backward ops cnncalc {ours.backward_ops:,} != {flops:,}"
        grouped = ours.kind.startswith("conv") and graph_args(graph, ours.name).get("groups", 1) > 1
        assert grouped or 2 * ours.backward_macs == flops, \
            f"{ours.name}: backward MACs cnncalc {ours.backward_macs:,} != torch {flops / 2:,}"
    assert report.totals.backward_ops == measured.total
    return report


def graph_args(graph, name: str) -> dict:
    return next(node.args for node in graph.nodes if node.name == name)


def run_here(*args: str):
    """The CLI in this process, as run_cli's result (returncode, stdout, stderr), 100 columns wide as
    run_cli's: for a test that already imported torch, so that each command does not import it again."""
    from types import SimpleNamespace

    from typer.testing import CliRunner

    from cnncalc.cli import app

    result = CliRunner().invoke(app, list(args), env={"COLUMNS": "100"})
    return SimpleNamespace(returncode=result.exit_code, stdout=result.stdout, stderr=result.stderr)


def run_cli(*args: str, cwd=None, input_text: str | None = None, columns: int | None = 100):
    """`python -m cnncalc ARGS` in a subprocess, importing the cnncalc under test from any directory;
    COLUMNS as given (None: unset, as in a pipe)."""
    import os
    import subprocess
    import sys

    import cnncalc

    env = {key: value for key, value in os.environ.items() if key != "COLUMNS"}
    env.update(PYTHONPATH=str(Path(cnncalc.__file__).resolve().parent.parent),
               **({"COLUMNS": str(columns)} if columns else {}))
    return subprocess.run([sys.executable, "-m", "cnncalc", *args], capture_output=True, text=True,
                          cwd=cwd, env=env, input=input_text, timeout=120)


def peer_total(tool: str, model, inputs: tuple) -> int:
    """A peer tool's own total of the model at the inputs (one tensor, except for torch and thop), called
    as its README shows, on the device the inputs are on: it raises where the tool cannot count the model."""
    import torch

    if tool == "torch":
        from torch.utils.flop_counter import FlopCounterMode

        counter = FlopCounterMode(display=False)
        with counter, torch.no_grad():
            model(*inputs)
        return counter.get_total_flops()
    if tool == "fvcore":
        from fvcore.nn import FlopCountAnalysis

        return int(FlopCountAnalysis(model, inputs).total())
    if tool == "torchinfo":
        import torchinfo

        return torchinfo.summary(model, input_data=list(inputs), verbose=0, device=inputs[0].device).total_mult_adds
    if tool == "ptflops":
        from ptflops import get_model_complexity_info

        macs = get_model_complexity_info(model, tuple(inputs[0].shape[1:]), as_strings=False,
                                         print_per_layer_stat=False, verbose=False,
                                         input_constructor=lambda shape: inputs[0])[0]
        if macs is None:  # it prints the model's error and gives None
            raise RuntimeError("ptflops gave no total")
        return int(macs)
    from thop import profile

    return int(profile(model, inputs=inputs, verbose=False)[0])
