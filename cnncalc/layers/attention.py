"""Attention: nn.MultiheadAttention (batch first: per-sample shapes are sequence × features) and the
weights it returns, F.scaled_dot_product_attention, and the matrix products attention is written with
(matmul, einsum)."""
from __future__ import annotations

from dataclasses import dataclass, replace

from .facts import AS_IS, Parameters, Workspace, batched_by_a_copy, parameter_gradients
from .facts import (NN, OWN, RETURNED_BESIDE, Alias, Call, F, FromInput, MemoryFacts, TorchForms, calls, never, no_bytes,
                    own_module, whole)
from ..errors import quoted
from .facts import FLOAT32, LOWER, NO_PRODUCTS, PRODUCTS, PROMOTE, Autocast, BackwardFacts, BackwardWork, Gradients
from .registry import (BATCH_FIRST, FLOATS, Arg, Calc, LayerError, Shape, boolean, choice, format_shape, number,
                       numel, optional, positive, probability, register)


# a product keeps both factors for backward
_PRODUCT = MemoryFacts(aliases=never, aliases_in_training=never, saved="inputs", gradient="each input",
                       extra_saved=no_bytes, transient=no_bytes, last_saved="read",
                       workspace=parameter_gradients, copies=None, estimate=None)
# attention keeps its inputs and its output (with the softmax statistics, one per row: not counted);
# the L × S scores are not kept by the fused kernels
_SCORES = MemoryFacts(aliases=never, aliases_in_training=never, saved="inputs and output", gradient="each input",
                      extra_saved=no_bytes, transient=no_bytes, last_saved="made",
                      workspace=parameter_gradients, copies=None, estimate=None)
_PRODUCT_OF_VIEWS = replace(_PRODUCT, copies=batched_by_a_copy)  # matmul's reshape copies a permuted view


def _math_path(shapes: tuple[Shape, ...], args: dict, tracked: tuple[bool, ...]) -> str | None:
    """torch's fused kernels (flash, memory-efficient; the CPU's flash) take 4-d queries, keys and values;
    torch 2.14 takes 3-d ones as one head, torch 2.13 runs them on its math path. None takes a mask that
    requires grad (check_attn_mask_shape in sdp_utils): a relative position bias made of parameters."""
    if not all(len(shape) == 3 for shape in shapes[:3]):  # per sample: (heads, L, E)
        return ("queries, keys and values of other than 4 dims run torch's math path (3-d ones up to torch "
                "2.13), which holds the scores and their softmax; the figures follow the fused kernels")
    return ("an attn_mask that requires grad (a bias made of parameters) runs torch's math path in training, "
            "which holds the scores and their softmax; the figures follow the fused kernels") \
        if any(tracked[3:]) else None


def _scores_held(args: dict) -> bool:
    """Whether a training pass holds the L × S scores: asked for its weights, multi-head attention forms them by
    bmm; with dropout and no weights asked, F.scaled_dot_product_attention runs the CPU's math path (its fused
    kernel drops nothing)."""
    return args["need_weights"] or args["dropout"] > 0


def _fused_in_inference(shapes: tuple[Shape, ...], args: dict) -> bool:
    """Whether inference runs torch's fused _native_multi_head_attention, whose temporaries are its kernel's own
    (nn.MultiheadAttention.forward's why_not_fast_path): self-attention by in_proj with its bias, an even
    number of heads, no bias_kv and no zero attention, no float mask."""
    return _attended(shapes, args) == 1 and args["bias"] and args["num_heads"] % 2 == 0 \
        and FLOATS not in (args["attn_mask"], args["key_padding_mask"]) \
        and not args["add_bias_kv"] and not args["add_zero_attn"] and args["kdim"] in (None, shapes[0][1]) \
        and args["vdim"] in (None, shapes[0][1])


def _projection_gradients(args: dict, shapes: tuple[Shape, ...], batch: int, element_size: int,
                          parameters: Parameters) -> Workspace:
    """Its backward makes one projection's weight gradients at a time, in_proj's the largest (q's, k's and v's
    weights packed, or the widest of them apart, beside the packed bias)."""
    own = parameter_gradients(args, shapes, batch, element_size, parameters)
    query, key, value = query_key_value(shapes, args)
    embed = query[1]
    largest = (3 * embed * embed if key[1] == value[1] == embed else embed * max(embed, key[1], value[1])) \
        + 3 * embed * args["bias"]
    return replace(own, gradients=min(own.gradients, largest))


