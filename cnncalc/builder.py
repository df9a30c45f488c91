"""The torch-free builder for Python specs: `Conv2d(64, 3, padding=1)` and friends.

Each function returns the same data a YAML layer entry holds (with the calling line), so Python and
YAML specs go through one expander and produce identical graphs. Constructors are generated from the
layer registry: positional arguments follow PyTorch's order, minus the one inferred from the input.
"""
from __future__ import annotations

import sys
from typing import Any

from .layers import REGISTRY
from .spec.yamlfile import LineDict

__all__ = ["Spec", "Sequential", "Block", "Residual"]


# a builder keyword → its spec entry key; every other keyword is a layer argument
_META = {"name": "name", "from_": "from", "repeat": "repeat", "index": "index", "when": "when",
         "frozen": "frozen", "functional": "functional"}


def _entry(kind: str, value: Any, meta: dict, depth: int = 2) -> LineDict:
    entry = LineDict({kind: value})
    entry.line = sys._getframe(depth).f_lineno
    for key, item in meta.items():
        if item is not None:
            entry[_META.get(key, key)] = item
    return entry


def _constructor(kind: str):
    names = [arg.name for arg in REGISTRY[kind].args]

    def build(*args, **keywords):
        """Keywords are the layer's arguments, or name/from_/repeat/index/when/frozen/functional."""
        if len(args) > len(names):
            raise TypeError(f"{kind} takes at most {len(names)} positional arguments ({', '.join(names)})")
        given, meta = dict(zip(names, args)), {}
        for key, value in keywords.items():
            (meta if key in _META else given)[key] = value
        return _entry(kind, given or None, meta)
    build.__name__ = build.__qualname__ = REGISTRY[kind].torch_name or kind.capitalize()
    build.__doc__ = f"A `{kind}` layer: {', '.join(names) or 'no arguments'}."
    return build


for _kind in REGISTRY:
    _function = _constructor(_kind)
    globals()[_function.__name__] = _function
    __all__.append(_function.__name__)


def Sequential(*layers, name=None, from_=None, repeat=None, index=None, when=None, frozen=None,
               label=None) -> LineDict:
    """A group of layers; named it is a scope (`name.0.conv2d`), unnamed it splices in place."""
    return _entry("sequential", list(_flat(layers)),
                  dict(name=name, from_=from_, repeat=repeat, index=index, when=when, frozen=frozen,
                       label=label))


def Block(label: str, *layers, name=None, from_=None, frozen=None) -> LineDict:
    """A named kind of group, shown as `[label]` in tables: the Python form of a YAML block."""
    return _entry("sequential", list(_flat(layers)), dict(name=name, from_=from_, frozen=frozen,
                                                           label=label))


def Residual(*body, shortcut=(), post=(), name=None, label="residual", out="out") -> LineDict:
    """body(x) + shortcut(x) (the identity when no shortcut is given), then `post` layers.

    The shortcut is a group called `downsample` (torchvision's word) fed from the block input; the
    body's last layer is named `out` unless it has a name already.
    """
    body = list(_flat(body))
    last = body[-1]
    if "name" not in last:
        last = LineDict(last, name=out)
        last.line = body[-1].line
        body[-1] = last
    joined = [*body]
    if shortcut:
        joined.append(_entry("sequential", list(_flat(shortcut)), dict(name="downsample", from_="input")))
    joined.append(_entry(*("add", None, dict(from_=[last["name"], "downsample" if shortcut else "input"]))))
    return _entry("sequential", joined + list(_flat(post)), dict(name=name, label=label))


def Spec(input, layers, name=None, description=None) -> dict:
    """The whole spec: per-sample input shape and the layers."""
    spec = {"input": list(input), "layers": list(_flat(layers))}
    if name:
        spec["name"] = name
    if description:
        spec["description"] = description
    return spec


def _flat(items):
    """Layers may come as nested lists (a block function returning a list); None, False and 0 are
    skipped, so `condition and [layers]` reads naturally."""
    for item in items:
        if isinstance(item, (list, tuple)):
            yield from _flat(item)
        elif item or isinstance(item, str):
            yield item
