"""Large counts in K/M/G, as every table, plot and note writes them."""
from __future__ import annotations

import math

PREFIXES = ((10**12, "T"), (10**9, "G"), (10**6, "M"), (10**3, "K"))


def human(value: int, unit: str = "") -> str:
    """138357544 → '138.4 M'; bytes use decimal prefixes, as torchinfo does."""
    for factor, prefix in PREFIXES:
        if abs(value) >= factor:
            return f"{value / factor:.1f} {prefix}{unit}"
    return f"{value} {unit}".rstrip() if unit else str(value)


def percent(part: int, whole: int) -> str:
    """A share to one decimal, rounded down: 97.96% is not yet 98%."""
    return f"{math.floor(1000 * part / whole) / 10:.1f}" if whole else "0.0"
