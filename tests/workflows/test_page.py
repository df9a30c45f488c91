"""What `cnncalc report` computes before rendering: totals under every convention (each peer tool's own
measurement), every block summed, and what the middle unit of a layer sees (its receptive field)."""
from __future__ import annotations

from cnncalc.figures.conventions import CONVENTIONS
from cnncalc.model import load_graph
from cnncalc.workflows.page import page_figures
from conftest import peer_table, torchvision_table


def test_each_conventions_total_is_its_tools_measurement():
    page = page_figures(load_graph("resnet18"))
    peers = peer_table()["resnet18"]
    totals = dict(zip(CONVENTIONS, page.convention_totals))
    assert round(totals["torchvision"] / 1e9, 3) == torchvision_table()["resnet18"]["gmacs"]  # published: 1.814
    assert (totals["fvcore"], totals["torch"], totals["torchinfo"], totals["ptflops"], totals["thop"]) == (
        peers["fvcore"], peers["torch_flop_counter"], peers["torchinfo_mult_adds"], peers["ptflops_macs"],
        peers["thop_macs"])
    assert page.summary.totals.params == torchvision_table()["resnet18"]["params"]


def test_every_block_is_summed_under_every_convention():
    page = page_figures(load_graph("resnet18"))
    blocks = {block.row.name: block for block in page.blocks}
    # torchvision's resnet18.layer1: two BasicBlocks of two 3×3 convs 64→64 (36,864 weights each) and two
    # BatchNorm2d(64) (128 each): 2 × (2 × 36,864 + 2 × 128)
    assert blocks["layer1"].row.params == 147_968 and blocks["layer1"].level == 1
    assert blocks["layer1.0"].level == 2
    for index, name in enumerate(CONVENTIONS):
        inside = sum(ops[index] for layer, ops in page.ops.items() if layer.startswith("layer1."))
        assert blocks["layer1"].ops[index] == inside, name


def test_the_middle_unit_of_a_layer_sees_its_field_around_it(tmp_path):
    spec = tmp_path / "two.yaml"
    spec.write_text("input: [1, 9, 9]\nlayers:\n  - conv2d: {out_channels: 1, kernel_size: 3}\n"
                    "  - conv2d: {out_channels: 1, kernel_size: 3, stride: 2}\n")
    page = page_figures(load_graph(str(spec)))
    # the first conv's output is 7×7, its middle unit (3, 3) reads input rows 3…5; the second's is 3×3,
    # its unit (1, 1) reads the first's rows 2…4, so input rows 2…6
    assert page.centre_spans["0.conv2d"] == [(3, 5), (3, 5)]
    assert page.centre_spans["1.conv2d"] == [(2, 6), (2, 6)]
    assert page.source_text == spec.read_text()
