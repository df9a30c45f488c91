"""Receptive fields: published values, and the exact input region torch's gradients reach."""
from __future__ import annotations

import json
import time
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cnncalc.figures import analyze
from cnncalc.figures.report import collapse
from cnncalc.figures.rf import number, receptive_fields, row_fields
from cnncalc.layers.conv import _transposed_reads
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


def test_a_collapsed_block_has_its_last_layers_field():
    # By hand, r += (k - 1) · jump: conv1 7 (jump 2), maxpool 11 (jump 4), layer1's three 3×3 convs 35;
    # torchvision strides each stage's first 3×3: layer2 35 + 2·4 + 3·2·8 = 91, layer3 91 + 2·8 + 5·2·16 = 267,
    # layer4 267 + 2·16 + 2·2·32 = 427 (TF-slim's resnet_v1_50, strided last, has 35, 99, 291, 483: Araujo et
    # al., Distill 2019)
    graph = load_model("resnet50")
    report = analyze(graph)
    fields = row_fields(receptive_fields(graph, report), collapse(report, 1))
    assert [fields[stage].size[0] for stage in ("layer1", "layer2", "layer3", "layer4")] == [35, 91, 267, 427]
    assert fields["conv1"].size == (7, 7)


def empirical_interval(graph, layer: str, axis: int):
    """Input pixels that reach the centre unit of `layer`: nonzero gradient with positive weights,
    each layer as the probe runs it (max-pools as average pools of the same window: same field,
    gradients everywhere)."""
    torch = pytest.importorskip("torch")
    from cnncalc.verify.build import build_model
    from cnncalc.verify.fields import probed, with_positive_weights

    nodes = [probed(node) for node in graph.nodes]
    index = [n.name for n in nodes].index(layer)
    model = with_positive_weights(build_model(replace(graph, nodes=tuple(nodes[:index + 1]))).double())
    # small enough that residual sums never saturate ReLU6
    x = torch.full((1, *graph.input_shape), 1e-3, dtype=torch.float64, requires_grad=True)
    out = model(x)
    centre = [size // 2 for size in out.shape[2:]]
    out[(0, slice(None), *centre)].sum().backward()  # all channels: a concat's differ by branch
    spatial = x.grad[0].abs().sum(0)
    others = [d for d in range(spatial.dim()) if d != axis]
    reached = (spatial.sum(others) if others else spatial).nonzero()
    return int(reached.min()), int(reached.max()), centre[axis]


# the whole passes of over 2.5 s on two cores run in the slow set
@pytest.mark.parametrize("model,layer,size", [
    pytest.param("vgg16", "features.28.conv2d", None, marks=pytest.mark.slow), ("resnet18", "layer2.1.6.relu", None),
    pytest.param("resnet18", "layer4.1.6.relu", (3, 480, 480), marks=pytest.mark.slow),
    ("alexnet_original", "features.12.conv2d", None), ("googlenet", "inception4a.4.concat", None),
    ("mobilenet_v2", "features.10.1.add", None),
    pytest.param("densenet121", "features.transition2.pool", None, marks=pytest.mark.slow),
])
def test_receptive_field_is_where_gradients_reach(model, layer, size):
    graph = load_model(model)
    graph = graph.with_input(size) if size else graph
    field = receptive_fields(graph, analyze(graph))[layer]
    assert field.aligned and field.affine
    for axis, length in enumerate(graph.input_shape[1:]):
        first, last, centre = empirical_interval(graph, layer, axis)
        start = centre * field.stride[axis] - field.padding[axis]
        assert (first, last) == (max(int(start), 0), min(int(start + field.size[axis] - 1), length - 1)), axis


DECODER = {"input": [1, 32, 32], "layers": [
    {"conv2d": {"out_channels": 2, "kernel_size": 3, "stride": 4, "padding": 1}},
    {"upsample": {"scale_factor": 4, "mode": "nearest"}, "name": "up"},
    {"conv2d": {"out_channels": 2, "kernel_size": 3, "padding": 1}},
    {"upsample": {"scale_factor": 2, "mode": "bilinear"}},
    {"convtranspose2d": {"out_channels": 2, "kernel_size": 3, "stride": 2, "output_padding": 1}},
    {"pixelunshuffle": {"downscale_factor": 2}}, {"conv2d": {"out_channels": 8, "kernel_size": 1}},
    {"pixelshuffle": {"upscale_factor": 2}}, {"adaptiveavgpool2d": {"output_size": 5}},
    {"upsample": {"size": 13, "mode": "bicubic"}}, {"upsample": {"scale_factor": 1.5, "mode": "nearest-exact"}},
    {"maxpool2d": {"kernel_size": 3, "stride": 2, "ceil_mode": True}}, {"channelshuffle": {"groups": 2}},
    {"groupnorm": {"num_groups": 2}}, {"adaptivemaxpool2d": {"output_size": 3}}]}


@pytest.mark.parametrize("model, size", [("unet", (1, 188, 188)), ("resnet18", (3, 64, 64)), (None, None),
                                         pytest.param("googlenet", (3, 64, 64), marks=pytest.mark.slow)])
def test_every_layer_first_middle_and_last_units_are_where_gradients_reach(model, size):
    pytest.importorskip("torch")
    from cnncalc.spec import build_graph
    from cnncalc.verify.fields import check_fields

    graph = build_graph(DECODER, "<decoder>", {}) if model is None else load_model(model).with_input(size)
    checks = check_fields(graph, analyze(graph))
    assert len(checks) > 10 and all(check.ok for check in checks), [c for c in checks if not c.ok][:2]


NORMS = {"input": [3, 32, 32], "layers": [
    {"conv2d": {"out_channels": 4, "kernel_size": 3, "padding": 1}}, {"instancenorm2d": {}},
    {"conv2d": {"out_channels": 4, "kernel_size": 3, "stride": 2}}, {"groupnorm": {"num_groups": 2}},
    {"conv2d": {"out_channels": 4, "kernel_size": 3}}, {"layernorm": {"normalized_shape": [4, 13, 13]}},
    {"maxpool2d": {"kernel_size": 2}}]}


def test_norms_taking_statistics_of_their_input_are_probed_on_their_stated_field():
    # instance, group and layer norms over the image give every pixel a gradient through their mean and
    # variance; the field they state is elementwise (as batch norm's, whose statistics are running ones),
    # and the probe checks that geometry: before their stand-ins, every layer from the first failed
    pytest.importorskip("torch")
    from cnncalc.spec import build_graph
    from cnncalc.verify.fields import check_fields

    graph = build_graph(NORMS, "<norms>", {})
    checks = check_fields(graph, analyze(graph))
    assert len(checks) == 7 and all(check.ok for check in checks), [c.layer for c in checks if not c.ok]


def test_nearest_upsampling_gives_four_units_one_field():
    # after a 3×3 stride-4 conv and nearest ×4 upsampling, units 4k … 4k+3 all see rows 4k−1 … 4k+1
    from cnncalc.figures.rf import unit_interval
    from cnncalc.spec import build_graph

    graph = build_graph({"input": DECODER["input"], "layers": DECODER["layers"][:2]}, "<decoder>", {})
    report = analyze(graph)
    for k in range(8):
        fields = {tuple(unit_interval(graph, report, "up", (4 * k + j, 0))[0]) for j in range(4)}
        assert fields == {(4 * k - 1, 4 * k + 1)}
    assert not receptive_fields(graph, report)["up"].affine


def test_rf_of_one_unit_json_and_table(tmp_path):
    spec = tmp_path / "decoder.yaml"
    spec.write_text(json.dumps(DECODER))
    data = json.loads(run_cli("rf", str(spec), "--layer", "up", "--unit", "4,31", "-f", "json").stdout)
    assert data == {"model": "decoder", "layer": "up", "unit": [4, 31], "rows": [3, 5], "cols": [27, 29],
                    "clipped": {"rows": [3, 5], "cols": [27, 29]}}
    # conv 3×3 stride 4 pad 1: unit 0 starts one row above the image
    corner = json.loads(run_cli("rf", str(spec), "--layer", "0.conv2d", "--unit", "0,7", "-f", "json").stdout)
    assert (corner["rows"], corner["clipped"]["rows"], corner["cols"]) == ([-1, 1], [0, 1], [27, 29])
    table = run_cli("rf", str(spec), "--layer", "up", "--unit", "4,31").stdout
    assert "rows   3 … 5" in table and "clipped to the image: 27 … 29" in table
    rows = {line.split()[0]: line for line in run_cli("rf", str(spec)).stdout.splitlines()}
    assert "not affine" in rows["up"] and rows["up"].split()[-2:] == ["–", "–"]
    for args, message in ((("--unit", "1,1"), "--unit needs --layer"), (("--layer", "upp"), "did you mean 'up'"),
                          (("--layer", "up", "--unit", "40,1"), "outside layer 'up' (32×32)"),
                          (("--layer", "up", "--unit", "1"), "takes 2 index(es)")):
        result = run_cli("rf", str(spec), *args)
        assert result.returncode == 2 and message in result.stderr, args


def test_after_global_pooling_the_true_extent():
    # vgg16's pool5 (Araujo et al.: field 212, stride 32, padding 90): unit 0 sees −90 … 121 and
    # unit 6 sees 102 … 313, so the classifier sees −90 … 313, the whole 224×224 image
    data = json.loads(run_cli("rf", "vgg16", "--layer", "classifier.6.linear", "-f", "json").stdout)
    assert (data["unit"], data["rows"], data["clipped"]["rows"]) == ([], [-90, 313], [0, 223])


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


def test_a_parameter_sees_nothing_and_adds_nothing_to_a_field():
    # a learned per-position bias added to a conv's output: the sum sees what the conv sees
    # (3×3), the bias itself no input; verify's gradient check agrees
    from cnncalc.spec import build_graph
    graph = build_graph({"input": [1, 9, 9], "layers": [
        {"conv2d": {"out_channels": 2, "kernel_size": 3}, "name": "conv"},
        {"parameter": {"shape": [2, 7, 7]}, "name": "bias"},
        {"add": None, "from": ["conv", "bias"], "name": "sum"}]}, "<test>", {})
    fields = receptive_fields(graph, analyze(graph))
    assert fields["bias"] is None and fields["sum"].size == (3, 3)
    from cnncalc.verify.fields import check_fields
    checks = check_fields(graph, analyze(graph))
    assert [c.layer for c in checks] == ["conv", "sum"] and all(c.expected == c.measured for c in checks)


@pytest.mark.parametrize("kind", ["reflectionpad2d", "replicationpad2d"])
def test_mirrored_and_repeated_borders_are_where_gradients_reach(kind):
    # a unit near the border of a reflection-padded input reads the mirrored pixels; replication, the
    # edge: torch's gradients reach exactly the intervals cnncalc gives for the first, middle and last units
    from cnncalc.spec import build_graph
    from cnncalc.verify.fields import check_fields
    graph = build_graph({"input": [1, 9, 7], "layers": [{kind: {"padding": [3, 1, 2, 2]}},
                                                        {"conv2d": {"out_channels": 2, "kernel_size": 3}}]},
                        "<test>", {})
    checks = check_fields(graph, analyze(graph))
    assert len(checks) == 2 and all(c.expected == c.measured for c in checks), checks


def test_no_field_is_stated_past_a_layer_that_moves_the_spatial_axes():
    # a ConvNeXt block: channels-last for its norm and MLP, then back, added to its input. Along the
    # permuted tensor's dims 2 and 3 (W and C) no field is per axis, and the sum reads that branch: the
    # conv's field alone would understate it, so neither it nor anything after states a field
    from cnncalc.spec import build_graph
    graph = build_graph({"input": [4, 9, 9], "layers": [
        {"conv2d": {"out_channels": 4, "kernel_size": 7, "padding": 3, "groups": 4}, "name": "dwconv"},
        {"permute": {"dims": [0, 2, 3, 1]}, "name": "last"},
        {"linear": {"out_features": 4}, "name": "mlp"},
        {"permute": {"dims": [0, 3, 1, 2]}, "name": "first"},
        {"add": None, "from": ["first", "input"], "name": "sum"},
        {"conv2d": {"out_channels": 4, "kernel_size": 3}, "name": "next"}]}, "<test>", {})
    fields = receptive_fields(graph, analyze(graph))
    assert fields["dwconv"].size == (7, 7)
    assert [fields[name] for name in ("last", "mlp", "first", "sum", "next")] == [None] * 5
    from cnncalc.verify.fields import check_fields
    checks = check_fields(graph, analyze(graph))
    assert [c.layer for c in checks] == ["dwconv"] and all(c.expected == c.measured for c in checks)


def _reached(s: int, p: int, k: int, d: int, lo: int, hi: int, size: int):
    """By its definition (torch's conv_transpose: input i adds to outputs i·s − p + t·d, t < k), unit
    by unit: the first and last input unit that outputs lo … hi read."""
    units = [i for i in range(size) for t in range(k) if lo <= i * s - p + t * d <= hi]
    return (min(units), max(units)) if units else None


@settings(max_examples=400, deadline=None)
@given(s=st.integers(1, 6), p=st.integers(0, 5), k=st.integers(1, 5), d=st.integers(1, 7), size=st.integers(1, 6),
       data=st.data())
def test_transposed_conv_reads_in_closed_form_as_by_definition(s, p, k, d, size, data):
    out = (size - 1) * s - 2 * p + d * (k - 1) + 1 + data.draw(st.integers(0, min(s, d) - 1))
    if out < 1:
        return
    lo = data.draw(st.integers(0, out - 1))
    hi = data.draw(st.integers(lo, out - 1))
    args = {"stride": (s,), "padding": (p,), "kernel_size": (k,), "dilation": (d,)}
    assert _transposed_reads(args, 0, lo, hi, size) == _reached(s, p, k, d, lo, hi, size)


def test_a_huge_kernel_is_no_walk(tmp_path):
    # kernel 10^8: one unit's field was a walk over every tap (minutes); output o = i + 3·t reads the
    # inputs i ≡ o (mod 3) of the four: 0 and 3
    spec = tmp_path / "wide.yaml"
    spec.write_text("input: [1, 4]\nlayers:\n  - convtranspose1d: {out_channels: 1, kernel_size: 100000000, "
                    "dilation: 3}\n")
    start = time.monotonic()
    result = run_cli("rf", str(spec), "--layer", "0.convtranspose1d", "--unit", "150000000", "-f", "json")
    assert time.monotonic() - start < 5
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["cols"] == [0, 3] == list(_reached(1, 0, 3, 3, 3, 3, 4))  # the same, small
