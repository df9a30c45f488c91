"""Where the user's file builds each layer, so that an error about a layer of `model.py:Net` names its line."""
from __future__ import annotations

import inspect
import re
from functools import lru_cache
from pathlib import Path

from torch import nn


class Sites:
    """Lines of the user's file (none for a library's model): a module layer's is the assignment that
    builds it (`self.fc = nn.Linear(...)`) in the __init__ of the nearest enclosing module whose class the
    file defines; a function's is the `def forward` of the innermost such module it runs in."""

    def __init__(self, root: nn.Module, source: str):
        self.root = root
        self.file = str(Path(source).resolve()) if source.endswith(".py") and Path(source).is_file() else None

    def built(self, path: str) -> int | None:
        if self.file is None:  # a library's model: no line of the user's to name
            return None
        parts = path.split(".")
        for depth in range(len(parts) - 1, -1, -1):
            init = type(self.root.get_submodule(".".join(parts[:depth]))).__init__
            if self._ours(init):
                return _assignment(init, parts[depth])
        return None

    def called(self, path: str) -> int | None:
        if self.file is None:
            return None
        parts = path.split(".") if path else []
        for depth in range(len(parts), -1, -1):
            forward = type(self.root.get_submodule(".".join(parts[:depth]))).forward
            if self._ours(forward):
                return forward.__code__.co_firstlineno
        return None

    def _ours(self, function) -> bool:
        code = getattr(function, "__code__", None)
        return self.file is not None and code is not None and _resolved(code.co_filename) == self.file


@lru_cache(maxsize=64)
def _resolved(filename: str) -> str:
    return str(Path(filename).resolve())


@lru_cache(maxsize=256)
def _assignment(init, attribute: str) -> int:
    """The line of `self.<attribute> = ...` in an __init__, else the __init__'s own (once per class and
    attribute: a model repeats its blocks)."""
    try:
        lines, start = inspect.getsourcelines(init)
    except (OSError, TypeError):
        return init.__code__.co_firstlineno
    pattern = re.compile(rf"\bself\.{re.escape(attribute)}\s*(:[^=]+)?=(?!=)")
    return next((start + index for index, text in enumerate(lines) if pattern.search(text)), start)
