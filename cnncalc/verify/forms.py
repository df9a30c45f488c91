"""What each PyTorch module, function and tensor method is in cnncalc: read from the forms every
kind declares in its registration."""
from __future__ import annotations

from typing import Any

from torch import nn

from ..layers import REGISTRY
from .build import resolve


def _read_forms() -> tuple[dict, dict, dict]:
    """Module class → (kind, attribute of each argument), and function and method name → the
    (kind, Call) pairs it may be, from the registry; other libraries' forms only where installed."""
    modules, functions, methods = {}, {}, {}
    for name, kind in REGISTRY.items():
        modules.setdefault(resolve(kind.torch.module), (name, {}))
        for alias in kind.torch.aliases:
            found = _installed(alias.path)
            if found is not None:
                modules.setdefault(found, (name, dict(alias.attributes)))
        for call in kind.torch.functions:
            found = _installed(call.path)
            if found is not None:
                functions.setdefault(found, []).append((name, call))
        for call in kind.torch.methods:
            methods.setdefault(call.path, []).append((name, call))
    return modules, functions, methods


def _installed(path: str) -> Any:
    """What a dotted path names, or None when its library is not installed."""
    try:
        return resolve(path)
    except ImportError:
        return None


def mapped(module: nn.Module) -> tuple[str, dict] | None:
    """The kind of a module: its class's, or its nearest mapped parent's when it keeps the parent's
    forward (torchvision's Conv3DSimple is a Conv3d)."""
    for cls in type(module).__mro__:
        if cls in MODULES:
            return MODULES[cls] if type(module).forward is cls.forward else None
    return None


MODULES, FUNCTIONS, METHODS = _read_forms()
