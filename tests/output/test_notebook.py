"""A summary in Jupyter: the module tree, each block folded under its summed row (no script), shapes with
the batch, every total, memory and training included."""
from __future__ import annotations

import cnncalc


def test_in_jupyter_the_module_tree_with_every_total():
    from html.parser import HTMLParser

    result = cnncalc.summary("resnet18")
    page = result._repr_html_()
    assert "<script" not in page and "http" not in page  # self-contained, no script needed
    # each block folded under its summed row: resnet18's 4 stages of 2 blocks, 3 of them downsampling
    assert page.count("<details>") == 4 + 8 + 3 == page.count("</details>")
    assert "147,968" in page and "8,393,728" in page  # layer1's and layer4's parameters (torchvision's resnet18)
    for text in ("11,689,512", "1,814,073,344", f"{result.memory.peak_inference_bytes:,} B",
                 f"{result.memory.training_bytes:,} B", "1×64×112×112"):  # shapes with the batch
        assert text in page

    class Balanced(HTMLParser):
        depth = 0

        def handle_starttag(self, tag, attrs):
            self.depth += tag in ("div", "details", "span")

        def handle_endtag(self, tag):
            self.depth -= tag in ("div", "details", "span")

    parser = Balanced()
    parser.feed(page)
    assert parser.depth == 0
