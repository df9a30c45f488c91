"""Python specs (a .py file exposing `spec` and `variants`): run only when named, their errors one line at
the line of the spec file that raised them, their parameters set with --set."""
from __future__ import annotations

import json

from cnncalc.spec.zoo import zoo_dir
from conftest import run_cli


def test_python_spec_with_set():
    data = json.loads(run_cli("table", str(zoo_dir() / "resnet.py"), "--set", "depth=101", "-f", "json").stdout)
    assert data["totals"]["params"] == 44_549_160  # torchvision's published resnet101

def test_python_spec_error_is_one_line_with_its_line(tmp_path):
    spec = tmp_path / "broken.py"
    spec.write_text("from cnncalc.builder import Conv2d, Spec\n\n"
                    "def spec(width=8):\n    return Spec([3, 8, 8], [Conv2d(width, 3), 1 / 0])\n")
    result = run_cli("table", str(spec))
    assert result.returncode == 2
    assert result.stderr.strip() == f"cnncalc: error: {spec}:4: ZeroDivisionError: division by zero"
    assert "no parameter 'depth'" in run_cli("table", str(spec), "--set", "depth=3").stderr
