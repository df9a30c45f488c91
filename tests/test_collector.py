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


def test_a_models_own_run_keeps_the_collector_and_its_mapping_holds_it_off(monkeypatch):
    # when a model's tensors die is Python's, cycle collection included (examples/model.py's Block keeps
    # `out` alive as long as Python does); the mapping after the run holds it off
    torch = pytest.importorskip("torch")
    import cnncalc
    from cnncalc.importing import importer

    seen, read_graph = [], importer.read_graph

    class Probe(torch.nn.Module):
        def forward(self, x):
            seen.append(gc.isenabled())
            return torch.relu(x)

    monkeypatch.setattr(importer, "read_graph", lambda *args: seen.append(gc.isenabled()) or read_graph(*args))
    cnncalc.summary(Probe(), (3, 8, 8))
    assert seen == [True, False] and gc.isenabled()
