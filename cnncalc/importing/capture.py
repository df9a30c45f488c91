"""Capture a model by running it: its own forward() runs as Python runs it (control flow, asserts,
numpy on sizes, einops, isinstance), and every torch function, tensor method and module call it makes
is recorded as a step (a frozen record, named as torch.fx names its nodes), with the value it gave.

The run is on the meta device, which holds shapes and no data: no memory, no arithmetic. Modules a
kind states answer from the kind's calculator instead of running. Where meta cannot go (`.item()`, a
branch on data, a tensor attribute read as a number) the model runs once on the CPU on random data,
as the peer tools run it, and the graph is that run's.

Sizes read off a tensor (x.shape, x.size(0)) are ints that remember where they came from, so a
reshape to (B, -1) is recorded as reading the batch, not the number 2.

Each tensor the run makes is watched until Python lets it go: a local of forward() lives past its
last reader (StarNet's `x1, x2 = self.f1(x), self.f2(x)` to the end of the block), and the memory walk
holds it as long. Meta tensors are freed by the same reference counting as real ones.
"""
from __future__ import annotations

from contextlib import contextmanager

import inspect
import math
import operator
import re
import weakref
from dataclasses import dataclass
from functools import cached_property, lru_cache, partial

import torch
from torch import nn
from torch.nn import functional as F
from torch.nn.modules.lazy import LazyModuleMixin
from torch.overrides import TorchFunctionMode
from torch.utils._device import _device_constructors

from ..errors import LayerError
from ..graph import Scope
from ..record import record
from ..figures.conventions import PTFLOPS_PATCHED, PTFLOPS_PATCHED_OPS
from ..layers.attention import MASKS
from .forms import forms, module_arguments, multiplies


# what ptflops patches while it counts: (the module or class, the name)
PATCHED_BY_PTFLOPS = (*((F, name) for name in PTFLOPS_PATCHED),
                      *((torch, name) for name in PTFLOPS_PATCHED_OPS),
                      *((torch.Tensor, name) for name in PTFLOPS_PATCHED_OPS if name != "baddbmm"))


@record(kw_only=True, eq=False, repr=False)  # hundreds a model: quick to build, told apart by identity
class Step:
    """One operation of the run, of torch.fx's six kinds (op: placeholder, get_attr, call_function,
    call_method, call_module, output): what it called (target), its arguments with each value another
    step made as that step, the modules it ran inside (outermost first, a module's own call included),
    how many steps the run had made with it (the clock a tensor's death is read on), and whether it
    was called by a name ptflops patches (PATCHED_BY_PTFLOPS); a layer module's kind and the arguments
    it was built with, read once as it ran (forms.module_arguments; its calculator answers with them)."""
    name: str
    op: str
    target: object
    args: tuple
    kwargs: dict
    scope: tuple[Scope, ...] = ()
    made: int
    through_patched: bool = True
    built: tuple[str, dict] | None = None

    def __repr__(self) -> str:
        return f"Step({self.name})"

    @cached_property
    def sources(self) -> tuple[Step, ...]:
        """The steps whose values it reads, each once, in the order its arguments give them."""
        found: dict = {}
        _steps_in((self.args, self.kwargs), found)
        return tuple(found)


def _steps_in(value, found: dict) -> None:
    if type(value) in PLAIN:  # most arguments: sizes, flags, dims
        return
    if isinstance(value, Step):
        found[value] = None
    elif isinstance(value, (tuple, list)):
        for item in value:
            _steps_in(item, found)
    elif isinstance(value, dict):
        for item in value.values():
            _steps_in(item, found)
    elif isinstance(value, slice):
        _steps_in((value.start, value.stop, value.step), found)


@dataclass(frozen=True, kw_only=True)
class Recorded:
    """A run's steps in the order it made them (those nothing read left out), the steps that read each
    (by name), and the modules and tensors the get_attr and call_module steps name."""
    steps: tuple[Step, ...]
    users: dict[str, tuple[Step, ...]]
    modules: dict[str, nn.Module]
    constants: dict[str, torch.Tensor]  # tensors forward() held outside the parameters and buffers
    leaf_outputs: dict[str, Step]  # a module no kind states with parameters and no modules inside → its output
    held_beside: frozenset[str]  # tensors a module returned beside its output that a local holds unread

    def attribute(self, path: str) -> torch.Tensor:
        """The tensor a get_attr step reads: a constant, or a parameter or buffer by its module's path."""
        if path in self.constants:
            return self.constants[path]
        owner, _, name = path.rpartition(".")
        return getattr(self.modules[owner], name)


class Size(int):
    """A size read off a tensor: an int for Python (range, numpy, math), that remembers the step it
    came from; arithmetic on it is recorded too (Swin's B·nW // nW)."""
    node: Step
    recorder: "Recorder"


