"""README is the user's manual: every command it shows prints what README says it prints."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow  # 30 s: every command README shows, each a process
def test_readme_transcripts_are_what_the_commands_print():
    pytest.importorskip("torch")  # the tour verifies a spec and reads a PyTorch module
    result = subprocess.run([sys.executable, str(ROOT / "tools" / "readme.py"), "--check"], capture_output=True,
                            text=True, timeout=600)
    assert result.returncode == 0, f"run `python tools/readme.py` and review the diff: {result.stdout}{result.stderr}"