def _attention_holds(args: dict, shapes: tuple[Shape, ...], batch: int, element_size: int,
                     parameters: Parameters) -> Workspace:
    """What multi-head attention holds besides its inputs and output, path by path of torch's (docs/memory.md:
    "Multi-head attention"), in elements; backward's own holdings fitted (within 10% of torch's)."""
    own = _projection_gradients(args, shapes, batch, element_size, parameters)
    held = _Held.of(args, shapes, batch)
    inference = held.returned if _fused_in_inference(shapes, args) else held.general_inference()
    if not _scores_held(args):
        return replace(own, saved=held.projected + held.queries + held.rows, running=held.copied,
                       inference=inference, gradients=own.gradients + held.queries)
    # the weights' products keep k and v (the math path's, v and its own scaled k) and the scaled queries
    scaled = held.keys_values + held.queries if args["need_weights"] else \
        held.values + held.queries + held.keys_catted
    dropped = 2 * held.scores if args["dropout"] > 0 else 0  # its noise and the weights dropped
    return replace(own, saved=held.queries + scaled + held.scores + dropped,
                   running=max(held.copied, held.scores), inference=inference,
                   gradients=own.gradients + max(2 * held.scores - dropped - 3 * held.queries, 0))


@dataclass(frozen=True, kw_only=True)
class _Held:
    """The tensors multi-head attention makes and holds at each step of its run, in elements, whole batch (the
    fields' comments say which)."""
    queries: int  # q, the attention's output, the output projection's
    keys: int  # k and v each
    keys_catted: int  # k with bias_kv or a zero row catted, else k
    scores: int  # heads × L × S
    rows: int  # heads × L: the fused kernel's log-sum-exp
    weighed: bool  # whether the weights are asked for (need_weights): the path by bmm and softmax
    averaged: int  # the weights averaged over the heads (L × S), where asked so
    returned: int  # the weights returned, where asked: averaged, or each head's (the softmax, heads × L × S)
    first: int  # q, k and v as projected
    catting: int  # what catting bias_kv or a zero row to k and v holds beside them
    projected: int  # q, k and v as attended (self-attention's packed storage stays beside catted k and v)
    kept: int  # what of them the softmax still holds (k let go, unless a view of one projection's copy)
    weighted: int  # what the weights' product with v leaves (q let go too, where a tensor of its own)
    copied: int  # the packed projection's copy (self-attention's of q, k and v; a memory's of k and v)
    keys_values: int  # the storage keeping k and v keeps
    values: int  # the storage keeping v keeps

    @classmethod
    def of(cls, args: dict, shapes: tuple[Shape, ...], batch: int) -> "_Held":
        query, key, _ = query_key_value(shapes, args)
        attended, embed, heads = _attended(shapes, args), query[1], args["num_heads"]
        source = key[0] + args["add_bias_kv"] + args["add_zero_attn"]
        queries, keys, catted = batch * query[0] * embed, batch * key[0] * embed, batch * source * embed
        averaged = batch * query[0] * source if args["need_weights"] and args["average_attn_weights"] else 0
        first = queries + 2 * keys
        extended = 2 * catted if source > key[0] else 0
        # one projection makes k and v of a memory of the embedding's size (in_proj), views of its copy; of
        # other sizes (kdim, vdim), or from two tensors, each is a tensor of its own
        packed_keys = attended == 2 and key[1] == embed
        apart = attended > 1 and not packed_keys
        projected = first + extended if attended == 1 else queries + (extended or 2 * keys)
        own_keys = catted if extended or apart else 0  # k (and v) tensors of their own, not views of one
        packed = attended == 1 and not extended  # q, k and v views of one storage to the end
        return cls(queries=queries, keys=keys, keys_catted=catted, scores=batch * heads * query[0] * source,
                   rows=batch * heads * query[0], weighed=args["need_weights"], averaged=averaged,
                   returned=(averaged or batch * heads * query[0] * source) if args["need_weights"] else 0,
                   first=first, catting=extended // 2 if apart else extended, projected=projected,
                   kept=projected - own_keys, weighted=projected - own_keys - (queries if attended > 1 else 0),
                   copied=3 * queries if attended == 1 else 2 * keys if packed_keys else 0,
                   keys_values=3 * queries if packed else 2 * catted,
                   values=3 * queries if packed else 2 * keys if packed_keys and not extended else catted)

    def general_inference(self) -> int:
        """What inference holds beside the output on the general path, at its fullest, step by step (torch's CPU
        allocations, to the byte)."""
        made = self.first + max(self.copied, self.keys, self.catting)
        if not self.weighed:
            return max(made, self.projected + self.queries + self.rows) - self.queries
        return max(made, self.projected + self.queries + self.scores, self.kept + 2 * self.scores,
                   self.weighted + self.scores + 2 * self.queries,
                   self.weighted + self.scores + self.averaged) - self.queries


