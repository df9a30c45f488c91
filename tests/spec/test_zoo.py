"""The zoo against the outside world: torchvision's published table, peer-measured exact counts,
and a real torch forward pass of every model built from its spec."""
from __future__ import annotations

import pytest

from cnncalc.figures import analyze
from cnncalc.spec.zoo import load_model
from conftest import ZOO, ZOO_CASES, compare, peer_table, torchvision_table

TORCHVISION = torchvision_table()
PEERS = peer_table()


@pytest.mark.parametrize("model", [m for m in ZOO if m in TORCHVISION])
def test_equals_torchvision_published_table(model):
    published = TORCHVISION[model]
    report = analyze(load_model(model))
    assert report.input_shape[1:] == (published["crop"], published["crop"])
    if model == "inception_v3":  # the published count includes AuxLogits, a training-only head
        assert published["params"] - report.totals.params == 3_326_696
    else:
        assert report.totals.params == published["params"]
    assert round(report.totals.macs / 1e9, 3) == published["gmacs"]  # `_ops` is GMACs to 3 decimals


@pytest.mark.parametrize("model", [m for m in ZOO if m in PEERS])
def test_macs_equal_torch_flop_counter_exactly(model):
    # torch.utils.flop_counter counts 2 FLOPs per multiply-accumulate: torchvision's MACs × 2
    report = analyze(load_model(model))
    assert report.totals.params == PEERS[model]["params"]
    assert 2 * report.totals.macs == PEERS[model]["torch_flop_counter"]


@pytest.mark.parametrize("model", ZOO_CASES)
def test_every_layer_equals_a_torch_forward_pass(model):
    pytest.importorskip("torch")
    compare(load_model(model))


def test_zoo_has_the_modern_families():
    assert {"resnet18", "resnet34", "resnet50", "resnet101", "resnet152", "resnext50_32x4d",
            "resnext101_32x8d", "resnext101_64x4d", "wide_resnet50_2", "wide_resnet101_2", "googlenet",
            "inception_v3", "densenet121", "densenet161", "densenet169", "densenet201", "squeezenet1_0",
            "squeezenet1_1", "mobilenet_v2", "mobilenet_v3_small", "mobilenet_v3_large", "se_resnet50",
            "unet"} <= set(ZOO)


def test_se_resnet50_is_hu_et_al():
    # the SE-ResNet-50 of Hu et al. in its common implementation: 28,088,024 parameters, ~3.87 GMACs
    report = analyze(load_model("se_resnet50"))
    assert report.totals.params == 28_088_024
    assert round(report.totals.macs / 1e9, 2) == 3.86


def test_zoo_has_the_classics():
    assert {"lenet5", "alexnet", "alexnet_original", "nin", "vgg11", "vgg11_bn", "vgg13", "vgg13_bn",
            "vgg16", "vgg16_bn", "vgg19", "vgg19_bn"} <= set(ZOO)


def test_every_zoo_name_resolves_to_its_index_entry():
    # resolve's fast path (vgg16 → vgg.yaml) must agree with reading every file of the zoo
    from cnncalc.spec.zoo import resolve, zoo_index

    index = zoo_index()
    assert len(index) == len(ZOO)
    assert {name: resolve(name) for name in index} == index
