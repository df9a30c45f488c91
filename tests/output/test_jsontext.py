"""output/jsontext.py writes what `json.dumps(value, indent=2)` writes: Python's json module is the
reference, on random data of every kind a report holds."""
from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cnncalc.output.jsontext import dumps

LEAVES = st.none() | st.booleans() | st.integers() | st.floats() | st.text()
VALUES = st.recursive(LEAVES, lambda inner: st.lists(inner, max_size=4) | st.tuples(inner, inner)
                      | st.dictionaries(st.text(max_size=6), inner, max_size=4), max_leaves=30)


@settings(max_examples=300, deadline=None)
@given(VALUES, st.sampled_from([0, 1, 2, 4]))
def test_the_text_is_jsons_own(value, indent):
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