def _kernels_apart(shapes: tuple[Shape, ...], args: dict, tracked: tuple[bool, ...]) -> str | None:
    """Where torch's kernels hold what the arguments do not tell: by device (CUDA attends with dropout by its
    fused kernels, which keep none of the scores), and on an input that requires no grad (the backward's fit is
    taken on a tracked one)."""
    reasons = ("with dropout and no weights asked for, the figures follow the CPU's math path, which keeps the "
               "heads × L × S scores' softmax, its dropout noise and the weights dropped; CUDA's fused kernels keep "
               "none of them" if args["dropout"] > 0 and not args["need_weights"] else None,
               "its input requires no grad (the model's own): backward still makes q's, k's and v's gradients "
               "through the projections, up to a fifth of the step more than the figures' fit, taken on a tracked "
               "input" if not tracked[0] and args["dropout"] == 0 else None)
    return "; ".join(reason for reason in reasons if reason) or None


_ATTENTION = MemoryFacts(aliases=never, aliases_in_training=never, saved="inputs",
                         gradient="each input", extra_saved=no_bytes, transient=no_bytes, last_saved="read",
                         workspace=_attention_holds, copies=None, estimate=_kernels_apart)


def _attention_products(length: int, source: int, key: int, value: int, query: bool, keys: bool,
                        values: bool, weights: bool = False) -> int:
    """The backward of softmax(q·kᵀ)·v written out (torch's math path) over L queries, S keys: each
    product's operands' gradients, where they require grad: dA = dO·vᵀ where the attention weights do
    (q, k or an additive mask does), dV = Aᵀ·dO, dQ = dS·k, dK = dSᵀ·q."""
    return length * source * (value * ((query or keys or weights) + values) + key * (query + keys))


MASKS = ("key_padding_mask", "attn_mask")  # what nn.MultiheadAttention's forward() takes besides its operands


def _mask(value, n: int = 0) -> bool | str:
    """Whether forward() is given a mask: true or false, or "float", a mask of floats (added to the scores, as
    generate_square_subsequent_mask's -inf above the diagonal), which keeps torch off its fused inference path."""
    return value if value == FLOATS else boolean(value)


def masks_given(args: dict) -> int:
    """How many masks a multi-head attention of these arguments is given, as inputs after its operands."""
    return sum(bool(args[name]) for name in MASKS)


def _attended(shapes: tuple[Shape, ...], args: dict) -> int:
    """How many of a multi-head attention's inputs are its operands: one (self-attention), two (a query, then
    one tensor as key and value: cross-attention on a memory) or three (query, key, value), before the masks
    its arguments say it is given."""
    count = len(shapes) - masks_given(args)
    if count not in (1, 2, 3):
        given = " and ".join(name for name in MASKS if args[name])
        raise LayerError(f"takes one input (self-attention), two (query, then key and value) or three (query, key, "
                         f"value){f', then {given}' if given else ''}, got {len(shapes)}")
    return count


def query_key_value(shapes: tuple[Shape, ...], args: dict) -> tuple[Shape, Shape, Shape]:
    """A multi-head attention's query, key and value shapes (one input: all three; two: the second is key and
    value)."""
    attended = shapes[:_attended(shapes, args)]
    return (attended[0], *attended[-1:] * 2) if len(attended) < 3 else attended


