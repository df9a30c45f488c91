"""`cnncalc verify`: every zoo model passes; a wrong figure fails naming the layer; bad setups exit 2
(memory measured: test_memory.py; --reference: test_reference.py)."""
from __future__ import annotations

import json

import pytest

from cnncalc.layers import REGISTRY
from cnncalc.layers.registry import Calc
from cnncalc.spec.zoo import load_model
from conftest import ZOO_CASES, run_cli
from figures.test_conventions import small_input

torch = pytest.importorskip("torch")
from cnncalc.verify.run import verify  # noqa: E402


# verify's longest whole passes run in the slow set (README's test command stays
# under 5 minutes)
SLOWEST = ("googlenet", "mobilenet_v2", "mobilenet_v3_large", "nin", "squeezenet1_1")


@pytest.mark.parametrize("model", [pytest.param(case, marks=pytest.mark.slow) if case in SLOWEST else case
                                   for case in ZOO_CASES])
def test_every_zoo_model_verifies(model):
    result = verify(small_input(load_model(model)), optimizer="adam")
    assert not result.failed, [f"{getattr(c, 'layer', '')} {c.figure}" for c in result.failed]
    assert {c.figure for c in result.checks} >= {"output_shape", "params", "buffers", "activations",
                                                  "torch ops", "fvcore ops"}


def test_a_wrong_calculator_fails_naming_layer_figure_and_formula():
    kind = REGISTRY["conv2d"]
    original = kind.calculate

    def off_by_one(shapes, args):
        calc = original(shapes, args)
        return Calc(calc.output_shape, calc.weights + 1, calc.biases, calc.buffers, calc.macs, calc.dropped)
    object.__setattr__(kind, "calculate", off_by_one)  # LayerKind is frozen
    try:
        result = verify(load_model("conv_example"))
    finally:
        object.__setattr__(kind, "calculate", original)
    failed = {(c.layer, c.figure) for c in result.failed}
    assert ("0.conv2d", "params") in failed and ("total", "params") in failed
    check = next(c for c in result.failed if c.figure == "params" and c.layer == "0.conv2d")
    assert (check.expected, check.measured) == (761, 760)
    assert "weights: 10 × 3 × 5 × 5" in check.formula


@pytest.mark.slow  # verify in a CLI process, every check (6 s)
def test_cli_summary_json_and_exit_code():
    result = run_cli("verify", "lenet5")
    assert result.returncode == 0
    # 106 figure checks, the backward's against FlopCounterMode, and a receptive-field check for each of
    # its 6 layers with spatial units
    assert result.stdout.strip().splitlines()[-1] == "lenet5 on cpu: 113 checks, 113 passed"
    data = json.loads(run_cli("verify", "lenet5", "-f", "json").stdout)
    assert data["summary"] == {"checks": 113, "passed": 113, "failed": 0}
    assert {m["figure"] for m in data["memory"]} == {"peak inference memory",
                                                     "training step memory (adam, batch 2)"}


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU")
def test_cuda_without_a_gpu_exits_2():
    result = run_cli("verify", "lenet5", "--device", "cuda")
    assert result.returncode == 2
    assert result.stderr.strip() == "cnncalc: error: --device cuda: no CUDA GPU is available to torch on this machine"


def test_missing_torch_says_which_extra(tmp_path):
    fake = tmp_path / "torch"
    fake.mkdir()
    (fake / "__init__.py").write_text("raise ImportError('No module named torch')\n")
    import os
    import subprocess
    import sys
    from pathlib import Path

    import cnncalc
    env = dict(os.environ, PYTHONPATH=f"{tmp_path}{os.pathsep}{Path(cnncalc.__file__).parent.parent}")
    result = subprocess.run([sys.executable, "-m", "cnncalc", "verify", "lenet5"], capture_output=True,
                            text=True, env=env, timeout=60)
    assert result.returncode == 2
    assert result.stderr.strip() == "cnncalc: error: verification needs PyTorch: pip install 'cnncalc[verify]'"
