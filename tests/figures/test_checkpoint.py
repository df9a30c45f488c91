"""`--checkpoint`: blocks run through torch.utils.checkpoint(block, x, use_reentrant=False).

Golden figures from torch: the model built from the spec with those blocks checkpointed, its
steady-state training step measured by the CPU allocator's records (verify/memory.py), and
FlopCounterMode over its forward and backward passes, which counts the recomputation in backward.
Which layers a kind's recomputation runs again is held per kind in
tests/layers/test_checkpoint_vs_torch.py."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

import cnncalc
import cnncalc.spec
from cnncalc.errors import SpecError
from cnncalc.figures import analyze
from cnncalc.figures.checkpoint import checkpointed, parse_names
from cnncalc.model import load_graph
from conftest import run_cli

ROOT = Path(__file__).resolve().parent.parent.parent
TINY = str(ROOT / "examples" / "tiny.yaml")
DECODER = str(ROOT / "examples" / "decoder.yaml")

# (model, names, batch): blocks ending in a layer that saves its result (a ReLU: run again whole),
# single convs (saving what they read: never run again), a block inside a residual, a dense block,
# a decoder's
# a deep stack of conv blocks, each saving three tensors of its own
STACK = {"input": [8, 16, 16], "layers": [{"sequential": [
    {"conv2d": {"out_channels": 8, "kernel_size": 3, "padding": 1}}, {"batchnorm2d": None}, {"relu": None}],
    "name": f"b{index}"} for index in range(8)] + [{"flatten": None}, {"linear": {"out_features": 4}}]}
# the whole-model measurements of resnet18 and mobilenet_v2 run in the slow set (about a minute)
CASES = [(TINY, "stem,down", 8), (TINY, "down", 8), ("lenet5", "0.conv2d,3.conv2d", 8),
         ("lenet5", "*linear", 4), (DECODER, "*", 2), (STACK, "b*", 4), (STACK, "b1,b3,b5", 4),
         pytest.param("resnet18", "layer*", 2, marks=pytest.mark.slow),
         pytest.param("resnet18", "layer2.1,layer3.*", 2, marks=pytest.mark.slow),
         pytest.param("mobilenet_v2", "features.1?", 2, marks=pytest.mark.slow)]


def _graph(model):
    return cnncalc.spec.build_graph(model, "<test>", {}) if isinstance(model, dict) else load_graph(model)


def _ids(cases):
    return ["-".join(["stack" if isinstance(values[0], dict) else Path(values[0]).stem, values[1], f"b{values[2]}"])
            for values in (getattr(case, "values", case) for case in cases)]


@pytest.mark.parametrize(("model", "names", "batch"), CASES, ids=_ids(CASES))
def test_training_step_memory_is_what_torch_measures(model, names, batch):
    pytest.importorskip("torch")
    from cnncalc.verify.build import build_model
    from cnncalc.verify.memory import check_memory

    graph = _graph(model)
    checks = check_memory(graph, build_model(graph), analyze(graph, batch), lambda what: None, "sgd",
                          parse_names(names))
    for check in checks:
        assert 0.995 <= check.ratio <= 1.005, f"{check.figure}: predicted {check.predicted:,}, " \
                                              f"measured {check.measured:,} ({check.ratio:.4f})"


def test_checkpointing_frees_the_inner_activations_of_a_deep_stack():
    """The reason to checkpoint, measured: a deep stack keeps one input per block, and one block's
    activations at a time in backward."""
    pytest.importorskip("torch")
    from cnncalc.verify.build import build_model
    from cnncalc.verify.memory import check_memory

    graph = _graph(STACK)
    model = build_model(graph)
    (_, plain), (_, saved) = (check_memory(graph, model, analyze(graph, 16), lambda what: None, "sgd", names)
                              for names in ((), ("b*",)))
    assert saved.measured < 0.7 * plain.measured
    assert 0.995 <= saved.ratio <= 1.005 and 0.995 <= plain.ratio <= 1.005


def test_a_glob_names_the_outermost_blocks_it_matches():
    graph = load_graph("resnet18")
    assert [block.name for block in checkpointed(graph, ["layer*"])] == ["layer1", "layer2", "layer3", "layer4"]
    assert [block.name for block in checkpointed(graph, ["layer1.*"])] == ["layer1.0", "layer1.1"]
    # a layer's own name checkpoints it alone; a block and a layer inside it: the block
    assert [(b.name, b.stop - b.start) for b in checkpointed(graph, ["conv1"])] == [("conv1", 1)]
    assert [block.name for block in checkpointed(graph, ["layer1", "layer1.0.conv1"])] == ["layer1"]
    assert parse_names(["layer1, layer2", "fc"]) == ("layer1", "layer2", "fc")


def test_an_unknown_name_is_one_line_naming_the_closest():
    with pytest.raises(SpecError, match=r"no layer or block named 'layr1' \(did you mean 'layer1'\?\)"):
        analyze(load_graph("resnet18"), checkpoint=["layr1"])
    result = run_cli("table", "resnet18", "--checkpoint", "layer1,layr9")
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and "did you mean" in result.stderr
    assert run_cli("fit", "resnet18", "--memory", "8GB", "--checkpoint", "nope").returncode == 2


def test_the_totals_and_json_show_the_checkpoint():
    result = run_cli("table", "resnet18", "--checkpoint", "layer*", "--format", "json")
    assert result.returncode == 0, result.stderr
    totals = json.loads(result.stdout)["totals"]
    assert totals["memory"]["checkpoint"] == ["layer1", "layer2", "layer3", "layer4"]
    assert totals["recompute_macs"] > 0
    assert totals["training_step_macs"] == totals["macs"] + totals["backward_macs"] + totals["recompute_macs"]
    plain = json.loads(run_cli("table", "resnet18", "--format", "json").stdout)["totals"]
    assert plain["recompute_macs"] == 0 and plain["memory"]["checkpoint"] == []
    text = run_cli("table", "resnet18", "--checkpoint", "layer*", "--batch", "8").stdout
    assert "checkpointed" in text and "layer1, layer2, layer3, layer4" in text and "recompute MACs" in text


def test_summary_and_fit_take_the_checkpoint():
    plain = cnncalc.summary("resnet18", batch=16, optimizer="sgd")
    saved = cnncalc.summary("resnet18", batch=16, optimizer="sgd", checkpoint="layer*")
    assert saved.memory.checkpoint == ("layer1", "layer2", "layer3", "layer4")
    assert saved.memory.training_bytes < plain.memory.training_bytes
    assert saved.totals.recompute_macs > 0 and plain.totals.recompute_macs == 0
    more = saved.fits("2GB")
    assert more.checkpoint == saved.memory.checkpoint
    assert more.training_batch > plain.fits("2GB").training_batch
    assert saved.fits("2GB", checkpoint=[]).training_batch == plain.fits("2GB").training_batch
    assert "checkpointed: layer1" in run_cli("fit", "resnet18", "--memory", "2GB", "--checkpoint", "layer*").stdout


def test_the_batch_fit_names_with_checkpoints_fits_when_measured(tmp_path):
    pytest.importorskip("torch")
    import yaml

    from cnncalc.verify.fit import check_fit

    (tmp_path / "stack.yaml").write_text(yaml.safe_dump(STACK))
    spec = str(tmp_path / "stack.yaml")
    found = cnncalc.summary(spec, optimizer="sgd", checkpoint="b*").fits("2MB")
    assert found.training_batch > cnncalc.summary(spec, optimizer="sgd").fits("2MB").training_batch
    measured = check_fit(load_graph(spec), found)
    assert [m.fits for m in measured] == [True, False, True, False], measured


def test_a_block_overwriting_its_input_in_place_is_refused_as_torch_fails_on_it():
    torch = pytest.importorskip("torch")
    from cnncalc.verify.build import build_model, sample_inputs

    spec = {"input": [4, 8, 8], "layers": [{"conv2d": {"out_channels": 4, "kernel_size": 1}, "name": "c"},
                                           {"sequential": [{"relu": {"inplace": True}},
                                                           {"conv2d": {"out_channels": 4, "kernel_size": 1}}],
                                            "name": "block"}]}
    graph = cnncalc.spec.build_graph(spec, "<test>", {})
    with pytest.raises(SpecError, match=r"--checkpoint block: its layer 'block.0.relu' overwrites the block's input"):
        analyze(graph, checkpoint=["block"])
    from cnncalc.figures.checkpoint import Checkpointed  # torch itself, on the block checkpointed as named

    model = build_model(graph, checkpoint=(Checkpointed(name="block", start=1, stop=3),)).train()
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        model(*sample_inputs(graph, 2)).sum().backward()
