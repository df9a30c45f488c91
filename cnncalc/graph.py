"""The layer graph: plain frozen nodes in topological order."""
from __future__ import annotations

import heapq
from dataclasses import dataclass, field, replace

from .errors import SpecError
from .record import record

Shape = tuple[int, ...]
INPUT = "input"  # the reserved name of the model's input
DTYPE_BYTES = {"float32": 4, "float16": 2, "bfloat16": 2, "int8": 1, "float64": 8}


def parse_shape(text: str) -> Shape:
    """'3x224x224' (or 3×224×224) → (3, 224, 224): a per-sample input shape as users write it."""
    try:
        shape = tuple(int(part) for part in text.lower().replace("×", "x").split("x"))
    except ValueError:
        raise SpecError(f"--input must look like 3x224x224, got '{text}'") from None
    if not 1 <= len(shape) <= 4 or min(shape) < 1:
        raise SpecError(f"--input must be 1 to 4 positive sizes like 3x224x224, got '{text}'")
    return shape


@dataclass(frozen=True)
class Scope:
    """A block or group a node belongs to: its full name and what it is (block name, 'sequential')."""
    name: str
    kind: str


@record
class Node:
    name: str
    kind: str
    args: dict = field(hash=False)
    inputs: tuple[str, ...]
    line: int | None = None
    scopes: tuple[Scope, ...] = ()
    frozen: bool = False  # parameters excluded from training
    used_at: int | None = None  # the line that used the block this node's template belongs to
    functional: bool = False  # called as torch.nn.functional in the model's forward(), not a module
    weights_of: str | None = None  # the earlier layer whose parameters and buffers it uses (a module called twice)
    per_row: bool = False  # runs on each row of the sample's first dim as on a sample (a conv on B·heads rows)


@dataclass(frozen=True, kw_only=True)
class NotRun:
    """Tensors the model holds that no layer counts: a module its forward() never calls (an auxiliary
    head in eval mode), one whose output nobody reads, or a parametrization's originals beyond the
    weight it computes. They take memory and count in the totals; they compute nothing."""
    name: str
    params: int
    buffers: int
    frozen_params: int = 0  # requires_grad=False: no gradient, no optimizer state
    why: str = "not run"


HELD_APART = ("not run", "output unused", "parametrization")  # why tensors are held apart from the layers


@dataclass(frozen=True)
class Graph:
    name: str
    input_shape: Shape
    nodes: tuple[Node, ...]  # topological order; inputs name earlier nodes or INPUT
    source: str = "<spec>"
    description: str = ""
    budget: dict = field(default_factory=dict, hash=False)  # max_params, max_macs, ... → limit
    budget_line: int | None = None
    not_run: tuple[NotRun, ...] = ()
    dtype: str = "float32"  # the model's own (a .half() module's float16), unless --dtype says otherwise

    def with_input(self, shape: Shape) -> "Graph":
        return replace(self, input_shape=tuple(shape))

    def alive_until(self) -> dict[str, int]:
        """Each tensor a layer reads → the index of the last layer it is alive through in a forward
        pass: its last reader's, or, where it is passed into a block (a scope its producer is
        outside), that block's last layer's: the caller holds a module's arguments until it
        returns (`x = self.blocks(x)` keeps the stem's output through every block)."""
        runs: list[dict[str, int]] = []  # per node, each of its scopes → the index its call began at
        ends: dict[tuple[str, int], int] = {}  # (scope, start) → its call's last node
        for index, node in enumerate(self.nodes):
            before = runs[-1] if runs else {}
            runs.append({scope.name: before.get(scope.name, index) for scope in node.scopes})
            for name, start in runs[-1].items():
                ends[name, start] = index
        producer = {node.name: index for index, node in enumerate(self.nodes)}
        alive: dict[str, int] = {}
        for index, node in enumerate(self.nodes):
            for name in node.inputs:
                outside = runs[producer[name]] if name in producer else {}
                alive[name] = max([alive.get(name, index), index] + [
                    ends[scope, start] for scope, start in runs[index].items() if outside.get(scope) != start])
        return alive


def topological(nodes: list[Node], source: str) -> tuple[Node, ...]:
    """Kahn's algorithm, keeping spec order wherever the edges allow; a cycle is a SpecError."""
    if _in_order(nodes):  # what Kahn's algorithm would return, found in one pass
        return tuple(nodes)
    order = {node.name: index for index, node in enumerate(nodes)}
    waiting = {node.name: len(node.inputs) - node.inputs.count(INPUT) for node in nodes}
    consumers: dict[str, list[str]] = {}
    for node in nodes:
        for name in node.inputs:
            consumers.setdefault(name, []).append(node.name)
    ready = [order[n.name] for n in nodes if waiting[n.name] == 0]
    heapq.heapify(ready)
    result = []
    while ready:
        node = nodes[heapq.heappop(ready)]
        result.append(node)
        for consumer in consumers.get(node.name, ()):
            waiting[consumer] -= 1
            if waiting[consumer] == 0:
                heapq.heappush(ready, order[consumer])
    if len(result) < len(nodes):
        raise _cycle_error([n for n in nodes if waiting[n.name] > 0], source)
    return tuple(result)


def _in_order(nodes: list[Node]) -> bool:
    """Whether every node comes after the nodes it reads (most specs are written so)."""
    seen = {INPUT}
    for node in nodes:
        for name in node.inputs:
            if name not in seen:
                return False
        seen.add(node.name)
    return True


def _cycle_error(stuck: list[Node], source: str) -> SpecError:
    by_name = {node.name: node for node in stuck}
    path, node = [], stuck[0]
    while node.name not in path:
        path.append(node.name)
        node = next(by_name[i] for i in node.inputs if i in by_name)
    cycle = path[path.index(node.name):] + [node.name]
    return SpecError("cycle: " + " → ".join(cycle), source, by_name[cycle[0]].line, cycle[0])
