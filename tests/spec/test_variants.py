"""A family spec's variant is one model: --set may not change what the variant fixes, and the error
names the model to run instead."""
from __future__ import annotations

import pytest

from cnncalc.errors import SpecError
from cnncalc.figures import analyze
from cnncalc.spec.variants import refuse_fixed
from cnncalc.spec.zoo import load_model, zoo_dir

VARIANTS = {"resnet18": {"depth": 18}, "resnet50": {"depth": 50}}


def test_what_a_variant_fixes_may_be_set_to_what_it_is():
    refuse_fixed("resnet50", {"depth": 50}, {"depth": 50, "num_classes": 10}, VARIANTS, "resnet.py")


def test_changing_it_names_the_variant_that_is_that_model():
    with pytest.raises(SpecError) as caught:
        refuse_fixed("resnet50", {"depth": 50}, {"depth": 18}, VARIANTS, "resnet.py")
    assert caught.value.message == "--set depth: resnet50 is depth=50; for depth=18 run cnncalc table resnet18"


def test_with_no_such_variant_it_names_the_family_spec():
    with pytest.raises(SpecError) as caught:
        refuse_fixed("resnet50", {"depth": 50}, {"depth": 34}, VARIANTS, "resnet.py")
    assert caught.value.message == ("--set depth: resnet50 is depth=50; for depth=34 run the family spec: "
                                    "cnncalc table resnet.py --set ...")


def test_the_zoo_holds_its_variants_to_it():
    with pytest.raises(SpecError, match=r"--set depth: vgg16 is depth=16; for depth=19 run cnncalc table vgg19"):
        load_model("vgg16", {"depth": 19})
    # the family spec itself takes the setting: torchvision's published vgg19 holds 143,667,240 parameters
    assert analyze(load_model(str(zoo_dir() / "vgg.yaml"), {"depth": 19})).totals.params == 143_667_240
