"""Each counting convention equals its peer tool exactly: on the published measurements of
torchvision's models, and by running the tool itself on every zoo model and every layer kind."""
from __future__ import annotations

import pytest

from cnncalc.figures.conventions import CONVENTIONS
from cnncalc.errors import SpecError
from cnncalc.figures import analyze
from cnncalc.spec.zoo import load_model
from conftest import ZOO_CASES, one_layer, peer_table
from layers.test_kinds_vs_torch import CASES, JOIN_CASES, LOOKUPS, POSITIONS, PRODUCTS

PEERS = peer_table()
COLUMNS = {"fvcore": "fvcore", "torch": "torch_flop_counter", "torchinfo": "torchinfo_mult_adds",
           "ptflops": "ptflops_macs", "thop": "thop_macs"}
TOOLS = list(COLUMNS)


@pytest.mark.parametrize("tool", TOOLS)
@pytest.mark.parametrize("model", sorted(PEERS))
def test_equals_published_peer_measurement(model, tool):
    # shared/reference/peer_tools_measured.tsv: each tool run on torchvision's own model
    assert analyze(load_model(model), convention_name=tool).totals.ops == PEERS[model][COLUMNS[tool]]


def small_input(graph):
    """A smaller input where the model stays valid, so running five tools on the zoo stays quick."""
    for size in (96, 128, 160, 188):
        if graph.input_shape[1] <= size:
            break
        try:
            smaller = graph.with_input((graph.input_shape[0], size, size))
            analyze(smaller)
            return smaller
        except SpecError:
            continue
    return graph


def assert_peers_agree(graph, name: str, batch: int = 1) -> None:
    pytest.importorskip("torch")
    from cnncalc.verify.build import build_model, sample_inputs
    from cnncalc.verify.peers import RUNNERS, installed

    model = build_model(graph)
    x = sample_inputs(graph, batch)
    for tool in installed():
        count = RUNNERS[tool](model, x)
        report = analyze(graph, batch=batch, convention_name=tool)
        if count.layers is not None:
            for row, theirs in zip(report.layers[1:], count.layers):
                assert row.ops == theirs, f"{name}: {tool}: layer {row.name}: cnncalc {row.ops} != {theirs}"
        assert report.totals.ops == count.total, \
            f"{name} at batch {batch}: {tool} total: cnncalc {report.totals.ops} != {count.total}"


# Every count scales with the batch, but not always as the batch: ptflops divides what its module hooks
# count by the batch and adds what its patched functions count for the whole batch.
BATCHES = [1, 2, pytest.param(3, marks=pytest.mark.slow)]  # batch 3 in the slow set: 2 already divides


@pytest.mark.parametrize("model", ZOO_CASES)
def test_peer_tools_on_every_zoo_model(model):
    assert_peers_agree(small_input(load_model(model)), model)


# Models past batch 1: ReLU and pooling modules, functional F.relu (GoogLeNet) and adaptive pooling
# (DenseNet), squeeze-excitation, upsampling and transposed convs (U-Net); the slower ones in the slow set.
LARGER_BATCHES = ["resnet18", "googlenet", "mobilenet_v3_small", "squeezenet1_1",
                  *(pytest.param(model, marks=pytest.mark.slow) for model in ("densenet121", "inception_v3", "unet"))]


@pytest.mark.parametrize("batch", [2, pytest.param(3, marks=pytest.mark.slow)])
@pytest.mark.parametrize("model", LARGER_BATCHES)
def test_peer_tools_on_zoo_models_past_batch_one(model, batch):
    assert_peers_agree(small_input(load_model(model)), model, batch)


