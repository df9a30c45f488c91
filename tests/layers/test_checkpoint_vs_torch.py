"""What a checkpointed layer's recomputation runs, against torch.utils.checkpoint.

Golden facts: the aten ops torch runs inside `checkpoint(layer, x, use_reentrant=False)` in the
forward pass and again in backward's recomputation, which stops as soon as the last saved tensor is
packed (early stop): a layer whose last saved tensor is something its kernel computes runs again
whole; one that saves only what it reads stops before its kernel. Each kind declares which it is
(MemoryFacts.saves_results); this holds the declaration to torch for every kind."""
from __future__ import annotations

import pytest

from cnncalc.figures import analyze
from cnncalc.figures.checkpoint import recompute_plan
from cnncalc.spec import build_graph
from layers.test_kinds_vs_torch import CASES
from layers.test_saved_vs_torch import IN_PLACE

torch = pytest.importorskip("torch")
from torch.utils._python_dispatch import TorchDispatchMode  # noqa: E402

from cnncalc.verify.build import build_model  # noqa: E402

NOT_RUN = {"parameter", "constant"}  # no input: nothing to track
# what checkpoint's own hooks run while recomputing (the detached copy of each tensor it keeps)
BOOKKEEPING = {"detach", "alias", "lift_fresh"}
# ops after a layer's last saved tensor that make none of its output, so never run again: instance
# norm's update of its running statistics (its output is made again), a recurrent layer's stacking
# of its states and outputs
TRAILING = {"instancenorm1d": {"mean", "copy_"}, "instancenorm2d": {"mean", "copy_"},
            "instancenorm3d": {"mean", "copy_"}, "lstm": {"stack", "cat", "transpose_"},
            "gru": {"stack", "cat", "transpose_"}, "rnn": {"stack", "cat", "transpose_"}}
# composites whose last step's final product saves what it reads, so is not run again (LSTM's
# h = o·tanh(c) and its projection, GRU's (1 - z)·n + z·h, their cells' too): cnncalc counts the whole
# layer as run again, every step's products but that one's
PARTLY = {"lstm", "gru", "grucell", "lstmcell"}


def _fused(kind: str, args: dict | None) -> bool:
    """An LSTM without projections, which the CPU runs as oneDNN's one fused op (float32): run again whole."""
    return kind == "lstm" and not (args or {}).get("proj_size")


class _Phases(TorchDispatchMode):
    """The ops run under checkpoint's forward hook, and under its recomputation hook."""

    def __init__(self):
        super().__init__()
        self.ops = {"forward": [], "recompute": []}

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        hooks = torch._C._autograd._top_saved_tensors_default_hooks(False)
        phase = None
        if hooks is not None:
            name = getattr(hooks[0], "__qualname__", "")
            phase = "recompute" if "_recomputation_hook" in name else "forward" if "_checkpoint_hook" in name else None
        # views make no tensor: whether a trailing squeeze runs again does not matter
        if phase and func.overloadpacket.__name__ not in BOOKKEEPING and not func.is_view:
            self.ops[phase].append(str(func.overloadpacket))
        return func(*args, **(kwargs or {}))


CHECKPOINTED = [pytest.param(kind, args, shape, id=f"{kind}-{index}", marks=pytest.mark.xfail(
                    strict=True, reason="its last step's final product is not run again")
                    if kind in PARTLY and not _fused(kind, args) else ())
                for index, (kind, args, shape) in enumerate(CASES + IN_PLACE) if kind not in NOT_RUN]


@pytest.mark.parametrize("kind,args,shape", CHECKPOINTED)
def test_recomputation_runs_what_the_kind_declares(kind, args, shape):
    # input + a trainable tensor of its shape, so the layer's input is tracked; the layer checkpointed alone
    # the layer checkpointed after a negation (which saves nothing), so that one in place does not
    # overwrite the checkpoint's own input, which torch refuses
    spec = {"input": list(shape), "layers": [{"parameter": {"shape": list(shape)}, "name": "w"},
                                             {"add": None, "from": ["input", "w"], "name": "x"},
                                             {"sequential": [{"neg": None}, {kind: args}], "name": "block"}]}
    graph = build_graph(spec, "<test>", {})
    report = analyze(graph, 2, checkpoint=["block"])
    (plan,) = recompute_plan(graph, {row.name: row for row in report.layers}, report.checkpoint)
    model = build_model(graph, checkpoint=report.checkpoint).train()
    phases = _Phases()
    with phases:
        out = model(torch.randn(2, *shape))
        if out.requires_grad:
            out.float().mean().backward()
    forward, again = phases.ops["forward"], phases.ops["recompute"]
    while forward and forward[-1].removeprefix("aten.") in TRAILING.get(kind, ()):
        forward.pop()
    if plan.last is None:  # saves nothing: nothing to recompute
        assert again == []
        return
    assert again == forward[:len(again)]
    assert plan.runs_last == (again == forward), f"forward ran {forward}, the recomputation {again}"


def test_rng_state_is_what_checkpoint_keeps():
    from cnncalc.figures.checkpoint import RNG_STATE_BYTES

    state = torch.get_rng_state()
    assert state.untyped_storage().nbytes() == RNG_STATE_BYTES
