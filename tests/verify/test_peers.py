"""The peer counters run on a model verify built: each tool's own total, and per layer in the graph's
order where the tool reports modules. Golden figures: conv2d(3→4, 3×3) on 8×8 is 4·6·6·3·3·3 = 3,888
MACs, linear(144→5) 720; torch's FlopCounterMode counts 2 FLOPs per MAC, fvcore one; each tool run
directly on the same modules in a plain nn.Sequential."""
from __future__ import annotations

import signal
import time

import pytest

from cnncalc.spec import build_graph
from conftest import peer_total

torch = pytest.importorskip("torch")
from cnncalc.verify.build import build_model, sample_inputs  # noqa: E402
from torch import nn  # noqa: E402

from cnncalc.verify.peers import RUNNERS, count, fails, installed, run_fvcore, run_torch, why  # noqa: E402

SPEC = {"input": [3, 8, 8], "layers": [{"conv2d": {"out_channels": 4, "kernel_size": 3}}, "relu", "flatten",
                                       {"linear": {"out_features": 5}}]}


def built():
    graph = build_graph(SPEC, "<t>", {})
    return build_model(graph), sample_inputs(graph, 1)


def test_torch_and_fvcore_count_what_they_document_per_layer():
    model, inputs = built()
    assert run_torch(model, inputs).total == 2 * (3_888 + 720)
    assert run_torch(model, inputs).layers == (2 * 3_888, 0, 0, 2 * 720)
    pytest.importorskip("fvcore")
    assert (run_fvcore(model, inputs).total, run_fvcore(model, inputs).layers) == (3_888 + 720, (3_888, 0, 0, 720))


@pytest.mark.parametrize("tool", sorted(RUNNERS))
def test_each_total_is_the_tools_own_on_the_same_modules(tool):
    if tool not in installed():
        pytest.skip(f"{tool} is not installed")
    model, inputs = built()
    total = RUNNERS[tool](model, inputs).total
    assert total == peer_total(tool, torch.nn.Sequential(*model.layers).eval(), inputs)


class Stops(nn.Module):
    """A convolution, then (where `stop`) the model's own error before its linear layer."""

    def __init__(self, stop: bool):
        super().__init__()
        self.conv, self.fc, self.stop = nn.Conv2d(3, 4, 3), nn.Linear(4, 5), stop

    def forward(self, x):
        y = self.conv(x).mean((2, 3))
        if self.stop:
            raise ValueError("no such size")
        return self.fc(y)


def state(model: nn.Module) -> list:
    """What a peer could leave behind: each module's attributes, buffers and hooks; torch's functions
    (ptflops patches them while it counts)."""
    return [(name, sorted(vars(part)), sorted(part._buffers), len(part._forward_hooks), len(part._forward_pre_hooks))
            for name, part in model.named_modules()] + [torch.nn.functional.linear, torch.matmul]


@pytest.mark.parametrize("stop", [False, True], ids=["counted", "failed"])
@pytest.mark.parametrize("tool", sorted(set(RUNNERS) - {"torch"}))
def test_a_peer_leaves_the_model_as_it_was(tool, stop):
    # ptflops leaves its methods on the model it counted; thop, stopped by the model's error, its hooks
    # and buffers on every module
    if tool not in installed():
        pytest.skip(f"{tool} is not installed")
    model, x = Stops(stop).eval(), (torch.randn(1, 3, 8, 8),)
    before = state(model)
    if stop:
        with pytest.raises(Exception) as raised:
            count(tool, model, x)
        assert "no such size" in why(raised.value) + str(raised.value), raised.value  # the model's own error
    else:
        count(tool, model, x)
    assert state(model) == before


def test_a_failure_is_the_models_own_error_where_the_tool_wraps_it():
    for tool in ("torchinfo", "ptflops", "thop"):
        if tool not in installed():
            pytest.skip(f"{tool} is not installed")
    x = (torch.randn(1, 3, 8, 8),)
    with pytest.raises(RuntimeError, match="Failed to run torchinfo") as wrapped:
        peer_total("torchinfo", Stops(True), x)
    assert isinstance(wrapped.value.__cause__, ValueError)
    assert fails("torchinfo", Stops(True), x, 10) == "ValueError: no such size"
    with pytest.raises(RuntimeError, match="ptflops gave no total"):  # ptflops prints it and gives None
        peer_total("ptflops", Stops(True), x)
    assert fails("ptflops", Stops(True), x, 10) == "RuntimeError: ptflops gave no total: <class 'ValueError'>: no such size"
    assert fails("thop", Stops(False), x, 10) == ""


class Frozen(dict):
    """A config that refuses to change (diffusers' FrozenDict)."""

    def update(self, *args, **kwargs):
        raise TypeError("frozen")


def test_a_model_holding_a_frozen_dict_is_counted():
    if "thop" not in installed():
        pytest.skip("thop is not installed")
    model = Stops(False).eval()
    model.config = Frozen(channels=4)
    assert fails("thop", model, (torch.randn(1, 3, 8, 8),), 10) == ""


class Slow(nn.Module):
    def forward(self, x):
        time.sleep(30)
        return x


@pytest.mark.parametrize("tool, said", [
    ("thop", "PeerTimeout: no total within 0.2 s"),
    ("ptflops", "RuntimeError: ptflops gave no total: <class 'cnncalc.verify.peers.PeerTimeout'>: no total within 0.2 s")],
    ids=["thop", "ptflops"])
def test_a_peer_gives_up_after_the_time_allowed(tool, said):
    # ptflops catches the model's errors, the time's too: it puts torch's functions back, then gives None
    if tool not in installed():
        pytest.skip(f"{tool} is not installed")
    model, handler, started = Slow(), signal.getsignal(signal.SIGALRM), time.monotonic()
    before = state(model)
    assert fails(tool, model, (torch.randn(1, 3),), 0.2) == said
    assert time.monotonic() - started < 5
    assert state(model) == before and signal.getsignal(signal.SIGALRM) is handler
