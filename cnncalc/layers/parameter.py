"""A parameter or buffer that a model's forward() reads as a tensor (a class token, a position
embedding, a per-channel scale): a layer with no input, whose values count as parameters or buffers."""
from __future__ import annotations

from .facts import CONSTANT, OWN, MemoryFacts, TorchForms, always, no_bytes
from .registry import Arg, Calc, Shape, boolean, int_list, numel, register


def constant(args: dict, shapes: tuple[Shape, ...], out: Shape):
    return CONSTANT


# Its output is the stored tensor itself, no activation; its gradient is the parameter's, which
# the memory model counts with the other parameters' gradients.
_STORED = MemoryFacts(aliases=always, aliases_in_training=always,
                      saved="nothing", gradient="passed", extra_saved=no_bytes, transient=0)


@register("parameter", family="parameter", arity=0, receptive_field=constant, memory=_STORED,
          args=(Arg("shape", int_list), Arg("buffer", boolean, False)),
          torch=TorchForms(module=OWN + "Parameter", inferred=None, functions=(), methods=(), aliases=()))
def parameter(shapes: tuple[Shape, ...], args: dict) -> Calc:
    """`shape` is per sample, as the tensors it meets see it: a stored (1, 197, 768) position
    embedding is 197×768, a (C,) scale met by H×W×C tensors is 1×1×C."""
    count = numel(args["shape"])
    return Calc(tuple(args["shape"]), weights=0 if args["buffer"] else count, buffers=count if args["buffer"] else 0)
