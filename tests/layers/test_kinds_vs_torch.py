"""Every layer kind has a case against a real torch forward pass (each module's own in
tests/layers/test_<module>.py); batches, frozen layers, tensors parameters alone make, and the
arguments torch refuses.

Golden figures: torch.nn modules built from the same arguments, their output shapes, parameter and
buffer numel, and torch.utils.flop_counter.FlopCounterMode's count / 2 as MACs.
"""
from __future__ import annotations

import pytest

from cnncalc.layers import REGISTRY
from cnncalc.spec import build_graph
from conftest import compare, one_layer

from . import (test_activation, test_attention, test_conv, test_embedding, test_join, test_linear, test_norm,
               test_parameter, test_pool, test_rearrange, test_recurrent, test_reduce, test_resize, test_selection,
               test_slicing)

torch = pytest.importorskip("torch")

# every module's cases, for the tests that hold other walks to them (backward, saved tensors, peers, imports)
CASES = [case for module in (test_activation, test_attention, test_conv, test_join, test_linear, test_norm,
                             test_parameter, test_pool, test_rearrange, test_recurrent, test_reduce, test_resize,
                             test_selection, test_slicing) for case in module.CASES]
JOIN_CASES, LOOKUPS, POSITIONS = test_join.JOIN_CASES, test_embedding.LOOKUPS, test_embedding.POSITIONS
ONE_HOT = test_embedding.ONE_HOT
PRODUCTS, CROSS_ATTENTION = test_attention.PRODUCTS, test_attention.CROSS_ATTENTION


def test_every_kind_has_a_case():
    # booleanmask, nonzero, bitwiseand, indextensor, nms and roialign: test_selection.py, on masks,
    # indices, boxes and rois layers make; indexput and indexadd: test_slicing.py, values of another branch;
    # gridsample and affinegrid: test_resize.py, at a grid layers make and of matrices; cdist: test_attention.py,
    # between two tensors; onehot: test_embedding.py, of ids and of a choice; finalstate and cellstate:
    # test_recurrent.py, of a recurrent layer's run and an LSTM cell's; attentionweights: test_attention.py, of
    # multi-head attention's
    products = {"matmul", "scaleddotproductattention", "einsum", "indexselect", "addcmul", "baddbmm", "gather", "booleanmask",
                "indexput", "nonzero", "bitwiseand", "indextensor", "nms", "roialign", "gridsample", "cdist", "onehot",
                "finalstate", "cellstate", "attentionweights", "affinegrid", "indexadd"}
    # uncounted computes nothing of its own: it is held to torch where the importer makes it
    # (test_import_vocabulary.py: test_what_no_kind_states_is_a_row_not_counted)
    covered = {kind for kind, *_ in CASES + JOIN_CASES + LOOKUPS} | products | {"uncounted"}
    assert covered == set(REGISTRY)


@pytest.mark.parametrize("batch", [1, 3])
def test_batch_scales_macs_and_activations(batch):
    compare(one_layer("conv2d", {"out_channels": 4, "kernel_size": 3}, (2, 8, 8),
                      [{"flatten": None}, {"linear": {"out_features": 3}}]), batch)


def test_frozen_layers_are_not_trainable():
    compare(one_layer("conv2d", {"out_channels": 4, "kernel_size": 3}, (2, 8, 8),
                      [{"batchnorm2d": None, "frozen": True}]))


def test_what_parameters_alone_make_is_made_once_per_batch():
    # a parameter and a product of parameters (a position bias) are one tensor for the whole batch:
    # torch counts their elements and MACs once at batch 3, not three times
    spec = {"input": [10, 8], "layers": [{"parameter": {"shape": [8, 5]}, "name": "w"},
                                         {"parameter": {"shape": [5, 5]}, "name": "p"},
                                         {"matmul": None, "from": ["w", "p"], "name": "wp"},
                                         {"matmul": None, "from": ["input", "wp"]}]}
    compare(build_graph(spec, "<test>", {}), batch=3)


# Arguments torch refuses at the input given, refused by cnncalc at load: torch's own error is the
# golden answer (softmax: "Dimension out of range"; F.pad circular: "Padding value causes wrapping
# around more than once").
REFUSED = [
    ("softmax", {"dim": 7}, (3, 8, 8), lambda torch: torch.nn.Softmax(dim=7)),
    ("softmax", {"dim": -5}, (3, 8, 8), lambda torch: torch.nn.Softmax(dim=-5)),
    ("logsoftmax", {"dim": -9}, (3, 8, 8), lambda torch: torch.nn.LogSoftmax(dim=-9)),
    ("softshrink", {"lambd": -0.5}, (3, 8), lambda torch: torch.nn.Softshrink(-0.5)),
    ("rrelu", {"lower": 0.5, "upper": 0.25}, (3, 8), lambda torch: torch.nn.RReLU(0.5, 0.25)),
    ("logsoftmax", {"dim": 2}, (5,), lambda torch: torch.nn.LogSoftmax(dim=2)),
    ("conv2d", {"out_channels": 4, "kernel_size": 3, "padding": 7, "padding_mode": "circular"}, (2, 6, 6),
     lambda torch: torch.nn.Conv2d(2, 4, 3, padding=7, padding_mode="circular")),
    ("conv1d", {"out_channels": 4, "kernel_size": 3, "padding": [6], "padding_mode": "circular"}, (2, 5),
     lambda torch: torch.nn.Conv1d(2, 4, 3, padding=6, padding_mode="circular")),
    ("conv1d", {"out_channels": 2, "kernel_size": 9, "padding": "same", "padding_mode": "circular"}, (2, 3),
     lambda torch: torch.nn.Conv1d(2, 2, 9, padding="same", padding_mode="circular")),
]
# and their edges, which torch takes: the last dim either way, circular padding as wide as the input
ACCEPTED_EDGES = [
    ("softmax", {"dim": -4}, (3, 8, 8)),
    ("logsoftmax", {"dim": 3}, (3, 8, 8)),
    ("conv2d", {"out_channels": 4, "kernel_size": 3, "padding": 6, "padding_mode": "circular"}, (2, 6, 6)),
    ("conv1d", {"out_channels": 2, "kernel_size": 7, "padding": "same", "padding_mode": "circular"}, (2, 3)),
]


@pytest.mark.parametrize("kind,args,shape,module", REFUSED, ids=[f"{c[0]}-{i}" for i, c in enumerate(REFUSED)])
def test_what_torch_refuses_is_refused(kind, args, shape, module):
    import torch

    from cnncalc.errors import SpecError
    from cnncalc.figures import analyze

    with pytest.raises((IndexError, RuntimeError)):
        module(torch)(torch.zeros(1, *shape))
    with pytest.raises(SpecError):
        analyze(one_layer(kind, args, shape))


@pytest.mark.parametrize("kind,args,shape", ACCEPTED_EDGES, ids=[f"{c[0]}-{i}" for i, c in enumerate(ACCEPTED_EDGES)])
def test_the_edges_torch_takes_match_torch(kind, args, shape):
    compare(one_layer(kind, args, shape))
