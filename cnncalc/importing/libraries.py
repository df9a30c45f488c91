"""Load the module to import: a class in the user's file, or a model of torchvision, timm, Hugging
Face transformers, segmentation_models_pytorch, diffusers or ultralytics built with no weights (nothing
is downloaded)."""
from __future__ import annotations

import atexit
import contextlib
import importlib
import inspect
import os
import runpy
import shutil
import sys
import tempfile
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import torch
from torch import nn

from ..errors import SpecError, did_you_mean
from ..graph import OtherInput
from ..model_reference import model_reference
from ..spec.limits import Limits
from ..spec.yamlfile import read_text


@dataclass(frozen=True, kw_only=True)
class Loaded:
    """A module to import, its name, and the input its library states (None: the user gives one)."""
    module: nn.Module
    name: str
    input_shape: tuple[int, ...] | None = None
    input_dtype: str | None = None  # int64: a text model's token ids
    others: tuple[OtherInput, ...] = ()  # forward()'s other inputs the library states (RAFT's second image)
    data_dependent: bool = False  # see LibraryModel


@dataclass(frozen=True, kw_only=True)
class LibraryModel:
    """How a library builds a model with no weights, and the input it states (or the model states:
    `sized_by` reads it off the built module). A `data_dependent` model (detection: proposals, NMS)
    is built on the CPU with its own initialization and read from one run on one seeded sample."""
    build: Callable[[], nn.Module]
    input_shape: tuple[int, ...] | None
    input_dtype: str | None = None
    others: tuple[OtherInput, ...] = ()
    sized_by: Callable[[nn.Module], tuple[int, ...]] | None = None
    data_dependent: bool = False


def load_module(reference: str, params: dict, on_meta: bool = True, *, limits: Limits = Limits()) -> Loaded:
    """`path/model.py:MyNet`, `torchvision:resnet50`, `timm:convnext_tiny`, `transformers:bert` or
    `smp:Unet` → the module (built on the meta device where its constructor allows and `on_meta`, so
    no real memory), its name and the input its library states. A file is read within `limits`."""
    parsed = model_reference(reference)
    if parsed is None:
        raise SpecError("expected path/model.py:ClassName", reference)
    name = parsed.name
    if parsed.in_library:
        stated = LIBRARY_BUILDERS[parsed.source](name, params)
        module = _built(stated.build, name, reference, on_meta and not stated.data_dependent)
        size = getattr(module, "image_size", None)  # a model built for one size (torchvision's ViT) says so
        shape = stated.sized_by(module) if stated.sized_by else (3, size, size) if isinstance(size, int) \
            else stated.input_shape
        return Loaded(module=module, name=name, input_shape=shape, input_dtype=stated.input_dtype,
                      others=stated.others, data_dependent=stated.data_dependent)
    path = parsed.source
    if not Path(path).exists():
        raise SpecError("no such file", path)
    read_text(Path(path), limits=limits)  # a regular file within the size limit, like any spec
    try:
        namespace = runpy.run_path(path, run_name="cnncalc_import")
    except Exception as error:  # noqa: BLE001 (whatever the user's file raises: a syntax error, a missing package)
        raise _in_file(error, path, f"{path} cannot be run") from None
    if name not in namespace:
        raise SpecError(f"{path} defines no '{name}'", path)
    _require_arguments(namespace[name], name, params, path)
    return Loaded(module=_built(lambda: namespace[name](**params), name, path, on_meta), name=name)


