"""Reductions (cnncalc/layers/reduce.py) against a real torch
forward pass, over a spread of arguments.

Golden figures: torch.nn modules built from the same arguments, their output shapes, parameter and
buffer numel, and torch.utils.flop_counter.FlopCounterMode's count / 2 as MACs.
"""
from __future__ import annotations

import pytest

from conftest import compare, one_layer

torch = pytest.importorskip("torch")

CASES = [
    ("mean", {"dim": [2, 3]}, (8, 5, 7)),
    ("mean", {"dim": -1, "keepdim": True}, (3, 4, 6)),
    ("sum", {"dim": 1}, (5, 4, 4)),
    ("amax", {"dim": [-2, -1], "keepdim": True}, (4, 3, 5)),
    ("amin", {"dim": 1}, (4, 3, 5)),
    ("amin", {"dim": [-2, -1], "keepdim": True}, (4, 3, 5)),
    ("var", {"dim": 1}, (4, 3, 5)),  # a hand-written norm's statistics
    ("var", {"dim": [-2, -1], "keepdim": True, "correction": 0}, (4, 3, 5)),
    ("std", {"dim": -1, "keepdim": True}, (6, 5)),
    ("logsumexp", {"dim": 1}, (4, 3, 5)),
    ("logsumexp", {"dim": [-2, -1], "keepdim": True}, (4, 3, 5)),
    ("norm", {"p": 2, "dim": [1, 2], "keepdim": True}, (6, 5, 4)),  # ConvNeXt V2's, channels last
    ("norm", {"dim": -1}, (3, 7)),
    ("norm", {"p": 1, "dim": [2, 3]}, (4, 5, 6)),
    ("cumsum", {"dim": 1}, (3, 5)),
    ("cumsum", {"dim": -1}, (2, 4, 6)),
    ("prod", {"dim": 1}, (3, 5)),
    ("prod", {"dim": -1, "keepdim": True}, (2, 4, 6)),
    ("cumprod", {"dim": 1}, (3, 5)),
    ("cumprod", {"dim": -1}, (2, 4, 6)),
    ("argmax", {"dim": 2}, (17, 30)),  # Keypoint R-CNN's peak of each of 17 heatmaps
    ("argmax", {"dim": 1, "keepdim": True}, (4, 6)),
    ("argmin", {"dim": 1}, (30, 40)),  # a vector quantizer's nearest code
]


@pytest.mark.parametrize("kind,args,shape", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_layer_matches_torch(kind, args, shape):
    compare(one_layer(kind, args, shape))
