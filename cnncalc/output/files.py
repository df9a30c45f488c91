"""Writing what a command produces, as a shell redirect would, without ever leaving half a file.

A regular file (or a missing one) is replaced atomically: the text goes to a temporary file made by
mkstemp beside it, which then takes its place with the mode a redirect would give (the old file's,
or 0666 less the umask). A FIFO, a device or a terminal (/dev/stdout, /dev/null) is written through,
as `>` does; a folder, a missing folder or a refused write is a one-line error.
"""
from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

from ..errors import SpecError


def write_text(text: str, path: Path, follow_links: bool = True) -> None:
    """Write `text` to `path`. With follow_links False (lock files beside a spec) whatever is at the
    path, a symbolic link or a FIFO included, is replaced by the file: nothing planted there can
    redirect the write elsewhere or make it wait."""
    try:
        info = os.stat(path, follow_symlinks=follow_links)
    except FileNotFoundError:
        info = None
    except OSError as error:
        raise SpecError(f"cannot write: {error.strerror.lower()}", str(path)) from None
    if info is not None and stat.S_ISDIR(info.st_mode):
        raise SpecError("cannot write: it is a folder", str(path))
    # a FIFO, a device, or /dev/stdout and its kin (links into /proc naming whatever the shell opened)
    system = Path(os.path.abspath(path)).parts[1:2] in (("dev",), ("proc",))
    if follow_links and info is not None and (system or not stat.S_ISREG(info.st_mode)):
        _write_through(text, path)
        return
    target = Path(os.path.realpath(path)) if follow_links else path
    _replace(text, target, path, info.st_mode & 0o7777 if info and stat.S_ISREG(info.st_mode) else None)


def _write_through(text: str, path: Path) -> None:
    try:
        with open(path, "w", encoding="utf-8") as file:
            file.write(text)
    except OSError as error:
        raise SpecError(f"cannot write: {error.strerror.lower()}", str(path)) from None


def _replace(text: str, target: Path, shown: Path, mode: int | None) -> None:
    folder = target.parent
    if not folder.is_dir():
        raise SpecError(f"cannot write: no folder {folder}", str(shown))
    try:
        handle, temporary = tempfile.mkstemp(dir=folder, prefix=f".{target.name}.", suffix=".tmp")
    except OSError as error:
        raise SpecError(f"cannot write: {error.strerror.lower()}", str(shown)) from None
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(text)
        os.chmod(temporary, mode if mode is not None else 0o666 & ~_umask())
        os.replace(temporary, target)
    except OSError as error:
        os.unlink(temporary)
        raise SpecError(f"cannot write: {error.strerror.lower()}", str(shown)) from None
    except BaseException:
        os.unlink(temporary)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
