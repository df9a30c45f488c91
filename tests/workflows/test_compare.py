"""`sweep`, `sizes` and `diff`."""
from __future__ import annotations

import json
import time

from hypothesis import given, settings
from hypothesis import strategies as st

from cnncalc.spec.zoo import load_model
from cnncalc.workflows.compare import _rule, compare
from conftest import run_cli


def test_unet_sizes_follow_the_papers_rule():
    data = json.loads(run_cli("sizes", "unet", "--min", "64", "--max", "1024", "-f", "json").stdout)
    assert 572 in data["sizes"]  # Ronneberger et al.'s input tile
    assert data["rule"] == "every size ≡ 12 (mod 16), from 188"
    assert 500 not in data["sizes"]


def test_vgg_sizes_are_multiples_of_32():
    # five 2×2 max-pools: each needs an even size
    assert "every multiple of 32, from 32" in run_cli("sizes", "vgg16", "--min", "32", "--max", "512").stdout


def test_sweep_marks_invalid_and_flooring_sizes():
    points = json.loads(run_cli("sweep", "unet", "--sizes", "188:192:4", "--batch", "1,2", "-f", "json").stdout)
    by = {(p["size"], p["batch"]): p for p in points}
    assert by[(188, 1)]["valid"] and by[(188, 1)]["params"] == 31_030_658
    assert by[(188, 2)]["macs"] == 2 * by[(188, 1)]["macs"]
    assert not by[(192, 1)]["valid"] and "dec3.crop: skip sizes do not match" in by[(192, 1)]["reason"]
    vgg = json.loads(run_cli("sweep", "vgg16", "--sizes", "224:226:1", "-f", "json").stdout)
    assert [bool(p["dropped"]) for p in vgg] == [False, True, True]  # 225 and 226 lose rows to 2×2 pools


def test_diff_resnet50_resnet101():
    data = json.loads(run_cli("diff", "resnet50", "resnet101", "-f", "json").stdout)
    # torchvision's published parameter counts: 25,557,032 and 44,549,160
    assert (data["totals"]["a"]["params"], data["totals"]["b"]["params"]) == (25_557_032, 44_549_160)
    stage = next(s for s in data["stages"] if s["stage"] == "layer3")
    assert stage["b"]["params"] > 3 * stage["a"]["params"]
    assert "layer3.22.conv1" in data["only_in_b"] and not data["only_in_a"]
    # resnet101's layer3 has 17 more bottlenecks of 10 layers each; everything else pairs by name
    assert len(data["only_in_b"]) == 170 and len(data["pairs"]) == 175
    assert all(pair["a"] == pair["b"] for pair in data["pairs"])
    table = run_cli("diff", "resnet18", "resnet18", "--input-b", "3x448x448").stdout
    assert "total" in table and "4.00×" in table  # 4× the pixels, 4× the MACs


def test_diff_reports_differences():
    data = json.loads(run_cli("diff", "resnet50", "resnet101", "-f", "json").stdout)
    assert data["totals"]["delta"]["params"] == 44_549_160 - 25_557_032  # torchvision's published counts
    assert "Δ +19.0 M" in run_cli("diff", "resnet50", "resnet101").stdout


def test_bad_options_exit_2():
    for args, message in ((("sweep", "vgg16", "--sizes", "300:200:8"), "--sizes needs 1 ≤ START ≤ STOP"),
                          (("sweep", "vgg16", "--batch", "one"), "--batch takes sizes like 1,8,64"),
                          (("rf", "vgg16", "-f", "csv"), "--format must be table or json"),
                          (("diff", "vgg16", "nosuchnet"), "unknown model 'nosuchnet'"),
                          (("sizes", "vgg16", "--min", "0"), "--sizes needs 1 ≤ START ≤ STOP")):
        result = run_cli(*args)
        assert result.returncode == 2 and message in result.stderr, (args, result.stderr)


def test_sweep_marks_the_sizes_a_declared_size_breaks(tmp_path):
    spec = tmp_path / "declared.yaml"
    # 16 channels × (S/4)² features reach the linear layer: 256 of them only at S = 16
    spec.write_text("input: [3, 16, 16]\nlayers:\n  - conv2d: {out_channels: 16, kernel_size: 3, padding: 1}\n"
                    "  - maxpool2d: {kernel_size: 4}\n  - flatten\n  - linear: {in_features: 256, out_features: 10}\n")
    points = json.loads(run_cli("sweep", str(spec), "--sizes", "8:24:8", "-f", "json").stdout)
    assert [p["valid"] for p in points] == [False, True, False]
    assert "in_features is 256, but the input has 64" in points[0]["reason"]
    sizes = json.loads(run_cli("sizes", str(spec), "--min", "4", "--max", "64", "-f", "json").stdout)
    assert sizes["sizes"] == [16]


