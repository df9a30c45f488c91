"""Repeated groups: a group equal to one expanded before (a repeated block: the same entries, lines,
parameters, frozen flag and use line) is copied from the first expansion, renamed, instead of being
expanded again. ResNet-152's 50 bottlenecks are 8 expansions and 42 copies.

A copy is only made when every node of the first expansion reads inside the group or from its
input; a group that reads names outside itself is expanded again, since those names may mean other
layers from another place.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..graph import TOOL_FLAGS, Node, Scope
from .entry import GROUP
from .references import Context, Reference, scoped

GROUP_INPUT = object()  # in a template: the input of the group


@dataclass(frozen=True)
class GroupTemplate:
    """A group's nodes relative to the group: names without its prefix, inputs inside it or GROUP_INPUT."""
    nodes: tuple[Node, ...]        # with relative names and inputs
    tails: tuple[int, ...]         # per node: its index in `scopes`
    scopes: tuple[tuple[tuple[str, str], ...], ...]  # the scopes below the group's own: (relative name, kind)
    outputs: tuple[tuple[str, Any], ...]  # (relative name, relative output) of the groups inside
    output: Any

    def instantiate(self, inner: Context) -> tuple[list[Node], dict, Any]:
        """The template's nodes under a new group's name, scopes and input; its groups' outputs; its output."""
        prefix, group_input = inner.prefix, inner.input

        def name(relative: Any) -> Any:
            return group_input if relative is GROUP_INPUT else prefix + relative
        scopes = [inner.scopes + tuple(Scope(prefix + n, kind) for n, kind in tail) for tail in self.scopes]
        nodes = [Node.of({"name": prefix + node.name, "kind": node.kind, "args": node.args,
                          "inputs": tuple([name(i) for i in node.inputs]), "line": node.line,
                          "scopes": scopes[tail], "frozen": node.frozen, "used_at": node.used_at,
                          "functional": node.functional, "weights_of": node.weights_of,
                          "per_row": node.per_row, "module": node.module,
                          **{flag: getattr(node, flag) for flag in TOOL_FLAGS}})
                 for node, tail in zip(self.nodes, self.tails)]
        return nodes, {prefix + relative: name(output) for relative, output in self.outputs}, name(self.output)

    def reads_group_input(self, index: int) -> bool:
        return GROUP_INPUT in self.nodes[index].inputs


@dataclass
class ExpandedGroup:
    """A group as first expanded: the nodes and outputs it added, and (once needed) its template."""
    entries: Any
    inner: Context
    output: Any
    nodes: range    # indices into the expander's nodes
    outputs: range  # positions in the expander's group outputs
    lines: list | None = None
    built: "GroupTemplate | None | bool" = False

    def matches(self, entries: Any, env: dict) -> bool:
        """Equal entries from the same lines with equal parameters expand alike."""
        if entries is not self.entries:
            if entries != self.entries:
                return False
            if self.lines is None:
                self.lines = _lines(self.entries)
            if _lines(entries) != self.lines:
                return False
        return env is self.inner.env or env == self.inner.env

    def template(self, nodes: list[Node], outputs: dict) -> GroupTemplate | None:
        if self.built is False:
            items = list(outputs.items())
            self.built = self._build([nodes[i] for i in self.nodes], [items[i] for i in self.outputs])
        return self.built

    def _build(self, nodes: list[Node], outputs: list) -> GroupTemplate | None:
        """None where a node reads from outside the group: such a copy would need its own lookup."""
        prefix, depth = self.inner.prefix, len(self.inner.scopes)
        tails: dict[tuple, int] = {}
        relative_nodes, node_tails = [], []
        for node in nodes:
            inputs = tuple(self.relative(i) for i in node.inputs)
            if None in inputs:
                return None
            node_tails.append(tails.setdefault(node.scopes[depth:], len(tails)))
            relative_nodes.append(Node.of({**vars(node), "name": node.name[len(prefix):], "inputs": inputs}))
        relative_outputs = tuple((name[len(prefix):], self.relative(output)) for name, output in outputs)
        output = self.relative(self.output)
        if output is None or any(out is None for _, out in relative_outputs):
            return None
        scopes = tuple(tuple((s.name[len(prefix):], s.kind) for s in tail) for tail in tails)
        return GroupTemplate(nodes=tuple(relative_nodes), tails=tuple(node_tails), scopes=scopes,
                             outputs=relative_outputs, output=output)

    def relative(self, value: Any) -> Any:
        """A name inside the group without its prefix, GROUP_INPUT, or None (outside the group)."""
        inner, seen = self.inner, set()
        while isinstance(value, Reference) and value is not inner.input and id(value) not in seen:
            seen.add(id(value))
            value = scoped(value, inner)
        if value is inner.input or (isinstance(value, str) and value == inner.input):
            return GROUP_INPUT
        if isinstance(value, str) and value.startswith(inner.prefix):
            return value[len(inner.prefix):]
        return None


def _lines(entries: Any) -> list:
    """The line of every entry, groups within included: what == on the entries does not compare."""
    lines = [getattr(entries, "lines", None)]
    for entry in entries:
        lines.append(getattr(entry, "line", None))
        if isinstance(entry, dict) and isinstance(entry.get(GROUP), list):
            lines.append(_lines(entry[GROUP]))
    return lines
