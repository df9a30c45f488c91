"""The HTML report: one self-contained page (figures as JSON, script and style inlined), drawn in
the browser; nothing is fetched when it opens. Names from a spec reach the page only as JSON data
and are shown as text, never parsed as HTML."""
from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from ..figures.conventions import CONVENTIONS
from ..figures.report import LayerFigures
from ..figures.rf import Field, number
from ..graph import INPUT
from ..layers import REGISTRY
from .escape import html
from .units import PREFIXES

if TYPE_CHECKING:  # output renders what workflows computed; it imports none of it
    from ..workflows.page import PageFigures

ASSETS = Path(__file__).with_name("assets")
ROW_KEYS = ("weights", "biases", "params", "trainable_params", "buffers", "activations", "activation_bytes",
            "macs", "flops")


def render_page(page: PageFigures) -> str:
    data = json.dumps(exact(page_data(page)), separators=(",", ":"), ensure_ascii=False)
    data = data.replace("<", "\\u003c")  # no "</script>" or "<!--" can end or bend the data's element
    template = (ASSETS / "report.html").read_text(encoding="utf-8")
    return (template.replace("/*STYLE*/", (ASSETS / "report.css").read_text(encoding="utf-8"))
            .replace("/*SCRIPT*/", (ASSETS / "report.js").read_text(encoding="utf-8"))
            .replace("/*DATA*/", data)
            .replace("<!--TITLE-->", html(page.summary.report.model)))


SAFE_INTEGER = 2**53 - 1  # JavaScript's Number.MAX_SAFE_INTEGER: a larger integer would be rounded


def exact(value):
    """Page data whose integers JavaScript reads exactly: one past 2^53 - 1 as a string of its
    digits, which the page formats as a BigInt (report.js: count)."""
    if isinstance(value, dict):
        return {key: exact(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [exact(item) for item in value]
    if type(value) is int and abs(value) > SAFE_INTEGER:
        return str(value)
    return value


def page_data(page: PageFigures) -> dict:
    report, memory = page.summary.report, page.summary.memory
    index = {row.name: i for i, row in enumerate(report.layers)}
    blocks = {block.row.name: i for i, block in enumerate(page.blocks)}
    return {
        "model": report.model, "input_shape": report.input_shape, "batch": report.batch, "dtype": report.dtype,
        "amp": str(report.amp) if report.amp else None,
        "source": report.source, "source_text": page.source_text, "prefixes": PREFIXES,
        "totals": vars(report.totals), "memory": {key: value for key, value in vars(memory).items() if key != "layers"},
        "not_run": [vars(held) for held in report.not_run],
        "conventions": [{"name": c.name, "description": c.source, "ops": ops}
                        for c, ops in zip(CONVENTIONS.values(), page.convention_totals)],
        "layers": [dict(_row(row, page.ops[row.name], page.fields.get(row.name), page.centre_spans.get(row.name)),
                        inputs=[index[name] for name in row.inputs], family=_family(row),
                        blocks=[blocks[scope.name] for scope in row.scopes], explain=row.explain)
                   for row in report.layers],
        "blocks": [dict(_row(block.row, block.ops), level=block.level, family="block",
                        parent=blocks[block.row.scopes[-1].name] if block.row.scopes else None)
                   for block in page.blocks],
    }


def _row(row: LayerFigures, ops: tuple[int, ...], field: Field | None = None, centre: list | None = None) -> dict:
    figures = {key: getattr(row, key) for key in ROW_KEYS}
    return dict(figures, name=row.name, kind=row.kind, shape=row.output_shape, allocates=row.allocates, ops=ops,
                line=row.line, rf=_field(field, centre) if field else None, dtype=row.dtype)


def _field(field: Field, centre: list | None) -> dict:
    return {"size": [number(r) for r in field.size], "stride": [number(j) for j in field.stride],
            "padding": [number(p) for p in field.padding], "whole": field.whole, "global": field.global_,
            "centre": centre}


def _family(row: LayerFigures) -> str:
    return INPUT if row.kind == INPUT else REGISTRY[row.kind].family
