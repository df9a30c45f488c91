"""The memory model on real torchvision and timm models, against torch's measured peaks (the CPU
allocator's records: cnncalc.verify.memory), and the zoo models against their torchvision twins.
They need torchvision and timm (`pytest -m libraries`; the whole-model passes also `-m slow`)."""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.libraries
pytest.importorskip("torchvision")
pytest.importorskip("timm")

from cnncalc.figures import analyze  # noqa: E402
from cnncalc.figures.memory import memory  # noqa: E402
from cnncalc.model import load_graph  # noqa: E402
from cnncalc.verify.build import build_model  # noqa: E402
from cnncalc.importing.libraries import load_module  # noqa: E402
from cnncalc.verify.memory import measure_inference, measure_training  # noqa: E402

# squeeze-and-excitation, in-place hardswish and silu, stochastic depth, a global average pool
MODELS = ["torchvision:efficientnet_b0", "torchvision:mobilenet_v3_small", "torchvision:mobilenet_v3_large",
          "timm:efficientnet_b0", "timm:mobilenetv3_small_100", "timm:convnext_atto"]  # and dropout at p = 0


@pytest.mark.slow
@pytest.mark.parametrize("model", MODELS)
def test_memory_within_ten_percent_of_torch(model):
    # measured on the library's own module (its forward() as written) and on the one verify builds
    graph = load_graph(model)
    own = load_module(model, {}, on_meta=False).module
    missed = []
    for origin, module in (("own module", own.eval()), ("rebuilt", build_model(graph))):
        for batch in (1, 2):
            report = analyze(graph, batch)
            runs = [("inference", measure_inference(module, graph.input_shape, batch),
                     memory(graph, report).peak_inference_bytes)]
            for optimizer in ("sgd", "momentum", "adam"):
                runs.append((f"training ({optimizer})", measure_training(module, graph.input_shape, batch, optimizer),
                             memory(graph, report, optimizer).training_bytes))
            missed += [f"{origin}, batch {batch} {what}: predicted {predicted:,}, measured {measured:,} "
                       f"({measured / predicted:.3f})" for what, measured, predicted in runs
                       if not 0.9 <= measured / predicted <= 1.1]
    assert not missed, f"{model}: " + "; ".join(missed)


@pytest.mark.parametrize("zoo, twin", [("mobilenet_v3_small", "torchvision:mobilenet_v3_small"),
                                       ("mobilenet_v3_large", "torchvision:mobilenet_v3_large"),
                                       ("mobilenet_v2", "torchvision:mobilenet_v2")])
def test_the_zoo_model_and_its_torchvision_twin_agree(zoo, twin):
    # the twin is read from torchvision's own modules (their in-place flags included); the zoo spec
    # is written by hand: each row's figures and the memory model's must be the same
    ours, theirs = load_graph(zoo), load_graph(twin)
    assert [node.kind for node in ours.nodes] == [node.kind for node in theirs.nodes]
    for batch in (1, 2):
        mine, torchvisions = analyze(ours, batch), analyze(theirs, batch)
        for row, other in zip(mine.layers, torchvisions.layers):
            for figure in ("output_shape", "params", "macs", "activations", "allocates"):
                assert getattr(row, figure) == getattr(other, figure), f"{row.name} / {other.name}: {figure}"
        for optimizer in ("sgd", "adam"):
            a, b = memory(ours, mine, optimizer), memory(theirs, torchvisions, optimizer)
            assert (a.peak_inference_bytes, a.saved_bytes, a.training_bytes) == \
                   (b.peak_inference_bytes, b.saved_bytes, b.training_bytes)


@pytest.mark.parametrize("model, names", [("torchvision:resnet18", "layer*"),
                                          ("torchvision:mobilenet_v3_small", "features.*")])
def test_checkpointing_the_libraries_own_submodules(model, names):
    """`verify --checkpoint` on the user's module wraps each named submodule's forward in
    checkpoint(..., use_reentrant=False): the library's own module, measured against the prediction."""
    from cnncalc.model import load_target
    from cnncalc.verify.memory import check_memory

    target = load_target(model, {}, None, None, ())
    (_, trained) = check_memory(target.graph, target.module, analyze(target.graph, 2), lambda what: None, "sgd",
                                (names,))
    assert "checkpointing" in trained.figure
    assert 0.995 <= trained.ratio <= 1.005, f"predicted {trained.predicted:,}, measured {trained.measured:,}"
