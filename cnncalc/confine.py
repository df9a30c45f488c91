"""Confining the child process that runs the user's Python (isolation.py) before its code runs.

- memory: RLIMIT_AS at `--limit python_bytes` (past it, allocation fails with MemoryError);
- files: RLIMIT_FSIZE of 0, so no byte can be written to any file, and on Linux 5.13 or later
  Landlock, so no file or folder can be created, written, truncated, renamed or removed anywhere;
- signals: on Linux 6.12 or later Landlock's signal scope, so no process outside the child (the
  cnncalc that started it) can be signalled; the child runs in a session of its own, so killing
  its group reaches no other process;
- time: the parent's wall clock (`--limit python_seconds`) kills the child's whole group.

Each is applied where the system offers it; `confined()` says which hold here.
"""
from __future__ import annotations

import ctypes
import os
import resource
import signal
import sys

# <linux/landlock.h>
_CREATE_RULESET, _RESTRICT_SELF = 444, 446  # the same number on every architecture
_VERSION = 1 << 0  # landlock_create_ruleset's flag: the ABI version
_WRITE_FILE, _REMOVE_DIR, _REMOVE_FILE = 1 << 1, 1 << 4, 1 << 5
_MAKE = (1 << 6) | (1 << 7) | (1 << 8) | (1 << 9) | (1 << 10) | (1 << 11) | (1 << 12)  # char, dir, reg, sock, fifo, block, sym
_REFER, _TRUNCATE = 1 << 13, 1 << 14  # ABI 2, ABI 3
_SCOPE_ABSTRACT_UNIX_SOCKET, _SCOPE_SIGNAL = 1 << 0, 1 << 1  # ABI 6
_PR_SET_NO_NEW_PRIVS = 38


class _Ruleset(ctypes.Structure):
    _fields_ = [("handled_access_fs", ctypes.c_uint64), ("handled_access_net", ctypes.c_uint64),
                ("scoped", ctypes.c_uint64)]


def landlock_abi() -> int:
    """The Landlock ABI this kernel offers; 0 where it has none (or this is not Linux)."""
    if not sys.platform.startswith("linux"):
        return 0
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return max(0, libc.syscall(_CREATE_RULESET, None, ctypes.c_size_t(0), ctypes.c_uint32(_VERSION)))
    except (OSError, AttributeError):
        return 0


def confined() -> dict[str, bool]:
    """What holds for the child here: no file written, no process outside it signalled."""
    abi = landlock_abi()
    return {"files": abi >= 1, "signals": abi >= 6}


def confine(memory_bytes: int) -> int:
    """Confine this process (the child) for good: its memory, its files, its signals. Gives the memory
    limit that holds (less than asked where this process was started under a lower one)."""
    memory = _limit(resource.RLIMIT_AS, memory_bytes)
    _limit(resource.RLIMIT_FSIZE, 0)
    _limit(resource.RLIMIT_CORE, 0)
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past RLIMIT_FSIZE: an OSError in the code, no kill
    _landlock()
    return memory


def _limit(which: int, value: int) -> int:
    """Soft and hard limit at `value` (the code cannot raise it again), or at the hard limit if lower."""
    _, hard = resource.getrlimit(which)
    value = value if hard == resource.RLIM_INFINITY else min(value, hard)
    try:
        resource.setrlimit(which, (value, value))
    except (ValueError, OSError):
        resource.setrlimit(which, (value, hard))
    return value


def _landlock() -> None:
    abi = landlock_abi()
    if abi < 1:
        return
    libc = ctypes.CDLL(None, use_errno=True)
    access = _WRITE_FILE | _REMOVE_DIR | _REMOVE_FILE | _MAKE | (_REFER if abi >= 2 else 0) \
        | (_TRUNCATE if abi >= 3 else 0)
    ruleset = _Ruleset(handled_access_fs=access, handled_access_net=0,
                       scoped=_SCOPE_SIGNAL | _SCOPE_ABSTRACT_UNIX_SOCKET if abi >= 6 else 0)
    size = 8 if abi < 4 else 16 if abi < 6 else 24  # the struct as this ABI knows it
    descriptor = libc.syscall(_CREATE_RULESET, ctypes.byref(ruleset), ctypes.c_size_t(size), ctypes.c_uint32(0))
    if descriptor < 0:
        return
    try:
        # no rule grants any of the handled rights: none of them holds anywhere
        if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0:
            libc.syscall(_RESTRICT_SELF, descriptor, ctypes.c_uint32(0))
    finally:
        os.close(descriptor)
