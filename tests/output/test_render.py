"""The text table: aligned columns, no trailing spaces, long layer names wrapped within the width."""
from __future__ import annotations

import json

import pytest

from cnncalc.figures import analyze
from cnncalc.figures.memory import memory
from cnncalc.output.render import render_rf, render_table
from cnncalc.figures.rf import receptive_fields
from cnncalc.spec.zoo import load_model
from conftest import ZOO_CASES


@pytest.mark.parametrize("model", ZOO_CASES)  # the heavy models in the slow set
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


def test_the_zoo_list_stays_in_line_at_80_columns():
    from cnncalc.output.render import render_zoo
    from cnncalc.workflows.zoo import ZooModel

    # torchvision's published counts; a name with no place to wrap (mobilenet_v3_large) sets the column's width
    rows = [ZooModel(model="mobilenet_v3_large", input=(3, 224, 224), params=5_483_032, macs=216_589_760,
                     spec="mobilenet_v3.py"),
            ZooModel(model="vgg16", input=(3, 224, 224), params=138_357_544, macs=15_470_264_320, spec="vgg.yaml"),
            ZooModel(model="alexnet_original", input=(3, 227, 227), params=60_965_224, macs=724_406_816,
                     spec="alexnet_original.yaml")]
    lines = render_zoo(rows, "table", 80).splitlines()
    assert max(map(len, lines)) <= 80 and len(lines) == 4  # no row wrapped
    assert lines[0].split() == ["model", "input", "parameters", "MACs", "spec"]  # every column kept
    assert len({line.index("×224×224") for line in lines if "×224×224" in line}) == 1
    assert "138.4 M" in lines[2] and "15.5 G" in lines[2] and lines[2].endswith("vgg.yaml")


def test_coverage_wraps_a_long_reason_under_its_column_and_keeps_every_column():
    from cnncalc.output.render import render_coverage
    from cnncalc.verify.coverage import Outcome

    reason = "forward() replaces the buffers blocks.0.attn.rel_indices, blocks.1.attn.rel_indices with new ones"
    outcomes = [Outcome(library="timm", model="convit_small", family="convit", exact=False, reason=reason),
                Outcome(library="timm", model="resnet18", family="resnet", exact=True, reason="")]
    lines = render_coverage(outcomes, {"timm": (1, 2, "families")}, "table", 80).splitlines()
    assert max(map(len, lines)) <= 80
    assert lines[0].split() == ["Library", "Family", "Model", "Result"]
    start = lines[0].index("Result")
    assert lines[1][start:].startswith("forward() replaces") and all(line[:start].strip() == "" for line in lines[2:-2])
    assert " ".join(line[start:].strip() for line in lines[1:-2]) == reason  # every word, in order
    assert lines[-2].split() == ["timm", "resnet", "resnet18", "exact"]


def test_coverage_says_which_peers_count_each_model_and_names_a_refused_one_a_peer_counts():
    from cnncalc.output.render import render_coverage
    from cnncalc.verify.coverage import Outcome, peer_shares, shares, unread

    outcomes = [Outcome(library="timm", model="convit_small", family="convit", exact=False, reason="refused",
                        table=False, peers={"fvcore": "RuntimeError: traced", "thop": ""}),
                Outcome(library="timm", model="resnet18", family="resnet", exact=True, reason="",
                        peers={"fvcore": "", "thop": ""}),
                Outcome(library="timm", model="csatv2", family="csatv2", exact=False, reason="refused too",
                        table=False, peers={"fvcore": "TypeError", "thop": "TypeError"})]

    def shown(fmt: str) -> str:
        return render_coverage(outcomes, shares(outcomes), fmt, 100, peer_shares(outcomes), unread(outcomes))

    lines = shown("table").splitlines()
    assert lines[0].split() == ["Library", "Family", "Model", "Counted", "by", "Result"]
    assert [line.split()[3:] for line in lines[1:4]] == [["thop", "refused"], ["all", "exact"],
                                                         ["none", "refused", "too"]]
    assert lines[4:] == ["timm: 1 of 3 families exact (33.3%); fvcore ran 1, thop 2",
                         "refused, yet counted by thop: timm convit_small"]  # csatv2: no peer counts it either
    markdown = shown("markdown").splitlines()
    assert markdown[0] == "| library | family | model | counted by | result |" and markdown[1] == "|---|---|---|---|---|"
    assert markdown[-1] == "- refused, yet counted by thop: timm convit_small"
    data = json.loads(shown("json"))
    assert data["libraries"]["timm"]["peers"] == {"fvcore": 1, "thop": 2}
    assert data["libraries"]["timm"]["refused_yet_counted"] == ["convit_small"]
    assert data["models"][0]["peers"] == {"fvcore": "RuntimeError: traced", "thop": ""}
    narrow = render_coverage(outcomes[1:2], shares(outcomes[1:2]), "table", 30, peer_shares(outcomes[1:2]), [])
    assert narrow.splitlines()[0].split() == ["Library", "Model", "Result"]  # the family goes first, then the peers


def test_the_totals_and_json_say_estimate_beside_a_recurrent_models_memory():
    import json

    from cnncalc.output.render import render_json
    from cnncalc.spec import build_graph

    graph = build_graph({"input": [24, 16], "layers": [{"gru": {"hidden_size": 32, "batch_first": True}}]}, "<test>", {})
    report = analyze(graph)
    lines = render_table(report, 100, memory(graph, report)).splitlines()
    marked = [line for line in lines if "peak inference" in line or "training step (" in line]
    assert len(marked) == 2 and all(line.rstrip(" │").endswith(" estimate") for line in marked)
    assert json.loads(render_json(report, memory(graph, report)))["totals"]["memory"]["estimate"][0].startswith("gru: ")
    resnet = load_model("resnet18")
    plain = analyze(resnet)
    assert " estimate" not in render_table(plain, 100, memory(resnet, plain))
    assert json.loads(render_json(plain, memory(resnet, plain)))["totals"]["memory"]["estimate"] == []
