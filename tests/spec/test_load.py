"""A spec's data → its Graph: the top-level keys checked (every independent error at once), parameters
set only where the spec has them, the input a per-sample shape, and the name says what was changed."""
from __future__ import annotations

import pytest

from cnncalc.errors import NotASpec, SpecError, every_error
from cnncalc.spec.load import build_graph, load_spec
from cnncalc.spec.yamlfile import load_yaml

SMALL = "input: [3, 8, 8]\nlayers:\n  - conv2d: {out_channels: 4, kernel_size: 3}\n  - relu\n"


def messages(text: str, params: dict | None = None) -> list[str]:
    with pytest.raises(SpecError) as caught:
        build_graph(load_yaml(text, "net.yaml"), "net.yaml", params or {})
    return [f"{error.line}: {error.message}" for error in every_error(caught.value)]


def test_a_spec_gives_its_layers_in_order_named_by_position_and_kind():
    graph = build_graph(load_yaml(SMALL, "net.yaml"), "net.yaml", {}, default_name="net")
    assert graph.name == "net" and graph.input_shape == (3, 8, 8) and graph.dtype == "float32"
    assert [(node.name, node.kind, node.inputs, node.line) for node in graph.nodes] == [
        ("0.conv2d", "conv2d", ("input",), 3), ("1.relu", "relu", ("0.conv2d",), 4)]


@pytest.mark.parametrize("data", [None, [1, 2], {"name": "ci"}, {"on": {"push": None}, "jobs": {}}])
def test_what_holds_no_spec_is_named_so(data):
    with pytest.raises(NotASpec, match="not a cnncalc spec: a spec is a mapping with 'input' and 'layers'"):
        build_graph(data, "config.yaml", {})


def test_independent_errors_are_reported_together():
    text = "nmae: net\ninput: [3, 8, 8]\nlayer: [relu]\n"  # 'layers' is missing beside its misspelling: said once
    assert messages(text) == ["1: unknown top-level key 'nmae' (did you mean 'name'?)",
                              "1: unknown top-level key 'layer' (did you mean 'layers'?)"]
    assert messages("input: [3, 8, 8]\n") == ["1: missing 'layers'"]


@pytest.mark.parametrize("text, message", [
    ("input: [3, -8, 8]\nlayers: [relu]\n", "1: input must be a per-sample shape like [3, 224, 224] of positive sizes, "
                                            "got [3, -8, 8]"),
    ("input: [1, 2, 3, 4, 5]\nlayers: [relu]\n", "1: input must be a per-sample shape like [3, 224, 224]"),
    ("input: [3, 8, 8]\nlayers: []\n", "1: 'layers' is empty"),
    ("input: [3, 8, 8]\ndtype: float8\nlayers: [relu]\n",
     "1: dtype must be one of float32, float16, bfloat16, int8, float64, got 'float8'"),
    ("input: [3, 8, 8]\nblocks:\n  relu: {layers: [gelu]}\nlayers: [relu]\n",
     "3: block 'relu' has the name of a layer kind: name it otherwise"),
    ("input: [3, 8, 8]\nparams: [1]\nlayers: [relu]\n",
     "None: 'params' must map parameter names to values, got a list"),
    ("input: [3, 8, 8]\nparams: {depth: 11}\nchoices: {depth: [11, 13]}\nlayers: [relu]\n", None),
])
def test_a_wrong_section_is_named_with_its_line(text, message):
    if message is None:  # a value among the choices is no error
        build_graph(load_yaml(text, "net.yaml"), "net.yaml", {})
        return
    assert messages(text)[0].startswith(message)


def test_a_parameter_is_set_only_where_the_spec_has_it():
    text = "input: [3, 8, 8]\nparams: {width: 4}\nchoices: {width: [4, 8]}\nlayers:\n" \
           "  - conv2d: {out_channels: $width, kernel_size: 3}\n"
    graph = build_graph(load_yaml(text, "net.yaml"), "net.yaml", {"width": 8})
    assert graph.nodes[0].args["out_channels"] == 8
    assert messages(text, {"widht": 8}) == ["None: --set widht: the spec has no parameter 'widht' (did you mean "
                                            "'width'?) (parameters: width)"]
    assert messages(text, {"width": 5}) == ["None: width must be one of 4, 8, got 5"]


def test_a_loaded_spec_is_named_with_what_was_set(tmp_path):
    path = tmp_path / "net.yaml"
    path.write_text("input: [3, 8, 8]\nparams: {width: 4}\nlayers:\n"
                    "  - conv2d: {out_channels: $width, kernel_size: 3}\n")
    assert load_spec(path).name == "net"
    assert load_spec(path, {"width": 6}).name == "net (width=6)"
    with pytest.raises(SpecError, match="no such spec file"):
        load_spec(tmp_path / "missing.yaml")


def test_modules_held_apart_are_read_and_checked():
    text = SMALL + "not_run:\n  aux: {params: 2117000, buffers: 0}\n  head: {params: 5, frozen_params: 9}\n"
    assert messages(text) == ["7: not_run takes {params: N, buffers: N, frozen_params: N ≤ params}: "
                              "whole numbers ≥ 0, and why: not run, output unused, parametrization, "
                              "replaced by forward(), not read"]
    graph = build_graph(load_yaml(SMALL + "not_run:\n  aux: {params: 2117000, buffers: 0}\n", "net.yaml"),
                        "net.yaml", {})
    assert [(held.name, held.params, held.buffers, held.why) for held in graph.not_run] == [
        ("aux", 2_117_000, 0, "not run")]
