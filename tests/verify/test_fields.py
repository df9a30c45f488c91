"""verify's receptive-field check: sampled output units' intervals against the gradients of a real backward
pass, unit by unit."""
from __future__ import annotations

import pytest

from cnncalc.figures import analyze
from conftest import one_layer


@pytest.mark.parametrize("kind", ["cumsum", "cumprod"])
@pytest.mark.parametrize("dim", [2, -1, 1])
def test_cumsum_field_is_where_gradients_reach(kind, dim):
    # verify's receptive-field check: sampled output units' intervals against the gradients of a real
    # backward pass, unit by unit (a running sum or product along a spatial axis sees the prefix up to its unit)
    pytest.importorskip("torch")
    from cnncalc.verify.fields import check_fields

    graph = one_layer(kind, {"dim": dim}, (2, 9, 7), [{"conv2d": {"out_channels": 2, "kernel_size": 3}}])
    checks = check_fields(graph, analyze(graph))
    assert checks and all(check.ok for check in checks), [c for c in checks if not c.ok]


def test_a_softmax_over_the_axis_a_linear_mixes_is_reached_by_gradients():
    # softmax sums to one along its axis: with equal weights in the linear before it, its gradient would
    # cancel to exactly zero there, and torch would report no pixel reached
    pytest.importorskip("torch")
    from cnncalc.spec.load import build_graph
    from cnncalc.verify.fields import check_fields

    graph = build_graph({"input": [8, 16], "layers": [{"linear": {"out_features": 16}}, {"softmax": {"dim": -1}}]},
                        "net.yaml", {})
    checks = check_fields(graph, analyze(graph))
    assert [check.layer for check in checks] == ["0.linear", "1.softmax"]
    assert all(check.ok for check in checks), [(c.layer, c.expected, c.measured) for c in checks if not c.ok]
