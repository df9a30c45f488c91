"""Capture a module by running it (capture.py) and read what the run recorded as the importer's graph.

The run is on the meta device, where modules cnncalc states answer from their kind's calculator;
where meta cannot go, it is once on the CPU on random data, as the peer tools run a model.
"""
from __future__ import annotations

import inspect
import os
import sys
import traceback
import weakref
from collections import OrderedDict
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from functools import partial
from itertools import chain, compress
from pathlib import Path

import torch
from torch import nn
from torch.nn.modules.lazy import LazyModuleMixin
from torch.nn.parameter import UninitializedTensorMixin

from ..errors import SpecError
from ..layers import REGISTRY
from .capture import LayerFails, Recorded, Recorder
from .forms import mapped

PROBE_BATCH = 2  # the batch of the run: 2, so that no size 1 reads as the batch
PROBE_SEED = 0  # the random data of a run on the CPU: the same in every run, coverage's truth included
# a model whose work the data decides runs one sample, on the CPU: a per-image loop's tensors are then
# that sample's, whatever their dim 0
DATA_DEPENDENT = ("one seeded sample, and what its data decided (proposals, detections kept) is this "
                  "run's: another image gives other figures")


@dataclass(frozen=True, kw_only=True)
class Run:
    """A module's run, recorded: its steps with its modules and tensors, every step's value, where it
    ran (the meta device; or the CPU, and why meta could not), and its batch."""
    recorded: Recorded
    values: dict
    # step → how many steps the run had made (their Step.made) when Python let its tensor go; a
    # tensor still held when forward() returned (its output, the inputs, parameters) is not in it
    died: dict = field(default_factory=dict)
    on_cpu: str | None
    batch: int = PROBE_BATCH
    replaced: tuple[str, ...] = ()  # buffers forward() assigns anew (ConViT's rel_indices, sized by the input)
    held: dict  # path → each parameter and buffer the model holds (each once), as it holds them


def trace(module: nn.Module, input_shape: tuple[int, ...], input_dtype: str | None = None,
          others: tuple = (), data_dependent: bool = False) -> Run:
    """The module's run at this input. It runs on the meta device; where meta cannot go it runs on the
    CPU on random data, and an error there is the model's own at this input (raised as it is). A
    `data_dependent` model runs on the CPU at once, one sample."""
    first = _first_input(module, {other.name for other in others})
    if data_dependent:
        return replace(_run(module, first, input_shape, input_dtype, others, on_meta=False, batch=1),
                       on_cpu=DATA_DEPENDENT)
    try:
        return _run(module, first, input_shape, input_dtype, others, on_meta=True)
    except (SpecError, LayerFails):
        raise
    except Exception as error:  # noqa: BLE001 (.item(), a branch on data: whatever meta cannot answer)
        why = f"the meta device stops{where_it_stops(error)}"
    return replace(_run(module, first, input_shape, input_dtype, others, on_meta=False), on_cpu=why)


def where_it_stops(error: Exception) -> str:
    """Where the model's own code stopped, or what stopped it: " at file:line (code)"."""
    return user_line(error) or f": {type(error).__name__}: {str(error)[:80]}"


def _run(module: nn.Module, first: str, input_shape, input_dtype, others, on_meta: bool,
         batch: int = PROBE_BATCH) -> Run:
    """One recorded run of forward() at the probe inputs. The module's own tensors are stood in for by
    meta ones (or, on the CPU, by random ones where it holds meta tensors): a module of the user's
    is left as it was."""
    device = "meta" if on_meta else "cpu"
    modules = _module_tree(module)
    buffers = _named(modules, "_buffers")
    named = _named(modules, "_parameters") | buffers
    running = {name: tensor if (tensor.is_meta if on_meta else tensor.device.type == device)
               else _meta_stand_in(tensor) if on_meta else stand_in(tensor, device)
               for name, tensor in named.items()}
    inputs = dict(zip((first, *(other.name for other in others)),
                      probe_inputs(module, input_shape, input_dtype, others, device, batch)))
    with left_as_it_was(modules.values()), _shapes_read_afresh():
        _stand_in_for(modules, named, running)
        with torch.no_grad():
            recorder = Recorder(modules, running, is_leaf=_is_layer, answer=worked_out if on_meta else _runs,
                                device=device)
            for name, value in inputs.items():
                recorder.placeholder(name, value)
            with _modules_recorded(recorder, modules), recorder.operators_seen(), recorder:
                output = module(*inputs.values()) if len(inputs) == 1 else module(**inputs)
            recorder.leaf_output("", module, output)  # a model holding its parameters itself (F.conv2d on them)
            died = dict(recorder.died)  # what goes after forward() returns is no local of it
            recorded = recorder.finish(output)
            replaced = [name for name in buffers if _buffer(modules, name) is not running[name]]
    return Run(recorded=recorded, values=recorder.values, died=died, on_cpu=None, batch=batch,
               replaced=tuple(replaced), held=named)