def _size_arithmetic(name: str, reflected: bool):
    function = getattr(operator, name)

    def apply(self, other):
        plain = int(other) if isinstance(other, Size) else other  # a Size's own arithmetic would record twice
        result = function(plain, int(self)) if reflected else function(int(self), plain)
        if not isinstance(result, int) or isinstance(result, bool):
            return result
        args = (other, self) if reflected else (self, other)
        recorder = self.recorder
        return recorder.size_of(recorder.node("call_function", function, recorder.arg(args), {}), result)
    return apply


for _name in ("add", "sub", "mul", "floordiv", "mod"):
    setattr(Size, f"__{_name}__", _size_arithmetic(_name, False))
    setattr(Size, f"__r{_name}__", _size_arithmetic(_name, True))


class Recorder(TorchFunctionMode):
    """Records the torch calls of one forward() as steps. Calls made inside a recorded call (F.relu's
    torch.relu) or inside a module a kind states are not recorded again."""

    def __init__(self, modules: dict[str, nn.Module], held: dict, is_leaf, answer, device: str = "cpu"):
        super().__init__()
        self.device = torch.device(device)  # where a tensor forward() makes without naming a device is made
        self.steps: list[Step] = []
        self.values, self.constants = {}, {}
        self.names, self.counts = set(), {}  # the steps' names, and how many of each base are taken
        self.bases: dict = {}  # what a step calls → the base of its name
        self.is_leaf, self.answer = is_leaf, answer  # which modules are layers; a layer's output, if known
        self.nodes: dict[int, Step] = {}  # id(tensor) → the step that made it, while it is alive
        self.watched: dict[int, weakref.ref] = {}  # id(tensor) → a weak reference to it, while it is alive
        self.died: dict[str, int] = {}  # step → how many steps were made when Python let its tensor go
        self.depth = 0
        self.through_patched = False  # called by a name ptflops patches (PATCHED_BY_PTFLOPS)
        self.originals: dict = {}  # while the run goes, those names' stand-ins → the functions they call
        self.scope: tuple[Scope, ...] = ()  # the modules the run is inside, outermost first
        self.modules = modules  # path → module, the root's as named_modules() gives them
        self.paths = {id(module): path for path, module in self.modules.items()}
        self.held = {id(tensor): path for path, tensor in held.items()}  # the model's tensors as the run has them
        self.leaf_outputs: dict[str, Step] = {}  # (Recorded.leaf_outputs)

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if func in FACTORIES and kwargs.get("device") is None:
            kwargs["device"] = self.device
        func = self.originals.get(func, func)  # F.softmax passes itself on by the name it has now
        if self.depth:  # inside a call recorded whole (nn.MultiheadAttention's linears)
            answered = _on_meta(func, args, kwargs)
            return func(*args, **kwargs) if answered is None else answered
        form = _form(func, args)
        through_patched, self.through_patched = self.through_patched, False
        node_args, node_kwargs = (self.arg(args), self.arg(kwargs)) if form else (None, None)
        self.depth += 1
        try:
            result = _on_meta(func, args, kwargs)
            if result is None:
                result = func(*args, **kwargs)
        finally:
            self.depth -= 1
        if form is None or not (form.sizes or _holds_tensor(result) or form.target is operator.setitem):
            return result
        if form.target is getattr:
            node_args = (node_args[0], func.__self__.__name__)
        elif form.implied:  # x.mT: x.transpose(-2, -1)
            node_args = (node_args[0], *form.implied)
        elif form.reflected:  # 1 - x: sub(1, x)
            node_args = (node_args[1], node_args[0], *node_args[2:])
        node = self.node(form.op, form.target, node_args, node_kwargs, through_patched)
        if form.target is operator.setitem:  # x[i] = v: what reads x from now on reads the write
            self._made(node, args[0])         # (MultiScaleRoIAlign fills torch.zeros(rois, …) level by level)
            return result
        return self.output(node, result)

    @contextmanager
    def operators_seen(self):
        """While it runs, each call that reaches a name ptflops patches (torch.nn.functional.relu,
        torch.add, Tensor.matmul, looked up when called) is told from the same function reached another
        way (torch.relu, x.softmax(), a reference taken before: transformers' ACT2FN; x * y and a @ b,
        which torch passes on as Tensor.mul and Tensor.matmul): ptflops sees only the first."""
        forms()  # the kinds' functions, resolved before they are stood in for
        patched = [(owner, name, getattr(owner, name)) for owner, name in PATCHED_BY_PTFLOPS]
        self.originals = {self._through(function): function for _, _, function in patched}
        for (owner, name, _), stand_in in zip(patched, self.originals):
            setattr(owner, name, stand_in)
        try:
            yield
        finally:
            for owner, name, function in patched:
                setattr(owner, name, function)
            self.originals = {}

    def _through(self, function):
        def through_patched(*args, **kwargs):
            self.through_patched = True  # read by the call it dispatches, if recorded
            try:
                return function(*args, **kwargs)
            finally:
                self.through_patched = False
        # named as the function (a model may read F.relu.__name__); functools.wraps copies more, thirty a run
        through_patched.__name__ = through_patched.__qualname__ = function.__name__
        through_patched.__wrapped__ = function
        return through_patched

    # --- the steps

    def node(self, op: str, target, args, kwargs, through_patched: bool = True, built=None) -> Step:
        step = Step(name=self._name(target), op=op, target=target, args=tuple(args), kwargs=dict(kwargs),
                    scope=self.scope, made=len(self.steps) + 1, through_patched=through_patched,
                    built=built)
        self.steps.append(step)
        return step

    def _name(self, target) -> str:
        """A name of its own, as torch.fx makes it: the snake-cased name of what it calls (a module's
        or a tensor's path with underscores), then _1, _2, … where taken."""
        base = self.bases.get(target)
        if base is None:
            base = target.replace(".", "_") if isinstance(target, str) else getattr(target, "__name__", "call")
            base = base[2:-2] if base.startswith("__") and base.endswith("__") else base
            base = self.bases[target] = base if base.islower() else SNAKE.sub(r"_\1", base).lower()
        count = self.counts.get(base, -1) + 1
        name = f"{base}_{count}" if count else base
        while name in self.names:  # a base that ends in a count itself (add_1)
            count += 1
            name = f"{base}_{count}"
        self.counts[base] = count
        self.names.add(name)
        return name

    @property
    def made(self) -> int:
        """How many steps the run has made: the clock a tensor's death is read on (Step.made)."""
        return len(self.steps)

    def output(self, node: Step, value):
        """The call's value, each tensor in it now read as made by this node (an in-place call's too),
        sizes as Sizes of it."""
        if isinstance(value, torch.Tensor):
            self._made(node, value)
            return value
        self.values[node.name] = _alias(value)
        if isinstance(value, torch.Size):
            return torch.Size(self.size_of(self.node("call_function", operator.getitem, (node, i), {}), size)
                              for i, size in enumerate(value))
        if isinstance(value, int) and not isinstance(value, bool):
            return self.size_of(node, value)
        if isinstance(value, (tuple, list)) and _holds_tensor(value):
            for index, piece in enumerate(value):
                if _holds_tensor(piece):
                    self.output(self.node("call_function", operator.getitem, (node, index), {}), piece)
        return value

    def size_of(self, node: Step, value: int) -> Size:
        self.values[node.name] = value
        size = Size(value)
        size.node, size.recorder = node, self
        return size

    def arg(self, value):
        """A call's argument as a node argument: a tensor as the node that made it (a parameter or buffer
        as its get_attr, any other as a constant), a Size as its node, containers item by item."""
        if type(value) in PLAIN:
            return value
        if isinstance(value, torch.Tensor):
            return self.tensor_node(value)
        if isinstance(value, Size):
            return value.node
        if isinstance(value, (tuple, list)):
            found = [self.arg(v) for v in value]
            return found if type(value) is list else tuple(found)  # a torch.Size or structseq: a tuple
        if isinstance(value, dict):
            return {key: self.arg(v) for key, v in value.items()}
        if isinstance(value, slice):
            return slice(self.arg(value.start), self.arg(value.stop), self.arg(value.step))
        return value

    def tensor_node(self, tensor: torch.Tensor) -> Step:
        found = self.nodes.get(id(tensor))
        if found is not None:
            return found
        path = self.held.get(id(tensor))
        if path is None:  # a tensor the model keeps outside its parameters and buffers
            path = f"_tensor_constant{len(self.constants)}"
            self.constants[path] = tensor
        node = self.node("get_attr", path, (), {})
        self._made(node, tensor)
        return node

    def _made(self, node: Step, tensor: torch.Tensor) -> None:
        """`tensor` is now read as made by `node`, and watched until it dies (when its id is free again).
        The value kept is an alias of its storage, not the tensor: holding it would keep it alive."""
        self.values[node.name] = _alias(tensor)
        key = id(tensor)
        if key not in self.watched:
            self.watched[key] = weakref.ref(tensor, partial(self._died, key))
        self.nodes[key] = node

    def _died(self, key: int, _reference) -> None:
        """The tensor of id `key` is gone: the last node it was the value of was alive until now. Not the
        earlier ones: a graph that reads an in-place call (ConvNeXt's `result += input`) as a new tensor
        has freed what it wrote into, and would count the storage twice."""
        del self.watched[key]
        self.died[self.nodes.pop(key).name] = self.made

    def finish(self, output) -> Recorded:
        """The run's steps with the output's, without those nothing reads: sizes never used, and what
        only Python read (the sum an `if` tests, an assert's comparison). Writes into a tensor stay
        (MViT's attn[:, :, 1:, 1:] = attn + relative positions), and products: torch runs them."""
        self.node("output", "output", (self.arg(output),), {})
        readers, kept = {}, []
        # a tensor a module returned beside its output that forward() keeps in a local past the call, unread
        # (`y, _ = self.attn(x, x, x)`): the importer says whether it is a layer (importer._is_row)
        held = frozenset(step.name for step in self.steps if _beside_a_module(step)
                         and self.died.get(step.name, step.made) > step.made)
        for step in reversed(self.steps):  # a step's readers all come after it
            if step.op in ("call_function", "call_method") and step not in readers and not _writes(step) \
                    and not multiplies(step) and step.name not in held:
                continue
            kept.append(step)
            for source in step.sources:
                readers[source] = None
        users: dict[str, list] = {}
        for step in reversed(kept):
            for source in step.sources:
                users.setdefault(source.name, []).append(step)
        return Recorded(steps=tuple(reversed(kept)), users={name: tuple(found) for name, found in users.items()},
                        modules=self.modules, constants=dict(self.constants), leaf_outputs=self.leaf_outputs,
                        held_beside=held)

    def placeholder(self, name: str, value: torch.Tensor) -> None:
        self._made(self.node("placeholder", name, (), {}), value)

    # --- modules

    def call_module(self, module: nn.Module, call, args, kwargs):
        """A module run: a layer (a kind states it, or torch's with no modules inside) is one node,
        answered by its calculator where it can; any other is run through, inside its scope."""
        path = self.paths.get(id(module))
        if self.depth or not path:
            return call(module, *args, **kwargs)
        if isinstance(module, LazyModuleMixin) and module.has_uninitialized_params():
            with torch._C.DisableTorchFunction():  # sizing its parameters (their stand-ins) is no step of the model's
                module._infer_parameters(module, args, kwargs)  # its first call's pre-hook: LazyConv2d becomes Conv2d
        outside, inside = self.scope, (*self.scope, Scope(name=path, kind=type(module).__name__))
        if not self.is_leaf(module):
            self.scope = inside
            try:
                result = call(module, *args, **kwargs)
            finally:
                self.scope = outside
            self.leaf_output(path, module, result)
            return result
        node_args, node_kwargs, built = self.arg(args), self.arg(kwargs), module_arguments(module)
        self.depth += 1
        try:
            result = self._answered(module, built, path, call, args, kwargs)
        finally:
            self.depth -= 1
        self.scope = inside
        node = self.node("call_module", path, node_args, node_kwargs, built=built)
        self.scope = outside
        return self.output(node, result)

    def leaf_output(self, path: str, module: nn.Module, result) -> None:
        """The output of a module run through (or the model itself) that has parameters of its own and no modules
        inside: torchinfo counts its parameters by its output's dims (graph.LeafParameter). Of several tensors,
        the first."""
        if any(child is not None for child in module._modules.values()) \
                or all(parameter is None for parameter in module._parameters.values()):
            return
        first = result[0] if isinstance(result, (tuple, list)) and result else result
        made = self.nodes.get(id(first)) if isinstance(first, torch.Tensor) else None
        if made is not None:
            self.leaf_outputs[path] = made

    def _answered(self, module: nn.Module, built: tuple[str, dict] | None, path: str, call, args, kwargs):
        """A layer's output: its calculator's where it can say, else the module's own. Where both
        refuse, the calculator's reason is the one given (it names the sizes that disagree)."""
        try:
            result = self.answer(built, args, kwargs)
        except LayerError as refusal:
            try:
                return call(module, *args, **kwargs)
            except Exception:  # noqa: BLE001 (torch agrees the layer cannot take this input)
                raise LayerFails(path=path, message=str(refusal), inputs=_sample_shapes(args)) from None
        return call(module, *args, **kwargs) if result is None else result


