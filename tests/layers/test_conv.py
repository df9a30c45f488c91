"""Convolutions (cnncalc/layers/conv.py) against a real torch
forward pass, over a spread of arguments.

Golden figures: torch.nn modules built from the same arguments, their output shapes, parameter and
buffer numel, and torch.utils.flop_counter.FlopCounterMode's count / 2 as MACs.
"""
from __future__ import annotations

import pytest

from conftest import compare, one_layer

torch = pytest.importorskip("torch")

CASES = [
    ("conv1d", {"out_channels": 8, "kernel_size": 3}, (4, 20)),
    ("conv1d", {"out_channels": 6, "kernel_size": 5, "stride": 2, "padding": 2,
                "dilation": 2, "groups": 2, "bias": False}, (4, 33)),
    ("conv2d", {"out_channels": 10, "kernel_size": 5, "padding": 2}, (3, 32, 32)),
    ("conv2d", {"out_channels": 16, "kernel_size": [3, 5], "stride": [2, 1], "padding": [1, 0],
                "dilation": [1, 2], "groups": 4}, (8, 17, 19)),
    ("conv2d", {"out_channels": 8, "kernel_size": 4, "padding": "same", "dilation": 3}, (2, 11, 9)),
    ("conv2d", {"out_channels": 8, "kernel_size": 3, "padding": "valid"}, (2, 5, 5)),
    ("conv2d", {"out_channels": 4, "kernel_size": 3, "padding": 1, "padding_mode": "reflect"}, (2, 6, 6)),
    ("conv2d", {"out_channels": 4, "kernel_size": 3, "padding": 2, "padding_mode": "circular"}, (2, 6, 6)),
    ("conv2d", {"out_channels": 32, "kernel_size": 3, "groups": 32, "padding": 1}, (32, 7, 7)),
    ("conv3d", {"out_channels": 4, "kernel_size": [2, 3, 3], "stride": 2, "padding": 1}, (2, 5, 8, 8)),
    ("convtranspose1d", {"out_channels": 3, "kernel_size": 4, "stride": 2, "padding": 1}, (6, 10)),
    ("convtranspose2d", {"out_channels": 2, "kernel_size": 2, "stride": 2}, (4, 7, 7)),
    ("convtranspose2d", {"out_channels": 6, "kernel_size": 3, "stride": 3, "padding": 1,
                         "output_padding": 2, "groups": 2, "dilation": 2, "bias": False}, (4, 5, 6)),
    ("convtranspose3d", {"out_channels": 2, "kernel_size": 3, "stride": [1, 2, 2]}, (3, 3, 4, 4)),
]


@pytest.mark.parametrize("kind,args,shape", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_layer_matches_torch(kind, args, shape):
    compare(one_layer(kind, args, shape))
