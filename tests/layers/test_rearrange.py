"""Rearrangements: flatten, reshape, shuffles, permutes, folds (cnncalc/layers/rearrange.py), against a
real torch forward pass, over a spread of arguments.

Golden figures: torch.nn modules built from the same arguments, their output shapes, parameter and
buffer numel, and torch.utils.flop_counter.FlopCounterMode's count / 2 as MACs.
"""
from __future__ import annotations

import pytest

from conftest import compare, one_layer

torch = pytest.importorskip("torch")

CASES = [
    ("flatten", None, (3, 4, 5)),
    ("flatten", {"start_dim": 2, "end_dim": 3}, (3, 4, 5)),
    ("pixelshuffle", {"upscale_factor": 2}, (12, 4, 5)),
    ("pixelunshuffle", {"downscale_factor": 2}, (3, 4, 6)),
    ("channelshuffle", {"groups": 3}, (6, 4, 4)),
    ("unfold", {"kernel_size": 3, "padding": 1, "stride": 2}, (4, 7, 8)),
    ("unfold", {"kernel_size": [2, 3], "dilation": [1, 2]}, (3, 6, 9)),
    ("tensorunfold", {"dimension": -1, "size": 4, "step": 2}, (3, 11)),  # a signal's frames
    ("tensorunfold", {"dimension": 2, "size": 3, "step": 3}, (2, 9, 5)),
    ("fold", {"output_size": [5, 6], "kernel_size": 2}, (12, 20)),
    ("fold", {"output_size": 7, "kernel_size": 3, "padding": 1, "stride": 2}, (18, 16)),
    ("reshape", {"shape": [-1, 400]}, (16, 5, 5)),
    ("reshape", {"shape": ["batch", 4, -1, 3]}, (6, 4, 4)),
    ("unflatten", {"dim": 1, "unflattened_size": [2, 3]}, (6, 4, 5)),
    ("unflatten", {"dim": -1, "unflattened_size": [-1, 4]}, (3, 8)),
    ("unflatten", {"dim": 2, "unflattened_size": [1, 5, 1]}, (3, 5)),
    ("permute", {"dims": [0, 2, 3, 1]}, (4, 5, 6)),
    ("permute", {"dims": [0, -1, 1, 2]}, (4, 5, 6)),
    ("transpose", {"dim0": 1, "dim1": 2}, (3, 8)),
    ("contiguous", None, (3, 4, 5)),
    ("clone", None, (2, 6)),
    ("roll", {"shifts": [-3, 2], "dims": [1, 2]}, (6, 7, 4)),
    ("roll", {"shifts": 1, "dims": -1}, (3, 5)),
    ("flip", {"dims": [1, 2]}, (6, 7, 4)),
    ("flip", {"dims": -1}, (3, 5)),
    ("unsqueeze", {"dim": -1}, (3, 4, 5)),
    ("unsqueeze", {"dim": 1}, (6,)),
    ("squeeze", {"dim": 2}, (3, 1, 5)),
    ("squeeze", {"dim": -1}, (3, 4)),
    ("expand", {"size": [-1, 4, -1, 6]}, (4, 1, 6)),
    ("tile", {"dims": [1, 2, 1, 3]}, (4, 2, 5)),
]


@pytest.mark.parametrize("kind,args,shape", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_layer_matches_torch(kind, args, shape):
    compare(one_layer(kind, args, shape))


def test_no_rows_reshape_as_torch_reshapes_them():
    # a mask keeping none of the 6 rows of 4, then reshaped to 0 × 2 × 2 as torch's reshape(0, 2, 2)
    # does (a detector's boxes when its run kept none); -1 among no elements could be any size, which
    # torch refuses too
    from cnncalc.errors import SpecError
    from cnncalc.figures import analyze
    from cnncalc.spec import build_graph
    from layers.test_selection import KEEPS_NONE

    compare(build_graph({**KEEPS_NONE, "layers": [*KEEPS_NONE["layers"], {"reshape": {"shape": ["batch", 0, 2, 2]}}]},
                        "<test>", {}))
    with pytest.raises(RuntimeError, match="can be any value"):
        torch.zeros(0, 4).reshape(0, -1)
    with pytest.raises(SpecError, match="-1 could be any size"):
        analyze(build_graph({**KEEPS_NONE, "layers": [*KEEPS_NONE["layers"], {"reshape": {"shape": [-1, 0, 4]}}]},
                            "<test>", {}))


def test_a_reshape_to_no_elements_of_a_tensor_that_has_some_is_refused_as_torch_refuses_it():
    # 4 values to (0, -1): no size makes it (torch: shape '[2, 0, -1]' is invalid); once a ZeroDivisionError
    from cnncalc.errors import SpecError
    from cnncalc.figures import analyze
    from cnncalc.spec import build_graph

    with pytest.raises(RuntimeError, match="invalid for input of size"):
        torch.zeros(2, 4).reshape(2, 0, -1)
    with pytest.raises(SpecError, match=r"cannot reshape 4 \(4 values\)"):
        analyze(build_graph({"input": [4], "layers": [{"reshape": {"shape": ["batch", 0, -1]}}]}, "<test>", {}))