FACTORIES = _device_constructors()  # torch.zeros, torch.arange, …: what torch.device(...) as a context sets

PLAIN = frozenset({int, float, bool, str, type(None), torch.dtype, torch.device})  # no tensor, Size or step inside


SNAKE = re.compile(r"(?<=[a-z])([A-Z])")  # torch.fx's: a lower-case letter before an upper-case one


def _alias(value):
    """A value as the graph reads it, its tensors as new tensors on their storages: the model's own
    tensors die when its Python lets them go, whatever the graph keeps."""
    if isinstance(value, torch.Tensor):
        with torch._C.DisableTorchFunction():  # not a step of the model's
            return value.detach()
    if isinstance(value, (tuple, list)) and _holds_tensor(value):  # a structseq (x.max(1)) read as a tuple
        aliased = [_alias(piece) for piece in value]
        return aliased if isinstance(value, list) else tuple(aliased)
    return value


def _on_meta(func, args, kwargs) -> torch.Tensor | None:
    """A call's meta tensor made at once where its meta kernel is Python (torch._refs: a tenth of a
    millisecond an add, a third of swin_t's run) and what it gives is plain: operands of a floating
    dtype, contiguous (or one tensor and numbers: its layout kept, as torch keeps it). None where the
    kernel is to run."""
    rule = META_ANSWERS.get(getattr(func, "__name__", None))
    if rule is None or "out" in kwargs:
        return None
    tensors = _tensors_in((*args, *kwargs.values()))
    if not tensors or not all(tensor.is_meta for tensor in tensors):
        return None
    with torch._C.DisableTorchFunction():  # the rule's own torch calls (torch.empty) are no steps
        return rule(args, kwargs, tensors)


