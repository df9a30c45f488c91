"""What each layer kind makes autograd keep for backward, against torch.

Golden figures: the bytes of the distinct storages torch.autograd.graph.saved_tensors_hooks packs
during a training forward pass of the layer (parameters and buffers left out, which the parameters'
bytes hold), on an input autograd tracks."""
from __future__ import annotations

import pytest

from cnncalc.figures import analyze
from cnncalc.figures.memory import saved_bytes
from cnncalc.spec import build_graph
from layers.test_kinds_vs_torch import CASES, JOIN_CASES

torch = pytest.importorskip("torch")
from cnncalc.verify.build import build_model  # noqa: E402

# in place, where autograd keeps a copy of the input (or only the result); what passes its input on
IN_PLACE = [("silu", {"inplace": True}, (4, 5, 5)), ("hardswish", {"inplace": True}, (4, 5, 5)),
            ("hardsigmoid", {"inplace": True}, (4, 5, 5)), ("relu6", {"inplace": True}, (4, 5, 5)),
            ("leakyrelu", {"inplace": True}, (4, 5, 5)), ("elu", {"inplace": True}, (4, 5, 5)),
            ("hardtanh", {"inplace": True}, (4, 5, 5)), ("mish", {"inplace": True}, (4, 5, 5)),
            ("selu", {"inplace": True}, (4, 5, 5)), ("celu", {"inplace": True}, (4, 5, 5)),
            ("adaptiveavgpool2d", {"output_size": 1}, (4, 5, 5)), ("adaptiveavgpool1d", {"output_size": 1}, (4, 5)),
            ("dropout", {"p": 0.0}, (4, 5, 5))]  # timm's nn.Dropout(0.): the input itself, no mask
# What cnncalc does not state yet, each a strict xfail so that a fix shows: a norm's per-channel or
# per-row statistics (save_mean, save_invstd: a few bytes per channel), channel dropout's and
# stochastic depth's noise (one value per channel or sample), the padded copy a conv with a
# non-zero padding mode or asymmetric 'same' padding convolves, the padding of local response norm's
# squares, the recurrent layers' on ATen's general path (GRU, RNN, an LSTM with projections) step by step.
STATISTICS = {"batchnorm1d", "batchnorm2d", "batchnorm3d", "layernorm", "rmsnorm", "instancenorm1d",
              "instancenorm2d", "instancenorm3d", "groupnorm", "dropout1d", "dropout2d", "dropout3d",
              "stochasticdepth"}
COMPOSITES = {"gru", "rnn"}
NOT_RUN = {"parameter", "constant"}  # no input: nothing to track
INDICES = {"topkindices", "argsort"}  # only the indices taken: no backward reads what the call saves


def _unstated(kind: str, args: dict | None) -> str | None:
    if kind in STATISTICS:
        return "statistics or noise of a few bytes per channel, row or sample"
    if kind == "localresponsenorm":
        return "its squares' channel padding, (size - 1) / channels of a tensor"
    if kind in COMPOSITES or kind == "lstm" and args.get("proj_size"):  # an LSTM without is oneDNN's: stated
        return "a composite's own saved tensors, ATen's cell step by step"
    if kind in INDICES:
        return "its call saves the indices for the values' backward, and drops them with the values"
    if kind.startswith("conv") and args and (args.get("padding_mode", "zeros") != "zeros"
                                             or args.get("padding") == "same"):
        return "the padded copy of the input the conv keeps"
    return None


def _cases():
    for index, (kind, args, shape) in enumerate(CASES + IN_PLACE):
        if kind in NOT_RUN:
            continue
        reason = _unstated(kind, args)
        marks = pytest.mark.xfail(strict=True, reason=reason) if reason else ()
        yield pytest.param(kind, args, shape, marks=marks, id=f"{kind}-{index}")


def _torch_saved(graph, batch: int) -> int:
    model = build_model(graph).train()
    held = {t.untyped_storage().data_ptr() for t in (*model.parameters(), *model.buffers())}
    storages = {}

    def pack(tensor):
        storage = tensor.untyped_storage()
        if storage.data_ptr() not in held:
            storages[storage.data_ptr()] = storage.nbytes()
        return tensor
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
        model(torch.randn(batch, *graph.input_shape))
    return sum(storages.values())


@pytest.mark.parametrize("kind,args,shape", _cases())
def test_saved_tensors_match_torch(kind, args, shape):
    _assert_saved_as_torch(shape, [{kind: args, "from": "x"}])


def _assert_saved_as_torch(shape, layers: list[dict]) -> None:
    """`layers` reading x, the input + a trainable tensor of its shape: tracked, and the add saves nothing."""
    spec = {"input": list(shape), "layers": [{"parameter": {"shape": list(shape)}, "name": "w"},
                                             {"add": None, "from": ["input", "w"], "name": "x"}, *layers]}
    graph = build_graph(spec, "<test>", {})
    assert saved_bytes(graph, analyze(graph, 2)) == _torch_saved(graph, 2)


# torch.where keeps its condition and masked_fill its mask, a bool per element; maximum and minimum
# both operands; lerp by a number nothing
@pytest.mark.parametrize("kind,args,shape,left,right", [case for case in JOIN_CASES if case[0] in
                                                        ("where", "maskedfill", "maximum", "minimum", "lerp",
                                                         "cosinesimilarity")])
def test_saved_tensors_of_joins_match_torch(kind, args, shape, left, right):
    _assert_saved_as_torch(shape, [{**left, "name": "a", "from": "x"}, {**right, "name": "b", "from": "x"},
                                   {kind: args, "from": ["a", "b"]}])


@pytest.mark.parametrize("kind,args", [("baddbmm", {"alpha": 0.5}), ("addcmul", {"value": 0.5})])
def test_saved_tensors_of_a_product_added_to_an_input_match_torch(kind, args):
    # torch.baddbmm and torch.addcmul keep their two factors for each other's gradients, never the input they
    # add (here scores nothing else keeps)
    _assert_saved_as_torch((8, 8), [{"sigmoid": None, "from": "x", "name": "q"},
                                    {"transpose": {"dim0": -2, "dim1": -1}, "from": "x", "name": "kt"},
                                    {"matmul": None, "from": ["q", "kt"], "name": "scores"},
                                    {kind: args, "from": ["scores", "q", "kt"]}])