def _module_tree(root: nn.Module) -> dict[str, nn.Module]:
    """dict(root.named_modules()), walked without its generators (one a level, resumed for every module
    below it): each module once, at its first path, in the same order."""
    found, seen, stack = {}, set(), [("", root)]
    while stack:
        path, part = stack.pop()
        if id(part) in seen:
            continue
        seen.add(id(part))
        found[path] = part
        stack.extend(reversed([(f"{path}.{name}" if path else name, child)
                               for name, child in part._modules.items() if child is not None]))
    return found


def _named(modules: dict, where: str) -> dict:
    """The module's parameters (where="_parameters") or buffers ("_buffers") by path, each once, as
    named_parameters() and named_buffers() give them, from the modules already found (each of those
    walks the module tree again)."""
    found, seen = {}, set()
    for path, part in modules.items():
        for name, tensor in getattr(part, where).items():
            if tensor is not None and id(tensor) not in seen:
                seen.add(id(tensor))
                found[f"{path}.{name}" if path else name] = tensor
    return found


def _stand_in_for(modules: dict, named: dict, running: dict) -> None:
    """Each of the module's tensors replaced by its stand-in, in the dict of its owner that holds it
    (left_as_it_was puts the dicts back as they were)."""
    for name, tensor in named.items():
        if running[name] is not tensor:
            owner, _, attribute = name.rpartition(".")
            part = modules[owner]
            held = part._parameters if attribute in part._parameters else part._buffers
            held[attribute] = running[name]


@contextmanager
def left_as_it_was(modules):
    """Each of the modules' attributes (a model's, as model.modules() gives them) put back as they were
    after the block, and the dicts among them (its parameters, buffers, submodules and hooks; a forward()
    that caches attention biases in a dict of its own) emptied and refilled as they were: what a traced
    run or a peer tool (ptflops' methods, thop's hooks and buffers) leaves on it goes. Not a dict
    subclass's: diffusers' FrozenDict config refuses to be refilled, and nothing changes one."""
    modules = list(modules)
    saved = [(part.__dict__, part.__dict__.copy()) for part in modules]
    values = list(chain.from_iterable(attributes.values() for _, attributes in saved))
    dicts = list(compress(values, map(DICTS.__contains__, map(type, values))))  # a dozen a module, looked at in C
    contents = [dict(value) if value else None for value in dicts]  # most are empty: hooks no one set
    classes = [type(part) for part in modules]
    unsized = _unsized(modules)
    try:
        yield
    finally:
        for live, attributes in saved:
            live.clear()
            live.update(attributes)
        for value, held in zip(dicts, contents):
            if held is not None or value:  # not a dict empty before and after: most are hooks no one set
                value.clear()
                value.update(held or ())
        for part, cls in zip(modules, classes):
            if type(part) is not cls:
                part.__class__ = cls  # a lazy module its first call made the class it becomes (LazyConv2d: Conv2d)
        for tensor, cls, data in unsized:
            if type(tensor) is not cls:  # sized in place (UninitializedParameter.materialize)
                tensor.data, tensor.__class__ = data, cls


def _unsized(modules: list) -> list[tuple]:
    """The lazy modules' parameters and buffers not yet sized, each with its class and (empty) data."""
    found = [tensor for part in modules if isinstance(part, LazyModuleMixin)
             for tensor in (*part._parameters.values(), *part._buffers.values())
             if isinstance(tensor, UninitializedTensorMixin)]
    return [(tensor, type(tensor), tensor.data) for tensor in found]


DICTS = frozenset({dict, OrderedDict})


@contextmanager
def _shapes_read_afresh():
    """einops' caches emptied before the run and after it: einops keeps each call's sizes by the shapes it was
    given (lru_cache), so a run at the shapes of an earlier one (the user's own at a batch of 2, a summary before)
    would take its sizes from the cache and not from the input (a parameter repeated to the batch would read
    as a constant of 2), and what the run computed stays out of the user's later calls."""
    einops = sys.modules.get("einops.einops")
    caches = [value.cache_clear for value in vars(einops).values() if hasattr(value, "cache_clear")] if einops else []
    for clear in caches:
        clear()
    try:
        yield
    finally:
        for clear in caches:
            clear()


