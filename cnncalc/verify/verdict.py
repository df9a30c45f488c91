"""The verdicts of a verification: each figure cnncalc gave beside what torch or a peer tool measured.

Plain records without torch, so the runner, the torchvision reference and the report share them."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Check:
    layer: str            # a layer's name, or "total"
    figure: str           # output_shape, params, ..., or "<tool> ops"
    expected: Any         # cnncalc
    measured: Any         # torch or the peer tool
    formula: str = ""     # how cnncalc got `expected`, shown when they differ

    @property
    def ok(self) -> bool:
        return self.expected == self.measured


@dataclass(frozen=True)
class Verification:
    model: str
    device: str
    input_shape: tuple[int, ...]
    batch: int
    dtype: str
    peers: tuple[str, ...]
    checks: tuple[Check, ...]
    memory: tuple = field(default=())
    subject: str = "a model built from the spec"  # or "the module itself": what torch ran
    notes: tuple[str, ...] = ()  # what could not be measured, and why (a peer tool failing on the module)

    def __str__(self) -> str:
        from .report import render_table

        return render_table(self)

    @property
    def failed(self) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if not c.ok) + tuple(m for m in self.memory if not m.ok)

    @property
    def count(self) -> int:
        return len(self.checks) + len(self.memory)


TOLERANCE = 0.10


@dataclass(frozen=True)
class MemoryCheck:
    figure: str
    predicted: int
    measured: int

    @property
    def ratio(self) -> float:
        return self.measured / self.predicted if self.predicted else float("inf")

    @property
    def ok(self) -> bool:
        return abs(self.ratio - 1) <= TOLERANCE

    def as_dict(self) -> dict:
        return {"figure": self.figure, "predicted": self.predicted, "measured": self.measured,
                "ratio": round(self.ratio, 4), "ok": self.ok}
