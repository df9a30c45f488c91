"""Backward work: which gradients autograd computes through each layer, as torch decides.

A tensor requires grad where a trained parameter is upstream of it; the model's input does not. So
the layers that read only untracked tensors and train nothing (a frozen stem) are not recorded and
compute no gradient at all, the first trained layer computes its weights' gradient but none for its
input, and a frozen layer past a trained one still passes its input's gradient on. Backward starts
at the output (`loss.backward()` on the last layer's): a layer whose output reaches it by no path
computes nothing. What each gradient costs is declared by the kind (layers/facts.py: BackwardWork);
this module only walks the graph.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..graph import INPUT, Graph, Node
from ..layers import REGISTRY
from ..layers.facts import Gradients


@dataclass(frozen=True)
class GradientFlow:
    """What decides the gradients of a graph's layers before any is calculated."""
    frozen: frozenset[str]    # layers whose parameters are frozen: a layer using another's weights
                              # shares their requires_grad, so freezing either freezes both
    reaching: frozenset[str]  # layers whose output the model's output is computed from


def gradient_flow(graph: Graph) -> GradientFlow:
    owner = {node.name: node.weights_of or node.name for node in graph.nodes}
    frozen_owners = {owner[node.name] for node in graph.nodes if node.frozen}
    reaching: set[str] = set()
    if graph.nodes:
        reaching.add(graph.nodes[-1].name)
    for node in reversed(graph.nodes):
        if node.name in reaching:
            reaching.update(name for name, read in zip(node.inputs, _differentiated(node)) if read and name != INPUT)
    return GradientFlow(frozen=frozenset(name for name, held_by in owner.items() if held_by in frozen_owners),
                        reaching=frozenset(reaching))


def _differentiated(node: Node) -> tuple[bool, ...]:
    return REGISTRY[node.kind].backward.differentiated(len(node.inputs))


def tracked(requires: dict[str, bool], node: Node) -> tuple[bool, ...]:
    """Per input of the layer, whether its gradient flows there: the layer's output is computed from its
    values, and it requires grad (`requires` maps each earlier tensor)."""
    return tuple(read and requires[name] for name, read in zip(node.inputs, _differentiated(node)))


def gradients(flow: GradientFlow, node: Node, requires: dict[str, bool]) -> Gradients:
    """The gradients backward computes through one layer: none where its output reaches no loss."""
    if node.name not in flow.reaching:
        return Gradients(inputs=(False,) * len(node.inputs), parameters=False)
    return Gradients(inputs=tracked(requires, node), parameters=node.name not in flow.frozen)


def requires_grad(flow: GradientFlow, node: Node, requires: dict[str, bool], holds_parameters: bool) -> bool:
    """Whether the layer's output requires grad: an input does, or it holds parameters it trains."""
    return any(tracked(requires, node)) or holds_parameters and node.name not in flow.frozen
