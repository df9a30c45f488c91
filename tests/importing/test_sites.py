"""Where the user's file builds each layer: the line an error about that layer names."""
import runpy

import pytest

pytest.importorskip("torch")

from cnncalc.importing.sites import Sites  # noqa: E402

MODEL = '''\
import torch
from torch import nn


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv: nn.Module = nn.Conv2d(8, 8, 3, padding=1)

    def forward(self, x):
        return torch.relu(self.conv(x)) + x


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 8, 3), nn.ReLU())
        self.block = Block()

    def forward(self, x):
        return self.block(self.features(x)).mean()
'''


def line_of(text: str) -> int:
    return next(number for number, line in enumerate(MODEL.splitlines(), start=1) if text in line)


def test_each_layer_is_where_the_file_builds_or_calls_it(tmp_path):
    path = tmp_path / "model.py"
    path.write_text(MODEL)
    sites = Sites(runpy.run_path(str(path))["Net"](), str(path))
    assert sites.built("block.conv") == line_of("self.conv: nn.Module =")  # in Block.__init__, annotated
    assert sites.built("features.0") == sites.built("features.1") == line_of("self.features =")  # inside torch's
    assert sites.called("block") == line_of("    def forward(self, x):")  # Block's add and relu
    assert sites.called("") == line_of("        return self.block") - 1  # Net's mean


def test_a_library_model_has_no_lines(tmp_path):
    from torch import nn

    assert Sites(nn.Sequential(nn.ReLU()), "torchvision:resnet18").built("0") is None
