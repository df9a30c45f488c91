"""The zoo's files (cnncalc/spec/shipped.py): part of cnncalc, found installed or in a checkout, and its
Python specs run in cnncalc's own process."""
from __future__ import annotations

import pytest

from cnncalc.spec.shipped import zoo_dir


def test_the_zoo_folder_holds_the_shipped_specs():
    assert {"vgg.yaml", "resnet.py"} <= {path.name for path in zoo_dir().iterdir()}


def test_the_zoos_own_python_specs_run_in_process(monkeypatch):
    import cnncalc.isolation as isolation
    from cnncalc.spec.zoo import load_model

    monkeypatch.setattr(isolation, "_spawn", lambda *args: pytest.fail("the zoo ran in a child"))
    assert load_model("resnet18").name == "resnet18"
