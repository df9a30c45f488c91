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
    # nothing of a dim, as torch gives it (a mask pasted wholly past the image's edge: mask[7:7])
    ("narrow", {"dim": 1, "start": 2, "length": 0}, (6, 4)),
    ("slice", {"dim": 2, "start": 3, "end": 3}, (6, 4)),
    ("select", {"dim": 1, "index": 0}, (5, 7)),
    ("select", {"dim": -1, "index": -1}, (3, 4, 6)),
]


@pytest.mark.parametrize("kind,args,shape", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_layer_matches_torch(kind, args, shape):
    compare(one_layer(kind, args, shape))


def written(values: dict) -> dict:
    """x[...] = values: relu's output written with a branch no larger (a spec states no index)."""
    return {"input": [4, 6, 6], "layers": [{"relu": None, "name": "destination"},
                                           {**values, "name": "values", "from": "input"},
                                           {"indexput": None, "from": ["destination", "values"]}]}


WRITES_PART, WRITES_ALL = written({"maxpool2d": {"kernel_size": 2}}), written({"sigmoid": None})


@pytest.mark.parametrize("spec", [WRITES_PART, WRITES_ALL], ids=["part", "all"])
def test_a_write_keeps_the_destinations_shape(spec):
    from cnncalc.spec import build_graph

    compare(build_graph(spec, "<test>", {}))


def test_values_larger_than_the_destination_are_refused():
    from cnncalc.errors import SpecError
    from cnncalc.figures import analyze
    from cnncalc.spec import build_graph

    with pytest.raises(RuntimeError):  # torch's: 288 values into 144 places
        torch.zeros(144)[:] = torch.zeros(288)
    spec = {"input": [4, 6, 6], "layers": [{"maxpool2d": {"kernel_size": 2}, "name": "destination"},
                                           {"indexput": None, "from": ["destination", "input"]}]}
    with pytest.raises(SpecError, match="4×6×6 is written into 4×3×3"):
        analyze(build_graph(spec, "<test>", {}))
