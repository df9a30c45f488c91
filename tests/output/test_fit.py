"""`cnncalc fit` as text and JSON: the JSON is the answer `Summary.fits` gives, field for field; the text
says the batch, the next batch's need, and when nothing fits."""
from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import cnncalc
from conftest import run_cli

TINY = str(Path(__file__).resolve().parents[2] / "examples" / "tiny.yaml")


def test_nothing_fits_when_the_weights_alone_do_not(tmp_path):
    # torchvision's resnet18 has 11,689,512 parameters: as float32 with their gradients and Adam's two
    # moments 187 MB, over a budget of 100 MB before any activation
    result = run_cli("fit", "resnet18", "--memory", "100MB")
    assert result.returncode == 1
    assert "training   nothing fits: batch 1 needs" in result.stdout
    needs = int(result.stdout.split("batch 1 needs", 1)[1].split()[0].replace(",", ""))
    assert needs >= 4 * 4 * 11_689_512  # at least the weights, gradients and moments

def test_the_cli_gives_what_summary_fits_gives():
    result = run_cli("fit", TINY, "--memory", "2MB", "--optimizer", "sgd", "--accumulate", "4", "-f", "json")
    assert result.returncode == 0
    expected = asdict(cnncalc.summary(TINY, optimizer="sgd").fits("2MB", accumulate=4))
    assert json.loads(result.stdout) == json.loads(json.dumps(expected))
    text = run_cli("fit", TINY, "--memory", "2MB", "--optimizer", "sgd", "--accumulate", "4").stdout
    assert f"effective batch {expected['effective_batch']}" in text and "a training step at batch" in text


def test_an_estimate_says_so_beside_its_figures(tmp_path):
    spec = tmp_path / "lstm.yaml"
    spec.write_text("input: [24, 16]\nlayers:\n  - lstm: {hidden_size: 32, batch_first: true}\n")
    lines = run_cli("fit", str(spec), "--memory", "1GB").stdout.splitlines()
    assert all(line.split(";")[0].endswith(" estimate") for line in lines if line.startswith(("training ", "inference ")))
    assert any(line.startswith("estimate: lstm: ") for line in lines)
    assert " estimate" not in run_cli("fit", TINY, "--memory", "1GB").stdout
    assert json.loads(run_cli("fit", str(spec), "--memory", "1GB", "-f", "json").stdout)["estimate"][0].startswith("lstm: ")
