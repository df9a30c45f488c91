"""Loading the module to read: a library's builder with no weights at the input its first weights state, a
close name suggested for a misspelt one, and a library that is not installed named with what to install."""
from __future__ import annotations

import subprocess
import sys

import pytest


@pytest.mark.slow  # a CLI process importing torch for each library name (4 s)
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


@pytest.mark.libraries
def test_a_detection_model_is_read_from_one_run_of_one_seeded_image():
    pytest.importorskip("torchvision")
    from cnncalc.model import load_graph
    from cnncalc.verify.coverage import check_model
    from cnncalc.importing.libraries import load_module

    loaded = load_module("torchvision:ssdlite320_mobilenet_v3_large", {})
    assert loaded.input_shape == (3, 320, 320) and loaded.data_dependent  # the side its transform resizes to
    assert next(loaded.module.parameters()).device.type == "cpu"  # its own initialization decides its detections
    graph = load_graph("torchvision:ssdlite320_mobilenet_v3_large", None, None)
    assert "this run's" in graph.ran_on_cpu
    # torchvision's SSDLite320_MobileNet_V3_Large_Weights meta: num_params 3,440,060, _ops 0.583 (G MACs)
    outcome = check_model("torchvision", "detection", "ssdlite320_mobilenet_v3_large")
    # parameters, buffers, MACs (FlopCounterMode on the same image) and each output's shape agree with
    # torch, the post-processing's comparisons, top-k, NMS and sort each a row counted as torch counts it
    assert outcome.exact, outcome.reason
    from cnncalc.figures.report import analyze

    report = analyze(graph)
    assert report.totals.params == 3_440_060 and round(report.totals.macs / 1e9, 3) == 0.583
    # detections_per_img=300 kept: boxes, scores and labels of the image
    assert {row.output_shape for row in report.output_rows} == {(300, 4), (300,)}


@pytest.mark.libraries
def test_an_optical_flow_model_reads_its_two_frames():
    pytest.importorskip("torchvision")
    from cnncalc.verify.coverage import check_model
    from cnncalc.importing.libraries import load_module

    loaded = load_module("torchvision:raft_small", {})
    assert loaded.input_shape == (3, 520, 960) and [other.name for other in loaded.others] == ["image2"]
    outcome = check_model("torchvision", "optical_flow", "raft_small")
    assert outcome.exact, outcome.reason  # parameters, MACs and the 12 flows' shapes agree, its lookups counted


# MultiScaleRoIAlign fills torch.zeros(rois, …) level by level; FCOS keeps no detection (outputs of 0
# rows); RetinaNet's batched_nms runs per class over more than 1,000 boxes; Mask R-CNN pastes each
# kept box's mask; Keypoint R-CNN upsamples each kept box's heatmaps; kept to one box, each has a row,
# not the batch
@pytest.mark.libraries
@pytest.mark.parametrize("name, params", [("fasterrcnn_resnet50_fpn_v2", {}), ("fcos_resnet50_fpn", {}),
                                          ("retinanet_resnet50_fpn", {}), ("maskrcnn_resnet50_fpn", {}),
                                          ("maskrcnn_resnet50_fpn", {"box_detections_per_img": 1}),
                                          ("keypointrcnn_resnet50_fpn", {}),
                                          ("keypointrcnn_resnet50_fpn", {"box_detections_per_img": 1})])
def test_detection_models_read_and_agree_with_torch_on_their_run(name, params):
    pytest.importorskip("torchvision")
    from cnncalc.verify.coverage import check_model

    outcome = check_model("torchvision", "detection", name, params=params)
    # parameters, buffers, MACs and each output's shape are torch's on the same run, every operation counted
    assert outcome.exact, outcome.reason


@pytest.mark.libraries
def test_a_model_built_on_the_cpu_draws_the_same_weights_each_time():
    torch = pytest.importorskip("torch")
    pytest.importorskip("torchvision")
    from cnncalc.figures.report import analyze
    from cnncalc.importing.libraries import load_module
    from cnncalc.model import load_graph

    state = torch.random.get_rng_state()
    first, second = (load_module("torchvision:keypointrcnn_resnet50_fpn", {}).module for _ in range(2))
    assert all(torch.equal(a, b) for a, b in zip(first.parameters(), second.parameters()))
    assert torch.equal(torch.random.get_rng_state(), state)  # the caller's random state as it was
    # its run keeps detections, so the table shows the keypoint head's work: keypoints of K = 17 per box
    kept = [row.output_shape for row in analyze(load_graph("torchvision:keypointrcnn_resnet50_fpn", None, None))
            .output_rows if row.output_shape[1:] == (17, 3)]
    assert kept and kept[0][0] > 0


# once refused or left with rows not counted: Gemma 4's clamps to 0-d buffers, ConViT's buffers that
# forward() replaces (counted as the model holds them)
@pytest.mark.libraries
@pytest.mark.parametrize("library,family,name", [("timm", "gemma4_vit", "gemma4_vit_167m"),
                                                 ("timm", "convit", "convit_small")])
def test_models_peers_count_are_read_exactly(library, family, name):
    pytest.importorskip(library)
    from cnncalc.verify.coverage import check_model

    outcome = check_model(library, family, name)  # parameters, buffers, MACs and outputs equal torch's
    assert outcome.exact, outcome.reason
