"""`--reference torchvision`: compare the spec with torchvision's own model of the same name.

Proves the spec is the real architecture: total parameters, and the output shape of every top-level
module of torchvision's model that the spec names too (stages, blocks, heads).
"""
from __future__ import annotations

import torch

from ..errors import SpecError
from ..figures.report import Report
from ..graph import Graph
from .verdict import Check

# torchvision builds these with auxiliary classifiers unless told not to
BUILD_ARGUMENTS = {"googlenet": {"aux_logits": False, "init_weights": False},
                   "inception_v3": {"aux_logits": False, "init_weights": False}}


def torchvision_model(name: str) -> torch.nn.Module:
    try:
        import torchvision
    except ImportError:
        raise SpecError("--reference torchvision needs torchvision installed beside torch") from None
    if name not in torchvision.models.list_models():
        raise SpecError(f"torchvision has no model named '{name}' to compare with")
    return torchvision.models.get_model(name, weights=None, **BUILD_ARGUMENTS.get(name, {})).eval()


def reference_checks(graph: Graph, report: Report) -> list[Check]:
    model = torchvision_model(graph.name)
    shapes = {}
    hooks = [module.register_forward_hook(lambda m, i, out, name=name: shapes.__setitem__(name, tuple(out.shape[1:])))
             for name, module in model.named_children()]
    with torch.no_grad():
        model(torch.randn(1, *graph.input_shape))
    for hook in hooks:
        hook.remove()
    ours = {row.name: row.output_shape for row in report.layers}
    for row in report.layers:  # a group's output is its last layer's
        for scope in row.scopes:
            ours[scope.name] = row.output_shape
    checks = [Check("total", "torchvision params", report.totals.params,
                    sum(p.numel() for p in model.parameters()))]
    checks += [Check(name, "torchvision shape", ours[name], shape) for name, shape in shapes.items() if name in ours]
    return checks