def _is_layer(module: nn.Module) -> bool:
    """A module a kind states, or one of torch's with no modules inside; torch's that are made of
    modules (nn.TransformerEncoderLayer) are run through like the user's."""
    return mapped(module) is not None or type(module).__module__.startswith(("torch.nn", "torch.ao.nn")) \
        and next(module.children(), None) is None and not isinstance(module, CONTAINERS)


CONTAINERS = (nn.Sequential, nn.ModuleList, nn.ModuleDict)  # an empty one (a shortcut) passes its input on


def _runs(built, args, kwargs) -> None:
    """On the CPU every module runs: what follows may read its values."""
    return None


@contextmanager
def _modules_recorded(recorder: Recorder, modules: dict):
    """Every call of the model's modules goes through the recorder while the model runs, by each one's
    _compiled_call_impl, which nn.Module.__call__ calls where an instance has one (torch.compile's hook):
    patching nn.Module.__call__ itself invalidates the type caches of every Module subclass loaded, up to
    a millisecond a run. The root runs as it is; a module forward() makes anew, by torch."""
    held = {path: part.__dict__.get("_compiled_call_impl", NONE_OF_ITS_OWN) for path, part in modules.items() if path}
    for path in held:
        modules[path].__dict__["_compiled_call_impl"] = partial(_recorded_call, recorder, modules[path])
    try:
        yield
    finally:
        for path, own in held.items():
            if own is NONE_OF_ITS_OWN:  # nn.Module's, None
                del modules[path].__dict__["_compiled_call_impl"]
            else:  # the user's module.compile()
                modules[path].__dict__["_compiled_call_impl"] = own


NONE_OF_ITS_OWN = object()


def _recorded_call(recorder: Recorder, module: nn.Module, *args, **kwargs):
    return recorder.call_module(module, nn.Module._call_impl, args, kwargs)


def worked_out(built: tuple[str, dict] | None, args: tuple, kwargs: dict) -> torch.Tensor | None:
    """A mapped module's output on x, given the kind and arguments it was built with (`built`), its
    shape worked out by its kind's calculator (x's dim 0 as the
    batch, as the module reads it): microseconds, where running it on the meta device takes up to
    a millisecond and a half (batch norm's decomposition). None where the calculator cannot say, or
    the module returns more than a tensor: then it runs. A LayerError where the calculator refuses x."""
    x = args[0] if len(args) == 1 and not kwargs else None
    if built is None or not isinstance(x, torch.Tensor):
        return None
    with torch._C.DisableTorchFunction():  # no call of the model's: not one for the recorder to see
        shape = tuple(x.shape)
        sample = _sample_output(*built, shape[1:]) if len(shape) > 1 else None
        return None if sample is None else torch.empty((shape[0], *sample), dtype=x.dtype, device=META)


def _sample_output(kind: str, arguments: dict, sample: tuple[int, ...]) -> tuple[int, ...] | None:
    """A module's output per sample by its kind's calculator, None where it returns more than a tensor;
    what it said of these arguments and this input before, said again (a model's blocks repeat)."""
    try:
        key = (kind, sample, tuple(arguments.items()), tuple(map(type, arguments.values())))  # True is not 1
        return OUTPUTS[key]
    except TypeError:  # a list among the arguments: not hashable
        key = None
    except KeyError:
        pass
    layer = REGISTRY[kind]
    output = None
    if layer.kin.one_tensor and not arguments.get("return_indices"):
        output = layer.calculate((sample,), layer.normalize(  # a LayerError: it cannot take x
            {name: value for name, value in arguments.items() if value is not None})).output_shape
    if key is not None and len(OUTPUTS) < OUTPUTS_KEPT:
        OUTPUTS[key] = output
    return output


OUTPUTS: dict = {}  # (kind, input per sample, arguments) → its output per sample, or None
OUTPUTS_KEPT = 4096  # a model's distinct leaves, many times over
META = torch.device("meta")


def probe_inputs(module: nn.Module, input_shape, input_dtype: str | None, others, device: str,
                 batch: int) -> list[torch.Tensor]:
    """forward()'s inputs for a run at `batch`: the first, then each of `others`, drawn in turn from one
    generator seeded with PROBE_SEED (coverage's truth and the peers draw the same)."""
    seeded = torch.Generator().manual_seed(PROBE_SEED)
    return [probe(shape, dtype, device, module, batch, seeded)
            for shape, dtype in ((input_shape, input_dtype), *((other.shape, other.dtype) for other in others))]


