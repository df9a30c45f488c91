"""Recurrent layers (cnncalc/layers/recurrent.py) against a real torch
forward pass, over a spread of arguments.

Golden figures: torch.nn modules built from the same arguments, their output shapes, parameter and
buffer numel, and torch.utils.flop_counter.FlopCounterMode's count / 2 as MACs.
"""
from __future__ import annotations

import pytest

from conftest import compare, compare_backward, one_layer

torch = pytest.importorskip("torch")

CASES = [
    ("lstm", {"hidden_size": 16, "batch_first": True, "bidirectional": True}, (7, 12)),
    ("lstm", {"hidden_size": 16, "batch_first": True, "num_layers": 2, "proj_size": 5, "bias": False}, (7, 12)),
    ("lstm", {"hidden_size": 8, "batch_first": True, "num_layers": 3, "bidirectional": True, "proj_size": 3}, (4, 5)),
    ("gru", {"hidden_size": 10, "batch_first": True, "num_layers": 2, "bidirectional": True}, (5, 6)),
    ("rnn", {"hidden_size": 10, "batch_first": True, "nonlinearity": "relu"}, (5, 6)),
    # one step, as a loop over the sequence calls nn.GRUCell and nn.RNNCell (its state zeros, not given)
    ("grucell", {"hidden_size": 10}, (6,)),
    ("grucell", {"hidden_size": 7, "bias": False}, (12,)),
    ("rnncell", {"hidden_size": 10, "nonlinearity": "relu"}, (6,)),
    ("lstmcell", {"hidden_size": 9}, (6,)),
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
    # small ones, where oneDNN's workspace is mostly its parts' padding to a page (a tagger's, a tutorial's)
    ("lstm", {"hidden_size": 24, "batch_first": True}, (12, 16), "adam"),
    ("lstm", {"hidden_size": 24, "batch_first": True, "num_layers": 2, "bidirectional": True}, (12, 16), "sgd"),
    ("gru", {"hidden_size": 32, "batch_first": True, "num_layers": 2}, (24, 16), "sgd"),
    ("rnn", {"hidden_size": 32, "batch_first": True, "bidirectional": True}, (24, 16), "adam"),
    ("grucell", {"hidden_size": 256}, (64,), "sgd"),
    ("rnncell", {"hidden_size": 32, "nonlinearity": "relu"}, (16,), "adam"),
    ("lstmcell", {"hidden_size": 64}, (32,), "sgd"),
    ("lstmcell", {"hidden_size": 32}, (16,), "adam"),
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


# The final states a recurrent layer returns beside its output: h_n (and an LSTM's c_n), layers·directions
# × batch × size in torch, each read as the next layer's input, as a classifier reads hidden[-1]
STATE_CASES = [
    ("lstm", {"hidden_size": 16, "batch_first": True, "num_layers": 2, "bidirectional": True}, "hidden"),
    ("lstm", {"hidden_size": 16, "batch_first": True, "num_layers": 2, "bidirectional": True}, "cell"),
    ("lstm", {"hidden_size": 16, "batch_first": True, "proj_size": 5}, "hidden"),
    ("lstm", {"hidden_size": 16, "batch_first": True, "proj_size": 5}, "cell"),
    ("gru", {"hidden_size": 10, "batch_first": True, "num_layers": 3}, "hidden"),
    ("rnn", {"hidden_size": 10, "batch_first": True, "bidirectional": True}, "hidden"),
]


def _state_graph(kind: str, args: dict, state: str, then: list):
    held = {key: args[key] for key in ("hidden_size", "num_layers", "bidirectional", "proj_size") if key in args}
    return one_layer(kind, args, (7, 12), [{"finalstate": {**held, "state": state}}, *then])


# a classifier of a bidirectional LSTM's last layer's final hidden states, both directions joined (the
# backward reaches the LSTM's weights through h_n alone)
CLASSIFIED_STATES = {"input": [7, 12], "layers": [
    {"lstm": {"hidden_size": 16, "batch_first": True, "num_layers": 2, "bidirectional": True}, "name": "lstm"},
    {"finalstate": {"hidden_size": 16, "num_layers": 2, "bidirectional": True}, "name": "h_n"},
    {"select": {"dim": 1, "index": -2}, "name": "forward"},
    {"select": {"dim": 1, "index": -1}, "from": "h_n", "name": "backward"},
    {"concat": None, "from": ["forward", "backward"]},
    {"linear": {"out_features": 3}}]}


def test_the_backward_of_a_classifier_of_final_states_is_torchs():
    # FlopCounterMode over loss.backward(): the LSTM's every weight gradient and its input's, through h_n alone
    from cnncalc.spec import build_graph

    report = compare_backward(build_graph(CLASSIFIED_STATES, "<test>", {}))
    assert report.totals.backward_macs > 0


@pytest.mark.parametrize("kind,args,state", STATE_CASES, ids=[f"{c[0]}-{c[2]}-{i}" for i, c in enumerate(STATE_CASES)])
def test_final_state_matches_torch(kind, args, state):
    # the state alone, then the last layer's row of it through a linear head: shapes, tensors and products as torch's
    compare(_state_graph(kind, args, state, []), batch=3)
    compare(_state_graph(kind, args, state, [{"select": {"dim": 1, "index": -1}}, {"linear": {"out_features": 4}}]),
            batch=3)


def test_final_state_shape_is_torchs():
    # torch.nn.LSTM(12, 16, num_layers=2, bidirectional=True, proj_size=5, batch_first=True) on 3 × 7 × 12:
    # h_n is 4 × 3 × 5, c_n 4 × 3 × 16
    lstm = torch.nn.LSTM(12, 16, num_layers=2, bidirectional=True, proj_size=5, batch_first=True)
    _, (h_n, c_n) = lstm(torch.randn(3, 7, 12))
    args = {"hidden_size": 16, "batch_first": True, "num_layers": 2, "bidirectional": True, "proj_size": 5}
    from cnncalc.figures import analyze

    for state, torchs in (("hidden", h_n), ("cell", c_n)):
        row = analyze(_state_graph("lstm", args, state, []), batch=3).layers[-1]
        assert (3, *row.output_shape) == (torchs.shape[1], torchs.shape[0], torchs.shape[2])
        assert (row.macs, row.params) == (0, 0)


def test_a_final_state_of_another_size_is_refused():
    from cnncalc.errors import SpecError
    from cnncalc.figures import analyze

    graph = one_layer("lstm", {"hidden_size": 16, "batch_first": True}, (7, 12),
                      [{"finalstate": {"hidden_size": 8}}])
    with pytest.raises(SpecError, match="sequence × 8 per sample, got 7×16"):
        analyze(graph)


def test_final_state_training_memory_within_ten_percent_of_torch():
    graph = _state_graph("lstm", {"hidden_size": 32, "batch_first": True, "num_layers": 2, "bidirectional": True},
                         "hidden", [{"select": {"dim": 1, "index": -1}}, {"linear": {"out_features": 10}}])
    from cnncalc.figures import analyze
    from cnncalc.verify.build import build_model
    from cnncalc.verify.memory import check_memory

    for optimizer in ("sgd", "adam"):
        checks = check_memory(graph, build_model(graph), analyze(graph, 4), lambda text: None, optimizer)
        assert all(check.ok for check in checks), [check.as_dict() for check in checks]


# Initial states given (h_0, and an LSTM's c_0): a learned one, a parameter of a row per layer and direction, the
# same for each sample; its gradient takes the first step's products too
GIVEN_STATES = [
    ("lstm", {"hidden_size": 16, "batch_first": True, "num_layers": 2, "bidirectional": True}, [[4, 16], [4, 16]]),
    ("lstm", {"hidden_size": 16, "batch_first": True, "proj_size": 5}, [[1, 5], [1, 16]]),
    ("gru", {"hidden_size": 10, "batch_first": True, "num_layers": 3}, [[3, 10]]),
    ("rnn", {"hidden_size": 10, "batch_first": True, "bidirectional": True}, [[2, 10]]),
]


def _given_states(kind: str, args: dict, states: list) -> dict:
    names = [f"state{index}" for index in range(len(states))]
    return {"input": [7, 12], "layers": [
        *({"parameter": {"shape": shape}, "name": name} for name, shape in zip(names, states)),
        {kind: args, "from": ["input", *names], "name": "recurrent"},
        {"linear": {"out_features": 4}}]}


@pytest.mark.parametrize("kind,args,states", GIVEN_STATES, ids=[f"{c[0]}-{i}" for i, c in enumerate(GIVEN_STATES)])
def test_initial_states_given_match_torch(kind, args, states):
    from cnncalc.spec import build_graph

    graph = build_graph(_given_states(kind, args, states), "<test>", {})
    compare(graph, batch=3)
    compare_backward(graph)


def test_initial_states_of_other_sizes_are_refused():
    from cnncalc.errors import SpecError
    from cnncalc.figures import analyze
    from cnncalc.spec import build_graph

    spec = _given_states("lstm", {"hidden_size": 16, "batch_first": True}, [[1, 16]])
    with pytest.raises(SpecError, match="initial states as 1×16 and 1×16 per sample"):
        analyze(build_graph(spec, "<test>", {}))


# an LSTM cell's c, which it returns beside h, fed back with h to the next step: h, c = cell(x, (h, c))
STEPPED = {"input": [12], "layers": [
    {"lstmcell": {"hidden_size": 16}, "name": "step1"},
    {"cellstate": {"hidden_size": 16}, "name": "c1"},
    {"lstmcell": {"hidden_size": 16}, "from": ["input", "step1", "c1"], "name": "step2"},
    {"linear": {"out_features": 4}}]}


def test_an_lstm_cells_state_fed_back_matches_torch():
    from cnncalc.spec import build_graph

    graph = build_graph(STEPPED, "<test>", {})
    compare(graph, batch=3)
    compare_backward(graph)


@pytest.mark.parametrize("hidden,inputs,length,batch", [(8, 7, 5, 1), (24, 16, 12, 2), (33, 64, 16, 8), (100, 16, 12, 2),
                                                       (256, 64, 5, 1)])
def test_onednn_workspace_is_the_tensor_torch_saves(hidden, inputs, length, batch):
    # mkldnn_rnn_layer saves oneDNN's workspace as one uint8 tensor beside its states and output
    from cnncalc.layers.recurrent import onednn_workspace

    sizes = []
    with torch.autograd.graph.saved_tensors_hooks(lambda t: sizes.append((t.dtype, t.untyped_storage().nbytes())) or t,
                                                  lambda t: t):
        torch.nn.LSTM(inputs, hidden, batch_first=True)(torch.randn(batch, length, inputs, requires_grad=True))
    assert [size for dtype, size in sizes if dtype == torch.uint8] == [onednn_workspace(inputs, hidden, length, batch)]
