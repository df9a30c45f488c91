"""The model verify builds with checkpointed blocks (cnncalc/verify/checkpoint.py) runs as torch's
torch.utils.checkpoint does. Golden figures: FlopCounterMode over forward and backward of that model
and torch's own memory measurement (through verify)."""
from __future__ import annotations

import pytest

from cnncalc.figures import analyze
from cnncalc.figures.checkpoint import parse_names
from conftest import run_here
from figures.test_checkpoint import CASES, TINY, _graph, _ids


@pytest.mark.parametrize(("model", "names", "batch"), CASES, ids=_ids(CASES))
def test_recomputed_work_is_what_flop_counter_counts(model, names, batch):
    """FlopCounterMode over forward and backward of the checkpointed model: torch's forward count plus
    its backward's, which now runs the recomputation; its excess over the model without checkpoints
    is the recomputation's, twice the recompute MACs where every recomputed layer is a conv or a
    linear (torch counts nothing else)."""
    torch = pytest.importorskip("torch")
    from torch.utils.flop_counter import FlopCounterMode

    from cnncalc.verify.build import build_model, sample_inputs

    graph = _graph(model)
    counted = analyze(graph, batch, convention_name="torch", checkpoint=parse_names(names))
    plain = build_model(graph).train()
    flops = []
    for run in (plain, plain.checkpointed(graph, counted.checkpoint)):
        with FlopCounterMode(display=False) as counter:
            run(*sample_inputs(graph, batch)).sum().backward()
        flops.append(counter.get_total_flops())
    assert counted.totals.ops + counted.totals.backward_ops == flops[1]
    report = analyze(graph, batch, checkpoint=parse_names(names))
    if all(row.kind in ("conv2d", "linear") for row in report.layers if row.recompute_macs):
        assert flops[1] - flops[0] == 2 * report.totals.recompute_macs
    assert report.totals.training_step_macs == report.totals.macs + report.totals.backward_macs \
        + report.totals.recompute_macs


def test_verify_checks_the_checkpointed_step():
    pytest.importorskip("torch")
    result = run_here("verify", TINY, "--checkpoint", "stem,down", "--batch", "8", "--optimizer", "sgd")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "training step memory (sgd, batch 8, checkpointing 2 blocks)" in result.stdout
