"""The table path never imports torch, numpy, matplotlib or pydantic (a correctness property, not a timing):
typer 0.29 converts options through pydantic unless cnncalc.cli gives them plain conversions."""
from __future__ import annotations

import re

import pytest

HEAVY = re.compile(r"\|\s+(torch|numpy|matplotlib|fvcore|pydantic)(\.|\s*$)", re.M)


@pytest.mark.parametrize("command", [["table", "vgg16", "--format", "json"], ["table", "nin"], ["list"],
                                     ["fit", "resnet18", "--memory", "8GiB"]])
def test_table_path_imports_no_torch(command):
    import os
    import subprocess
    import sys
    from pathlib import Path

    import cnncalc
    env = dict(os.environ, PYTHONPATH=str(Path(cnncalc.__file__).resolve().parent.parent))
    result = subprocess.run([sys.executable, "-X", "importtime", "-m", "cnncalc", *command],
                            capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 0
    assert "typer" in result.stderr  # the import log is really there
    assert not HEAVY.findall(result.stderr)
