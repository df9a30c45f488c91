"""Import a PyTorch model: trace it with torch.fx on meta tensors and map it to spec data.

Modules, torch functions and tensor methods map to kinds through the forms each kind declares in
its registration. Anything else is listed by name in the error, never counted as zero.
"""
from __future__ import annotations

import importlib
import operator
import runpy
import traceback
from collections import Counter
from pathlib import Path
from typing import Any, Callable

import torch
from torch import fx, nn

from ..errors import SpecError, did_you_mean
from ..layers import REGISTRY
from ..layers.rearrange import BATCH
from ..spec.yamlfile import LineDict, read_text
from .build import resolve


def _forms() -> tuple[dict, dict, dict]:
    """Module class → kind, and function and method name → (kind, Call), from the registry."""
    modules, functions, methods = {}, {}, {}
    for name, kind in REGISTRY.items():
        modules.setdefault(resolve(kind.torch.module), name)
        for call in kind.torch.functions:
            functions.setdefault(resolve(call.path), (name, call))
        for call in kind.torch.methods:
            methods.setdefault(call.path, (name, call))
    return modules, functions, methods


MODULES, FUNCTIONS, METHODS = _forms()
DROPPED_ARGUMENTS = {"return_indices", "inplace_"}


def load_module(reference: str, params: dict) -> tuple[nn.Module, str, tuple[int, ...] | None]:
    """`path/model.py:MyNet`, `torchvision:resnet50` or `timm:convnext_tiny` → the module (built
    on the meta device where its constructor allows, so no real memory), its name and the input its
    library states (None: the user must give one)."""
    library, _, name = reference.partition(":")
    if library in LIBRARY_BUILDERS:
        build, default_input = LIBRARY_BUILDERS[library](name, params)
        return _built(build, name, reference), name, default_input
    path, _, name = reference.rpartition(":")
    if not path.endswith(".py"):
        raise SpecError("expected path/model.py:ClassName", reference)
    if not Path(path).exists():
        raise SpecError("no such file", path)
    read_text(Path(path))  # a regular file within the size limit, like any spec
    namespace = runpy.run_path(path, run_name="cnncalc_import")
    if name not in namespace:
        raise SpecError(f"{path} defines no '{name}'", path)
    return _built(lambda: namespace[name](**params), name, path), name, None


def _built(build, name: str, source: str) -> nn.Module:
    """The module built on the meta device; on the CPU when its constructor needs real values
    (`.item()` in `__init__`)."""
    try:
        try:
            with torch.device("meta"):
                module = build()
        except (RuntimeError, NotImplementedError):  # meta tensors have no data to read
            module = build()
    except TypeError as error:
        raise SpecError(f"cannot build {name}: {error}", source) from None
    return module.eval()


def _library(name: str) -> Any:
    try:
        return importlib.import_module(name)
    except ImportError:
        raise SpecError(f"{name} is not installed: pip install {name}") from None


def _torchvision(name: str, params: dict) -> tuple[Callable, tuple[int, ...] | None]:
    """A torchvision builder with no weights, and the crop size of its first weights."""
    models = _library("torchvision").models
    try:
        builder = models.get_model_builder(name)
    except ValueError:
        raise SpecError(f"torchvision has no model '{name}'{did_you_mean(name, models.list_models())}") from None
    try:
        crop = models.get_model_weights(name).DEFAULT.transforms.keywords.get("crop_size")
    except (ValueError, AttributeError):
        crop = None
    return (lambda: builder(**{"weights": None, **params})), (3, crop, crop) if crop else None


def _timm(name: str, params: dict) -> tuple[Callable, tuple[int, ...] | None]:
    """A timm model with pretrained=False, and the input size of its pretrained config."""
    timm = _library("timm")
    if name not in timm.list_models():
        raise SpecError(f"timm has no model '{name}'{did_you_mean(name, timm.list_models())}")
    size = timm.models.get_pretrained_cfg_value(name, "input_size")
    return (lambda: timm.create_model(name, pretrained=False, **params)), tuple(size) if size else None


