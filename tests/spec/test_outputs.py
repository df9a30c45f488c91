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


def test_outputs_inside_blocks_stay_named_when_depth_merges_the_blocks():
    # BERT returns its last LayerNorm's output (encoder.layer.11.output.LayerNorm) and its pooler's:
    # `cnncalc table transformers:bert --depth 3` failed with a KeyError, the first inside a merged block
    from cnncalc.figures.report import collapse
    from cnncalc.output.render import render_table

    spec = {"input": [3, 8, 8], "outputs": ["head", "stem.features"],
            "layers": [{"sequential": [{"conv2d": {"out_channels": 4, "kernel_size": 3}, "name": "features"},
                                       {"relu": None}], "name": "stem"},
                       {"flatten": None, "name": "head"}]}
    report = analyze(build_graph(spec, "net.yaml", {}))
    merged = collapse(report, 1)
    assert [row.name for row in merged.layers] == ["input", "stem", "head"]
    assert [(row.name, row.output_shape) for row in merged.output_rows] == [("head", (144,)),
                                                                           ("stem.features", (4, 6, 6))]
    assert "stem.features 4×6×6" in render_table(merged)
