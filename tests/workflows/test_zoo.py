"""`cnncalc list`: every zoo model with its input and figures; torchvision's models as its published
table states them."""
from __future__ import annotations

import pytest

from cnncalc.errors import SpecError
from cnncalc.spec.limits import Limits
from cnncalc.spec.zoo import zoo_index
from cnncalc.workflows.zoo import zoo_models
from conftest import torchvision_table


def test_every_zoo_model_is_listed_and_torchvisions_as_its_table_states_them():
    models = {model.model: model for model in zoo_models()}
    assert list(models) == list(zoo_index())
    published = torchvision_table()
    listed = [name for name in models if name in published]
    assert len(listed) >= 25  # the classics, ResNets, DenseNets, MobileNets, Inception
    for name in listed:
        aux = 3_326_696 if name == "inception_v3" else 0  # its published count includes AuxLogits (training only)
        assert models[name].params == published[name]["params"] - aux, name
        assert round(models[name].macs / 1e9, 3) == published[name]["gmacs"], name
        assert models[name].input == (3, published[name]["crop"], published[name]["crop"]), name
    assert models["vgg16"].spec == "vgg.yaml" and models["lenet5"].params == 61_706


def test_the_zoo_is_read_within_the_limits_given():
    with pytest.raises(SpecError, match=r"the YAML has more than 30 nodes \(raise it with --limit yaml_nodes=N"):
        zoo_models(limits=Limits(yaml_nodes=30))
