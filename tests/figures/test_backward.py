"""Backward work through whole models: what torch skips is skipped (no input gradient where the input
requires none, no weight gradient for frozen layers, nothing before the first trained layer or off
the path to the output), zoo models, and where the figures are shown (table, JSON, check, verify).

Golden figures: FlopCounterMode over `model(x).sum().backward()` on the model built from the spec, the
forward's count taken away (conftest.py: compare_backward).
"""
from __future__ import annotations

import json
import re

import pytest

from cnncalc.figures import analyze
from cnncalc.spec import build_graph
from cnncalc.spec.zoo import load_model
from conftest import compare_backward, run_cli

torch = pytest.importorskip("torch")

CONV = {"out_channels": 8, "kernel_size": 3, "padding": 1}


def _graph(layers: list, shape=(3, 12, 12)):
    return build_graph({"input": list(shape), "layers": layers}, "<test>", {})


def _rows(report) -> dict:
    return {row.name: row for row in report.layers}


def test_a_frozen_stem_computes_no_gradient_and_the_first_trained_layer_none_for_its_input():
    report = compare_backward(_graph([
        {"conv2d": CONV, "name": "stem", "frozen": True}, {"batchnorm2d": None, "name": "bn", "frozen": True},
        {"relu": None, "name": "act"}, {"conv2d": {**CONV, "groups": 2}, "name": "first"},
        {"conv2d": CONV, "name": "second"}, {"flatten": None}, {"linear": {"out_features": 5}, "name": "head"}]))
    rows = _rows(report)
    assert rows["stem"].backward_macs == 0
    assert rows["first"].backward_macs == rows["first"].macs  # its filters' gradient only
    assert rows["second"].backward_macs == 2 * rows["second"].macs  # its input's and its filters'
    assert rows["head"].backward_macs == 2 * rows["head"].macs


def test_a_frozen_layer_after_a_trained_one_still_passes_its_input_gradient():
    report = compare_backward(_graph([
        {"conv2d": CONV, "name": "trained"}, {"relu": None},
        {"conv2d": CONV, "name": "frozen", "frozen": True}, {"flatten": None},
        {"linear": {"out_features": 5}, "name": "head", "frozen": True}]))
    rows = _rows(report)
    assert rows["trained"].backward_macs == rows["trained"].macs  # its filters' gradient: the input has none
    assert rows["frozen"].backward_macs == rows["frozen"].macs  # its input's gradient: no filters' gradient
    assert rows["head"].backward_macs == rows["head"].macs


def test_every_parameter_frozen_is_no_backward_at_all():
    report = compare_backward(_graph([{"conv2d": CONV, "frozen": True}, {"flatten": None},
                                      {"linear": {"out_features": 5}, "frozen": True}]))
    assert report.totals.backward_macs == 0
    assert report.totals.training_step_macs == report.totals.macs


def test_a_layer_frozen_in_part_computes_the_gradients_of_the_part_that_trains():
    # BitFit: weights frozen, biases trained (a bias's gradient is a sum: no MACs); and the other way round
    report = compare_backward(_graph([
        {"conv2d": CONV, "name": "stem", "frozen": "weights"}, {"relu": None},
        {"conv2d": CONV, "name": "middle", "frozen": "biases"}, {"flatten": None},
        {"linear": {"out_features": 5}, "name": "head", "frozen": "weights"}]))
    rows = _rows(report)
    assert rows["stem"].backward_macs == 0 and rows["stem"].trainable_params == 8
    assert rows["middle"].backward_macs == 2 * rows["middle"].macs and rows["middle"].trainable_params == 8 * 8 * 9
    assert rows["head"].backward_macs == rows["head"].macs and rows["head"].trainable_params == 5


def test_a_branch_off_the_path_to_the_output_computes_nothing():
    report = compare_backward(_graph([{"conv2d": CONV, "name": "kept"},
                                      {"conv2d": CONV, "name": "unused", "from": "input"},
                                      {"relu": None, "from": "kept"}]))
    assert _rows(report)["unused"].backward_macs == 0 and _rows(report)["kept"].backward_macs > 0


