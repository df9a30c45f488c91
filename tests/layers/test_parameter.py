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


@pytest.mark.parametrize("batch", [1, 3])
def test_a_constant_given_an_input_is_made_for_each_sample(batch):
    # BERT's token types, a buffer expanded to the batch: one tensor per sample, as torch makes it
    from cnncalc.spec import build_graph

    spec = {"input": [4, 6], "layers": [{"constant": {"shape": [4, 6], "buffers": 4}, "from": "input", "name": "types"},
                                        {"add": None, "from": ["input", "types"]}]}
    compare(build_graph(spec, "<test>", {}), batch)


def test_a_constant_reads_one_input_at_most():
    from cnncalc.errors import SpecError
    from cnncalc.spec import build_graph

    spec = {"input": [4, 6], "layers": [{"relu": None, "name": "r"},
                                        {"constant": {"shape": [4, 6]}, "from": ["input", "r"]}]}
    from cnncalc.figures import analyze

    with pytest.raises(SpecError, match="a constant reads at most one input, for its batch, got 2"):
        analyze(build_graph(spec, "<test>", {}))
