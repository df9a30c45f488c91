"""cnncalc's own models written the ways people write them (cnncalc/importing/handwritten.py), each held
to torch on the same module as coverage holds a library's: FlopCounterMode ÷ 2, sum(p.numel()), the
output's shape."""
from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from cnncalc.errors import SpecError  # noqa: E402
from cnncalc.figures import analyze  # noqa: E402
from cnncalc.model import load_graph  # noqa: E402
from cnncalc.verify.coverage import check_model  # noqa: E402
from cnncalc.importing.handwritten import HANDWRITTEN  # noqa: E402

NAMES = list(HANDWRITTEN)


@pytest.mark.parametrize("name", NAMES)
def test_handwritten_models_exact_against_torch(name):
    pytest.importorskip("einops")
    outcome = check_model("handwritten", HANDWRITTEN[name].shows, name)
    assert outcome.exact, outcome.reason


def test_handwritten_models_are_named_as_users_name_a_library_model():
    tower = analyze(load_graph("handwritten:SharedTower", None, None)).totals
    # torch: the tower's two convs (3·16·9 + 16 + 16·32·9 + 32) and the scale, the tower held once
    assert tower.params == 3 * 16 * 9 + 16 + 16 * 32 * 9 + 32 + 1
    with pytest.raises(SpecError, match=r"no hand-written model 'SharedTowers' \(did you mean 'SharedTower'\?\)"):
        load_graph("handwritten:SharedTowers", None, None)
