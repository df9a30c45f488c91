"""Contexts of expansion, and `from` names resolved in them: local names first, then enclosing blocks."""
import pytest

from cnncalc.errors import SpecError
from cnncalc.graph import INPUT, Scope
from cnncalc.spec.references import Context, Reference, resolve


def test_a_child_nests_and_a_spliced_context_shares_its_names():
    root = Context(prefix="", env={"w": 1}, scopes=(), input=INPUT)
    child = root.child("b.", {"w": 2}, Scope(name="b", kind="block"), "stem", use_line=7, frozen=True)
    assert (child.prefix, child.scopes, child.input, child.parent, child.use_line, child.frozen) == \
        ("b.", (Scope(name="b", kind="block"),), "stem", root, 7, True)
    spliced = child.spliced({"w": 3}, frozen=False)
    assert spliced.names is child.names and spliced.frozen and spliced.env == {"w": 3} and spliced.parent is root


def test_a_name_is_looked_up_locally_then_outwards_then_in_full():
    root = Context(prefix="", env={}, scopes=(), input=INPUT, names={"stem": "stem", "act": "outer.act"})
    block = root.child("b.", {}, Scope(name="b", kind="block"), "stem", use_line=None)
    block.names["act"] = "b.act"

    def ref(text):
        return Reference(text=text, context=block, line=3, layer="b.conv")

    names = {"stem", "b.act", "outer.act", "head.fc"}
    assert [resolve(ref(text), names, {}, "net.yaml") for text in ("act", "stem", INPUT, "head.fc")] == \
        ["b.act", "stem", "stem", "head.fc"]
    with pytest.raises(SpecError, match="'from' names 'hed.fc', which is no layer of this spec .*'head.fc'"):
        resolve(ref("hed.fc"), names, {}, "net.yaml")
