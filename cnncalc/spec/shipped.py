"""Where the zoo's spec files are: part of cnncalc, so its own Python specs run in its process."""
from __future__ import annotations

from pathlib import Path


def zoo_dir() -> Path:
    """specs/ as installed inside the package, or beside it in a source checkout."""
    package = Path(__file__).resolve().parent.parent
    for candidate in (package / "specs", package.parent / "specs"):
        if candidate.is_dir():
            return candidate
    return package / "specs"
