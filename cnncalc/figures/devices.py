"""A memory budget as `cnncalc fit --memory` reads it: bytes with their unit, or a GPU by name."""
from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction

from ..errors import SpecError, did_you_mean

MIB = 1 << 20


@dataclass(frozen=True, kw_only=True)
class Device:
    """A GPU and its memory: the total nvidia-smi reports (MiB) where a source shows it."""
    label: str
    mib: int
    source: str


# nvidia-smi's total (memory.total, in MiB), which NVML also reports in bytes. NVIDIA's "80GB" is
# neither 80 GB nor 80 GiB: an H100 80GB reports 81,559 MiB (79.6 GiB, 85.5 GB), an A100 80GB
# 81,920 MiB. torch's total_memory (cudaDeviceProp.totalGlobalMem) is a little less (an A100 40GB:
# 40,339 MiB against nvidia-smi's 40,960), and the CUDA context takes a few hundred MiB more: leave
# headroom, or give the bytes torch.cuda.mem_get_info() reports free.
MODAL = "nvidia-smi totals listed in modal-labs/modal-client#2797"
DEVICES = {
    "t4": Device(label="NVIDIA T4 16GB", mib=15_360, source=MODAL),
    "l4": Device(label="NVIDIA L4 24GB", mib=23_034, source=MODAL),
    # NVML's total 24,146,608,128 B in mayooot/detect-gpu#3 is the same 23,028 MiB
    "a10": Device(label="NVIDIA A10 24GB", mib=23_028, source=MODAL),
    "a100-40gb": Device(label="NVIDIA A100 40GB (SXM4)", mib=40_960, source=MODAL),
    "a100-80gb": Device(label="NVIDIA A100 80GB", mib=81_920, source=MODAL),
    "h100": Device(label="NVIDIA H100 80GB HBM3", mib=81_559,
                   source=f"{MODAL}; the same on this project's lent H100 (device KINDS.md, 2026-11-13)"),
    "h200": Device(label="NVIDIA H200 141GB", mib=143_771,
                   source="nvidia-smi on this project's lent H200 (device KINDS.md, 2026-10-27)"),
    "rtx3090": Device(label="NVIDIA GeForce RTX 3090 24GB", mib=24_576,
                      source="nvidia-smi in noonghunna/club-3090#1127"),
    "rtx4090": Device(label="NVIDIA GeForce RTX 4090 24GB", mib=24_564, source="nvidia-smi in RLinf/RLinf#255"),
    # no nvidia-smi total at hand: NVIDIA's datasheet figure, read as binary (HBM2 stacks are 4 or 8 GiB)
    "v100-16gb": Device(label="NVIDIA V100 16GB", mib=16 * 1024, source="NVIDIA V100 datasheet: 16 GB HBM2"),
    "v100-32gb": Device(label="NVIDIA V100 32GB", mib=32 * 1024, source="NVIDIA V100 datasheet: 32 GB HBM2"),
}
# a family name that fits more than one card is refused with the choices
AMBIGUOUS = {"a100": ("a100-40gb", "a100-80gb"), "v100": ("v100-16gb", "v100-32gb")}

UNITS = {"b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12,
         "kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30, "tib": 1 << 40}
_AMOUNT = re.compile(r"^([0-9]+(?:\.[0-9]+)?)\s*([a-z]*)$", re.I)


@dataclass(frozen=True, kw_only=True)
class Budget:
    """Bytes to fit in, and how the user named them (24GiB, or a device's label)."""
    bytes: int
    label: str
    note: str = ""


def memory_budget(text: str) -> Budget:
    """24GiB (binary), 24GB (decimal), 25769803776B, or a device name (h100, a100-80gb, t4...).
    A bare number or a lone prefix (24, 24G) could mean either: refused. Exact: no float."""
    key = str(text).strip().lower()
    if key in DEVICES:
        device = DEVICES[key]
        return Budget(bytes=device.mib * MIB, label=f"{device.label}: {device.mib:,} MiB",
                      note="the whole card as nvidia-smi reports it: the CUDA context and allocator take "
                           "some, so leave headroom or give the free bytes")
    if key in AMBIGUOUS:
        raise SpecError(f"--memory {text}: which one? {' or '.join(AMBIGUOUS[key])}")
    match = _AMOUNT.match(key)
    if not match:
        raise SpecError(f"--memory takes an amount like 24GiB or 24GB, or a GPU ({', '.join(DEVICES)}), "
                        f"got '{str(text)[:40]}'{did_you_mean(key, DEVICES)}")
    number, unit = match.groups()
    if unit not in UNITS:
        prefix = unit[:1] if unit[:1] in "kmgt" else ""
        hint = (f"{number}{prefix.upper()}iB or {number}{prefix.upper()}B" if prefix
                else f"{number}GiB, {number}GB or {number}B")
        raise SpecError(f"--memory {str(text)[:40]}: say which unit: {hint} (GiB = 1024³ bytes, GB = 1000³)")
    amount = Fraction(number) * UNITS[unit]
    if amount < 1:
        raise SpecError(f"--memory must be at least one byte, got '{str(text)[:40]}'")
    return Budget(bytes=int(amount), label=f"{number} {_spelled(unit)}")


def _spelled(unit: str) -> str:
    return "B" if unit == "b" else unit[0].upper() + unit[1:-1] + "B"
