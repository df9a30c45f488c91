"""Padding and upsampling (cnncalc/layers/resize.py) against a real torch
forward pass, over a spread of arguments.

Golden figures: torch.nn modules built from the same arguments, their output shapes, parameter and
buffer numel, and torch.utils.flop_counter.FlopCounterMode's count / 2 as MACs.
"""
from __future__ import annotations

import pytest

from conftest import compare, one_layer

torch = pytest.importorskip("torch")

CASES = [
    ("zeropad1d", {"padding": [1, 2]}, (3, 5)),
    ("zeropad2d", {"padding": 2}, (3, 5, 5)),
    ("zeropad2d", {"padding": [1, 0, 2, -1]}, (3, 5, 5)),
    ("constantpad2d", {"padding": [0, 1, 0, 1], "value": float("-inf")}, (3, 5, 5)),
    ("constantpad1d", {"padding": 2, "value": 1.5}, (3, 5)),
    ("constantpad3d", {"padding": [1, 0, 0, 1, 2, 2], "value": -2}, (2, 3, 4, 4)),
    ("zeropad3d", {"padding": 1}, (2, 3, 3, 3)),
    ("zeropad3d", {"padding": [0, 0, 1, 1, 2, 0]}, (5, 5, 4)),  # channels-last: F.pad(x, (0, 0, 0, r, 0, b))
    ("upsample", {"scale_factor": 2}, (3, 5, 5)),
    ("upsample", {"size": [9, 11], "mode": "bilinear", "align_corners": True}, (3, 5, 5)),
    ("upsample", {"scale_factor": 1.5, "mode": "bilinear"}, (3, 7, 5)),
    ("upsample", {"scale_factor": [2, 3], "mode": "nearest"}, (2, 3, 4)),
    ("upsample", {"scale_factor": 2, "mode": "linear"}, (3, 7)),
    ("upsample", {"size": 4, "mode": "trilinear"}, (1, 2, 3, 2)),
    ("upsample", {"scale_factor": 2, "mode": "bicubic"}, (1, 3, 3)),
    ("reflectionpad2d", {"padding": [1, 2, 3, 0]}, (3, 8, 8)),
    ("reflectionpad1d", {"padding": 3}, (2, 5)),
    ("reflectionpad3d", {"padding": 1}, (2, 3, 4, 4)),
    ("replicationpad1d", {"padding": [0, 4]}, (3, 6)),
    ("replicationpad2d", {"padding": 2}, (3, 5, 5)),
    ("replicationpad3d", {"padding": [1, 0, 0, 1, 2, 2]}, (2, 3, 4, 4)),
]


@pytest.mark.parametrize("kind,args,shape", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_layer_matches_torch(kind, args, shape):
    compare(one_layer(kind, args, shape))


# the input sampled at a grid made of it: 2 × 5 × 7 at its own 5 × 7 points; and 3 rows of those,
# each sampled on its own (RAFT's correlation volume, a row per pixel)
SAMPLED = [{"input": [2, 5, 7], "layers": [{"permute": {"dims": [0, 2, 3, 1]}, "name": "grid"},
                                           {"gridsample": None, "from": ["input", "grid"]}]},
           {"input": [3, 2, 5, 7], "layers": [{"permute": {"dims": [0, 1, 3, 4, 2]}, "name": "grid"},
                                              {"gridsample": {"align_corners": True, "padding_mode": "border"},
                                               "from": ["input", "grid"]}]}]


@pytest.mark.parametrize("spec", SAMPLED, ids=["sample", "rows"])
def test_grid_sampling_matches_torch(spec):
    from cnncalc.spec import build_graph

    compare(build_graph(spec, "<test>", {}))


def test_grid_sampling_has_torchs_shape():
    from cnncalc.figures import analyze
    from cnncalc.spec import build_graph

    sampled = torch.nn.functional.grid_sample(torch.randn(1, 2, 5, 7), torch.rand(1, 3, 4, 2), align_corners=False)
    spec = {"input": [2, 5, 7], "other_inputs": {"grid": {"shape": [3, 4, 2]}},
            "layers": [{"gridsample": None, "from": ["input", "grid"]}]}
    assert (1, *analyze(build_graph(spec, "<test>", {})).layers[-1].output_shape) == tuple(sampled.shape)


# F.affine_grid on each sample's matrix: a 2-d grid at (batch, 1, 7, 5) from a linear's 6 outputs (the spatial
# transformer tutorial's), a 3-d one at (batch, 2, 3, 5, 4) from the input's 12 values, aligned at the corners
AFFINE = [{"input": [6], "layers": [{"linear": {"out_features": 6}}, {"reshape": {"shape": ["batch", 2, 3]}},
                                    {"affinegrid": {"size": ["batch", 1, 7, 5]}}]},
          {"input": [12], "layers": [{"reshape": {"shape": ["batch", 3, 4]}},
                                     {"affinegrid": {"size": ["batch", 2, 3, 5, 4], "align_corners": True}}]}]


@pytest.mark.parametrize("spec", AFFINE, ids=["2d", "3d"])
@pytest.mark.filterwarnings("ignore:Default grid_sample and affine_grid behavior")
def test_affine_grid_matches_torch(spec):
    from cnncalc.spec import build_graph

    compare(build_graph(spec, "<test>", {}), batch=3)


@pytest.mark.parametrize("theta,size,torch_says", [
    ([2, 3], ["batch", 1, 5], "only supports 4D and 5D sizes"),
    ([3, 4], ["batch", 1, 5, 6], "Expected a batch of 2D affine matrices"),
    ([2, 3], [2, 1, 5, 6], None),  # a number for the batch: the spec's batch is another's
])
def test_affine_grid_refuses_what_torch_refuses(theta, size, torch_says):
    from cnncalc.errors import SpecError
    from cnncalc.spec import build_graph

    if torch_says is not None:
        with pytest.raises((ValueError, NotImplementedError), match=torch_says):
            torch.nn.functional.affine_grid(torch.randn(2, *theta), [2, *size[1:]], align_corners=False)
    spec = {"input": theta, "layers": [{"affinegrid": {"size": size}}]}
    with pytest.raises(SpecError, match="affinegrid"):
        from cnncalc.figures import analyze

        analyze(build_graph(spec, "<test>", {}))
