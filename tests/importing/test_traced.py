"""Reading a recorded run: the model's inputs by forward()'s names, the batch size told from other sizes
(a reshape writes it as `batch`), the pieces of a split, the tensors forward() makes without its input,
and a layer's arguments as those that differ from PyTorch's defaults (nn.Conv2d's: stride 1, padding 0,
dilation 1, groups 1, bias True)."""
from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

from cnncalc.graph import OtherInput  # noqa: E402
from cnncalc.importing.traced import is_batch_size, non_default, piece_of, read_graph, target_name  # noqa: E402
from cnncalc.importing.tracing import trace  # noqa: E402


class Queries(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)

    def forward(self, x, mask):
        n, c = x.size(0), x.shape[1]
        rows = x.shape[:-1][0]
        offset = torch.arange(4.0).view(1, -1, 1, 1)  # made without the input: a row of its own
        halves = torch.chunk(self.conv(x * mask) + offset, 2, dim=1)
        return halves[0].reshape(n, -1), c, rows


def recorded_run():
    run = trace(Queries(), (3, 8, 8), others=(OtherInput(name="mask", shape=(3, 8, 8)),))
    return run.recorded, run.values, {node.name: node for node in run.recorded.steps}


def test_the_inputs_go_by_forwards_names_and_what_needs_none_is_known():
    recorded, values, nodes = recorded_run()
    graph = read_graph(recorded, values, ("mask",))
    assert graph.inputs == {"x": "input", "mask": "mask"}
    assert read_graph(recorded, values).inputs == {"x": "input"}
    # the offset reads no input: it and its view are the tensors made without the input
    assert graph.without_input == {"arange", "view"}
    assert target_name(nodes["view"]) == "view" and nodes["view"].sources == (nodes["arange"],)


def test_the_batch_size_and_the_pieces_of_a_split_are_told_apart():
    _, _, nodes = recorded_run()
    sizes = {name for name, node in nodes.items() if is_batch_size(node)}
    assert sizes == {"size", "getitem_4"}  # x.size(0), and x.shape[:-1][0]; not x.shape[1]
    assert target_name(nodes["chunk"]) == "chunk" and target_name(nodes["conv"]) == "conv"
    assert piece_of(nodes["getitem_8"]) is nodes["chunk"] and piece_of(nodes["getitem_4"]) is None


@pytest.mark.parametrize("args, written", [
    ({"out_channels": 8, "kernel_size": [3, 3], "stride": [1, 1], "padding": [0, 0], "dilation": [1, 1],
      "groups": 1, "bias": True, "padding_mode": "zeros"}, {"out_channels": 8, "kernel_size": 3}),
    ({"out_channels": 8, "kernel_size": [3, 5], "stride": [2, 2], "padding": [1, 2], "dilation": [1, 1],
      "groups": 8, "bias": False, "padding_mode": "zeros"},
     {"out_channels": 8, "kernel_size": [3, 5], "stride": 2, "padding": [1, 2], "groups": 8, "bias": False}),
])
def test_a_layer_keeps_the_arguments_that_differ_from_torchs_defaults(args, written):
    assert non_default("conv2d", args) == written
