"""Real torchvision, timm, Hugging Face and segmentation_models_pytorch models through the importer,
each held to torch in the same process (cnncalc.verify.coverage). They need torch 2.14.1 with
torchvision 0.29.1, timm, transformers and segmentation-models-pytorch: .ci/run builds that
environment and runs `pytest -m libraries`; elsewhere these tests skip."""
from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.libraries
pytest.importorskip("torchvision")
pytest.importorskip("timm")

from cnncalc.model import load_graph  # noqa: E402
from cnncalc.verify.coverage import check_model, shares  # noqa: E402
from conftest import run_cli  # noqa: E402

# A slice of `cnncalc coverage`, one model per thing the importer must read: residual blocks,
# modules not run, dense concatenation, stochastic depth, channels-last norms and layer scale,
# attention with a class token, chunk and channel shuffle, F.interpolate to the input's size,
# video (a Conv3d subclass), and timm's norm + act, parameter views, fused attention, scalar
# arithmetic; shifted windows (the batch holding B·nW windows), control flow on sizes (timm's same
# padding, -inf before max pooling), modules called twice (CoaT's shared convolutions), einsum
# (MaxViT), a position-bias MLP on constants (Swin v2), pooling per head (MViT), rotary embeddings
# and RMS norm (EVA, DeepSeek), a bias made in forward() (BEiT), stacked heads (CrossViT), filters
# standardized in forward() (NFNet), an LSTM along rows moved into the batch (Sequencer), heads merged
# into the batch before q, k and v are taken (SAM), the global response norm (ConvNeXt V2), a position
# bias made by einsum of parameters each forward pass (MaxViT's TF weights).
EXACT = [("torchvision", "classification", name) for name in (
    "resnet18", "googlenet", "densenet121", "efficientnet_b0", "convnext_tiny", "vit_b_16", "shufflenet_v2_x0_5",
    "mobilenet_v3_small", "swin_t", "swin_v2_t", "maxvit_t")] + [
    ("torchvision", "segmentation", "fcn_resnet50"), ("torchvision", "video", "r3d_18"),
    ("torchvision", "video", "mvit_v1_b")] + [
    ("timm", family, name) for family, name in (
        ("resnet", "resnet18"), ("efficientnet", "efficientnet_b0"), ("convnext", "convnext_atto"),
        ("deit", "deit3_small_patch16_224"), ("inception_resnet_v2", "inception_resnet_v2"),
        ("regnet", "regnetv_040"), ("nasnet", "nasnetalarge"), ("coat", "coat_lite_mini"), ("vgg", "vgg11"),
        ("levit", "levit_128"), ("eva", "eva02_small_patch14_224"), ("deepseek_vit", "deepseek_vit_412m"),
        ("beit", "beit_base_patch16_224"), ("crossvit", "crossvit_18_240"), ("nfnet", "nf_regnet_b0"),
        ("sequencer", "sequencer2d_s"), ("vision_transformer_sam", "samvit_base_patch16"),
        ("convnext", "convnextv2_atto"), ("maxxvit", "maxvit_tiny_tf_224"))]


@pytest.mark.parametrize("library, family, name", EXACT, ids=[name for *_, name in EXACT])
def test_exact_against_torch(library, family, name):
    outcome = check_model(library, family, name)
    assert outcome.exact, outcome.reason


# Hugging Face (transformers) models at their default configs and segmentation_models_pytorch, each held
# to torch the same way: a forward() behind decorators reading **kwargs (every model), token ids and
# embeddings with token types expanded to the batch (BERT), a global response norm written as
# linalg.vector_norm (ConvNeXt V2), shifted windows whose mask is sized by B·nW // nW (Swin), a U-Net
# decoder on a timm-free encoder and a Segformer head; diffusers' VAE (attention through
# scaled_dot_product_attention); ultralytics' YOLO, which torch.fx refused: a tensor attribute read with
# .item() (Detect.stride), anchors from torch.arange(w).type_as(x), a pose head that clones its keypoints
OTHERS = [("transformers", "text", "bert"), ("transformers", "vision", "convnextv2"),
          ("transformers", "vision", "swin"), ("transformers", "vision", "vit"), ("transformers", "vision", "cvt"),
          ("smp", "segmentation", "Unet"), ("smp", "segmentation", "Segformer"),
          ("diffusers", "autoencoder", "AutoencoderKL"),
          ("ultralytics", "detect", "yolov8n.yaml"), ("ultralytics", "pose", "yolo11n-pose.yaml"),
          ("ultralytics", "classify", "yolov8n-cls.yaml")]
IMPORTS = {"transformers": "transformers", "smp": "segmentation_models_pytorch", "diffusers": "diffusers",
           "ultralytics": "ultralytics"}


@pytest.mark.parametrize("library, family, name", OTHERS, ids=[f"{library}-{name}" for library, _, name in OTHERS])
def test_other_libraries_exact_against_torch(library, family, name):
    pytest.importorskip(IMPORTS[library])
    outcome = check_model(library, family, name)
    assert outcome.exact, outcome.reason


def test_ultralytics_writes_no_line_of_its_own_on_stdout():
    pytest.importorskip("ultralytics")
    result = run_cli("table", "ultralytics:yolov8n-cls.yaml", "-f", "json", columns=None)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["totals"]["params"] == 2_719_288  # ultralytics' own summary of YOLOv8n-cls


def test_googlenet_counts_its_auxiliary_heads():
    # torchvision's googlenet holds 13,004,888 parameters (its aux heads included, which eval skips)
    graph = load_graph("torchvision:googlenet", None, None)
    assert sum(held.params for held in graph.not_run) == 13_004_888 - 6_624_904


def test_refusals_say_why():
    csatv2 = check_model("timm", "csatv2", "csatv2")  # the batch moved to the last dim, a buffer as linear weights
    assert not csatv2.exact
    # the transposes that move the batch to the last dim leave no shape per sample: no row can hold them
    assert csatv2.reason.startswith("cnncalc cannot map 14 operation(s) of csatv2: x.transpose ×14")
    # read by running it (torch.fx stopped at torch.ones(batch_size, pH * pW)); its clamps to tensor
    # bounds (gemma4's clipped linears) are rows not counted, a lower bound said so
    gemma = check_model("timm", "gemma4_vit", "gemma4_vit_167m")
    assert gemma.reason.startswith("224 operations: encoder.blocks.0.attn.q_proj.clamp, … 223 more not counted")
    convit = check_model("timm", "convit", "convit_small")
    assert "forward() replaces the buffers blocks.0.attn.rel_indices" in convit.reason


def test_coverage_command_prints_each_model_and_the_share():
    result = run_cli("coverage", "torchvision", "--model", "resnet18", "--model", "mvit_v2_s", columns=None)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()  # in torchvision's order of builders
    assert lines[1].split() == ["torchvision", "classification", "resnet18", "exact"]
    # a table, whose permutes of the batch away from the front are rows not counted: a lower bound, said so
    assert lines[2].startswith("torchvision  video           mvit_v2_s  48 operations: blocks.0.attn.permute")
    assert "not counted; macs cnncalc" in lines[2]
    assert lines[-1] == "torchvision: 1 of 2 builders exact (50.0%)"
    unknown = run_cli("coverage", "torchvision", "--model", "resnet1")  # not an empty table and exit 0
    assert unknown.returncode == 2 and "coverage checks no model 'resnet1' (did you mean 'resnet18'?)" in unknown.stderr
    assert shares([check_model("timm", "resnet", "resnet18")]) == {"timm": (1, 1, "families")}
