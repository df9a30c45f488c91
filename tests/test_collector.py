"""Python's cycle collector is held off while a model is read and figured, and back as it was after."""
from __future__ import annotations

import gc

import pytest

from cnncalc.collector import collected_after


def test_the_collector_is_off_inside_and_on_after_even_on_an_error():
    assert gc.isenabled()
    with pytest.raises(ZeroDivisionError):
        with collected_after():
            assert not gc.isenabled()
            1 / 0
    assert gc.isenabled()


def test_a_caller_that_turned_it_off_keeps_it_off():
    gc.disable()
    try:
        with collected_after():
            with collected_after():  # nested: the outer block's choice stands
                pass
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_a_models_run_is_read_with_the_collector_off():
    torch = pytest.importorskip("torch")
    import cnncalc

    seen = []

    class Probe(torch.nn.Module):
        def forward(self, x):
            seen.append(gc.isenabled())
            return torch.relu(x)

    cnncalc.summary(Probe(), (3, 8, 8))
    assert seen == [False] and gc.isenabled()
