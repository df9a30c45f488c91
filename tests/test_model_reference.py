"""Naming a PyTorch model: `library:NAME` or `path/model.py:Class`; anything else is a spec or a zoo
name, and a path that exists is always that path (its name never makes cnncalc run a file)."""
from __future__ import annotations

import pytest

from cnncalc.model_reference import ModelReference, model_reference


@pytest.mark.parametrize("text, source, name, in_library", [
    ("torchvision:resnet50", "torchvision", "resnet50", True),
    ("timm:convnext_tiny", "timm", "convnext_tiny", True),
    ("transformers:bert", "transformers", "bert", True),
    ("smp:Unet", "smp", "Unet", True),
    ("examples/model.py:MyNet", "examples/model.py", "MyNet", False),
    ("/abs/dir.v2/net.py:Net_2", "/abs/dir.v2/net.py", "Net_2", False),
    ("a.py:b.py:Net", "a.py:b.py", "Net", False),  # the last `.py:` starts the class
])
def test_a_reference_names_its_source_and_its_model(text, source, name, in_library):
    reference = model_reference(text)
    assert reference == ModelReference(source=source, name=name)
    assert reference.in_library is in_library


@pytest.mark.parametrize("text", ["resnet18", "specs/vgg.yaml", "torchvision:", "keras:resnet50", "net.py",
                                  "net.py:", "net.py:2Net", "net.py:My-Net", "net.pyc:Net", "net.py:Net.yaml",
                                  "net.py:Nét"])
def test_anything_else_is_no_pytorch_model(text):
    assert model_reference(text) is None


def test_a_path_that_exists_is_a_path_whatever_its_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "evil.py:Net").write_text("input: [3, 8, 8]\nlayers: [relu]\n")
    (tmp_path / "torchvision:resnet18").mkdir()
    assert model_reference("evil.py:Net") is None
    assert model_reference("torchvision:resnet18") is None
    assert model_reference("other.py:Net") == ModelReference(source="other.py", name="Net")
