"""Trace a module with torch.fx while running it on the meta device, so every node knows its value.

Known values let Python's control flow on sizes take the path the input takes (`if H != size:`,
`int(math.sqrt(N))`, `len(x.shape)`), where fx alone stops; the graph is then the model at that
input. The meta device holds shapes, no data: no memory is used and no arithmetic done.
"""
from __future__ import annotations

import inspect
import operator
import os
import sys
import traceback
from contextlib import contextmanager, nullcontext
from pathlib import Path

import torch
from torch import fx, nn

from ..errors import LayerError, SpecError
from ..layers import REGISTRY
from .forms import forms, mapped, module_arguments

PROBE_BATCH = 2  # the batch of the trace: 2, so that no size 1 reads as the batch


class FailsAtInput(SpecError):
    """Control flow on a value the meta run could not compute: the model fails at this input (the
    message says where it failed first)."""


class _Valued(fx.Proxy):
    """A traced value that Python may read: a size, a flag or a tuple's length becomes what it is at
    the traced input."""

    def _known(self):
        value = self.tracer.values.get(self.node.name)
        if value is None:
            raise FailsAtInput(f"fails at this input: {self.tracer.failed or self.node.name}")
        return value

    def __bool__(self) -> bool:
        return bool(self._known())

    def __len__(self) -> int:
        return len(self._known())

    def __int__(self) -> int:
        return int(self._known())

    def __index__(self) -> int:
        return operator.index(self._known())

    def __float__(self) -> float:
        return float(self._known())

    def __getattr__(self, name: str):
        """x.device, x.dtype, x.ndim (and such) as they are (torch.ones(n, device=x.device) then needs no
        tracing); x.shape a traced value too, so that len(x.shape) is its rank."""
        value = self.tracer.values.get(self.node.name) if name in FIXED else None
        if isinstance(value, torch.Tensor):
            return getattr(value, name)
        if name == "shape":  # fx's lazy attribute proxy has no len()
            return self.tracer.create_proxy("call_function", getattr, (self, name), {})
        if name.startswith("_"):  # a protocol a tensor lacks (numpy's __array_struct__) or a private mark
            raise AttributeError(name)  # (nn.Buffer's _is_buffer): absent, as on a tensor that lacks it
        return super().__getattr__(name)

    def __setitem__(self, key, value) -> None:  # a mask filled in place: recorded, and run on its value
        self.tracer.create_proxy("call_function", operator.setitem, (self, key, value), {})

    def __iter__(self):
        return iter([self[i] for i in range(len(self._known()))])


FIXED = ("device", "dtype", "ndim", "is_nested", "is_sparse", "requires_grad")  # the same for any batch


class _ValuedTracer(fx.Tracer):
    """fx's tracer, stopping at every module cnncalc maps (other libraries' and subclasses included),
    that runs each node as it records it."""

    # a buffer read is traced like a parameter: self.index.view(-1) is then a step of the graph, not a
    # tensor computed while tracing and kept as an anonymous constant (its buffer would read as unused)
    proxy_buffer_attributes = True

    def __init__(self, sample: torch.Tensor, others: dict):
        super().__init__()
        self.sample, self.others = sample, others  # the first input's probe; forward()'s other inputs' by name
        self.values: dict = {}
        self.failed: str | None = None  # the first node that failed on the meta device, where and why
        self.running = False  # inside a node's run: modules and their tensors are themselves, not traced

    def is_leaf_module(self, module: nn.Module, qualified_name: str) -> bool:
        """A module a kind states, or one of torch's with no modules inside; torch's that are made of
        modules (nn.TransformerEncoderLayer) are traced through like the user's."""
        return mapped(module) is not None or super().is_leaf_module(module, qualified_name) \
            and next(module.children(), None) is None

    def call_module(self, module, forward, args, kwargs):
        return forward(*args, **kwargs) if self.running else super().call_module(module, forward, args, kwargs)

    def getattr(self, attr, attr_val, parameter_proxy_cache):
        return attr_val if self.running else super().getattr(attr, attr_val, parameter_proxy_cache)

    def proxy(self, node: fx.Node) -> fx.Proxy:
        return _Valued(node, self)

    def create_node(self, kind, target, args, kwargs, name=None, type_expr=None) -> fx.Node:
        node = super().create_node(kind, target, args, kwargs, name, type_expr)
        if kind != "output":
            self.running = True
            try:
                self.values[node.name] = self._run(node)
            finally:
                self.running = False
        return node

    def _run(self, node: fx.Node):
        if node.op == "placeholder":  # the input, the other inputs given, the other arguments at their defaults
            if not self.values:
                return self.sample
            return self.others[node.target] if node.target in self.others else (node.args[0] if node.args else None)
        if node.op == "get_attr":
            found = operator.attrgetter(node.target)(self.root)
            return found.to("meta") if isinstance(found, torch.Tensor) else found
        args, kwargs = fx.node.map_arg((node.args, node.kwargs), lambda arg: self.values[arg.name])
        try:
            with torch.device("meta"), torch.no_grad():
                if node.op == "call_module":  # fx has patched __call__: running returns here to call_module
                    module = self.root.get_submodule(node.target)
                    shaped = None if kwargs or len(args) != 1 else worked_out(module, args[0])
                    return module(*args) if shaped is None else shaped
                if node.op == "call_method":
                    return getattr(args[0], node.target)(*args[1:], **kwargs)
                return node.target(*args, **kwargs)
        except Exception as error:  # noqa: BLE001 (whatever the model raises on a shape it cannot take)
            if self.failed is None:
                self.failed = f"{node.name}{_user_frame(traceback.extract_stack())}: {type(error).__name__}: " \
                              f"{str(error).splitlines()[0][:200]}"
            return None


