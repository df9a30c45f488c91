"""The uncounted kind: an operation the importer read but no kind states. Its row is marked, the
totals name it and say they are lower bounds, and check fails on it unless allowed (torch-free: a
spec written as `cnncalc export` writes one)."""
from __future__ import annotations

import json

from cnncalc.model import load_graph
from cnncalc.output.page import page_data
from cnncalc.workflows.page import page_figures
from conftest import run_cli

SPEC = """name: odd
input: [3, 8, 8]
layers:
  - conv2d: {out_channels: 4, kernel_size: 3}
  - uncounted: {operation: cumsum, shape: [4, 6, 6]}
    name: cumsum
  - uncounted: {operation: parameter or buffer used as a tensor, shape: [16, 4], params: 64}
    name: codebook
    from: []
  - uncounted: {operation: histc, shape: [4, 6, 16]}
    name: histc
    from: [cumsum, codebook]
"""


def test_rows_are_marked_and_totals_say_what_they_leave_out(tmp_path):
    spec = tmp_path / "odd.yaml"
    spec.write_text(SPEC)
    data = json.loads(run_cli("table", str(spec), "-f", "json").stdout)
    assert data["totals"]["uncounted"] == ["cumsum", "codebook", "histc"]
    # conv2d(3→4, 3×3): 108 weights and 4 biases, as torch holds them; the codebook's 64 as the model holds it
    assert data["totals"]["params"] == 112 + 64 and data["totals"]["macs"] == 108 * 36
    table = run_cli("table", str(spec)).stdout
    assert "not counted           3 operations: cumsum, codebook, histc" in table
    assert "MACs, FLOPs and memory are lower bounds" in table
    marked = [line for line in table.splitlines() if " uncounted " in line]
    assert len(marked) == 3 and all(" ? " in line for line in marked)  # MACs unknown, not "–" (none)


def test_check_fails_on_them_unless_allowed(tmp_path):
    spec = tmp_path / "odd.yaml"
    spec.write_text(SPEC)
    checked = run_cli("check", str(spec))
    assert checked.returncode == 1 and "3 operations: cumsum, codebook, histc not counted" in checked.stdout
    assert "(line 5)" in checked.stdout  # the first of them
    assert run_cli("check", str(spec), "--allow-uncounted").returncode == 0


def test_the_report_page_names_them(tmp_path):
    spec = tmp_path / "odd.yaml"
    spec.write_text(SPEC)
    assert page_data(page_figures(load_graph(str(spec))))["totals"]["uncounted"] == ("cumsum", "codebook", "histc")
