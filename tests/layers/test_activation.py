"""Activations and dropout (cnncalc/layers/activation.py) against a real torch
forward pass, over a spread of arguments.

Golden figures: torch.nn modules built from the same arguments, their output shapes, parameter and
buffer numel, and torch.utils.flop_counter.FlopCounterMode's count / 2 as MACs.
"""
from __future__ import annotations

import pytest

from conftest import compare, one_layer

from cnncalc.errors import LayerError
from cnncalc.layers import REGISTRY
from cnncalc.spec import build_graph

torch = pytest.importorskip("torch")

CASES = [
    ("dropout", {"p": 0.3}, (5, 5)),
    ("dropout1d", None, (4, 9)),
    ("dropout2d", {"p": 0.1}, (4, 5, 5)),
    ("dropout3d", None, (4, 2, 5, 5)),
    ("alphadropout", None, (7,)),
    ("relu", {"inplace": True}, (3, 4, 4)),
    ("relu6", None, (3, 4)),
    ("leakyrelu", {"negative_slope": 0.2}, (5,)),
    ("elu", {"alpha": 0.5}, (2, 3, 3)),
    ("gelu", {"approximate": "tanh"}, (8,)),
    ("silu", None, (2, 3)),
    ("sigmoid", None, (2, 3)),
    ("tanh", None, (2, 3)),
    ("hardswish", None, (2, 3)),
    ("hardsigmoid", None, (2, 3)),
    ("softmax", {"dim": 1}, (10,)),
    ("logsoftmax", {"dim": -1}, (3, 10)),
    ("hardtanh", {"min_val": -2.0, "max_val": 3.0}, (3, 4, 4)),
    ("softplus", {"beta": 2.0, "threshold": 5.0}, (2, 3, 3)),
    ("mish", None, (4, 5)),
    ("selu", None, (3, 4, 4)),
    ("celu", {"alpha": 0.5}, (6,)),
    ("glu", {"dim": 1}, (6, 4, 4)),
    ("glu", None, (3, 8)),
    ("hardshrink", None, (3, 4, 4)),
    ("nantonum", None, (3, 4, 4)),
    ("nantonum", {"nan": 1.0, "posinf": 5.0, "neginf": -5.0}, (6,)),
    ("hardshrink", {"lambd": 1.5}, (6,)),
    ("softshrink", {"lambd": 0.25}, (2, 3, 3)),
    ("threshold", {"threshold": 0.1, "value": -1.0}, (3, 4, 4)),
    ("softsign", None, (3, 4, 4)),
    ("tanhshrink", None, (2, 5)),
    ("softmin", {"dim": 1}, (4, 3)),
    ("softmin", {"dim": -1}, (6,)),
    ("rrelu", None, (3, 4, 4)),
    ("rrelu", {"lower": 0.2, "upper": 0.25, "inplace": True}, (6, 2)),
    ("threshold", {"threshold": 0.0, "value": 0.5, "inplace": True}, (6,)),
    ("identity", None, (3, 3)),
    ("stochasticdepth", {"p": 0.2}, (4, 6, 6)),
    ("stochasticdepth", {"p": 0.1, "mode": "batch"}, (10,)),
    ("neg", None, (3, 4, 5)),
    ("rsqrt", None, (6, 4)),
    ("sqrt", None, (2, 3, 3)),
    ("exp", None, (5,)),
    ("sin", None, (4, 3)),
    ("cos", None, (2, 5)),
    ("round", None, (3, 4)),
    ("log2", None, (5, 2)),
    ("floor", None, (2, 3, 3)),
    ("abs", None, (3, 4, 4)),
    ("log", None, (5, 2)),
    ("erf", None, (2, 3, 3)),
    ("reciprocal", None, (3, 4)),
    ("sign", None, (2, 3, 3)),
    ("log1p", None, (3, 4, 4)),
    ("expm1", None, (5, 2)),
    ("trunc", None, (2, 3, 3)),
    ("ceil", None, (4, 3)),
    ("frac", None, (3, 4, 4)),
    ("sinc", None, (6,)),
    ("logit", None, (2, 3, 3)),
    ("logit", {"eps": 1e-6}, (3, 5)),
    ("triu", None, (5, 5)),  # a causal mask's making
    ("triu", {"diagonal": 1}, (3, 4, 6)),
    ("tril", {"diagonal": -2}, (6, 4)),
    ("prelu", None, (3, 6, 6)),
    ("prelu", {"num_parameters": 4, "init": 0.1}, (4, 5)),
    ("clamp", {"min": -0.5, "max": 3.0}, (3, 4, 4)),
    ("clamp", {"max": 2.0}, (6,)),
]


@pytest.mark.parametrize("kind,args,shape", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_layer_matches_torch(kind, args, shape):
    compare(one_layer(kind, args, shape))


def test_clamp_to_tensor_bounds_matches_torch():
    # torch.clamp(x, low, high) with 0-d and per-channel tensors as bounds (Gemma 4's buffers)
    graph = build_graph({"input": [3, 4, 4], "layers": [
        {"parameter": {"shape": [1, 1, 1], "buffer": True}, "name": "low"},
        {"parameter": {"shape": [3, 1, 1]}, "name": "high"},
        {"clamp": None, "from": ["input", "low", "high"]}]}, "<test>", {})
    compare(graph)


@pytest.mark.parametrize("bounds,args,message", [
    ([[1, 1, 1]] * 2, {"min": 0.0}, "two bounds at most"), ([[3, 4, 5]], {}, "broadcast to the input"),
    # x.clamp(tensor, 0.5): torch's clamp takes Tensor bounds or Number bounds, not one of each
    ([[1, 1, 1]], {"max": 0.5}, "not one of each")])
def test_clamp_refuses_bounds_that_do_not_fit(bounds, args, message):
    with pytest.raises(LayerError, match=message):
        REGISTRY["clamp"].calculate(((3, 4, 4), *map(tuple, bounds)), REGISTRY["clamp"].normalize(args))
