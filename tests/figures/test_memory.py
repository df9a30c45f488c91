"""Optimizers as torch.optim keeps them (figures/memory.py: OPTIMIZERS): the state each holds, counted
from torch's own state after a step, and a training step's memory measured within 10%."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from cnncalc.figures.memory import OPTIMIZERS
from cnncalc.model import load_graph
from cnncalc.summary import figures

torch = pytest.importorskip("torch")
TINY = Path(__file__).resolve().parents[2] / "examples" / "tiny.yaml"


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_state_is_what_torch_optim_keeps(name):
    from cnncalc.verify.build import build_model
    from cnncalc.verify.memory import build_optimizer

    graph = load_graph("lenet5", None, None)
    graph = replace(graph, nodes=tuple(replace(node, frozen=index == 0) for index, node in enumerate(graph.nodes)))
    model = build_model(graph)  # the first conv frozen: it holds no state
    optimizer = build_optimizer(name, [p for p in model.parameters() if p.requires_grad])
    model(torch.randn(2, *graph.input_shape)).sum().backward()
    optimizer.step()
    # every state tensor torch keeps, but the 0-d step counters, in bytes
    held = sum(t.numel() * t.element_size() for state in optimizer.state.values() for t in state.values()
               if isinstance(t, torch.Tensor) and t.dim() > 0)
    assert figures(graph, optimizer=name).memory.optimizer_bytes == held


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_a_training_step_is_measured_within_ten_percent(name):
    from cnncalc.verify.run import verify

    assert verify(load_graph(str(TINY), None, None), optimizer=name).failed == ()


def test_recurrent_memory_is_an_estimate_and_resnet18s_is_not():
    from cnncalc.spec import build_graph

    lstm = build_graph({"input": [24, 16], "layers": [{"lstm": {"hidden_size": 32, "batch_first": True}},
                                                      {"linear": {"out_features": 10}}]}, "<test>", {})
    (reason,) = figures(lstm).memory.estimate
    assert reason.startswith("lstm: ") and "CPU" in reason
    assert figures(load_graph("resnet18", None, None)).memory.estimate == ()