def worked_out(module: nn.Module, x) -> torch.Tensor | None:
    """A mapped module's output on x, its shape worked out by its kind's calculator (x's dim 0 as the
    batch, as the module reads it): microseconds, where running it on the meta device takes up to
    a millisecond and a half (batch norm's decomposition). None where the calculator cannot say, or
    the module returns more than a tensor: then it runs."""
    found = module_arguments(module)
    if found is None or not isinstance(x, torch.Tensor) or x.dim() < 2:
        return None
    kind, arguments = found
    layer = REGISTRY[kind]
    if layer.family not in ONE_TENSOR or getattr(module, "return_indices", False):
        return None
    try:
        calc = layer.calculate((tuple(x.shape[1:]),), layer.normalize(
            {key: value for key, value in arguments.items() if value is not None}))
    except LayerError:
        return None
    return torch.empty((x.shape[0], *calc.output_shape), dtype=x.dtype, device="meta")


# families whose modules return one tensor, of the input's type (pools unless asked for indices)
ONE_TENSOR = frozenset({"conv", "pool", "norm", "linear", "activation", "dropout"})


def trace(module: nn.Module, input_shape: tuple[int, ...], input_dtype: str | None = None,
          others: tuple = ()) -> tuple[fx.GraphModule, dict | None, str | None]:
    """The module's graph at this input and every node's value on the meta device (tensors, and the
    sizes and pieces computed from them); values None when the model fails on this input, with the
    first failure, where and why: then the analysis names the layer whose shape breaks. The module's
    own tensors are stood in for by meta ones while it runs: a module of the user's on the CPU is left
    as it was."""
    from torch.nn.utils.stateless import _reparametrize_module

    tracer = _ValuedTracer(_probe(input_shape, input_dtype),
                           {other.name: _probe(other.shape, other.dtype) for other in others})
    on_meta = all(t.is_meta for named in (module.parameters(), module.buffers()) for t in named)
    stand_ins = {name: _stand_in(tensor) for named in (module.named_parameters(), module.named_buffers())
                 for name, tensor in named}
    with _left_as_it_was(module):
        with nullcontext() if on_meta else _reparametrize_module(module, stand_ins), _traced_through(), \
                _einops_traced(), _jit_isinstance_traced():
            held = dict(module.named_buffers())
            with _unwrapped_forward(module, tracer):
                graph = tracer.trace(module, concrete_args=_defaults(module, {other.name for other in others}))
            # buffers forward() assigns anew (ConViT's rel_indices, sized by the input)
            replaced = [name for name, buffer in held.items() if _buffer(module, name) is not buffer]
        _in_place_made_explicit(graph)
        traced = _Read(module, graph)  # before fx's constants (torch.arange's) leave the module
    if replaced:
        raise SpecError(f"forward() replaces the buffer{'s' * (len(replaced) > 1)} {', '.join(replaced[:3])}"
                        f"{' …' if len(replaced) > 3 else ''} with new ones sized by the input: the tensors the "
                        "model holds depend on the input it last ran")
    return traced, None if tracer.failed else tracer.values, tracer.failed


class _Read(fx.GraphModule):
    """The traced graph with the modules and tensors it names, to be read, never run: the Python code
    fx would generate to run it (a fifth of the import's time) is not."""

    def recompile(self):
        return None


def _in_place_made_explicit(graph: fx.Graph) -> None:
    """x.add_(y) changes x for what follows: later reads of x read the call instead, so the graph shows
    that they depend on it (MViT adds its position embedding in place)."""
    order = {node: index for index, node in enumerate(graph.nodes)}
    for node in list(graph.nodes):
        if node.op == "call_method" and node.target.endswith("_") and not node.target.startswith("_") \
                and node.args and isinstance(node.args[0], fx.Node):
            node.args[0].replace_all_uses_with(node, delete_user_cb=lambda user, at=order[node]: order[user] > at)


@contextmanager
def _unwrapped_forward(module: nn.Module, tracer: fx.Tracer):
    """A forward() behind decorators taking (*args, **kwargs) (Hugging Face's can_return_tuple and
    check_model_inputs): fx reads the arguments off the function's own code, so it traces the function
    they wrap, whose arguments are the model's. Named on the class while tracing, then removed."""
    cls = type(module)
    if not hasattr(cls.forward, "__wrapped__"):
        yield
        return
    tracer.traced_func_name = "_cnncalc_forward"
    cls._cnncalc_forward = inspect.unwrap(cls.forward)
    try:
        yield
    finally:
        del cls._cnncalc_forward


