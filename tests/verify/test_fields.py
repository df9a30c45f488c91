"""verify's receptive-field check: sampled output units' intervals against the gradients of a real backward
pass, unit by unit."""
from __future__ import annotations

import pytest

from cnncalc.figures import analyze
from conftest import one_layer


@pytest.mark.parametrize("dim", [2, -1, 1])
def test_cumsum_field_is_where_gradients_reach(dim):
    # verify's receptive-field check: sampled output units' intervals against the gradients of a real
    # backward pass, unit by unit (a running sum along a spatial axis sees the prefix up to its unit)
    pytest.importorskip("torch")
    from cnncalc.verify.fields import check_fields

    graph = one_layer("cumsum", {"dim": dim}, (2, 9, 7), [{"conv2d": {"out_channels": 2, "kernel_size": 3}}])
    checks = check_fields(graph, analyze(graph))
    assert checks and all(check.ok for check in checks), [c for c in checks if not c.ok]
