"""Tensors a model's forward() makes without its input: a parameter or buffer read as a tensor (a
class token, a position embedding, a per-channel scale), and a tensor computed from no input or
from stored ones (sine position encodings, attention biases gathered from a table). Layers with no
input; what they are made from counts as parameters and buffers."""
from __future__ import annotations

from .facts import AS_IS, parameter_gradients
from .facts import CONSTANT, OWN, MemoryFacts, TorchForms, always, never, no_bytes
from .facts import NO_PRODUCTS, PROMOTE
from .registry import Arg, Calc, LayerError, Shape, boolean, int_list, non_negative, numel, register, size_list


def constant(args: dict, shapes: tuple[Shape, ...], out: Shape):
    return CONSTANT


# Its output is the stored tensor itself, no activation; its gradient is the parameter's, which
# the memory model counts with the other parameters' gradients.
_STORED = MemoryFacts(aliases=always, aliases_in_training=always,
                      saved="nothing", gradient="passed", extra_saved=no_bytes, transient=no_bytes, last_saved="none",
                      workspace=parameter_gradients, copies=None, estimate=None)


@register("parameter", family="parameter", field_probe=AS_IS, autocast=PROMOTE, backward=NO_PRODUCTS, arity=0, receptive_field=constant, memory=_STORED,
          args=(Arg("shape", int_list), Arg("buffer", boolean, False)),
          torch=TorchForms(module=OWN + "Parameter", given_weight=None,
                           inferred=None, functions=(), methods=(), aliases=()))
def parameter(shapes: tuple[Shape, ...], args: dict) -> Calc:
    """`shape` is per sample, as the tensors it meets see it: a stored (1, 197, 768) position
    embedding is 197×768, a (C,) scale met by H×W×C tensors is 1×1×C."""
    count = numel(args["shape"])
    return Calc(tuple(args["shape"]), weights=0 if args["buffer"] else count, buffers=count if args["buffer"] else 0)


# A tensor computed anew by each forward(): its output is memory of its own, which a layer may keep
# for backward (standardized filters, a conv's weight); its gradient goes to what it is made from.
_COMPUTED = MemoryFacts(aliases=never, aliases_in_training=never,
                        saved="nothing", gradient="passed", extra_saved=no_bytes, transient=no_bytes, last_saved="none",
                        workspace=parameter_gradients, copies=None, estimate=None)


# given an input, it is sized by that input's batch (read for nothing else): one per sample, as BERT's
# token types expanded to the batch, or Gemma 4's one-hot positions
@register("constant", family="parameter", field_probe=AS_IS, autocast=PROMOTE, backward=NO_PRODUCTS, arity=None, fewest_inputs=0,
          receptive_field=constant, memory=_COMPUTED,
          args=(Arg("shape", size_list), Arg("params", non_negative, 0), Arg("buffers", non_negative, 0)),
          torch=TorchForms(module=OWN + "Constant", given_weight=None,
                           inferred=None, functions=(), methods=(), aliases=()))
def computed(shapes: tuple[Shape, ...], args: dict) -> Calc:
    """`shape` per sample as for a parameter; `params` and `buffers` count the stored tensors it is
    computed from (none for arange and sin): the table a bias is gathered from counts, not the bias.
    Made once per forward pass, or, given an input, once per sample of it."""
    if len(shapes) > 1:
        raise LayerError(f"a constant reads at most one input, for its batch, got {len(shapes)}")
    return Calc(tuple(args["shape"]), weights=args["params"], buffers=args["buffers"])
