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



# squeeze-and-excitation: a (32, 32, 32) activation scaled by a (32, 1, 1) gate; the gate's gradient
# is computed at the activation's size and summed down, while the activation's own gradient is alive
SQUEEZE_EXCITE = {"input": [8, 32, 32], "layers": [
    {"conv2d": {"out_channels": 32, "kernel_size": 3, "padding": 1}, "name": "a"},
    {"adaptiveavgpool2d": {"output_size": 1}}, {"conv2d": {"out_channels": 32, "kernel_size": 1}},
    {"sigmoid": None, "name": "gate"}, {"mul": None, "from": ["a", "gate"]},
    {"conv2d": {"out_channels": 4, "kernel_size": 1}}, {"flatten": None}, {"linear": {"out_features": 4}}]}


def test_a_broadcast_factors_gradient_is_made_at_the_products_size_first():
    from cnncalc.figures import analyze
    from cnncalc.spec import build_graph
    from cnncalc.verify.build import build_model
    from cnncalc.verify.memory import check_memory

    graph = build_graph(SQUEEZE_EXCITE, "<test>", {})
    _, training = check_memory(graph, build_model(graph), analyze(graph, 4), lambda what: None, "sgd")
    # 1.238 while the gate's gradient was counted at its own size only
    assert 0.995 <= training.ratio <= 1.005, f"predicted {training.predicted:,}, measured {training.measured:,}"

def test_recurrent_memory_is_an_estimate_and_resnet18s_is_not():
    from cnncalc.spec import build_graph

    lstm = build_graph({"input": [24, 16], "layers": [{"lstm": {"hidden_size": 32, "batch_first": True}},
                                                      {"linear": {"out_features": 10}}]}, "<test>", {})
    (reason,) = figures(lstm).memory.estimate
    assert reason.startswith("lstm: ") and "CPU" in reason
    assert figures(load_graph("resnet18", None, None)).memory.estimate == ()
