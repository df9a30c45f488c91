"""DAG models: models hold at other input sizes, joins render (Python specs: test_builder.py)."""
from __future__ import annotations

import json

import pytest

from cnncalc.errors import SpecError
from cnncalc.figures import analyze
from cnncalc.spec.zoo import load_model
from conftest import compare, run_cli


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
