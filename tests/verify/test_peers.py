"""The peer counters run on a model verify built: each tool's own total, and per layer in the graph's
order where the tool reports modules. Golden figures: conv2d(3→4, 3×3) on 8×8 is 4·6·6·3·3·3 = 3,888
MACs, linear(144→5) 720; torch's FlopCounterMode counts 2 FLOPs per MAC, fvcore one; each tool run
directly on the same modules in a plain nn.Sequential."""
from __future__ import annotations

import pytest

from cnncalc.spec import build_graph

torch = pytest.importorskip("torch")
from cnncalc.verify.build import build_model, sample_inputs  # noqa: E402
from cnncalc.verify.peers import RUNNERS, installed, run_fvcore, run_thop, run_torch  # noqa: E402

SPEC = {"input": [3, 8, 8], "layers": [{"conv2d": {"out_channels": 4, "kernel_size": 3}}, "relu", "flatten",
                                       {"linear": {"out_features": 5}}]}


def built():
    graph = build_graph(SPEC, "<t>", {})
    return build_model(graph), sample_inputs(graph, 1)


def test_torch_and_fvcore_count_what_they_document_per_layer():
    model, inputs = built()
    assert run_torch(model, inputs).total == 2 * (3_888 + 720)
    assert run_torch(model, inputs).layers == (2 * 3_888, 0, 0, 2 * 720)
    pytest.importorskip("fvcore")
    assert (run_fvcore(model, inputs).total, run_fvcore(model, inputs).layers) == (3_888 + 720, (3_888, 0, 0, 720))


def directly(tool: str, plain, inputs) -> int:
    """The tool's own total on a plain nn.Sequential of the same modules, called as its README shows."""
    if tool == "torch":
        from torch.utils.flop_counter import FlopCounterMode

        counter = FlopCounterMode(display=False)
        with counter, torch.no_grad():
            plain(*inputs)
        return counter.get_total_flops()
    if tool == "fvcore":
        from fvcore.nn import FlopCountAnalysis

        return int(FlopCountAnalysis(plain, inputs).total())
    if tool == "torchinfo":
        import torchinfo

        return torchinfo.summary(plain, input_data=list(inputs), verbose=0).total_mult_adds
    if tool == "ptflops":
        from ptflops import get_model_complexity_info

        return int(get_model_complexity_info(plain, (3, 8, 8), as_strings=False, print_per_layer_stat=False,
                                             verbose=False)[0])
    from thop import profile

    return int(profile(plain, inputs=inputs, verbose=False)[0])


@pytest.mark.parametrize("tool", sorted(RUNNERS))
def test_each_total_is_the_tools_own_on_the_same_modules(tool):
    if tool not in installed():
        pytest.skip(f"{tool} is not installed")
    model, inputs = built()
    total = RUNNERS[tool](model, inputs).total
    assert total == directly(tool, torch.nn.Sequential(*model.layers).eval(), inputs)


def test_thop_leaves_the_model_as_it_was():
    pytest.importorskip("thop")
    model, inputs = built()
    before = {name for name, _ in model.named_buffers()}
    run_thop(model, inputs)
    assert {name for name, _ in model.named_buffers()} == before
