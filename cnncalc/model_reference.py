"""A PyTorch model as the user names it: `torchvision:NAME`, `timm:NAME`, `transformers:TYPE`, `smp:ARCH`,
`diffusers:CLASS`, `ultralytics:CFG.yaml`, `handwritten:NAME` or `path/model.py:Class`."""
from __future__ import annotations

import os
import re
from dataclasses import dataclass

# built with no weights: nothing is downloaded; handwritten: cnncalc's own (importing/handwritten.py)
LIBRARIES = ("torchvision", "timm", "transformers", "smp", "diffusers", "ultralytics", "handwritten")
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
