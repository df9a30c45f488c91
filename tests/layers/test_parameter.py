"""Parameters and constants (cnncalc/layers/parameter.py) against a real torch
forward pass, over a spread of arguments.

Golden figures: torch.nn modules built from the same arguments, their output shapes, parameter and
buffer numel, and torch.utils.flop_counter.FlopCounterMode's count / 2 as MACs.
"""
from __future__ import annotations

import pytest

from conftest import compare, one_layer

torch = pytest.importorskip("torch")

CASES = [
    ("parameter", {"shape": [17, 8]}, (3, 4, 4)),
    ("parameter", {"shape": [1, 1, 6], "buffer": True}, (3, 4, 4)),
    ("constant", {"shape": [4, 5, 5]}, (3, 4, 4)),
    ("constant", {"shape": [2, 9, 9], "params": 338, "buffers": 81}, (3, 4, 4)),
    ("constant", {"shape": [0, 4]}, (3, 4, 4)),  # no rows: torch.empty((0, 4)), a detector's boxes when none kept
]


@pytest.mark.parametrize("kind,args,shape", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_layer_matches_torch(kind, args, shape):
    compare(one_layer(kind, args, shape))
