"""A training step and a forward pass measured with torch (verify/fit.py), as `cnncalc fit` is held to them."""
from __future__ import annotations

from pathlib import Path

import pytest

TINY = str(Path(__file__).resolve().parents[2] / "examples" / "tiny.yaml")


def test_accumulating_micro_batches_holds_what_one_step_holds():
    """Gradients accumulate into the buffers the step already holds: N micro-batches peak where one does."""
    torch = pytest.importorskip("torch")
    from cnncalc.model import load_graph
    from cnncalc.verify.build import build_model
    from cnncalc.verify.fit import training_step_bytes

    torch.manual_seed(0)
    graph = load_graph(TINY)
    model = build_model(graph)
    once = training_step_bytes(model, graph.input_shape, 3, "adam")
    assert training_step_bytes(model, graph.input_shape, 3, "adam", accumulate=4) == once