def attention_backward(shapes: tuple[Shape, ...], args: dict, calc: Calc, gradients: Gradients) -> BackwardWork:
    """The projections as linear layers (dx = dy·W for each input requiring grad, dW = dyᵀ·x for each
    weight trained), the attention between them: q, k and v require grad where their input does or the
    projections are trained."""
    query, key, value = query_key_value(shapes, args)
    attended = _attended(shapes, args)
    wants = (*gradients.inputs[:1], *gradients.inputs[attended - 1:attended] * 2) if attended < 3 \
        else gradients.inputs[:3]
    trained = gradients.parameters
    embed, kdim, vdim = query[1], key[1], value[1]
    length, source = query[0], key[0] + args["add_bias_kv"] + args["add_zero_attn"]
    projected = (length * embed * embed, key[0] * embed * kdim, key[0] * embed * vdim)
    q, k, v = (trained or wanted for wanted in wants)
    inner = _attention_products(length, source, embed, embed, q, k, v)
    out = length * embed * embed  # the output projection: its input is the attention's output
    return BackwardWork(inputs=sum(m for m, wanted in zip(projected, wants) if wanted) + inner
                        + (out if q or k or v else 0),
                        parameters=sum(projected) + out if trained else 0)


@register("multiheadattention", family="attention", field_probe=AS_IS, autocast=LOWER, arity=None,
          fewest_inputs=lambda args: 1 + masks_given(args), receptive_field=whole,
          memory=_ATTENTION, backward=BackwardFacts(differentiates="each input", work=attention_backward),
          torch=TorchForms(module=OWN + "MultiheadAttention", given_weight=None,
                           inferred=FromInput("embed_dim", -1), functions=(),
                           methods=(), aliases=(Alias(NN + "MultiheadAttention",
                                                      (("bias", "in_proj_bias"), ("add_bias_kv", "bias_k")),
                                                      called_with=(("key_padding_mask", 3), ("need_weights", 4),
                                                                   ("attn_mask", 5), ("average_attn_weights", 6))),)),
          # need_weights: what forward() is asked for; without the weights torch attends by
          # scaled_dot_product_attention, which fvcore and ptflops count nothing of; average_attn_weights: whether
          # the weights returned are their mean over the heads or each head's; key_padding_mask and
          # attn_mask: whether forward() is given each, as an input after the operands
          args=(Arg("num_heads", positive), Arg("dropout", probability, 0.0), Arg("bias", boolean, True),
                Arg("add_bias_kv", boolean, False), Arg("add_zero_attn", boolean, False),
                Arg("kdim", optional(positive), None), Arg("vdim", optional(positive), None),
                Arg("batch_first", boolean, False, names_dims=BATCH_FIRST), Arg("need_weights", boolean, True),
                Arg("average_attn_weights", boolean, True), Arg("key_padding_mask", _mask, False),
                Arg("attn_mask", _mask, False)),
          returns=("attentionweights",), operands=lambda args, given: given - masks_given(args),
          fused_in_inference=_fused_in_inference)
def multihead_attention(shapes: tuple[Shape, ...], args: dict) -> Calc:
    """Self-attention on one input, or query, key and value, then the masks it is given, per sample: a
    key padding mask (S,), an attention mask (L, S) or (heads, L, S), which change no shape. MACs: the q, k
    and v projections, the scores q·kᵀ and their weighted sum of v (L × S × E each), and the output
    projection."""
    if not args["batch_first"]:
        raise LayerError("cnncalc's shapes are per sample, so the batch must come first: set batch_first: true")
    query, key, value = query_key_value(shapes, args)
    if any(len(shape) != 2 for shape in (query, key, value)) or key[0] != value[0]:
        raise LayerError("expects sequence × features per sample, key and value of one length, got "
                         + ", ".join(format_shape(s) for s in shapes))
    _check_masks(shapes[_attended(shapes, args):], args, query[0], key[0])
    embed, kdim, vdim = query[1], args["kdim"] or query[1], args["vdim"] or query[1]
    if (key[1], value[1]) != (kdim, vdim):
        raise LayerError(f"key and value have {key[1]} and {value[1]} features, kdim and vdim say {kdim} and {vdim}")
    if embed % args["num_heads"]:
        raise LayerError(f"embed_dim {embed} is not divisible by num_heads {args['num_heads']}")
    length, source = query[0], key[0] + args["add_bias_kv"] + args["add_zero_attn"]
    weights = embed * (embed + kdim + vdim) + embed * embed
    biases = (4 * embed if args["bias"] else 0) + (2 * embed if args["add_bias_kv"] else 0)
    projections = 2 * length * embed * embed + key[0] * embed * (kdim + vdim)  # q and output; k and v
    macs = projections + 2 * length * source * embed
    return Calc((length, embed), weights=weights, biases=biases, macs=macs)


