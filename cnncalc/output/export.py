"""A Graph as spec data: what `cnncalc export` writes as YAML, and what a child process that read a model
file gives back. build_graph reads it into the same layers; the blocks a layer ran inside (Node.scopes)
and what only a run shows of it (Node.held_through and the rest) stay behind, as a spec cannot say them.
"""
from __future__ import annotations

from ..graph import INPUT, TOOL_FLAGS, Graph, Node
from ..layers import REGISTRY

# Node fields a spec entry writes as keys of the same names, where set
ENTRY_FLAGS = ("frozen", "functional", "weights_of", "per_row", "module", *TOOL_FLAGS)


def spec_data(graph: Graph) -> dict:
    """The spec of a graph, as plain data: every layer in order, its arguments other than torch's
    defaults, `from` where it reads other than the layer before it."""
    layers, previous = [], INPUT
    for node in graph.nodes:
        layers.append(_entry(node, previous))
        previous = node.name
    data = {"name": graph.name, "description": graph.description, "input": list(graph.input_shape),
            "layers": layers}
    data |= {"dtype": graph.dtype} if graph.dtype != "float32" else {}
    data |= {"input_dtype": graph.input_dtype} if graph.input_dtype else {}
    if graph.other_inputs:
        data["other_inputs"] = {other.name: {"shape": list(other.shape), **({"dtype": other.dtype} if other.dtype
                                                                            else {})} for other in graph.other_inputs}
    if graph.not_run:
        data["not_run"] = {held.name: {"params": held.params, "buffers": held.buffers, "why": held.why,
                                       **({"frozen_params": held.frozen_params} if held.frozen_params else {})}
                           for held in graph.not_run}
    return data | ({"outputs": list(graph.outputs)} if graph.outputs else {})


def _entry(node: Node, previous: str) -> dict:
    kind = REGISTRY[node.kind]
    written = {name: _plain(value) for name, value in node.args.items() if value != kind.defaults[name]}
    entry = {node.kind: written or None, "name": node.name}
    if node.inputs != ((previous,) if kind.reads_unless_told(node.args) else ()):
        entry["from"] = node.inputs[0] if len(node.inputs) == 1 else list(node.inputs)
    return entry | {flag: getattr(node, flag) for flag in ENTRY_FLAGS if getattr(node, flag)}


def _plain(value):
    """An argument as YAML writes it: tuples as lists."""
    return [_plain(item) for item in value] if isinstance(value, (tuple, list)) else value
