"""`--amp`: a float32 model run under torch.autocast.

Golden figures from torch: the model built from the spec, its inference forward pass and its
steady-state training step (forward under torch.autocast("cpu", torch.bfloat16), backward outside,
as torch's recipe has it) measured by the CPU allocator's records (verify/memory.py). Where each
kind runs is held per kind in tests/layers/test_autocast_vs_torch.py."""
from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest

import cnncalc
import cnncalc.spec
from cnncalc.errors import SpecError
from cnncalc.figures import analyze
from cnncalc.figures.amp import Amp, parse_amp
from cnncalc.figures.checkpoint import parse_names
from cnncalc.model import load_graph
from conftest import run_cli

ROOT = Path(__file__).resolve().parent.parent.parent
TINY = str(ROOT / "examples" / "tiny.yaml")
DECODER = str(ROOT / "examples" / "decoder.yaml")
CPU_BF16 = Amp(dtype="bfloat16", device="cpu")
# a transformer block: float32 norms and residuals between bfloat16 products, so that each linear
# casts (and saves) a copy of its float32 input
BLOCK = {"input": [16, 32], "layers": [
    {"layernorm": {"normalized_shape": 32}, "name": "ln"},
    {"linear": {"out_features": 32}, "from": "ln", "name": "q"},
    {"linear": {"out_features": 32}, "from": "ln", "name": "k"},
    {"linear": {"out_features": 32}, "from": "ln", "name": "v"},
    {"scaleddotproductattention": None, "from": ["q", "k", "v"], "name": "attention"},
    {"add": None, "from": ["input", "attention"], "name": "residual"},
    {"layernorm": {"normalized_shape": 32}}, {"linear": {"out_features": 64}}, {"gelu": None},
    {"linear": {"out_features": 32}}, {"softmax": {"dim": -1}}]}


def _native_bfloat16() -> bool:
    """Whether this CPU computes in bfloat16 (oneDNN's path, AVX-512): without it torch emulates it,
    fifty times slower than float32 (an AMD EPYC with AVX2 only), and a zoo model's pass takes minutes."""
    try:
        import torch
    except ImportError:
        return False
    return torch.ops.mkldnn._is_mkldnn_bf16_supported()


# whole zoo models run in the slow set, on a CPU that computes in bfloat16; the block's backward makes each
# linear's gradient of its bfloat16 copy of the layer norm's output, cast up once the linear has released
# what it saved, and the loss's float32 gradient before the output's (2-3% over torch's step when counted
# in float32 from the start)
WHOLE_MODELS = [pytest.mark.slow, pytest.mark.skipif(not _native_bfloat16(), reason="this CPU has no bfloat16 "
                                                     "arithmetic: torch emulates it, 50x slower than float32")]
CASES = [(TINY, 2), (TINY, 8), (DECODER, 2), ("lenet5", 8), (BLOCK, 2), (BLOCK, 8)] + [
    pytest.param(model, batch, marks=WHOLE_MODELS)
    for model in ("resnet18", "mobilenet_v2", "vgg11_bn", "mobilenet_v3_small") for batch in (2, 8)]


def _graph(model):
    return cnncalc.spec.build_graph(model, "<test>", {}) if isinstance(model, dict) else load_graph(model)


def _ids(cases):
    return [f"{'block' if isinstance(values[0], dict) else Path(values[0]).stem}-b{values[1]}"
            for values in (getattr(case, "values", case) for case in cases)]


def _check(model, batch: int, within: float, checkpoint: str = "", optimizer: str = "adam") -> None:
    pytest.importorskip("torch")
    from cnncalc.verify.build import build_model
    from cnncalc.verify.memory import check_memory

    graph = _graph(model)
    checks = check_memory(graph, build_model(graph), analyze(graph, batch), lambda what: None, optimizer,
                          parse_names(checkpoint), CPU_BF16)
    for check in checks:
        assert abs(check.ratio - 1) <= within, f"{check.figure}: predicted {check.predicted:,}, " \
                                               f"measured {check.measured:,} ({check.ratio:.4f})"


@pytest.mark.parametrize(("model", "batch"), CASES, ids=_ids(CASES))
def test_memory_under_autocast_is_what_torch_measures(model, batch):
    _check(model, batch, within=0.01)


# (model, names, batch) run through torch.utils.checkpoint under autocast: each call's recomputation
# casts again, and the copies its layers save are kept as without the checkpoint; in the forward pass
# autocast's cache holds the copies of a checkpointed call's weights to its end
CHECKPOINTED = [(TINY, "stem,down", 2), (TINY, "stem,down", 8), (DECODER, "*", 2), (DECODER, "*", 8)] + [
    pytest.param(model, names, batch, marks=WHOLE_MODELS)
    for model, names in (("resnet18", "layer*"), ("resnet18", "layer2.1,layer3.*"), ("mobilenet_v2", "features.1?"),
                         ("mobilenet_v3_small", "features.*")) for batch in (2, 8)]


@pytest.mark.parametrize(("model", "names", "batch"), CHECKPOINTED,
                         ids=[f"{Path(values[0]).stem}-{values[1]}-b{values[2]}"
                              for values in (getattr(case, "values", case) for case in CHECKPOINTED)])
