"""Models of several inputs (forward(x, mask)) and integer ids: in a spec (`other_inputs`), read from a
module, each held to torch's own run of the module with the same inputs."""
from __future__ import annotations

import pytest

import cnncalc
from cnncalc.errors import SpecError
from cnncalc.spec import build_graph
from cnncalc.summary import figures

MASKED = {"name": "masked", "input": [3, 16, 16],
          "other_inputs": {"mask": [1, 16, 16], "ids": {"shape": [4], "dtype": "int64"}},
          "layers": [{"conv2d": {"out_channels": 8, "kernel_size": 3, "padding": 1}},
                     {"mul": None, "from": ["0.conv2d", "mask"], "name": "masked"},
                     {"adaptiveavgpool2d": {"output_size": 1}}, {"flatten": None, "name": "pooled"},
                     {"embedding": {"num_embeddings": 10, "embedding_dim": 8}, "from": "ids", "name": "tokens"},
                     {"mean": {"dim": 1}, "name": "words"},
                     {"add": None, "from": ["pooled", "words"]}, {"linear": {"out_features": 3}}]}


def test_a_spec_of_three_inputs_verifies_against_torch_and_every_peer():
    # the rebuilt model run on an image, a mask and ids: every layer's shape and parameters, every
    # peer tool's total, receptive fields, and inference and training memory (the tracker)
    pytest.importorskip("torch")
    from cnncalc.verify.run import verify

    graph = build_graph(MASKED, "<test>", {})
    result = verify(graph, batch=2, optimizer="adam")
    assert result.failed == () and {"ptflops ops", "fvcore ops", "thop ops"} <= {c.figure for c in result.checks}


def test_the_other_inputs_show_as_rows_and_in_the_totals():
    graph = build_graph(MASKED, "<test>", {})
    report = figures(graph).report
    assert [(row.name, row.output_shape) for row in report.layers[:3]] == [
        ("input", (3, 16, 16)), ("mask", (1, 16, 16)), ("ids", (4,))]
    assert report.layers[2].activation_bytes == 4 * 8  # int64 ids
    assert "3×16×16, mask 1×16×16, ids 4 × batch 1" in str(figures(graph))


@pytest.mark.parametrize("change, message", [
    ({"other_inputs": {"input": [1, 2]}}, "other_inputs: input takes a shape"),
    ({"other_inputs": {"mask": {"shape": [1], "dtype": "float16"}}}, "dtype one of int64, int32, int8, bool"),
    ({"other_inputs": {"mask": [0, 4]}}, "positive sizes"),
    ({"layers": [{"relu": None, "name": "mask"}]}, "duplicate name 'mask'"),
])
def test_bad_other_inputs_are_named(change, message):
    with pytest.raises(SpecError, match=message):
        build_graph({**MASKED, **change}, "<test>", {})


def test_a_module_of_two_inputs_is_read_at_both_as_torch_runs_it():
    torch = pytest.importorskip("torch")
    from torch import nn
    from torch.utils.flop_counter import FlopCounterMode

    class Masked(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv, self.head = nn.Conv2d(3, 8, 3, padding=1), nn.Linear(8, 2)

        def forward(self, x, mask):
            return self.head((self.conv(x) * mask).mean((2, 3)))

    model = Masked()
    counter = FlopCounterMode(display=False)
    with counter:
        out = model(torch.randn(1, 3, 16, 16), torch.randn(1, 1, 16, 16))
    summary = cnncalc.summary(model, {"x": (3, 16, 16), "mask": "1x16x16"})
    assert 2 * summary.totals.macs == counter.get_total_flops()
    assert summary.totals.params == sum(p.numel() for p in model.parameters())
    assert summary.layers[-1].output_shape == tuple(out.shape[1:])
    assert next(row for row in summary.layers if row.kind == "mul").inputs == ("conv", "mask")
    with pytest.raises(SpecError, match=r"forward\(\) takes 2 inputs \(x, mask\): give each, e.g. --input x="):
        cnncalc.summary(model, (3, 16, 16))
    with pytest.raises(SpecError, match="forward\\(\\) has no argument masks"):
        cnncalc.summary(model, {"x": (3, 16, 16), "masks": (1, 16, 16)})
