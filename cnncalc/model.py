"""A model as a user names it → its Graph. A zoo name or a spec path is read without torch; a
PyTorch model (path/model.py:Class, torchvision:NAME, timm:NAME, or an nn.Module object) is traced
by the importer, which is the only part that imports torch."""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import SpecError
from .graph import Graph, Shape

LIBRARIES = ("torchvision", "timm")  # built with no weights: nothing is downloaded
MODEL_FILE = re.compile(r"(?P<path>.+\.py):(?P<name>[A-Za-z_][A-Za-z0-9_]*)", re.ASCII)


@dataclass(frozen=True, kw_only=True)
class ModelReference:
    """A PyTorch model as the user named it: a builder of a library, or a class in a .py file."""
    source: str  # the library, or the file's path
    name: str    # the builder or the class

    @property
    def in_library(self) -> bool:
        return self.source in LIBRARIES


def model_reference(text: str) -> ModelReference | None:
    """`torchvision:NAME`, `timm:NAME` or `path/model.py:Class` (a real .py suffix, then an identifier),
    else None. A path that exists is that path whatever it holds: a spec named `evil.py:Net.yaml`, or one
    in a folder `a.py:v2`, is read as a spec and never runs `evil.py` or `a.py`."""
    if os.path.lexists(text):
        return None
    library, _, name = text.partition(":")
    if library in LIBRARIES and name:
        return ModelReference(source=library, name=name)
    match = MODEL_FILE.fullmatch(text)
    return ModelReference(source=match["path"], name=match["name"]) if match else None


def is_pytorch(model: Any) -> bool:
    """Whether MODEL names (or is) a PyTorch model rather than a spec."""
    return not isinstance(model, (str, Path)) or model_reference(str(model)) is not None


def load_graph(model: Any, params: dict | None = None, input_shape: Shape | None = None) -> Graph:
    """The graph of a zoo name, spec path or PyTorch model, at `input_shape` when given."""
    if is_pytorch(model):
        from .spec.load import build_graph

        return build_graph(imported_spec(model, params, input_shape), _source(model), {})
    from .spec.zoo import load_model

    graph = load_model(str(model), params)
    return graph.with_input(input_shape) if input_shape else graph


def imported_spec(model: Any, params: dict | None, input_shape: Shape | None) -> dict:
    """A PyTorch model traced (torch.fx, meta tensors) into spec data; its default input when it has one."""
    from .verify import require_torch

    require_torch()
    from .verify.importer import to_spec
    from .verify.libraries import load_module

    if isinstance(model, (str, Path)):
        module, name, default_input = load_module(str(model), params or {})
    else:
        module, name, default_input = model, type(model).__name__, None
    shape = input_shape or default_input
    if shape is None:
        raise SpecError(f"{name}: reading a PyTorch model needs --input, e.g. --input 3x224x224 "
                        "(input_size=(3, 224, 224) in Python)", _source(model))
    return to_spec(module, name, tuple(shape), _source(model))


def _source(model: Any) -> str:
    if not isinstance(model, (str, Path)):
        return f"<{type(model).__name__} object>"
    reference = model_reference(str(model))
    return reference.source if reference and not reference.in_library else str(model)