def _contiguous(rule):
    """A rule for contiguous operands only: on others torch's output strides are the kernel's to say."""
    return lambda args, kwargs, tensors: rule(args, kwargs, tensors) if all(t.is_contiguous() for t in tensors) \
        else None


def _positional(rule):
    """A rule for operands given by position only (not torch.add(x, other=y))."""
    return lambda args, kwargs, tensors: rule(args, kwargs, tensors) if len(tensors) == len(_tensors_in(args)) \
        else None


def _tensors_in(values) -> list[torch.Tensor]:
    """The tensors among a call's arguments, those in a list or tuple (torch.cat's) too."""
    return [tensor for value in values for tensor in (value if isinstance(value, (list, tuple)) else (value,))
            if isinstance(tensor, torch.Tensor)]


def _elementwise(args, kwargs, tensors) -> torch.Tensor | None:
    """A floating result, laid out as torch's meta kernel lays it out: contiguous from contiguous operands;
    else in the order of the operands' strides, each broadcast to the output's shape (q * scale on a piece
    of qkv: dense, heads before rows as q's were; ConvNeXt's layer_scale times its block's permuted output)."""
    dtype = torch.result_type(*args[:2]) if len(args) > 1 else tensors[0].dtype
    if not dtype.is_floating_point:  # an integer division is a float; a comparison is bool
        return None
    shape = _broadcast([tensor.shape for tensor in tensors])
    if shape is None:  # torch's refusal, left to the kernel
        return None
    if all(tensor.is_contiguous() for tensor in tensors):
        return torch.empty(shape, dtype=dtype, device="meta")
    return torch.empty_strided(shape, _output_strides(shape, tuple((t.shape, t.stride()) for t in tensors)),
                               dtype=dtype, device="meta")


