"""Shared helpers: the zoo, the outside reference tables, and one-layer graphs."""
from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest

from cnncalc.spec import build_graph
from cnncalc.zoo import zoo_index

REFERENCE = Path(__file__).parent / "reference"
ZOO = sorted(zoo_index())


def torchvision_table() -> dict[str, dict]:
    """torchvision's published num_params and GMACs (`_ops`), per builder, first weights listed."""
    rows = {}
    for line in (REFERENCE / "torchvision_weights_meta.md").read_text().splitlines()[2:]:
        cells = [c.strip() for c in line.strip("|").split("|")]
        name = cells[0]
        rows.setdefault(name, {"params": int(cells[2].replace(",", "")), "gmacs": float(cells[3]),
                               "crop": int(cells[4])})
    return rows


def peer_table() -> dict[str, dict]:
    """Totals measured with fvcore, torch's flop counter, torchinfo, ptflops and thop."""
    lines = [line for line in (REFERENCE / "peer_tools_measured.tsv").read_text().splitlines()
             if not line.startswith("#")]
    return {row["model"]: {k: int(v) for k, v in row.items() if k != "model"}
            for row in csv.DictReader(lines, delimiter="\t")}


def one_layer(kind: str, args: dict | None, input_shape, extra: list | None = None):
    """A graph of a single layer (plus optional further layers) on the given input."""
    layers = [{kind: args}] + (extra or [])
    return build_graph({"input": list(input_shape), "layers": layers}, "<test>", {})


def tolerate_torch():
    return pytest.importorskip("torch")


SHAPE_RE = re.compile(r"^\d+(×\d+)*$")
