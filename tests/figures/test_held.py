"""The parameter table's records: collapsed to a depth, the modules below it leave the table and their
tensors stay counted in their parents' rows and in the totals, as torchinfo's `depth=` does."""
from __future__ import annotations

import pytest

from cnncalc.figures.held import Held, HeldRow

torch = pytest.importorskip("torch")
torchinfo = pytest.importorskip("torchinfo")


def test_collapsed_rows_are_torchinfos_at_that_depth():
    from torch import nn

    from cnncalc.importing.held import held_by

    model = nn.Sequential(nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8)), nn.Flatten(), nn.Linear(8, 2))
    held = held_by(model, "net")
    for depth in (1, 2):
        listed = torchinfo.summary(model, depth=depth, verbose=0).summary_list[1:]  # the model's own row first
        theirs = [info for info in listed if info.depth <= depth]  # what torchinfo shows at that depth
        mine = held.collapsed(depth)
        assert [(row.module, row.params) for row in mine.rows] == [(info.class_name, info.num_params)
                                                                   for info in theirs]
        assert (mine.params, mine.buffers, mine.param_bytes) == (held.params, held.buffers, held.param_bytes)
    # nn.Conv2d(3, 8, 3): 8 × 3 × 3 × 3 + 8; nn.BatchNorm2d(8): 16 parameters, running mean, var and count
    assert held.collapsed(1).rows[0].params == 224 + 16 and held.collapsed(1).rows[0].buffers == 17


def test_a_table_collapsed_deeper_than_it_goes_is_the_same_table():
    row = HeldRow(name="fc", module="Linear", depth=1, params=10, trainable_params=10, buffers=0)
    held = Held(model="m", rows=(row,), params=10, trainable_params=10, buffers=0, param_bytes=40)
    assert held.collapsed(5) == held and held.collapsed(0).rows == ()
