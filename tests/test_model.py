"""A model as a user names it → its graph: a zoo name or a spec path read without torch, at the input
given; a PyTorch model read by the importer, and for verify the module itself, as given."""
from __future__ import annotations

import pytest

from cnncalc.errors import SpecError
from cnncalc.graph import OtherInput
from cnncalc.model import is_pytorch, load_graph, load_target
from cnncalc.spec.limits import Limits


def test_what_names_a_pytorch_model():
    assert is_pytorch("torchvision:resnet18") and is_pytorch("net.py:Net") and is_pytorch(object())
    assert not is_pytorch("resnet18") and not is_pytorch("specs/vgg.yaml")


def test_a_spec_is_read_at_the_input_given():
    graph = load_graph("lenet5")
    assert load_graph("lenet5", input_shape=(1, 64, 64)).input_shape == (1, 64, 64)
    assert load_graph("lenet5", input_shape=(1, 64, 64)).nodes == graph.nodes
    assert load_target("lenet5").module is None and load_target("lenet5").graph == graph


def test_other_inputs_are_named_as_the_model_names_them(tmp_path):
    spec = tmp_path / "two.yaml"
    spec.write_text("input: [3, 8, 8]\nother_inputs: {mask: [1, 8, 8]}\nlayers:\n  - mul:\n    from: [input, mask]\n")
    graph = load_graph(str(spec), others=(OtherInput(name="mask", shape=(1, 4, 4)),), input_shape=(3, 4, 4))
    assert graph.other_inputs == (OtherInput(name="mask", shape=(1, 4, 4)),)
    with pytest.raises(SpecError, match=r"--input mak=\.\.\.: two has no input 'mak' \(its inputs: input, mask\)"):
        load_graph(str(spec), others=(OtherInput(name="mak", shape=(1, 8, 8)),))


def test_the_limits_given_bound_the_read():
    with pytest.raises(SpecError, match=r"more than 5 layers"):
        load_graph("lenet5", limits=Limits(layers=5))


def test_a_module_is_read_and_verify_gets_that_very_module():
    torch = pytest.importorskip("torch")
    from torch import nn

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv, self.head = nn.Conv2d(3, 8, 3), nn.Linear(8, 2)

        def forward(self, x):
            return self.head(self.conv(x).mean((2, 3)))

    net = Net()
    target = load_target(net, None, (3, 16, 16))
    assert target.module is net and target.graph.source == "<Net object>"
    from cnncalc.figures import analyze

    assert analyze(target.graph).totals.params == sum(p.numel() for p in net.parameters()) == 224 + 18
    with torch.no_grad():
        assert net(torch.zeros(1, 3, 16, 16)).shape == (1, 2)
    with pytest.raises(SpecError, match=r"Net: reading a PyTorch model needs --input, e.g. --input 3x224x224"):
        load_graph(net)
