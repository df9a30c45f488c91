"""Receptive fields: published values, and the exact input region torch's gradients reach."""
from __future__ import annotations

import json
from dataclasses import replace

import pytest

from cnncalc.figures import analyze
from cnncalc.figures.rf import number, receptive_fields
from cnncalc.spec.zoo import load_model
from conftest import run_cli


def field_of(model: str, layer: str):
    graph = load_model(model)
    return receptive_fields(graph, analyze(graph))[layer]


@pytest.mark.parametrize("model,layer,size", [
    # Araujo, Norris and Sim, Distill 2019, table of receptive fields: vgg_16 212, alexnet_v2 195
    ("vgg16", "features.30.maxpool2d", 212),
    ("alexnet_original", "features.14.maxpool2d", 195),
])
def test_published_receptive_fields(model, layer, size):
    assert field_of(model, layer).size == (size, size)


def empirical_interval(graph, layer: str, axis: int):
    """Input pixels that reach the centre unit of `layer`: nonzero gradient with positive weights,
    max-pools replaced by average pools of the same window (same field, gradients everywhere)."""
    torch = pytest.importorskip("torch")
    from cnncalc.verify.build import build_model

    nodes = []
    for node in graph.nodes:
        if node.kind.startswith("maxpool") and all(d == 1 for d in node.args["dilation"]):
            args = {k: node.args[k] for k in ("kernel_size", "stride", "padding", "ceil_mode")}
            node = replace(node, kind="avgpool" + node.kind[-2:], args={**args, "count_include_pad": True,
                                                                         "divisor_override": None})
        nodes.append(node)
    index = [n.name for n in nodes].index(layer)
    truncated = replace(graph, nodes=tuple(nodes[:index + 1]))
    model = build_model(truncated).double()
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            parameter.fill_(1.0 / max(parameter[0].numel(), 1) if name.endswith("weight") else 0.0)
        for name, buffer in model.named_buffers():
            if name.endswith("running_var"):
                buffer.fill_(1.0)
            elif name.endswith("running_mean"):
                buffer.zero_()
    # small enough that residual sums never saturate ReLU6
    x = torch.full((1, *graph.input_shape), 1e-3, dtype=torch.float64, requires_grad=True)
    out = model(x)
    centre = [size // 2 for size in out.shape[2:]]
    out[(0, slice(None), *centre)].sum().backward()  # all channels: a concat's differ by branch
    spatial = x.grad[0].abs().sum(0)
    others = [d for d in range(spatial.dim()) if d != axis]
    reached = (spatial.sum(others) if others else spatial).nonzero()
    return int(reached.min()), int(reached.max()), centre[axis]


@pytest.mark.parametrize("model,layer,size", [
    ("vgg16", "features.28.conv2d", None), ("resnet18", "layer2.1.6.relu", None),
    ("resnet18", "layer4.1.6.relu", (3, 480, 480)), ("alexnet_original", "features.12.conv2d", None),
    ("googlenet", "inception4a.4.concat", None), ("mobilenet_v2", "features.10.1.add", None),
    ("unet", "dec3.3.3.relu", (1, 188, 188)), ("densenet121", "features.transition2.pool", None),
])
def test_receptive_field_is_where_gradients_reach(model, layer, size):
    graph = load_model(model)
    graph = graph.with_input(size) if size else graph
    field = receptive_fields(graph, analyze(graph))[layer]
    assert field.aligned
    for axis, length in enumerate(graph.input_shape[1:]):
        first, last, centre = empirical_interval(graph, layer, axis)
        start = centre * field.stride[axis] - field.padding[axis]
        assert (first, last) == (max(int(start), 0), min(int(start + field.size[axis] - 1), length - 1)), axis


def test_misaligned_join_is_reported():
    # one branch is padded on the left only: its fields sit half a pixel off the other branch's
    from cnncalc.spec import build_graph
    graph = build_graph({"input": [1, 8, 8], "layers": [
        {"conv2d": {"out_channels": 2, "kernel_size": 1}, "name": "a"},
        {"zeropad2d": {"padding": [1, 0, 1, 0]}, "from": "input"},
        {"conv2d": {"out_channels": 2, "kernel_size": 2}, "name": "b"},
        {"add": None, "from": ["a", "b"], "name": "sum"}]}, "<test>", {})
    fields = receptive_fields(graph, analyze(graph))
    assert fields["a"].aligned and fields["b"].aligned and not fields["sum"].aligned


def test_inception_grid_reductions_are_aligned():
    # Mixed_6a's stride-2 branches (3×3; 1×1→3×3→3×3; max-pool) are centred alike
    graph = load_model("inception_v3")
    assert receptive_fields(graph, analyze(graph))["Mixed_6a.5.concat"].aligned


def test_rf_json_and_table():
    data = json.loads(run_cli("rf", "vgg16", "-f", "json").stdout)
    layer = next(item for item in data["layers"] if item["name"] == "features.30.maxpool2d")
    assert (layer["size"], layer["stride"], layer["aligned"]) == ([212, 212], [32, 32], True)
    assert data["layers"][-1]["whole_input"] is True
    table = run_cli("table", "resnet18", "--columns", "rf").stdout
    layer4 = next(line for line in table.splitlines() if line.lstrip().startswith("6.relu") and "512×7×7" in line)
    assert layer4.split()[-1] == "435"


def test_transposed_conv_has_fractional_stride():
    graph = load_model("unet")
    field = receptive_fields(graph, analyze(graph))["dec4.upconv"]
    assert number(field.stride[0]) == 8  # 16 / 2
