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


def test_in_jupyter_the_module_tree_with_every_total():
    from html.parser import HTMLParser

    result = cnncalc.summary("resnet18")
    page = result._repr_html_()
    assert "<script" not in page and "http" not in page  # self-contained, no script needed
    # each block folded under its summed row: resnet18's 4 stages of 2 blocks, 3 of them downsampling
    assert page.count("<details>") == 4 + 8 + 3 == page.count("</details>")
    assert "147,968" in page and "8,393,728" in page  # layer1's and layer4's parameters (torchvision's resnet18)
    for text in ("11,689,512", "1,814,073,344", f"{result.memory.peak_inference_bytes:,} B",
                 f"{result.memory.training_bytes:,} B", "1×64×112×112"):  # shapes with the batch
        assert text in page

    class Balanced(HTMLParser):
        depth = 0

        def handle_starttag(self, tag, attrs):
            self.depth += tag in ("div", "details", "span")

        def handle_endtag(self, tag):
            self.depth -= tag in ("div", "details", "span")

    parser = Balanced()
    parser.feed(page)
    assert parser.depth == 0


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


def test_a_module_given_no_input_gets_its_parameter_table_as_torchinfo_gives_it():
    torch = pytest.importorskip("torch")
    torchinfo = pytest.importorskip("torchinfo")
    from torch import nn

    class Encoder(nn.Module):
        def __init__(self):
            super().__init__()
            self.tokens = nn.Embedding(100, 16)
            self.position = nn.Parameter(torch.zeros(8, 16))  # held by the model itself
            self.layer = nn.TransformerEncoderLayer(16, 2, 32, batch_first=True)
            self.norm = nn.BatchNorm1d(16)
            self.head = nn.Linear(16, 3)

    model = Encoder()
    model.tokens.requires_grad_(False)
    theirs = torchinfo.summary(model, verbose=0)  # no input_size: parameters by module
    held = cnncalc.summary(model)
    assert (held.params, held.trainable_params) == (theirs.total_params, theirs.trainable_params)
    assert held.buffers == sum(b.numel() for b in model.buffers())
    assert held.param_bytes == sum(t.nbytes for t in [*model.parameters(), *model.buffers()])
    by_path = {row.name: row for row in held.rows}
    for info in theirs.summary_list[1:]:  # the model's modules, as torchinfo lists them
        path = next(path for path, part in model.named_modules() if part is info.module)
        assert by_path[path].params == info.num_params and by_path[path].module == info.class_name
    assert by_path["position"].params == 128
    assert {row.depth for row in cnncalc.summary(model, depth=1).rows} == {1}
    text, html = str(held), held._repr_html_()
    assert "TransformerEncoderLayer" in text and "input_size=" in text and "<td>MultiheadAttention</td>" in html
    assert repr(held).count("\n") == 0 and "no input given" in repr(held)


def test_library_names_build_with_no_weights_at_the_library_input(tmp_path):
    pytest.importorskip("torch")
    # a stand-in for torchvision: what cnncalc asks of it, and what it passes
    fake = tmp_path / "torchvision"
    fake.mkdir()
    (fake / "__init__.py").write_text("from . import models\n")
    (fake / "models.py").write_text(
        "import functools\nfrom torch import nn\nCALLS = []\n"
        "def tiny(weights='IMAGENET', classes=10):\n"
        "    CALLS.append(weights)\n"
        "    return nn.Sequential(nn.Conv2d(3, 4, 3), nn.Flatten(), nn.Linear(4 * 62 * 62, classes))\n"
        "class Weights:\n    DEFAULT = type('W', (), {'transforms': functools.partial(object, crop_size=64)})\n"
        "def get_model_builder(name):\n    if name != 'tiny': raise ValueError(name)\n    return tiny\n"
        "def get_model_weights(name):\n    return Weights\n"
        "def list_models():\n    return ['tiny']\n")
    code = ("import sys; sys.path.insert(0, sys.argv[1]); import cnncalc, torchvision.models as m; "
            "s = cnncalc.summary('torchvision:tiny', params={'classes': 7}); "
            "print(s.report.input_shape, s.layers[-1].output_shape, m.CALLS)")
    result = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == "(3, 64, 64) (7,) [None]", result.stderr
    unknown = subprocess.run([sys.executable, "-c", "import sys; sys.path.insert(0, sys.argv[1]); import cnncalc; "
                              "cnncalc.summary('torchvision:tinny')", str(tmp_path)], capture_output=True, text=True)
    assert "torchvision has no model 'tinny' (did you mean 'tiny'?)" in unknown.stderr


def test_a_library_that_is_not_installed_says_so(tmp_path):
    pytest.importorskip("torch")
    (tmp_path / "timm.py").write_text("raise ImportError('No module named timm')\n")
    import os

    env = dict(os.environ, PYTHONPATH=f"{tmp_path}{os.pathsep}{os.environ.get('PYTHONPATH', '')}")
    result = subprocess.run([sys.executable, "-m", "cnncalc", "table", "timm:resnet18"], capture_output=True,
                            text=True, env=env, timeout=60)
    assert result.returncode == 2 and result.stderr == "cnncalc: error: timm is not installed: pip install timm\n"


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
