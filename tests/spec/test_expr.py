"""The spec's expression language (spec/expr.py) has Python's semantics, held to Python itself."""
from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from cnncalc.spec.expr import evaluate

OPERANDS = st.sampled_from(["0", "1", "16", "width", "depth", "[]", "[0]"])


@given(st.lists(OPERANDS, min_size=2, max_size=4), st.sampled_from([" and ", " or "]))
def test_and_or_return_what_python_returns(operands, joiner):
    text = f"({joiner.join(operands)})"
    env = {"width": 32, "depth": 0}
    assert evaluate(text, env) == eval(text, {}, dict(env))  # noqa: S307 (the reference: Python itself)


def test_a_settled_operand_is_the_value():
    assert evaluate("(0 or 16) * 2", {}) == 32 and evaluate("(8 and 3) + 1", {}) == 4
