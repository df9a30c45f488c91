"""The torch-free builder for Python specs: `Conv2d(64, 3, padding=1)` and friends give what a YAML entry
gives, and an error names the line of the call that made the layer."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from cnncalc.figures import analyze
from cnncalc.spec import load_spec
from cnncalc.spec.zoo import load_model
from conftest import run_cli

HERE = Path(__file__).parent


def _shape_of(graph):
    """A graph's nodes without source lines, which differ between a .py and a .yaml file."""
    return [replace(node, line=None, used_at=None) for node in graph.nodes]

def test_yaml_and_python_specs_give_identical_graphs():
    python = load_model("resnet18")
    yaml = load_spec(HERE / "specs" / "resnet18.yaml")
    assert _shape_of(python) == _shape_of(yaml)
    assert analyze(python).totals == analyze(yaml).totals

def test_python_spec_layer_errors_point_at_the_call(tmp_path):
    spec = tmp_path / "wide.py"
    spec.write_text("from cnncalc.builder import Conv2d, ReLU, Spec\n\n"
                    "spec = Spec([3, 8, 8], [\n    ReLU(),\n    Conv2d(4, 9),\n])\n")
    result = run_cli("table", str(spec))
    assert f"{spec}:5: layer '1.conv2d': kernel 9×9" in result.stderr
