"""Joins of branches (cnncalc/layers/join.py) against a real torch
forward pass, over a spread of arguments.

Golden figures: torch.nn modules built from the same arguments, their output shapes, parameter and
buffer numel, and torch.utils.flop_counter.FlopCounterMode's count / 2 as MACs.
"""
from __future__ import annotations

import pytest

from cnncalc.spec import build_graph
from conftest import compare, one_layer

torch = pytest.importorskip("torch")

CASES = [
    ("add", {"other": 1.5}, (3, 4, 4)),
    ("sub", {"other": 2}, (6,)),
    ("mul", {"other": 0.5}, (3, 4, 4)),
    ("div", {"other": 6.0}, (2, 5)),
    ("remainder", {"other": 3}, (2, 5)),
    ("fmod", {"other": -1.5}, (3, 4, 4)),
    ("rsub", {"other": 1}, (3, 4, 4)),  # 1 - x
    ("pow", {"other": 2}, (3, 4, 4)),
    ("ne", {"other": 0.0}, (3, 4, 4)),
    ("eq", {"other": 1.5}, (6,)),
    ("gt", {"other": 0.05}, (3, 4, 4)),
    ("ge", {"other": 0.0}, (7,)),
    ("lt", {"other": -0.5}, (2, 5)),
    ("le", {"other": 0.25}, (4, 3)),
]


@pytest.mark.parametrize("kind,args,shape", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_layer_matches_torch(kind, args, shape):
    compare(one_layer(kind, args, shape))


JOIN_CASES = [
    # (kind, args, input shape, branch a, branch b)
    ("add", None, (4, 6, 6), {"conv2d": {"out_channels": 4, "kernel_size": 3, "padding": 1}}, {"relu": None}),
    ("mul", None, (4, 6, 6), {"adaptiveavgpool2d": {"output_size": 1}}, {"relu": None}),
    ("sub", None, (4, 6, 6), {"avgpool2d": {"kernel_size": 3, "stride": 1, "padding": 1}}, {"identity": None}),
    ("div", None, (4, 6, 6), {"relu": None}, {"sigmoid": None}),
    ("remainder", None, (4, 6, 6), {"relu": None}, {"sigmoid": None}),
    ("fmod", None, (4, 6, 6), {"relu": None}, {"sigmoid": None}),
    # branches that keep nothing for backward themselves: what lerp keeps would show
    ("lerp", {"weight": 0.3}, (4, 6, 6), {"add": {"other": 0.5}}, {"mul": {"other": 2.0}}),
    ("stack", {"dim": -1}, (4, 6, 6), {"relu": None}, {"sigmoid": None}),
    ("pow", None, (4, 6, 6), {"sigmoid": None}, {"relu": None}),
    ("concat", None, (4, 6, 6), {"conv2d": {"out_channels": 3, "kernel_size": 1}}, {"relu": None}),
    ("concat", {"dim": 3}, (4, 6, 6), {"maxpool2d": {"kernel_size": [1, 2]}}, {"relu": None}),
    ("concat", {"dim": -2}, (4, 6, 6), {"maxpool2d": {"kernel_size": [2, 1]}}, {"relu": None}),
    ("crop", None, (2, 9, 9), {"identity": None}, {"conv2d": {"out_channels": 2, "kernel_size": 3}}),
    ("ne", None, (4, 6, 6), {"relu": None}, {"sigmoid": None}),
    ("ge", None, (4, 6, 6), {"relu": None}, {"sigmoid": None}),
    ("maximum", None, (4, 6, 6), {"conv2d": {"out_channels": 4, "kernel_size": 3, "padding": 1}}, {"relu": None}),
    ("minimum", None, (4, 6, 6), {"adaptiveavgpool2d": {"output_size": 1}}, {"sigmoid": None}),
    # torch.where(condition, x, 0.0) and torch.where(condition, -1.5, x): a comparison the condition
    ("where", {"other": 0.0}, (4, 6, 6), {"gt": {"other": 0.5}}, {"relu": None}),
    ("where", {"input": -1.5}, (4, 6, 6), {"le": {"other": 0.25}}, {"adaptiveavgpool2d": {"output_size": 1}}),
    # x.masked_fill(mask, value): scores masked to -inf before a softmax, or to a number
    ("maskedfill", {"value": float("-inf")}, (4, 6, 6), {"relu": None}, {"lt": {"other": 0.1}}),
    ("maskedfill", {"value": 0.5}, (4, 6, 6), {"sigmoid": None}, {"gt": {"other": 0.25}}),
    # F.cosine_similarity along channels, or along a spatial dim
    ("cosinesimilarity", None, (4, 6, 6), {"conv2d": {"out_channels": 4, "kernel_size": 3, "padding": 1}},
     {"relu": None}),
    ("cosinesimilarity", {"dim": -1, "eps": 1e-6}, (4, 6, 6), {"sigmoid": None}, {"relu": None}),
]


ONE_INPUT_JOINS = [("concat", None, (4, 6, 6))]  # torch.cat([x], 1): a copy


@pytest.mark.parametrize("kind,args,shape,left,right", JOIN_CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(JOIN_CASES)])
def test_join_matches_torch(kind, args, shape, left, right):
    layers = [{**left, "name": "a", "from": "input"}, {**right, "name": "b", "from": "input"},
              {kind: args, "from": ["a", "b"]}]
    compare(build_graph({"input": list(shape), "layers": layers}, "<test>", {}))


