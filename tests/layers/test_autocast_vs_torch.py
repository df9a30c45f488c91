"""Each kind's place on torch.autocast's CPU op lists (layers/facts.py Autocast), against torch.

Golden facts: the dtype of the built layer's output under torch.autocast("cpu", torch.bfloat16),
given a float32 input (a layer on the lower list casts it: bfloat16 out) and a bfloat16 one (a layer
on the float32 list casts it: float32 out; the rest keep it). CUDA's lists are read from
aten/src/ATen/autocast_mode.cpp and held to torch on a GPU where one is lent."""
from __future__ import annotations

import pytest

from cnncalc.figures import analyze
from cnncalc.figures.amp import Amp
from cnncalc.layers import REGISTRY
from cnncalc.spec import build_graph
from layers.test_kinds_vs_torch import CASES, JOIN_CASES, PRODUCTS

torch = pytest.importorskip("torch")

from cnncalc.verify.build import build_model, sample_inputs  # noqa: E402
from cnncalc.verify.modules import _Recurrent  # noqa: E402
from cnncalc.verify.own import tensors  # noqa: E402

NOT_RUN = {"parameter", "constant"}  # no input to cast: float32 like the model
# comparisons make bool masks and argmax, argmin, topk's indices and argsort int64 positions, whatever
# autocast does
MASKS = {"eq", "ne", "gt", "ge", "lt", "le", "argmax", "argmin", "topkindices", "argsort"}
EXPECTED = {("lower", "float32"): "bfloat16", ("lower", "bfloat16"): "bfloat16",
            ("float32", "float32"): "float32", ("float32", "bfloat16"): "float32",
            ("promote", "float32"): "float32", ("promote", "bfloat16"): "bfloat16"}


def _output_dtype(graph, device: str, given: str, amp: str) -> str:
    model = build_model(graph, device)
    for module in model.modules():  # a user's recurrent layer, on oneDNN's path where the CPU has it
        if isinstance(module, _Recurrent):
            module.forward = lambda x, rnn=module.rnn: rnn(x)[0]
    inputs = tuple(t.to(getattr(torch, given)) if t.is_floating_point() else t
                   for t in sample_inputs(graph, 2, device))
    with torch.no_grad(), torch.autocast(device, dtype=getattr(torch, amp)):
        try:
            (out, *_) = tensors(model(*inputs))
        except RuntimeError as error:  # oneDNN has no bfloat16 LSTM on some CPUs (one without AVX-512): no truth here
            if "could not create a primitive descriptor" not in str(error):
                raise
            pytest.skip(f"torch cannot run it under autocast on this CPU: {str(error).splitlines()[0][:80]}")
    return str(out.dtype).removeprefix("torch.")


def _declared(kind: str, args: dict | None, shape, device: str) -> tuple:
    graph = build_graph({"input": list(shape), "layers": [{kind: args}]}, "<test>", {})
    return graph, REGISTRY[kind].autocast.policy(device, graph.nodes[-1].args)


@pytest.mark.parametrize("given", ["float32", "bfloat16"])
@pytest.mark.parametrize("kind,args,shape", [case[:3] for case in CASES if case[0] not in NOT_RUN | MASKS])
def test_cpu_autocast_runs_each_kind_where_it_declares(kind, args, shape, given):
    graph, placed = _declared(kind, args, shape, "cpu")
    assert _output_dtype(graph, "cpu", given, "bfloat16") == EXPECTED[placed, given], f"{kind} declares {placed}"


@pytest.mark.skipif(not torch.cuda.is_available(), reason="CUDA's lists need a GPU")
@pytest.mark.parametrize("given", ["float32", "float16"])
@pytest.mark.parametrize("kind,args,shape", [case[:3] for case in CASES if case[0] not in NOT_RUN | MASKS])
def test_cuda_autocast_runs_each_kind_where_it_declares(kind, args, shape, given):
    graph, placed = _declared(kind, args, shape, "cuda")
    expected = EXPECTED[placed, "bfloat16" if given == "float16" else given].replace("bfloat16", "float16")
    assert _output_dtype(graph, "cuda", given, "float16") == expected, f"{kind} declares {placed}"


def _graphs():
    joins = [{"input": list(shape), "layers": [{**a, "name": "a"}, {**b, "from": "input", "name": "b"},
                                               {kind: args, "from": ["a", "b"]}]}
             for kind, args, shape, a, b in JOIN_CASES]
    return [spec for spec in joins + PRODUCTS if next(iter(spec["layers"][-1])) not in MASKS]


@pytest.mark.parametrize("spec", _graphs(), ids=lambda spec: next(iter(spec["layers"][-1])))
def test_each_rows_dtype_follows_its_inputs_as_torch_does(spec):
    # a join of a bfloat16 branch (a conv) and a float32 one runs in float32, as type promotion has it
    graph = build_graph(spec, "<test>", {})
    report = analyze(graph, 2, amp=Amp(dtype="bfloat16", device="cpu"))
    assert report.layers[-1].dtype == _output_dtype(graph, "cpu", "float32", "bfloat16")
