"""Every layer kind's backward work against a real torch backward pass.

Golden figures: the model built from the same spec, `model(x).sum().backward()` with the input
requiring no grad, as a batch from a data loader, under torch.utils.flop_counter.FlopCounterMode; the
step's count less the forward's, per layer (each autograd node a layer's forward made counts for that
layer) and in total, must be what cnncalc's torch convention says, and 2 × its backward MACs where
torch's rule is the work (conftest.py: compare_backward). Each case runs as written (its input
requires no grad: only weights' gradients), after a trained tensor (its input requires grad), and
frozen after one (its input's gradient only).
"""
from __future__ import annotations

import pytest

from cnncalc.figures import analyze
from cnncalc.layers import REGISTRY
from cnncalc.spec import build_graph
from conftest import compare_backward
from layers.test_attention import PRODUCT_IDS
from layers.test_attention import WEIGHTED
from layers.test_kinds_vs_torch import CASES, CROSS_ATTENTION, JOIN_CASES, LOOKUPS, ONE_HOT, POSITIONS, PRODUCTS
from layers.test_recurrent import CLASSIFIED_STATES, STEPPED
from layers.test_resize import AFFINE, SAMPLED
from layers.test_selection import ALIGNED, KEEPS_ALL, PICKED, POSITIONS_KEPT, SUPPRESSED
from layers.test_slicing import ADDS, WRITES_PART

torch = pytest.importorskip("torch")


def after_a_trained_tensor(spec: dict, frozen: set[str] = frozenset()) -> dict:
    """The spec with its input first added to a trained parameter of its shape (x + p), so every layer
    that read the input reads a tensor requiring grad; the layers named in `frozen` frozen."""
    shape = spec["input"]
    layers = [{"parameter": {"shape": list(shape)}, "name": "trained"},
              {"add": None, "from": ["input", "trained"], "name": "tracked"}]
    for index, layer in enumerate(spec["layers"]):
        layer = dict(layer)
        kind = next(key for key in layer if key in REGISTRY)
        if "from" in layer:
            sources = layer["from"] if isinstance(layer["from"], list) else [layer["from"]]
            layer["from"] = [("tracked" if source == "input" else source) for source in sources]
        elif index == 0 and REGISTRY[kind].arity != 0:
            layer["from"] = "tracked"
        if layer.get("name", kind) in frozen or kind in frozen:
            layer["frozen"] = True
        layers.append(layer)
    return {**spec, "layers": layers}


def _one(kind, args, shape) -> dict:
    return {"input": list(shape), "layers": [{kind: args, "name": "layer"}]}


def _holds_parameters(spec: dict) -> bool:
    return analyze(build_graph(spec, "<test>", {})).layers[-1].params > 0


@pytest.mark.parametrize("kind,args,shape", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_layer_backward_matches_torch(kind, args, shape):
    spec = _one(kind, args, shape)
    compare_backward(build_graph(spec, "<test>", {}))
    if REGISTRY[kind].arity != 0:
        compare_backward(build_graph(after_a_trained_tensor(spec), "<test>", {}))
        if _holds_parameters(spec):
            compare_backward(build_graph(after_a_trained_tensor(spec, {"layer"}), "<test>", {}))


@pytest.mark.parametrize("kind,args,shape,left,right", JOIN_CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(JOIN_CASES)])
def test_join_backward_matches_torch(kind, args, shape, left, right):
    spec = {"input": list(shape), "layers": [{**left, "name": "a", "from": "input"},
                                             {**right, "name": "b", "from": "input"},
                                             {kind: args, "from": ["a", "b"]}]}
    compare_backward(build_graph(spec, "<test>", {}))
    compare_backward(build_graph(after_a_trained_tensor(spec), "<test>", {}))


@pytest.mark.parametrize("spec", PRODUCTS + [CROSS_ATTENTION], ids=[*PRODUCT_IDS, "cross-attention"])
def test_products_backward_match_torch(spec):
    compare_backward(build_graph(spec, "<test>", {}))
    compare_backward(build_graph(after_a_trained_tensor(spec), "<test>", {}))


