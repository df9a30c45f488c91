"""A model as a user names it → its Graph. A zoo name or a spec path is read without torch; a
PyTorch model (path/model.py:Class, torchvision:NAME, timm:NAME, or an nn.Module object) is traced
by the importer, which is the only part that imports torch."""
from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from .errors import SpecError
from .graph import FIRST_DIMS, Graph, LeafParameter, Node, OtherInput, Scope, Shape
from .model_reference import model_reference
from .spec.limits import Limits


def is_pytorch(model: Any) -> bool:
    """Whether MODEL names (or is) a PyTorch model rather than a spec."""
    return not isinstance(model, (str, Path)) or model_reference(str(model)) is not None


def load_graph(model: Any, params: dict | None = None, input_shape: Shape | None = None,
               input_dtype: str | None = None, others: tuple[OtherInput, ...] = (), *,
               limits: Limits = Limits()) -> Graph:
    """The graph of a zoo name, spec path or PyTorch model, at `input_shape` (holding `input_dtype`:
    int64 token ids) when given, and forward()'s `others` inputs (a mask) by name; what it reads is
    bounded by `limits`."""
    if is_pytorch(model):
        return read_pytorch(model, params, input_shape, input_dtype, others, limits=limits)
    from .spec.zoo import load_model

    graph = load_model(str(model), params, limits=limits)
    known = {other.name for other in graph.other_inputs}
    if any(other.name not in known for other in others):
        unknown = next(other.name for other in others if other.name not in known)
        raise SpecError(f"--input {unknown}=...: {graph.name} has no input '{unknown}' "
                        f"(its inputs: {', '.join(graph.input_names)})", graph.source)
    given = {other.name: other for other in others}
    return replace(graph.with_input(input_shape or graph.input_shape, input_dtype),
                   other_inputs=tuple(given.get(other.name, other) for other in graph.other_inputs))


@dataclass(frozen=True, kw_only=True)
class Target:
    """What verify runs: the graph, and the user's own module it was read from (None for a spec or a
    zoo name: verify builds a model from the graph)."""
    graph: Graph
    module: Any = None


def load_target(model: Any, params: dict | None = None, input_shape: Shape | None = None,
                input_dtype: str | None = None, others: tuple[OtherInput, ...] = (), *,
                limits: Limits = Limits()) -> Target:
    """MODEL's graph and, for a PyTorch model, the module itself: an nn.Module as given, a file's class
    or a library's model built on the CPU with random weights (never on the meta device), to be run."""
    if not is_pytorch(model):
        return Target(graph=load_graph(model, params, input_shape, input_dtype, others, limits=limits))
    read = _read(model, params, input_shape, input_dtype, others, on_meta=False, limits=limits)
    return Target(graph=read.graph, module=read.module)


def read_pytorch(model: Any, params: dict | None, input_shape: Shape | None, input_dtype: str | None = None,
                 others: tuple[OtherInput, ...] = (), *, limits: Limits = Limits()) -> Graph:
    """A PyTorch model run (on meta tensors, or on the CPU where meta cannot go) into its Graph; at its
    default input when it has one. A model file (`path/model.py:Class`) runs in a child process
    (isolation.py) within `limits`: only its data comes back."""
    reference = model_reference(str(model)) if isinstance(model, (str, Path)) else None
    if reference is None or reference.in_library:
        return read_in_process(model, params, input_shape, input_dtype, others, limits=limits)
    from .isolation import Unreadable, run_isolated

    answer = run_isolated("read", {"reference": str(model), "params": params or {},
                                   "input_shape": list(input_shape) if input_shape else None,
                                   "input_dtype": input_dtype,
                                   "others": [[other.name, list(other.shape), other.dtype] for other in others]},
                          reference.source, what="the model file", limits=limits)
    try:
        if not isinstance(answer["spec"], dict):
            raise Unreadable("spec")
        unsaid = {str(name): {key: UNSAID[key](value) for key, value in facts.items()}
                  for name, facts in answer["layers"].items()}
        ran_on_cpu = str(answer["ran_on_cpu"])
    except (KeyError, TypeError, ValueError, AttributeError):
        raise SpecError("the model file gave cnncalc an answer it cannot read", reference.source) from None
    from .spec.load import build_graph

    # the child ran a stranger's code: its graph comes back as spec data, read as any spec is
    graph = build_graph(answer["spec"], reference.source, {}, limits=limits)
    return replace(graph, nodes=tuple(Node.of({**vars(node), **unsaid.get(node.name, {})}) for node in graph.nodes),
                   ran_on_cpu=ran_on_cpu)


