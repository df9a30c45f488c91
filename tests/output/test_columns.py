"""Tables fitted to a width: the flexible column wraps under itself, a name that cannot wrap keeps its
row in line, and marks sit under the middle of their titles."""
from cnncalc.output.columns import Column, Step, layout, needed


def test_a_name_that_cannot_wrap_sets_the_least_width():
    columns = [Column("name", "name", False), Column("n", "count", True)]
    rows = [["mobilenet_v3_large", "5,483,032"], ["vgg16", "138,357,544"]]
    assert needed(columns, rows) == len("mobilenet_v3_large") + 2 + len("138,357,544")
    lines = layout(columns, rows, 20, (Step("shorten", ("n",)),))
    assert lines == ["name                  count", "mobilenet_v3_large    5.5 M", "vgg16               138.4 M"]
    assert len(set(map(len, lines))) == 1  # in line, though wider than 20: the name has no place to wrap


def test_a_flexible_last_column_wraps_under_itself():
    columns = [Column("model", "Model", False), Column("result", "Result", False, flexible=True)]
    lines = layout(columns, [["resnet18", "3 operations not counted: the figures are lower bounds"]], 40)
    assert lines == ["Model     Result",
                     "resnet18  3 operations not counted: the",
                     "              figures are lower bounds"]
    assert max(map(len, lines)) <= 40


def test_marks_are_centred_under_their_titles():
    columns = [Column("layer", "Layer", False), Column("params", "params", False, centred=True)]
    assert layout(columns, [["conv1", "✓"]], None) == ["Layer  params", "conv1    ✓"]
