"""Expanding `layers` as the spec language says (README: the spec format): names by scope and position,
a repeated named entry as `name.0 … name.N-1`, `index`, `when`, `frozen`, blocks with their
parameters, splicing groups; a wrong entry is named at its line, every independent one at once, and
the expansion is bounded by the limits it is given. (Copies of repeated groups: test_copies.py.)"""
from __future__ import annotations

import pytest

from cnncalc.errors import SpecError, every_error
from cnncalc.spec.expand import expand
from cnncalc.spec.limits import Limits
from cnncalc.spec.yamlfile import load_yaml

BLOCKS = """blocks:
  conv_bn:
    params: {channels: ~, stride: 1}
    layers:
      - conv2d: {out_channels: $channels, kernel_size: 3, stride: $stride, padding: 1, bias: false}
      - batchnorm2d
      - relu: {inplace: true}
"""


def nodes(text: str, env: dict | None = None, limits: Limits = Limits()):
    data = load_yaml(text, "net.yaml")
    return expand(data["layers"], data.get("blocks") or {}, env or {}, "net.yaml", 1, limits=limits)


def errors(text: str, env: dict | None = None, limits: Limits = Limits()) -> list[str]:
    with pytest.raises(SpecError) as caught:
        nodes(text, env, limits)
    return [str(error) for error in every_error(caught.value)]


def test_names_are_scope_position_and_kind_or_the_name_given():
    found = nodes("layers:\n  - conv2d: {out_channels: 8, kernel_size: 3}\n  - relu:\n    name: act\n  - flatten\n")
    assert [(node.name, node.inputs) for node in found] == [
        ("0.conv2d", ("input",)), ("act", ("0.conv2d",)), ("2.flatten", ("act",))]


def test_a_named_entry_repeated_is_a_group_of_its_repetitions():
    found = nodes(BLOCKS + "layers:\n  - conv_bn: {channels: 64}\n    name: stem\n"
                           "  - conv_bn: {channels: 128, stride: 2}\n    name: layer2\n    repeat: 2\n")
    assert [node.name for node in found] == [
        "stem.0.conv2d", "stem.1.batchnorm2d", "stem.2.relu", "layer2.0.0.conv2d", "layer2.0.1.batchnorm2d",
        "layer2.0.2.relu", "layer2.1.0.conv2d", "layer2.1.1.batchnorm2d", "layer2.1.2.relu"]
    assert [node.args["out_channels"] for node in found if node.kind == "conv2d"] == [64, 128, 128]
    # as nn.Conv2d holds it: Conv2d(64, 128, 3, stride=2).stride == (2, 2)
    assert [node.args["stride"] for node in found if node.kind == "conv2d"] == [(1, 1), (2, 2), (2, 2)]
    assert found[3].inputs == ("stem.2.relu",) and found[6].inputs == ("layer2.0.2.relu",)
    assert [scope.name for scope in found[6].scopes] == ["layer2", "layer2.1"]


def test_a_counter_a_condition_and_an_expression_in_a_name():
    text = ("params: {}\nlayers:\n  - linear: {out_features: '${8 * (j + 1)}'}\n    name: fc${j}\n    index: j\n"
            "    repeat: 3\n  - dropout:\n    when: $train\n  - relu:\n    frozen: true\n")
    found = nodes(text, {"train": False})
    assert [(node.name, node.args.get("out_features")) for node in found] == [
        ("fc0", 8), ("fc1", 16), ("fc2", 24), ("3.relu", None)]  # a layer left out takes no position
    assert [node.name for node in nodes(text, {"train": True})][3] == "3.dropout"


def test_what_peer_tools_see_of_a_layer_is_read_off_its_entry():
    found = nodes("layers:\n  - relu:\n    functional: true\n    unpatched: true\n  - relu:\n    unhooked: true\n")
    assert [(node.functional, node.unhooked, node.held_apart, node.unpatched) for node in found] == [
        (True, False, False, True), (False, True, False, False)]


def test_an_unnamed_group_splices_its_layers_in_place():
    found = nodes("layers:\n  - relu\n  - sequential:\n      - conv2d: {out_channels: 4, kernel_size: 1}\n"
                  "      - relu\n  - flatten\n")
    assert [node.name for node in found] == ["0.relu", "1.conv2d", "2.relu", "3.flatten"]


@pytest.mark.parametrize("text, message", [
    ("layers:\n  - relu:\n    repeat: -1\n", "net.yaml:2: repeat must be a whole number ≥ 0, got -1"),
    ("layers:\n  - relu:\n    when: 1\n",
     "net.yaml:2: when must be true or false (or an expression giving one), got 1"),
    ("layers:\n  - relu:\n    repeat: $n\n", "net.yaml:2: repeat: unknown parameter 'n' (known: none)"),
    ("layers:\n  - relu:\n    frozen: gamma\n",
     "net.yaml:2: frozen must be true, \"weights\" or \"biases\" or false (or an expression giving one), got 'gamma'"),
    ("layers:\n  - sequential:\n      - relu\n    frozen: weights\n",
     "net.yaml:2: frozen must be true or false (or an expression giving one), got 'weights'"),
    (BLOCKS + "layers:\n  - conv_bn: {}\n", "net.yaml:9: layer '0': block 'conv_bn' needs parameter 'channels'"),
    (BLOCKS + "layers:\n  - conv_bn: {channel: 8}\n",
     "net.yaml:9: layer '0': block 'conv_bn' has no parameter 'channel' (did you mean 'channels'?)"),
    ("blocks:\n  loop: {layers: [loop]}\nlayers: [loop]\n",
     "net.yaml:2: layer '0.0': block 'loop' uses itself (in a block used at line 3)"),
    ("layers: {relu: null}\n", "net.yaml:1: 'layers' must be a list"),
    ("layers:\n  - relu:\n    unpatched: yes please\n",
     "net.yaml:2: layer '0.relu': unpatched is true or false, got 'yes please'"),
])
def test_a_wrong_entry_is_named_at_its_line(text, message):
    assert errors(text)[0] == message


def test_independent_errors_are_all_reported():
    text = "layers:\n  - conv2d: {out_channels: 8}\n  - relu\n  - maxpool2d: {kernel: 2}\n  - nosuch\n"
    found = errors(text)
    assert len(found) == 3
    assert found[0].startswith("net.yaml:2: layer '0.conv2d': ") and "kernel_size" in found[0]
    assert found[1].startswith("net.yaml:4: layer '2.maxpool2d': ") and "kernel" in found[1]
    assert found[2] == "net.yaml:5: unknown layer kind 'nosuch'"


def test_the_expansion_is_bounded_by_the_limits_given():
    deep = "layers:\n  - sequential:\n    - sequential:\n      - sequential: [relu]\n        name: c\n" \
           "      name: b\n    name: a\n"
    assert [node.name for node in nodes(deep)] == ["a.b.c.0.relu"]
    assert errors(deep, limits=Limits(nesting=2))[0] == (
        "net.yaml:4: layer 'a.b.c': blocks and groups nest more than 2 deep (raise it with --limit nesting=N for a "
        "trusted spec)")
    assert "a full name longer than 5 characters" in errors(deep, limits=Limits(name_chars=5))[0]
    assert "the spec expands to more than 3 layers" in errors("layers:\n  - relu:\n    repeat: 2\n  - sequential:\n"
                                                             "    - relu:\n      repeat: 2\n",
                                                             limits=Limits(layers=3))[0]