def read_in_process(model: Any, params: dict | None, input_shape: Shape | None, input_dtype: str | None = None,
                    others: tuple[OtherInput, ...] = (), *, limits: Limits = Limits()) -> Graph:
    """read_pytorch in this process: a library's model, a module object, or in the child itself."""
    return _read(model, params, input_shape, input_dtype, others, on_meta=True, limits=limits).graph


@dataclass(frozen=True, kw_only=True)
class _Read:
    graph: Graph
    module: Any  # the nn.Module read


# the Node fields a spec cannot say of an imported layer (the line that builds it, the modules it runs in,
# what only the run shows), each read back from a child process's JSON as the field holds it
UNSAID = {"line": lambda line: line if type(line) is int else None,
          "scopes": lambda held: tuple(Scope(name=str(scope), kind=str(kind)) for scope, kind in held),
          "held_through": str, "copied": lambda inputs: tuple(map(str, inputs)), "making": int,
          "own_storage": bool, "inside_hooked": bool, "first_dim": lambda held: _first_dim(held),
          "patched": bool, "places": int, "batch_second": bool, "fused_block": str,
          "leaf_parameters": lambda held: tuple(
              LeafParameter(name=str(p["name"]), numel=int(p["numel"]), module=str(p["module"]),
                            output=tuple(map(int, p["output"])), first_dim=_first_dim(p["first_dim"])) for p in held)}


def _first_dim(value) -> str:
    if value not in FIRST_DIMS:
        raise ValueError(f"first_dim {value!r}")
    return value


def _read(model: Any, params: dict | None, input_shape: Shape | None, input_dtype: str | None,
          others: tuple[OtherInput, ...], on_meta: bool, limits: Limits) -> _Read:
    """The module loaded (on the meta device where `on_meta` and its constructor allow) and read."""
    from .verify import require_torch

    require_torch()
    from .importing.importer import read_module
    from .importing.libraries import Loaded, load_module

    if isinstance(model, (str, Path)):
        loaded = load_module(str(model), params or {}, on_meta, limits=limits)
    else:
        loaded = Loaded(module=model, name=type(model).__name__)
    module, name = loaded.module, loaded.name
    shape, input_dtype = (input_shape, input_dtype) if input_shape else (loaded.input_shape, loaded.input_dtype)
    others = others if input_shape else loaded.others  # RAFT's second image, at the first's size
    if shape is None:
        raise SpecError(f"{name}: reading a PyTorch model needs --input, e.g. --input 3x224x224 "
                        "(input_size=(3, 224, 224) in Python)", _source(model))
    try:
        return _Read(graph=read_module(module, name, tuple(shape), _source(model), input_dtype, others,
                                    loaded.data_dependent), module=module)
    except SpecError as error:
        if not isinstance(model, (str, Path)) or not on_meta or "meta" not in error.message:
            raise
    # a tensor its constructor made, read as a value by forward() (YOLO's `self.stride[i].item()`), has no
    # value on the meta device: the model is built again on the CPU, its parameters still stood in for
    module = load_module(str(model), params or {}, on_meta=False, limits=limits).module
    return _Read(graph=read_module(module, name, tuple(shape), _source(model), input_dtype, others,
                                loaded.data_dependent), module=module)


def _source(model: Any) -> str:
    if not isinstance(model, (str, Path)):
        return f"<{type(model).__name__} object>"
    reference = model_reference(str(model))
    return reference.source if reference and not reference.in_library else str(model)