def test_ptflops_total_is_int_of_its_sum():
    # ptflops sums its module counts, divides by the batch, adds its functional counts (F.interpolate's by a
    # scale factor is a float) and takes int() once: two upsamplings of 98 outputs per sample, each a
    # fraction over, and a linear layer and a ReLU on a parameter alone, counted once, per sample a third
    pytest.importorskip("ptflops")
    from cnncalc.spec import build_graph
    from cnncalc.verify.build import build_model, sample_inputs
    from cnncalc.verify.peers import run_ptflops

    graph = build_graph({"input": [2, 5, 5], "layers": [
        {"upsample": {"scale_factor": 1.5, "mode": "bilinear"}, "name": "up"},
        {"upsample": {"scale_factor": 1.5, "mode": "bilinear"}, "from": "input", "name": "again"},
        {"parameter": {"shape": [1, 7]}, "name": "p"}, {"linear": {"out_features": 2}, "from": "p"}, {"relu": None},
        {"add": None, "from": ["up", "again"]}]}, "<test>", {})
    model = build_model(graph)
    for batch in (1, 2, 3):
        report = analyze(graph, batch=batch, convention_name="ptflops")
        assert report.totals.ops == run_ptflops(model, sample_inputs(graph, batch)).total, batch
        if batch != 2:  # where every part is whole, the rows add up to the total; here their fractions add to one
            assert report.totals.ops == sum(row.ops for row in report.layers) + 1


# Layer/tool pairs a tool cannot count at all (it crashes or returns fractions), with the reason.
UNCOUNTABLE = {
    ("softmax", "thop"): "thop indexes x.size()[m.dim] and fails on dim=None",
}


@pytest.mark.parametrize("batch", BATCHES)
@pytest.mark.parametrize("kind,args,shape", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_peer_tools_on_every_layer_kind(kind, args, shape, batch):
    graph = one_layer(kind, args, shape)
    if kind == "softmax" and (args or {}).get("dim") is None:
        pytest.skip(UNCOUNTABLE[("softmax", "thop")])
    assert_peers_agree(graph, kind, batch)


@pytest.mark.parametrize("batch", BATCHES)
@pytest.mark.parametrize("kind,args,shape,left,right", JOIN_CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(JOIN_CASES)])
def test_peer_tools_on_joins(kind, args, shape, left, right, batch):
    from cnncalc.spec import build_graph

    layers = [{**left, "name": "a", "from": "input"}, {**right, "name": "b", "from": "input"},
              {kind: args, "from": ["a", "b"]}]
    assert_peers_agree(build_graph({"input": list(shape), "layers": layers}, "<test>", {}), kind, batch)


@pytest.mark.parametrize("batch", BATCHES)
@pytest.mark.parametrize("kind,args,shape", LOOKUPS, ids=[f"{c[0]}-{i}" for i, c in enumerate(LOOKUPS)])
def test_peer_tools_on_lookup_tables(kind, args, shape, batch):
    from cnncalc.spec import build_graph

    spec = {"input": list(shape), "input_dtype": "int64", "layers": [{kind: args}]}
    assert_peers_agree(build_graph(spec, "<test>", {}), kind, batch)


def test_peer_tools_on_positions_numbered_from_ids():
    from cnncalc.spec import build_graph

    assert_peers_agree(build_graph(POSITIONS, "<test>", {}), "positions")


def test_every_convention_is_documented():
    assert set(CONVENTIONS) == {"torchvision", *TOOLS}
    assert all(c.source for c in CONVENTIONS.values())


@pytest.mark.parametrize("batch", BATCHES)
def test_peer_tools_on_cross_attention(batch):
    from cnncalc.spec import build_graph
    from layers.test_kinds_vs_torch import CROSS_ATTENTION

    assert_peers_agree(build_graph(CROSS_ATTENTION, "<test>", {}), "cross attention", batch)


@pytest.mark.parametrize("batch", BATCHES)
@pytest.mark.parametrize("index", range(len(PRODUCTS)))
def test_peer_tools_on_products(index, batch):
    # the last: F.conv2d(x, weight), which the tools that hook torch.nn.Conv2d miss, torchinfo sees the bias of
    from cnncalc.spec import build_graph

    assert_peers_agree(build_graph(PRODUCTS[index], "<test>", {}), f"product {index}", batch)



@pytest.mark.parametrize("batch", BATCHES)
@pytest.mark.filterwarnings("ignore:Default grid_sample and affine_grid behavior")
def test_peer_tools_on_a_spatial_transformer(batch):
    # a grid from each sample's matrix (F.affine_grid, which none counts) and the input sampled at it
    # (fvcore's aten::grid_sampler handle: 4 per output element)
    from cnncalc.spec import build_graph
    from layers.test_resize import AFFINE, SAMPLED

    assert_peers_agree(build_graph(AFFINE[0], "<test>", {}), "affine grid", batch)
    assert_peers_agree(build_graph(SAMPLED[0], "<test>", {}), "grid sample", batch)
