"""`cnncalc report`: the page carries every figure, opens offline, and is safe with hostile names.
The browser tests (tests/test_report_browser.py) prove what the page draws."""
from __future__ import annotations

import json
import re

import pytest

from cnncalc.model import load_graph
from cnncalc.output.page import page_data, render_page
from cnncalc.workflows.page import page_figures
from conftest import peer_table, run_cli, torchvision_table

HOSTILE = """\
name: "</script><script>alert(1)</script>"
input: [3, 8, 8]
layers:
  - conv2d: {out_channels: 4, kernel_size: 3}
    name: "<img src=x onerror=alert(2)><!--"
  - relu
"""


def embedded(html: str) -> dict:
    """The page's data, read back as the browser reads it."""
    text = re.search(r'<script type="application/json" id="data">(.*?)</script>', html, re.S).group(1)
    return json.loads(text)


def page_of(model: str) -> str:
    return render_page(page_figures(load_graph(model, None, None)))


@pytest.mark.parametrize("model", ["resnet50", "googlenet", "densenet121"])
def test_totals_and_conventions_are_the_published_and_measured_ones(model):
    data = embedded(page_of(model))
    # torchvision's weights table (num_params) and the peers' own totals (reference/peer_tools_measured.tsv)
    assert data["totals"]["params"] == torchvision_table()[model]["params"]
    peers = peer_table()[model]
    ops = {c["name"]: c["ops"] for c in data["conventions"]}
    assert ops["fvcore"] == peers["fvcore"]
    assert ops["torch"] == peers["torch_flop_counter"]
    assert ops["torchinfo"] == peers["torchinfo_mult_adds"]
    assert ops["ptflops"] == peers["ptflops_macs"]
    assert ops["thop"] == peers["thop_macs"]


def test_every_layer_and_block_is_on_the_page():
    graph = load_graph("resnet50", None, None)
    data = embedded(page_of("resnet50"))
    assert [row["name"] for row in data["layers"]] == ["input"] + [node.name for node in graph.nodes]
    scopes = {scope.name for node in graph.nodes for scope in node.scopes}
    assert {block["name"] for block in data["blocks"]} == scopes
    # a block's figures sum its layers': layer1's parameters are torch's sum over model.layer1
    # (torchvision resnet50: 215,808)
    layer1 = next(block for block in data["blocks"] if block["name"] == "layer1")
    assert layer1["params"] == 215_808
    inside = [row for row in data["layers"] if row["name"].startswith("layer1.")]
    assert sum(row["macs"] for row in inside) == layer1["macs"]


def test_a_layer_carries_its_arithmetic_its_field_and_its_line():
    data = embedded(page_of("resnet50"))
    conv1 = next(row for row in data["layers"] if row["name"] == "conv1")
    assert conv1["params"] == 9_408  # torch: Conv2d(3, 64, 7, bias=False) holds 64·3·7·7
    assert any("MACs" in line for line in conv1["explain"])
    assert conv1["rf"]["size"] == [7, 7] and conv1["rf"]["stride"] == [2, 2]
    # unit (56, 56) of conv1 (stride 2, padding 3) reads input rows 56·2 − 3 … 56·2 − 3 + 6
    assert conv1["rf"]["centre"] == [[109, 115], [109, 115]]
    lines = data["source_text"].splitlines()
    assert "conv1" in lines[conv1["line"] - 1]


def test_the_page_opens_offline():
    html = page_of("googlenet")
    assert not re.search(r"<(script|link|img|iframe)[^>]*\b(src|href)=", html)
    assert "@import" not in html and "url(" not in html
    # the one address on the page is SVG's namespace, which is a name, not a request
    assert set(re.findall(r"https?://[^\s\"']+", html)) == {"http://www.w3.org/2000/svg"}
    assert "default-src 'none'" in html  # the browser refuses any request the page might try


def test_hostile_names_stay_data(tmp_path):
    spec = tmp_path / "hostile.yaml"
    spec.write_text(HOSTILE)
    html = render_page(page_figures(load_graph(str(spec), None, None)))
    assert "<script>alert" not in html and "<img" not in html and "<!--" not in html
    data = embedded(html)
    assert data["model"] == "</script><script>alert(1)</script>"
    assert data["layers"][1]["name"] == "<img src=x onerror=alert(2)><!--"
    assert html.count("<script") == 2  # the data and the page's own script


def test_resnet152_page_is_at_most_2_mb():
    assert len(page_of("resnet152").encode()) <= 2_000_000


def test_not_run_modules_are_counted():
    from dataclasses import replace

    from cnncalc.graph import NotRun

    graph = load_graph("lenet5", None, None)
    held = replace(graph, not_run=(NotRun(name="aux", params=1_000, buffers=3),))
    data = page_data(page_figures(held))
    assert data["not_run"] == [{"name": "aux", "params": 1_000, "buffers": 3, "frozen_params": 0, "why": "not run"}]
    assert data["totals"]["params"] == 61_706 + 1_000  # LeNet-5 as torch counts it, plus the held module


def test_cli_writes_the_page_and_says_so(tmp_path):
    out = tmp_path / "lenet5.html"
    result = run_cli("report", "lenet5", "-o", str(out))
    assert result.returncode == 0, result.stderr
    assert result.stderr == f"wrote {out} (13 layers)\n"
    assert embedded(out.read_text())["totals"]["params"] == 61_706
    assert list(tmp_path.iterdir()) == [out]


def test_cli_refuses_bad_input_in_one_line(tmp_path):
    spec = tmp_path / "bad.yaml"
    spec.write_text("name: bad\ninput: [3, 8, 8]\nlayers:\n  - conv2d: {out_channels: 4, kernel_size: 9}\n")
    out = tmp_path / "bad.html"
    result = run_cli("report", str(spec), "-o", str(out))
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "bad.yaml:4" in result.stderr
    assert not out.exists()
    missing = run_cli("report", "lenet5")
    assert missing.returncode == 2 and "--output" in missing.stderr


# A linear layer of (2^27 + 1) × (2^27 + 3) weights: 2^54 + 2^29 + 3, odd, which no double holds (past
# 2^54 doubles are 4 apart), so a page that read it through a JavaScript Number would show it rounded.
HUGE = {"name": "huge", "input": [2**27 + 1], "layers": [{"linear": {"out_features": 2**27 + 3}}]}
HUGE_WEIGHTS = (2**27 + 1) * (2**27 + 3)


def huge_page() -> str:
    from cnncalc.spec import build_graph

    return render_page(page_figures(build_graph(HUGE, "<test>", {})))


def test_figures_past_2_to_the_53_reach_the_page_exact():
    data = embedded(huge_page())
    assert data["layers"][1]["macs"] == str(HUGE_WEIGHTS) == "18014399046352899"  # nn.Linear: in × out MACs
    assert data["totals"]["params"] == str(HUGE_WEIGHTS + 2**27 + 3)
    assert data["memory"]["param_bytes"] == str(4 * (HUGE_WEIGHTS + 2**27 + 3))

    def numbers(value):  # every integer the page's script reads as a Number
        if isinstance(value, dict):
            return [n for item in value.values() for n in numbers(item)]
        if isinstance(value, list):
            return [n for item in value for n in numbers(item)]
        return [value] if type(value) is int else []
    assert max(map(abs, numbers(data))) <= 2**53 - 1
