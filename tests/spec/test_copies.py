"""Spec expansion: a repeated group is copied from its first expansion, and a copy is exactly what
expanding it again would give (names, inputs, scopes, lines, frozen flags, `from` references)."""
from __future__ import annotations

from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cnncalc.spec import copies, expand
from cnncalc.errors import SpecError
from cnncalc.figures import analyze
from cnncalc.graph import Scope
from cnncalc.spec import build_graph, load_spec
from cnncalc.spec.zoo import load_model, zoo_index

TRICKY = """\
name: tricky
input: [4, 16, 16]
params: {width: 8}
blocks:
  unit:                       # reads only its own layers and its input: copied
    params: {channels: ~}
    layers:
      - conv2d: {out_channels: $channels, kernel_size: 3, padding: 1}
        name: conv
      - relu:
        name: act
        repeat: 2
      - name: skip
        from: input
        sequential:
          - conv2d: {out_channels: $channels, kernel_size: 1}
      - add:
        from: [later, skip]   # a forward reference inside the block
      - identity:
        name: later
        from: act
  outward:                    # reads `stem`, outside the block: expanded every time
    layers:
      - add:
        from: [input, stem]
layers:
  - conv2d: {out_channels: $width, kernel_size: 1}
    name: stem
  - unit: {channels: $width}
    name: "u${i}"
    repeat: 3
  - unit: {channels: $width}
    name: "side${i}"
    from: stem                # the copied group's input is a reference
    repeat: 2
  - outward:
    name: "o${i}"
    repeat: 2
  - unit: {channels: $width}
    name: "z${i}"
    frozen: ${i == 1}
    repeat: 3
  - name: "f${i}"             # the counter i is in this group's parameters: expanded every time
    repeat: 2
    sequential:
      - conv2d: {out_channels: $width, kernel_size: 3, padding: 1}
      - batchnorm2d
  - name: same_a              # equal content on other lines: lines must stay their own
    sequential:
      - relu
  - name: same_b
    sequential:
      - relu
"""


def _without_copies(monkeypatch, load):
    with monkeypatch.context() as patch:
        patch.setattr(copies.ExpandedGroup, "matches", lambda self, entries, env: False)
        return load()


def _copies(monkeypatch, load) -> int:
    count = 0
    copy = expand.Expander.copy

    def counted(self, template, inner):
        nonlocal count
        count += 1
        return copy(self, template, inner)
    with monkeypatch.context() as patch:
        patch.setattr(expand.Expander, "copy", counted)
        load()
    return count


@pytest.mark.parametrize("model", list(zoo_index()))
def test_copied_groups_equal_expanded_groups_across_the_zoo(model, monkeypatch):
    # Node's == compares every field: name, kind, args, inputs, line, scopes, frozen, used_at, functional
    assert load_model(model) == _without_copies(monkeypatch, lambda: load_model(model))


def test_copies_are_exact_for_references_frozen_flags_and_lines(tmp_path, monkeypatch):
    path = tmp_path / "tricky.yaml"
    path.write_text(TRICKY)
    graph = load_spec(path)
    assert graph == _without_copies(monkeypatch, lambda: load_spec(path))
    assert analyze(graph) == analyze(_without_copies(monkeypatch, lambda: load_spec(path)))
    nodes = {node.name: node for node in graph.nodes}
    # written in TRICKY: the second unit's add reads its own `later` and `skip`; the side units read stem
    assert nodes["u1.4.add"].inputs == ("u1.later", "u1.skip.0.conv2d")
    assert nodes["side1.conv"].inputs == ("stem",) and nodes["side1.skip.0.conv2d"].inputs == ("stem",)
    assert nodes["o1.0.add"].inputs == ("o0.0.add", "stem")
    assert [nodes[f"z{i}.conv"].frozen for i in range(3)] == [False, True, False]
    assert nodes["same_a.0.relu"].line != nodes["same_b.0.relu"].line
    assert nodes["u2.act.1"].scopes[-1] == Scope("u2.act", "relu×2")


def test_repeated_blocks_are_copied_not_expanded_again(tmp_path, monkeypatch):
    path = tmp_path / "tricky.yaml"
    path.write_text(TRICKY)
    # u1, u2, side1 and z2 equal a group before them. Expanded again: o1 (`outward` reads outside
    # itself), z1 (frozen), f1 (its counter differs) and same_b (on another line than same_a)
    assert _copies(monkeypatch, lambda: load_spec(path)) == 4
    # ResNet-152's 50 bottlenecks: 8 kinds (stage × first or not), the other 42 copied
    assert _copies(monkeypatch, lambda: load_model("resnet152")) == 42


@st.composite
def repeated_blocks(draw) -> dict:
    """A block of relu/identity/add/group layers reading any of its names (forward ones and cycles
    included), its input or `stem` outside it, used several times with and without `from`."""
    count = draw(st.integers(1, 5))
    names = [f"n{i}" for i in range(count)]
    readable = st.sampled_from([*names, "input", "stem"])
    layers = []
    for name in names:
        kind = draw(st.sampled_from(["relu", "identity", "add", "sequential"]))
        entry = {"name": name, kind: None}
        if kind == "add":
            entry["from"] = draw(st.lists(readable, min_size=2, max_size=3))
        elif kind == "sequential":
            entry[kind] = [{"relu": None, "name": "r", "repeat": draw(st.integers(1, 2))}, {"identity": None}]
        if kind != "add" and draw(st.booleans()):
            entry["from"] = draw(readable)
        layers.append(entry)
    uses = [{"b": None, "name": f"{prefix}${{i}}", "repeat": draw(st.integers(1, 3)),
             **({"from": "stem"} if draw(st.booleans()) else {})} for prefix in ("u", "v")]
    return {"input": [2, 4, 4], "blocks": {"b": {"layers": layers}},
            "layers": [{"relu": None, "name": "stem"}, *uses]}


def _outcome(data: dict):
    try:
        return build_graph(data, "<generated>", {})
    except SpecError as error:
        return str(error)


@settings(max_examples=300, deadline=None)
@given(repeated_blocks())
def test_copies_equal_expansion_for_random_repeated_blocks(data):
    with mock.patch.object(copies.ExpandedGroup, "matches", lambda self, entries, env: False):
        expanded = _outcome(data)
    assert _outcome(data) == expanded
