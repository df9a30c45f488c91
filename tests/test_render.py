"""The text table: aligned columns, no trailing spaces, long layer names wrapped within the width."""
from __future__ import annotations

import pytest

from cnncalc.figures import analyze
from cnncalc.figures.memory import memory
from cnncalc.output.render import render_rf, render_table
from cnncalc.figures.rf import receptive_fields
from cnncalc.spec.zoo import load_model, zoo_index


@pytest.mark.parametrize("model", list(zoo_index()))
def test_table_fits_the_width_without_trailing_spaces(model):
    graph = load_model(model)
    report = analyze(graph)
    for text in (render_table(report, 100, memory(graph, report)),
                 render_rf(report, receptive_fields(graph, report), "table", 100)):
        lines = text.splitlines()
        assert all(line == line.rstrip() for line in lines)
    assert max(len(line) for line in render_table(report, 100, memory(graph, report)).splitlines()) <= 100


def test_columns_line_up_under_their_headers():
    text = render_table(analyze(load_model("resnet18")), 100)
    header, *rows = text.splitlines()
    ends = [header.index(title) + len(title) for title in ("Params", "MACs", "Memory")]
    conv1 = next(row for row in rows if row.startswith("conv1 "))
    # resnet18's conv1: 9,408 parameters, 118,013,952 MACs, 64×112×112 float32 outputs (torchvision's model)
    assert [conv1.index(cell) + len(cell) for cell in ("9,408", "118,013,952", "3.2 MB")] == ends


def test_long_join_names_wrap_under_their_row_and_keep_every_name_whole():
    text = render_table(analyze(load_model("inception_v3")), 100)
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("  8.concat (branch1x1.2.relu,"))
    wrapped = [lines[start].split("  concat")[0].strip()]
    for line in lines[start + 1:]:
        if not line.startswith("      ") or "  " in line.strip():
            break
        wrapped.append(line.strip())
    assert len(wrapped) > 1
    assert " ".join(wrapped) == ("8.concat (branch1x1.2.relu, branch5x5_2.2.relu, branch3x3dbl_3.2.relu, "
                                 "branch_pool.2.relu)")


def test_totals_box_is_closed_and_titled():
    text = render_table(analyze(load_model("lenet5")), 100)
    box = [line for line in text.splitlines() if line[:1] in "╭│╰"]
    assert len({len(line) for line in box}) == 1
    assert box[0].startswith("╭─") and " lenet5 totals " in box[0] and box[0].endswith("─╮")
    assert box[-1] == "╰" + "─" * (len(box[0]) - 2) + "╯"