def _broadcast(shapes) -> tuple[int, ...] | None:
    """The shape these broadcast to, None where they do not (torch.broadcast_shapes takes 12 µs)."""
    rank = max(map(len, shapes))
    sizes = [{size for size in dim if size != 1} for dim in zip(*((1,) * (rank - len(shape)) + tuple(shape)
                                                                 for shape in shapes))]
    return None if any(len(found) > 1 for found in sizes) else tuple(found.pop() if found else 1 for found in sizes)


def _matmul(args, kwargs, tensors) -> torch.Tensor | None:
    """x @ y of two tensors of one floating dtype, each of one dim or more: a new contiguous tensor (as
    torch's meta kernel gives it), their batch dims broadcast."""
    if len(tensors) != 2 or tensors[0].dtype != tensors[1].dtype or not tensors[0].dtype.is_floating_point \
            or min(tensor.dim() for tensor in tensors) == 0:
        return None
    x, y = tensors
    rows, columns = tuple(x.shape[-2:-1]), tuple(y.shape[-1:]) if y.dim() > 1 else ()  # a vector: none
    batch = _broadcast([x.shape[:-2], y.shape[:-2]])
    if batch is None or x.shape[-1] != y.shape[-2 if y.dim() > 1 else -1]:
        return None  # torch's refusal, left to the kernel
    return torch.empty((*batch, *rows, *columns), dtype=x.dtype, device="meta")


@lru_cache(maxsize=1024)  # a model's few layouts, met at every block
def _output_strides(shape: torch.Size, operands: tuple) -> tuple[int, ...]:
    """torch's reference kernels' layout of an elementwise output: in the order of the operands' strides,
    each operand broadcast to the output's shape first (compute_elementwise_output_strides)."""
    from torch._prims_common import compute_elementwise_output_strides

    expanded = [torch.empty_strided(size, stride, device="meta").expand(shape) for size, stride in operands]
    return tuple(compute_elementwise_output_strides(*expanded))


def _normalized(args, kwargs, tensors) -> torch.Tensor | None:
    """F.layer_norm over the input's last dims, its weight and bias of their shape: a new contiguous tensor
    of the input's shape and dtype, however the input is laid out (the decomposition torch runs on the meta
    device takes a millisecond)."""
    x, normalized = args[0], tuple(args[1]) if len(args) > 1 and isinstance(args[1], (tuple, list)) else None
    if normalized is None or tuple(x.shape[len(x.shape) - len(normalized):]) != normalized \
            or any(tensor.shape != normalized or tensor.dtype != x.dtype for tensor in tensors[1:]):
        return None
    return torch.empty(x.shape, dtype=x.dtype, device="meta")


