"""Normalizations (cnncalc/layers/norm.py) against a real torch
forward pass, over a spread of arguments.

Golden figures: torch.nn modules built from the same arguments, their output shapes, parameter and
buffer numel, and torch.utils.flop_counter.FlopCounterMode's count / 2 as MACs.
"""
from __future__ import annotations

import pytest

from conftest import compare, one_layer

torch = pytest.importorskip("torch")

CASES = [
    ("batchnorm1d", None, (6,)),
    ("batchnorm1d", {"affine": False}, (6, 10)),
    ("batchnorm2d", None, (8, 5, 5)),
    ("batchnorm2d", {"track_running_stats": False}, (8, 5, 5)),
    ("batchnorm3d", {"momentum": None}, (3, 2, 2, 2)),
    ("layernorm", {"normalized_shape": 10}, (4, 10)),
    ("rmsnorm", {"normalized_shape": 10}, (4, 10)),
    ("rmsnorm", {"normalized_shape": [4, 4], "elementwise_affine": False, "eps": 1e-6}, (3, 4, 4)),
    ("layernorm", {"normalized_shape": [3, 4, 4], "bias": False}, (3, 4, 4)),
    ("layernorm", {"normalized_shape": [4], "elementwise_affine": False}, (2, 4)),
    ("instancenorm1d", None, (3, 9)),
    ("instancenorm2d", {"affine": True, "track_running_stats": True}, (3, 5, 5)),
    ("instancenorm3d", {"affine": True}, (2, 3, 3, 3)),
    ("groupnorm", {"num_groups": 4}, (8, 5, 5)),
    ("groupnorm", {"num_groups": 3, "affine": False}, (6, 10)),
    ("localresponsenorm", {"size": 5, "alpha": 0.0001, "beta": 0.75, "k": 2}, (8, 6, 6)),
    ("layerscale", {"init_values": 0.1}, (8, 6, 6)),
    ("normalize", None, (4, 6, 6)),
    ("normalize", {"p": 1.0, "dim": -1}, (4, 6)),
]


@pytest.mark.parametrize("kind,args,shape", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_layer_matches_torch(kind, args, shape):
    compare(one_layer(kind, args, shape))
