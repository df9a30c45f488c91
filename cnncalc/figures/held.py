"""What a PyTorch model holds, read without running it: the parameter table torchinfo gives a model
passed with no input. Records only (torch-free); importing/held.py reads them off a module."""
from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True, kw_only=True)
class HeldRow:
    """One module (or a tensor the model holds itself): its path, class, depth in the module tree, and
    what it holds with its children (each tensor once)."""
    name: str
    module: str
    depth: int
    params: int
    trainable_params: int
    buffers: int


@dataclass(frozen=True, kw_only=True)
class Held:
    """A model's parameters and buffers by module, and their totals."""
    model: str
    rows: tuple[HeldRow, ...]
    params: int
    trainable_params: int
    buffers: int
    param_bytes: int  # parameters and buffers, each at its own dtype

    def collapsed(self, depth: int) -> "Held":
        """Modules nested deeper than `depth` left out (their tensors stay in their parents' rows)."""
        return replace(self, rows=tuple(row for row in self.rows if row.depth <= depth))
