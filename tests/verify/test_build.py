"""The model verify builds from a graph: each layer a real torch module made from the tensor it receives,
holding what torch's own modules hold (LeNet-5: 61,706 parameters), tied where a layer uses another's
weights, frozen where the spec says so."""
from __future__ import annotations

import pytest

from cnncalc.spec import build_graph
from cnncalc.spec.zoo import load_model

torch = pytest.importorskip("torch")
from cnncalc.verify.build import build_model, make_module, resolve, sample_inputs  # noqa: E402


def test_lenet5_holds_what_torch_holds_and_runs_to_ten_classes():
    graph = load_model("lenet5")
    model = build_model(graph)
    assert sum(p.numel() for p in model.parameters()) == 61_706
    (x,) = sample_inputs(graph, 4)
    assert x.shape == (4, *graph.input_shape)
    assert model(x).shape == (4, 10) and not model.training


def test_a_layer_is_torchs_module_built_from_the_input_it_receives():
    graph = build_graph({"input": [3, 16, 16], "layers": [{"conv2d": {"out_channels": 8, "kernel_size": 3,
                                                                      "stride": 2}}]}, "<t>", {})
    module = make_module(graph.nodes[0], torch.Size([1, 3, 16, 16]))
    assert type(module) is torch.nn.Conv2d and module.in_channels == 3 and module.stride == (2, 2)
    assert resolve("torch.nn.Conv2d") is torch.nn.Conv2d


def test_shared_weights_are_one_tensor_and_frozen_layers_train_nothing():
    spec = {"input": [4], "layers": [{"linear": {"out_features": 4}, "name": "a"},
                                     {"linear": {"out_features": 4}, "name": "b", "weights_of": "a"},
                                     {"linear": {"out_features": 2}, "frozen": True}]}
    model = build_model(build_graph(spec, "<t>", {}))
    a, b, head = model.layers
    assert a.weight is b.weight and a.bias is b.bias
    assert sum(p.numel() for p in model.parameters()) == 4 * 4 + 4 + 2 * 4 + 2  # shared tensors once
    assert not any(p.requires_grad for p in head.parameters()) and a.weight.requires_grad


def test_token_ids_are_sampled_inside_the_table():
    graph = build_graph({"input": [12], "input_dtype": "int64",
                         "layers": [{"embedding": {"num_embeddings": 7, "embedding_dim": 3}}]}, "<t>", {})
    (ids,) = sample_inputs(graph, 2)
    assert ids.dtype == torch.int64 and 0 <= int(ids.min()) and int(ids.max()) < 7
    assert build_model(graph)(ids).shape == (2, 12, 3)
