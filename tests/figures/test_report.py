"""Per-layer figures and their totals (`analyze`), and blocks collapsed by depth as torchinfo's `depth=`
shows them. Golden figures: torch's documented parameter shapes in closed form, and torchvision's
published resnet18 (11,689,512 parameters)."""
from __future__ import annotations

import pytest

from cnncalc.errors import SpecError
from cnncalc.figures.report import analyze, block_rows, collapse
from cnncalc.spec.zoo import load_model

# torchvision's resnet18 as torch holds it, by top-level child: conv1 Conv2d(3, 64, 7) 64·3·7·7; bn1 2·64;
# layerN: BasicBlocks of two 3×3 convs and two BatchNorm2d, the first of layers 2-4 with a 1×1 stride-2
# downsample conv and its BatchNorm2d; fc Linear(512, 1000)
RESNET18 = {"conv1": 9_408, "bn1": 128, "relu": 0, "maxpool": 0,
            "layer1": 2 * (2 * 64 * 64 * 9 + 2 * 128),
            "layer2": (64 * 128 * 9 + 128 * 128 * 9 + 64 * 128 + 3 * 256) + (2 * 128 * 128 * 9 + 2 * 256),
            "layer3": (128 * 256 * 9 + 256 * 256 * 9 + 128 * 256 + 3 * 512) + (2 * 256 * 256 * 9 + 2 * 512),
            "layer4": (256 * 512 * 9 + 512 * 512 * 9 + 256 * 512 + 3 * 1024) + (2 * 512 * 512 * 9 + 2 * 1024),
            "avgpool": 0, "flatten": 0, "fc": 512 * 1000 + 1000}


def test_depth_one_is_the_models_children_with_what_each_holds():
    report = analyze(load_model("resnet18"))
    collapsed = collapse(report, 1)
    assert {row.name: row.params for row in collapsed.layers[1:]} == RESNET18
    assert sum(RESNET18.values()) == 11_689_512 == report.totals.params == collapsed.totals.params
    assert collapsed.totals == report.totals  # collapsing shows less, counts the same
    layer1 = next(row for row in collapsed.layers if row.name == "layer1")
    assert layer1.output_shape == (64, 56, 56) and layer1.kind == "stage"


def test_a_block_sums_its_layers_and_every_level_has_its_rows():
    report = analyze(load_model("resnet18"))
    rows = block_rows(report)
    assert rows["layer2.0"].params == RESNET18["layer2"] - (2 * 128 * 128 * 9 + 2 * 256)
    assert rows["layer2"].macs == sum(row.macs for row in report.layers if row.name.startswith("layer2."))
    assert list(rows)[:4] == ["layer1", "layer2", "layer3", "layer4"]  # outermost first, in running order


def test_batch_and_dtype_scale_what_they_scale():
    one, eight = analyze(load_model("lenet5")), analyze(load_model("lenet5"), batch=8, dtype="float16")
    assert one.totals.params == eight.totals.params == 61_706  # LeNet-5 as torch counts it
    assert eight.totals.macs == 8 * one.totals.macs and eight.totals.activations == 8 * one.totals.activations
    assert eight.totals.param_bytes == 2 * 61_706 and one.totals.param_bytes == 4 * 61_706


@pytest.mark.parametrize("call, message", [
    (lambda graph: analyze(graph, batch=0), "--batch must be at least 1 and at most 2^63 - 1, got 0"),
    (lambda graph: analyze(graph, dtype="float8"), "unknown dtype 'float8' (choose from float32, float16, bfloat16, "
                                                   "int8, float64)"),
    (lambda graph: collapse(analyze(graph), 0), "--depth must be at least 1, got 0"),
])
def test_what_cannot_be_analysed_is_named(call, message):
    with pytest.raises(SpecError) as caught:
        call(load_model("lenet5"))
    assert caught.value.message == message
