"""A layer using an earlier layer's weights (a module called twice): its tensors are counted once."""
from __future__ import annotations

import pytest

from cnncalc.spec import build_graph
from conftest import compare, run_cli

SHARED = {"input": [3, 8, 8], "layers": [
    {"conv2d": {"out_channels": 4, "kernel_size": 1}, "name": "stem"},
    {"conv2d": {"out_channels": 4, "kernel_size": 3, "padding": 1}, "name": "conv"},
    {"batchnorm2d": None, "name": "bn"},
    {"conv2d": {"out_channels": 4, "kernel_size": 3, "padding": 1}, "weights_of": "conv"},
    {"batchnorm2d": None, "weights_of": "bn", "name": "bn_again"},
    {"add": None, "from": ["stem", "bn_again"]}]}


def test_shared_weights_are_counted_once_as_torch_holds_them():
    pytest.importorskip("torch")
    # torch: one Conv2d(4, 4, 3) and one BatchNorm2d(4) called twice hold 148 + 8 parameters and 9 buffers
    graph = build_graph(SHARED, "<test>", {})
    compare(graph)


@pytest.mark.parametrize("second,message", [
    ("  - conv2d: {out_channels: 4, kernel_size: 1}\n    weights_of: a\n",
     "weights_of: 'a' is a conv2d of other arguments; a layer uses the weights of one like itself"),
    ("  - conv2d: {out_channels: 4, kernel_size: 3}\n    weights_of: b\n", "weights_of: 'b' is no earlier layer"),
])
def test_weights_of_names_an_earlier_layer_like_itself(tmp_path, second, message):
    spec = tmp_path / "bad.yaml"
    spec.write_text("input: [3, 8, 8]\nlayers:\n  - conv2d: {out_channels: 4, kernel_size: 3}\n    name: a\n"
                    + second + "  - conv2d: {out_channels: 4, kernel_size: 3}\n    name: b\n")
    result = run_cli("table", str(spec))
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == f"cnncalc: error: {spec}:5: layer '1.conv2d': {message}\n"