def _require_arguments(cls, name: str, params: dict, path: str) -> None:
    """A class whose constructor needs arguments the command line did not give: named, at its __init__."""
    try:
        wanted = inspect.signature(cls).parameters.values()
    except (TypeError, ValueError):  # no signature to read: the constructor itself will say
        return
    missing = [p.name for p in wanted if p.default is p.empty and p.name not in params
               and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    if missing:
        code = getattr(getattr(cls, "__init__", None), "__code__", None)
        raise SpecError(f"{name} needs {' and '.join(missing)}: give {'them' if len(missing) > 1 else 'it'} with "
                        + " ".join(f"--set {each}=VALUE" for each in missing), path,
                        code.co_firstlineno if code and Path(code.co_filename).resolve() == Path(path).resolve()
                        else None)


def _in_file(error: Exception, path: str, what: str) -> SpecError:
    """The user's code failing, as one line naming the file and the line in it where it failed."""
    frames = [(error.filename, error.lineno)] if isinstance(error, SyntaxError) else \
        [(frame.filename, frame.lineno) for frame in reversed(traceback.extract_tb(error.__traceback__))]
    line = next((number for filename, number in frames if filename and Path(filename).resolve() == Path(path).resolve()),
                None)
    return SpecError(f"{what}: {type(error).__name__}: {str(error).splitlines()[0][:200] if str(error) else ''}",
                     path, line)


# The weights of a model built on the CPU: the same in every run, so a detector's table is too. Under it
# torchvision's Mask and Keypoint R-CNN keep detections (under 0 Keypoint R-CNN keeps none), so their tables
# show their heads' work.
BUILD_SEED = 1


def _built(build, name: str, source: str, on_meta: bool) -> nn.Module:
    """The module built on the meta device (unless not `on_meta`); on the CPU when its constructor
    needs real values (`.item()` in `__init__`), its weights drawn from BUILD_SEED (the caller's
    random state left as it was)."""
    try:
        try:
            with torch.device("meta" if on_meta else "cpu"):
                module = _seeded(build)
        except (RuntimeError, NotImplementedError):  # meta tensors have no data to read
            module = _seeded(build)
    except Exception as error:  # noqa: BLE001 (whatever the constructor raises)
        raise _in_file(error, source, f"cannot build {name}") from None
    return module.eval()


def _seeded(build) -> nn.Module:
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(BUILD_SEED)
        return build()


def library_module(name: str) -> Any:
    """The module `name` of an installed library, imported as that library must be for cnncalc's output."""
    settle = BEFORE_IMPORT.get(name.partition(".")[0])
    if settle is not None:
        settle()
    try:
        return importlib.import_module(name)
    except ImportError:
        raise SpecError(f"{name} is not installed: pip install {name}") from None


def _quiet_ultralytics() -> None:
    """ultralytics reads these when first imported: its notes to nowhere (its logger writes to stdout,
    which is the table's), its settings file to a folder of its own under the temporary one, removed
    when cnncalc exits."""
    if "YOLO_CONFIG_DIR" not in os.environ:
        folder = tempfile.mkdtemp(prefix="cnncalc-ultralytics-")
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        os.environ["YOLO_CONFIG_DIR"] = folder
    os.environ.setdefault("YOLO_VERBOSE", "False")


BEFORE_IMPORT = {"ultralytics": _quiet_ultralytics}


def _torchvision(name: str, params: dict) -> LibraryModel:
    """A torchvision builder with no weights (its backbone's neither), and the input its first
    weights are evaluated at."""
    models = library_module("torchvision").models
    try:
        builder = models.get_model_builder(name)
    except ValueError:
        raise SpecError(f"torchvision has no model '{name}'{did_you_mean(name, models.list_models())}") from None
    defaults = {"weights": None}
    if "weights_backbone" in inspect.signature(builder).parameters:
        defaults["weights_backbone"] = None  # else a segmentation model downloads its backbone's
    build = lambda: builder(**{**defaults, **params})  # noqa: E731
    if builder.__module__.startswith("torchvision.models.detection"):
        return LibraryModel(build=build, input_shape=None, sized_by=_detection_input, data_dependent=True)
    if builder.__module__.startswith("torchvision.models.optical_flow"):
        return LibraryModel(build=build, input_shape=FLOW_INPUT, others=(OtherInput(name="image2", shape=FLOW_INPUT),))
    return LibraryModel(build=build, input_shape=_torchvision_input(models, name, builder))


def _detection_input(module: nn.Module) -> tuple[int, ...]:
    """A square image of the side the model's own transform resizes to in eval (its weights state
    none: COCO's images vary), so that the resize keeps it as it is."""
    return (3, module.transform.min_size[-1], module.transform.min_size[-1])


FLOW_INPUT = (3, 520, 960)  # torchvision's optical-flow gallery (plot_optical_flow.py) resizes its frames so
VIDEO_FRAMES = 16  # torchvision's references/video_classification: --clip-len 16


def _torchvision_input(models, name: str, builder) -> tuple[int, ...] | None:
    """The per-sample input of the first weights: the crop (else the resize) of their transforms;
    a video model's clips have VIDEO_FRAMES frames."""
    try:
        keywords = models.get_model_weights(name).DEFAULT.transforms.keywords
    except (ValueError, AttributeError):
        return None
    size = keywords.get("crop_size") or keywords.get("resize_size")
    if size is None:
        return None
    sides = (size, size) if isinstance(size, int) else tuple(size) * (2 // len(size))  # (256,): a square
    frames = (VIDEO_FRAMES,) if builder.__module__.startswith("torchvision.models.video") else ()
    return (3, *frames, *sides)


def _timm(name: str, params: dict) -> LibraryModel:
    """A timm model with pretrained=False, and the input size of its pretrained config."""
    timm = library_module("timm")
    if name not in timm.list_models():
        raise SpecError(f"timm has no model '{name}'{did_you_mean(name, timm.list_models())}")
    size = timm.models.get_pretrained_cfg_value(name, "input_size")
    return LibraryModel(build=lambda: timm.create_model(name, pretrained=False, **params),
                        input_shape=tuple(size) if size else None)


TEXT_LENGTH = 128  # token ids a text model is read at unless --input says otherwise
IMAGE_SIZE = 224  # Hugging Face's image processors' default size, for a config that states none


def _transformers(name: str, params: dict) -> LibraryModel:
    """A Hugging Face model type (bert, vit, ...), its base model, or a model class with a head
    (BertForMaskedLM), at its default config, made locally (AutoConfig.for_model: nothing is downloaded),
    `params` setting the config's fields; read at the config's image size (224 where it states none: its
    image processor's), or at 128 token ids."""
    transformers = library_module("transformers")
    types = transformers.CONFIG_MAPPING
    cls = getattr(transformers, name, None) if name[:1].isupper() else None
    if isinstance(cls, type) and issubclass(cls, transformers.PreTrainedModel) and cls.config_class is not None:
        config = cls.config_class(**params)
        build = lambda: cls(config)  # noqa: E731
    elif name in types:
        config = transformers.AutoConfig.for_model(name, **params)
        build = lambda: transformers.AutoModel.from_config(config)  # noqa: E731
    else:
        raise SpecError(f"transformers has no model type or model class '{name}'{did_you_mean(name, list(types))}")
    size = getattr(config, "image_size", IMAGE_SIZE if hasattr(config, "num_channels") else None)
    if isinstance(size, int):
        return LibraryModel(build=build, input_shape=(getattr(config, "num_channels", 3), size, size))
    if hasattr(config, "vocab_size"):
        return LibraryModel(build=build, input_shape=(min(TEXT_LENGTH, getattr(config, "max_position_embeddings",
                                                                           TEXT_LENGTH)),), input_dtype="int64")
    return LibraryModel(build=build, input_shape=None)


SMP_INPUT = (3, 256, 256)  # every architecture's encoders take sides divisible by 32


def _smp(name: str, params: dict) -> LibraryModel:
    """A segmentation_models_pytorch architecture (Unet, FPN, ...), its encoder without weights
    (resnet34 unless --set encoder_name=...)."""
    smp = library_module("segmentation_models_pytorch")
    architectures = [arch.__name__ for arch in smp.__dict__.values()
                     if isinstance(arch, type) and issubclass(arch, nn.Module) and "encoder_weights" in
                     inspect.signature(arch).parameters]
    if name not in architectures:
        raise SpecError(f"segmentation_models_pytorch has no architecture '{name}'{did_you_mean(name, architectures)}")
    return LibraryModel(build=lambda: getattr(smp, name)(**{"encoder_weights": None, **params}), input_shape=SMP_INPUT)


def _diffusers(name: str, params: dict) -> LibraryModel:
    """A diffusers model class whose forward() takes an image first (AutoencoderKL, AutoencoderTiny,
    VQModel, UNet2DModel, UNet2DConditionModel) at its default config, `params` setting the config; read
    at the config's sample size. A UNet's timestep is a number its forward() is called with (its figures
    are any step's); a conditioned one reads text embeddings as a second input, as a pipeline gives them."""
    diffusers = library_module("diffusers")
    cls = getattr(diffusers, name, None) if name[:1].isupper() else None
    takes = inspect.signature(cls.forward).parameters if isinstance(cls, type) and issubclass(cls, nn.Module) else {}
    if list(takes)[1:2] != ["sample"]:
        models = [found for found in dir(diffusers) if found.startswith(("Autoencoder", "VQ", "UNet"))]
        raise SpecError(f"diffusers has no model class '{name}' whose forward() takes an image first"
                        f"{did_you_mean(name, models)}")
    stated = {key: value.default for key, value in inspect.signature(cls).parameters.items()} | params
    size = stated.get("sample_size")
    side = size if isinstance(size, int) else DIFFUSERS_SIDE
    others = (OtherInput(name="encoder_hidden_states", shape=(DIFFUSERS_TOKENS, stated["cross_attention_dim"])),) \
        if "encoder_hidden_states" in takes else ()

    def build() -> nn.Module:
        module = cls(**params)
        if "timestep" in takes:
            module.forward = _at_a_step(module.forward)
        return module
    return LibraryModel(build=build, input_shape=(stated.get("in_channels", 3), side, side), others=others)


def _at_a_step(forward: Callable) -> Callable:
    """A UNet's forward() given its timestep: the image and what follows the step taken as before, by
    position or by name (the importer's run and the peers' both)."""
    def at_a_step(sample, *args, **kwargs):
        return forward(sample, DIFFUSERS_TIMESTEP, *args, **kwargs)
    stated = inspect.signature(forward)
    at_a_step.__signature__ = stated.replace(parameters=[p for p in stated.parameters.values() if p.name != "timestep"])
    return at_a_step


DIFFUSERS_SIDE = 64  # where a config states no sample size
DIFFUSERS_TIMESTEP = 10  # a UNet's step: its work is the same at every step
DIFFUSERS_TOKENS = 77  # the text embeddings a conditioned UNet reads: CLIP's context, as Stable Diffusion gives it


def _ultralytics(name: str, params: dict) -> LibraryModel:
    """An ultralytics YOLO model from one of its yaml files (`yolov8n.yaml`: yolov8.yaml at scale n),
    of the class its task takes (detect, segment, pose, obb, classify), at 640 (classify: 224). What it
    prints goes to stderr."""
    with contextlib.redirect_stdout(sys.stderr):
        tasks = library_module("ultralytics.nn.tasks")
    files = sorted(path.name for path in (Path(tasks.__file__).parents[1] / "cfg" / "models").rglob("*.yaml"))
    try:
        with contextlib.redirect_stdout(sys.stderr):
            task = tasks.guess_model_task(tasks.yaml_model_load(name))
    except (FileNotFoundError, AttributeError, ValueError):
        raise SpecError(f"ultralytics has no model file '{name}'{did_you_mean(name, files)}") from None
    model = ULTRALYTICS_TASKS.get(task)
    if model is None:
        raise SpecError(f"ultralytics' {name} is a {task} model; cnncalc reads {', '.join(ULTRALYTICS_TASKS)}")
    side = 224 if task == "classify" else 640

    def build():
        with contextlib.redirect_stdout(sys.stderr):
            return getattr(tasks, model)(name, verbose=False, **params)
    return LibraryModel(build=build, input_shape=(3, side, side))


ULTRALYTICS_TASKS = {"detect": "DetectionModel", "segment": "SegmentationModel", "pose": "PoseModel",
                     "obb": "OBBModel", "classify": "ClassificationModel"}


def _handwritten(name: str, params: dict) -> LibraryModel:
    """One of cnncalc's models written by hand the ways people write them (handwritten.py)."""
    from .handwritten import HANDWRITTEN

    if name not in HANDWRITTEN:
        raise SpecError(f"cnncalc has no hand-written model '{name}'{did_you_mean(name, list(HANDWRITTEN))}")
    written = HANDWRITTEN[name]
    if written.needs:
        library_module(written.needs)
    return LibraryModel(build=lambda: written.build(**params), input_shape=written.input_shape,
                        input_dtype=written.input_dtype, others=written.others)


LIBRARY_BUILDERS = {"torchvision": _torchvision, "timm": _timm, "transformers": _transformers, "smp": _smp,
                    "diffusers": _diffusers, "ultralytics": _ultralytics, "handwritten": _handwritten}
