"""Pooling (cnncalc/layers/pool.py) against a real torch
forward pass, over a spread of arguments.

Golden figures: torch.nn modules built from the same arguments, their output shapes, parameter and
buffer numel, and torch.utils.flop_counter.FlopCounterMode's count / 2 as MACs.
"""
from __future__ import annotations

import pytest

from conftest import compare, one_layer

torch = pytest.importorskip("torch")

CASES = [
    ("maxpool1d", {"kernel_size": 3, "stride": 2, "ceil_mode": True}, (3, 10)),
    ("maxpool2d", {"kernel_size": 3, "stride": 2, "padding": 1}, (4, 112, 112)),
    ("maxpool2d", {"kernel_size": 2, "stride": 2, "ceil_mode": True}, (4, 7, 9)),
    ("maxpool2d", {"kernel_size": 3, "stride": 3, "padding": 1, "ceil_mode": True, "dilation": 2}, (1, 10, 13)),
    ("maxpool3d", {"kernel_size": 2}, (2, 4, 6, 6)),
    ("avgpool1d", {"kernel_size": 4, "stride": 3, "padding": 2, "ceil_mode": True}, (2, 11)),
    ("avgpool2d", {"kernel_size": 2, "stride": 2}, (6, 28, 28)),
    ("avgpool2d", {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True,
                   "count_include_pad": False, "divisor_override": 2}, (3, 8, 8)),
    ("avgpool3d", {"kernel_size": [1, 2, 2]}, (2, 3, 4, 4)),
    ("adaptiveavgpool1d", {"output_size": 5}, (3, 17)),
    ("adaptiveavgpool2d", {"output_size": [7, None]}, (3, 10, 9)),
    ("adaptiveavgpool3d", {"output_size": 1}, (3, 2, 4, 4)),
    ("adaptivemaxpool1d", {"output_size": 3}, (3, 7)),
    ("adaptivemaxpool2d", {"output_size": 2}, (3, 5, 5)),
    ("adaptivemaxpool3d", {"output_size": [1, 2, 3]}, (3, 2, 4, 6)),
]


@pytest.mark.parametrize("kind,args,shape", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_layer_matches_torch(kind, args, shape):
    compare(one_layer(kind, args, shape))
