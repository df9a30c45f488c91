"""`record` behaves as `dataclass(frozen=True)` does; only its __init__ is built differently."""
from __future__ import annotations

import dataclasses
import pickle

import pytest

from cnncalc.record import record


@record
class Fast:
    name: str
    shape: tuple
    line: int | None = None
    frozen: bool = False


@dataclasses.dataclass(frozen=True)
class Plain:
    name: str
    shape: tuple
    line: int | None = None
    frozen: bool = False


@pytest.mark.parametrize("args, kwargs", [(("a", (1, 2)), {}), (("a", (1, 2), 3), {"frozen": True}),
                                          ((), {"shape": (), "name": "b"})])
def test_a_record_is_what_a_frozen_dataclass_is(args, kwargs):
    fast, plain = Fast(*args, **kwargs), Plain(*args, **kwargs)
    assert dataclasses.astuple(fast) == dataclasses.astuple(plain)
    assert repr(fast).replace("Fast", "Plain") == repr(plain)
    assert hash(fast) == hash(plain) and fast == Fast(*args, **kwargs)
    assert dataclasses.replace(fast, line=7).line == 7 and fast.line == plain.line
    assert pickle.loads(pickle.dumps(fast)) == fast
    with pytest.raises(dataclasses.FrozenInstanceError):
        fast.name = "changed"


def test_a_record_takes_the_same_arguments():
    with pytest.raises(TypeError):
        Fast("a")  # shape is required
    with pytest.raises(TypeError):
        Fast("a", (), unknown=1)


def test_a_default_factory_is_refused():
    class WithFactory:
        items: list = dataclasses.field(default_factory=list)
    with pytest.raises(TypeError, match="plain defaults only"):
        record(WithFactory)


def test_of_builds_the_record_init_would():
    assert Fast.of({"name": "a", "shape": (1,), "line": 2, "frozen": True}) == Fast("a", (1,), 2, True)


def test_records_built_with_of_name_every_field(monkeypatch):
    """The per-layer loop builds LayerFigures, SharedFigures and LayerOps from dict literals."""
    from cnncalc.figures import analyze
    from cnncalc.figures.conventions import Convention, Counted
    from cnncalc.spec.zoo import load_model

    seen = []
    monkeypatch.setattr(Convention, "count", lambda self, layer: seen.append(layer) or Counted(whole=0))
    report = analyze(load_model("googlenet"), explain=True)
    for item in [*report.layers, *seen]:
        assert vars(item).keys() == {f.name for f in dataclasses.fields(item)}, type(item).__name__


@record(kw_only=True, eq=False)
class Keyed:
    name: str
    made: int = 0
    line: int


@dataclasses.dataclass(frozen=True, kw_only=True, eq=False)
class PlainKeyed:
    name: str
    made: int = 0
    line: int


def test_options_go_to_the_dataclass_and_its_init():
    fast, plain = Keyed(name="a", line=3), PlainKeyed(name="a", line=3)
    assert dataclasses.astuple(fast) == dataclasses.astuple(plain) == ("a", 0, 3)
    with pytest.raises(TypeError):
        Keyed("a", 0, 3)  # keywords only, as the dataclass takes them
    assert fast != Keyed(name="a", line=3) and hash(fast) != hash(Keyed(name="a", line=3))  # eq=False: identity
    with pytest.raises(dataclasses.FrozenInstanceError):
        fast.name = "changed"