def _batch_normalized(args, kwargs, tensors) -> torch.Tensor | None:
    """F.batch_norm of a contiguous input, its statistics, weight and bias one per channel (dim 1): a new
    contiguous tensor of the input's shape and dtype."""
    x = args[0]
    if x.dim() < 2 or any(tensor.shape != (x.shape[1],) or tensor.dtype != x.dtype for tensor in tensors[1:]):
        return None
    return torch.empty(x.shape, dtype=x.dtype, device="meta")


def _cat(args, kwargs, tensors) -> torch.Tensor | None:
    """torch.cat of contiguous tensors of one dtype and rank, alike but along `dim`: a new contiguous tensor."""
    dim = args[1] if len(args) > 1 else kwargs.get("dim", 0)
    rank = tensors[0].dim()
    if set(kwargs) - {"dim"} or not isinstance(dim, int) or isinstance(dim, bool) or not -rank <= dim < rank \
            or any(tensor.dim() != rank or tensor.dtype != tensors[0].dtype for tensor in tensors):
        return None
    dim %= rank
    if any(tensor.shape[:dim] != tensors[0].shape[:dim] or tensor.shape[dim + 1:] != tensors[0].shape[dim + 1:]
           for tensor in tensors):
        return None
    shape = (*tensors[0].shape[:dim], sum(tensor.shape[dim] for tensor in tensors), *tensors[0].shape[dim + 1:])
    return torch.empty(shape, dtype=tensors[0].dtype, device="meta")


def _linear(args, kwargs, tensors) -> torch.Tensor | None:
    x, weight = args[0], args[1] if len(args) > 1 else None
    if weight is None or weight.dim() != 2 or any(tensor.dtype != x.dtype for tensor in tensors):
        return None
    return torch.empty((*x.shape[:-1], weight.shape[0]), dtype=x.dtype, device="meta")


def _in_place(args, kwargs, tensors) -> torch.Tensor | None:
    """x.add_(y), x += y: x itself, where y broadcasts to x's shape and x is of a floating dtype (torch's
    meta kernel checks the same in Python: a tenth of a millisecond a ResNet block's residual add)."""
    x = args[0]
    if not x.dtype.is_floating_point or torch.result_type(*args[:2]) != x.dtype \
            or _broadcast([tensor.shape for tensor in tensors]) != tuple(x.shape):
        return None
    return x


def _comparison(args, kwargs, tensors) -> torch.Tensor | None:
    shape = _broadcast([tensor.shape for tensor in tensors])
    return None if shape is None else torch.empty(shape, dtype=torch.bool, device="meta")


def _same_as_first(args, kwargs, tensors) -> torch.Tensor | None:
    """roll and masked_fill: a new tensor of the first's shape and dtype (a mask that would grow it: torch's
    refusal, left to the kernel)."""
    x = args[0]
    if _broadcast([tensor.shape for tensor in tensors]) != tuple(x.shape):
        return None
    return torch.empty(x.shape, dtype=x.dtype, device="meta")


def _reshaped(args, kwargs, tensors) -> torch.Tensor | None:
    """x.reshape(sizes) or torch.reshape(x, sizes): a view of x where its layout allows one (torch's view
    kernel is C++), else a new contiguous tensor, as reshape copies (whose meta kernel is Python: 0.1 ms a
    call, Swin's windows a dozen times a block)."""
    x, sizes = args[0], args[1] if len(args) == 2 and isinstance(args[1], (tuple, list)) else args[1:]
    if kwargs or len(tensors) != 1 or not sizes:
        return None
    try:
        return x.view(sizes)
    except RuntimeError:  # not viewable, or sizes that do not fit: the copy's view tells which
        return torch.empty(x.shape, dtype=x.dtype, device="meta").view(sizes)


def _attended(args, kwargs, tensors) -> tuple[torch.Tensor, torch.Tensor | None] | None:
    """F.multi_head_attention_forward, as nn.MultiheadAttention calls it (ViT's twelve: 2.5 ms each as the
    kernels run on meta), where no static keys are given and any mask is one torch takes: a new contiguous
    output (L, N, out_proj's features) and, asked for them, the weights (N, L, S), per head (N, heads, L, S)
    unaveraged, without N unbatched. None where torch is to check what it is given."""
    try:
        call = _ATTENTION_SIGNATURE.bind(*args, **kwargs).arguments
    except TypeError:
        return None
    query, key, value, out = call["query"], call["key"], call["value"], call["out_proj_weight"]
    heads, given = call["num_heads"], (call.get(name) for name in _ATTENTION_LEFT_TO_TORCH)
    masks = [call.get(name) for name in MASKS]
    if any(item is not None for item in given) or query.dim() not in (2, 3) \
            or key.shape != value.shape[:-1] + key.shape[-1:] or key.dim() != query.dim() \
            or query.shape[1:-1] != key.shape[1:-1] or query.shape[-1] != call["embed_dim_to_check"] \
            or not isinstance(heads, int) or heads < 1 or query.shape[-1] % heads \
            or not _projected(call, query.shape[-1], key.shape[-1], value.shape[-1]) \
            or any(tensor.dtype != query.dtype for tensor in tensors if all(tensor is not m for m in masks)) \
            or not query.dtype.is_floating_point or not _masks_taken(call, query, key, heads):
        return None
    batch, length = query.shape[1:-1], query.shape[0]
    source = key.shape[0] + (call.get("bias_k") is not None) + bool(call.get("add_zero_attn"))
    output = torch.empty((length, *batch, out.shape[0]), dtype=query.dtype, device="meta")
    if not call.get("need_weights", True):
        return output, None
    per_head = () if call.get("average_attn_weights", True) else (heads,)
    return output, torch.empty((*batch, *per_head, length, source), dtype=query.dtype, device="meta")


