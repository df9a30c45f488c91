"""What a torch module is in cnncalc: its class's kind (or a subclass that keeps its parent's forward),
and the arguments it was built with, read off it as torch holds them."""
from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

from cnncalc.importing.forms import forms, mapped, module_arguments  # noqa: E402


class Conv3DSimple(nn.Conv3d):
    """torchvision's video stem: keeps Conv3d's forward."""


class Rewired(nn.Conv2d):
    def forward(self, x):  # another forward: no longer what Conv2d computes
        return super().forward(x) * 2


def test_a_module_is_its_classs_kind():
    assert mapped(nn.Conv2d(3, 8, 3))[0] == "conv2d"
    assert mapped(nn.ReLU())[0] == "relu" and mapped(nn.Linear(2, 3))[0] == "linear"
    assert mapped(Conv3DSimple(3, 8, (1, 3, 3)))[0] == "conv3d"
    assert mapped(Rewired(3, 8, 3)) is None and mapped(nn.Module()) is None


def test_its_arguments_are_read_as_torch_holds_them():
    kind, args = module_arguments(nn.Conv2d(3, 8, (3, 5), stride=2, padding=(1, 2), groups=1, bias=False))
    assert kind == "conv2d"
    assert (args["out_channels"], args["kernel_size"], args["stride"], args["padding"], args["bias"]) == (
        8, (3, 5), (2, 2), (1, 2), False)
    kind, args = module_arguments(nn.Linear(4, 6))
    assert kind == "linear" and args["out_features"] == 6 and args["bias"] is True


def test_functions_and_methods_name_their_kinds():
    found = forms()
    assert "conv2d" in {kind for kind, _ in found.functions[torch.nn.functional.conv2d]}
    assert "relu" in {kind for kind, _ in found.functions[torch.relu]}
    assert "flatten" in {kind for kind, _ in found.methods["flatten"]}