def _per_head(args: dict) -> bool:
    return not args["average_attn_weights"]


# the weights nn.MultiheadAttention returns beside its output (need_weights), made by its softmax: no work of
# their own. Averaged over its heads, a tensor of their own; each head's (average_attn_weights=False), a view of the
# softmax, which training keeps for backward anyway
@register("attentionweights", family="shape", field_probe=AS_IS, autocast=PROMOTE, receptive_field=whole,
          memory=replace(RETURNED_BESIDE, aliases_in_training=_per_head), backward=NO_PRODUCTS,
          torch=own_module("AttentionWeights"),
          args=(Arg("keys", positive), Arg("num_heads", optional(positive), None),
                Arg("average_attn_weights", boolean, True)))
def attention_weights(shapes: tuple[Shape, ...], args: dict) -> Calc:
    """The weights of the multiheadattention layer it reads, whose output is L × E: L × `keys` per sample, the
    keys it attended to (a key more for each of add_bias_kv and add_zero_attn), or num_heads × L × `keys`, each
    head's, where not averaged."""
    (shape,) = shapes
    if len(shape) != 2:
        raise LayerError(f"reads the output of the multiheadattention layer whose weights they are, sequence × "
                         f"features per sample, got {format_shape(shape)}")
    if args["average_attn_weights"]:
        return Calc((shape[0], args["keys"]))
    if args["num_heads"] is None:
        raise LayerError("each head's weights (average_attn_weights: false) need num_heads")
    return Calc((args["num_heads"], shape[0], args["keys"]))


def _check_masks(masks: tuple[Shape, ...], args: dict, length: int, source: int) -> None:
    """Each mask as torch takes it, told apart by rank (a call may pass them in either order): a key
    padding mask has one dim, an attention mask two or three."""
    padding = [tuple(mask) for mask in masks if len(mask) == 1]
    attention = [tuple(mask) for mask in masks if len(mask) > 1]
    if (len(padding), len(attention)) != (bool(args["key_padding_mask"]), bool(args["attn_mask"])) \
            or any(mask != (source,) for mask in padding) \
            or any(mask not in ((length, source), (args["num_heads"], length, source)) for mask in attention):
        raise LayerError(f"takes a key padding mask ({source}) and an attention mask ({length}×{source} or "
                         f"{args['num_heads']}×{length}×{source}) per sample, got "
                         + ", ".join(format_shape(mask) for mask in masks))


def _batch_dims(first: Shape, second: Shape) -> Shape:
    """The broadcast of two shapes' leading (batch) dims, as torch.matmul broadcasts them."""
    rank = max(len(first), len(second))
    first, second = (1,) * (rank - len(first)) + first, (1,) * (rank - len(second)) + second
    if any(a != b and 1 not in (a, b) for a, b in zip(first, second)):
        raise LayerError(f"batch dims {format_shape(first)} and {format_shape(second)} do not broadcast")
    return tuple(max(a, b) for a, b in zip(first, second))


# `operator`: written a @ b, Python's operator, which is Tensor.__matmul__: ptflops patches torch.matmul
# and Tensor.matmul, not it, so counts nothing for it
@register("matmul", family="attention", field_probe=AS_IS, autocast=LOWER, arity=2, receptive_field=whole, memory=_PRODUCT_OF_VIEWS,
          backward=PRODUCTS,
          args=(Arg("operator", boolean, False),),
          torch=TorchForms(module=OWN + "Matmul", given_weight=None, inferred=None, aliases=(),
                           functions=(*calls("torch.matmul", "torch.bmm"),
                                      Call("operator.matmul", implied=(("operator", True),))),
                           methods=calls("matmul", "bmm")))
