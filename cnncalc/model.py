"""A model as a user names it → its Graph. A zoo name or a spec path is read without torch; a
PyTorch model (path/model.py:Class, torchvision:NAME, timm:NAME, or an nn.Module object) is traced
by the importer, which is the only part that imports torch."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from .errors import SpecError
from .graph import Graph, Shape

LIBRARIES = ("torchvision:", "timm:")  # built with no weights: nothing is downloaded


def is_pytorch(model: Any) -> bool:
    """Whether MODEL names (or is) a PyTorch model rather than a spec."""
    return not isinstance(model, (str, Path)) or ".py:" in str(model) or str(model).startswith(LIBRARIES)


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
    if isinstance(model, (str, Path)):
        text = str(model)
        return text if text.startswith(LIBRARIES) else text.partition(":")[0]
    return f"<{type(model).__name__} object>"
