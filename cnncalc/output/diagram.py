"""`cnncalc graph`: the layer graph as Mermaid (renders on GitHub) or Graphviz DOT, shapes on edges."""
from __future__ import annotations

import re

from ..figures.report import Report
from ..graph import Graph
from ..layers.registry import format_shape
from .escape import dot_text, mermaid_text


def _id(name: str) -> str:
    return "n_" + re.sub(r"\W", "_", name)


def _label(row, escape) -> str:
    params = f"<br/>{row.params:,} params" if row.params else ""
    return f"{escape(row.name)}<br/>{escape(row.kind)}{params}"


def mermaid(graph: Graph, report: Report) -> str:
    rows = {row.name: row for row in report.layers}
    lines = ["flowchart TD", *(f'    {_id(name)}(["{mermaid_text(name)} {format_shape(rows[name].output_shape)}"])'
                               for name in graph.input_names)]
    lines += [f'    {_id(n.name)}["{_label(rows[n.name], mermaid_text)}"]' for n in graph.nodes]
    for node in graph.nodes:
        for source in node.inputs:
            lines.append(f'    {_id(source)} -->|"{format_shape(rows[source].output_shape)}"| {_id(node.name)}')
    last = graph.nodes[-1].name
    lines.append('    n__output(["output"])')
    lines.append(f'    {_id(last)} -->|"{format_shape(rows[last].output_shape)}"| n__output')
    return "\n".join(lines) + "\n"


def dot(graph: Graph, report: Report) -> str:
    rows = {row.name: row for row in report.layers}
    lines = [f'digraph "{dot_text(graph.name)}" {{', "  rankdir=TB;", '  node [shape=box, fontname="Helvetica"];',
             *(f'  {_id(name)} [label="{dot_text(name)}\\n{format_shape(rows[name].output_shape)}", shape=ellipse];'
               for name in graph.input_names)]
    lines += [f'  {_id(n.name)} [label="{_label(rows[n.name], dot_text).replace("<br/>", chr(92) + "n")}"];'
              for n in graph.nodes]
    for node in graph.nodes:
        for source in node.inputs:
            lines.append(f'  {_id(source)} -> {_id(node.name)} [label="{format_shape(rows[source].output_shape)}"];')
    return "\n".join(lines + ["}"]) + "\n"
