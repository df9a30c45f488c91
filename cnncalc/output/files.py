"""Writing what a command produces, as a shell redirect would, without ever leaving half a file. Every
command that writes a file (-o, sweep --plot, lock) writes through `write_file`.

A regular file (or a missing one) is replaced atomically: the bytes go to a temporary file with a
short random name (so a 255-byte target name still has room) made by mkstemp in the target's folder,
are synced to disk, and the file then takes the target's place with the mode a redirect would give (the
old file's, or 0666 less the umask). A read-only target is refused, as `>` refuses it. On any error,
on Ctrl-C and on SIGTERM or SIGHUP the temporary file is removed and the old file stays whole. A FIFO,
a device or a terminal (/dev/stdout, /dev/null) is written through, as `>` does; a folder, a missing
folder or a refused write is a one-line error.
"""
from __future__ import annotations

import os
import signal
import stat
import tempfile
import threading
from contextlib import contextmanager
from pathlib import Path

from ..errors import SpecError

TEMPORARY_PREFIX = ".cnncalc-"  # then mkstemp's 8 random characters and .tmp: 21 bytes in all


def write_file(data: str | bytes, path: Path, follow_links: bool = True) -> None:
    """Write `data` (text as UTF-8) to `path`. With follow_links False (lock files beside a spec)
    whatever is at the path, a symbolic link or a FIFO included, is replaced by the file: nothing
    planted there can redirect the write elsewhere or make it wait."""
    data = data.encode("utf-8") if isinstance(data, str) else data
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
        _write_through(data, path)
        return
    if info is not None and stat.S_ISREG(info.st_mode) and _read_only(path, info):
        raise SpecError("cannot write: the file is read-only", str(path))
    target = Path(os.path.realpath(path)) if follow_links else path
    _replace(data, target, path, info.st_mode & 0o7777 if info and stat.S_ISREG(info.st_mode) else None)


def _read_only(path: Path, info: os.stat_result) -> bool:
    """No write permission for us, or none for anyone (which root, whom permissions do not bind, keeps too)."""
    return not info.st_mode & 0o222 or not os.access(path, os.W_OK)


def _write_through(data: bytes, path: Path) -> None:
    try:
        with open(path, "wb") as file:
            file.write(data)
    except OSError as error:
        raise SpecError(f"cannot write: {error.strerror.lower()}", str(path)) from None


def _replace(data: bytes, target: Path, shown: Path, mode: int | None) -> None:
    folder = target.parent
    if not folder.is_dir():
        raise SpecError(f"cannot write: no folder {folder}", str(shown))
    with _signals_end_the_write():
        try:
            handle, temporary = tempfile.mkstemp(dir=folder, prefix=TEMPORARY_PREFIX, suffix=".tmp")
        except OSError as error:
            raise SpecError(f"cannot write: {error.strerror.lower()}", str(shown)) from None
        try:
            with os.fdopen(handle, "wb") as file:
                file.write(data)
                file.flush()
                os.fsync(file.fileno())  # on disk before it replaces the old file
            os.chmod(temporary, mode if mode is not None else 0o666 & ~_umask())
            os.replace(temporary, target)
        except OSError as error:
            os.unlink(temporary)
            raise SpecError(f"cannot write: {error.strerror.lower()}", str(shown)) from None
        except BaseException:  # Ctrl-C, a signal below, anything: the old file stays, the temporary goes
            os.unlink(temporary)
            raise


ENDING = (signal.SIGTERM, signal.SIGHUP)


@contextmanager
def _signals_end_the_write():
    """While a temporary file exists, SIGTERM and SIGHUP end the process as Ctrl-C does, by an
    exception, so that the temporary file is removed on the way out (the exit code is 128 + signal,
    as the shell reports a process the signal ended). A signal ignored (nohup) or handled by the
    program cnncalc runs in keeps its handler."""
    if threading.current_thread() is not threading.main_thread():  # only the main thread sets handlers
        yield
        return

    def end(number, _frame):
        raise SystemExit(128 + number)

    before = {number: signal.getsignal(number) for number in ENDING}
    for number, handler in before.items():
        if handler == signal.SIG_DFL:
            signal.signal(number, end)
    try:
        yield
    finally:
        for number, handler in before.items():
            signal.signal(number, handler)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