def test_checkpointed_memory_under_autocast_is_what_torch_measures(model, names, batch):
    _check(model, batch, within=0.01, checkpoint=names, optimizer="sgd")


def test_activations_take_the_dtype_their_layer_runs_in():
    report = analyze(_graph(BLOCK), 2, amp=CPU_BF16)
    dtypes = {row.name: row.dtype for row in report.layers}
    assert dtypes["ln"] == "float32" and dtypes["q"] == "bfloat16" and dtypes["residual"] == "float32"
    plain = {row.name: row for row in analyze(_graph(BLOCK), 2).layers}
    for row in report.layers:  # a bfloat16 row holds half the bytes
        assert row.activation_bytes * (2 if row.dtype == "bfloat16" else 1) == plain[row.name].activation_bytes


def test_parameters_gradients_and_optimizer_state_stay_float32():
    plain, mixed = cnncalc.summary("resnet18", batch=8), cnncalc.summary("resnet18", batch=8, amp="bfloat16")
    for figure in ("param_bytes", "gradient_bytes", "optimizer_bytes"):
        assert getattr(mixed.memory, figure) == getattr(plain.memory, figure)
    assert mixed.memory.saved_bytes < plain.memory.saved_bytes
    assert mixed.report.amp == Amp(dtype="bfloat16", device="cuda")


@pytest.mark.parametrize(("text", "run_on", "expected"), [
    ("bfloat16", None, Amp(dtype="bfloat16", device="cuda")), ("float16", "cpu", Amp(dtype="float16", device="cpu")),
    ("cpu:bfloat16", None, Amp(dtype="bfloat16", device="cpu")), (None, "cpu", None)])
def test_amp_names_a_dtype_and_the_lists_it_follows(text, run_on, expected):
    assert parse_amp(text, run_on) == expected


@pytest.mark.parametrize(("text", "run_on"), [("half", None), ("gpu:float16", None), ("float32", None),
                                              ("cuda:float16", "cpu")])
def test_what_autocast_cannot_run_is_refused(text, run_on):
    with pytest.raises(SpecError):
        parse_amp(text, run_on)


def test_the_cli_refuses_nonsense_in_one_line():
    for args in (["--amp", "half"], ["--amp", "bfloat16", "--dtype", "float16"]):
        result = run_cli("table", "resnet18", *args)
        assert result.returncode == 2 and result.stderr.count("\n") == 1, result.stderr
    assert run_cli("verify", "lenet5", "--amp", "cuda:float16").returncode == 2


def test_the_table_json_and_fit_show_the_amp():
    result = run_cli("table", "resnet18", "--amp", "cpu:bfloat16", "--format", "json")
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout)
    assert shown["amp"] == "cpu:bfloat16" and shown["layers"][1]["dtype"] == "bfloat16"
    assert "amp" not in json.loads(run_cli("table", "resnet18", "--format", "json").stdout)
    assert "(autocast cuda:bfloat16)" in run_cli("table", "resnet18", "--amp", "bfloat16").stdout
    fit = run_cli("fit", "resnet18", "--memory", "2GB", "--amp", "bfloat16")
    assert "autocast: cuda:bfloat16" in fit.stdout
    summary = cnncalc.summary("resnet18", amp="bfloat16")
    assert summary.fits("2GB").training_batch > cnncalc.summary("resnet18").fits("2GB").training_batch


def test_csv_markdown_and_the_page_show_the_amp(tmp_path):
    # torch.autocast runs conv2d in bfloat16 (its lower list) and batch norm as its input comes
    rows = list(csv.DictReader(io.StringIO(run_cli("table", TINY, "--amp", "bfloat16", "-f", "csv").stdout)))
    assert [row["dtype"] for row in rows[:3]] == ["float32", "bfloat16", "bfloat16"]
    assert int(rows[1]["activation_bytes"]) == int(rows[1]["activations"]) * 2
    assert "dtype" not in run_cli("table", TINY, "-f", "csv").stdout.splitlines()[0]
    markdown = run_cli("table", TINY, "--amp", "cpu:bfloat16", "-f", "markdown").stdout
    assert markdown.splitlines()[0].endswith("float32 (autocast cpu:bfloat16)")
    page = tmp_path / "tiny.html"
    assert run_cli("report", TINY, "-o", str(page), "--amp", "bfloat16", "--checkpoint", "stem").returncode == 0
    data = json.loads(re.search(r'<script type="application/json" id="data">(.*?)</script>', page.read_text(),
                                re.S).group(1))
    assert data["amp"] == data["memory"]["amp"] == "cuda:bfloat16" and data["memory"]["checkpoint"] == ["stem"]
    assert [row["dtype"] for row in data["layers"][:2]] == ["float32", "bfloat16"]


def test_the_batch_fit_names_under_autocast_fits_when_measured():
    pytest.importorskip("torch")
    from cnncalc.verify.fit import check_fit

    found = cnncalc.summary(TINY, optimizer="sgd", amp="cpu:bfloat16").fits("3MB")
    assert found.amp == "cpu:bfloat16" and found.training_batch
    measured = check_fit(load_graph(TINY), found)
    assert [m.fits for m in measured] == [True, False, True, False], measured
