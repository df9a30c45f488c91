"""What each PyTorch module, function and tensor method is in cnncalc: read from the forms every
kind declares in its registration."""
from __future__ import annotations

import importlib
import sys
from itertools import compress
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Callable

from torch import nn

from ..layers import REGISTRY
from ..layers.registry import FLOATS, LayerError


@dataclass(frozen=True)
class Forms:
    modules: dict    # module class → (kind, attribute of each argument)
    functions: dict  # function → the (kind, Call) pairs it may be
    methods: dict    # tensor method name → the (kind, Call) pairs it may be
    called_with: dict  # module class → the arguments each call passes its forward(), by position
    kinds: dict = field(default_factory=dict)  # (module class, its forward) → what mapped() says, asked at every call


def resolve(path: str):
    """The object a dotted path names: `torch.nn.Conv2d`, `operator.add`, or an attribute of one
    (`torch.ops.torchvision.nms`, an op torchvision registers when imported)."""
    module, _, name = path.rpartition(".")
    if module.startswith("torch.ops."):
        return getattr(resolve(module), name)
    return getattr(importlib.import_module(module), name)


def forms() -> Forms:
    """The forms of torch and of the libraries imported so far: a model can only hold modules and call
    functions of libraries already imported, and importing timm to look for its DropPath would cost
    a model of torchvision's half a second. Asked thousands of times a read: looked for again only
    once a module has been imported since."""
    imported = len(sys.modules)
    if _LATEST[0] != imported:
        _LATEST[:] = [imported, _forms_of(tuple(map(sys.modules.__contains__, LIBRARIES)))]
    return _LATEST[1]


_LATEST: list = [0, None]  # how many modules were imported when forms() last looked, and what it found


def _library(path: str) -> str:
    """The library whose import makes a path exist: torchvision for `torch.ops.torchvision.nms`."""
    parts = path.split(".")
    return parts[2] if parts[:2] == ["torch", "ops"] else parts[0]


LIBRARIES = tuple(sorted({_library(path) for kind in REGISTRY.values()
                          for path in [alias.path for alias in kind.torch.aliases] + [c.path for c in kind.torch.functions]}))


@lru_cache(maxsize=None)
def _forms_of(imported: tuple[bool, ...]) -> Forms:
    """The forms of the LIBRARIES imported, by whether each is."""
    return _read_forms(frozenset(compress(LIBRARIES, imported)))


@lru_cache(maxsize=None)
def _read_forms(libraries: frozenset) -> Forms:
    modules, functions, methods, called_with = {}, {}, {}, {}
    for name, kind in REGISTRY.items():
        modules.setdefault(resolve(kind.torch.module), (name, {}))
        for alias in kind.torch.aliases:
            found = _installed(alias.path, libraries)
            if found is not None:
                modules.setdefault(found, (name, dict(alias.attributes)))
                called_with.setdefault(found, alias.called_with)
        for call in kind.torch.functions:
            found = _installed(call.path, libraries)
            if found is not None:
                functions.setdefault(found, []).append((name, call))
        for call in kind.torch.methods:
            methods.setdefault(call.path, []).append((name, call))
    return Forms(modules=modules, functions=functions, methods=methods, called_with=called_with)


def _installed(path: str, libraries: frozenset) -> Any:
    """What a dotted path names, or None when its library is not imported (or not installed)."""
    if _library(path) not in libraries:
        return None
    try:
        return resolve(path)
    except (ImportError, AttributeError):  # a library too old to have it
        return None


def mapped(module: nn.Module) -> tuple[str, dict] | None:
    """The kind of a module: its class's, or its nearest mapped parent's when it keeps the parent's
    forward (torchvision's Conv3DSimple is a Conv3d)."""
    found, key = forms(), (type(module), type(module).forward)  # a forward() patched since: asked again
    try:
        return found.kinds[key]
    except KeyError:
        found.kinds[key] = _kind_of(type(module), found.modules)
        return found.kinds[key]


def calls_of(node) -> tuple | list:
    """The (kind, Call) pairs a function or method step may be, by the forms kinds declare; none for
    any other step."""
    found = forms()
    table = found.functions if node.op == "call_function" else found.methods if node.op == "call_method" else None
    return () if table is None else table.get(node.target, ())


def multiplies(node) -> bool:
    """A call whose kind counts multiply-adds: made of constants alone (an einsum of a position table and its
    lookup), or read by nothing (MiniMax's attention state for a cache it is not given), it is still work torch
    runs in every forward pass, so a layer."""
    return any(REGISTRY[kind].kin.multiplies for kind, _ in calls_of(node))


def _kind_of(module_class: type, known: dict) -> tuple[str, dict] | None:
    for cls in module_class.__mro__:
        if cls in known:
            return known[cls] if module_class.forward is cls.forward else None
    return None


def call_arguments(module: nn.Module, args: tuple, kwargs: dict, floating: Callable[[Any], bool]) -> dict:
    """The arguments of the kind a call of a mapped module passes its forward() (need_weights=False),
    those it passes only; a tensor or None where the kind takes a flag (attn_mask): the flag, or "float" where
    the tensor holds floats (`floating`) and the flag tells such a tensor apart (a float mask)."""
    known = forms().called_with.get(type(module), ())
    given = {name: kwargs[name] if name in kwargs else args[position]
             for name, position in known if name in kwargs or position < len(args)}
    taken = {arg.name: arg for arg in REGISTRY[mapped(module)[0]].args} if given else {}
    return {name: FLOATS if value is not None and floating(value) and _tells_floats(taken[name])
            else _as_taken(taken[name], value) for name, value in given.items()}


def _tells_floats(arg) -> bool:
    try:
        return arg.check(FLOATS, 0) == FLOATS
    except LayerError:
        return False


def module_arguments(module: nn.Module) -> tuple[str, dict] | None:
    """A mapped module's kind and the arguments it was built with, as it holds them (tuples stay
    tuples; a Parameter or None where the kind takes a flag, bias: the flag)."""
    found = mapped(module)
    if found is None:
        return None
    kind, attributes = found
    return kind, {arg.name: _as_taken(arg, getattr(module, attributes.get(arg.name, arg.name), arg.default))
                  for arg in REGISTRY[kind].args}


def _as_taken(arg, value):
    """A module's or its call's value as the kind's argument takes it: for a flag, a tensor or None as
    whether one is given (bias, attn_mask)."""
    return value is not None if isinstance(arg.default, bool) and not isinstance(value, bool) else value
