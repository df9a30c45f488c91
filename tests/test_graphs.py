"""DAG models: Python and YAML specs agree, models hold at other input sizes, joins render."""
from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from cnncalc.errors import SpecError
from cnncalc.figures import analyze
from cnncalc.spec import load_spec
from cnncalc.spec.zoo import load_model, zoo_dir
from conftest import compare, run_cli

HERE = Path(__file__).parent


def _shape_of(graph):
    """A graph's nodes without source lines, which differ between a .py and a .yaml file."""
    return [replace(node, line=None, used_at=None) for node in graph.nodes]


def test_yaml_and_python_specs_give_identical_graphs():
    python = load_model("resnet18")
    yaml = load_spec(HERE / "specs" / "resnet18.yaml")
    assert _shape_of(python) == _shape_of(yaml)
    assert analyze(python).totals == analyze(yaml).totals


def test_python_spec_with_set():
    data = json.loads(run_cli("table", str(zoo_dir() / "resnet.py"), "--set", "depth=101", "-f", "json").stdout)
    assert data["totals"]["params"] == 44_549_160  # torchvision's published resnet101


@pytest.mark.parametrize("size", [(3, 160, 200), (3, 33, 33), (3, 517, 97)])
def test_resnet18_at_other_sizes_matches_torch(size):
    pytest.importorskip("torch")
    compare(load_model("resnet18").with_input(size))


def test_unet_at_a_valid_smaller_size_matches_torch():
    # 188 is valid: every 2×2 pool sees an even size (184, 88, 40, 16)
    pytest.importorskip("torch")
    graph = load_model("unet").with_input((1, 188, 188))
    assert analyze(graph).layers[-1].output_shape == (2, 4, 4)
    compare(graph)


def test_unet_at_500_names_the_skip_that_does_not_match():
    with pytest.raises(SpecError) as error:
        analyze(load_model("unet").with_input((1, 500, 500)))
    assert error.value.layer == "dec4.crop"
    assert "skip sizes do not match: 55×55 cannot be centered on 46×46" in error.value.message


def test_unet_output_is_the_papers():
    report = analyze(load_model("unet"))
    assert report.layers[-1].output_shape == (2, 388, 388)  # Ronneberger et al., figure 1
    assert report.totals.params == 31_030_658


def test_join_rows_show_what_they_join_and_json_carries_every_edge():
    table = run_cli("table", "resnet18").stdout
    assert "5.add (bn2, maxpool)" in table and "5.add (bn2, layer1.0.6.relu)" in table
    data = json.loads(run_cli("table", "resnet18", "-f", "json").stdout)
    edges = {layer["name"]: layer["inputs"] for layer in data["layers"]}
    assert edges["layer2.0.6.add"] == ["layer2.0.bn2", "layer2.0.downsample.1.batchnorm2d"]
    assert edges["layer2.0.downsample.0.conv2d"] == ["layer1.1.6.relu"]


def test_block_members_indent_under_their_block():
    lines = run_cli("table", "densenet121").stdout.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("  denseblock1"))
    assert lines[header + 1].startswith("    denselayer1") and "[dense_layer]" in lines[header + 1]
    assert lines[header + 2].startswith("      norm1")


def test_python_spec_error_is_one_line_with_its_line(tmp_path):
    spec = tmp_path / "broken.py"
    spec.write_text("from cnncalc.builder import Conv2d, Spec\n\n"
                    "def spec(width=8):\n    return Spec([3, 8, 8], [Conv2d(width, 3), 1 / 0])\n")
    result = run_cli("table", str(spec))
    assert result.returncode == 2
    assert result.stderr.strip() == f"cnncalc: error: {spec}:4: ZeroDivisionError: division by zero"
    assert "no parameter 'depth'" in run_cli("table", str(spec), "--set", "depth=3").stderr


def test_python_spec_layer_errors_point_at_the_call(tmp_path):
    spec = tmp_path / "wide.py"
    spec.write_text("from cnncalc.builder import Conv2d, ReLU, Spec\n\n"
                    "spec = Spec([3, 8, 8], [\n    ReLU(),\n    Conv2d(4, 9),\n])\n")
    result = run_cli("table", str(spec))
    assert f"{spec}:5: layer '1.conv2d': kernel 9×9" in result.stderr