def matmul(shapes: tuple[Shape, ...], args: dict) -> Calc:
    """A (…, n, k) by (…, k, m) product, leading dims broadcast: n·k·m MACs per pair of matrices. As
    torch.matmul, a vector first is a row (1, k) and a vector second a column (k, 1), whose dim the
    output then drops (a sample's pooled features times a projection matrix)."""
    first, second = shapes
    rows, columns = (1, *first) if len(first) == 1 else first, (*second, 1) if len(second) == 1 else second
    if not first or not second or rows[-1] != columns[-2]:
        raise LayerError(f"cannot multiply {format_shape(first)} by {format_shape(second)}")
    batch = _batch_dims(rows[:-2], columns[:-2])
    n, k, m = rows[-2], rows[-1], columns[-1]
    output = (*batch, *((n,) if len(first) > 1 else ()), *((m,) if len(second) > 1 else ()))
    return Calc(output, macs=numel(batch) * n * k * m)


def _factor_products(shapes: tuple[Shape, ...], args: dict, calc: Calc, gradients: Gradients) -> BackwardWork:
    """A product added to an input: each factor's gradient is a product as large as forward's (the
    input's is the output's gradient, times beta)."""
    return BackwardWork(inputs=calc.macs * sum(gradients.inputs[1:]), parameters=0)


# torch.baddbmm(input, batch1, batch2, beta=b, alpha=a): b·input + a·(batch1 @ batch2), (n, k) by (k, m)
# products (a sample's, or each of its rows': B·heads) added to an input whose last two dims broadcast to
# (n, m) (attention scores given a bias: BLOOM's ALiBi; transformers' upcast attention, at beta 0); autograd
# keeps the factors alone
@register("baddbmm", family="attention", field_probe=AS_IS, autocast=LOWER, arity=3, receptive_field=whole,
          memory=MemoryFacts(aliases=never, aliases_in_training=never, saved="factors", gradient="each input",
                             extra_saved=no_bytes, transient=no_bytes, last_saved="read", workspace=parameter_gradients,
                             copies=None, estimate=None),
          backward=BackwardFacts(differentiates="each input", work=_factor_products),
          args=(Arg("beta", number, 1), Arg("alpha", number, 1)),
          torch=TorchForms(module=OWN + "Baddbmm", given_weight=None, inferred=None, aliases=(),
                           functions=calls("torch.baddbmm", beta=3, alpha=4),
                           methods=calls("baddbmm", beta=3, alpha=4)))
def baddbmm(shapes: tuple[Shape, ...], args: dict) -> Calc:
    """n·k·m MACs a product; the input adds and scales (no multiply-accumulate). Rows are the leading dims,
    the same in each factor and in the input (torch broadcasts no batch but the input's, whole)."""
    added, first, second = shapes
    rows = first[:-2]
    if len(first) < 2 or len(second) != len(first) or second[:-2] != rows or first[-1] != second[-2]:
        raise LayerError(f"baddbmm multiplies (…, n, k) by (…, k, m), got {format_shape(first)} by "
                         f"{format_shape(second)}")
    output = (*rows, first[-2], second[-1])
    if len(added) != len(output) or added[:-2] != rows \
            or any(size not in (1, out) for size, out in zip(added[-2:], output[-2:])):
        raise LayerError(f"the input {format_shape(added)} does not broadcast to the product's {format_shape(output)}")
    return Calc(output, macs=numel(rows) * first[-2] * first[-1] * second[-1])


# torch.cdist's ways to the same distances (aten/src/ATen/native/Distance.cpp): None, "if necessary",
# takes the matrix-product path for p = 2 when either side has more than 25 rows
_CDIST_MODES = {None: "if necessary", "use_mm_for_euclid_dist_if_necessary": "if necessary",
                "use_mm_for_euclid_dist": "always", "donot_use_mm_for_euclid_dist": "never"}


def distance_order(value, n: int = 0) -> float:
    """cdist's p: 0 ≤ p ≤ inf, as torch checks it."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
        raise LayerError(f"p is a number from 0 to inf, got {quoted(value)}")
    return value


def _by_products(args: dict, rows: int, others: int) -> bool:
    """Whether torch computes these distances as a matrix product (_euclidean_dist)."""
    mode = _CDIST_MODES[args["compute_mode"]]
    return args["p"] == 2 and (mode == "always" or mode == "if necessary" and max(rows, others) > 25)


def cdist_backward(shapes: tuple[Shape, ...], args: dict, calc: Calc, gradients: Gradients) -> BackwardWork:
    """On the matrix-product path both gradients are products, computed together whichever is needed
    (FunctionsManual.cpp: _euclidean_dist_backward: ratio·x2 and ratioᵀ·x1, P·R·M MACs each); the
    direct kernel's backward (_cdist_backward) runs none."""
    first, second = shapes
    if not any(gradients.inputs) or not _by_products(args, first[-2], second[-2]):
        return BackwardWork(inputs=0, parameters=0)
    return BackwardWork(inputs=2 * numel(calc.output_shape) * first[-1], parameters=0)


