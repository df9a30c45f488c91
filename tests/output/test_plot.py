"""`plot` and `sweep --plot`: the files exist and are what they claim to be."""
from __future__ import annotations

import os
import re
import struct
import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest

import cnncalc
from conftest import run_cli


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


@pytest.mark.parametrize("model", ["lenet5", "densenet201"])
def test_plot_png(tmp_path, model):
    pytest.importorskip("matplotlib")
    out = tmp_path / f"{model}.png"
    result = run_cli("plot", model, "-o", str(out))
    assert result.returncode == 0, result.stderr
    width, height = png_size(out)
    assert width > 800 and height > 300
    rows = int(re.search(r"\((\d+) rows\)", result.stderr).group(1))
    assert rows <= 60  # a 707-layer net is drawn by blocks


@pytest.mark.slow  # 2 s: matplotlib
def test_plot_svg_and_html(tmp_path):
    pytest.importorskip("matplotlib")
    assert run_cli("plot", "resnet18", "-o", str(tmp_path / "r.svg")).returncode == 0
    root = ElementTree.parse(tmp_path / "r.svg").getroot()
    assert root.tag.endswith("svg")
    assert run_cli("plot", "resnet18", "-o", str(tmp_path / "r.html")).returncode == 0
    assert "<svg" in (tmp_path / "r.html").read_text()


@pytest.mark.parametrize("command", [["plot", "resnet18", "-o"],
                                     ["sweep", "resnet18", "--sizes", "64:256:64", "--plot"]])
def test_axes_count_in_k_m_g_as_the_tables_do(tmp_path, command):
    pytest.importorskip("matplotlib")
    assert run_cli(*command, str(tmp_path / "r.svg")).returncode == 0
    labels = [text.strip() for text in re.findall(r"<text[^>]*>([^<]*)</text>", (tmp_path / "r.svg").read_text())]
    assert any(re.fullmatch(r"[\d.]+ [KMG]", label) for label in labels)  # parameters, MACs
    assert any(re.fullmatch(r"[\d.]+ [KMG]B", label) for label in labels)  # memory
    assert not [label for label in labels if re.search(r"1e\d|×10", label)]


def test_sweep_plot(tmp_path):
    pytest.importorskip("matplotlib")
    out = tmp_path / "sweep.png"
    assert run_cli("sweep", "unet", "--sizes", "180:220:4", "--plot", str(out)).returncode == 0
    assert png_size(out)[0] > 800


def test_plot_without_matplotlib_says_what_to_install(tmp_path):
    fake = tmp_path / "matplotlib"
    fake.mkdir()
    (fake / "__init__.py").write_text("raise ImportError('No module named matplotlib')\n")
    env = dict(os.environ, PYTHONPATH=f"{tmp_path}{os.pathsep}{Path(cnncalc.__file__).parent.parent}")
    result = subprocess.run([sys.executable, "-m", "cnncalc", "plot", "lenet5", "-o", str(tmp_path / "x.png")],
                            capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 2
    assert result.stderr.strip() == "cnncalc: error: plotting needs matplotlib: pip install 'cnncalc[plot]'"


def test_bad_picture_requests_exit_2(tmp_path):
    pytest.importorskip("matplotlib")
    result = run_cli("plot", "lenet5", "-o", str(tmp_path / "x.gif"))
    assert result.returncode == 2 and "-o must end in .png, .svg or .html" in result.stderr
    assert not (tmp_path / "x.gif").exists()
    result = run_cli("graph", "lenet5", "--format", "png")
    assert result.returncode == 2 and "--format must be mermaid or dot" in result.stderr
