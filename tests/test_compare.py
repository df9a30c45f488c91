"""`sweep`, `sizes` and `diff`."""
from __future__ import annotations

import json

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
    assert "layer3.22.conv1" in data["added"] and not data["removed"]
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