def probe(shape: tuple[int, ...], dtype: str | None, device: str, module: nn.Module, batch: int,
          seeded: torch.Generator) -> torch.Tensor:
    """An input of the run at `batch`: on the CPU random values drawn from `seeded`, ids below every
    table's size."""
    dtype = getattr(torch, dtype or "float32")
    if device == "meta":
        return torch.empty(batch, *shape, device="meta", dtype=dtype)
    if dtype.is_floating_point:
        return torch.randn(batch, *shape, dtype=dtype, generator=seeded)
    rows = [part.num_embeddings for part in module.modules() if isinstance(part, (nn.Embedding, nn.EmbeddingBag))]
    return torch.randint(0, min(rows, default=2), (batch, *shape), generator=seeded).to(dtype)


def _first_input(module: nn.Module, given: set[str]) -> str:
    """The name of forward()'s first argument, after checking that every argument with no default is
    given (--input mask=1x224x224) and nothing it does not take; the others keep their defaults."""
    parameters = list(inspect.signature(module.forward).parameters.values())
    first, parameters = parameters[0].name, parameters[1:]
    names = [p.name for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    required = [p.name for p in parameters if p.default is inspect.Parameter.empty and p.name in names]
    if set(required) - given or given - set(names):
        raise SpecError(f"forward() takes {len(required) + 1} inputs ({', '.join([first, *required])}): give each, "
                        f"e.g. --input {first}=3x224x224 --input {(required or ['mask'])[0]}=1x224x224 "
                        f"(input_size={{...}} in Python){_unknown(given - set(names))}")
    return first


def _unknown(names: set[str]) -> str:
    return f"; forward() has no argument {', '.join(sorted(names))}" if names else ""


def _buffer(modules: dict, name: str):
    owner, _, attribute = name.rpartition(".")
    part = modules[owner]
    return part.__dict__.get(attribute, part._buffers.get(attribute))  # a traced value may sit beside it


def stand_in(tensor: torch.Tensor, device: str) -> torch.Tensor:
    """A tensor of the same shape and type on the run's device (random on the CPU, where values are read)."""
    made = torch.empty_like(tensor, device=device)
    if device != "meta" and made.is_floating_point():
        made.normal_()
    # as nn.Parameter(made) makes it, without its class's Python (hundreds a model)
    return torch.Tensor._make_subclass(nn.Parameter, made, tensor.requires_grad) \
        if isinstance(tensor, nn.Parameter) else made


def _meta_stand_in(tensor: torch.Tensor) -> torch.Tensor:
    """The meta stand-in of a tensor of the model's, the one an earlier run made where the tensor is alive
    and alike still (a summary after another, a sweep's batches): making each anew is a tenth of a run. A lazy
    module's parameter not yet sized (nn.LazyConv2d's, d2l.ai's) stands in as a new one on the meta device,
    which the module's first call sizes there, the model's own left as it is."""
    if isinstance(tensor, UninitializedTensorMixin):
        return type(tensor)(requires_grad=tensor.requires_grad, device="meta", dtype=tensor.dtype)
    key = id(tensor)
    held = _META_STAND_INS.get(key)
    if held is not None and held[0]() is tensor and _alike(held[1], tensor):
        return held[1]
    made = stand_in(tensor, "meta")
    _META_STAND_INS[key] = (weakref.ref(tensor, lambda _, key=key: _META_STAND_INS.pop(key, None)), made)
    return made


def _alike(made: torch.Tensor, tensor: torch.Tensor) -> bool:
    """Whether a stand-in still stands for the tensor: its class, shape, strides, dtype and requires_grad."""
    return type(made) is type(tensor) and made.shape == tensor.shape and made.stride() == tensor.stride() \
        and made.dtype == tensor.dtype and made.requires_grad == tensor.requires_grad


_META_STAND_INS: dict[int, tuple[weakref.ref, torch.Tensor]] = {}  # id(tensor) → (the tensor, its stand-in)


def user_line(error: Exception) -> str:
    """Where in the user's code the run stopped, or nothing."""
    return _user_frame(traceback.extract_tb(error.__traceback__))


def _user_frame(frames) -> str:
    """The innermost frame of the model's code, neither torch's nor cnncalc's: " at file:line (code)"."""
    frames = [frame for frame in frames if not frame.filename.startswith((TORCH_DIR, CNNCALC_DIR))]
    return f" at {Path(frames[-1].filename).name}:{frames[-1].lineno} ({(frames[-1].line or '').strip()[:80]})" \
        if frames else ""


TORCH_DIR = str(Path(torch.__file__).parent) + os.sep  # torchvision's files are the model's
CNNCALC_DIR = str(Path(__file__).parent.parent) + os.sep
