"""A spec's `outputs`: the layers the model returns (an imported model's tuple or dict)."""
from __future__ import annotations

import pytest

from cnncalc import analyze
from cnncalc.errors import SpecError
from cnncalc.spec.load import build_graph

SPEC = {"input": [3, 8, 8], "layers": [{"conv2d": {"in_channels": 3, "out_channels": 4, "kernel_size": 3},
                                        "name": "features"},
                                       {"adaptiveavgpool2d": {"output_size": 1}, "name": "pool"},
                                       {"flatten": None, "name": "flat"}]}


def test_outputs_are_named_layers_in_order_and_held_to_the_end():
    graph = build_graph({**SPEC, "outputs": ["flat", "features"]}, "net.yaml", {})
    assert graph.outputs == ("flat", "features")
    # the features are returned, so alive through the last layer (not freed after the pool reads them)
    assert graph.alive_until()["features"] == len(graph.nodes) - 1
    assert build_graph(SPEC, "net.yaml", {}).alive_until()["features"] == 1


def test_no_outputs_means_the_last_layer():
    assert analyze(build_graph(SPEC, "net.yaml", {})).outputs == ("flat",)


@pytest.mark.parametrize("outputs,message", [(["flatt"], "outputs: no layer 'flatt' (did you mean 'flat'?)"),
                                             ("flat", "outputs lists the names of the layers the model returns"),
                                             ([], "outputs lists the names of the layers the model returns")])
def test_bad_outputs_are_named(outputs, message):
    with pytest.raises(SpecError, match=message.replace("(", r"\(").replace(")", r"\)").replace("?", r"\?")):
        build_graph({**SPEC, "outputs": outputs}, "net.yaml", {})
