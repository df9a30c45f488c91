"""Receptive fields against torch's gradients: for the first, middle and last unit of every layer
along each axis, the input pixels its gradient reaches must be exactly the interval cnncalc computes
(clipped to the image). All weights are made positive and max-pools average over the same window,
so that every pixel a unit reads reaches it with a nonzero gradient."""
from __future__ import annotations

import math
from dataclasses import replace

import torch

from ..errors import SpecError
from ..figures.report import Report, analyze
from ..figures.rf import receptive_fields, sample_units, unit_interval
from ..graph import INPUT, Graph, Node
from ..layers import REGISTRY
from .build import build_model, sample_inputs
from .verdict import Check

def check_fields(graph: Graph, report: Report, device: str = "cpu") -> list[Check]:
    """One check per layer with spatial units: the intervals its sampled units see, per axis. One
    forward pass of a thinned model serves every layer, one backward pass each (the zoo's 37 models
    at full size: 97 s on two CPU cores, densenet201's 705 layers 15 s). Ids (an integer input) have
    no gradient to follow."""
    if graph.input_dtype is not None:
        return []
    probe = _thin(replace(graph, nodes=tuple(probed(node) for node in graph.nodes)), report)
    model = with_positive_weights(build_model(probe, device, torch.float64))
    spatial, fields = len(graph.input_shape) - 1, receptive_fields(graph, report)
    # a layer with no field (after a layer per row, whose rows sit where channels are read) states none
    layers = [index for index, row in enumerate(report.node_rows)
              if len(row.output_shape) - 1 == spatial and fields[row.name] is not None]
    if not layers:
        return []
    x = torch.full((3 * spatial, *graph.input_shape), 1e-3, dtype=torch.float64, device=device, requires_grad=True)
    # the other inputs (a mask) as data: fields are of the first input
    others = sample_inputs(graph, 3 * spatial, device, torch.float64)[1:]
    values = {INPUT: x} | dict(zip(graph.input_names[1:], others))
    for node, layer in zip(graph.nodes[:layers[-1] + 1], model.layers):
        values[node.name] = layer(*(values[name] for name in node.inputs))
    checks = []
    for index in layers:
        node, shape = graph.nodes[index], report.node_rows[index].output_shape
        units = sample_units(shape[1:])
        expected = [[None if span is None else list(span) for span in unit_interval(graph, report, node.name, unit,
                                                                                     clip=True)] for unit in units]
        if all(span is None for spans in expected for span in spans):
            continue  # a parameter, or what only parameters feed: it sees no input, so nothing to reach
        checks.append(Check(layer=node.name, figure="receptive field", expected=expected,
                            measured=_reached(x, values[node.name], units),
                            formula=f"units {', '.join(map(str, units))}"))
    return checks


def _thin(graph: Graph, report: Report) -> Graph:
    """The same geometry with few channels, `width` of them where a kind makes its own (its field probe
    says how: a conv's in one group, whose spatial reach summed over channels is the same), so a
    gradient per unit is cheap. The graph itself when thinning changes a shape (a reshape that names
    channel counts)."""
    probes = [(node, REGISTRY[node.kind].field_probe) for node in graph.nodes]
    width = math.lcm(1, *(probe.width_multiple(node.args) for node, probe in probes if probe.width_multiple))
    nodes = []
    for node, probe in probes:
        kind = REGISTRY[node.kind]
        changes = {name: None for name in ([kind.torch.inferred.argument] if kind.torch.inferred else [])}
        if probe.thinned:
            changes.update(probe.thinned(node.args, width))
        written = {key: value for key, value in {**node.args, **changes}.items() if value is not None}
        nodes.append(replace(node, args=kind.normalize(written)) if changes else node)
    thin = replace(graph, nodes=tuple(nodes))
    try:
        rows = analyze(thin).layers
    except SpecError:
        return graph
    same = all(a.output_shape[1:] == b.output_shape[1:] for a, b in zip(rows, report.layers))
    return thin if same else graph


def probed(node: Node) -> Node:
    """A layer as the probe runs it: where its field probe names a stand-in (a max-pool's average pool,
    a norm's identity), that; any other as it is."""
    stand_in = REGISTRY[node.kind].field_probe.stand_in
    found = stand_in(node.kind, node.args) if stand_in else None
    if found is None:
        return node
    kind, args = found
    return replace(node, kind=kind, args=REGISTRY[kind].normalize(args))


def with_positive_weights(model: torch.nn.Module) -> torch.nn.Module:
    """Weights positive and summing to 1 over each output's fan-in, biases 0, normalization the identity,
    a tensor read directly (a layer scale, a gate) 1: every read pixel counts, none vanishes, and no value
    grows from layer to layer (a ReLU6 would clip it, and its gradient vanish). Within a fan-in the
    weights differ (by up to 43%), so that no gradient cancels: a softmax over the axis a linear mixes
    sums to one, and with equal weights its gradient through the linear would be exactly zero."""
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            if name.endswith("weight") and parameter.dim():
                varied = 1.0 + (torch.arange(parameter.numel(), dtype=parameter.dtype) % 7) / 14
                rows = varied.reshape(len(parameter), -1)
                parameter.copy_((rows / rows.sum(1, keepdim=True)).reshape(parameter.shape))
            else:
                parameter.fill_(0.0 if name.endswith("bias") else 1.0)
        for name, buffer in model.named_buffers():
            if name.endswith("running_var"):
                buffer.fill_(1.0)
            elif name.endswith("running_mean"):
                buffer.zero_()
    return model.eval()


def _reached(x: torch.Tensor, out: torch.Tensor, units: list) -> list:
    """Per sampled unit, per axis, the first and last input pixel with a nonzero gradient: each
    unit in its own batch element, so one backward pass gives them all."""
    (grad,) = torch.autograd.grad(sum(out[(b, slice(None), *unit)].sum() for b, unit in enumerate(units)), x,
                                  retain_graph=True)
    reached = []
    for b in range(len(units)):
        spatial = grad[b].abs().sum(0)
        reached.append([_span(spatial, axis) for axis in range(spatial.dim())])
    return reached


def _span(spatial: torch.Tensor, axis: int) -> list[int] | None:
    others = [d for d in range(spatial.dim()) if d != axis]
    line = (spatial.sum(others) if others else spatial).nonzero()
    return [int(line.min()), int(line.max())] if len(line) else None
