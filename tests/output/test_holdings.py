"""The parameter table as a terminal and a notebook show it: the module tree indented by depth, counts
with thousands separators, the totals, and what an input would add; names shown as text."""
from __future__ import annotations

from html.parser import HTMLParser

from cnncalc.figures.held import Held, HeldRow
from cnncalc.output.holdings import NO_INPUT, render_holdings, render_holdings_html

HELD = Held(model="Encoder", rows=(
    HeldRow(name="position", module="Parameter", depth=1, params=128, trainable_params=128, buffers=0),
    HeldRow(name="layer", module="TransformerEncoderLayer", depth=1, params=2_160, trainable_params=2_160, buffers=0),
    HeldRow(name="layer.self_attn", module="MultiheadAttention", depth=2, params=1_088, trainable_params=1_088,
            buffers=0),
    HeldRow(name="norm", module="BatchNorm1d", depth=1, params=32, trainable_params=32, buffers=33)),
    params=1_234_567, trainable_params=1_000_000, buffers=33, param_bytes=4_938_400)


def test_the_terminal_table_is_the_tree_then_the_totals():
    lines = render_holdings(HELD, None).splitlines()
    assert lines[0].split() == ["Module", "Class", "Params", "Buffers"]
    assert lines[1].split() == ["position", "Parameter", "128", "0"]
    assert lines[3].startswith("  self_attn ") and lines[3].split()[1:] == ["MultiheadAttention", "1,088", "0"]
    assert lines[-6:] == ["Encoder totals", "parameters        1,234,567", "trainable         1,000,000",
                          "buffers           33", "parameter memory  4,938,400 B (4.9 MB)", NO_INPUT]


def test_the_notebook_table_holds_the_same_cells_and_only_its_own_markup():
    named = Held(model="<b>Net</b>", rows=(HeldRow(name="a.<i>x</i>", module="Linear", depth=2, params=3,
                                                   trainable_params=3, buffers=0),),
                 params=3, trainable_params=3, buffers=0, param_bytes=12)

    class Cells(HTMLParser):
        def __init__(self):
            super().__init__()
            self.texts, self.tags = [], []

        def handle_starttag(self, tag, attrs):
            self.tags.append(tag)

        def handle_data(self, data):
            self.texts.append(data)

    parser = Cells()
    parser.feed(render_holdings_html(named))
    assert "<b>Net</b>" in parser.texts and "<i>x</i>" in parser.texts  # the names, as text
    assert {"Linear", "3", "12 B (12 B)", NO_INPUT} <= set(parser.texts)
    assert parser.tags.count("b") == 1 and not {"i", "script"} & set(parser.tags)  # its own <b>: the model's name