LIBRARY_BUILDERS = {"torchvision": _torchvision, "timm": _timm}


def to_spec(module: nn.Module, name: str, input_shape: tuple[int, ...], source: str) -> dict:
    try:
        traced = fx.symbolic_trace(module)
    except Exception as error:  # user code that torch.fx cannot trace
        where = _user_line(error)
        raise SpecError(f"torch.fx cannot trace {name}{where}: {type(error).__name__}: "
                        f"{str(error).splitlines()[0][:200]}", source) from None
    modules = dict(traced.named_modules())
    layers, unmapped, previous = [], [], None
    names: dict[str, str] = {}
    used: set[str] = set()
    for node in traced.graph.nodes:
        if node.op in ("placeholder", "output"):
            previous = "input" if node.op == "placeholder" else previous
            continue
        if _is_shape_query(node):
            continue  # x.size(0), x.shape[0]: read by the layer that uses them, not a layer
        entry = _entry(node, modules)
        if entry is None:
            unmapped.append(node)
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
        raise _refusal(unmapped, modules, name, source)
    data = {"name": name, "input": list(input_shape), "layers": layers,
            "description": f"Imported from {source} with torch.fx."}
    held = _not_run(module, traced)
    return {**data, "not_run": held} if held else data


def _not_run(module: nn.Module, traced: fx.GraphModule) -> dict[str, dict]:
    """The parameters and buffers forward() never reaches, by the outermost module holding only such
    (googlenet's aux1): {path: {params, buffers}}, so the totals count every tensor the model holds."""
    called = [node.target + "." for node in traced.graph.nodes if node.op == "call_module"]
    read = {node.target for node in traced.graph.nodes if node.op == "get_attr"}
    tensors = {name: (tensor.numel(), kind) for kind, named in (("params", module.named_parameters()),
                                                                ("buffers", module.named_buffers()))
               for name, tensor in named}
    used = {name for name in tensors if name in read or name.startswith(tuple(called))}
    reached = {".".join(name.split(".")[:i]) for name in used for i in range(1, name.count(".") + 2)}
    held: dict[str, dict] = {}
    for name in sorted(set(tensors) - used):
        parts = name.split(".")
        owner = next(".".join(parts[:i]) for i in range(1, len(parts) + 1) if ".".join(parts[:i]) not in reached)
        counts = held.setdefault(owner, {"params": 0, "buffers": 0})
        counts[tensors[name][1]] += tensors[name][0]
    return held


def _target(node) -> str:
    target = node.target
    return getattr(target, "__name__", str(target))


def _what(node, modules: dict) -> str:
    """What an operation is, as the refusal groups it: a module class, a function, a tensor method."""
    if node.op == "call_module":
        return f"{type(modules[node.target]).__name__} module"
    if node.op == "get_attr":
        return "parameter or buffer used as a tensor"
    return f"{'x.' if node.op == 'call_method' else ''}{_target(node)}"


def _refusal(unmapped: list, modules: dict, name: str, source: str) -> SpecError:
    """One line of at most 300 characters: what cannot be mapped, grouped, most frequent first;
    each operation in the error's detail (--verbose)."""
    groups = Counter(_what(node, modules) for node in unmapped).most_common()
    head = f"cnncalc cannot map {len(unmapped)} operation(s) of {name}: "
    shown, rest = [], len(groups)
    for what, count in groups:
        item = f"{what} ×{count}" if count > 1 else what
        tail = f", … and {rest - 1} more (--verbose lists them)" if rest > 1 else ""
        if len(head) + len(", ".join([*shown, item])) + len(tail) + len(source) + 2 > MAX_LINE:
            break
        shown.append(item)
        rest -= 1
    more = f", … and {rest} more (--verbose lists them)" if rest else ""
    detail = tuple(f"{node.name}: {node.op} {_target(node)}" for node in unmapped)
    return SpecError(head + ", ".join(shown) + more, source, detail=detail)


MAX_LINE = 300  # characters of a refusal, the file named included