@pytest.mark.parametrize("kind,args,shape", ONE_INPUT_JOINS)
def test_join_of_one_input_matches_torch(kind, args, shape):
    compare(build_graph({"input": list(shape), "layers": [{"relu": None}, {kind: args}]}, "<test>", {}))


def test_where_between_two_tensors_matches_torch():
    # torch.where(condition, input, other), each a branch (JOIN_CASES: with a number for one)
    layers = [{"gt": {"other": 0.5}, "name": "condition", "from": "input"},
              {"relu": None, "name": "a", "from": "input"}, {"sigmoid": None, "name": "b", "from": "input"},
              {"where": None, "from": ["condition", "a", "b"]}]
    compare(build_graph({"input": [4, 6, 6], "layers": layers}, "<test>", {}))


# a prototype classifier: each sample's code against every prototype, the two broadcast along a new dim
# (F.cosine_similarity(z.unsqueeze(1), prototypes.unsqueeze(0), dim=-1), batch × prototypes)
PROTOTYPES = {"input": [16], "layers": [
    {"linear": {"out_features": 12}, "name": "code"}, {"unsqueeze": {"dim": 1}, "name": "one_row"},
    {"parameter": {"shape": [5, 12]}, "name": "prototypes"},
    {"cosinesimilarity": {"dim": -1}, "from": ["one_row", "prototypes"], "name": "similar"},
    {"linear": {"out_features": 3}}]}


def test_cosine_similarity_against_prototypes_matches_torch():
    from cnncalc.figures import analyze

    graph = build_graph(PROTOTYPES, "<test>", {})
    compare(graph, batch=3)
    assert analyze(graph).layers[4].output_shape == (5,)


def test_cosine_similarity_memory_within_ten_percent_of_torch():
    # operands of one shape (of conv and relu branches); against prototypes inference is exact and a training
    # step an estimate, said so
    from cnncalc.figures import analyze
    from cnncalc.figures.memory import memory
    from cnncalc.verify.build import build_model
    from cnncalc.verify.memory import check_memory

    left, right = next(case for case in JOIN_CASES if case[0] == "cosinesimilarity")[3:]
    same = build_graph({"input": [4, 6, 6], "layers": [{**left, "name": "a"}, {**right, "name": "b", "from": "input"},
                                                       {"cosinesimilarity": None, "from": ["a", "b"]}]}, "<test>", {})
    maps = build_graph({"input": [3, 8, 8], "layers": [
        {"conv2d": {"out_channels": 8, "kernel_size": 3, "padding": 1}, "name": "a"},
        {"conv2d": {"out_channels": 8, "kernel_size": 1}, "name": "b", "from": "input"},
        {"cosinesimilarity": None, "from": ["a", "b"]}]}, "<test>", {})
    prototypes = build_graph(PROTOTYPES, "<test>", {})
    for optimizer in ("sgd", "adam"):
        checks = [*check_memory(same, build_model(same), analyze(same, 8), lambda text: None, optimizer),
                  *check_memory(maps, build_model(maps), analyze(maps, 8), lambda text: None, optimizer),
                  check_memory(prototypes, build_model(prototypes), analyze(prototypes, 8), lambda text: None,
                               optimizer)[0]]
        assert all(check.ok for check in checks), [check.as_dict() for check in checks]
    assert not memory(same, analyze(same, 8)).estimate
    assert "broadcast" in " ".join(memory(prototypes, analyze(prototypes, 8)).estimate)
