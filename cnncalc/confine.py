"""Confining the child process that runs the user's Python (isolation.py) before its code runs.

- memory: RLIMIT_AS at `--limit python_bytes` (past it, allocation fails with MemoryError);
- files: RLIMIT_FSIZE of 0, so no byte can be written to any file, and on Linux 5.13 or later
  Landlock, so no file or folder can be created, written, truncated, renamed or removed anywhere;
- signals: on Linux 6.12 or later Landlock's signal scope, and on x86_64 and aarch64 Linux a seccomp
  filter, so no process outside the child (the cnncalc that started it) can be signalled, traced or
  written into; the child runs in a session of its own, so killing its group reaches no other
  process;
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
    return {"files": abi >= 1, "signals": abi >= 6 or _seccomp_arch() is not None}


def confine(memory_bytes: int) -> int:
    """Confine this process (the child) for good: its memory, its files, its signals. Gives the memory
    limit that holds (less than asked where this process was started under a lower one)."""
    memory = _limit(resource.RLIMIT_AS, memory_bytes)
    _limit(resource.RLIMIT_FSIZE, 0)
    _limit(resource.RLIMIT_CORE, 0)
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past RLIMIT_FSIZE: an OSError in the code, no kill
    _landlock()
    _seccomp()
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


# ---- signals, where Landlock cannot scope them: a seccomp filter ------------------------------------

# <linux/audit.h>, <asm/unistd.h>: the architecture, and the numbers of the calls that send a signal
# (kill, tkill, tgkill, rt_sigqueueinfo, rt_tgsigqueueinfo, pidfd_send_signal) or reach into another
# process (ptrace, process_vm_writev)
_ARCHES = {
    "x86_64": (0xC000003E, {"kill": 62, "tkill": 200, "tgkill": 234, "rt_sigqueueinfo": 129,
                            "rt_tgsigqueueinfo": 297, "pidfd_send_signal": 424, "ptrace": 101,
                            "process_vm_writev": 311}),
    "aarch64": (0xC00000B7, {"kill": 129, "tkill": 130, "tgkill": 131, "rt_sigqueueinfo": 138,
                             "rt_tgsigqueueinfo": 240, "pidfd_send_signal": 424, "ptrace": 117,
                             "process_vm_writev": 271}),
}
_X32 = 0x40000000  # x86_64's x32 calls: numbered apart, refused whole
_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER = 22, 2
_ALLOW, _EPERM = 0x7FFF0000, 0x00050000 | 1
_LD, _JEQ, _JGE, _RET = 0x20, 0x15, 0x35, 0x06  # BPF_LD|W|ABS, BPF_JMP|JEQ|K, BPF_JMP|JGE|K, BPF_RET|K


class _Instruction(ctypes.Structure):
    _fields_ = [("code", ctypes.c_uint16), ("jt", ctypes.c_uint8), ("jf", ctypes.c_uint8), ("k", ctypes.c_uint32)]


class _Program(ctypes.Structure):
    _fields_ = [("len", ctypes.c_uint16), ("filter", ctypes.POINTER(_Instruction))]


def _seccomp_arch():
    import platform

    return _ARCHES.get(platform.machine()) if sys.platform.startswith("linux") else None


def _seccomp() -> None:
    """A signal only to this process itself (kill or tgkill of its own pid: Python's own signals), none
    to another; no ptrace, no writing into another process's memory. Refused calls fail with EPERM."""
    arch = _seccomp_arch()
    if arch is None:
        return
    audit, numbers = arch
    own = os.getpid()
    program = [
        (_LD, 0, 0, 4),                      # the call's architecture
        (_JEQ, 1, 0, audit),
        (_RET, 0, 0, _EPERM),                # another's (a 32-bit call on a 64-bit kernel): refused
        (_LD, 0, 0, 0),                      # the call's number
        (_JGE, 0, 1, _X32) if audit == 0xC000003E else (_JEQ, 0, 1, 0xFFFFFFFF),
        (_RET, 0, 0, _EPERM),
    ]
    for name in ("tkill", "pidfd_send_signal", "ptrace", "process_vm_writev"):
        program += [(_JEQ, 0, 1, numbers[name]), (_RET, 0, 0, _EPERM)]
    # kill(pid, ...), tgkill(tgid, ...), rt_[tg]sigqueueinfo(tgid, ...): allowed to this process alone
    own_only = ("kill", "tgkill", "rt_sigqueueinfo", "rt_tgsigqueueinfo")
    for index, name in enumerate(own_only):
        program.append((_JEQ, len(own_only) - index, 0, numbers[name]))
    program.append((_RET, 0, 0, _ALLOW))
    program += [
        (_LD, 0, 0, 16),                     # the first argument's low half (little-endian)
        (_JEQ, 0, 3, own),
        (_LD, 0, 0, 20),                     # and its high half: 0 for a pid (-1 is all ones)
        (_JEQ, 0, 1, 0),
        (_RET, 0, 0, _ALLOW),
        (_RET, 0, 0, _EPERM),
    ]
    instructions = (_Instruction * len(program))(*[_Instruction(*each) for each in program])
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0:
        libc.prctl(_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER, ctypes.byref(_Program(len(program), instructions)), 0, 0)
