"""The one error type for bad input: it knows the file, line and layer it is about."""
from __future__ import annotations

import difflib


class SpecError(Exception):
    """Invalid spec or arguments; the CLI prints it as one line and exits 2."""

    def __init__(self, message: str, file: str | None = None, line: int | None = None,
                 layer: str | None = None):
        super().__init__(message)
        self.message, self.file, self.line, self.layer = message, file, line, layer

    def __str__(self) -> str:
        where = ":".join(str(p) for p in (self.file, self.line) if p is not None)
        layer = f"layer '{self.layer}': " if self.layer else ""
        return f"{where + ': ' if where else ''}{layer}{self.message}"


class LayerError(ValueError):
    """Raised by calculators and argument checks; located into a SpecError by the caller."""


def did_you_mean(name: object, options) -> str:
    """A hint naming the closest option to a misspelt name, or nothing."""
    close = difflib.get_close_matches(str(name), [str(o) for o in options], n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""
