"""`cnncalc.summary(...)`: the library's front door, equal to the CLI and to torch."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

import cnncalc
from cnncalc.errors import SpecError
from conftest import run_cli


def test_a_zoo_name_gives_what_the_cli_gives_without_torch():
    assert cnncalc.summary("resnet18").to_dict() == json.loads(run_cli("table", "resnet18", "-f", "json").stdout)
    code = "import cnncalc, sys; s = cnncalc.summary('vgg16'); print(s.totals.params, 'torch' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.stdout.split() == ["138357544", "False"]  # torchvision's published vgg16 count


def test_options_are_the_cli_options(tmp_path):
    spec = tmp_path / "tiny.yaml"
    spec.write_text("input: [3, 32, 32]\nparams: {width: 8}\nlayers:\n  - conv2d: {out_channels: $width, "
                    "kernel_size: 3}\n  - relu\n")
    result = cnncalc.summary(str(spec), "3x16x16", batch=4, params={"width": 16}, convention="torch")
    cli = json.loads(run_cli("table", str(spec), "--input", "3x16x16", "--batch", "4", "--set", "width=16",
                             "--convention", "torch", "-f", "json").stdout)
    assert result.to_dict() == cli
    # 16 filters of 3×3×3 plus biases; 4 × 16 × 14 × 14 outputs × 27 MACs each
    assert (result.totals.params, result.totals.macs) == (448, 4 * 16 * 14 * 14 * 27)
    assert [row.name for row in cnncalc.summary("resnet18", depth=1).layers][:3] == ["input", "conv1", "bn1"]


def test_printed_it_is_the_table_and_its_repr_one_line():
    result = cnncalc.summary("resnet18")
    assert str(result).startswith("Layer") and "resnet18 totals" in str(result)
    # torchvision's published resnet18: 11,689,512 parameters, 1.81 GMACs
    assert repr(result) == ("<cnncalc summary of resnet18: input 1×3×224×224 float32, 11,689,512 params, 1.8 G MACs, "
                            f"peak {result.memory.peak_inference_bytes / 1e6:.1f} MB>")


def test_a_module_object_equals_torch():
    torch = pytest.importorskip("torch")
    from torch import nn
    from torch.utils.flop_counter import FlopCounterMode

    model = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Flatten(), nn.Linear(8 * 16 * 16, 10)).eval()
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        out = model(torch.randn(1, 3, 32, 32))
    result = cnncalc.summary(model, (3, 32, 32))
    assert result.totals.params == sum(p.numel() for p in model.parameters())
    assert result.totals.buffers == sum(b.numel() for b in model.buffers())
    assert 2 * result.totals.macs == counter.get_total_flops()
    assert result.layers[-1].output_shape == tuple(out.shape[1:])


@pytest.mark.parametrize("arguments, message", [
    ({"batch": 2.5}, "batch must be a whole number ≥ 1, got 2.5"),
    ({"batch": "8"}, "batch must be a whole number ≥ 1, got '8'"),
    ({"depth": "1"}, "depth must be a whole number ≥ 1, got '1'"),
    ({"input_size": (1.9, 28.7, 28.2)}, "each size of input_size must be a whole number ≥ 1, got 1.9"),
    ({"input_size": 28}, "input_size is a per-sample shape like (3, 224, 224)"),
    ({"input_dtype": "float16"}, "input_dtype must be one of int64, int32, int8, bool, got 'float16'"),
    ({"input_size": "3x32x32:float64"}, "after ':' comes what the input holds instead of floating values"),
    ({"input_size": (1, 10 ** 30, 10 ** 30)}, "input_size (1, 1000000000000000000000000000000, "),
    ({"batch": 10 ** 330}, "at most 2^63 - 1"),
    ({"depth": [1]}, "depth must be a whole number ≥ 1, got [1]"),
])
def test_python_arguments_are_checked_and_named(arguments, message):
    with pytest.raises(SpecError) as raised:
        cnncalc.summary("lenet5", **arguments)
    assert message in str(raised.value)


def test_a_whole_float_batch_is_a_whole_count():
    # a batch of 2.0 is a batch of 2: the figures stay integers
    assert cnncalc.summary("lenet5", batch=2.0).totals.macs == 2 * cnncalc.summary("lenet5").totals.macs
    assert isinstance(cnncalc.summary("lenet5", batch=2.0).totals.macs, int)
