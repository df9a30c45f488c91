"""What a run's data picks (cnncalc/layers/selection.py) against a real torch forward pass.

Golden figures: the torch modules built from the same arguments, their output shapes, parameter and
buffer numel, and torch.utils.flop_counter.FlopCounterMode's count / 2 as MACs (0: topk and a
boolean index compute nothing FlopCounterMode counts).
"""
from __future__ import annotations

import pytest

from cnncalc.errors import SpecError
from cnncalc.spec import build_graph
from conftest import compare, one_layer

torch = pytest.importorskip("torch")

CASES = [
    ("topk", {"k": 3}, (4, 6)),
    ("topk", {"k": 2, "dim": 1, "largest": False}, (5, 3, 3)),
    ("topk", {"k": 0}, (4, 6)),  # a detector's topk of the candidates its run kept, none
]


@pytest.mark.parametrize("kind,args,shape", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_layer_matches_torch(kind, args, shape):
    compare(one_layer(kind, args, shape))


def masked(threshold: float, count: int) -> dict:
    """x[x[:, 0] > threshold] on 6 rows of random values: the mask keeps all 6 rows or none."""
    return {"input": [6, 4], "layers": [{"select": {"dim": 2, "index": 0}, "name": "first"},
                                        {"gt": {"other": threshold}, "name": "mask"},
                                        {"booleanmask": {"count": count}, "from": ["input", "mask"]}]}


KEEPS_ALL, KEEPS_NONE = masked(-1e30, 6), masked(1e30, 0)


@pytest.mark.parametrize("spec", [KEEPS_ALL, KEEPS_NONE], ids=["all", "none"])
def test_boolean_mask_keeps_the_rows_its_mask_keeps(spec):
    compare(build_graph(spec, "<test>", {}))


def test_more_than_there_are_is_refused_as_torch_refuses():
    from cnncalc.figures import analyze

    with pytest.raises(RuntimeError, match="out of range"):
        torch.randn(1, 4, 6).topk(7)
    with pytest.raises(SpecError, match="k is 7"):
        analyze(one_layer("topk", {"k": 7}, (4, 6)))
    with pytest.raises(SpecError, match="at most the 6 rows"):
        analyze(build_graph({"input": [6, 4], "layers": [{"select": {"dim": 2, "index": 0}, "name": "mask"},
                                                         {"booleanmask": {"count": 7}, "from": ["input", "mask"]}]},
                            "<test>", {}))
