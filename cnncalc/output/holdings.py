"""A model's parameter table, given no input (figures/held.py): its modules as a tree, what each holds,
the totals; in a terminal and in a notebook."""
from __future__ import annotations

from ..figures.held import Held
from .columns import Column, layout
from .escape import html as escape
from .notebook import STYLE
from .units import human

COLUMNS = [Column("module", "Module", False), Column("class", "Class", False), Column("params", "Params", True),
           Column("buffers", "Buffers", True)]
NO_INPUT = "No input given: shapes, MACs and memory at an input need input_size=(3, 224, 224) (--input)."


def _lines(holdings: Held) -> list[tuple[str, str]]:
    return [("parameters", f"{holdings.params:,}"), ("trainable", f"{holdings.trainable_params:,}"),
            ("buffers", f"{holdings.buffers:,}"), ("parameter memory", f"{holdings.param_bytes:,} B ({human(holdings.param_bytes, 'B')})")]


def render_holdings(holdings: Held, width: int | None) -> str:
    rows = [["  " * (row.depth - 1) + row.name.rpartition(".")[2], row.module, f"{row.params:,}",
             f"{row.buffers:,}"] for row in holdings.rows]
    totals = [f"{label:<18}{value}" for label, value in _lines(holdings)]
    return "\n".join([*layout(COLUMNS, rows, width), "", f"{holdings.model} totals", *totals, NO_INPUT]) + "\n"


def render_holdings_html(holdings: Held) -> str:
    cells = "".join(f'<tr><td style="padding-left:{row.depth - 1}em">{escape(row.name.rpartition(".")[2])}</td>'
                    f'<td>{escape(row.module)}</td><td class="num">{row.params:,}</td>'
                    f'<td class="num">{row.buffers:,}</td></tr>' for row in holdings.rows)
    totals = "".join(f"<tr><td>{label}</td><td>{value}</td></tr>" for label, value in _lines(holdings))
    return (f'<div class="cnncalc">{STYLE}<div><b>{escape(holdings.model)}</b></div>'
            '<table class="totals"><tr class="head"><td>Module</td><td>Class</td><td>Params</td><td>Buffers</td></tr>'
            f'{cells}</table><table class="totals">{totals}</table><div class="muted">{escape(NO_INPUT)}</div></div>')
