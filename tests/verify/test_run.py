"""`cnncalc verify`: every zoo model passes; a wrong figure fails naming the layer; bad setups exit 2;
the memory model agrees with measured peaks within 10%."""
from __future__ import annotations

import json

import pytest

from cnncalc.figures import analyze
from cnncalc.layers import REGISTRY
from cnncalc.layers.registry import Calc
from cnncalc.spec.zoo import load_model
from conftest import ZOO_CASES, run_cli
from figures.test_conventions import small_input

torch = pytest.importorskip("torch")
from cnncalc.verify.run import verify  # noqa: E402
from cnncalc.verify.memory import check_memory  # noqa: E402


@pytest.mark.parametrize("model", ZOO_CASES)
def test_every_zoo_model_verifies(model):
    result = verify(small_input(load_model(model)), optimizer="adam")
    assert not result.failed, [f"{getattr(c, 'layer', '')} {c.figure}" for c in result.failed]
    assert {c.figure for c in result.checks} >= {"output_shape", "params", "buffers", "activations",
                                                  "torch ops", "fvcore ops"}


@pytest.mark.parametrize("model", ["lenet5", pytest.param("alexnet", marks=pytest.mark.slow), "resnet18",
                                   "squeezenet1_0", "mobilenet_v2", "densenet121", "googlenet"])
def test_memory_within_ten_percent_at_full_size(model):
    graph = load_model(model)
    from cnncalc.verify.build import build_model
    checks = check_memory(graph, build_model(graph), analyze(graph), lambda what: None)
    for check in checks:
        assert 0.9 <= check.ratio <= 1.1, f"{check.figure}: {check.ratio:.3f}"


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


def test_reference_torchvision():
    pytest.importorskip("torchvision")
    result = verify(load_model("resnet18"), reference="torchvision")
    checks = [c for c in result.checks if c.figure.startswith("torchvision")]
    assert len(checks) > 5 and all(c.ok for c in checks)


def test_reference_without_torchvision_exits_2():
    try:
        import torchvision  # noqa: F401
        pytest.skip("torchvision is installed")
    except ImportError:
        pass
    result = run_cli("verify", "lenet5", "--reference", "torchvision")
    assert result.returncode == 2 and "needs torchvision installed" in result.stderr


def test_a_decoder_join_is_measured_within_ten_percent(tmp_path):
    # upsampled and transposed-conv branches added: alive together in the forward pass, which the
    # training figure once missed (predicted 344,320 B at batch 1, under its own inference peak)
    spec = tmp_path / "upadd.yaml"
    spec.write_text("name: upadd\ninput: [16, 32, 32]\nlayers:\n  - upsample: {scale_factor: 2, mode: bilinear}\n"
                    "    name: up\n  - convtranspose2d: {out_channels: 16, kernel_size: 2, stride: 2}\n    name: ct\n"
                    "    from: input\n  - add:\n    from: [up, ct]\n")
    result = json.loads(run_cli("verify", str(spec), "-f", "json").stdout)
    assert result["summary"]["failed"] == 0
    assert all(0.9 <= m["ratio"] <= 1.1 for m in result["memory"]), result["memory"]
    totals = json.loads(run_cli("table", str(spec), "-f", "json").stdout)["totals"]["memory"]
    assert totals["training_bytes"] > totals["peak_inference_bytes"]
