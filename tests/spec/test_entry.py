"""One entry of `layers` as written: a kind name, or a mapping of exactly one kind and the keys an
entry may carry; a wrong entry is named in words a user can act on."""
from __future__ import annotations

import pytest

from cnncalc.spec.entry import GROUP, EntryError, parse_entry

BLOCKS = {"conv_bn": {"params": {"channels": None}, "layers": ["relu"]}}


def test_a_bare_kind_is_a_layer_placed_once():
    entry = parse_entry("relu", 4, BLOCKS)
    assert (entry.kind, entry.value, entry.line, entry.keys, entry.name) == ("relu", None, 4, {}, None)
    assert entry.is_layer and entry.once and not entry.repeated


def test_a_mapping_keeps_its_arguments_and_keys_unevaluated():
    raw = {"conv2d": {"out_channels": "$width", "kernel_size": 3}, "name": "conv${i}", "repeat": "$depth"}
    entry = parse_entry(raw, 7, BLOCKS)
    assert entry.kind == "conv2d" and entry.value == {"out_channels": "$width", "kernel_size": 3}
    assert entry.name == "conv${i}" and entry.keys == {"name": "conv${i}", "repeat": "$depth"}
    assert entry.repeated and not entry.once and entry.is_layer


def test_a_condition_places_it_not_once_but_does_not_repeat_it():
    entry = parse_entry({"relu": None, "when": "$act"}, 1, BLOCKS)
    assert not entry.once and not entry.repeated


def test_blocks_and_groups_are_no_layers():
    assert not parse_entry({"conv_bn": {"channels": 8}}, 1, BLOCKS).is_layer
    group = parse_entry({GROUP: ["relu"], "label": "head"}, 1, BLOCKS)
    assert group.kind == "sequential" and not group.is_layer


@pytest.mark.parametrize("raw, message, layer", [
    (3, "a layer must be a kind name or a mapping, got 3", None),
    ("rellu", "unknown layer kind 'rellu' (did you mean 'relu'?)", None),
    ({"name": "x"}, "entry has no layer kind; write exactly one, e.g. '- relu'", "x"),
    ({"relu": None, "gelu": None}, "entry has several layer kinds (relu, gelu); write exactly one, e.g. '- relu'",
     None),
    ({"conv_bn": {"channels": 8}, "functional": True}, "'functional' applies to a single layer", None),
    ({"relu": None, "label": "act"}, "'label' names a sequential group; a block is labelled by its own name",
     None),
])
def test_a_wrong_entry_says_what_is_wrong(raw, message, layer):
    with pytest.raises(EntryError) as caught:
        parse_entry(raw, 1, BLOCKS)
    assert caught.value.message == message and caught.value.layer == layer
