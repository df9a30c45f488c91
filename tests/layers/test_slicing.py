"""Slicing and gathering (cnncalc/layers/slicing.py) against a real torch
forward pass, over a spread of arguments.

Golden figures: torch.nn modules built from the same arguments, their output shapes, parameter and
buffer numel, and torch.utils.flop_counter.FlopCounterMode's count / 2 as MACs.
"""
from __future__ import annotations

import pytest

from conftest import compare, one_layer

torch = pytest.importorskip("torch")

CASES = [
    ("narrow", {"dim": 1, "start": 2, "length": 3}, (8, 5, 5)),
    ("narrow", {"dim": -1, "start": -4, "length": 3}, (3, 6, 7)),
    ("slice", {"dim": 2, "start": 1, "step": 2}, (3, 8, 8)),
    ("slice", {"dim": -1, "start": 1, "end": -2, "step": 3}, (3, 6, 9)),
    ("slice", {"dim": 1, "end": 2}, (5, 4, 4)),
    ("select", {"dim": 1, "index": 0}, (5, 7)),
    ("select", {"dim": -1, "index": -1}, (3, 4, 6)),
]


@pytest.mark.parametrize("kind,args,shape", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_layer_matches_torch(kind, args, shape):
    compare(one_layer(kind, args, shape))
