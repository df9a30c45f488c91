"""Every command's output fits the terminal down to 80 columns; a pipe gets the natural, stable layout."""
from __future__ import annotations

import pytest

from conftest import run_cli

def _slow(command: list[str]):
    return pytest.param(command, marks=pytest.mark.slow)


COMMANDS = [  # those that show no other layout than one before them in the slow set (a process each)
    ["table", "vgg16"], ["table", "resnet50"], _slow(["table", "densenet121"]), _slow(["table", "inception_v3"]),
    _slow(["table", "mobilenet_v3_large"]), ["table", "resnet50", "--depth", "2"],
    ["table", "resnet50", "--columns", "rf"], ["table", "googlenet", "--convention", "fvcore"],
    ["table", "vgg16", "--explain"], ["table", "vgg16", "--input", "3x225x225"],  # flooring notes
    ["rf", "inception_v3"], ["diff", "resnet18", "resnet50"], _slow(["diff", "resnet50", "resnet101"]),
    ["sweep", "unet", "--sizes", "180:200:4"], _slow(["sweep", "vgg16", "--sizes", "16:64:16", "--batch", "1,64"]),
    # the two of 3 s (a torch import, resnet50's 53 sizes) in the slow set
    _slow(["sizes", "resnet50"]), ["sizes", "unet"], ["check", "specs"], ["list"], _slow(["verify", "lenet5"]),
    ["--help"], ["table", "-h"], ["check", "-h"],
]


def widest(text: str) -> int:
    return max(len(line) for line in text.splitlines())


@pytest.mark.parametrize("width", [80, pytest.param(100, marks=pytest.mark.slow)])  # the narrower in the default set
@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_output_fits_the_terminal(command, width):
    from cnncalc.spec.zoo import zoo_dir

    command = [str(zoo_dir()) if part == "specs" else part for part in command]
    result = run_cli(*command, columns=width)
    assert result.returncode == 0, result.stderr
    assert widest(result.stdout) <= width
    if "-h" not in command and "--help" not in command:  # help is typer's, padded by rich
        assert all(line == line.rstrip() for line in result.stdout.splitlines())


def test_narrow_drops_kind_then_shortens_counts_and_wide_shows_all():
    # densenet121's conv0 (torchvision): 9,408 parameters, 118,013,952 MACs
    wide, narrow, narrowest = (run_cli("table", "densenet121", columns=w).stdout for w in (140, 80, 60))
    assert "Kind" in wide.splitlines()[0] and "118,013,952" in wide
    assert "Kind" not in narrow.splitlines()[0] and "Memory" in narrow.splitlines()[0] and "118,013,952" in narrow
    assert "118.0 M" in narrowest and "118,013,952" not in narrowest


def test_a_pipe_gets_the_natural_layout_whatever_the_terminal():
    piped = run_cli("table", "inception_v3", columns=None).stdout
    assert piped == run_cli("table", "inception_v3", columns=10_000).stdout
    assert widest(piped) > 100  # every column, names unwrapped
    assert "8.concat (branch1x1.2.relu, branch5x5_2.2.relu, branch3x3dbl_3.2.relu, branch_pool.2.relu)" in piped
