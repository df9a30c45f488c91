"""A layer using an earlier layer's weights (a module called twice): its tensors are counted once."""
from __future__ import annotations

import pytest

from cnncalc.figures.report import analyze
from cnncalc.spec import build_graph
from conftest import compare, run_cli

SHARED = {"input": [3, 8, 8], "layers": [
    {"conv2d": {"out_channels": 4, "kernel_size": 1}, "name": "stem"},
    {"conv2d": {"out_channels": 4, "kernel_size": 3, "padding": 1}, "name": "conv"},
    {"batchnorm2d": None, "name": "bn"},
    {"conv2d": {"out_channels": 4, "kernel_size": 3, "padding": 1}, "weights_of": "conv"},
    {"batchnorm2d": None, "weights_of": "bn", "name": "bn_again"},
    {"add": None, "from": ["stem", "bn_again"]}]}


def tied_head(bias: bool) -> dict:
    return {"input": [12], "input_dtype": "int64", "layers": [
        {"embedding": {"num_embeddings": 100, "embedding_dim": 16}, "name": "emb"},
        {"linear": {"out_features": 16}},
        {"linear": {"out_features": 100, "bias": bias}, "weights_of": "emb"}]}


@pytest.mark.parametrize("bias", [False, True])
def test_a_head_tied_to_an_embedding_holds_its_weight_once(bias):
    pytest.importorskip("torch")
    # torch: nn.Embedding(100, 16) and nn.Linear(16, 100) whose weight is the embedding's hold 1,600 + 272
    # parameters, and the head's own bias, 100, if it has one (BERT's decoder)
    graph = build_graph(tied_head(bias), "<test>", {})
    compare(graph)
    assert analyze(graph).totals.params == 1_872 + 100 * bias


def test_shared_weights_are_counted_once_as_torch_holds_them():
    pytest.importorskip("torch")
    # torch: one Conv2d(4, 4, 3) and one BatchNorm2d(4) called twice hold 148 + 8 parameters and 9 buffers
    graph = build_graph(SHARED, "<test>", {})
    compare(graph)


@pytest.mark.parametrize("second,message", [
    ("  - conv2d: {out_channels: 4, kernel_size: 1}\n    weights_of: a\n",
     "weights_of: 'a' holds 108 weights, 4 biases and 0 buffers; this conv2d has 16 weights, 4 biases and 0 buffers"),
    ("  - conv2d: {out_channels: 4, kernel_size: 3}\n    weights_of: b\n", "weights_of: 'b' is no earlier layer"),
    # a bias of its own beside a tied weight, but none where the layer it names holds one
    ("  - conv2d: {out_channels: 4, kernel_size: 3, bias: false}\n    from: input\n    weights_of: a\n",
     "weights_of: 'a' holds 108 weights, 4 biases and 0 buffers; this conv2d has 108 weights, 0 biases and 0 buffers"),
])
def test_weights_of_names_an_earlier_layer_of_its_sizes(tmp_path, second, message):
    spec = tmp_path / "bad.yaml"
    spec.write_text("input: [3, 8, 8]\nlayers:\n  - conv2d: {out_channels: 4, kernel_size: 3}\n    name: a\n"
                    + second + "  - conv2d: {out_channels: 4, kernel_size: 3}\n    name: b\n")
    result = run_cli("table", str(spec))
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == f"cnncalc: error: {spec}:5: layer '1.conv2d': {message}\n"
