"""Recurrent layers (cnncalc/layers/recurrent.py) against a real torch
forward pass, over a spread of arguments.

Golden figures: torch.nn modules built from the same arguments, their output shapes, parameter and
buffer numel, and torch.utils.flop_counter.FlopCounterMode's count / 2 as MACs.
"""
from __future__ import annotations

import pytest

from conftest import compare, one_layer

torch = pytest.importorskip("torch")

CASES = [
    ("lstm", {"hidden_size": 16, "batch_first": True, "bidirectional": True}, (7, 12)),
    ("lstm", {"hidden_size": 16, "batch_first": True, "num_layers": 2, "proj_size": 5, "bias": False}, (7, 12)),
    ("lstm", {"hidden_size": 8, "batch_first": True, "num_layers": 3, "bidirectional": True, "proj_size": 3}, (4, 5)),
    ("gru", {"hidden_size": 10, "batch_first": True, "num_layers": 2, "bidirectional": True}, (5, 6)),
    ("rnn", {"hidden_size": 10, "batch_first": True, "nonlinearity": "relu"}, (5, 6)),
]


@pytest.mark.parametrize("kind,args,shape", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_layer_matches_torch(kind, args, shape):
    compare(one_layer(kind, args, shape))


# Memory: cnncalc's prediction against torch's CPU allocator (cnncalc.verify.memory: the profiler's
# records) over a real inference pass and a steady-state training step, float32, a linear head after
# the layer. Each case takes another of torch's paths: oneDNN's fused LSTM (mkldnn_rnn_layer), an
# LSTM with projections on ATen's general path, GRU's and RNN's cells step by step.
MEMORY_CASES = [
    ("lstm", {"hidden_size": 32, "batch_first": True, "num_layers": 2, "bidirectional": True}, (24, 16), "adam"),
    ("lstm", {"hidden_size": 32, "batch_first": True, "proj_size": 8}, (24, 16), "sgd"),
    ("gru", {"hidden_size": 32, "batch_first": True, "num_layers": 2}, (24, 16), "sgd"),
    ("rnn", {"hidden_size": 32, "batch_first": True, "bidirectional": True}, (24, 16), "adam"),
]


def _memory_checks(kind, args, shape, optimizer, batch):
    from cnncalc.figures import analyze
    from cnncalc.verify.build import build_model
    from cnncalc.verify.memory import check_memory

    graph = one_layer(kind, args, shape, [{"linear": {"out_features": 10}}])
    return check_memory(graph, build_model(graph), analyze(graph, batch), lambda text: None, optimizer)


@pytest.mark.parametrize("kind,args,shape,optimizer", MEMORY_CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(MEMORY_CASES)])
def test_memory_within_ten_percent_of_torch(kind, args, shape, optimizer):
    checks = _memory_checks(kind, args, shape, optimizer, batch=4)
    assert all(check.ok for check in checks), [check.as_dict() for check in checks]


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["lstm", "gru", "rnn"])
@pytest.mark.parametrize("layers,bidirectional", [(1, False), (1, True), (3, False), (3, True)])
@pytest.mark.parametrize("length,hidden", [(16, 64), (64, 256)])
def test_memory_sweep_within_ten_percent_of_torch(request, kind, layers, bidirectional, length, hidden):
    if (kind, layers, bidirectional, length, hidden) == ("lstm", 1, False, 64, 256):
        request.applymarker(pytest.mark.xfail(strict=True, reason=(
            "oneDNN's batch-first output is a transposed view, which the linear head copies before its product "
            "(docs/memory.md): one unidirectional layer, 64 steps of 256 hidden on 32 inputs, inference "
            "2,332,712 B measured against 1,902,632 predicted (1.226); training is within 1.1%")))
    args = {"hidden_size": hidden, "batch_first": True, "num_layers": layers, "bidirectional": bidirectional}
    for optimizer in ("sgd", "adam"):
        checks = _memory_checks(kind, args, (length, 32), optimizer, batch=8)
        assert all(check.ok for check in checks), [check.as_dict() for check in checks]