def _user_line(error: Exception) -> str:
    """Where in the user's code tracing stopped (the control flow fx cannot follow), or nothing."""
    frames = [frame for frame in traceback.extract_tb(error.__traceback__)
              if not frame.filename.startswith(TORCH_DIR) and frame.filename != __file__]
    return f" at {Path(frames[-1].filename).name}:{frames[-1].lineno} ({(frames[-1].line or '').strip()[:80]})" \
        if frames else ""


TORCH_DIR = str(Path(torch.__file__).parent)


def _source(arg) -> str:
    return "input" if arg.op == "placeholder" else arg.name


def _tensor_args(node) -> list:
    """The tensors a call reads, those passed in a list (torch.cat's) included."""
    flat = [a for arg in node.args for a in (arg if isinstance(arg, (list, tuple)) else [arg])]
    return [a for a in flat if isinstance(a, fx.Node) and not _is_shape_query(a)]


def _is_shape_query(node) -> bool:
    """x.size(...), x.shape, or an item of one: sizes, not tensors."""
    if node.op == "call_method" and node.target == "size":
        return True
    if node.op == "call_function" and node.target is getattr and node.args[1:] == ("shape",):
        return True
    return (node.op == "call_function" and node.target is operator.getitem and isinstance(node.args[0], fx.Node)
            and _is_shape_query(node.args[0]))


def _batch_size(node) -> bool:
    """x.size(0) or x.shape[0]: the batch size, which a reshape writes as `batch`."""
    if node.op == "call_method" and node.target == "size":
        return node.args[1:] == (0,)
    return node.op == "call_function" and node.target is operator.getitem and node.args[1] == 0 \
        and node.args[0].op == "call_function" and node.args[0].target is getattr


class _Unmappable(Exception):
    """An argument computed in the graph, which a spec cannot state."""


def _constant(value):
    """An argument as a spec writes it: the batch size as `batch`; any other graph value is unmappable."""
    if isinstance(value, (list, tuple)):
        return [_constant(v) for v in value]
    if isinstance(value, fx.Node):
        if _batch_size(value):
            return BATCH
        raise _Unmappable(value.name)
    return value


def _entry(node, modules: dict) -> LineDict | None:
    if node.op == "call_module":
        module = modules[node.target]
        kind = MODULES.get(type(module))
        if kind is None:
            return None
        args = {}
        for arg in REGISTRY[kind].args:
            value = getattr(module, arg.name, arg.default)
            if arg.name == "bias" and not isinstance(value, bool):
                value = value is not None  # the Parameter or None torch keeps
            args[arg.name] = list(value) if isinstance(value, tuple) else value
        return LineDict({kind: _non_default(kind, args)})
    table = {"call_function": FUNCTIONS, "call_method": METHODS}.get(node.op, {})
    if node.target not in table:
        return None
    kind, call = table[node.target]
    if REGISTRY[kind].arity is None and len(_tensor_args(node)) < 2:
        return None  # a tensor and a constant: not a join of layers
    args = {key: node.kwargs[key] if key in node.kwargs else node.args[index]
            for key, index in call.positions if key in node.kwargs or index < len(node.args)}
    if call.rest and len(node.args) > 1:  # x.view(-1, 400) or x.view((-1, 400))
        rest = node.args[1:]
        args[call.rest] = rest[0] if len(rest) == 1 and isinstance(rest[0], (list, tuple)) else rest
    try:
        args = {key: _constant(value) for key, value in args.items()}
    except _Unmappable:
        return None
    entry = LineDict({kind: _non_default(kind, args) or None})
    if node.op == "call_function" and REGISTRY[kind].can_be_functional:
        entry["functional"] = True
    return entry


def _non_default(kind: str, args: dict) -> dict:
    """The arguments that differ from PyTorch's defaults, per-axis values collapsed when equal."""
    layer = REGISTRY[kind]
    normalized = layer.normalize({k: v for k, v in args.items() if v is not None or layer.defaults.get(k) is None})
    return {k: v[0] if isinstance(v, list) and v and len(set(v)) == 1 and layer.spatial_dims else v
            for k, v in args.items() if k not in DROPPED_ARGUMENTS and normalized[k] != layer.defaults.get(k)}
