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