def _masks_taken(call: dict, query: torch.Tensor, key: torch.Tensor, heads: int) -> bool:
    """Whether attention's masks are as torch takes them (functional.py's checks): bool or of the query's
    dtype; key_padding_mask (N, S), (S,) unbatched; attn_mask (L, S) or (N·heads, L, S), (heads, L, S)
    unbatched; is_causal only beside a mask. None of them changes a shape."""
    batch, length, source = tuple(query.shape[1:-1]), query.shape[0], key.shape[0]
    shapes = dict(zip(MASKS, ([(*batch, source)], [(length, source), (math.prod(batch) * heads, length, source)])))
    if call.get("is_causal") and call.get("attn_mask") is None:
        return False
    return all(call.get(name) is None or isinstance(call[name], torch.Tensor)
               and call[name].dtype in (torch.bool, query.dtype) and tuple(call[name].shape) in allowed
               for name, allowed in shapes.items())


def _projected(call: dict, embed: int, kdim: int, vdim: int) -> bool:
    """Whether attention's projections take its query, key and value and the output projection its
    heads, as torch's in-projection asserts (embed × embed, embed × kdim, embed × vdim)."""
    if call.get("use_separate_proj_weight"):
        weights = [call.get(name) for name in ("q_proj_weight", "k_proj_weight", "v_proj_weight")]
        shapes = [(embed, embed), (embed, kdim), (embed, vdim)]
    else:
        weights, shapes = [call["in_proj_weight"]], [(3 * embed, embed)]
        shapes = shapes if kdim == vdim == embed else []
    out = call["out_proj_weight"]
    if not isinstance(out, torch.Tensor) or out.dim() != 2 or out.shape[1] != embed:
        return False
    biases = {"in_proj_bias": (3 * embed,), "out_proj_bias": (out.shape[0],), "bias_k": (1, 1, embed),
              "bias_v": (1, 1, embed)}
    return bool(shapes) and all(isinstance(weight, torch.Tensor) and tuple(weight.shape) == shape
                                for weight, shape in zip(weights, shapes)) \
        and all(call.get(name) is None or tuple(call[name].shape) == shape for name, shape in biases.items()) \
        and (call.get("bias_k") is None) == (call.get("bias_v") is None)


_ATTENTION_SIGNATURE = inspect.signature(F.multi_head_attention_forward)
_ATTENTION_LEFT_TO_TORCH = ("static_k", "static_v")


# the calls whose meta kernels are Python that models make most (Swin's attention and its shifted
# windows' mask, every residual, the norms a module of a library's own class calls)
META_ANSWERS = {**dict.fromkeys(("add", "sub", "mul", "div", "__add__", "__radd__", "__sub__", "__rsub__", "__mul__",
                                 "__rmul__", "__truediv__", "__rtruediv__"), _positional(_elementwise)),
                **dict.fromkeys(("add_", "sub_", "mul_", "div_", "__iadd__", "__isub__", "__imul__", "__itruediv__"),
                                _positional(_in_place)),
                **dict.fromkeys(("eq", "ne", "lt", "le", "gt", "ge", "__eq__", "__ne__", "__lt__", "__le__", "__gt__",
                                 "__ge__"), _positional(_contiguous(_comparison))),
                **dict.fromkeys(("roll", "masked_fill"), _positional(_contiguous(_same_as_first))),
                **dict.fromkeys(("matmul", "__matmul__"), _positional(_matmul)),
                "cat": _positional(_contiguous(_cat)), "reshape": _reshaped,
                "linear": _positional(_contiguous(_linear)), "layer_norm": _normalized,  # weight=, bias= as torch
                "batch_norm": _contiguous(_batch_normalized),                           # passes them on
                "multi_head_attention_forward": _attended}


class LayerFails(Exception):
    """A layer that cannot take its input, by its calculator and by torch: where, and why."""

    def __init__(self, *, path: str, message: str, inputs: tuple):
        super().__init__(message)
        self.path, self.message, self.inputs = path, message, inputs


def _sample_shapes(args) -> tuple:
    return tuple(tuple(a.shape[1:]) for a in args if isinstance(a, torch.Tensor))