@contextmanager
def _left_as_it_was(module: nn.Module):
    """A forward() that caches what it computes on its module (a dict of attention biases) would keep
    traced values there: each module's attributes, and the dicts among them, are put back as they
    were."""
    kept = [(part, dict(part.__dict__), {name: dict(value) for name, value in part.__dict__.items()
                                          if type(value) is dict})
            for part in module.modules()]
    try:
        yield
    finally:
        for part, attributes, dicts in kept:
            part.__dict__.clear()
            part.__dict__.update(attributes)
            for name, contents in dicts.items():
                attributes[name].clear()
                attributes[name].update(contents)


@contextmanager
def _traced_through():
    """Functions a library marks with torch.fx.wrap for fx to record as one call (torchvision's
    shifted_window_attention) are traced into unless cnncalc maps them: their control flow on sizes
    no longer stops the trace, and what they do inside is what cnncalc counts."""
    wrapped = fx._symbolic_trace._wrapped_fns_to_patch
    kept = dict(wrapped)
    for key, frame in kept.items():
        if frame.get(key[1]) not in forms().functions:
            del wrapped[key]
    try:
        yield
    finally:
        wrapped.clear()
        wrapped.update(kept)


@contextmanager
def _einops_traced():
    """einops finds a tensor's backend by its type: a traced value is torch's, so rearrange, reduce and
    their layers make their torch calls (reshape, permute, mean) on it, and the graph records each."""
    backends = sys.modules.get("einops._backends")
    if backends is not None:
        backends._type2backend[_Valued] = backends.TorchBackend()
    try:
        yield
    finally:
        if backends is not None:
            backends._type2backend.pop(_Valued, None)


@contextmanager
def _jit_isinstance_traced():
    """torch.jit.isinstance(x, torch.Tensor) asks of a traced value what it asks of the value (under plain
    fx it says False, and a branch a real run takes is skipped). Python's own isinstance cannot be
    answered so: a proxy that claims to be a tensor is taken for one by torch's C code (torch.pow
    crashes on it)."""
    original = torch.jit.isinstance
    torch.jit.isinstance = lambda obj, target_type: original(
        obj.tracer.values.get(obj.node.name) if isinstance(obj, _Valued) else obj, target_type)
    try:
        yield
    finally:
        torch.jit.isinstance = original


def _probe(shape: tuple[int, ...], dtype: str | None) -> torch.Tensor:
    return torch.empty(PROBE_BATCH, *shape, device="meta", dtype=getattr(torch, dtype or "float32"))


def _defaults(module: nn.Module, given: set[str]) -> dict:
    """forward()'s arguments after the input, at their defaults: `if mask is None:` then takes the path
    a call with the input alone takes (a traced argument is never None). An argument with no default
    is another input: traced when given (--input mask=1x224x224), else said so."""
    parameters = list(inspect.signature(module.forward).parameters.values())[1:]
    names = [p.name for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    required = [p.name for p in parameters if p.default is inspect.Parameter.empty and p.name in names]
    if set(required) - given or given - set(names):
        first = list(inspect.signature(module.forward).parameters)[0]
        raise SpecError(f"forward() takes {len(required) + 1} inputs ({', '.join([first, *required])}): give each, "
                        f"e.g. --input {first}=3x224x224 --input {(required or ['mask'])[0]}=1x224x224 "
                        f"(input_size={{...}} in Python){_unknown(given - set(names))}")
    # **kwargs given as none at all (Hugging Face's forward(pixel_values, ..., **kwargs) reads it as a dict)
    return {p.name: p.default for p in parameters if p.default is not inspect.Parameter.empty and p.name not in given} \
        | {f"**{p.name}": {} for p in parameters if p.kind is p.VAR_KEYWORD}


def _unknown(names: set[str]) -> str:
    return f"; forward() has no argument {', '.join(sorted(names))}" if names else ""


def _buffer(module: nn.Module, name: str):
    owner, _, attribute = name.rpartition(".")
    part = module.get_submodule(owner)
    return part.__dict__.get(attribute, part._buffers.get(attribute))  # a traced value may sit beside it


def _stand_in(tensor: torch.Tensor) -> torch.Tensor:
    meta = torch.empty_like(tensor, device="meta")
    return nn.Parameter(meta, requires_grad=tensor.requires_grad) if isinstance(tensor, nn.Parameter) else meta


def user_line(error: Exception) -> str:
    """Where in the user's code tracing stopped (the control flow fx cannot follow), or nothing."""
    return _user_frame(traceback.extract_tb(error.__traceback__))


def _user_frame(frames) -> str:
    """The innermost frame of the model's code, neither torch's nor cnncalc's: " at file:line (code)"."""
    frames = [frame for frame in frames if not frame.filename.startswith((TORCH_DIR, CNNCALC_DIR))]
    return f" at {Path(frames[-1].filename).name}:{frames[-1].lineno} ({(frames[-1].line or '').strip()[:80]})" \
        if frames else ""


TORCH_DIR = str(Path(torch.__file__).parent) + os.sep  # torchvision's files are the model's
CNNCALC_DIR = str(Path(__file__).parent.parent) + os.sep
