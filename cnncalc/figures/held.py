"""What a PyTorch model holds, read without running it: the parameter table torchinfo gives a model
passed with no input. Records only (torch-free); verify/held.py reads them off a module."""
from __future__ import annotations

from dataclasses import dataclass


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
class Holdings:
    """A model's parameters and buffers by module, and their totals; printed, the table. Without an
    input there are no shapes, MACs or activations: give input_size for those."""
    model: str
    rows: tuple[HeldRow, ...]
    params: int
    trainable_params: int
    buffers: int
    param_bytes: int  # parameters and buffers, each at its own dtype

    def collapsed(self, depth: int) -> "Holdings":
        """Modules nested deeper than `depth` left out (their tensors stay in their parents' rows)."""
        return Holdings(**{**vars(self), "rows": tuple(row for row in self.rows if row.depth <= depth)})

    def __str__(self) -> str:
        from ..output.holdings import render_holdings

        return render_holdings(self, None)

    def __repr__(self) -> str:
        from ..output.units import human

        return (f"<cnncalc parameters of {self.model}: {self.params:,} params, {human(self.param_bytes, 'B')}; "
                "no input given>")

    def _repr_html_(self) -> str:
        from ..output.holdings import render_holdings_html

        return render_holdings_html(self)
