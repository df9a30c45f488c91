"""A Graph written as spec data (what `cnncalc export` writes) reads back into the same layers."""
from dataclasses import replace

import pytest
import yaml

from cnncalc.output.export import spec_data
from cnncalc.spec import build_graph
from cnncalc.spec.zoo import load_model
from conftest import ZOO_CASES

# what a spec cannot say of a layer: the blocks it was written in (export writes the layers flat), the
# line of the file it came from
UNSAID = {"scopes": (), "line": None, "used_at": None}


def read_back(graph):
    return build_graph(yaml.safe_load(yaml.safe_dump(spec_data(graph), sort_keys=False)), "<exported>", {})


@pytest.mark.parametrize("name", ZOO_CASES)  # the heavy models in the slow set
def test_every_zoo_model_reads_back_layer_for_layer(name):
    graph = load_model(name)
    again = read_back(graph)
    assert [replace(node, **UNSAID) for node in again.nodes] == [replace(node, **UNSAID) for node in graph.nodes]
    assert (again.input_shape, again.not_run, again.outputs, again.other_inputs, again.dtype) == \
        (graph.input_shape, graph.not_run, graph.outputs, graph.other_inputs, graph.dtype)


def test_what_a_spec_says_of_a_layer_beyond_its_arguments_reads_back():
    spec = {"name": "flags", "input": [3, 8, 8], "dtype": "float16", "input_dtype": None,
            "other_inputs": {"mask": {"shape": [1, 8, 8]}},
            "layers": [{"conv2d": {"in_channels": 3, "out_channels": 4, "kernel_size": 3}, "name": "c", "frozen": True,
                        "unhooked": True, "held_apart": True, "module": "Conv2dSame"},
                       {"relu": None, "name": "r", "functional": True, "unpatched": True},
                       {"conv2d": {"in_channels": 4, "out_channels": 4, "kernel_size": 3}, "name": "c2",
                        "weights_of": "c2a", "from": "c"},
                       {"mul": None, "name": "m", "from": ["r", "mask"]}],
            "not_run": {"aux": {"params": 10, "buffers": 2, "frozen_params": 4, "why": "output unused"}},
            "outputs": ["m", "c2"]}
    spec["layers"].insert(2, {"conv2d": {"in_channels": 4, "out_channels": 4, "kernel_size": 3}, "name": "c2a"})
    graph = build_graph(spec, "<spec>", {})
    again = read_back(graph)
    assert [replace(node, line=None) for node in again.nodes] == [replace(node, line=None) for node in graph.nodes]
    assert again.not_run == graph.not_run and again.outputs == ("m", "c2") and again.dtype == "float16"