def test_one_inserted_layer_is_one_layer_only_in_a(tmp_path):
    body = ["input: [3, 32, 32]", "layers:", "  - conv2d: {out_channels: 8, kernel_size: 3}", "  - relu",
            "  - conv2d: {out_channels: 8, kernel_size: 1}\n    name: extra", "  - avgpool2d: {kernel_size: 2}",
            "  - flatten", "  - linear: {out_features: 10}"]
    (tmp_path / "a.yaml").write_text("\n".join(body) + "\n")
    (tmp_path / "b.yaml").write_text("\n".join(body[:4] + body[5:]) + "\n")
    data = json.loads(run_cli("diff", str(tmp_path / "a.yaml"), str(tmp_path / "b.yaml"), "-f", "json").stdout)
    assert (data["only_in_a"], data["only_in_b"]) == (["extra"], [])
    assert [(p["a"], p["b"]) for p in data["pairs"]] == [
        ("0.conv2d", "0.conv2d"), ("1.relu", "1.relu"), ("3.avgpool2d", "2.avgpool2d"), ("4.flatten", "3.flatten"),
        ("5.linear", "4.linear")]
    # the linear layer: 8·15·15 = 1,800 inputs × 10 outputs + 10 biases on both sides
    assert data["pairs"][-1]["params"] == [18_010, 18_010]
    table = run_cli("diff", str(tmp_path / "a.yaml"), str(tmp_path / "b.yaml")).stdout
    assert "only in A: extra" in table and "extra (only in A)" in table and "only in B" not in table


def test_a_changed_layer_pairs_with_its_counterpart(tmp_path):
    body = "input: [3, 32, 32]\nlayers:\n  - conv2d: {out_channels: WIDTH, kernel_size: 3}\n  - relu\n"
    (tmp_path / "a.yaml").write_text(body.replace("WIDTH", "8"))
    (tmp_path / "b.yaml").write_text(body.replace("WIDTH", "16"))
    data = json.loads(run_cli("diff", str(tmp_path / "a.yaml"), str(tmp_path / "b.yaml"), "-f", "json").stdout)
    assert not data["only_in_a"] and not data["only_in_b"]
    assert data["pairs"][0] == {"a": "0.conv2d", "b": "0.conv2d", "params": [224, 448],  # 8 and 16 filters of 3·3·3
                                "macs": [194_400, 388_800], "activations": [7_200, 14_400]}


@settings(max_examples=200, deadline=None)
@given(start=st.integers(1, 50), length=st.integers(2, 60), first=st.integers(0, 60), period=st.integers(1, 30))
def test_the_rule_of_exact_sizes_is_their_period(start, length, first, period):
    sizes = range(start, start + length)
    exact = [s for s in sizes if s >= start + first and (s - start - first) % period == 0]
    if not exact or exact == list(sizes):
        return
    rule = _rule(exact, sizes)
    # one exact size has any period past the last size: the smallest such
    period = period if len(exact) > 1 else sizes[-1] - exact[0] + 1
    residue = exact[0] % period
    assert rule == (f"every multiple of {period}" if residue == 0 else f"every size ≡ {residue} (mod {period})") \
        + f", from {exact[0]}"


def test_a_rule_is_found_without_trying_every_period():
    # 10,000 sizes, none of them a period apart: trying each period over each size was 10^8 steps
    sizes = range(1, 10_001)
    start = time.monotonic()
    exact = [1, 2, 4, *range(10, 10_001, 7)]
    assert _rule(exact, sizes) == f"{len(exact)} sizes, no simple period"
    assert time.monotonic() - start < 1


def test_the_same_model_at_two_sizes_pairs_layer_for_layer():
    graph = load_model("resnet18")
    diff = compare(graph, graph.with_input((3, 448, 448)))
    assert not diff.only_in_a and not diff.only_in_b
    assert len(diff.pairs) == len(graph.nodes) and all(pair.a == pair.b for pair in diff.pairs)
    assert [stage.label for stage in diff.stages][:6] == ["input", "conv1", "bn1", "relu", "maxpool", "layer1"]
    pairs = {pair.a: pair for pair in diff.pairs}
    # conv1: 64 filters of 3·7·7 at 112×112, then at 224×224; the classifier does not grow
    assert pairs["conv1"].macs == (64 * 112 * 112 * 147, 64 * 224 * 224 * 147)
    assert pairs["fc"].macs == (512_000, 512_000) and pairs["layer1.0.bn1"].params == (128, 128)
