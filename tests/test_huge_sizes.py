"""Figures stay exact integers at any size torch can hold (int64): no float on any path, in the
analysis or the JSON it renders. Golden figures are torch's documented shapes in closed form:
nn.Linear's weight is out × in and its bias out; nn.Conv2d's output side is
⌊(size + 2·padding − dilation·(kernel − 1) − 1) / stride⌋ + 1, its weight out × in/groups × k × k;
nn.LSTM's parameter shapes as stated in its test."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cnncalc.spec import build_graph
from cnncalc.summary import figures

INT64 = (1 << 63) - 1
SIZES = st.integers(1, 1 << 40)


def _json_totals(graph, batch: int) -> tuple:
    """The report, and the totals as `--format json` writes them, read back."""
    result = figures(graph, batch)
    return result.report, result.to_dict()["totals"]


@settings(max_examples=60, deadline=None)
@given(inputs=SIZES, outputs=SIZES, batch=st.integers(1, 1 << 20))
def test_linear_is_exact_at_huge_sizes(inputs, outputs, batch):
    graph = build_graph({"input": [inputs], "layers": [{"linear": {"out_features": outputs}}]}, "<test>", {})
    report, totals = _json_totals(graph, batch)
    assert report.totals.params == totals["params"] == inputs * outputs + outputs
    assert report.totals.macs == totals["macs"] == batch * inputs * outputs


@settings(max_examples=60, deadline=None)
@given(channels=st.integers(1, 1 << 20), outputs=st.integers(1, 1 << 20), side=st.integers(1, 1 << 20),
       kernel=st.integers(1, 9), stride=st.integers(1, 5), padding=st.integers(0, 4), batch=st.integers(1, 1 << 30))
def test_conv_is_exact_at_huge_sizes(channels, outputs, side, kernel, stride, padding, batch):
    out_side = (side + 2 * padding - (kernel - 1) - 1) // stride + 1
    if out_side < 1:
        return
    graph = build_graph({"input": [channels, side, side], "layers": [
        {"conv2d": {"out_channels": outputs, "kernel_size": kernel, "stride": stride, "padding": padding}}]},
        "<test>", {})
    report, totals = _json_totals(graph, batch)
    weights = outputs * channels * kernel * kernel
    assert report.layers[1].output_shape == (outputs, out_side, out_side)
    assert report.totals.params == totals["params"] == weights + outputs
    assert report.totals.macs == totals["macs"] == batch * out_side * out_side * weights


@settings(max_examples=40, deadline=None)
@given(layers=st.integers(1, INT64 // (1 << 30)), hidden=st.integers(1, 1 << 10), inputs=st.integers(1, 1 << 10))
def test_stacked_lstm_is_exact_without_a_loop(layers, hidden, inputs):
    # nn.LSTM: weight_ih_l0 4h × inputs, weight_ih_lk 4h × h above it, weight_hh 4h × h, b_ih and b_hh 4h each
    graph = build_graph({"input": [3, inputs], "layers": [
        {"lstm": {"hidden_size": hidden, "num_layers": layers, "batch_first": True}}]}, "<test>", {})
    report, totals = _json_totals(graph, 1)
    expected = 4 * hidden * (inputs + hidden) + (layers - 1) * 4 * hidden * 2 * hidden + layers * 8 * hidden
    assert report.totals.params == totals["params"] == expected


def _huge_variants():
    """Every kind's torch case with one integer argument or one input size pushed to int64's end."""
    from layers.test_kinds_vs_torch import CASES

    for kind, args, shape in CASES:
        for key, value in (args or {}).items():
            if type(value) is int:
                yield kind, {**args, key: INT64}, shape
        for axis in range(len(shape)):
            yield kind, args, shape[:axis] + (INT64,) + shape[axis + 1:]


@pytest.mark.slow
@pytest.mark.parametrize("convention", ["torchvision", "fvcore", "ptflops", "thop", "torchinfo", "torch"])
def test_sizes_at_int64s_end_are_figures_or_one_error(convention):
    """Every kind at sizes torch could just hold: figures that render, with formulas, fields and memory,
    or a SpecError; never another exception (an overflow to float, a walk per unit)."""
    from cnncalc.errors import SpecError
    from cnncalc.figures.rf import receptive_fields
    from cnncalc.output.render import render, render_rf

    for kind, args, shape in _huge_variants():
        try:
            graph = build_graph({"input": list(shape), "layers": [{kind: args}]}, "<huge>", {})
            result = figures(graph, 3, None, convention, "adam", True)
            for fmt in ("table", "json"):
                render(result.report, fmt, result.memory, 100, None)
            render_rf(result.report, receptive_fields(graph, result.report), "json", 100)
        except SpecError:
            pass
