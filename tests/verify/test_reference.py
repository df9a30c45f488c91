"""`verify --reference torchvision`: the spec held to torchvision's own model of the same name."""
from __future__ import annotations

import pytest

from cnncalc.spec.zoo import load_model
from cnncalc.verify.run import verify
from conftest import run_cli


def test_reference_torchvision():
    pytest.importorskip("torchvision")
    result = verify(load_model("resnet18"), reference="torchvision")
    checks = [c for c in result.checks if c.figure.startswith("torchvision")]
    assert len(checks) > 5 and all(c.ok for c in checks)

@pytest.mark.slow  # a CLI process of 2.9 s
def test_reference_without_torchvision_exits_2():
    try:
        import torchvision  # noqa: F401
        pytest.skip("torchvision is installed")
    except ImportError:
        pass
    result = run_cli("verify", "lenet5", "--reference", "torchvision")
    assert result.returncode == 2 and "needs torchvision installed" in result.stderr
