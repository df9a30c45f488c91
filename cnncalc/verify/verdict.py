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
    # what could not be measured, and why (a peer tool failing on the module); beside a memory check
    # that failed, why the report calls its memory an estimate
    notes: tuple[str, ...] = ()

    def __str__(self) -> str:
        from .report import render_table

        return render_table(self)

    @property
    def failed(self) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if not c.ok) + tuple(m for m in self.memory if not m.ok)

    @property
    def count(self) -> int:
        return len(self.checks) + len(self.memory)

    @property
    def exit_status(self) -> int:
        """1 when a figure differs from what torch or a peer tool measured, else 0."""
        return 1 if self.failed else 0


@dataclass(frozen=True, kw_only=True)
class Admission:
    """Whether `verify` runs a model with operations cnncalc does not count (its figures are then lower
    bounds): not unless they are allowed, and nothing is verified; allowed, every figure but memory is,
    since the model built from the spec stands in zeros for what cnncalc does not know."""
    model: str
    uncounted: tuple[str, ...] = ()  # the layers no kind states, in the graph's order
    allowed: bool = False            # --allow-uncounted

    @property
    def exit_status(self) -> int:
        """1 when verify stops before it runs (an uncounted operation, not allowed), else 0: the
        verification's own verdict then decides."""
        return 1 if self.uncounted and not self.allowed else 0

    @property
    def note(self) -> str | None:
        """What the user is told before anything runs: why nothing is verified, or what is not."""
        if not self.uncounted:
            return None
        from ..output.render import uncounted_text

        if not self.allowed:
            return f"{self.model}: {uncounted_text(self.uncounted)} not counted, so not verified " \
                   "(--allow-uncounted verifies the rest)"
        return f"{self.model}: {uncounted_text(self.uncounted)} not counted: memory not checked"

    def optimizer(self, asked: str) -> str | None:
        """The optimizer of the training step whose memory verify checks: none when memory is not checked."""
        return None if self.uncounted else asked


def admit(graph, allow_uncounted: bool = False) -> Admission:
    """Whether and how `verify` runs `graph` (a graph.Graph): see Admission."""
    from ..figures.report import UNCOUNTED

    return Admission(model=graph.name, uncounted=tuple(node.name for node in graph.nodes if node.kind == UNCOUNTED),
                     allowed=allow_uncounted)


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
