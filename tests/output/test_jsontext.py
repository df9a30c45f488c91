"""output/jsontext.py writes what `json.dumps(value, indent=...)` writes: Python's json module is the
reference, on random data of every kind a report holds, hostile strings among them."""
from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cnncalc.output.jsontext import dumps

from output.test_escape import FRAGMENTS

JSON_VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.sampled_from(FRAGMENTS), st.text(max_size=4)),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.lists(st.integers(), max_size=4),
                            st.lists(st.text(max_size=3), max_size=3), st.tuples(inner, inner),
                            st.dictionaries(st.one_of(st.text(max_size=4), st.integers(), st.booleans(), st.none()),
                                            inner, max_size=4)),
    max_leaves=20)


@settings(max_examples=500)
@given(JSON_VALUES, st.integers(0, 4))
def test_indented_json_is_jsons_own_text(value, indent):
    assert dumps(value, indent) == json.dumps(value, indent=indent)


def test_shapes_and_empty_containers():
    value = {"layers": [{"name": "c\u00e9\n", "output_shape": [64, 112, 112], "inputs": [], "explain": {}}],
             "totals": {"params": 10 ** 40, "ratio": 0.1, "missing": None, "ok": True}}
    assert dumps(value) == json.dumps(value, indent=2)


def test_what_json_cannot_hold_is_a_type_error_as_json_gives():
    for value in ({1, 2}, {"x": object()}, b"bytes"):
        with pytest.raises(TypeError):
            json.dumps(value, indent=2)
        with pytest.raises(TypeError):
            dumps(value)