def _beside_a_module(step: Step) -> bool:
    """A module call's second tensor: what it returned beside its output (attention's weights, a GRU's h_n)."""
    source = step.args[0] if step.target is operator.getitem and step.args[1:] == (1,) else None
    return isinstance(source, Step) and source.op == "call_module"


def _writes(node: Step) -> bool:
    """x[i] = y, x.add_(y): a step that changes a tensor in place."""
    return node.target is operator.setitem or node.op == "call_method" and node.target.endswith("_") \
        and not node.target.startswith("_")


def _holds_tensor(value) -> bool:
    return isinstance(value, torch.Tensor) or isinstance(value, (tuple, list)) and any(map(_holds_tensor, value))


@dataclass(frozen=True, kw_only=True)
class Form:
    """A call as a step names it, whether it answers sizes, whether its first two operands come
    reversed (1 - x, x.where(condition, y)), and the arguments an attribute means (x.mT: -2, -1)."""
    op: str
    target: object
    sizes: bool = False
    reflected: bool = False
    implied: tuple = ()


def _form(func, args) -> Form | None:
    """A torch call as a step of the model; None for what is none (x.dtype, x.dim(), len(x), x.item())."""
    name = getattr(func, "__name__", None)
    if name == "__get__":  # an attribute: x.shape is a step, x.T a tensor; x.dtype and x.device are facts
        attribute = func.__self__.__name__
        if attribute in ATTRIBUTE_CALLS:
            method, implied = ATTRIBUTE_CALLS[attribute]
            return Form(op="call_method", target=method, implied=implied)
        if attribute in REVERSED and args and isinstance(args[0], torch.Tensor):
            return Form(op="call_method", target="permute", implied=tuple(reversed(range(args[0].dim()))))
        return None if attribute in FACTS else Form(op="call_function", target=getattr, sizes=attribute == "shape")
    if name in QUERIES:
        return None
    if name in OPERATORS:
        return Form(op="call_function", target=OPERATORS[name])
    if name in REFLECTED:
        return Form(op="call_function", target=REFLECTED[name], reflected=True)
    if name in SELF_SECOND and args and isinstance(args[0], torch.Tensor) and func is getattr(torch.Tensor, name, None):
        return Form(op="call_function", target=SELF_SECOND[name], reflected=True)
    method = getattr(func, "__wrapped__", func)  # x ** 2: torch wraps Tensor.pow to answer NotImplemented
    attribute = getattr(torch.Tensor, name, None)  # or the recorder stands in for it (PATCHED_BY_PTFLOPS)
    if args and isinstance(args[0], torch.Tensor) and method in (attribute, getattr(attribute, "__wrapped__", None)):
        return Form(op="call_method", target=name, sizes=name == "size")
    return Form(op="call_function", target=func)


FACTS = frozenset({"dtype", "device", "ndim", "is_cuda", "is_meta", "is_sparse", "is_nested", "is_quantized",
                   "requires_grad", "layout", "names", "itemsize", "nbytes", "grad_fn", "is_leaf", "output_nr",
                   "_version", "_base"})
QUERIES = frozenset({"dim", "ndimension", "numel", "nelement", "element_size", "is_floating_point", "is_complex",
                     "is_contiguous", "item", "tolist", "__len__", "__bool__", "__int__", "__float__", "__index__",
                     "__format__", "__repr__", "__hash__", "__contains__", "__array__", "numpy", "get_device",
                     "data_ptr", "storage_offset", "stride", "untyped_storage", "__reduce_ex__", "__deepcopy__",
                     "__dlpack__"})
# x[i], x[i] = v and operators torch names by their slot, as torch.fx records them
OPERATORS = {"__getitem__": operator.getitem, "__setitem__": operator.setitem, "__floordiv__": operator.floordiv,
             "__mod__": operator.mod, "__matmul__": operator.matmul, "__pow__": operator.pow,
             "__truediv__": operator.truediv, "__and__": operator.and_, "__or__": operator.or_,
             "__invert__": operator.invert, "__eq__": operator.eq, "__ne__": operator.ne, "__gt__": operator.gt,
             "__ge__": operator.ge, "__lt__": operator.lt, "__le__": operator.le}
REFLECTED = {"__rsub__": operator.sub, "__rtruediv__": operator.truediv, "__rdiv__": operator.truediv,
             "__rpow__": operator.pow, "__rmatmul__": operator.matmul, "__rfloordiv__": operator.floordiv,
             "__rmod__": operator.mod, "__radd__": operator.add, "__rmul__": operator.mul}
# attributes that are a method's call: the matrices' transpose (mH is mT on a real tensor)
ATTRIBUTE_CALLS = {"mT": ("transpose", (-2, -1)), "mH": ("transpose", (-2, -1))}
REVERSED = frozenset({"T", "H"})  # x.T: its dims reversed (d2l's one_hot(X.T, vocabulary), the ids sequence first)
# methods whose tensor is the function's second operand: x.where(condition, y) is torch.where(condition, x, y)
SELF_SECOND = {"where": torch.where}
