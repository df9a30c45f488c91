"""A module's parameter table read off it without running it (importing/held.py), as torchinfo gives it for a
model passed with no input."""
from __future__ import annotations

import pytest

import cnncalc


def test_a_module_given_no_input_gets_its_parameter_table_as_torchinfo_gives_it():
    torch = pytest.importorskip("torch")
    torchinfo = pytest.importorskip("torchinfo")
    from torch import nn

    class Encoder(nn.Module):
        def __init__(self):
            super().__init__()
            self.tokens = nn.Embedding(100, 16)
            self.position = nn.Parameter(torch.zeros(8, 16))  # held by the model itself
            self.layer = nn.TransformerEncoderLayer(16, 2, 32, batch_first=True)
            self.norm = nn.BatchNorm1d(16)
            self.head = nn.Linear(16, 3)

    model = Encoder()
    model.tokens.requires_grad_(False)
    theirs = torchinfo.summary(model, verbose=0)  # no input_size: parameters by module
    held = cnncalc.summary(model)
    assert (held.params, held.trainable_params) == (theirs.total_params, theirs.trainable_params)
    assert held.buffers == sum(b.numel() for b in model.buffers())
    assert held.param_bytes == sum(t.nbytes for t in [*model.parameters(), *model.buffers()])
    by_path = {row.name: row for row in held.rows}
    for info in theirs.summary_list[1:]:  # the model's modules, as torchinfo lists them
        path = next(path for path, part in model.named_modules() if part is info.module)
        assert by_path[path].params == info.num_params and by_path[path].module == info.class_name
    assert by_path["position"].params == 128
    assert {row.depth for row in cnncalc.summary(model, depth=1).rows} == {1}
    text, html = str(held), held._repr_html_()
    assert "TransformerEncoderLayer" in text and "input_size=" in text and "<td>MultiheadAttention</td>" in html
    assert repr(held).count("\n") == 0 and "no input given" in repr(held)
