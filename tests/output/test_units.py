"""Counts in K/M/G with decimal prefixes (10³, 10⁶, 10⁹, 10¹²), as torchinfo writes its totals, to one
decimal; shares rounded down."""
from __future__ import annotations

import pytest

from cnncalc.output.units import human, percent


@pytest.mark.parametrize("value, unit, text", [
    (0, "", "0"), (999, "", "999"), (1_000, "", "1.0 K"), (138_357_544, "", "138.4 M"),
    (11_689_512, "", "11.7 M"), (1_814_073_344, "", "1.8 G"), (2 * 10**12, "", "2.0 T"), (10**15, "", "1000.0 T"),
    (46_758_048, "B", "46.8 MB"), (512, "B", "512 B"), (-2_500_000, "", "-2.5 M"),
])
def test_counts_take_the_largest_decimal_prefix(value, unit, text):
    assert human(value, unit) == text


@pytest.mark.parametrize("part, whole, text", [(9796, 10_000, "97.9"), (1, 3, "33.3"), (2, 3, "66.6"),
                                               (94, 95, "98.9"), (5, 5, "100.0"), (0, 7, "0.0"), (3, 0, "0.0")])
def test_a_share_is_rounded_down(part, whole, text):
    assert percent(part, whole) == text
