"""Reading YAML: every problem is one SpecError with its line, and the common causes are named."""
import pytest

from cnncalc.errors import SpecError
from cnncalc.spec.yamlfile import load_yaml


@pytest.mark.parametrize("text, line, hint", [
    ("layers:\n\t- relu: {}\n", 2, "(a tab: YAML indents with spaces only)"),
    ("layers:\n  - relu:\n\tname: r\n", 3, "(a tab: YAML indents with spaces only)"),
    ("layers:\n  - relu\n    name: r\n", 3, "needs a colon after its kind"),
])
def test_a_malformed_line_is_named_with_its_likely_cause(text, line, hint):
    with pytest.raises(SpecError) as caught:
        load_yaml(text, "net.yaml")
    assert caught.value.line == line and hint in str(caught.value)


def test_a_tab_inside_a_value_is_no_error():
    assert load_yaml("name: 'a\tb'\n", "net.yaml") == {"name": "a\tb"}