# torch.cdist(x1, x2): the p-norm distance of every row of x1 to every row of x2 (a vector quantizer's
# codebook search). FlopCounterMode sees the forward as one operation it has no formula for
# (_euclidean_dist or _cdist_forward), so counts none of it, nor does any peer tool. Autograd keeps
# both inputs and the distances (derivatives.yaml); autocast runs it in float32 on CUDA and the CPU.
@register("cdist", family="attention", field_probe=AS_IS, autocast=FLOAT32, arity=2, receptive_field=whole,
          memory=MemoryFacts(aliases=never, aliases_in_training=never, saved="inputs and output",
                             gradient="each input", extra_saved=no_bytes, transient=no_bytes, last_saved="made",
                             workspace=parameter_gradients, copies=None, estimate=None),
          backward=BackwardFacts(differentiates="each input", work=cdist_backward),
          args=(Arg("p", distance_order, 2.0),
                Arg("compute_mode", optional(choice(*(mode for mode in _CDIST_MODES if mode))), None)),
          torch=TorchForms(module=OWN + "Cdist", given_weight=None, inferred=None, methods=(), aliases=(),
                           functions=calls("torch.cdist", p=2, compute_mode=3)))
def cdist(shapes: tuple[Shape, ...], args: dict) -> Calc:
    """(…, P, M) and (…, R, M), leading dims broadcast: (…, P, R)."""
    first, second = shapes
    if len(first) < 2 or len(second) < 2 or first[-1] != second[-1]:
        raise LayerError(f"cdist takes (…, P, M) and (…, R, M), got {format_shape(first)} and {format_shape(second)}")
    return Calc((*_batch_dims(first[:-2], second[:-2]), first[-2], second[-2]))


def equation(value, n: int = 0) -> str:
    """An einsum equation of two operands, per sample (no batch letter), with its output: 'hid,hjd->hij'."""
    if not isinstance(value, str):
        raise LayerError(f"expected an equation like 'ij,jk->ik', got {quoted(value)}")
    text = value.replace(" ", "")
    inputs, arrow, output = text.partition("->")
    operands = inputs.split(",")
    if not arrow or len(operands) != 2 or not all(part.isalpha() for part in (*operands, output) if part) \
            or any(len(set(part)) < len(part) for part in (*operands, output)) or not set(output) <= set(inputs):
        raise LayerError("expected two operands and an output of distinct letters, like 'ij,jk->ik', got "
                         f"{quoted(value)}")
    return text


def _contracts(args: dict) -> str:
    """On the CPU's lists einsum is not, but the batched product it runs where the operands share a
    letter the output sums is; an element-wise product runs as its operands come."""
    operands, output = args["equation"].split("->")
    first, second = operands.split(",")
    return "lower" if (set(first) & set(second)) - set(output) else "promote"


# on CUDA's lower list itself
@register("einsum", family="attention", field_probe=AS_IS, autocast=Autocast(cuda="lower", cpu=_contracts), arity=2,
          receptive_field=whole, memory=_PRODUCT, backward=PRODUCTS,
          torch=TorchForms(module=OWN + "Einsum", given_weight=None, inferred=None, methods=(), aliases=(),
                           functions=(Call("torch.einsum", (("equation", 0),), equation="equation"),)),
          args=(Arg("equation", equation),))
def einsum(shapes: tuple[Shape, ...], args: dict) -> Calc:
    """torch.einsum of two operands, each sample's: a batched matrix product over the letters both share
    or the output keeps (a letter one operand alone has is summed away first), one MAC per combination;
    with no letter to contract, torch multiplies element-wise (no MACs, as for mul)."""
    operands, output = args["equation"].split("->")
    sizes: dict[str, int] = {}
    for letters, shape in zip(operands.split(","), shapes):
        if len(letters) != len(shape):
            raise LayerError(f"'{letters}' names {len(letters)} dims of a {len(shape)}-d operand {format_shape(shape)}")
        for letter, size in zip(letters, shape):
            if sizes.get(letter, 1) not in (1, size) and size != 1:
                raise LayerError(f"letter {letter} is {sizes[letter]} in one operand and {size} in the other")
            sizes[letter] = max(sizes.get(letter, 1), size)
    first, second = operands.split(",")
    contracted = (set(first) & set(second)) - set(output)
    multiplied = set(output) | contracted
    macs = numel([sizes[letter] for letter in multiplied]) if contracted else 0
    return Calc(tuple(sizes[letter] for letter in output), macs=macs)


