"""Backward work: which gradients autograd computes through each layer, as torch decides.

A tensor requires grad where a trained parameter is upstream of it; the model's input does not. So
the layers that read only untracked tensors and train nothing (a frozen stem) are not recorded and
compute no gradient at all, the first trained layer computes its weights' gradient but none for its
input, and a frozen layer past a trained one still passes its input's gradient on. Backward starts
at the outputs (a loss reads each one forward() returns): a layer whose output reaches them by no
path computes nothing. What each gradient costs is declared by the kind (layers/facts.py: BackwardWork);
this module only walks the graph.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..graph import Graph, Node, trainable
from ..layers import REGISTRY
from ..layers.facts import Gradients


@dataclass(frozen=True)
class GradientFlow:
    """What decides the gradients of a graph's layers before any is calculated."""
    frozen: dict[str, bool | str]  # layers whose parameters are frozen, all or a part (Node.frozen): a layer
                                   # using another's weights shares their requires_grad, so freezing either freezes both
    reaching: frozenset[str]    # layers whose output the model's output is computed from
    first_only: frozenset[str]  # layers whose gradient flows to their first input only (kinds declare it)

    def through(self, node: Node, requires: dict[str, bool]) -> tuple[tuple[bool, ...], Gradients]:
        """Per input of the layer, whether it is tracked: its gradient flows there (the layer's output is
        computed from its values, and it requires grad: `requires` maps each earlier tensor); and the
        gradients backward computes through the layer: none where its output reaches no loss."""
        name = node.name
        if name in self.first_only:
            tracked = tuple([requires[source] and index == 0 for index, source in enumerate(node.inputs)])
        else:
            tracked = tuple([requires[source] for source in node.inputs])
        if name not in self.reaching:
            return tracked, _gradients((False,) * len(tracked), False)
        # a bias's gradient is a sum, no product: backward's products are the weights'
        return tracked, _gradients(tracked, self.frozen.get(name) not in (True, "weights"))

    def requires_grad(self, node: Node, tracked: tuple[bool, ...], weights: int, biases: int) -> bool:
        """Whether the layer's output requires grad: an input does, or it holds parameters it trains."""
        return any(tracked) or trainable(self.frozen.get(node.name, False), weights, biases) > 0


_MADE: dict[tuple, Gradients] = {}


def _gradients(inputs: tuple[bool, ...], parameters: bool) -> Gradients:
    """One record per distinct answer: repeated blocks ask the same."""
    key = (inputs, parameters)
    made = _MADE.get(key)
    if made is None:
        made = _MADE[key] = Gradients(inputs=inputs, parameters=parameters)
    return made


def gradient_flow(graph: Graph) -> GradientFlow:
    """Which layers are frozen, which reach the output by inputs whose values they read, in one pass each."""
    frozen_owners = {node.weights_of or node.name: node.frozen for node in graph.nodes if node.frozen}
    first_only = frozenset(node.name for node in graph.nodes
                           if REGISTRY[node.kind].backward.differentiates == "first input")
    reaching = graph.feeding(lambda node: node.inputs[:1] if node.name in first_only else node.inputs)
    frozen = {node.name: frozen_owners[node.weights_of or node.name] for node in graph.nodes
              if (node.weights_of or node.name) in frozen_owners}
    return GradientFlow(frozen=frozen, reaching=frozenset(reaching), first_only=first_only)
