"""Attention: nn.MultiheadAttention, batch first (per-sample shapes are sequence × features)."""
from __future__ import annotations

from .facts import NN, OWN, WHOLE, Alias, FromInput, MemoryFacts, TorchForms, no_bytes
from .registry import (Arg, Calc, LayerError, Shape, boolean, format_shape, optional, positive, probability,
                       register)


def whole(args: dict, shapes: tuple[Shape, ...], out: Shape):
    """Every position attends to every other."""
    return WHOLE


# Autograd keeps the inputs, the projected queries, keys and values and the attention's output
# (about four outputs' worth); the attention weights (heads × L × S) come on top and are not counted.
_ATTENTION = MemoryFacts(aliases=lambda args: False, aliases_in_training=lambda args: False, saved="inputs",
                         gradient="each input", extra_saved=lambda args, size: 4 * size, transient=0)


@register("multiheadattention", family="attention", arity=None, fewest_inputs=1, receptive_field=whole,
          memory=_ATTENTION,
          torch=TorchForms(module=OWN + "MultiheadAttention", inferred=FromInput("embed_dim", -1), functions=(),
                           methods=(), aliases=(Alias(NN + "MultiheadAttention",
                                                      (("bias", "in_proj_bias"), ("add_bias_kv", "bias_k"))),)),
          args=(Arg("num_heads", positive), Arg("dropout", probability, 0.0), Arg("bias", boolean, True),
                Arg("add_bias_kv", boolean, False), Arg("add_zero_attn", boolean, False),
                Arg("kdim", optional(positive), None), Arg("vdim", optional(positive), None),
                Arg("batch_first", boolean, False)))
def multihead_attention(shapes: tuple[Shape, ...], args: dict) -> Calc:
    """Self-attention on one input, or query, key and value. MACs: the q, k and v projections, the
    scores q·kᵀ and their weighted sum of v (L × S × E each), and the output projection."""
    if not args["batch_first"]:
        raise LayerError("cnncalc's shapes are per sample, so the batch must come first: set batch_first: true")
    if len(shapes) not in (1, 3):
        raise LayerError(f"takes one input (self-attention) or three (query, key, value), got {len(shapes)}")
    query, key, value = shapes * 3 if len(shapes) == 1 else shapes
    if any(len(shape) != 2 for shape in (query, key, value)) or key[0] != value[0]:
        raise LayerError("expects sequence × features per sample, key and value of one length, got "
                         + ", ".join(format_shape(s) for s in shapes))
    embed, kdim, vdim = query[1], args["kdim"] or query[1], args["vdim"] or query[1]
    if (key[1], value[1]) != (kdim, vdim):
        raise LayerError(f"key and value have {key[1]} and {value[1]} features, kdim and vdim say {kdim} and {vdim}")
    if embed % args["num_heads"]:
        raise LayerError(f"embed_dim {embed} is not divisible by num_heads {args['num_heads']}")
    length, source = query[0], key[0] + args["add_bias_kv"] + args["add_zero_attn"]
    weights = embed * (embed + kdim + vdim) + embed * embed
    biases = (4 * embed if args["bias"] else 0) + (2 * embed if args["add_bias_kv"] else 0)
    macs = length * embed * embed + key[0] * embed * (kdim + vdim) + 2 * length * source * embed + length * embed * embed
    return Calc((length, embed), weights=weights, biases=biases, macs=macs)