def _grouped(shapes: tuple[Shape, ...], args: dict) -> tuple[Shape, Shape, Shape]:
    """Queries, keys and values, where heads share keys and values (enable_gqa: Llama's grouped-query
    attention) each group's keys and values as torch repeats them, one per query head."""
    query, key, value = shapes[:3]
    if not args["enable_gqa"]:
        return query, key, value
    if min(map(len, shapes[:3])) < 3 or key[-3] != value[-3] or query[-3] % key[-3]:
        raise LayerError("enable_gqa shares (…, heads, S, E) keys and values among query heads, as many of "
                         "them as of keys and values or a multiple: " + ", ".join(format_shape(s) for s in shapes[:3]))
    return query, (*key[:-3], query[-3], *key[-2:]), (*value[:-3], query[-3], *value[-2:])


def sdpa_backward(shapes: tuple[Shape, ...], args: dict, calc: Calc, gradients: Gradients) -> BackwardWork:
    """The math path's backward, as the verify builder writes it out and FlopCounterMode counts it. (On a
    GPU, the fused kernels' backward recomputes the scores and forms every gradient: torch counts 3·L·S·E
    + 2·L·S·Ev there, whatever requires grad.)"""
    query, key, value = _grouped(shapes, args)
    batch = numel(_batch_dims(_batch_dims(query[:-2], key[:-2]), value[:-2]))
    q, k, v = gradients.inputs[:3]
    return BackwardWork(inputs=batch * _attention_products(query[-2], key[-2], query[-1], value[-1], q, k, v,
                                                           any(gradients.inputs[3:])),
                        parameters=0)


@register("scaleddotproductattention", family="attention", field_probe=AS_IS, autocast=LOWER, arity=None, fewest_inputs=3, receptive_field=whole,
          memory=replace(_SCORES, estimate=_math_path),
          backward=BackwardFacts(differentiates="each input", work=sdpa_backward),
          torch=TorchForms(module=OWN + "ScaledDotProductAttention", given_weight=None,
                           inferred=None, methods=(), aliases=(),
                           functions=(Call(F + "scaled_dot_product_attention",
                                           (("dropout_p", 4), ("is_causal", 5), ("scale", 6), ("enable_gqa", 7))),)),
          args=(Arg("dropout_p", probability, 0.0), Arg("is_causal", boolean, False),
                Arg("scale", optional(number), None), Arg("enable_gqa", boolean, False)))
def scaled_dot_product_attention(shapes: tuple[Shape, ...], args: dict) -> Calc:
    """softmax(q·kᵀ·scale + mask)·v over (…, L, E) queries, (…, S, E) keys and (…, S, Ev) values, with
    an optional fourth input, attn_mask, broadcast to the (…, L, S) scores (a relative position bias):
    the scores and their weighted sum, L·S·(E + Ev) MACs per head."""
    if len(shapes) > 4:
        raise LayerError(f"takes queries, keys, values and an optional attn_mask, got {len(shapes)} inputs")
    query, key, value = _grouped(shapes, args)
    if min(map(len, shapes[:3])) < 2 or key[-1] != query[-1] or key[-2] != value[-2]:
        raise LayerError("expects (…, L, E) queries, (…, S, E) keys and (…, S, Ev) values, got "
                         + ", ".join(format_shape(s) for s in shapes))
    batch = _batch_dims(_batch_dims(query[:-2], key[:-2]), value[:-2])
    length, source = query[-2], key[-2]
    scores = (*batch, length, source)
    for mask in shapes[3:]:
        if len(mask) > len(scores) or any(m not in (1, s) for m, s in zip(reversed(mask), reversed(scores))):
            raise LayerError(f"attn_mask {format_shape(mask)} does not broadcast to the scores {format_shape(scores)}")
    return Calc((*batch, length, value[-1]), macs=numel(batch) * length * source * (query[-1] + value[-1]))
