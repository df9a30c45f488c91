"""A layer per row: run on each row of the sample's first dim as on a sample (MViT pools B·heads rows
with one conv), its tensors held once and its work done per row."""
from __future__ import annotations

import pytest

from cnncalc.spec import build_graph
from conftest import compare, run_cli

ROWS = {"input": [4, 6, 8, 8], "layers": [
    {"conv2d": {"out_channels": 5, "kernel_size": 3, "padding": 1}, "per_row": True},
    {"batchnorm2d": None, "per_row": True},
    {"maxpool2d": {"kernel_size": 2}, "per_row": True},
    {"linear": {"out_features": 3}}]}


def test_a_layer_per_row_matches_torch_on_the_rows_in_the_batch():
    pytest.importorskip("torch")
    # torch runs Conv2d(6, 5, 3), BatchNorm2d(5) and MaxPool2d(2) on the 4 rows as a batch of 4
    compare(build_graph(ROWS, "<test>", {}))


def test_per_row_is_for_a_layer_of_one_input(tmp_path):
    spec = tmp_path / "bad.yaml"
    spec.write_text("input: [4, 6]\nlayers:\n  - relu\n  - add: null\n    from: [input, -1]\n    per_row: true\n")
    result = run_cli("table", str(spec))
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (f"cnncalc: error: {spec}:4: layer '1.add': per_row is for a layer of one input; this add "
                             "takes 2\n")


def test_python_specs_state_both_keys():
    pytest.importorskip("torch")
    from cnncalc.builder import BatchNorm2d, Conv2d, Reshape, Spec

    # torch: Conv2d(3, 4, 1) and Conv2d(4, 4, 3) (called twice) hold 16 + 148 parameters; BatchNorm2d(2)
    # runs on the 2 rows of 2×8×8
    spec = Spec([3, 8, 8], [Conv2d(4, 1), Conv2d(4, 3, padding=1, name="conv"),
                            Conv2d(4, 3, padding=1, weights_of="conv"), Reshape(["batch", 2, 2, 8, 8]),
                            BatchNorm2d(per_row=True)])
    graph = build_graph(spec, "<test>", {})
    assert [node.weights_of for node in graph.nodes][2] == "conv" and graph.nodes[-1].per_row
    compare(graph)
