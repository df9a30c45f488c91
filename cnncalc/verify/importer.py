"""Import a PyTorch model: trace it with torch.fx on meta tensors and map it to spec data.

Modules map through the registry (its torch class names); torch functions and tensor methods
through a small table. Anything else is listed by name in the error, never counted as zero.
"""
from __future__ import annotations

import operator
import runpy
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import fx, nn

from ..errors import SpecError
from ..layers import REGISTRY
from ..spec.yamlfile import LineDict

BY_TORCH_NAME = {kind.torch_name: name for name, kind in REGISTRY.items() if kind.torch_name}
FUNCTIONS = {  # callable → (kind, {argument: position or keyword}), called without a module
    operator.add: ("add", {}), torch.add: ("add", {}), operator.mul: ("mul", {}), torch.mul: ("mul", {}),
    torch.cat: ("concat", {"dim": 1}), torch.concat: ("concat", {"dim": 1}),
    torch.flatten: ("flatten", {"start_dim": 1, "end_dim": 2}),
    F.relu: ("relu", {}), torch.relu: ("relu", {}), F.relu6: ("relu6", {}), torch.sigmoid: ("sigmoid", {}),
    F.sigmoid: ("sigmoid", {}), torch.tanh: ("tanh", {}), F.gelu: ("gelu", {}), F.silu: ("silu", {}),
    F.hardswish: ("hardswish", {}), F.hardsigmoid: ("hardsigmoid", {}),
    F.adaptive_avg_pool2d: ("adaptiveavgpool2d", {"output_size": 1}),
    F.adaptive_max_pool2d: ("adaptivemaxpool2d", {"output_size": 1}),
    F.max_pool2d: ("maxpool2d", {"kernel_size": 1, "stride": 2, "padding": 3, "dilation": 4, "ceil_mode": 5}),
    F.avg_pool2d: ("avgpool2d", {"kernel_size": 1, "stride": 2, "padding": 3, "ceil_mode": 4}),
    F.dropout: ("dropout", {"p": 1}), F.softmax: ("softmax", {"dim": 1}),
}
METHODS = {"relu": "relu", "sigmoid": "sigmoid", "tanh": "tanh", "flatten": "flatten", "add": "add", "mul": "mul"}
DROPPED_ARGUMENTS = {"return_indices", "inplace_"}


def load_module(reference: str, params: dict) -> tuple[nn.Module, str]:
    """`path/model.py:MyNet` → an instance built on the meta device (no real memory)."""
    path, _, name = reference.rpartition(":")
    if not path.endswith(".py") or not Path(path).is_file():
        raise SpecError("expected path/model.py:ClassName", reference)
    namespace = runpy.run_path(path, run_name="cnncalc_import")
    if name not in namespace:
        raise SpecError(f"{path} defines no '{name}'", path)
    try:
        with torch.device("meta"):
            module = namespace[name](**params)
    except TypeError as error:
        raise SpecError(f"cannot build {name}: {error}", path) from None
    return module.eval(), name


def to_spec(module: nn.Module, name: str, input_shape: tuple[int, ...], source: str) -> dict:
    try:
        traced = fx.symbolic_trace(module)
    except Exception as error:  # user code that torch.fx cannot trace
        raise SpecError(f"torch.fx cannot trace {name}: {type(error).__name__}: {error}", source) from None
    modules = dict(traced.named_modules())
    layers, unmapped, previous = [], [], None
    names: dict[str, str] = {}
    used: set[str] = set()
    for node in traced.graph.nodes:
        if node.op in ("placeholder", "output"):
            previous = "input" if node.op == "placeholder" else previous
            continue
        entry = _entry(node, modules)
        if entry is None:
            unmapped.append(f"{node.name} ({node.op} {_target(node)})")
            continue
        inputs = [names.get(a.name, _source(a)) for a in _tensor_args(node)]
        if inputs != [previous]:
            entry["from"] = inputs if len(inputs) > 1 else inputs[0]
        # a module keeps its path (stem.0); a second call of it, or a function, its fx name
        names[node.name] = node.target if node.op == "call_module" and node.target not in used else node.name
        used.add(names[node.name])
        entry["name"] = names[node.name]
        layers.append(entry)
        previous = names[node.name]
    if unmapped:
        raise SpecError(f"cnncalc cannot map {len(unmapped)} operation(s) of {name}: {', '.join(unmapped)}", source)
    return {"name": name, "input": list(input_shape), "layers": layers,
            "description": f"Imported from {source} with torch.fx."}


def _target(node) -> str:
    target = node.target
    return getattr(target, "__name__", str(target))


def _source(arg) -> str:
    return "input" if arg.op == "placeholder" else arg.name


def _tensor_args(node) -> list:
    args = list(node.args[0]) if node.target in (torch.cat, torch.concat) else list(node.args)
    return [a for a in args if isinstance(a, fx.Node)]


def _entry(node, modules: dict) -> LineDict | None:
    if node.op == "call_module":
        module = modules[node.target]
        kind = BY_TORCH_NAME.get(type(module).__name__)
        if kind is None:
            return None
        args = {}
        for arg in REGISTRY[kind].args:
            value = getattr(module, arg.name, arg.default)
            if arg.name == "bias" and not isinstance(value, bool):
                value = value is not None  # the Parameter or None torch keeps
            args[arg.name] = list(value) if isinstance(value, tuple) else value
        return LineDict({kind: _non_default(kind, args)})
    if node.op == "call_function" and node.target in FUNCTIONS:
        kind, positions = FUNCTIONS[node.target]
        args = {key: node.kwargs[key] if key in node.kwargs else node.args[index]
                for key, index in positions.items() if key in node.kwargs or index < len(node.args)}
        if kind in ("add", "mul") and len(_tensor_args(node)) < 2:
            return None  # a tensor and a constant: not a join of layers
        entry = LineDict({kind: _non_default(kind, args) or None})
        if REGISTRY[kind].family in ("activation", "pool", "dropout", "shape"):
            entry["functional"] = True
        return entry
    if node.op == "call_method" and node.target in METHODS and not node.kwargs:
        kind = METHODS[node.target]
        if kind in ("add", "mul") and len(_tensor_args(node)) < 2:
            return None
        args = {"start_dim": node.args[1]} if kind == "flatten" and len(node.args) > 1 else {}
        return LineDict({kind: args or None})
    return None


def _non_default(kind: str, args: dict) -> dict:
    """The arguments that differ from PyTorch's defaults, per-axis values collapsed when equal."""
    layer = REGISTRY[kind]
    normalized = layer.normalize({k: v for k, v in args.items() if v is not None or layer.defaults.get(k) is None})
    return {k: v[0] if isinstance(v, list) and v and len(set(v)) == 1 and layer.spatial_dims else v
            for k, v in args.items() if k not in DROPPED_ARGUMENTS and normalized[k] != layer.defaults.get(k)}
