"""Load the module to import: a class in the user's file, or a model of torchvision or timm built
with no weights (nothing is downloaded)."""
from __future__ import annotations

import importlib
import inspect
import runpy
import traceback
from pathlib import Path
from typing import Any, Callable

import torch
from torch import nn

from ..errors import SpecError, did_you_mean
from ..model_reference import model_reference
from ..spec.yamlfile import read_text


def load_module(reference: str, params: dict, on_meta: bool = True) -> tuple[nn.Module, str, tuple[int, ...] | None]:
    """`path/model.py:MyNet`, `torchvision:resnet50` or `timm:convnext_tiny` → the module (built
    on the meta device where its constructor allows and `on_meta`, so no real memory), its name and the
    input its library states (None: the user must give one)."""
    parsed = model_reference(reference)
    if parsed is None:
        raise SpecError("expected path/model.py:ClassName", reference)
    name = parsed.name
    if parsed.in_library:
        build, default_input = LIBRARY_BUILDERS[parsed.source](name, params)
        module = _built(build, name, reference, on_meta)
        size = getattr(module, "image_size", None)  # a model built for one size (torchvision's ViT) says so
        return module, name, (3, size, size) if isinstance(size, int) else default_input
    path = parsed.source
    if not Path(path).exists():
        raise SpecError("no such file", path)
    read_text(Path(path))  # a regular file within the size limit, like any spec
    try:
        namespace = runpy.run_path(path, run_name="cnncalc_import")
    except Exception as error:  # noqa: BLE001 (whatever the user's file raises: a syntax error, a missing package)
        raise _in_file(error, path, f"{path} cannot be run") from None
    if name not in namespace:
        raise SpecError(f"{path} defines no '{name}'", path)
    _require_arguments(namespace[name], name, params, path)
    return _built(lambda: namespace[name](**params), name, path, on_meta), name, None


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


def _built(build, name: str, source: str, on_meta: bool) -> nn.Module:
    """The module built on the meta device (unless not `on_meta`); on the CPU when its constructor
    needs real values (`.item()` in `__init__`)."""
    try:
        try:
            with torch.device("meta" if on_meta else "cpu"):
                module = build()
        except (RuntimeError, NotImplementedError):  # meta tensors have no data to read
            module = build()
    except Exception as error:  # noqa: BLE001 (whatever the constructor raises)
        raise _in_file(error, source, f"cannot build {name}") from None
    return module.eval()


def library_module(name: str) -> Any:
    try:
        return importlib.import_module(name)
    except ImportError:
        raise SpecError(f"{name} is not installed: pip install {name}") from None


def _torchvision(name: str, params: dict) -> tuple[Callable, tuple[int, ...] | None]:
    """A torchvision builder with no weights (its backbone's neither), and the input its first
    weights are evaluated at."""
    models = library_module("torchvision").models
    try:
        builder = models.get_model_builder(name)
    except ValueError:
        raise SpecError(f"torchvision has no model '{name}'{did_you_mean(name, models.list_models())}") from None
    if builder.__module__.startswith(DATA_DEPENDENT):
        raise SpecError(f"torchvision's {name} is refused: a detection or optical-flow model's shapes depend on "
                        "its input's content (region proposals, non-maximum suppression, iterative refinement), "
                        "so no figure holds ahead of the data")
    defaults = {"weights": None}
    if "weights_backbone" in inspect.signature(builder).parameters:
        defaults["weights_backbone"] = None  # else a segmentation model downloads its backbone's
    return (lambda: builder(**{**defaults, **params})), _torchvision_input(models, name, builder)


DATA_DEPENDENT = ("torchvision.models.detection", "torchvision.models.optical_flow")
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


def _timm(name: str, params: dict) -> tuple[Callable, tuple[int, ...] | None]:
    """A timm model with pretrained=False, and the input size of its pretrained config."""
    timm = library_module("timm")
    if name not in timm.list_models():
        raise SpecError(f"timm has no model '{name}'{did_you_mean(name, timm.list_models())}")
    size = timm.models.get_pretrained_cfg_value(name, "input_size")
    return (lambda: timm.create_model(name, pretrained=False, **params)), tuple(size) if size else None


LIBRARY_BUILDERS = {"torchvision": _torchvision, "timm": _timm}