@pytest.mark.parametrize("kind,args,shape", LOOKUPS, ids=[f"{c[0]}-{i}" for i, c in enumerate(LOOKUPS)])
def test_lookup_backward_matches_torch(kind, args, shape):
    # ids require no grad; the table's rows do, so the linear after it computes its input's gradient
    spec = {"input": list(shape), "input_dtype": "int64", "layers": [{kind: args}, {"linear": {"out_features": 4}}]}
    report = compare_backward(build_graph(spec, "<test>", {}))
    assert report.layers[-1].backward_macs == 2 * report.layers[-1].macs


def test_attention_products_backward_as_torch_forms_them():
    # self-attention after a trained tensor, frozen: the projections and the scores pass gradients
    # to the input, none to the frozen weights; a frozen attention on the raw input computes nothing
    spec = _one("multiheadattention", {"num_heads": 4, "batch_first": True}, (10, 64))
    frozen = compare_backward(build_graph(after_a_trained_tensor(spec, {"layer"}), "<test>", {}))
    assert frozen.layers[-1].backward_macs > 0
    idle = compare_backward(build_graph({**spec, "layers": [{**spec["layers"][0], "frozen": True}]}, "<test>", {}))
    assert idle.totals.backward_macs == 0


def test_positions_numbered_from_ids_have_no_backward_work():
    # ids need no gradient: comparisons, running sums and a gather of a buffer at them compute none
    # (at batch 1: the buffer's one row gathers one sample's positions)
    assert compare_backward(build_graph(POSITIONS, "<test>", {}), batch=1).totals.backward_macs == 0


def test_attention_weights_read_on_take_the_attentions_backward():
    compare_backward(build_graph(WEIGHTED, "<test>", {}))


def test_a_boolean_mask_hands_the_gradient_to_the_rows_it_keeps():
    assert compare_backward(build_graph(KEEPS_ALL, "<test>", {})).totals.backward_macs == 0


@pytest.mark.parametrize("spec", [SUPPRESSED, ALIGNED, POSITIONS_KEPT, PICKED],
                         ids=["nms", "roialign", "nonzero", "indextensor"])
def test_what_boxes_pick_takes_no_products_backward(spec):
    assert compare_backward(build_graph(spec, "<test>", {})).totals.backward_macs == 0


@pytest.mark.parametrize("spec", SAMPLED, ids=["sample", "rows"])
def test_grid_sampling_takes_no_products_backward(spec):
    assert compare_backward(build_graph(spec, "<test>", {})).totals.backward_macs == 0


@pytest.mark.filterwarnings("ignore:Default grid_sample and affine_grid behavior")
def test_an_affine_grids_backward_is_thetas_product():
    # FlopCounterMode counts no MACs of affine_grid_generator forward, and its backward's bmm: theta's gradient,
    # 7·5 points × 3 × 2 a sample, where theta requires grad (from the linear), none where it is the input's
    tracked, untracked = (compare_backward(build_graph(spec, "<test>", {})) for spec in AFFINE)
    assert tracked.layers[-1].backward_macs == 2 * 7 * 5 * 3 * 2
    assert untracked.layers[-1].backward_macs == 0


@pytest.mark.parametrize("spec", ADDS, ids=["add", "alpha", "in-place"])
def test_values_added_at_positions_take_no_products_backward(spec):
    # the values' gradient is the output's picked at the positions (index_select), which FlopCounterMode counts none of
    added = compare_backward(build_graph(spec, "<test>", {})).layers[-2]
    assert added.kind == "indexadd" and added.backward_macs == 0


def test_a_write_hands_the_gradient_to_the_destination_and_the_values():
    assert compare_backward(build_graph(WRITES_PART, "<test>", {})).totals.backward_macs == 0


def test_every_kind_is_held_to_a_real_backward():
    # uncounted states no work of its own, backward's neither: its row makes every total a lower bound
    written = {next(key for key in layer if key in REGISTRY)
               for spec in PRODUCTS + [CROSS_ATTENTION, POSITIONS, ONE_HOT, KEEPS_ALL, WRITES_PART, SUPPRESSED, ALIGNED,
                                       POSITIONS_KEPT, PICKED, CLASSIFIED_STATES, STEPPED, WEIGHTED, *SAMPLED, *AFFINE,
                                       *ADDS]
               for layer in spec["layers"]}
    covered = {kind for kind, *_ in CASES + JOIN_CASES + LOOKUPS} | written | {"uncounted"}
    assert covered == set(REGISTRY)
