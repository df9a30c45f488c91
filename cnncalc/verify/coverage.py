"""`cnncalc coverage`: read real models with the importer and hold each to torch in the same process.

The models: every torchvision builder (classification, segmentation, video, detection, optical
flow), one model of every timm family (the module that defines it; its smallest-named model), Hugging
Face vision models and text encoders at their default configs, and segmentation_models_pytorch's
architectures. Each is built with no weights, imported as `cnncalc table torchvision:NAME` would import it, and compared with torch on
the meta device (no memory, no arithmetic): parameters and buffers as the module holds them, MACs
as torch.utils.flop_counter counts them ÷ 2, and the output's shape. A detection model, whose work
its data decides, is held to torch on the same seeded image its import ran. Each peer tool installed is
run on the same module and input (`peers_on`): whether it gives a total, and so whether a model cnncalc
refuses is one a peer reads.
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field, replace
from typing import Callable

import torch
from torch import nn

from ..errors import SpecError
from ..figures.report import analyze
from ..output.render import uncounted_text
from ..spec.limits import Limits
from ..importing.importer import read_module
from ..importing.libraries import Loaded, library_module, load_module
from .own import tensors
from .peers import fails, installed

TORCHVISION_GROUPS = ("", "segmentation", "video", "detection", "optical_flow")
SMALL = re.compile(r"(atto|femto|pico|nano|tiny|mini|small|_xs|_s\b|b0|_18|18\b|_050|_0\d\d|lite0|_t\b)")


@dataclass(frozen=True)
class Outcome:
    library: str
    model: str
    family: str
    exact: bool
    reason: str          # why not exact: the refusal, or the figures that differ
    table: bool = True   # False: refused
    peers: dict[str, str] = field(default_factory=dict)  # each peer tool run: "" where it gave a total, else why not


@dataclass(frozen=True)
class Truth:
    params: int
    buffers: int
    macs: int
    output_shapes: frozenset  # each output tensor's shape per sample (a tuple's, a ModelOutput's)


def torchvision_models() -> list[tuple[str, str]]:
    """(family, builder) for every builder: classification, segmentation, video, detection, optical flow."""
    torchvision = library_module("torchvision")
    found = []
    for group in TORCHVISION_GROUPS:
        module = getattr(torchvision.models, group) if group else torchvision.models
        found += [(group or "classification", name) for name in sorted(torchvision.models.list_models(module=module))]
    return found


def timm_models() -> list[tuple[str, str]]:
    """(family, model) for one model of every timm family: the module defining it."""
    timm = library_module("timm")
    chosen = []
    for family in sorted(timm.list_modules()):
        names = sorted(timm.list_models(module=family))
        if names:
            small = [name for name in names if SMALL.search(name)]
            chosen.append((family, (small or names)[0]))
    return chosen


# Hugging Face model types, each at its default config: vision models at their image size, text
# encoders at 128 token ids; and language models with their heads, tied to their embeddings' tables
TRANSFORMERS = {"vision": ("vit", "deit", "beit", "dinov2", "convnext", "convnextv2", "resnet", "regnet", "swin",
                           "swinv2", "segformer", "mobilevit", "mobilenet_v2", "efficientnet", "poolformer",
                           "levit", "cvt", "bit", "dpt", "detr"),
                "text": ("bert", "roberta", "distilbert", "albert", "electra", "gpt2"),
                "heads": ("BertForMaskedLM", "RobertaForMaskedLM", "DistilBertForMaskedLM", "AlbertForMaskedLM",
                          "ElectraForMaskedLM", "GPT2LMHeadModel")}
# segmentation_models_pytorch's architectures, on their default encoder (resnet34)
SMP = ("Unet", "UnetPlusPlus", "FPN", "PSPNet", "DeepLabV3Plus", "Linknet", "PAN", "MAnet", "Segformer", "UPerNet")


# diffusers' models whose forward() takes an image first, at their default configs: its VAEs and UNets
DIFFUSERS = ("AutoencoderKL", "AutoencoderTiny", "VQModel", "UNet2DModel", "UNet2DConditionModel")
# ultralytics' model files at scale n, one per task and generation
ULTRALYTICS = {"detect": ("yolov3-tiny.yaml", "yolov5n.yaml", "yolov8n.yaml", "yolov10n.yaml", "yolo11n.yaml",
                          "yolo12n.yaml"),
               "segment": ("yolov8n-seg.yaml", "yolo11n-seg.yaml"), "pose": ("yolov8n-pose.yaml", "yolo11n-pose.yaml"),
               "obb": ("yolov8n-obb.yaml", "yolo11n-obb.yaml"), "classify": ("yolov8n-cls.yaml", "yolo11n-cls.yaml")}


def diffusers_models() -> list[tuple[str, str]]:
    library_module("diffusers")
    return [("unet" if name.startswith("UNet") else "autoencoder", name) for name in DIFFUSERS]


def ultralytics_models() -> list[tuple[str, str]]:
    library_module("ultralytics")
    return [(task, name) for task, names in ULTRALYTICS.items() for name in names]


def transformers_models() -> list[tuple[str, str]]:
    library_module("transformers")
    return [(task, name) for task, names in TRANSFORMERS.items() for name in names]


def smp_models() -> list[tuple[str, str]]:
    library_module("segmentation_models_pytorch")
    return [("segmentation", name) for name in SMP]


def handwritten_models() -> list[tuple[str, str]]:
    from ..importing.handwritten import HANDWRITTEN

    return [(written.shows, name) for name, written in HANDWRITTEN.items()]


LIBRARIES: dict[str, Callable[[], list[tuple[str, str]]]] = {
    "torchvision": torchvision_models, "timm": timm_models, "transformers": transformers_models, "smp": smp_models,
    "diffusers": diffusers_models, "ultralytics": ultralytics_models, "handwritten": handwritten_models}
IMPORTS = {"torchvision": "torchvision", "timm": "timm", "transformers": "transformers",
           "smp": "segmentation_models_pytorch", "diffusers": "diffusers", "ultralytics": "ultralytics",
           "handwritten": "torch"}


def installed_libraries() -> list[str]:
    """The libraries coverage checks unless told which: those installed here."""
    import importlib.util

    return [library for library, module in IMPORTS.items() if importlib.util.find_spec(module)]


def check_model(library: str, family: str, name: str, tools: tuple[str, ...] = (), *,
                limits: Limits = Limits(), params: dict | None = None) -> Outcome:
    """One library model built (with its builder's `params`, within `limits`) and read as `cnncalc table`
    reads it, and held to torch; and whether each peer of `tools` gives a total for the same module."""
    reference, params = f"{library}:{name}", params or {}
    try:
        loaded = load_module(reference, params, limits=limits)
    except SpecError as error:
        return replace(_refused(library, family, name, error), peers=dict.fromkeys(tools, f"not built: {error.message}"))
    outcome = _held_to_torch(loaded, reference, library, family, name)
    return replace(outcome, peers=peers_on(loaded, tools, lambda: load_module(reference, params, on_meta=False,
                                                                               limits=limits).module))


def _refused(library: str, family: str, name: str, error: SpecError) -> Outcome:
    """The refusal as `cnncalc table` prints it, less the model's name before it."""
    layer = f"layer '{error.layer}': " if error.layer else ""
    return Outcome(library=library, model=name, family=family, exact=False, reason=layer + error.message, table=False)


def _held_to_torch(loaded: Loaded, reference: str, library: str, family: str, name: str) -> Outcome:
    """The loaded module imported as `reference`, and its figures beside torch's on the same module."""
    module, input_shape, input_dtype = loaded.module, loaded.input_shape, loaded.input_dtype
    try:
        if input_shape is None:
            raise SpecError(f"{name} states no input size")
        report = analyze(read_module(module, name, input_shape, reference, input_dtype, loaded.others,
                                     loaded.data_dependent))
    except SpecError as error:
        return _refused(library, family, name, error)
    truth = measure(module, report.input_shape, input_dtype, loaded.others, loaded.data_dependent)  # the same module
    ours = Truth(params=report.totals.params, buffers=report.totals.buffers, macs=report.totals.macs,
                 output_shapes=frozenset(row.output_shape for row in report.output_rows))
    wrong = [f"{key} cnncalc {getattr(ours, key)} torch {getattr(truth, key)}" for key in ("params", "buffers", "macs")
             if getattr(ours, key) != getattr(truth, key)]
    if not ours.output_shapes <= truth.output_shapes:  # each output cnncalc names is one torch returns
        wrong.append(f"output_shape cnncalc {' or '.join(map(str, sorted(ours.output_shapes)))} torch "
                     f"{' or '.join(map(str, sorted(truth.output_shapes)))}")
    if report.totals.uncounted:  # a table, but its figures are lower bounds
        wrong.insert(0, f"{uncounted_text(report.totals.uncounted)} not counted")
    return Outcome(library=library, model=name, family=family, exact=not wrong, reason="; ".join(wrong))


def measure(module: nn.Module, input_shape: tuple[int, ...], input_dtype: str | None = None, others: tuple = (),
            data_dependent: bool = False) -> Truth:
    """What torch says: the tensors the module holds, and one forward pass of one sample on the meta
    device (of `input_dtype` ids where given), or, where meta cannot go, on the CPU on random data,
    the data the importer's run drew (its seed); a `data_dependent` model on the CPU at once, where
    it decides its proposals and detections as that run did, and returns a dict of tensors per image,
    each the image's whole. The module is left as it was."""
    inputs = (input_shape, input_dtype, others)
    if data_dependent:
        output, counter = _counted(module, "cpu", *inputs)
    else:
        try:
            output, counter = _counted(module, "meta", *inputs)
        except (RuntimeError, NotImplementedError):  # .item() of a computed tensor (YOLO's anchors): on the CPU
            output, counter = _counted(module, "cpu", *inputs)
    first = 0 if data_dependent else 1
    return Truth(params=sum(p.numel() for p in module.parameters()),
                 buffers=sum(b.numel() for b in module.buffers()),
                 macs=counter.get_total_flops() // 2,
                 output_shapes=frozenset(tuple(t.shape[first:]) for t in tensors(output)))  # a 0-d loss: ()


def _stand_ins(module: nn.Module, device: str) -> dict:
    """The module's tensors on `device` (random on the CPU where the module holds meta ones)."""
    from ..importing.tracing import stand_in

    held = dict(module.named_parameters()) | dict(module.named_buffers())
    return {name: tensor if tensor.device.type == device else stand_in(tensor, device) for name, tensor in held.items()}


def _counted(module: nn.Module, device: str, input_shape: tuple[int, ...], input_dtype: str | None, others: tuple):
    """One forward pass on `device`, counted, of forward()'s inputs, one sample each, drawn as the
    importer's run draws them (tracing.probe, its seed)."""
    from torch.nn.utils.stateless import _reparametrize_module
    from torch.utils.flop_counter import FlopCounterMode

    from ..importing.tracing import probe_inputs
    from .own import counted_kernels

    inputs = probe_inputs(module, input_shape, input_dtype, others, device, 1)
    counter = FlopCounterMode(display=False)
    # on the kernels FlopCounterMode counts (none of the CPU's fused attention and LSTM), and with grad: under
    # no_grad its module tracker fails on views of parameters passed to modules
    with counted_kernels(), _reparametrize_module(module, _stand_ins(module, device)), counter:
        return module.eval()(*inputs), counter


def shares(outcomes: list[Outcome]) -> dict[str, tuple[int, int, str]]:
    """Per library, the exact ones and all: torchvision's builders, timm's families (a family is
    exact when its model is)."""
    found = {}
    for library in dict.fromkeys(o.library for o in outcomes):
        mine = [o for o in outcomes if o.library == library]
        if library == "timm":
            found[library] = (sum(o.exact for o in mine), len({o.family for o in mine}), "families")
        else:
            found[library] = (sum(o.exact for o in mine), len(mine), "builders")
    return found


PEER_SECONDS = 120  # a peer's run of one model on one device; a model's four took at most 46 s, a CPU build's included


def peer_tools() -> list[str]:
    """The peer tools installed, torch's own counter aside (coverage's truth)."""
    return [tool for tool in installed() if tool != "torch"]


def peers_on(loaded: Loaded, tools: tuple[str, ...], on_cpu: Callable[[], nn.Module]) -> dict[str, str]:
    """Whether each of `tools` gives a total for the loaded module at its input within PEER_SECONDS:
    tool → "" where it does, else why not. Each runs on the meta device; where it stops there
    (fvcore's trace, a value read), on the module `on_cpu` builds (once) at a random input, where its
    error is the one said: a module built on the meta device has no values (its index buffers')."""
    from torch.nn.utils.stateless import _reparametrize_module

    if loaded.input_shape is None:
        return dict.fromkeys(tools, "no input size stated")
    from ..importing.tracing import probe_inputs

    def samples(module: nn.Module, device: str) -> tuple[torch.Tensor, ...]:
        """One of each of forward()'s inputs (RAFT's two images), as the importer's run draws them."""
        return tuple(probe_inputs(module, loaded.input_shape, loaded.input_dtype, loaded.others, device, 1))

    x = samples(loaded.module, "meta")
    found, cpu = {}, functools.cache(on_cpu)
    for tool in tools:
        # tied weights (a text model's embedding and head) stood in for together
        with _reparametrize_module(loaded.module, _stand_ins(loaded.module, "meta"), tie_weights=True):
            found[tool] = fails(tool, loaded.module, x, PEER_SECONDS)
        if found[tool]:
            found[tool] = fails(tool, cpu(), samples(cpu(), "cpu"), PEER_SECONDS)
    return found


def peer_shares(outcomes: list[Outcome]) -> dict[str, dict[str, int]]:
    """Per library, how many of its models each peer tool gives a total for."""
    found: dict[str, dict[str, int]] = {}
    for outcome in outcomes:
        counts = found.setdefault(outcome.library, {})
        for tool, failed in outcome.peers.items():
            counts[tool] = counts.get(tool, 0) + (not failed)
    return found


def unread(outcomes: list[Outcome]) -> list[Outcome]:
    """The models cnncalc refuses that a peer tool counts: each should have a table."""
    return [o for o in outcomes if not o.table and any(not failed for failed in o.peers.values())]
