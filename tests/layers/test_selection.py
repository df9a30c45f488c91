"""What a run's data picks (cnncalc/layers/selection.py) against a real torch forward pass.

Golden figures: the torch modules built from the same arguments, their output shapes, parameter and
buffer numel, and torch.utils.flop_counter.FlopCounterMode's count / 2 as MACs (0: topk, sort, unique and a
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
    ("sort", None, (4, 6)),
    ("sort", {"dim": 1, "descending": True}, (5, 3, 3)),
    ("topkindices", {"k": 3}, (4, 6)),  # values, indices = x.topk(k): the indices, int64
    ("topkindices", {"k": 2, "dim": 1, "largest": False}, (5, 3, 3)),
    ("argsort", None, (4, 6)),
    ("argsort", {"dim": 1, "descending": True}, (5, 3, 3)),
    ("unique", {"count": 7}, (4, 6)),  # of 24 values, 7 distinct (which, only they say)
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


# rows of the input as boxes and scores: nms keeps 3 of the 6, and the rows at its indices are picked;
# roialign pools the feature map once per row of rois (12 rows of 5 made of the input)
SUPPRESSED = {"input": [6, 5], "layers": [{"narrow": {"dim": 2, "start": 0, "length": 4}, "name": "boxes"},
                                          {"select": {"dim": 2, "index": 4}, "name": "scores", "from": "input"},
                                          {"nms": {"count": 3}, "from": ["boxes", "scores"], "name": "keep"},
                                          {"indexselect": {"dim": 1}, "from": ["input", "keep"]}]}
ALIGNED = {"input": [3, 8, 8], "layers": [{"reshape": {"shape": ["batch", 12, 16]}, "name": "rows"},
                                          {"narrow": {"dim": 2, "start": 0, "length": 5}, "name": "rois"},
                                          {"roialign": {"pooled_height": 2, "pooled_width": 3, "spatial_scale": 0.5},
                                           "from": ["input", "rois"]}]}


@pytest.mark.parametrize("spec", [SUPPRESSED, ALIGNED], ids=["nms", "roialign"])
def test_what_boxes_pick_matches_torch(spec):
    compare(build_graph(spec, "<test>", {}))


@pytest.mark.libraries
def test_nms_and_roi_align_are_torchvisions():
    # torchvision's own ops on real boxes: the indices nms keeps, and roi_align's K × C × 2 × 3
    torchvision = pytest.importorskip("torchvision")
    from cnncalc.figures import analyze

    generator = torch.Generator().manual_seed(0)
    corners = torch.rand(20, 2, generator=generator) * 50
    boxes = torch.cat([corners, corners + 1 + torch.rand(20, 2, generator=generator) * 30], 1)
    scores = torch.rand(20, generator=generator)
    keep = torchvision.ops.nms(boxes, scores, 0.3)
    assert 0 < len(keep) < 20
    spec = {"input": [20, 5], "layers": [{"narrow": {"dim": 2, "start": 0, "length": 4}, "name": "boxes"},
                                         {"select": {"dim": 2, "index": 4}, "name": "scores", "from": "input"},
                                         {"nms": {"count": len(keep), "iou_threshold": 0.3}, "from": ["boxes", "scores"]}]}
    assert analyze(build_graph(spec, "<test>", {})).layers[-1].output_shape == tuple(keep.shape)
    rois = torch.cat([torch.zeros(20, 1), boxes], 1)
    pooled = torchvision.ops.roi_align(torch.randn(1, 3, 64, 64), rois, (2, 3), 0.5, 2, True)
    spec = {"input": [3, 64, 64], "other_inputs": {"rois": {"shape": [20, 5]}}, "layers": [
        {"roialign": {"pooled_height": 2, "pooled_width": 3, "spatial_scale": 0.5, "sampling_ratio": 2,
                      "aligned": True}, "from": ["input", "rois"]}]}
    assert analyze(build_graph(spec, "<test>", {})).layers[-1].output_shape == tuple(pooled.shape)


# torch.where((x[:, 0] > 0) & (x[:, 1] > 0))[0]: the positions of the rows both masks keep (a spec
# states how many, 4 of 6), as remove_small_boxes keeps a box both wide and tall enough
POSITIONS_KEPT = {"input": [6, 4], "layers": [{"select": {"dim": 2, "index": 0}},
                                              {"gt": {"other": 0}, "name": "wide"},
                                              {"select": {"dim": 2, "index": 1}, "from": "input"},
                                              {"gt": {"other": 0}, "name": "tall"},
                                              {"bitwiseand": None, "from": ["wide", "tall"]},
                                              {"nonzero": {"count": 4}, "name": "kept"},
                                              {"indexselect": {"dim": 1}, "from": ["input", "kept"]}]}


def test_the_positions_a_mask_keeps_match_torch():
    compare(build_graph(POSITIONS_KEPT, "<test>", {}))


def test_unique_has_as_many_values_as_torch_finds():
    from cnncalc.figures import analyze

    x = torch.tensor([[[3.0, 1.0, 3.0], [2.0, 1.0, 5.0]]])
    found = torch.unique(x)  # 1, 2, 3, 5
    assert analyze(one_layer("unique", {"count": len(found)}, (2, 3))).layers[-1].output_shape == tuple(found.shape)
    assert torch.unique(x[:, :0]).shape == (0,)  # none of none; of 6 values, one at least and 6 at most
    for count in (0, 7):
        with pytest.raises(SpecError, match="from 1 to 6 distinct values"):
            analyze(one_layer("unique", {"count": count}, (2, 3)))


# x[i, j] with index tensors made of the input: 6 rows, each picking along its 4 (Mask R-CNN's
# mask_prob[torch.arange(N), labels], each box's mask of its class); the stand-in takes each index
# modulo the size it picks from
PICKED = {"input": [6, 4, 3], "layers": [{"select": {"dim": 3, "index": 0}, "name": "first"},
                                         {"select": {"dim": 2, "index": 0}, "name": "rows"},
                                         {"select": {"dim": 2, "index": 1}, "name": "labels", "from": "first"},
                                         {"indextensor": None, "from": ["input", "rows", "labels"]}]}


def test_index_tensors_pick_as_torch_picks():
    from cnncalc.figures import analyze

    compare(build_graph(PICKED, "<test>", {}))
    masks, labels = torch.randn(6, 4, 3), torch.tensor([0, 3, 1, 1, 2, 0])
    picked = masks[torch.arange(6), labels]  # torch's own: a row each, the dims after the two picked
    spec = {"input": [6, 4, 3], "other_inputs": {"rows": {"shape": [6]}, "labels": {"shape": [6]}},
            "layers": [{"indextensor": None, "from": ["input", "rows", "labels"]}]}
    assert analyze(build_graph(spec, "<test>", {})).layers[-1].output_shape == tuple(picked.shape)
    assert masks[torch.arange(6)[:, None], labels[:2]].shape == (6, 2, 3)  # indices broadcast together
    spec["other_inputs"] = {"rows": {"shape": [6, 1]}, "labels": {"shape": [2]}}
    assert analyze(build_graph(spec, "<test>", {})).layers[-1].output_shape == (6, 2, 3)