def test_layers_sharing_weights_share_their_freezing():
    # b uses a's filters; freezing either freezes both, as requires_grad_ on one module freezes the tensors
    for frozen in ("a", "b"):
        layers = [{"conv2d": CONV, "name": "a"}, {"relu": None},
                  {"conv2d": CONV, "name": "b", "weights_of": "a", "from": "input"},
                  {"add": None, "from": ["a", "b"], "name": "sum"}, {"conv2d": CONV, "name": "top"}]
        layers[0 if frozen == "a" else 2]["frozen"] = True
        report = compare_backward(_graph([{**layer, "frozen": layer.get("frozen", False)} for layer in layers]))
        assert _rows(report)["a"].backward_macs == _rows(report)["b"].backward_macs == 0


def test_the_input_gradient_of_a_crop_goes_to_what_it_crops_not_to_the_shape_it_reads():
    report = compare_backward(_graph([{"conv2d": CONV, "name": "wide"},
                                      {"conv2d": {**CONV, "padding": 0}, "name": "narrow", "from": "input"},
                                      {"crop": None, "from": ["wide", "narrow"]}]))
    assert _rows(report)["narrow"].backward_macs == 0


@pytest.mark.parametrize("groups,tracked", [(2, False), (4, True), (8, True)])
def test_a_grouped_conv_backward_is_the_work_of_its_groups_done_apart(groups, tracked):
    # golden: FlopCounterMode over the same conv written as `groups` convs of 8/groups channels each,
    # where its rule is the work (it counts a grouped conv's filters' gradient over every channel pair)
    from torch.utils.flop_counter import FlopCounterMode

    conv = {"conv2d": {"out_channels": 8, "kernel_size": 3, "groups": groups, "bias": False}}
    layers = [{"parameter": {"shape": [8, 10, 10]}, "name": "p"}, {"add": None, "from": ["input", "p"]}, conv]
    report = analyze(_graph(layers if tracked else [conv], (8, 10, 10)), batch=2)
    x = torch.randn(2, 8, 10, 10)
    shift = torch.nn.Parameter(torch.zeros(1, 8, 10, 10))
    apart = [torch.nn.Conv2d(8 // groups, 8 // groups, 3, bias=False) for _ in range(groups)]
    counter = FlopCounterMode(display=False)
    with counter:
        pieces = (x + shift if tracked else x).chunk(groups, 1)
        out = torch.cat([each(piece) for each, piece in zip(apart, pieces)], 1)
        forward = counter.get_total_flops()
        out.sum().backward()
    assert 2 * report.layers[-1].backward_macs == counter.get_total_flops() - forward
    assert report.layers[-1].backward_macs == (2 if tracked else 1) * report.layers[-1].macs


def test_what_parameters_alone_make_is_differentiated_once_per_batch_and_rows_per_row():
    once = {"input": [10, 8], "layers": [{"parameter": {"shape": [8, 5]}, "name": "w"},
                                         {"parameter": {"shape": [5, 5]}, "name": "p"},
                                         {"matmul": None, "from": ["w", "p"], "name": "wp"},
                                         {"matmul": None, "from": ["input", "wp"]}]}
    report = compare_backward(build_graph(once, "<test>", {}), batch=3)
    assert _rows(report)["wp"].backward_macs == 2 * _rows(report)["wp"].macs == 2 * 8 * 5 * 5
    rows = _graph([{"linear": {"out_features": 6}}, {"relu": None},
                   {"conv1d": {"out_channels": 5, "kernel_size": 3}, "per_row": True}], (4, 6, 12))
    assert compare_backward(rows, batch=3).totals.backward_macs > 0


VIT_LIKE = {"input": [3, 32, 32], "layers": [
    {"conv2d": {"out_channels": 64, "kernel_size": 8, "stride": 8}, "name": "patches"},
    {"flatten": {"start_dim": 2}}, {"transpose": {"dim0": 1, "dim1": 2}, "name": "tokens"},
    {"parameter": {"shape": [16, 64]}, "name": "position"},
    {"add": None, "from": ["tokens", "position"], "name": "x0"},
    {"layernorm": {"normalized_shape": 64}, "name": "ln1"},
    {"multiheadattention": {"num_heads": 4, "batch_first": True}, "name": "attn"},
    {"add": None, "from": ["x0", "attn"], "name": "x1"},
    {"layernorm": {"normalized_shape": 64}},
    {"linear": {"out_features": 128}}, {"gelu": None}, {"linear": {"out_features": 64}, "name": "mlp"},
    {"add": None, "from": ["x1", "mlp"]},
    {"mean": {"dim": 1}}, {"linear": {"out_features": 10}}]}


@pytest.mark.parametrize("model", ["resnet18", "mobilenet_v2", "vit-like"])
def test_zoo_models_backward_matches_torch(model):
    graph = build_graph(VIT_LIKE, "<test>", {}) if model == "vit-like" else load_model(model).with_input((3, 64, 64))
    report = compare_backward(graph, batch=1)
    assert report.totals.backward_macs > report.totals.macs


@pytest.mark.slow
def test_resnet18_at_full_size_backward_matches_torch():
    # 1,814,073,344 MACs forward; backward twice that less the first conv's input gradient (118,013,952)
    report = compare_backward(load_model("resnet18"), batch=1)
    assert report.totals.backward_macs == 2 * 1_814_073_344 - 118_013_952


def test_totals_json_and_table_carry_backward_and_training_step_work():
    data = json.loads(run_cli("table", "lenet5", "--format", "json").stdout)
    totals = data["totals"]
    assert totals["training_step_macs"] == totals["macs"] + totals["backward_macs"] > totals["macs"]
    assert totals["backward_flops"] == 2 * totals["backward_macs"]
    assert sum(layer["backward_macs"] for layer in data["layers"]) == totals["backward_macs"]
    table = run_cli("table", "lenet5").stdout
    assert re.search(rf"│ backward MACs +{totals['backward_macs']:,} ", table)
    assert re.search(rf"│ training step MACs +{totals['training_step_macs']:,} ", table)
    assert "fvcore counts the forward pass only" in run_cli("table", "lenet5", "--convention", "fvcore").stdout
    torch_table = run_cli("table", "lenet5", "--convention", "torch").stdout
    assert re.search(rf"│ torch backward ops +{totals['backward_flops']:,} ", torch_table)  # no grouped conv


def test_check_holds_backward_macs_to_the_tighter_budget(tmp_path):
    backward = analyze(load_model("lenet5")).totals.backward_macs
    spec = tmp_path / "net.yaml"
    spec.write_text("input: [1, 28, 28]\nbudget: {max_backward_macs: %d}\nlayers:\n"
                    "  - conv2d: {out_channels: 4, kernel_size: 5}\n  - flatten:\n  - linear: {out_features: 10}\n"
                    % 10**9)
    own = analyze(build_graph({"input": [1, 28, 28], "layers": [
        {"conv2d": {"out_channels": 4, "kernel_size": 5}}, {"flatten": None},
        {"linear": {"out_features": 10}}]}, "<t>", {})).totals.backward_macs
    assert backward and run_cli("check", str(spec)).returncode == 0
    failed = run_cli("check", str(spec), "--max-backward-macs", str(own - 1))
    assert failed.returncode == 1 and f"backward MACs {own:,} exceed the budget of {own - 1:,}" in failed.stdout
    assert run_cli("check", str(spec), "--max-backward-macs", str(own)).returncode == 0
    spec.write_text(spec.read_text().replace(str(10**9), str(own - 1)))  # the spec's own, tighter than 1G
    assert run_cli("check", str(spec), "--max-backward-macs", "1G").returncode == 1


def test_verify_checks_backward_macs_and_names_the_layers_that_differ():
    from cnncalc.layers import REGISTRY
    from cnncalc.layers.facts import BackwardFacts, BackwardWork
    from cnncalc.verify.run import verify

    graph = load_model("lenet5")
    check = next(c for c in verify(graph).checks if c.figure == "torch backward ops")
    assert check.ok and check.expected == 2 * analyze(graph).totals.backward_macs > 0
    kind = REGISTRY["linear"]
    original = kind.backward
    object.__setattr__(kind, "backward", BackwardFacts(differentiates="each input",
                                                       work=lambda s, a, c, g: BackwardWork(inputs=0, parameters=0)))
    try:
        check = next(c for c in verify(graph).checks if c.figure == "torch backward ops")
    finally:
        object.__setattr__(kind, "backward", original)
    assert not check.ok and "linear" in check.formula
