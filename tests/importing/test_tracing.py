"""Running a module on the meta device to record it: a mapped module's output is worked out from its
kind's calculator instead of running it, as torch computes it."""
from __future__ import annotations

import pytest

from cnncalc.layers import REGISTRY
from conftest import one_layer
from layers.test_kinds_vs_torch import CASES

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("kind,args,shape", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_the_tracer_works_out_a_module_output_as_torch_computes_it(kind, args, shape):
    # the tracer takes a mapped module's output shape from its kind's calculator instead of running it
    from cnncalc.verify.build import make_module
    from cnncalc.importing.forms import module_arguments
    from cnncalc.importing.tracing import worked_out

    node = one_layer(kind, args, shape).nodes[0]
    x = torch.randn(2, *shape)
    module = make_module(node, x.shape).eval()
    worked = worked_out(module_arguments(module), (x.to("meta"),), {})
    one_tensor = REGISTRY[kind].kin.one_tensor
    if one_tensor:  # as the family declares: one tensor of its input's type, in torch too
        assert isinstance(module(x), torch.Tensor) and module(x).dtype == x.dtype
    assert (worked is not None) == one_tensor
    if worked is not None:
        assert (worked.shape, worked.dtype) == (module(x).shape, x.dtype)


def test_the_run_finds_each_tensor_once_as_torch_names_it():
    # golden: torch's named_parameters() and named_buffers() (each tensor once, by its first path)
    from torch import nn

    from cnncalc.importing.tracing import _named

    shared = nn.Sequential(nn.Linear(4, 4), nn.BatchNorm1d(4))
    model = nn.ModuleDict({"a": shared, "b": shared, "c": nn.Linear(4, 4, bias=False), "d": nn.Linear(4, 4)})
    model["d"].weight = model["c"].weight  # tied
    model.register_buffer("step", torch.zeros(()))
    model.d.register_buffer("alias", model.step)  # the same buffer under two paths
    modules = dict(model.named_modules())
    for where, torchs in (("_parameters", model.named_parameters()), ("_buffers", model.named_buffers())):
        assert [(name, id(t)) for name, t in _named(modules, where).items()] == [(name, id(t)) for name, t in torchs]


def test_the_module_tree_is_torchs_named_modules():
    # golden: torch's named_modules() (each module once, by its first path, in its order)
    from torch import nn

    from cnncalc.importing.tracing import _module_tree

    shared = nn.Sequential(nn.Linear(4, 4), nn.ReLU())
    model = nn.ModuleDict({"a": shared, "b": nn.Sequential(shared, nn.Identity()), "c": None,
                           "d": nn.ModuleList([nn.Sequential(nn.Linear(4, 4)), nn.GELU()])})
    model.b.register_module("empty", None)
    assert [(path, id(m)) for path, m in _module_tree(model).items()] == \
        [(path, id(m)) for path, m in model.named_modules()]


def test_the_run_leaves_each_modules_call_as_it_was():
    # the run goes through each module's _compiled_call_impl, where module.compile() keeps its own
    import cnncalc
    from torch import nn

    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(144, 2))
    compiled = model[3]._compiled_call_impl = lambda *args, **kwargs: None  # as module.compile() sets it
    assert cnncalc.summary(model, (3, 8, 8)).totals.params == sum(p.numel() for p in model.parameters())
    assert model[3].__dict__["_compiled_call_impl"] is compiled
    assert all("_compiled_call_impl" not in part.__dict__ for part in model[:3])
    assert model(torch.randn(1, 3, 8, 8)) is None  # torch calls the module's own again
