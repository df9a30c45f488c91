"""`cnncalc graph`: the layer graph as Mermaid and Graphviz DOT, well formed, every layer and edge on it."""
from __future__ import annotations

import re

from cnncalc.spec.zoo import load_model
from conftest import run_cli


def test_mermaid_is_well_formed():
    text = run_cli("graph", "resnet18").stdout
    lines = text.strip().splitlines()
    assert lines[0] == "flowchart TD"
    declared = {m.group(1) for m in re.finditer(r"^\s+(\w+)[\[(]", text, re.M)}
    edges = re.findall(r"^\s+(\w+) -->\|\"([^\"]+)\"\| (\w+)", text, re.M)
    graph = load_model("resnet18")
    assert len(declared) == len(graph.nodes) + 2  # the layers, input and output
    assert len(edges) == sum(len(n.inputs) for n in graph.nodes) + 1
    assert all(a in declared and b in declared for a, _, b in edges)
    assert ("n_layer1_0_bn2", "64×56×56", "n_layer1_0_5_add") in edges

def test_dot_is_well_formed():
    text = run_cli("graph", "googlenet", "--format", "dot").stdout
    assert text.startswith('digraph "googlenet" {') and text.rstrip().endswith("}")
    assert text.count("{") == text.count("}")
    graph = load_model("googlenet")
    assert text.count(" -> ") == sum(len(n.inputs) for n in graph.nodes)
