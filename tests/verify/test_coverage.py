"""Real torchvision, timm, Hugging Face and segmentation_models_pytorch models through the importer,
each held to torch in the same process (cnncalc.verify.coverage), and the peer tools run on them. Those
tests (`real_models`) need torch 2.14.1 with torchvision 0.29.1, timm, transformers and
segmentation-models-pytorch: .ci/run builds that environment and runs `pytest -m libraries`; elsewhere
they skip. How the peers are run is tested in the default suite on small modules of its own."""
from __future__ import annotations

import importlib.util
import json
from dataclasses import replace

import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

from cnncalc.model import load_graph  # noqa: E402
from cnncalc.verify.coverage import check_model, peers_on, shares  # noqa: E402
from cnncalc.importing.libraries import Loaded  # noqa: E402
from conftest import peer_total, run_cli  # noqa: E402


def real_models(test):
    """A test of real library models: in `pytest -m libraries`, where torchvision and timm are installed."""
    missing = [name for name in ("torchvision", "timm") if importlib.util.find_spec(name) is None]
    return pytest.mark.libraries(pytest.mark.skipif(bool(missing), reason=f"needs {', '.join(missing)}")(test))

class Convolution(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv, self.fc = nn.Conv2d(3, 4, 3), nn.Linear(4, 5)

    def forward(self, x):
        return self.fc(self.conv(x).mean((2, 3)))


class Boxed(Convolution):
    """Its output in an object of its own, which neither fvcore's trace nor torchinfo takes."""

    def forward(self, x):
        return type("Boxed", (), {"logits": super().forward(x)})()


class Tokens(nn.Module):
    """A text model that reads a value (the longest id: not on the meta device), on ids below 3."""

    def __init__(self):
        super().__init__()
        self.embed, self.fc = nn.Embedding(3, 4), nn.Linear(4, 2)

    def forward(self, ids):
        return self.fc(self.embed(ids)[:, :int(ids.max()) + 1])


def on_meta(cls) -> nn.Module:
    with torch.device("meta"):
        return cls().eval()


PEERS = ("fvcore", "torchinfo", "ptflops", "thop")


@pytest.mark.parametrize("cls, shape, dtype", [(Convolution, (3, 8, 8), None), (Boxed, (3, 8, 8), None),
                                               (Tokens, (5,), "int64")], ids=["conv", "boxed", "tokens"])
def test_each_peer_runs_where_it_counts_the_module_on_the_cpu(cls, shape, dtype):
    # the golden facts: each tool run directly on a CPU build at a random input gives a total or raises
    # (fvcore's trace stops on the meta device at a convolution, every tool at Tokens' .item(): there the
    # module runs on the CPU)
    for tool in PEERS:
        pytest.importorskip(tool)
    x = torch.randn(1, *shape) if dtype is None else torch.randint(0, 3, (1, *shape))
    direct = {}
    for tool in PEERS:
        try:
            peer_total(tool, cls().eval(), (x,))
            direct[tool] = True
        except Exception:  # noqa: BLE001 (what the tool raises)
            direct[tool] = False
    module = on_meta(cls)
    held = sorted(vars(module)), [t.device.type for t in module.parameters()]
    runs = peers_on(Loaded(module=module, name=cls.__name__, input_shape=shape, input_dtype=dtype), tuple(PEERS), cls)
    assert {tool: not failed for tool, failed in runs.items()} == direct
    assert (sorted(vars(module)), [t.device.type for t in module.parameters()]) == held  # as it was: on meta
    if cls is Convolution:  # the run on the CPU is the one that counts
        with pytest.raises(TypeError, match="cond must be a bool"):
            peer_total("fvcore", on_meta(cls), (x.to("meta"),))
    if cls is Boxed:
        assert direct == {"fvcore": False, "torchinfo": False, "ptflops": True, "thop": True}
        assert runs["torchinfo"].startswith("TypeError: Model contains a layer with an unsupported input or output")


def test_no_peer_runs_a_model_stating_no_input():
    loaded = Loaded(module=on_meta(Convolution), name="c")
    assert peers_on(loaded, ("thop",), Convolution) == {"thop": "no input size stated"}


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


@real_models
@pytest.mark.parametrize("library, family, name", EXACT, ids=[name for *_, name in EXACT])
def test_exact_against_torch(library, family, name):
    outcome = check_model(library, family, name)
    assert outcome.exact, outcome.reason


# Hugging Face (transformers) models at their default configs and segmentation_models_pytorch, each held
# to torch the same way: a forward() behind decorators reading **kwargs (every model), token ids and
# embeddings with token types expanded to the batch (BERT), a global response norm written as
# linalg.vector_norm (ConvNeXt V2), shifted windows whose mask is sized by B·nW // nW (Swin), a U-Net
# decoder on a timm-free encoder and a Segformer head; diffusers' VAE (attention through
# scaled_dot_product_attention) and its text-conditioned UNet (a timestep, text embeddings as a second
# input, cross-attention); ultralytics' YOLO, which torch.fx refused: a tensor attribute read with
# .item() (Detect.stride), anchors from torch.arange(w).type_as(x), a pose head that clones its keypoints;
# DETR, whose decoder's queries are zeros like its query positions repeated to the batch; BERT's masked
# language model, whose decoder holds the word embeddings' table and a bias of its own
OTHERS = [("transformers", "text", "bert"), ("transformers", "heads", "BertForMaskedLM"), ("transformers", "vision", "convnextv2"),
          ("transformers", "vision", "swin"), ("transformers", "vision", "vit"), ("transformers", "vision", "cvt"),
          ("transformers", "vision", "detr"),
          ("smp", "segmentation", "Unet"), ("smp", "segmentation", "Segformer"),
          ("diffusers", "autoencoder", "AutoencoderKL"), ("diffusers", "unet", "UNet2DConditionModel"),
          ("ultralytics", "detect", "yolov8n.yaml"), ("ultralytics", "pose", "yolo11n-pose.yaml"),
          ("ultralytics", "classify", "yolov8n-cls.yaml")]
IMPORTS = {"transformers": "transformers", "smp": "segmentation_models_pytorch", "diffusers": "diffusers",
           "ultralytics": "ultralytics"}


@real_models
@pytest.mark.parametrize("library, family, name", OTHERS, ids=[f"{library}-{name}" for library, _, name in OTHERS])
def test_other_libraries_exact_against_torch(library, family, name):
    pytest.importorskip(IMPORTS[library])
    outcome = check_model(library, family, name)
    assert outcome.exact, outcome.reason


@real_models
def test_ultralytics_writes_no_line_of_its_own_on_stdout():
    pytest.importorskip("ultralytics")
    result = run_cli("table", "ultralytics:yolov8n-cls.yaml", "-f", "json", columns=None)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["totals"]["params"] == 2_719_288  # ultralytics' own summary of YOLOv8n-cls


@real_models
def test_googlenet_counts_its_auxiliary_heads():
    # torchvision's googlenet holds 13,004,888 parameters (its aux heads included, which eval skips)
    graph = load_graph("torchvision:googlenet", None, None)
    assert sum(held.params for held in graph.not_run) == 13_004_888 - 6_624_904


@real_models
def test_what_is_left_out_is_said():
    csatv2 = check_model("timm", "csatv2", "csatv2")  # the batch moved to the last dim, a buffer as linear weights
    assert csatv2.table and not csatv2.exact
    # its attention's products mix the samples (q @ k of (B, N) keys moved to (N, B)): 14 blocks of 4 rows
    # not counted, and its stem's 3 (a DCT as F.linear with a buffer, a list index)
    assert csatv2.reason.startswith("59 operations: stem_dct.transform.transform.linear, … 58 more not counted; ")
    assert csatv2.reason.endswith(" torch 1380798560")  # FlopCounterMode's, beside cnncalc's lower bound


@real_models
def test_coverage_command_prints_each_model_and_the_share():
    result = run_cli("coverage", "torchvision", "--model", "resnet18", "--model", "mvit_v2_s", "--no-peers",
                     columns=None)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()  # in torchvision's order of builders
    assert lines[1].split() == ["torchvision", "classification", "resnet18", "exact"]
    # a table, whose reshapes merging the batch after the sequence are rows not counted: a lower bound, said so
    assert lines[2].startswith("torchvision  video           mvit_v2_s  48 operations: blocks.0.attn.reshape(3)")
    assert "not counted; macs cnncalc" in lines[2]
    assert lines[-1] == "torchvision: 1 of 2 builders exact (50.0%)"
    unknown = run_cli("coverage", "torchvision", "--model", "resnet1")  # not an empty table and exit 0
    assert unknown.returncode == 2 and "coverage checks no model 'resnet1' (did you mean 'resnet18'?)" in unknown.stderr
    assert shares([check_model("timm", "resnet", "resnet18")]) == {"timm": (1, 1, "families")}


@real_models
def test_coverage_says_which_peers_count_each_model():
    # the golden facts: each peer tool, run directly on timm's csatv2 and resnet18 built on the CPU at
    # their input, gives a total; cnncalc reads both (csatv2 with rows not counted: test_refusals_say_why)
    import timm

    for name in ("csatv2", "resnet18"):
        x = torch.randn(1, *timm.models.get_pretrained_cfg_value(name, "input_size"))
        for tool in PEERS:
            pytest.importorskip(tool)
            peer_total(tool, timm.create_model(name, pretrained=False).eval(), (x,))  # raises where it cannot
    result = run_cli("coverage", "timm", "--model", "csatv2", "--model", "resnet18", columns=None)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split()[:5] == ["Library", "Family", "Model", "Counted", "by"]
    assert [line.split()[3] for line in lines[1:3]] == ["all", "all"]  # counted by every peer
    assert lines[-1] == "timm: 1 of 2 families exact (50.0%); fvcore ran 2, torchinfo 2, ptflops 2, thop 2"


class MinibatchStd(nn.Module):
    """StyleGAN's discriminator: the deviation over the batch as one more channel, which no shape per
    sample can say (cnncalc refuses it; the peers run it)."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)

    def forward(self, x):
        x = self.conv(x)
        deviation = x.std(dim=0).mean().expand(x.shape[0], 1, *x.shape[2:])
        return torch.cat((x, deviation), dim=1)


def test_a_model_cnncalc_refuses_that_a_peer_counts_is_named():
    from cnncalc.verify.coverage import _held_to_torch, unread

    for tool in PEERS:
        pytest.importorskip(tool)
    loaded = Loaded(module=MinibatchStd().eval(), name="MinibatchStd", input_shape=(3, 8, 8))
    outcome = _held_to_torch(loaded, "handwritten:MinibatchStd", "handwritten", "minibatch", "MinibatchStd")
    assert not outcome.table
    outcome = replace(outcome, peers=peers_on(loaded, tuple(PEERS), MinibatchStd))
    assert outcome.peers == dict.fromkeys(PEERS, "")  # each peer gives a total
    assert unread([outcome]) == [outcome]


@real_models
def test_a_peer_that_cannot_count_a_model_says_why():
    # the golden facts: fvcore's trace of Hugging Face's GPT-2 built on the CPU stops at the cache it
    # returns; the other peers count it
    transformers = pytest.importorskip("transformers")
    model = transformers.AutoModel.from_config(transformers.AutoConfig.for_model("gpt2")).eval()
    ids = torch.randint(0, 2, (1, 128))
    with pytest.raises(RuntimeError, match="Only tuples, lists and Variables are supported as JIT inputs/outputs"):
        peer_total("fvcore", model, (ids,))
    for tool in ("torchinfo", "ptflops", "thop"):
        peer_total(tool, model, (ids,))
    runs = check_model("transformers", "text", "gpt2", tuple(PEERS)).peers
    assert runs.pop("fvcore").startswith("RuntimeError: Only tuples, lists and Variables are supported as JIT")
    assert runs == {"torchinfo": "", "ptflops": "", "thop": ""}
